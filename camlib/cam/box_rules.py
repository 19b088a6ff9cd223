"""Bounding boxes from CAMs: the paper's rule and the rule of the authors' released code.

Boxes are ``[x0, y0, x1, y1]`` in pixels with ``x1``/``y1`` exclusive, so a box covering pixel
columns 2..5 has ``x0 = 2, x1 = 6`` and area ``(x1 - x0) * (y1 - y0)``.
"""
from __future__ import annotations

from typing import Iterable, Sequence

import cv2
import numpy as np
import torch

from camlib.cam.components import Runs, largest_components, row_runs
from camlib.utils.errors import CamlibError
from camlib.metrics.boxes import box_area, box_intersection

#: The paper's box threshold: 20% of the map's maximum (every box rule's default).
PAPER_THRESHOLD = 0.2
#: Thresholds of the released code's ``dt_box`` on the 0..255 scale of the map's range (paper.md, "Boxes from a CAM").
RELEASED_THRESHOLDS = (20, 100, 110)
#: The released code's lowest threshold as a fraction (20/255, about 8%): where its largest box usually comes from.
RELEASED_THRESHOLD = RELEASED_THRESHOLDS[0] / 255


def _as_numpy(maps: np.ndarray | torch.Tensor) -> np.ndarray:
    if isinstance(maps, torch.Tensor):
        maps = maps.detach().float().cpu().numpy()
    try:
        maps = np.asarray(maps, dtype=np.float32)
    except (TypeError, ValueError):
        raise CamlibError(f"a CAM must be a numeric array (..., H, W), got {type(maps).__name__} {str(maps)[:40]!r}") from None
    if maps.ndim < 2 or maps.shape[-1] == 0 or maps.shape[-2] == 0:
        raise CamlibError(f"a CAM must be (..., H, W) with H, W > 0, got shape {maps.shape}")
    if not np.isfinite(maps).all():
        raise CamlibError("the CAM contains NaN or infinite values; check the model output and the input image")
    return maps


def _as_tensor(maps: np.ndarray | torch.Tensor) -> torch.Tensor:
    """``(..., H, W)`` maps as float32 on their own device (a float32 array is shared, not copied)."""
    if isinstance(maps, torch.Tensor):
        maps = maps.detach().float()
    else:
        try:
            maps = torch.from_numpy(np.ascontiguousarray(maps, dtype=np.float32))
        except (TypeError, ValueError):
            raise CamlibError(f"a CAM must be a numeric array (..., H, W), got {type(maps).__name__} {str(maps)[:40]!r}") from None
    if maps.ndim < 2 or maps.shape[-1] == 0 or maps.shape[-2] == 0:
        raise CamlibError(f"a CAM must be (..., H, W) with H, W > 0, got shape {tuple(maps.shape)}")
    return maps


def check_threshold(threshold: float) -> float:
    """Validate a fraction-of-max threshold, which must lie in (0, 1)."""
    try:
        threshold = float(threshold)
    except (TypeError, ValueError):
        raise CamlibError(f"threshold must be a number in (0, 1), got {threshold!r}") from None
    if not 0.0 < threshold < 1.0:
        raise CamlibError(f"threshold must be a fraction in (0, 1) of the CAM's maximum, got {threshold}")
    return threshold


def box_from_cam(cam: np.ndarray | torch.Tensor, threshold: float = PAPER_THRESHOLD) -> np.ndarray:
    """The paper's rule for one ``(H, W)`` CAM: keep pixels >= ``threshold`` x max, take the largest
    connected component and return its box ``(4,)``.

    A CAM with no positive evidence (max <= 0, e.g. all zeros) gives the whole-image box.
    """
    return boxes_from_cams(cam, threshold)


def boxes_from_cams(maps: np.ndarray | torch.Tensor, threshold: float = PAPER_THRESHOLD) -> np.ndarray:
    """The paper's rule applied to every map of ``(..., H, W)``; returns boxes ``(..., 4)``.

    Works on the maps' device, a chunk of maps at a time (see :mod:`camlib.cam.components`); the boxes
    equal those of OpenCV's ``connectedComponentsWithStats`` run on each mask.
    """
    threshold = check_threshold(threshold)
    maps = _as_tensor(maps)
    height, width = maps.shape[-2:]
    flat = maps.reshape(-1, height, width)
    boxes = paper_rule_boxes(flat.split(chunk_length(flat, (height, width))), (height, width), threshold)
    return boxes.reshape(*maps.shape[:-2], 4)


#: Pixels per chunk of maps: a few chunks of 16 MB on the CPU (each upsampling call is a round trip
#: through torch's thread pool, which stalls on a busy machine), everything at once on a GPU.
CHUNK_PIXELS = {"cpu": 1 << 22, "other": 1 << 28}


def chunk_length(maps: torch.Tensor, size: tuple[int, int]) -> int:
    """How many maps of ``size`` pixels to process at once on the device of ``maps``."""
    budget = CHUNK_PIXELS["cpu" if maps.device.type == "cpu" else "other"]
    return max(1, budget // (size[0] * size[1]))


def _peaks_and_masks(maps: torch.Tensor, threshold: float) -> tuple[np.ndarray, np.ndarray | torch.Tensor]:
    """Peaks ``(n,)`` of ``(n, H, W)`` maps and their masks ``map >= threshold * peak``.

    On the CPU this is numpy (no thread pool: torch's small parallel ops stall on a busy machine,
    and its float-to-bool comparison is ten times slower); elsewhere torch on the maps' device.
    """
    if maps.device.type == "cpu":
        values = maps.numpy().reshape(len(maps), -1)
        low, peak = values.min(axis=1), values.max(axis=1)  # both propagate NaN
        masks = values.reshape(maps.shape) >= (threshold * peak)[:, None, None]
    else:
        low, peak_t = maps.flatten(1).amin(dim=1), maps.flatten(1).amax(dim=1)
        masks = maps >= (threshold * peak_t)[:, None, None]
        low, peak = low.cpu().numpy(), peak_t.cpu().numpy()
    if not (np.isfinite(low).all() and np.isfinite(peak).all()):
        raise CamlibError("the CAM contains NaN or infinite values; check the model output and the input image")
    return peak, masks


def paper_rule_boxes(chunks: Iterable[torch.Tensor], size: tuple[int, int], threshold: float) -> np.ndarray:
    """The paper's rule on consecutive chunks ``(n, H, W)`` of float32 maps; boxes ``(N, 4)``.

    Per chunk: the peak, the mask ``map >= threshold * peak`` and its row runs; then the largest
    component of every mask at once. A map whose peak is <= 0 gives the whole-image box.
    """
    height, width = size
    runs, positive, total = [], [], 0
    for maps in chunks:
        if len(maps) == 0:
            continue
        peak, masks = _peaks_and_masks(maps, threshold)
        runs.append(row_runs(masks, row_offset=total * height))
        positive.append(peak > 0)
        total += len(maps)
    boxes, found = largest_components(Runs.concat(runs), total, height, width)
    boxes[~(np.concatenate(positive or [np.zeros(0, bool)]) & found)] = (0, 0, width, height)
    return boxes


def boxes_from_cams_opencv(maps: np.ndarray | torch.Tensor, threshold: float = PAPER_THRESHOLD) -> np.ndarray:
    """The same rule done the straightforward way: one ``cv2.connectedComponentsWithStats`` per
    map. Kept as the reference that :func:`boxes_from_cams` is tested and benchmarked against."""
    threshold = check_threshold(threshold)
    maps = _as_numpy(maps)
    height, width = maps.shape[-2:]
    flat = maps.reshape(-1, height, width)
    peaks = flat.max(axis=(1, 2)) if len(flat) else np.zeros(0, dtype=np.float32)
    boxes = np.tile(np.array([0, 0, width, height], dtype=np.float32), (len(flat), 1))
    for i, (cam, peak) in enumerate(zip(flat, peaks)):
        if peak <= 0:
            continue
        count, _, stats, _ = cv2.connectedComponentsWithStats((cam >= threshold * peak).astype(np.uint8), connectivity=8)
        best = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))  # ties: the first label
        x, y, w, h = stats[best, :4]
        boxes[i] = (x, y, x + w, y + h)
    return boxes.reshape(*maps.shape[:-2], 4)


#: :func:`instance_boxes` keeps a region at least this share of the largest one's area (a fixed rule, not tuned).
INSTANCE_MIN_SHARE = 0.1


def instance_boxes(cam: np.ndarray | torch.Tensor, threshold: float = PAPER_THRESHOLD,
                   min_share: float = INSTANCE_MIN_SHARE) -> np.ndarray:
    """Multi-instance boxes of one ``(H, W)`` CAM: the box of every connected region of pixels >= ``threshold`` x
    max whose area is at least ``min_share`` of the largest region's, largest first ``(M, 4)``; the first is the
    paper's box. For photos with several objects of a class (the ILSVRC rule boxes each). A CAM with no positive
    evidence gives the whole-image box."""
    threshold = check_threshold(threshold)
    if not 0.0 < min_share <= 1.0:
        raise CamlibError(f"min_share must be a fraction in (0, 1], got {min_share}")
    cam = _as_numpy(cam)
    if cam.ndim != 2:
        raise CamlibError(f"instance_boxes takes one (H, W) CAM, got shape {cam.shape}")
    height, width = cam.shape
    peak = float(cam.max())
    if peak <= 0:
        return np.array([[0, 0, width, height]], dtype=np.float32)
    _, _, stats, _ = cv2.connectedComponentsWithStats((cam >= threshold * peak).astype(np.uint8), connectivity=8)
    regions = stats[1:]
    order = np.argsort(-regions[:, cv2.CC_STAT_AREA], kind="stable")  # ties: the first label, as the paper's rule
    regions = regions[order]
    kept = regions[regions[:, cv2.CC_STAT_AREA] >= min_share * regions[0, cv2.CC_STAT_AREA]]
    x, y, w, h = (kept[:, i].astype(np.float32) for i in range(4))
    return np.stack([x, y, x + w, y + h], axis=1)


def _suppress_contained(boxes: np.ndarray, overlap: float) -> np.ndarray:
    """Sort by area (largest first) and drop a box overlapping a kept larger one by more than
    ``overlap`` of the larger's area."""
    if len(boxes) == 0:
        return boxes.reshape(0, 4)
    areas = box_area(boxes)
    order = np.argsort(-areas, kind="stable")
    boxes, areas = boxes[order], areas[order]
    kept: list[int] = []
    for i in range(len(boxes)):
        if kept and np.any(box_intersection(boxes[kept], boxes[i]) > overlap * areas[kept]):
            continue
        kept.append(i)
    return boxes[kept]


def released_code_boxes(
    cam: np.ndarray | torch.Tensor,
    thresholds: tuple[int, ...] = RELEASED_THRESHOLDS,
    dt_threshold: float = 10 / 255,
    overlap: float = 0.5,
) -> np.ndarray:
    """The released code's multi-threshold rule for one ``(H, W)`` CAM; boxes ``(M, 4)``, largest first.

    The CAM is min-max scaled to 0..255; for each threshold, the mask above it is passed through a
    distance transform (normalised to [0, 1]) re-thresholded at ``dt_threshold``; the boxes of its
    contours (outer and hole, OpenCV ``RETR_CCOMP``) are pooled over thresholds, sorted by area and a
    box is dropped if it overlaps a larger kept one by more than ``overlap`` of the larger's area.
    ``box1`` is the first row, ``box2`` the second.
    """
    cam = _as_numpy(cam)
    if cam.ndim != 2:
        raise CamlibError(f"released_code_boxes takes one (H, W) CAM, got shape {cam.shape}")
    lo, hi = float(cam.min()), float(cam.max())
    scaled = (cam - lo) / (hi - lo) * 255.0 if hi > lo else np.zeros_like(cam)
    found: list[np.ndarray] = []
    for t in thresholds:
        mask = (scaled > t).astype(np.uint8)
        if not mask.any():
            continue
        dist = cv2.distanceTransform(mask, cv2.DIST_L2, 5)
        dist /= max(float(dist.max()), 1e-12)
        core = (dist > dt_threshold).astype(np.uint8)
        contours, _ = cv2.findContours(core, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
        for contour in contours:
            x, y, w, h = cv2.boundingRect(contour)
            found.append(np.array([x, y, x + w, y + h], dtype=np.float32))
    if not found:
        height, width = cam.shape
        return np.array([[0, 0, width, height]], dtype=np.float32)
    return _suppress_contained(np.stack(found), overlap)


def heuristic_guesses(cams_top3: np.ndarray | torch.Tensor, **kwargs) -> np.ndarray:
    """Table 3's five guesses from the CAMs ``(3, H, W)`` of the top-3 classes:
    ``[c1 box1, c1 box2, c2 box1, c2 box2, c3 box1]`` (tight and loose boxes of the released rule).

    Returns ``(5, 4)`` boxes; the class of guess ``i`` is rank ``(0, 0, 1, 1, 2)[i]``. A class with only
    one box repeats it as its second.
    """
    cams = _as_numpy(cams_top3)
    if cams.ndim != 3 or cams.shape[0] < 3:
        raise CamlibError(f"heuristic_guesses needs the CAMs of the top-3 classes (3, H, W), got {cams.shape}")
    return guesses_from_boxes([released_code_boxes(cam, **kwargs) for cam in cams[:3]])


def guesses_from_boxes(top3_boxes: Sequence[np.ndarray]) -> np.ndarray:
    """:func:`heuristic_guesses` from the released rule's boxes ``(M_r, 4)`` of the top-3 classes' CAMs, already
    found (an evaluation that also scores box1 finds them once); ``(5, 4)``."""
    guesses = []
    for boxes, take in zip(top3_boxes, (2, 2, 1)):
        guesses += [boxes[min(j, len(boxes) - 1)] for j in range(take)]
    return np.stack(guesses)


#: Class rank (0 = top-1) of each of :func:`heuristic_guesses`' five boxes.
HEURISTIC_RANKS = (0, 0, 1, 1, 2)
