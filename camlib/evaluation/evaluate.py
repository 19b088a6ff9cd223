"""One pass over a test set gives every number of Tables 1-3 and the modern metrics for one method.

Per image: the classification top-1/top-5 hit (Table 1); boxes of the top-5 classes' maps by the
paper's 20% rule and by the released code's multi-threshold rule (box1), scored by the ILSVRC rule
(Table 2); the five heuristic guesses (Table 3); and, from the ground-truth class's map, the
GT-known accuracy at every threshold, MaxBoxAccV2 and (with masks) PxAP. The ILSVRC rule counts a guess
of another class than the label as wrong whatever its box, so the released rule, which costs a
distance transform per threshold and map, boxes the label's maps only.

Each rule sees the maps as its authors did: the paper thresholds a fraction of the map's maximum
(:func:`fraction_of_max`, also the scale of the threshold curve); the released code and
wsolevaluation (MaxBoxAccV2, PxAP) min-max normalise the map first.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Iterator

import numpy as np
import torch

from camlib.cam.box_rules import (HEURISTIC_RANKS, PAPER_THRESHOLD, RELEASED_THRESHOLD, boxes_from_cams, guesses_from_boxes,
                                  released_code_boxes)
from camlib.cam import normalize_maps
from camlib.utils.errors import CamlibError
from camlib.evaluation.batches import EvalBatch
from camlib.methods.map_methods import MapMethod
from camlib.metrics import LocalizationEvaluator, LocalizationResult
from camlib.metrics.bootstrap import select_rows
from camlib.metrics.boxes import box_area
from camlib.metrics.wsol import BoxAccResult, MaxBoxAcc, MaxBoxAccV2, PxAP, PxAPResult
from camlib.utils.devices import check_device
from camlib.utils.progress import progress

#: Thresholds of the GT-known sensitivity curve: 0.01 ... 0.99 and the released code's 20/255.
SWEEP_THRESHOLDS = np.unique(np.append(np.round(np.arange(1, 100) / 100, 2), RELEASED_THRESHOLD))
#: Box thresholds a method's own is chosen from on a development split (fractions of the map's maximum).
DEV_THRESHOLDS = np.round(np.arange(1, 20) * 0.05, 2)


def fraction_of_max(maps: np.ndarray) -> np.ndarray:
    """Maps ``(..., H, W)`` divided by their maximum and clipped at 0, so that a threshold ``t`` keeps
    the pixels >= ``t`` x max (the paper's rule). A map without a positive value becomes all ones:
    its box is the whole image, as :func:`camlib.cam.box_rules.boxes_from_cams` gives."""
    peaks = maps.max(axis=(-2, -1), keepdims=True)
    scaled = np.clip(maps / np.where(peaks > 0, peaks, 1.0), 0.0, 1.0)
    return np.where(peaks > 0, scaled, 1.0)


def min_max(maps: np.ndarray) -> np.ndarray:
    """Maps ``(..., H, W)`` scaled to [0, 1] by their own range (a constant map becomes zeros)."""
    return normalize_maps(torch.from_numpy(np.ascontiguousarray(maps, dtype=np.float32))).numpy()


@dataclass(frozen=True)
class GtKnownScores:
    """Scores of the ground-truth class's maps (the class is given, only the box is judged).

    ``curve``: GT-known accuracy (IoU >= 0.5, largest component) at each of :data:`SWEEP_THRESHOLDS`
    as fractions of the map's maximum (``curve.box_acc[0]``; ``curve.value`` is the best of them).
    ``max_box_acc_v2``: MaxBoxAccV2; ``pxap``: PxAP, ``None`` without ground-truth masks (both on
    min-max normalised maps, as wsolevaluation computes them).
    """

    curve: BoxAccResult
    max_box_acc_v2: BoxAccResult
    pxap: PxAPResult | None

    def accuracy_at(self, threshold: float) -> float:
        """GT-known accuracy (%) at one of :data:`SWEEP_THRESHOLDS`."""
        hits = np.flatnonzero(np.isclose(self.curve.thresholds, threshold))
        if hits.size == 0:
            raise CamlibError(f"threshold {threshold} is not on the sweep; use one of SWEEP_THRESHOLDS")
        return float(self.curve.box_acc[0, hits[0]])


class GtKnownEvaluator:
    """GT-known scores of the ground-truth class's maps, with the protocol of :mod:`camlib.metrics`
    (``accumulate`` per batch, ``compute``, ``reset``).

    The threshold curve uses the paper's rule (fractions of the map's maximum, camlib's component
    rules, so that its 20% point is the paper's box); MaxBoxAccV2 and PxAP use the reference's rules
    on min-max normalised maps.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget everything accumulated."""
        self.curve = MaxBoxAcc(thresholds=SWEEP_THRESHOLDS, rules="camlib")
        self.v2 = MaxBoxAccV2()
        self.pxap = PxAP()
        self.with_masks: bool | None = None

    def accumulate(self, maps: np.ndarray, boxes: list[np.ndarray], masks: np.ndarray | None) -> None:
        """Add a batch: unnormalised maps ``(B, H, W)``, per image ground-truth boxes ``(M_i, 4)``
        ``[x0, y0, x1, y1]`` and optionally boolean masks ``(B, H, W)`` (every batch or none)."""
        if self.with_masks is not None and self.with_masks != (masks is not None):
            raise CamlibError("either every batch or none must carry ground-truth masks")
        maps = np.asarray(maps)
        if maps.ndim != 3 or not np.issubdtype(maps.dtype, np.floating):
            raise CamlibError(f"maps must be a float (B, H, W) array, got {maps.dtype} {maps.shape}")
        if not np.isfinite(maps).all():  # fraction_of_max would turn them into whole-image boxes and score them
            raise CamlibError("maps contain NaN or infinite values: the method gave invalid maps; check its model and inputs")
        self.with_masks = masks is not None
        self.curve.accumulate(fraction_of_max(maps), boxes)
        ranged = min_max(maps)
        self.v2.accumulate(ranged, boxes)
        if masks is not None:
            self.pxap.accumulate(ranged, masks)

    def compute(self, rows: np.ndarray | None = None) -> GtKnownScores:
        """The scores over everything accumulated so far, or over the accumulated images ``rows``."""
        return GtKnownScores(self.curve.compute(rows), self.v2.compute(rows), self.pxap.compute(rows) if self.with_masks else None)


@dataclass(frozen=True)
class Evaluation:
    """Every number of one method on one test set (errors and accuracies in percent).

    ``paper_rule``/``released_rule``: ILSVRC localization errors of the top-k classes' boxes by the
    paper's 20% rule / the released code's box1 (their ``gt_known_accuracy`` uses the true class);
    ``heuristics``: Table 3's five guesses. ``released_rule`` and ``heuristics`` are ``None`` when
    not asked for, and ``heuristics`` also with fewer than 3 classes. ``box_area``: the mean area (%
    of the image) of the ground-truth class's box by each rule (``"paper rule"``, ``"released
    rule"`` when asked for) and of the ground-truth box (``"ground truth"``, the first of each image).
    """

    method: str
    count: int
    top1_error: float
    top5_error: float
    paper_rule: LocalizationResult
    released_rule: LocalizationResult | None
    heuristics: LocalizationResult | None
    gt_known: GtKnownScores
    box_area: dict[str, float]
    per_image: "PerImage | None" = field(default=None, repr=False, compare=False)
    record_rows: np.ndarray | None = field(default=None, repr=False, compare=False)  # this subset's images in per_image

    def subset(self, rows: np.ndarray) -> "Evaluation":
        """The same evaluation on its images ``rows`` (indices in this evaluation's order, repeats
        allowed): a size bin, or a bootstrap resample (:func:`camlib.metrics.bootstrap_intervals`).
        A subset's subset indexes the subset."""
        if self.per_image is None:
            raise CamlibError(f"the evaluation of {self.method} kept no per-image record; re-run evaluate()")
        rows = select_rows(np.arange(self.count), rows)
        return self.per_image.evaluation(self.method, rows if self.record_rows is None else self.record_rows[rows])


@dataclass
class PerImage:
    """What :func:`evaluate` accumulated, image by image, so that any subset can be scored again.

    ``hits`` ``(N, 2)``: top-1 / top-k classification hit; ``areas``: rule -> ``(N,)`` box area (% of
    the image); the evaluators hold the rest.
    """

    hits: np.ndarray
    areas: dict[str, np.ndarray]
    paper: LocalizationEvaluator
    released: LocalizationEvaluator | None
    heuristics: LocalizationEvaluator | None
    gt_known: GtKnownEvaluator

    def evaluation(self, method: str, rows: np.ndarray | None = None) -> "Evaluation":
        """The :class:`Evaluation` of all images, or of ``rows``."""
        hits = select_rows(self.hits, rows)
        top1, topk = 100.0 * (1.0 - hits.mean(axis=0))
        return Evaluation(method, len(hits), float(top1), float(topk), self.paper.compute(rows),
                          None if self.released is None else self.released.compute(rows),
                          None if self.heuristics is None else self.heuristics.compute(rows),
                          self.gt_known.compute(rows),
                          {rule: float(select_rows(area, rows).mean()) for rule, area in self.areas.items()}, self,
                          None if rows is None else np.asarray(rows))


def _area_percent(boxes: np.ndarray, height: int, width: int) -> np.ndarray:
    """Areas of boxes ``(..., 4)`` in percent of a ``height x width`` image."""
    return 100.0 * box_area(boxes) / (height * width)


def _released_boxes(maps: np.ndarray, classes: np.ndarray, labels: np.ndarray) -> list[list[np.ndarray]]:
    """The released rule's boxes ``(M, 4)`` of maps ``(B, K, H, W)`` of classes ``(B, K)``, as ``[image][map]``; each
    image's last map is its label's (``labels`` ``(B,)``). A guess of another class is wrong whatever its box (the ILSVRC
    rule), so such a map is not boxed and gets the label's boxes; a map of the label equal to the last is boxed once."""
    found: list[list[np.ndarray]] = []
    for image_maps, image_classes, label in zip(maps, classes, labels):
        truth = released_code_boxes(image_maps[-1])
        found.append([truth if cls != label or np.array_equal(cam, image_maps[-1]) else released_code_boxes(cam)
                      for cam, cls in zip(image_maps[:-1], image_classes[:-1])] + [truth])
    return found


def evaluate(
    method: MapMethod,
    batches: Iterable[EvalBatch],
    num_classes: int,
    device: torch.device | str | None = None,
    topk: int = 5,
    released: bool = True,
    desc: str | None = None,
    threshold: float = PAPER_THRESHOLD,
    true_class_only: bool = False,
) -> Evaluation:
    """Evaluate a classifying map ``method`` (e.g. :class:`camlib.methods.map_methods.CAMMaps`) over ``batches``;
    images go to ``device`` (default: where the method's model is).

    ``topk`` (5 in the paper) is capped at ``num_classes``. ``released=False`` skips the released
    code's rule and the heuristics built on it (they are CAM post-processing, and slow on noisy
    maps such as gradient saliency, which have hundreds of contours). ``desc`` shows a progress bar.
    ``threshold`` is the paper rule's box threshold (a fraction of the map's maximum): the paper's 20% by
    default, or a method's own, chosen on a development split.

    ``true_class_only=True`` maps the labelled class alone: each image has one label, so a top-k guess of another
    class is wrong whatever its box and the top-k localization errors are the same at 1 map per image instead of
    k + 1 (for methods that pay per class, such as CAM's gradient successors); no heuristics (they need the top-3
    maps).
    """
    if num_classes < 2:
        raise CamlibError(f"need at least 2 classes, got num_classes={num_classes}")
    k = min(topk, num_classes)
    device = check_device(device) if device is not None else _device_of(method)
    paper = LocalizationEvaluator()
    released_rule = LocalizationEvaluator() if released else None
    heuristics = LocalizationEvaluator() if released and k >= 3 and not true_class_only else None
    gt_known = GtKnownEvaluator()
    hits: list[np.ndarray] = []
    areas: dict[str, list[np.ndarray]] = {"paper rule": [], **({"released rule": []} if released else {}), "ground truth": []}
    with method:
        for batch, images, logits in _classified(method, batches, device, desc):
            top_classes = logits.topk(k, dim=1).indices
            truth = batch.labels[:, None].to(top_classes.device)
            classes = truth if true_class_only else torch.cat([top_classes, truth], dim=1)
            maps = method(images, classes).float().cpu().numpy()
            top = top_classes.cpu().numpy()
            top_maps, gt_maps = maps[:, :-1], maps[:, -1]
            labels = batch.labels.numpy()
            hits.append(np.stack([top[:, 0] == labels, (top == labels[:, None]).any(axis=1)], axis=1))
            height, width = gt_maps.shape[-2:]
            paper_gt_boxes = boxes_from_cams(fraction_of_max(gt_maps), threshold)
            paper_top = (np.repeat(paper_gt_boxes[:, None], k, axis=1) if true_class_only
                         else boxes_from_cams(fraction_of_max(top_maps), threshold))
            paper.accumulate(top, paper_top, labels, batch.boxes, paper_gt_boxes)
            areas["paper rule"].append(_area_percent(paper_gt_boxes, height, width))
            areas["ground truth"].append(np.array([_area_percent(np.asarray(b[0]), height, width) for b in batch.boxes]))
            if released_rule is not None:
                released = _released_boxes(maps, classes.cpu().numpy(), labels)
                box1 = np.array([[boxes[0] for boxes in image] for image in released])  # (B, K, 4)
                released_gt_boxes = box1[:, -1]
                released_top = np.repeat(released_gt_boxes[:, None], k, axis=1) if true_class_only else box1[:, :-1]
                released_rule.accumulate(top, released_top, labels, batch.boxes, released_gt_boxes)
                areas["released rule"].append(_area_percent(released_gt_boxes, height, width))
            if heuristics is not None:
                guesses = np.stack([guesses_from_boxes(image[:3]) for image in released])
                heuristics.accumulate(top[:, list(HEURISTIC_RANKS)], guesses, labels, batch.boxes)
            gt_known.accumulate(gt_maps, batch.boxes, batch.masks)
    if not hits:
        raise CamlibError("no batch to evaluate: the test set is empty")
    record = PerImage(np.concatenate(hits), {rule: np.concatenate(a) for rule, a in areas.items()}, paper, released_rule,
                      heuristics, gt_known)
    return record.evaluation(method.name)


def _classified(method: MapMethod, batches: Iterable[EvalBatch], device: torch.device | str,
                desc: str | None) -> Iterator[tuple[EvalBatch, torch.Tensor, torch.Tensor]]:
    """``(batch, images on device, logits (B, N))`` per batch of a classifying ``method`` (progress bar with ``desc``)."""
    for batch in progress(batches, desc=desc, disable=desc is None):
        images = batch.images.to(device)
        logits = method.predict(images)
        if logits is None:
            raise CamlibError(f"{method.name} does not classify; score its maps with evaluate_gt_known")
        yield batch, images, logits


def _device_of(method: MapMethod) -> torch.device:
    model = getattr(method, "model", None)
    return next(model.parameters(), torch.empty(0)).device if model is not None else torch.device("cpu")


def evaluate_gt_known(method: MapMethod, batches: Iterable[EvalBatch], device: torch.device | str | None = None) -> GtKnownScores:
    """Score the ground-truth class's maps of any ``method`` (CAM, backprop, the centre baseline,
    spectral residual...): the class is given, only the localization is judged."""
    return gt_known_record(method, batches, device).compute()


def gt_known_record(method: MapMethod, batches: Iterable[EvalBatch], device: torch.device | str | None = None) -> GtKnownEvaluator:
    """:func:`evaluate_gt_known`'s evaluator, which can still score any subset of the images (``compute(rows)``)."""
    device = check_device(device) if device is not None else _device_of(method)
    scores = GtKnownEvaluator()
    with method:
        for batch in batches:
            maps = method(batch.images.to(device), batch.labels[:, None])
            scores.accumulate(maps[:, 0].float().cpu().numpy(), batch.boxes, batch.masks)
    return scores


@dataclass(frozen=True)
class ThresholdCurve:
    """Top-1 localization by the paper's rule at every threshold: ``hits`` ``(N, K)`` bool, image n's
    top-1 class is right and its box at ``thresholds[k]`` x the map's maximum has IoU >= 0.5."""

    thresholds: np.ndarray
    hits: np.ndarray

    def accuracy(self, rows: np.ndarray | None = None) -> np.ndarray:
        """``(K,)`` top-1 localization accuracy (%) at each threshold, over all images or ``rows``."""
        return 100.0 * select_rows(self.hits, rows).mean(axis=0)

    def best(self) -> tuple[float, float]:
        """``(threshold, accuracy)`` of the best threshold (the lowest one if tied)."""
        accuracy = self.accuracy()
        k = int(np.argmax(accuracy))
        return float(self.thresholds[k]), float(accuracy[k])


def top1_localization_curve(method: MapMethod, batches: Iterable[EvalBatch], thresholds: np.ndarray = SWEEP_THRESHOLDS,
                            device: torch.device | str | None = None, desc: str | None = None) -> ThresholdCurve:
    """The top-1 localization hit of every image at every box threshold, from one pass of a classifying
    ``method``: how a threshold is chosen on a development split."""
    device = check_device(device) if device is not None else _device_of(method)
    boxes = MaxBoxAcc(thresholds=thresholds, rules="camlib")
    right_class = []
    with method:
        for batch, images, logits in _classified(method, batches, device, desc):
            top1 = logits.argmax(dim=1)
            maps = method(images, top1[:, None])[:, 0].float().cpu().numpy()
            right_class.append(top1.cpu().numpy() == batch.labels.numpy())
            boxes.accumulate(fraction_of_max(maps), batch.boxes)
    if not right_class:
        raise CamlibError("no batch to evaluate: the set is empty")
    return ThresholdCurve(boxes.thresholds, boxes.per_image()[:, 0] & np.concatenate(right_class)[:, None])
