"""The CAM arithmetic, free of hooks: M_c(x, y) = sum_k w_k^c f_k(x, y)."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from camlib.cam.box_rules import PAPER_THRESHOLD, check_threshold, chunk_length, paper_rule_boxes
from camlib.utils.errors import CamlibError


def select_classes(
    logits: torch.Tensor, classes: torch.Tensor | Sequence[int] | int | None = None, topk: int | None = None
) -> torch.Tensor:
    """The class indices to map, as a ``(B, C)`` long tensor.

    ``classes`` may be one index, a list shared by the batch, or a ``(B, C)`` tensor; if it is
    ``None``, the ``topk`` highest-scoring classes of each image are taken (highest first).
    """
    batch, num_classes = logits.shape
    if classes is not None and topk is not None:
        raise CamlibError(f"give classes=... or topk=..., not both (got classes={classes!r} and topk={topk!r})"[:200])
    if classes is None:
        k = 1 if topk is None else int(topk)
        if not 1 <= k <= num_classes:
            raise CamlibError(f"topk={k} is out of range: the model has {num_classes} classes")
        return logits.topk(k, dim=1).indices
    try:
        idx = torch.as_tensor(classes, device=logits.device)
    except (TypeError, ValueError, RuntimeError):
        raise CamlibError(f"classes must be class indices (int, list of ints or (B, C) tensor), got {classes!r}"[:200]) from None
    if idx.numel() and (idx.is_floating_point() or idx.is_complex() or idx.dtype == torch.bool):
        raise CamlibError(f"classes must be integer class indices, got {idx.dtype} values such as {idx.flatten()[0].item()}")
    idx = idx.long()
    if idx.numel() == 0:
        raise CamlibError("classes is empty: give at least one class index, or topk=... for the best-scoring classes")
    if idx.ndim == 0:
        idx = idx.view(1, 1).expand(batch, 1)
    elif idx.ndim == 1:
        idx = idx.view(1, -1).expand(batch, -1)
    elif idx.ndim != 2 or idx.shape[0] != batch:
        raise CamlibError(f"classes has shape {tuple(idx.shape)}; expected an int, a list, or (B={batch}, C)")
    if idx.numel() and (int(idx.min()) < 0 or int(idx.max()) >= num_classes):
        bad = int(idx.max()) if int(idx.max()) >= num_classes else int(idx.min())
        raise CamlibError(f"class index {bad} is out of range: the model has {num_classes} classes (0..{num_classes - 1})")
    return idx


def class_activation_maps(features: torch.Tensor, weight: torch.Tensor, classes: torch.Tensor) -> torch.Tensor:
    """CAMs of the chosen classes in one batched matrix product.

    Args:
        features: last conv features ``(B, K, h, w)``.
        weight: classifier weights ``(N, K)`` (a torch ``nn.Linear.weight`` or SVM ``coef_``).
        classes: class indices ``(B, C)``.

    Returns:
        ``(B, C, h, w)`` maps, without the bias (``mean_xy(M_c) + b_c`` is the logit under GAP).
    """
    if features.ndim != 4:
        raise CamlibError(f"features must be (B, K, h, w), got shape {tuple(features.shape)}")
    batch, channels, height, width = features.shape
    if weight.ndim != 2 or weight.shape[1] != channels:
        raise CamlibError(f"weight has shape {tuple(weight.shape)}; expected (N, K={channels}) to match the features")
    selected = weight.to(features.dtype)[classes]  # (B, C, K)
    maps = torch.bmm(selected, features.reshape(batch, channels, height * width))
    return maps.view(batch, classes.shape[1], height, width)


def upsample(maps: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Bilinearly resize ``(B, C, h, w)`` maps to ``(B, C, H, W)`` (pixel-centre aligned)."""
    if not isinstance(maps, torch.Tensor) or maps.ndim != 4 or 0 in maps.shape:
        got = f"shape {tuple(maps.shape)}" if isinstance(maps, torch.Tensor) else type(maps).__name__
        raise CamlibError(f"maps must be a non-empty (B, C, h, w) tensor, got {got}; a single (h, w) map is maps[None, None]")
    try:
        height, width = (int(v) for v in size)
    except (TypeError, ValueError):
        raise CamlibError(f"size must be (H, W), got {size!r}") from None
    if height < 1 or width < 1:
        raise CamlibError(f"size must be at least (1, 1), got {(height, width)}")
    return F.interpolate(maps, size=(height, width), mode="bilinear", align_corners=False)


def normalize_maps(maps: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """Min-max normalise each map of ``(..., H, W)`` to [0, 1]; a constant map becomes all zeros."""
    flat = maps.flatten(-2)
    lo = flat.min(dim=-1, keepdim=True).values
    hi = flat.max(dim=-1, keepdim=True).values
    span = (hi - lo).clamp_min(eps)
    out = (flat - lo) / span
    out = torch.where(hi - lo > eps, out, torch.zeros_like(out))
    return out.view_as(maps)


def unit_maps(maps: torch.Tensor) -> torch.Tensor:
    """Maps ``(..., H, W)`` in the peers' convention (pytorch-grad-cam, torchcam): negative evidence cut (ReLU), then
    each map min-max scaled to [0, 1]; a map with no positive evidence becomes all zeros. A no-op on maps already in it."""
    return normalize_maps(maps.float().clamp_min(0))


def cam_boxes(maps: torch.Tensor, size: tuple[int, int] | np.ndarray, threshold: float = PAPER_THRESHOLD) -> np.ndarray:
    """The paper's boxes ``(..., 4)`` of ``(..., h, w)`` CAMs upsampled to ``size`` ``(H, W)``.

    Equal to ``boxes_from_cams(upsample(maps, size), threshold)``, but the maps are upsampled a
    chunk at a time (cache-sized on the CPU), so the full-size maps never all exist at once.
    ``size`` may also give each of ``(N, h, w)`` maps its own image size, ``(N, 2)`` (images of
    different sizes, each seen whole by the network).
    """
    threshold = check_threshold(threshold)
    if maps.ndim < 2:
        raise CamlibError(f"maps must be (..., h, w), got shape {tuple(maps.shape)}")
    sizes = np.asarray(size)
    if sizes.ndim == 2:
        if maps.ndim != 3 or sizes.shape != (len(maps), 2):
            raise CamlibError(f"per-map sizes need maps (N, h, w) and sizes (N, 2); got {tuple(maps.shape)} and {sizes.shape}")
        boxes = [cam_boxes(cam[None], tuple(int(s) for s in hw), threshold)[0] for cam, hw in zip(maps, sizes)]
        return np.stack(boxes) if boxes else np.zeros((0, 4), np.float32)
    size = (int(size[0]), int(size[1]))
    flat = maps.detach().float().reshape(-1, 1, *maps.shape[-2:])
    chunks = (upsample(chunk, size)[:, 0] for chunk in flat.split(chunk_length(flat, size)))
    return paper_rule_boxes(chunks, size, threshold).reshape(*maps.shape[:-2], 4)
