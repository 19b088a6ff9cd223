"""Box overlap: pairwise IoU, each box against its own ground truth, and hit rates."""
from __future__ import annotations

import numpy as np
import torch
from torchvision.ops import box_iou

from ..errors import CamlibError


def iou(boxes_a: np.ndarray, boxes_b: np.ndarray) -> np.ndarray:
    """Pairwise IoU of boxes ``(N, 4)`` and ``(M, 4)`` -> ``(N, M)`` (``[x0, y0, x1, y1]``, x1/y1 exclusive).

    A single box ``(4,)`` on either side is treated as ``(1, 4)``.
    """
    a = np.atleast_2d(np.asarray(boxes_a, dtype=np.float64))
    b = np.atleast_2d(np.asarray(boxes_b, dtype=np.float64))
    for name, boxes in (("boxes_a", a), ("boxes_b", b)):
        if boxes.shape[-1] != 4 or boxes.ndim != 2:
            raise CamlibError(f"{name} must be (N, 4) boxes [x0, y0, x1, y1], got shape {boxes.shape}")
        if boxes.size and (np.any(boxes[:, 2] < boxes[:, 0]) or np.any(boxes[:, 3] < boxes[:, 1])):
            raise CamlibError(f"{name} has a box with x1 < x0 or y1 < y0; boxes are [x0, y0, x1, y1]")
    if a.shape[0] == 0 or b.shape[0] == 0:
        return np.zeros((a.shape[0], b.shape[0]))
    return box_iou(torch.from_numpy(a), torch.from_numpy(b)).nan_to_num(0.0).numpy()


def paired_iou(boxes: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """IoU of each box with its own ground truth: ``boxes (N, D, 4)`` or ``(N, 4)``, ``gt (N, 4)`` -> ``(N, D)`` or ``(N,)``."""
    boxes = np.asarray(boxes, dtype=np.float64)
    single = boxes.ndim == 2
    boxes = boxes[:, None] if single else boxes
    if boxes.ndim != 3 or boxes.shape[-1] != 4 or len(boxes) != len(gt):
        raise CamlibError(f"need boxes (N, 4) or (N, D, 4) and gt (N, 4); got {np.shape(boxes)} and {np.shape(gt)}")
    out = np.stack([iou(b, g)[:, 0] for b, g in zip(boxes, gt)]) if len(gt) else np.zeros(boxes.shape[:2])
    return out[:, 0] if single else out


def hit_rate(boxes: np.ndarray, gt: np.ndarray, iou_threshold: float = 0.5) -> float:
    """Percent of boxes ``(N, 4)`` (or all guesses of ``(N, D, 4)``) with IoU >= ``iou_threshold`` against ``gt (N, 4)``."""
    return float(100.0 * np.mean(paired_iou(boxes, gt) >= iou_threshold))
