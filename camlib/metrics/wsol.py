"""Localization metrics of Choe et al., "Evaluating Weakly Supervised Object Localization
Methods Right" (CVPR 2020): MaxBoxAcc, MaxBoxAccV2 and PxAP, as accumulate-then-compute evaluators.

- BoxAcc(tau, delta): % of images where a box from ``{map >= tau}`` has IoU >= delta with some
  ground-truth box. The box is that of the largest 8-connected component (``multi_contour=False``)
  or the best of all components' boxes (``multi_contour=True``).
- MaxBoxAcc = max over tau of BoxAcc(tau, 0.5), largest component.
- MaxBoxAccV2 = mean over delta in {0.3, 0.5, 0.7} of max over tau, all components.
- PxAP = area under the pixel precision-recall curve, sum over thresholds of precision x recall gain.

Differences from clovaai/wsolevaluation, on purpose: maps are thresholded as floats with ``>=``
(there: 8-bit maps with ``>``), a component is an 8-connected pixel set sized by its pixel count
(there: OpenCV contours sized by polygon area) and boxes end exclusively (there: inclusive ends).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..errors import CamlibError
from .contours import ComponentBoxes, Method, check_maps, check_thresholds, component_boxes

DEFAULT_THRESHOLDS = np.arange(0, 1, 0.01)
"""CAM thresholds of the box metrics: 0, 0.01, ..., 0.99 (wsolevaluation's ``cam_curve_interval=0.01``)."""
PXAP_THRESHOLDS = np.append(np.arange(0, 1, 0.01), 1.0)
"""PxAP thresholds: 0, 0.01, ..., 0.99, 1, the cut points that wsolevaluation's histogram bins give."""


@dataclass(frozen=True)
class BoxAccResult:
    """MaxBoxAcc or MaxBoxAccV2 of the accumulated maps; accuracies in percent.

    Attributes:
        value: mean over the IoU thresholds of ``max_box_acc``.
        max_box_acc: ``(D,)`` best BoxAcc over CAM thresholds, per IoU threshold.
        best_thresholds: ``(D,)`` the CAM threshold reaching it (the lowest one if tied).
        box_acc: ``(D, K)`` BoxAcc per IoU threshold and CAM threshold.
        thresholds: ``(K,)`` CAM thresholds.
        iou_thresholds: ``(D,)`` IoU thresholds.
        num_images: images accumulated.
    """

    value: float
    max_box_acc: np.ndarray
    best_thresholds: np.ndarray
    box_acc: np.ndarray
    thresholds: np.ndarray
    iou_thresholds: np.ndarray
    num_images: int


@dataclass(frozen=True)
class PxAPResult:
    """PxAP of the accumulated maps.

    Attributes:
        value: area under the precision-recall curve, in percent.
        thresholds: ``(K,)`` thresholds.
        precision: ``(K,)`` pixel precision of ``map >= thresholds[k]`` (NaN where nothing is predicted).
        recall: ``(K,)`` pixel recall of ``map >= thresholds[k]``.
    """

    value: float
    thresholds: np.ndarray
    precision: np.ndarray
    recall: np.ndarray


def _box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Elementwise IoU of boxes ``(..., 4)`` and ``(..., 4)`` (broadcast), ``[x0, y0, x1, y1]``, exclusive ends.

    ``camlib.metrics.boxes.iou`` gives all pairs; here each component meets only its own map's boxes.
    """
    inter_w = np.clip(np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]), 0, None)
    inter_h = np.clip(np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]), 0, None)
    inter = inter_w * inter_h
    area_a = (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1])
    area_b = (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
    return inter / (area_a + area_b - inter)


class _BoxAccuracy:
    """Counts, per IoU threshold and CAM threshold, the images whose estimated box is correct."""

    def __init__(
        self,
        thresholds: Sequence[float] | np.ndarray | None,
        iou_thresholds: Sequence[float],
        multi_contour: bool,
        method: Method,
    ):
        self.thresholds = check_thresholds(DEFAULT_THRESHOLDS if thresholds is None else thresholds)
        self.iou_thresholds = _check_iou_thresholds(iou_thresholds)
        if method not in ("tree", "loop"):
            raise CamlibError(f"method must be 'tree' or 'loop', got {method!r}")
        self.multi_contour = bool(multi_contour)
        self.method = method
        self._correct = np.zeros((len(self.iou_thresholds), len(self.thresholds)), dtype=np.int64)
        self._num_images = 0

    def accumulate(self, maps: np.ndarray, gt_boxes: Sequence[np.ndarray]) -> None:
        """Add a batch: ``maps`` ``(N, H, W)`` in [0, 1]; ``gt_boxes`` N arrays ``(M_i, 4)`` (any box counts)."""
        maps = check_maps(maps)
        boxes = _check_gt_boxes(gt_boxes, *maps.shape)
        components = component_boxes(maps, self.thresholds, self.method)
        ious = iou_curves(components, boxes, len(self.thresholds), self.multi_contour)  # (N, K)
        self._correct += (ious[None] >= self.iou_thresholds[:, None, None]).sum(axis=1)
        self._num_images += len(maps)

    def compute(self) -> BoxAccResult:
        """The metric over everything accumulated so far."""
        if self._num_images == 0:
            raise CamlibError("compute() called before accumulate(): no image to evaluate")
        box_acc = 100.0 * self._correct / self._num_images
        best = box_acc.argmax(axis=1)
        max_box_acc = box_acc[np.arange(len(best)), best]
        return BoxAccResult(
            value=float(max_box_acc.mean()),
            max_box_acc=max_box_acc,
            best_thresholds=self.thresholds[best],
            box_acc=box_acc,
            thresholds=self.thresholds,
            iou_thresholds=self.iou_thresholds,
            num_images=self._num_images,
        )


class MaxBoxAcc(_BoxAccuracy):
    """MaxBoxAcc: the largest component's box, correct at IoU >= ``iou_threshold``, best CAM threshold.

    ``method="tree"`` reads all thresholds off one merge tree per map; ``"loop"`` labels every
    thresholded mask with OpenCV. Both give identical results.
    """

    def __init__(
        self,
        thresholds: Sequence[float] | np.ndarray | None = None,
        iou_threshold: float = 0.5,
        multi_contour: bool = False,
        method: Method = "tree",
    ):
        super().__init__(thresholds, (iou_threshold,), multi_contour, method)


class MaxBoxAccV2(_BoxAccuracy):
    """MaxBoxAccV2: the best box over all components, MaxBoxAcc averaged over ``iou_thresholds``."""

    def __init__(
        self,
        thresholds: Sequence[float] | np.ndarray | None = None,
        iou_thresholds: Sequence[float] = (0.3, 0.5, 0.7),
        multi_contour: bool = True,
        method: Method = "tree",
    ):
        super().__init__(thresholds, iou_thresholds, multi_contour, method)


class PxAP:
    """Pixel average precision: pixel counts per threshold summed over every accumulated map."""

    def __init__(self, thresholds: Sequence[float] | np.ndarray | None = None):
        self.thresholds = check_thresholds(PXAP_THRESHOLDS if thresholds is None else thresholds)
        self._positives = np.zeros(len(self.thresholds) + 1, dtype=np.int64)  # by number of thresholds <= value
        self._negatives = np.zeros_like(self._positives)
        self._num_images = 0

    def accumulate(self, maps: np.ndarray, gt_masks: np.ndarray, ignore_masks: np.ndarray | None = None) -> None:
        """Add a batch: ``maps`` ``(N, H, W)`` in [0, 1], boolean ``gt_masks`` ``(N, H, W)``, and
        optionally boolean ``ignore_masks`` ``(N, H, W)`` of pixels to leave out (OpenImages' ignore regions)."""
        maps = check_maps(maps)
        positive = _check_mask(gt_masks, maps.shape, "gt_masks")
        keep = np.ones_like(positive)
        if ignore_masks is not None:
            keep = ~_check_mask(ignore_masks, maps.shape, "ignore_masks")
        level = np.searchsorted(self.thresholds, maps, side="right")
        self._positives += np.bincount(level[positive & keep], minlength=len(self._positives))
        self._negatives += np.bincount(level[~positive & keep], minlength=len(self._negatives))
        self._num_images += len(maps)

    def compute(self) -> PxAPResult:
        """PxAP over everything accumulated so far."""
        if self._num_images == 0:
            raise CamlibError("compute() called before accumulate(): no image to evaluate")
        num_positive = int(self._positives.sum())
        if num_positive == 0:
            raise CamlibError("no positive ground-truth pixel was accumulated: PxAP is undefined")
        tp = np.cumsum(self._positives[::-1])[::-1][1:]  # (K,) positives with map >= thresholds[k]
        fp = np.cumsum(self._negatives[::-1])[::-1][1:]
        predicted = tp + fp
        precision = np.divide(tp, predicted, out=np.full(len(tp), np.nan), where=predicted > 0)
        recall = tp / num_positive
        gain = recall - np.append(recall[1:], 0.0)  # recall gained by lowering the threshold to thresholds[k]
        value = 100.0 * float(np.sum(precision[predicted > 0] * gain[predicted > 0]))
        return PxAPResult(value=value, thresholds=self.thresholds, precision=precision, recall=recall)


def iou_curves(
    components: ComponentBoxes, gt_boxes: Sequence[np.ndarray], num_thresholds: int, multi_contour: bool
) -> np.ndarray:
    """Per map and threshold, the IoU ``(N, K)`` of the estimated box with its best ground-truth box.

    The estimate is the largest component (ties: the topmost, then leftmost box) or, with
    ``multi_contour``, the best of all components. A threshold with no component scores 0.
    """
    n = len(gt_boxes)
    padded = np.zeros((n, max(len(b) for b in gt_boxes), 4))  # empty boxes score IoU 0
    for i, boxes in enumerate(gt_boxes):
        padded[i, : len(boxes)] = boxes
    image, threshold, boxes = components.image, components.threshold, components.boxes
    iou = _box_iou(boxes[:, None, :], padded[image]).max(axis=1)
    curves = np.zeros((n, num_thresholds))
    if multi_contour:
        np.maximum.at(curves, (image, threshold), iou)
        return curves
    order = np.lexsort((boxes[:, 2], boxes[:, 3], boxes[:, 0], boxes[:, 1], -components.areas, threshold, image))
    image, threshold = image[order], threshold[order]
    first = np.diff(image * num_thresholds + threshold, prepend=-1) != 0  # the largest of each (map, threshold)
    curves[image[first], threshold[first]] = iou[order][first]
    return curves


def _check_iou_thresholds(values: Sequence[float]) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0:
        raise CamlibError(f"IoU thresholds must be a non-empty 1-D sequence, got shape {arr.shape}")
    if not np.isfinite(arr).all() or (arr <= 0).any() or (arr > 1).any():
        raise CamlibError(f"IoU thresholds must lie in (0, 1], got {arr.tolist()}")
    if (np.diff(arr) <= 0).any():
        raise CamlibError(f"IoU thresholds must be strictly increasing, got {arr.tolist()}")
    return arr


def _check_gt_boxes(gt_boxes: Sequence[np.ndarray], n: int, height: int, width: int) -> list[np.ndarray]:
    """N float arrays ``(M_i, 4)`` of non-empty boxes inside the ``height x width`` maps."""
    if len(gt_boxes) != n:
        raise CamlibError(f"got {len(gt_boxes)} ground-truth box arrays for {n} maps")
    checked = []
    for i, boxes in enumerate(gt_boxes):
        arr = np.asarray(boxes, dtype=np.float64)
        if arr.ndim != 2 or arr.shape[1] != 4 or len(arr) == 0:
            raise CamlibError(f"gt_boxes[{i}] must be a non-empty (M, 4) array [x0, y0, x1, y1], got shape {arr.shape}")
        x0, y0, x1, y1 = arr.T
        if not np.isfinite(arr).all() or (x1 <= x0).any() or (y1 <= y0).any():
            raise CamlibError(f"gt_boxes[{i}] has a box that is not finite with x0 < x1 and y0 < y1")
        if (x0 < 0).any() or (y0 < 0).any() or (x1 > width).any() or (y1 > height).any():
            raise CamlibError(f"gt_boxes[{i}] has a box outside the {width}x{height} map (x1/y1 are exclusive)")
        checked.append(arr)
    return checked


def _check_mask(mask: np.ndarray, shape: tuple[int, ...], name: str) -> np.ndarray:
    arr = np.asarray(mask)
    if arr.dtype != np.bool_:
        raise CamlibError(f"{name} must be boolean, got dtype {arr.dtype}")
    if arr.shape != shape:
        raise CamlibError(f"{name} has shape {arr.shape}, the maps {shape}")
    return arr
