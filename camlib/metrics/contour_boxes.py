"""Boxes of OpenCV contours of 8-bit thresholded maps: the box rules of wsolevaluation (Choe et al. 2020).

The rules, as the reference's released code applies them to a map in [0, 1]:

- the map becomes 8 bits by truncation, ``uint8(map * 255)`` (computed in the map's own dtype);
- threshold ``t`` keeps the pixels whose 8-bit value is strictly above ``int(t * max8)``, ``max8``
  being the 8-bit map's maximum, so every threshold is relative to the map's peak;
- the regions are OpenCV contours (``RETR_TREE``, ``CHAIN_APPROX_SIMPLE``), holes included;
  a single estimate is the contour of largest ``cv2.contourArea`` (the first one on ties);
- a contour's box is ``boundingRect`` as ``(x, y, x + w, y + h)`` with ``x1``, ``y1`` clipped to
  ``width - 1``, ``height - 1``; IoU counts ends as inclusive; no contour gives the box (0, 0, 0, 0).

Every threshold maps to an integer cut-off in 0..255, so the ``"sweep"`` method finds the contours
once per distinct cut-off (at most 256 per map, whatever the number of thresholds); ``"loop"``
finds them again for every threshold. Both give identical results.
"""
from __future__ import annotations

from typing import Literal, Sequence

import cv2
import numpy as np

from camlib.metrics.boxes import box_iou

Method = Literal["sweep", "loop"]
NO_BOX = np.zeros((1, 4))
"""The estimate when a threshold leaves no contour."""


def to_8bit(scoremap: np.ndarray) -> np.ndarray:
    """``(H, W)`` map in [0, 1] -> ``uint8`` by truncation of ``map * 255``, in the map's dtype."""
    return (scoremap * scoremap.dtype.type(255)).astype(np.uint8)


def cutoffs(map8: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """8-bit cut-offs ``(K,)`` of thresholds ``(K,)``: a pixel is kept when its value is above ``int(t * max8)``."""
    return np.trunc(thresholds * float(map8.max())).astype(np.int64)


def boxes_above(map8: np.ndarray, cutoff: int, multi_contour: bool) -> np.ndarray:
    """Boxes ``(M, 4)`` (inclusive ends) of the contours of ``{map8 > cutoff}``; ``NO_BOX`` if none.

    Only the largest contour by ``cv2.contourArea`` unless ``multi_contour``.
    """
    _, mask = cv2.threshold(map8, cutoff, 255, cv2.THRESH_BINARY)  # 255 where map8 > cutoff
    contours, _ = cv2.findContours(mask, cv2.RETR_TREE, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return NO_BOX
    if not multi_contour:
        contours = [contours[int(np.argmax([cv2.contourArea(c) for c in contours]))]]
    height, width = map8.shape
    rects = np.array([cv2.boundingRect(c) for c in contours], dtype=np.float64)  # (M, 4) x, y, w, h
    x0, y0 = rects[:, 0], rects[:, 1]
    x1 = np.minimum(x0 + rects[:, 2], width - 1)
    y1 = np.minimum(y0 + rects[:, 3], height - 1)
    return np.stack([x0, y0, x1, y1], axis=1)


def contour_iou_curve(
    scoremap: np.ndarray, gt_boxes: np.ndarray, thresholds: np.ndarray, multi_contour: bool, method: Method = "sweep"
) -> np.ndarray:
    """Best IoU ``(K,)`` with any ground-truth box ``(M, 4)`` of the estimated box(es) at each threshold.

    ``scoremap`` ``(H, W)`` in [0, 1]; ``thresholds`` ``(K,)`` in [0, 1].
    """
    map8 = to_8bit(scoremap)
    levels = cutoffs(map8, np.asarray(thresholds, dtype=np.float64))
    if method == "sweep":
        distinct, back = np.unique(levels, return_inverse=True)
    else:
        distinct, back = levels, np.arange(len(levels))
    found = [boxes_above(map8, int(c), multi_contour) for c in distinct]
    starts = np.cumsum([0] + [len(b) for b in found[:-1]])
    ious = box_iou(np.concatenate(found)[:, None, :], gt_boxes[None, :, :], inclusive=True).max(axis=1)
    return np.maximum.reduceat(ious, starts)[back]  # the best box of each cut-off


def contour_iou_curves(
    maps: np.ndarray, gt_boxes: Sequence[np.ndarray], thresholds: np.ndarray, multi_contour: bool, method: Method = "sweep"
) -> np.ndarray:
    """:func:`contour_iou_curve` of every map of ``(N, H, W)`` -> ``(N, K)``."""
    return np.stack([contour_iou_curve(m, b, thresholds, multi_contour, method) for m, b in zip(maps, gt_boxes)])
