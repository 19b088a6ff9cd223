"""A fair box rule for backprop saliency, chosen on the development split as CAM's defaults are.

Gradient saliency is a scatter of single pixels: the paper's rule (a box around the largest region above 20%
of the map's maximum) keeps a sliver of the image, so "CAM beats backprop" could not fail at that rule. Here
backprop gets what a careful user would give it: a Gaussian blur of width ``sigma`` (a fraction of the image
side, 0 for none) and its own box threshold, the pair with the best top-1 localization accuracy on dev
images (ties to the least blur and the lowest threshold). The test images are never looked at.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from camlib.chapters.ch03_imagenet_localization.defaults import choose_network_and_threshold
from camlib.data.generators.composites import CompositeSplit
from camlib.evaluation.batches import composite_batches
from camlib.evaluation.evaluate import DEV_THRESHOLDS, ThresholdCurve, top1_localization_curve
from camlib.methods.map_methods import BackpropMaps, RecordedMaps, SmoothedMaps
from camlib.models.pretrained import PretrainedClassifier

#: Blur widths tried on dev (standard deviation as a fraction of the image side).
BACKPROP_SIGMAS = (0.0, 0.01, 0.02, 0.04, 0.08)


@dataclass(frozen=True)
class BackpropRule:
    """The chosen blur ``sigma`` and box ``threshold``, and the dev curve of every blur tried."""

    sigma: float
    threshold: float
    curves: dict[float, ThresholdCurve]

    def table(self) -> pd.DataFrame:
        """Best dev threshold and top-1 localization accuracy for each blur width."""
        rows = {f"{sigma:g}": curve.best() for sigma, curve in self.curves.items()}
        return pd.DataFrame([(f"{t:.2f}", a) for t, a in rows.values()], index=pd.Index(list(rows), name="blur sigma"),
                            columns=["best threshold", "top-1 loc acc (dev)"])


def choose_backprop_rule(classifier: PretrainedClassifier, split: CompositeSplit, rows: np.ndarray,
                         sigmas: tuple[float, ...] = BACKPROP_SIGMAS, batch_size: int = 25) -> BackpropRule:
    """The (blur, threshold) pair with the best top-1 localization of ``classifier``'s gradient saliency on the
    dev composites ``rows``, every threshold of :data:`DEV_THRESHOLDS` tried for every blur of ``sigmas``."""
    curves = {}
    with RecordedMaps(BackpropMaps(classifier.model)) as saliency:  # one backward pass per image, blurred five ways
        for sigma in sigmas:
            batches = composite_batches(split, rows, classifier.crop, classifier.mean, classifier.std, batch_size)
            curves[sigma] = top1_localization_curve(SmoothedMaps(saliency, sigma), batches, DEV_THRESHOLDS)
    sigma, threshold = choose_network_and_threshold(curves)  # the same rule as CAM's: ties to the first (least blur)
    return BackpropRule(sigma, threshold, curves)
