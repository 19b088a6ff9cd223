"""Generic localization: CAMs of an SVM trained on GAP features, their boxes scored against the largest object, and
chance boxes as the floor."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from camlib.methods.baselines import random_boxes
from camlib.cam import cam_boxes
from camlib.data.sets.localization_split import LocalizationSplit
from camlib.chapters.ch06_transfer.tasks import PhotoSet
from camlib.utils.errors import CamlibError
from camlib.metrics.boxes import hit_rate, paired_iou
from camlib.methods.probe import LinearProbe
from camlib.cam.box_rules import PAPER_THRESHOLD


@dataclass
class GenericLocalization:
    """CAMs of one SVM on test images. ``cams`` (N, h, w) of the predicted class, ``boxes`` (N, 4) from them,
    ``hits`` (N,) whether each box has IoU >= 0.5 with the largest object; accuracy and hit rates in percent."""

    accuracy: float
    hit_rates: dict[str, float]
    predictions: np.ndarray
    cams: torch.Tensor
    boxes: np.ndarray
    hits: np.ndarray


def generic_localization(probe: LinearProbe, pooled: torch.Tensor, maps: torch.Tensor,
                         split: LocalizationSplit | PhotoSet, threshold: float = PAPER_THRESHOLD) -> GenericLocalization:
    """Apply ``probe`` (an SVM on GAP features ``pooled (N, K)`` of ``split``'s images, whose conv maps are
    ``maps (N, K, h, w)``): classify each image, box the CAM of the predicted and of the labelled class
    (paper's rule: 20% of the maximum, largest component) and score the boxes against the ground truth."""
    if len(pooled) != len(split) or len(maps) != len(split):
        raise CamlibError(f"{len(pooled)} feature vectors and {len(maps)} maps for {len(split)} images")
    sizes = np.tile(split.images.shape[1:3], (len(split), 1))
    predictions = probe.predict(pooled)
    cams = probe.cams(maps, torch.stack([probe.rows(predictions), probe.rows(split.labels)], dim=1))
    boxes = cam_boxes(cams[:, 0], sizes, threshold)
    hits = paired_iou(boxes, split.boxes) >= 0.5
    hit_rates = {"CAM box (predicted class)": float(100.0 * hits.mean()),
                 "CAM box (labelled class)": hit_rate(cam_boxes(cams[:, 1], sizes, threshold), split.boxes)}
    accuracy = float(100.0 * np.mean(predictions == split.labels))
    return GenericLocalization(accuracy, hit_rates, predictions, cams[:, 0], boxes, hits)


def chance_hits(split: LocalizationSplit | PhotoSet, train_boxes: np.ndarray, train_size: tuple[int, int],
                draws: int = 100, seed: int = 0) -> dict[str, np.ndarray]:
    """Per image ``(N,)``, the share of ``draws`` chance boxes (:func:`camlib.methods.baselines.random_boxes`) with IoU >= 0.5:
    uniformly random boxes, and boxes of a random training box's relative size (``train_boxes`` on ``(H, W)``
    images) at a random place."""
    sizes = np.tile(split.images.shape[1:3], (len(split), 1))
    relative = (train_boxes[:, 2:] - train_boxes[:, :2]) / np.asarray(train_size[::-1], dtype=np.float64)
    return {"chance: random box": (paired_iou(random_boxes(sizes, draws, seed), split.boxes) >= 0.5).mean(axis=1),
            "chance: box of a training size, random place":
                (paired_iou(random_boxes(sizes, draws, seed, relative), split.boxes) >= 0.5).mean(axis=1)}
