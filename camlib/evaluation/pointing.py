"""Scoring a map (a CAM or a baseline) against exact ground-truth masks and boxes.

* pointing: does the map's maximum fall on the object (the "pointing game" of Zhang et al. 2016)?
* region overlap: which objects lie in the map's high-valued region (Sec. 4.2's informative objects)?

Points are ``(y, x)`` pixel indices everywhere in camlib (row first, like array indexing); boxes are
``[x0, y0, x1, y1]``. Masks are ``(N, H, W)``; maps are ``(N, H, W)`` at the masks' size or ``(N, h, w)``
at any coarser resolution (a peak cell then stands for the image pixel at its centre).
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import torch
from scipy import ndimage

from camlib.cam.box_rules import PAPER_THRESHOLD, boxes_from_cams
from camlib.cam.compute import normalize_maps
from camlib.utils.errors import CamlibError
from camlib.metrics import MaxBoxAccV2, PxAP, iou


#: The pointing game's tolerance: a peak within this many pixels of the object (at a 224-px input) is a hit
#: (Zhang et al. 2016). Chapters 8 and 10 point with it; scores against tight word boxes (chapter 7) use 0.
POINTING_TOLERANCE = 15.0

def _maps(maps: np.ndarray | torch.Tensor) -> np.ndarray:
    if isinstance(maps, torch.Tensor):
        maps = maps.detach().cpu().numpy()
    maps = np.asarray(maps, dtype=np.float64)
    if maps.ndim != 3 or 0 in maps.shape:
        raise CamlibError(f"maps must be (N, H, W) with H, W > 0, got shape {maps.shape}")
    if not np.isfinite(maps).all():
        raise CamlibError("maps contain NaN or infinite values")
    return maps


def _masks(masks: np.ndarray, shape: tuple[int, ...], name: str = "masks") -> np.ndarray:
    masks = np.asarray(masks, dtype=bool)
    if masks.shape != shape:
        raise CamlibError(f"{name} must have the maps' shape {shape}, got {masks.shape}")
    return masks


def peaks(maps: np.ndarray | torch.Tensor, size: tuple[int, int] | None = None) -> np.ndarray:
    """Location int (N, 2) ``(y, x)`` of each map's maximum (the first in raster order on ties).

    With ``size`` ``(H, W)``, maps ``(N, h, w)`` stand for images of that size: the point is the image
    pixel at the centre of the peak cell (the map's own pixel when ``(h, w) == size``).
    """
    maps = _maps(maps)
    flat = maps.reshape(len(maps), -1).argmax(axis=1)
    rows, cols = np.unravel_index(flat, maps.shape[1:])
    if size is not None:
        (h, w), (height, width) = maps.shape[1:], size
        rows = ((rows + 0.5) * height / h).astype(np.int64)
        cols = ((cols + 0.5) * width / w).astype(np.int64)
    return np.stack([rows, cols], axis=1)


def near_masks(masks: np.ndarray, tolerance: float = 0.0) -> np.ndarray:
    """Bool (N, H, W): the pixels within ``tolerance`` pixels (Euclidean) of each mask (an empty mask stays empty)."""
    masks = np.asarray(masks, dtype=bool)
    if masks.ndim != 3:
        raise CamlibError(f"masks must be (N, H, W), got shape {masks.shape}")
    if tolerance < 0:
        raise CamlibError(f"tolerance must be >= 0 pixels, got {tolerance}")
    if tolerance == 0:
        return masks
    return np.stack([ndimage.distance_transform_edt(~m) <= tolerance if m.any() else m for m in masks])


def points_hit(points: np.ndarray, masks: np.ndarray, tolerance: float = 0.0) -> np.ndarray:
    """Bool (N,): whether point ``(y, x)`` i (``points (N, 2)``) lies within ``tolerance`` pixels of mask i."""
    masks = np.asarray(masks, dtype=bool)
    points = np.asarray(points)
    if masks.ndim != 3 or points.shape != (len(masks), 2):
        raise CamlibError(f"need points (N, 2) (y, x) and masks (N, H, W); got {points.shape} and {masks.shape}")
    near = near_masks(masks, tolerance)
    return near[np.arange(len(near)), points[:, 0], points[:, 1]]


def pointing_hits(maps: np.ndarray | torch.Tensor, masks: np.ndarray, tolerance: float = 0.0) -> np.ndarray:
    """Bool (N,): whether each map's maximum lies within ``tolerance`` pixels (Euclidean) of its mask.

    ``tolerance=0`` asks for the peak pixel itself to be in the mask; the pointing game of Zhang et
    al. (2016) uses 15 px at 224 px. An empty mask is never hit. Maps may be coarser than the masks.
    """
    maps = _maps(maps)
    masks = np.asarray(masks, dtype=bool)
    if masks.ndim != 3 or len(masks) != len(maps):
        raise CamlibError(f"masks must be (N={len(maps)}, H, W) like the maps, got {masks.shape}")
    return points_hit(peaks(maps, masks.shape[1:]), masks, tolerance)


def random_hit_rates(masks: np.ndarray, tolerance: float = 0.0) -> np.ndarray:
    """Float (N,): the chance that a uniformly random pixel hits each mask (within ``tolerance``)."""
    near = near_masks(masks, tolerance)
    return near.reshape(len(near), -1).mean(axis=1)


def _box_distance(ys: np.ndarray, xs: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Distance (..., M) from pixels ``(ys, xs)`` (any equal shapes) to the pixels inside each box (M, 4)."""
    b = boxes[(None,) * ys.ndim]
    dx = np.maximum(np.maximum(b[..., 0] - xs[..., None], xs[..., None] - (b[..., 2] - 1)), 0)
    dy = np.maximum(np.maximum(b[..., 1] - ys[..., None], ys[..., None] - (b[..., 3] - 1)), 0)
    distance = np.hypot(dx, dy)
    empty = (boxes[:, 2] <= boxes[:, 0]) | (boxes[:, 3] <= boxes[:, 1])
    return np.where(empty, np.inf, distance)


def points_in_boxes(points: np.ndarray, boxes: Sequence[np.ndarray], tolerance: float = 0.0) -> np.ndarray:
    """Bool (N,): whether point ``(y, x)`` i lies within ``tolerance`` pixels (Euclidean) of one of
    image i's boxes ``(M_i, 4)`` (``[x0, y0, x1, y1]``, x1/y1 exclusive: pixel ``(y, x)`` is inside
    when ``x0 <= x < x1`` and ``y0 <= y < y1``; its distance to a box is measured to the nearest
    pixel inside)."""
    points = np.asarray(points)
    if points.ndim != 2 or points.shape[1] != 2 or len(points) != len(boxes):
        raise CamlibError(f"points must be (N, 2) with one box set per point; got {points.shape} and {len(boxes)} box sets")
    if tolerance < 0:
        raise CamlibError(f"tolerance must be >= 0 pixels, got {tolerance}")
    hits = np.zeros(len(points), dtype=bool)
    for i, ((y, x), image_boxes) in enumerate(zip(points, boxes)):
        b = np.asarray(image_boxes, dtype=np.float64).reshape(-1, 4)
        hits[i] = bool(np.any(_box_distance(np.array(y), np.array(x), b) <= tolerance))
    return hits


def near_boxes(boxes: Sequence[np.ndarray], shape: tuple[int, int], tolerance: float = 0.0) -> np.ndarray:
    """Bool (N, H, W): the pixels that :func:`points_in_boxes` counts as hits for each image's boxes
    (so ``chance_pointing(near_boxes(...))`` is the hit rate of a uniformly random point)."""
    ys, xs = np.mgrid[:shape[0], :shape[1]]
    out = np.zeros((len(boxes), *shape), dtype=bool)
    for i, image_boxes in enumerate(boxes):
        b = np.asarray(image_boxes, dtype=np.float64).reshape(-1, 4)
        if len(b):
            out[i] = (_box_distance(ys, xs, b) <= tolerance).any(axis=-1)
    return out


def chance_pointing(masks: np.ndarray) -> float:
    """Pointing accuracy in percent of a uniformly random point: the masks' mean area fraction."""
    masks = np.asarray(masks, dtype=bool)
    if masks.ndim != 3 or len(masks) == 0:
        raise CamlibError(f"masks must be a non-empty (N, H, W) array, got shape {masks.shape}")
    return float(100.0 * random_hit_rates(masks).mean())


def high_regions(maps: np.ndarray | torch.Tensor, fraction: float = 0.5) -> np.ndarray:
    """Bool (N, H, W): pixels at or above ``fraction`` of their map's maximum (empty if max <= 0)."""
    maps = _maps(maps)
    if not 0.0 < fraction <= 1.0:
        raise CamlibError(f"fraction must lie in (0, 1], got {fraction}")
    top = maps.max(axis=(1, 2), keepdims=True)
    return (maps >= fraction * top) & (top > 0)


def overlap_fractions(region: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """Float (M,): the fraction of each object mask ``(M, H, W)`` that lies inside ``region`` ``(H, W)``."""
    region = np.asarray(region, dtype=bool)
    masks = np.asarray(masks, dtype=bool)
    if region.ndim != 2 or masks.ndim != 3 or masks.shape[1:] != region.shape:
        raise CamlibError(f"region must be (H, W) and masks (M, H, W) of the same size, got {region.shape} and {masks.shape}")
    areas = masks.sum(axis=(1, 2))
    if np.any(areas == 0):
        raise CamlibError("overlap_fractions got an empty object mask")
    return (masks & region).sum(axis=(1, 2)) / areas


def localization_scorers(maps: np.ndarray | torch.Tensor, boxes: Sequence[np.ndarray], masks: np.ndarray,
                         threshold: float = PAPER_THRESHOLD) -> dict[str, Callable[[np.ndarray | None], float]]:
    """Every score of :func:`localization_scores` as a function of the images it is computed on: ``scorer(rows)`` is
    the score (%) on the images ``rows`` (indices, repeats allowed; ``None``: all), from what was computed once per
    image, so a bootstrap over images or over their units rescores cheaply."""
    maps = _maps(maps)
    masks = _masks(masks, maps.shape)
    if len(boxes) != len(maps) or any(len(np.asarray(b).reshape(-1, 4)) == 0 for b in boxes):
        raise CamlibError("localization_scores needs one non-empty (M_i, 4) box array per map")
    predicted = boxes_from_cams(maps, threshold)
    box_hits = np.array([iou(p, b).max() for p, b in zip(predicted, boxes)]) >= 0.5
    point_hits = points_in_boxes(peaks(maps), boxes)
    unit = normalize_maps(torch.from_numpy(maps)).numpy()
    box_metric, pixel_metric = MaxBoxAccV2(), PxAP()
    box_metric.accumulate(unit, [np.asarray(b, dtype=np.float64).reshape(-1, 4) for b in boxes])
    pixel_metric.accumulate(unit, masks)
    every = np.arange(len(maps))
    return {
        "pointing": lambda rows=None: float(100.0 * point_hits[every if rows is None else rows].mean()),
        "box IoU>=0.5": lambda rows=None: float(100.0 * box_hits[every if rows is None else rows].mean()),
        "MaxBoxAccV2": lambda rows=None: box_metric.compute(rows).value,
        "PxAP": lambda rows=None: pixel_metric.compute(rows).value,
    }


def localization_scores(maps: np.ndarray | torch.Tensor, boxes: Sequence[np.ndarray], masks: np.ndarray,
                        threshold: float = PAPER_THRESHOLD) -> dict[str, float]:
    """All scores of maps ``(N, H, W)`` against every image's ground-truth boxes ``(M_i, 4)`` (M_i >= 1)
    and pixel masks ``(N, H, W)``, in percent:

    * ``pointing``: the map's maximum lies in a ground-truth box;
    * ``box IoU>=0.5``: the paper's box (largest component above ``threshold`` x max) has IoU >= 0.5
      with some ground-truth box;
    * ``MaxBoxAccV2`` and ``PxAP`` (Choe et al. 2020) of the min-max normalised maps.

    :func:`localization_scorers` gives each as a function of the images it is computed on.
    """
    return {name: scorer(None) for name, scorer in localization_scorers(maps, boxes, masks, threshold).items()}
