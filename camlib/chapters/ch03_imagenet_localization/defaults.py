"""Choosing ``camlib cam``'s defaults on the development split of the composites.

The dev split holds other stamps than the test split (the split is by stamp), and the real photos
are never looked at while choosing. The choice, in order: the network and box threshold with the
best top-1 localization accuracy (the paper's rule at each of :data:`DEV_THRESHOLDS`), then flip
averaging for that network, which doubles the cost of every image, only if its best accuracy beats the
plain one by more than the noise margin of :func:`camlib.book.claims.margin`. Ties go to the first network
of :data:`camlib.chapters.ch03_imagenet_localization.benchmark.NETWORKS` (the cheapest) and the lowest threshold.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Hashable, TypeVar

import numpy as np
import pandas as pd

from camlib.chapters.ch03_imagenet_localization.real_photo_eval import Setting
from camlib.book.claims import margin
from camlib.data.generators.composites import CompositeSplit
from camlib.evaluation.batches import composite_batches
from camlib.evaluation.evaluate import DEV_THRESHOLDS, ThresholdCurve, top1_localization_curve
from camlib.methods.map_methods import CAMMaps, FlipAveragedMaps
from camlib.models.pretrained import PretrainedClassifier

Key = TypeVar("Key", bound=Hashable)

def dev_curve(classifier: PretrainedClassifier, split: CompositeSplit, rows: np.ndarray, flip: bool = False,
              batch_size: int = 25) -> ThresholdCurve:
    """Top-1 localization of ``classifier``'s CAMs (flip-averaged if ``flip``) at every dev threshold."""
    batches = composite_batches(split, rows, classifier.crop, classifier.mean, classifier.std, batch_size)
    cam = CAMMaps(classifier.model)
    return top1_localization_curve(FlipAveragedMaps(cam) if flip else cam, batches, DEV_THRESHOLDS)


@dataclass(frozen=True)
class DevChoice:
    """The curves the choice was made on and the chosen :class:`Setting`."""

    curves: dict[str, ThresholdCurve]
    flip_curve: ThresholdCurve
    setting: Setting

    def table(self) -> pd.DataFrame:
        """Best dev threshold and accuracy of each network (and of the chosen one with flips)."""
        rows = {name: curve.best() for name, curve in self.curves.items()}
        rows[f"{self.setting.model} + flip"] = self.flip_curve.best()
        return pd.DataFrame([(f"{t:.2f}", a) for t, a in rows.values()], index=list(rows),
                            columns=["best threshold", "top-1 loc acc (dev)"])


def choose_network_and_threshold(curves: dict[Key, ThresholdCurve]) -> tuple[Key, float]:
    """The (curve, threshold) with the best dev accuracy, a curve per network (or per backprop blur); ties to the
    first curve, lowest threshold."""
    best = max(curves, key=lambda name: curves[name].best()[1])  # max keeps the first of equals
    return best, curves[best].best()[0]


def choose_flip(plain: ThresholdCurve, flipped: ThresholdCurve) -> tuple[bool, float]:
    """Flip averaging and its threshold if its best dev accuracy beats the plain curve's best by more than
    the noise margin (it costs a second forward pass); else no flip and the plain curve's threshold."""
    (_, plain_best), (flip_threshold, flip_best) = plain.best(), flipped.best()
    if flip_best - plain_best > margin(flip_best, plain_best, len(plain.hits)):
        return True, flip_threshold
    return False, plain.best()[0]
