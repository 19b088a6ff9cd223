"""ILSVRC localization error (Tables 2 and 3) and GT-known localization accuracy, as an evaluator."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from camlib.utils.errors import CamlibError
from camlib.metrics.bootstrap import select_rows
from camlib.metrics.boxes import as_boxes, iou


@dataclass
class LocalizationResult:
    """Errors in percent; ``gt_known_accuracy`` is ``None`` when no GT-known boxes were given."""

    top1_error: float
    top5_error: float
    gt_known_accuracy: float | None
    count: int


class LocalizationEvaluator:
    """The ILSVRC rule: a guess (class, box) is right if the class is a ground-truth label of the
    image AND the box has IoU >= ``iou_threshold`` with any ground-truth box of that class.
    Top-k error takes the best of the first k guesses.

    Call :meth:`accumulate` per batch, then :meth:`compute`; :meth:`reset` starts over.
    """

    def __init__(self, iou_threshold: float = 0.5):
        if not 0 < iou_threshold <= 1:
            raise CamlibError(f"iou_threshold must lie in (0, 1], got {iou_threshold}")
        self.iou_threshold = iou_threshold
        self.reset()

    def reset(self) -> None:
        """Forget everything accumulated."""
        self._hits: list[np.ndarray] = []
        self._known: list[np.ndarray] = []

    def accumulate(
        self,
        pred_classes: np.ndarray,
        pred_boxes: np.ndarray,
        gt_labels: Sequence[np.ndarray] | np.ndarray,
        gt_boxes: Sequence[np.ndarray],
        gt_known_boxes: np.ndarray | None = None,
    ) -> None:
        """Score a batch.

        Args:
            pred_classes: ``(N, G)`` class of each guess, best first (G >= 1; 5 for top-5).
            pred_boxes: ``(N, G, 4)`` box of each guess.
            gt_labels: per image, the class of each GT box ``(M_i,)`` (or one label per image ``(N,)``).
            gt_boxes: per image, GT boxes ``(M_i, 4)``.
            gt_known_boxes: optional ``(N, 4)`` box predicted from the GT class's CAM.
        """
        pred_classes = np.asarray(pred_classes)
        pred_boxes = as_boxes(pred_boxes, "pred_boxes")
        n = len(gt_boxes)
        if pred_classes.ndim != 2 or pred_boxes.shape != (*pred_classes.shape, 4):
            raise CamlibError(f"pred_classes must be (N, G) and pred_boxes (N, G, 4); got {pred_classes.shape}, {pred_boxes.shape}")
        if pred_classes.shape[0] != n or len(gt_labels) != n:
            raise CamlibError(f"batch sizes differ: {pred_classes.shape[0]} predictions, {len(gt_labels)} labels, {n} GT box sets")
        hits = np.zeros(pred_classes.shape, dtype=bool)
        known = np.zeros(n, dtype=bool)
        for i in range(n):
            boxes = as_boxes(gt_boxes[i], f"gt_boxes[{i}]")
            if boxes.size % 4:
                raise CamlibError(f"gt_boxes[{i}] must be (M, 4) boxes [x0, y0, x1, y1], got shape {boxes.shape}")
            boxes = boxes.reshape(-1, 4)
            if len(boxes) == 0:
                raise CamlibError(f"image {i} of the batch has no ground-truth box")
            labels = np.asarray(gt_labels[i]).reshape(-1)
            if len(labels) not in (1, len(boxes)):
                raise CamlibError(f"image {i} has {len(labels)} labels for {len(boxes)} ground-truth boxes; give one label per box, or one for all")
            labels = np.broadcast_to(labels, (len(boxes),))
            overlaps = iou(pred_boxes[i], boxes)  # (G, M)
            same_class = pred_classes[i][:, None] == labels[None, :]
            hits[i] = np.any(same_class & (overlaps >= self.iou_threshold), axis=1)
            if gt_known_boxes is not None:
                known[i] = bool(np.any(iou(gt_known_boxes[i], boxes)[0] >= self.iou_threshold))
        self._hits.append(hits)
        if gt_known_boxes is not None:
            self._known.append(known)

    def compute(self, rows: np.ndarray | None = None) -> LocalizationResult:
        """Top-1/top-5 localization error and GT-known accuracy over everything accumulated, or over
        the accumulated images ``rows`` (indices in accumulation order, repeats allowed: a bootstrap
        resample or a subset)."""
        if not self._hits:
            raise CamlibError("nothing accumulated: call accumulate() with at least one batch first")
        self._hits = [np.concatenate(self._hits)]  # one array from now on: a bootstrap calls compute often
        hits = select_rows(self._hits[0], rows)
        top1 = 100.0 * (1.0 - hits[:, :1].any(axis=1).mean())
        top5 = 100.0 * (1.0 - hits[:, :5].any(axis=1).mean())
        if self._known:
            self._known = [np.concatenate(self._known)]
        known = 100.0 * select_rows(self._known[0], rows).mean() if self._known else None
        return LocalizationResult(float(top1), float(top5), None if known is None else float(known), len(hits))

