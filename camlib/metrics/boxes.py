"""Box geometry, in one place: the tight box of a mask, areas, intersection and IoU of ``[x0, y0, x1, y1]`` boxes.

Two conventions for where a box ends:

- exclusive (camlib's default): ``x1``/``y1`` lie just past the box, its area is ``(x1 - x0)(y1 - y0)``;
- inclusive (``inclusive=True``, the rule of clovaai/wsolevaluation): ``x1``/``y1`` are the last
  pixel inside, its area is ``(x1 - x0 + 1)(y1 - y0 + 1)``, so touching boxes overlap by a line.
"""
from __future__ import annotations

import numpy as np

from camlib.utils.errors import CamlibError


def as_boxes(boxes: object, name: str) -> np.ndarray:
    """``boxes`` as a float64 array, or a ``CamlibError`` naming ``name`` (strings, ragged lists, ...)."""
    try:
        return np.asarray(boxes, dtype=np.float64)
    except (TypeError, ValueError):
        raise CamlibError(f"{name} must be numeric boxes [x0, y0, x1, y1], got {type(boxes).__name__} that is not") from None


def _extent(low: np.ndarray, high: np.ndarray, inclusive: bool) -> np.ndarray:
    return np.clip(high - low + (1.0 if inclusive else 0.0), 0, None)


def mask_box(mask: np.ndarray) -> np.ndarray:
    """The tight box float32 ``(4,)`` ``[x0, y0, x1, y1]`` of a non-empty bool mask ``(H, W)``."""
    ys, xs = np.nonzero(mask)
    if not len(xs):
        raise CamlibError("the mask is empty: nothing to box (an object outside the image, or fully transparent)")
    return np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], dtype=np.float32)


def box_intersection(a: np.ndarray, b: np.ndarray, inclusive: bool = False) -> np.ndarray:
    """Elementwise intersection area of boxes ``(..., 4)`` and ``(..., 4)`` (broadcast)."""
    width = _extent(np.maximum(a[..., 0], b[..., 0]), np.minimum(a[..., 2], b[..., 2]), inclusive)
    height = _extent(np.maximum(a[..., 1], b[..., 1]), np.minimum(a[..., 3], b[..., 3]), inclusive)
    return width * height


def box_area(boxes: np.ndarray, inclusive: bool = False) -> np.ndarray:
    """Areas ``(...)`` of boxes ``(..., 4)``."""
    return _extent(boxes[..., 0], boxes[..., 2], inclusive) * _extent(boxes[..., 1], boxes[..., 3], inclusive)


def box_iou(a: np.ndarray, b: np.ndarray, inclusive: bool = False) -> np.ndarray:
    """Elementwise IoU of boxes ``(..., 4)`` and ``(..., 4)`` (broadcast); 0 where both are empty."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    inter = box_intersection(a, b, inclusive)
    union = box_area(a, inclusive) + box_area(b, inclusive) - inter
    return np.divide(inter, union, out=np.zeros(np.broadcast(inter, union).shape), where=union > 0)


def iou(boxes_a: np.ndarray, boxes_b: np.ndarray, inclusive: bool = False) -> np.ndarray:
    """Pairwise IoU of boxes ``(N, 4)`` and ``(M, 4)`` -> ``(N, M)`` (``[x0, y0, x1, y1]``).

    A single box ``(4,)`` on either side is treated as ``(1, 4)``; ``inclusive`` as in the module.
    """
    a = np.atleast_2d(as_boxes(boxes_a, "boxes_a"))
    b = np.atleast_2d(as_boxes(boxes_b, "boxes_b"))
    for name, boxes in (("boxes_a", a), ("boxes_b", b)):
        if boxes.shape[-1] != 4 or boxes.ndim != 2:
            raise CamlibError(f"{name} must be (N, 4) boxes [x0, y0, x1, y1], got shape {boxes.shape}")
        if not np.isfinite(boxes).all():
            raise CamlibError(f"{name} has NaN or infinite coordinates; boxes are finite [x0, y0, x1, y1]")
        if boxes.size and (np.any(boxes[:, 2] < boxes[:, 0]) or np.any(boxes[:, 3] < boxes[:, 1])):
            raise CamlibError(f"{name} has a box with x1 < x0 or y1 < y0; boxes are [x0, y0, x1, y1]")
    return box_iou(a[:, None, :], b[None, :, :], inclusive)


def paired_iou(boxes: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """IoU of each box with its own ground truth: ``boxes (N, D, 4)`` or ``(N, 4)``, ``gt (N, 4)`` -> ``(N, D)`` or ``(N,)``."""
    boxes = np.asarray(boxes, dtype=np.float64)
    single = boxes.ndim == 2
    boxes = boxes[:, None] if single else boxes
    if boxes.ndim != 3 or boxes.shape[-1] != 4 or len(boxes) != len(gt):
        raise CamlibError(f"need boxes (N, 4) or (N, D, 4) and gt (N, 4); got {np.shape(boxes)} and {np.shape(gt)}")
    out = box_iou(boxes, np.asarray(gt, dtype=np.float64)[:, None, :])
    return out[:, 0] if single else out


def hit_rate(boxes: np.ndarray, gt: np.ndarray, iou_threshold: float = 0.5) -> float:
    """Percent of boxes ``(N, 4)`` (or all guesses of ``(N, D, 4)``) with IoU >= ``iou_threshold`` against ``gt (N, 4)``."""
    return float(100.0 * np.mean(paired_iou(boxes, gt) >= iou_threshold))
