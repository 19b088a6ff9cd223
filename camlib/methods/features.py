"""Deep features of a trained network as a fixed extractor (Sec. 4 of the paper).

* :func:`extract` runs a GAP network once per batch and returns both the conv feature maps (for
  CAMs) and their global average (the GAP feature a linear SVM is trained on);
* :func:`classifier_inputs` takes what any network's final linear layer receives (the GAP vector of a
  GAP network, the last hidden fc layer of an fc-head network, AlexNet's "fc7");
* :func:`cached_features`: :func:`extract` of many images, cached.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
from PIL import Image
from torch import nn

from camlib.utils.cache import cache_key, cached
from camlib.cam import CAM
from camlib.utils.errors import CamlibError
from camlib.models.preprocess import normalize_images, resize_rgb
from camlib.models.pretrained import PretrainedClassifier
from camlib.data.assets.paths import cache_dir
from camlib.utils.progress import progress


@dataclass
class Features:
    """GAP features ``pooled (N, K)`` and, if kept, conv maps ``maps (N, K, h, w)`` (float32, CPU)."""

    pooled: torch.Tensor
    maps: torch.Tensor | None


def to_batch(images: np.ndarray | Sequence[Image.Image], size: int, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """Resize images (uint8 ``(N, H, W, 3)`` or PIL list) to ``size`` x ``size`` and normalise -> ``(N, 3, size, size)``
    (:func:`camlib.models.preprocess.resize_rgb` and :func:`~camlib.models.preprocess.normalize_images`: an array and a
    PIL image of one picture give one input)."""
    if isinstance(images, np.ndarray):
        if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8:
            raise CamlibError(f"images must be uint8 (N, H, W, 3), got {images.dtype} {images.shape}")
        arrays = list(images)
    else:
        arrays = [np.asarray(img.convert("RGB")) for img in images]
    return normalize_images(np.stack([resize_rgb(a, size, size) for a in arrays]), mean, std)


def extract(
    classifier: PretrainedClassifier,
    images: np.ndarray | Sequence[Image.Image],
    size: int = 224,
    batch_size: int = 32,
    keep_maps: bool = True,
    desc: str = "features",
) -> Features:
    """Run ``classifier`` over ``images`` and collect its last conv features (see :class:`Features`)."""
    if len(images) == 0:
        raise CamlibError("no images given to extract features from")
    device = next(classifier.model.parameters()).device
    pooled, maps = [], []
    with CAM(classifier.model) as cam:
        for start in progress(range(0, len(images), batch_size), desc=desc):
            batch = to_batch(images[start:start + batch_size], size, classifier.mean, classifier.std).to(device)
            feats = cam.features(batch)
            pooled.append(feats.mean(dim=(2, 3)).cpu())
            if keep_maps:
                maps.append(feats.cpu())
    return Features(torch.cat(pooled), torch.cat(maps) if keep_maps else None)


def cached_features(classifier: PretrainedClassifier, images: np.ndarray, data: object, size: int = 224,
                    maps_of: np.ndarray | None = None, desc: str = "features") -> Features:
    """:func:`camlib.methods.features.extract` of uint8 ``images (N, H, W, 3)`` at ``size`` px, cached under
    ``<data root>/cache/features`` by the network, ``data`` (what the images are, as parts of a
    :func:`~camlib.utils.cache.cache_key`: a data spec and a split name), ``size`` and ``maps_of``.

    ``pooled`` is kept for every image; ``maps`` (for CAMs) only for the images ``maps_of`` (bool
    (N,) or indices, in that order; ``None``: none), stored as float16 to keep the cache small and
    returned as float32.
    """
    def build() -> dict:
        index = np.arange(len(images))[maps_of] if maps_of is not None else np.zeros(0, dtype=np.int64)
        rest = np.setdiff1d(np.arange(len(images)), index)
        parts = [(rows, extract(classifier, images[rows], size=size, keep_maps=keep, desc=label))
                 for rows, keep, label in ((index, True, f"{desc} with maps"), (rest, False, desc)) if len(rows)]
        pooled = torch.empty(len(images), parts[0][1].pooled.shape[1])
        for rows, feats in parts:
            pooled[torch.from_numpy(rows)] = feats.pooled
        maps = parts[0][1].maps.half() if len(index) else None
        return {"pooled": pooled, "maps": maps}

    key = cache_key(network=classifier.name, data=data, size=size, maps_of=maps_of)
    stored = cached(cache_dir() / "features" / f"{classifier.name}-{key}.pt", build)
    return Features(stored["pooled"], None if stored["maps"] is None else stored["maps"].float())


def final_linear(model: nn.Module) -> nn.Linear:
    """The last ``nn.Linear`` registered in ``model`` (its classifier)."""
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise CamlibError(f"{type(model).__name__} has no nn.Linear layer to take features before")
    return linears[-1]


def classifier_inputs(
    model: nn.Module,
    images: np.ndarray,
    size: int,
    mean: Sequence[float],
    std: Sequence[float],
    batch_size: int = 64,
    desc: str = "features",
) -> torch.Tensor:
    """What the network's final linear layer receives, ``(N, K)``: the GAP vector of a GAP network,
    the last hidden fc layer ("fc7") of an fc-head network. Images uint8 ``(N, H, W, 3)`` are resized
    to ``size`` and normalised with ``mean``/``std``; the model runs in eval mode without gradients."""
    if len(images) == 0:
        raise CamlibError("no images given to extract features from")
    captured: list[torch.Tensor] = []
    handle = final_linear(model).register_forward_pre_hook(lambda module, args: captured.append(args[0].detach().float().cpu()))
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for start in progress(range(0, len(images), batch_size), desc=desc):
                model(to_batch(images[start:start + batch_size], size, mean, std).to(device))
    finally:
        handle.remove()
        model.train(was_training)
    return torch.cat([c.flatten(1) for c in captured])
