"""The real-photo test set scored through ``camlib cam``'s own code path (:func:`camlib.app.localize.localize_batch`).

Each photo is localized whole (shorter side resized to the network's input, no crop), top-5 classes
with one box each, and judged by the ILSVRC rule against every annotated box of the photo
(:class:`camlib.metrics.LocalizationEvaluator`): a guess is right when its class is annotated on the
photo and its box overlaps a box of that class with IoU >= 0.5.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from camlib.data.sets.real_photos import RealPhoto
from camlib.app.localize import Localization, localize_batch
from camlib.metrics import LocalizationEvaluator
from camlib.models.pretrained import PretrainedClassifier


@dataclass(frozen=True)
class Setting:
    """One way to run ``camlib cam``: the network, the box threshold and flip averaging."""

    model: str
    threshold: float
    flip: bool = False

    def __str__(self) -> str:
        return f"{self.model}, threshold {self.threshold:.2f}{', flip' if self.flip else ''}"


@dataclass
class PhotoScores:
    """Per photo ``(P,)``: top-1 / top-5 classification hit (any annotated class), and the evaluator
    holding top-1 / top-5 localization hits; ``localizations`` for figures."""

    classification: np.ndarray
    localization: LocalizationEvaluator
    localizations: list[Localization]

    def rates(self, rows: np.ndarray | None = None) -> dict[str, float]:
        """Accuracies (%) over all photos or ``rows``: classification and localization, top-1 and top-5."""
        chosen = self.classification if rows is None else self.classification[rows]
        loc = self.localization.compute(rows)
        return {"top-1 cls acc": 100.0 * chosen[:, 0].mean(), "top-5 cls acc": 100.0 * chosen[:, 1].mean(),
                "top-1 loc acc": 100.0 - loc.top1_error, "top-5 loc acc": 100.0 - loc.top5_error}


def score_photos(classifier: PretrainedClassifier, photos: list[RealPhoto], threshold: float, flip: bool = False,
                 batch_size: int = 8) -> PhotoScores:
    """Localize every photo with ``classifier`` (top 5) and score it against its boxes."""
    found: list[Localization] = []
    for start in range(0, len(photos), batch_size):
        found += localize_batch(classifier, [p.path for p in photos[start:start + batch_size]], 5, threshold, flip)
    classes = np.array([[p.class_index for p in loc.predictions] for loc in found])  # (P, 5)
    boxes = np.array([[p.box for p in loc.predictions] for loc in found], dtype=np.float64)  # (P, 5, 4)
    hits = np.array([[classes[i, 0] in photo.labels, np.isin(classes[i], photo.labels).any()] for i, photo in enumerate(photos)])
    evaluator = LocalizationEvaluator()
    evaluator.accumulate(classes, boxes, [p.labels for p in photos], [p.boxes for p in photos])
    return PhotoScores(hits, evaluator, found)
