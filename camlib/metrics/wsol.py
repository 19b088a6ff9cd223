"""Localization metrics of Choe et al., "Evaluating Weakly Supervised Object Localization
Methods Right" (CVPR 2020): MaxBoxAcc, MaxBoxAccV2 and PxAP, as accumulate-then-compute evaluators.

- BoxAcc(tau, delta): % of images where a box estimated at CAM threshold tau has IoU >= delta
  with some ground-truth box: the box of the largest region (``multi_contour=False``) or the best
  of all regions' boxes (``multi_contour=True``).
- MaxBoxAcc = max over tau of BoxAcc(tau, 0.5), largest region.
- MaxBoxAccV2 = mean over delta in {0.3, 0.5, 0.7} of max over tau, all regions.
- PxAP = area under the pixel precision-recall curve, sum over thresholds of precision x recall gain.

Published numbers come from the reference's released code (clovaai/wsolevaluation), so its rules
are the default (``rules="reference"``, see :mod:`camlib.metrics.contour_boxes`): maps made 8-bit,
thresholds relative to the map's peak with ``>``, OpenCV contours (holes too) sized by polygon area,
clipped boxes with inclusive ends. Feed them maps prepared as the reference does
(:func:`reference_scoremaps`). ``rules="camlib"`` keeps camlib's earlier rules: float maps with
``map >= tau`` (absolute thresholds), 8-connected components sized by pixel count, exclusive ends
(:mod:`camlib.metrics.threshold_components`).

Every evaluator here and in :mod:`camlib.metrics.localization` has the same protocol:
``accumulate(...)`` per batch, ``compute()`` for the result over all batches so far, ``reset()``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Sequence

import cv2
import numpy as np

from camlib.utils.errors import CamlibError
from camlib.metrics.bootstrap import select_rows
from camlib.metrics.boxes import as_boxes, box_iou
from camlib.metrics.contour_boxes import contour_iou_curves
from camlib.metrics.threshold_components import ComponentBoxes, check_maps, check_thresholds, component_boxes

Rules = Literal["reference", "camlib"]
Method = Literal["sweep", "loop"]

DEFAULT_THRESHOLDS = np.arange(0, 1, 0.01)
"""CAM thresholds of the box metrics: 0, 0.01, ..., 0.99 (the reference's command-line default interval)."""
PXAP_THRESHOLDS = np.append(np.arange(0, 1, 0.01), 1.0)
"""PxAP thresholds: 0, 0.01, ..., 0.99, 1, the cut points of the reference's histogram bins on [0, 1]
(its right edges 1, 2, 3 after 0.99; no score in [0, 1] reaches the bin from 2 to 3)."""
IOU_THRESHOLDS = (0.3, 0.5, 0.7)
"""MaxBoxAccV2's IoU thresholds."""


def cam_thresholds(interval: float = 0.01) -> np.ndarray:
    """The reference's CAM thresholds ``arange(0, 1, interval)`` (0.001 in its evaluation function)."""
    if not 0 < interval < 1:
        raise CamlibError(f"interval must lie in (0, 1), got {interval}")
    return np.arange(0, 1, interval)


def reference_scoremaps(maps: np.ndarray, size: tuple[int, int] | None = None) -> np.ndarray:
    """The reference's inference step on CAMs ``(N, h, w)``: bicubic resize to ``size`` ``(H, W)``
    (if given), then min-max normalisation to [0, 1] per map; a constant map, or one holding a
    NaN, becomes all zeros. Returns float32 ``(N, H, W)``."""
    arr = np.asarray(maps, dtype=np.float32)
    if arr.ndim != 3 or 0 in arr.shape:
        raise CamlibError(f"maps must be a non-empty (N, h, w) array, got shape {arr.shape}")
    out = []
    for scoremap in arr:
        if size is not None:
            scoremap = cv2.resize(scoremap, (int(size[1]), int(size[0])), interpolation=cv2.INTER_CUBIC)
        if np.isnan(scoremap).any() or scoremap.min() == scoremap.max():
            out.append(np.zeros_like(scoremap))
            continue
        scoremap = scoremap - scoremap.min()
        out.append(scoremap / scoremap.max())
    return np.stack(out)


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


class _BoxAccuracy:
    """Counts, per IoU threshold and CAM threshold, the images whose estimated box is correct."""

    def __init__(
        self,
        thresholds: Sequence[float] | np.ndarray | None,
        iou_thresholds: Sequence[float],
        multi_contour: bool,
        rules: Rules,
        method: Method,
    ):
        self.thresholds = check_thresholds(DEFAULT_THRESHOLDS if thresholds is None else thresholds)
        self.iou_thresholds = _check_iou_thresholds(iou_thresholds)
        if rules not in ("reference", "camlib"):
            raise CamlibError(f"rules must be 'reference' or 'camlib', got {rules!r}")
        if method not in ("sweep", "loop"):
            raise CamlibError(f"method must be 'sweep' or 'loop', got {method!r}")
        self.multi_contour = bool(multi_contour)
        self.rules: Rules = rules
        self.method: Method = method
        self.reset()

    def reset(self) -> None:
        """Forget everything accumulated."""
        self._correct: list[np.ndarray] = []  # per batch (N, D, K): is the box right at each IoU and CAM threshold
        self._num_images = 0

    def accumulate(self, maps: np.ndarray, gt_boxes: Sequence[np.ndarray]) -> None:
        """Add a batch.

        Args:
            maps: ``(N, H, W)`` float maps in [0, 1] (for the reference rules, min-max normalised as
                :func:`reference_scoremaps` does).
            gt_boxes: N arrays ``(M_i, 4)`` ``[x0, y0, x1, y1]`` in map pixels, the numbers of the
                reference's metadata files (any box of an image counts).
        """
        maps = check_maps(maps)
        boxes = _check_gt_boxes(gt_boxes, *maps.shape)
        if self.rules == "reference":
            ious = contour_iou_curves(maps, boxes, self.thresholds, self.multi_contour, self.method)  # (N, K)
        else:
            components = component_boxes(maps, self.thresholds, self.method)
            ious = component_iou_curves(components, boxes, len(self.thresholds), self.multi_contour)
        self._correct.append(ious[:, None, :] >= self.iou_thresholds[None, :, None])
        self._num_images += len(maps)

    def per_image(self) -> np.ndarray:
        """``(N, D, K)`` bool: is image n's box right at IoU threshold d and CAM threshold k."""
        if self._num_images == 0:
            raise CamlibError("per_image() called before accumulate(): no image to evaluate")
        self._correct = [np.concatenate(self._correct)]
        return self._correct[0]

    def compute(self, rows: np.ndarray | None = None) -> BoxAccResult:
        """The metric over everything accumulated so far, or over the accumulated images ``rows``
        (indices in accumulation order, repeats allowed: a bootstrap resample or a subset)."""
        if self._num_images == 0:
            raise CamlibError("compute() called before accumulate(): no image to evaluate")
        self._correct = [np.concatenate(self._correct)]  # one array from now on: a bootstrap calls compute often
        correct = select_rows(self._correct[0], rows)
        box_acc = 100.0 * correct.sum(axis=0) / len(correct)
        best = box_acc.argmax(axis=1)
        max_box_acc = box_acc[np.arange(len(best)), best]
        return BoxAccResult(
            value=float(max_box_acc.mean()),
            max_box_acc=max_box_acc,
            best_thresholds=self.thresholds[best],
            box_acc=box_acc,
            thresholds=self.thresholds,
            iou_thresholds=self.iou_thresholds,
            num_images=len(correct),
        )


class MaxBoxAcc(_BoxAccuracy):
    """MaxBoxAcc: the largest region's box, correct at IoU >= ``iou_threshold``, best CAM threshold.

    ``rules``: ``"reference"`` (wsolevaluation's, the default) or ``"camlib"`` (module docstring).
    ``method``: ``"sweep"`` finds the regions of all thresholds in one pass per map (reference
    rules: once per distinct 8-bit cut-off; camlib rules: one merge tree), ``"loop"`` once per
    threshold; both give identical results.
    """

    def __init__(
        self,
        thresholds: Sequence[float] | np.ndarray | None = None,
        iou_threshold: float = 0.5,
        multi_contour: bool = False,
        rules: Rules = "reference",
        method: Method = "sweep",
    ):
        super().__init__(thresholds, (iou_threshold,), multi_contour, rules, method)


class MaxBoxAccV2(_BoxAccuracy):
    """MaxBoxAccV2: the best box over all regions, MaxBoxAcc averaged over ``iou_thresholds``.

    ``rules`` and ``method`` as in :class:`MaxBoxAcc`.
    """

    def __init__(
        self,
        thresholds: Sequence[float] | np.ndarray | None = None,
        iou_thresholds: Sequence[float] = IOU_THRESHOLDS,
        multi_contour: bool = True,
        rules: Rules = "reference",
        method: Method = "sweep",
    ):
        super().__init__(thresholds, iou_thresholds, multi_contour, rules, method)


class PxAP:
    """Pixel average precision: pixel counts per threshold summed over every accumulated map.

    Binned as the reference does: a score counts at every threshold ``<=`` it.
    """

    def __init__(self, thresholds: Sequence[float] | np.ndarray | None = None):
        self.thresholds = check_thresholds(PXAP_THRESHOLDS if thresholds is None else thresholds)
        self.reset()

    def reset(self) -> None:
        """Forget everything accumulated."""
        self._positives: list[np.ndarray] = []  # per image (K + 1,) counts by number of thresholds <= value
        self._negatives: list[np.ndarray] = []
        self._num_images = 0

    def accumulate(self, maps: np.ndarray, gt_masks: np.ndarray, ignore_masks: np.ndarray | None = None) -> None:
        """Add a batch.

        Args:
            maps: ``(N, H, W)`` float maps in [0, 1].
            gt_masks: boolean ``(N, H, W)``, True on the foreground.
            ignore_masks: optional boolean ``(N, H, W)``, True in ignore boxes (OpenImages); their
                background pixels are left out, their foreground pixels still count as positives.
        """
        maps = check_maps(maps)
        positive = _check_mask(gt_masks, maps.shape, "gt_masks")
        keep = np.ones_like(positive)
        if ignore_masks is not None:
            keep = ~(_check_mask(ignore_masks, maps.shape, "ignore_masks") & ~positive)
        level = np.searchsorted(self.thresholds, maps, side="right")
        bins = len(self.thresholds) + 1
        offset = np.arange(len(maps))[:, None, None] * bins + level  # (N, H, W): one bincount for the batch
        self._positives.append(np.bincount(offset[positive], minlength=len(maps) * bins).reshape(len(maps), bins))
        self._negatives.append(np.bincount(offset[~positive & keep], minlength=len(maps) * bins).reshape(len(maps), bins))
        self._num_images += len(maps)

    def compute(self, rows: np.ndarray | None = None) -> PxAPResult:
        """PxAP over everything accumulated so far, or over the accumulated images ``rows`` (indices in
        accumulation order, repeats allowed: a bootstrap resample or a subset)."""
        if self._num_images == 0:
            raise CamlibError("compute() called before accumulate(): no image to evaluate")
        self._positives, self._negatives = [np.concatenate(self._positives)], [np.concatenate(self._negatives)]
        positives = select_rows(self._positives[0], rows).sum(axis=0)
        negatives = select_rows(self._negatives[0], rows).sum(axis=0)
        num_positive = int(positives.sum())
        if num_positive == 0:
            raise CamlibError("no positive ground-truth pixel was accumulated: PxAP is undefined")
        tp = np.cumsum(positives[::-1])[::-1][1:]  # (K,) positives with map >= thresholds[k]
        fp = np.cumsum(negatives[::-1])[::-1][1:]
        predicted = tp + fp
        precision = np.divide(tp, predicted, out=np.full(len(tp), np.nan), where=predicted > 0)
        recall = tp / num_positive
        gain = recall - np.append(recall[1:], 0.0)  # recall gained by lowering the threshold to thresholds[k]
        value = 100.0 * float(np.sum(precision[predicted > 0] * gain[predicted > 0]))
        return PxAPResult(value=value, thresholds=self.thresholds, precision=precision, recall=recall)


def component_iou_curves(
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
    iou = box_iou(boxes[:, None, :], padded[image]).max(axis=1)
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
        arr = as_boxes(boxes, f"gt_boxes[{i}]")
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
