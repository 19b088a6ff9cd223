"""Pointing accuracy: does the peak of a map fall on the object a question is about?

The peak is the centre of the map's highest cell, in image pixels; it hits when it lies within
``tolerance`` pixels of the object's mask. Two references need no model: a point drawn uniformly
at random (its expected hit rate is the share of the image within ``tolerance`` of the mask) and
the image centre.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from scipy import ndimage

from ..errors import CamlibError


def peak_points(maps: torch.Tensor | np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """int64 (B, 2) ``(x, y)`` image pixels at the centre of each map's highest cell (maps (B, h, w), image (H, W))."""
    maps = torch.as_tensor(maps)
    if maps.ndim != 3:
        raise CamlibError(f"maps must be (B, h, w), got shape {tuple(maps.shape)}")
    _, h, w = maps.shape
    flat = maps.reshape(len(maps), -1).argmax(dim=1).numpy()
    rows, cols = np.divmod(flat, w)
    height, width = size
    return np.stack([((cols + 0.5) * width / w).astype(np.int64), ((rows + 0.5) * height / h).astype(np.int64)], axis=1)


def near_mask(masks: np.ndarray, tolerance: float) -> np.ndarray:
    """bool (B, H, W): the pixels within ``tolerance`` pixels (Euclidean) of each mask (B, H, W)."""
    masks = np.asarray(masks, dtype=bool)
    if masks.ndim != 3 or not masks.reshape(len(masks), -1).any(axis=1).all():
        raise CamlibError(f"masks must be (B, H, W) with at least one pixel each, got shape {masks.shape}")
    if tolerance <= 0:
        return masks
    return np.stack([ndimage.distance_transform_edt(~m) <= tolerance for m in masks])


def pointing_hits(points: np.ndarray, masks: np.ndarray, tolerance: float = 0.0) -> np.ndarray:
    """bool (B,): whether point ``(x, y)`` b (B, 2) lies within ``tolerance`` pixels of mask b (B, H, W)."""
    points = np.asarray(points)
    if points.shape != (len(masks), 2):
        raise CamlibError(f"points must be (B={len(masks)}, 2) (x, y), got shape {points.shape}")
    near = near_mask(masks, tolerance)
    return near[np.arange(len(near)), points[:, 1], points[:, 0]]


def centre_hits(masks: np.ndarray, tolerance: float = 0.0) -> np.ndarray:
    """bool (B,): :func:`pointing_hits` of the image centre pixel ``(W // 2, H // 2)``."""
    _, h, w = np.shape(masks)
    return pointing_hits(np.tile([w // 2, h // 2], (len(masks), 1)), masks, tolerance)


def random_hit_rates(masks: np.ndarray, tolerance: float = 0.0) -> np.ndarray:
    """float (B,): the chance that a uniformly random pixel hits each mask (within ``tolerance``)."""
    return near_mask(masks, tolerance).reshape(len(masks), -1).mean(axis=1)


def pointing_table(cams: torch.Tensor, masks: np.ndarray, groups: np.ndarray | list[str], tolerance: float = 0.0) -> pd.DataFrame:
    """Pointing accuracy (%) of the CAM peaks, the image centre and a random point, per group and overall.

    ``cams`` (B, h, w) at any resolution; ``masks`` (B, H, W) the objects each map should point at;
    ``groups`` (B,) a label per map (e.g. the question type).
    """
    near = near_mask(masks, tolerance)  # dilate once; the three scores then need no tolerance
    hits = pointing_hits(peak_points(cams, near.shape[1:]), near)
    frame = pd.DataFrame({"group": np.asarray(groups), "CAM peak": hits, "centre": centre_hits(near), "random": random_hit_rates(near)})
    table = 100.0 * frame.groupby("group", sort=False)[["CAM peak", "centre", "random"]].mean()
    table.loc["all"] = 100.0 * frame[["CAM peak", "centre", "random"]].mean()
    table["maps"] = [*frame.groupby("group", sort=False).size(), len(frame)]
    table.index.name = None
    return table
