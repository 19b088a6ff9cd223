"""Localization maps of a batch, by CAM or by backprop, at the input's resolution.

Both methods give, for each image, the maps of its top-k predicted classes and of its
ground-truth class, unnormalised: each box rule normalises them its own way
(:mod:`camlib.chapters.ch03_localization.evaluate`).
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Callable, Iterator, Literal

import torch
from torch import nn

from camlib.cam import CAM, upsample
from camlib.errors import CamlibError
from camlib.saliency import gradient_saliency

Method = Literal["cam", "backprop"]
METHODS = ("cam", "backprop")


@dataclass
class BatchMaps:
    """What one batch gives.

    Attributes:
        logits: ``(B, N)``.
        top_classes: ``(B, k)`` highest-scoring classes, best first.
        top_maps: ``(B, k, H, W)`` their maps (CAMs without bias, or saliency >= 0).
        gt_maps: ``(B, H, W)`` the ground-truth class's map.
    """

    logits: torch.Tensor
    top_classes: torch.Tensor
    top_maps: torch.Tensor
    gt_maps: torch.Tensor


def _cam_maps(cam: CAM, images: torch.Tensor, labels: torch.Tensor, k: int) -> BatchMaps:
    result = cam(images, classes=torch.arange(cam.head.classifier.out_features))  # every class, one pass
    top = result.logits.topk(k, dim=1).indices
    wanted = torch.cat([top, labels[:, None]], dim=1)
    maps = result.maps.gather(1, wanted[:, :, None, None].expand(-1, -1, *result.maps.shape[-2:]))
    maps = upsample(maps, result.input_size)
    return BatchMaps(result.logits, top, maps[:, :k], maps[:, k])


def _backprop_maps(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, k: int) -> BatchMaps:
    logits, top, top_maps = gradient_saliency(model, images, topk=k)
    _, _, gt_maps = gradient_saliency(model, images, classes=labels[:, None])
    return BatchMaps(logits, top, top_maps, gt_maps[:, 0])


MapFn = Callable[[torch.Tensor, torch.Tensor, int], BatchMaps]


@contextmanager
def map_maker(model: nn.Module, method: Method = "cam") -> Iterator[MapFn]:
    """Yield ``maps(images (B, 3, H, W), labels (B,), k) -> BatchMaps`` for ``model`` (in eval mode).

    ``method="cam"`` needs a GAP/GMP head (the maps of all classes come from one forward pass;
    the hook is removed on exit); ``"backprop"`` works on any classifier (one backward pass per
    mapped class). ``k`` must not exceed the number of classes.
    """
    if method not in METHODS:
        raise CamlibError(f"method must be one of {METHODS}, got {method!r}")
    if model.training:
        raise CamlibError("map_maker needs the model in eval mode: call model.eval() first")

    def checked(fn: MapFn) -> MapFn:
        def run(images: torch.Tensor, labels: torch.Tensor, k: int) -> BatchMaps:
            if images.ndim != 4 or labels.shape != images.shape[:1]:
                raise CamlibError(f"need images (B, 3, H, W) and labels (B,), got {tuple(images.shape)} and {tuple(labels.shape)}")
            return fn(images, labels.to(images.device), k)
        return run

    if method == "backprop":
        yield checked(partial(_backprop_maps, model))
        return
    with CAM(model) as cam:
        yield checked(partial(_cam_maps, cam))
