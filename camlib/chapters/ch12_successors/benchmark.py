"""CAM and its successors scored on chapter 3's composites, each method the same way.

For each network and method: the box threshold is chosen on dev composites by the rule that chooses CAM's in
chapter 3 (best top-1 localization over :data:`DEV_THRESHOLDS`, ties to the lowest); then the test composites' maps
of the labelled class are computed **once** (:class:`RecordedMaps`) and scored under the paper's 20% and the dev
threshold (top-1/top-5 localization, GT-known accuracy, MaxBoxAccV2, PxAP), by the pointing game and by the
faithfulness of :mod:`camlib.evaluation.faithfulness`. Only the labelled class is mapped
(``evaluate(..., true_class_only=True)``: the same localization errors with one map per image instead of the top 5
classes' and the true one's), so a method that pays per class pays once. The wall time of the first pass (maps and
scoring, the scoring the same for every method) is the method's cost.
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np
import torch

from camlib.data.generators.composites import CompositeSplit
from camlib.evaluation.batches import composite_batches
from camlib.evaluation.evaluate import DEV_THRESHOLDS, Evaluation, ThresholdCurve, evaluate, top1_localization_curve
from camlib.evaluation.faithfulness import ConfidenceChange, confidence_change
from camlib.evaluation.pointing import pointing_hits
from camlib.methods.map_methods import CAMMaps, MapMethod, RecordedMaps
from camlib.methods.successors import SuccessorMaps, hookable_copy
from camlib.models.pretrained import PretrainedClassifier
from camlib.utils.errors import CamlibError

#: The methods of the chapter's table, CAM first, in the peers' convention like the others (Score-CAM is scored apart:
#: hundreds of forward passes per map).
METHODS = ("cam", "gradcam", "gradcam++", "xgradcam", "layercam", "eigencam")
#: CAM's raw map, as the paper's box rule and wsolevaluation score it: scored beside the others to show what the
#: convention alone changes.
RAW_CAM = "cam-raw"
#: Passes through the network per image and class that each method's design needs (channels K of the mapped layer).
PASSES = {"cam": "1 forward (every class)", RAW_CAM: "1 forward (every class)", "gradcam": "1 forward + 1 backward",
          "gradcam++": "1 forward + 1 backward", "xgradcam": "1 forward + 1 backward", "layercam": "1 forward + 1 backward",
          "eigencam": "1 forward + an SVD (class-agnostic)", "scorecam": "1 + K forwards"}


#: Where the successors look, by architecture: the last convolutional features, where pytorch-grad-cam's users hook
#: them. On EfficientNet-Lite that is CAM's own layer (the input of the global pooling); SqueezeNet's CAM is its class
#: maps (the 1x1 class convolution's output), where every gradient method would be CAM again (the gradient of a class
#: score is 1/hw on its own channel and 0 on the others), so they look at the 512 features below it.
TARGET_LAYERS = {"SqueezeNet": "features"}


def map_method(classifier: PretrainedClassifier, name: str, batch_size: int = 64) -> MapMethod:
    """CAM (:class:`CAMMaps`: ``"cam"`` in the peers' convention, ReLU per cell and min-max, as the successors' maps
    come; :data:`RAW_CAM` raw) or one of its successors (:class:`SuccessorMaps`, on :data:`TARGET_LAYERS`) on
    ``classifier``'s model."""
    if name in ("cam", RAW_CAM):
        return CAMMaps(classifier.model, peers=name == "cam")
    return SuccessorMaps(classifier.model, name, TARGET_LAYERS.get(type(classifier.model).__name__), batch_size)


@contextmanager
def mapped_features(classifier: PretrainedClassifier) -> Iterator[Callable[[torch.Tensor], torch.Tensor]]:
    """A function from normalised images ``(B, 3, H, W)`` to the features ``(B, K, h, w)`` the successors map on
    ``classifier``'s network (:data:`TARGET_LAYERS`), valid inside the ``with`` block: one hooked copy of the network
    serves every batch, and its hook is removed on leaving."""
    twin, layer = hookable_copy(classifier.model, TARGET_LAYERS.get(type(classifier.model).__name__))
    found: list[torch.Tensor] = []
    handle = layer.register_forward_hook(lambda module, inputs, output: found.append(output))

    def features(images: torch.Tensor) -> torch.Tensor:
        found.clear()
        with torch.no_grad():
            twin(images)
        return found[0]

    try:
        yield features
    finally:
        handle.remove()


def dev_threshold(classifier: PretrainedClassifier, name: str, split: CompositeSplit, rows: np.ndarray,
                  batch_size: int = 25) -> ThresholdCurve:
    """Top-1 localization of method ``name`` on the dev composites ``rows`` at every :data:`DEV_THRESHOLDS`
    (``.best()`` gives the threshold the chapter uses)."""
    batches = composite_batches(split, rows, classifier.crop, classifier.mean, classifier.std, batch_size)
    return top1_localization_curve(map_method(classifier, name), batches, DEV_THRESHOLDS)


@dataclass(frozen=True)
class MethodScores:
    """One method on one network's test composites: ``at_paper`` / ``at_dev`` the evaluations at 20% and at the dev
    ``threshold``; ``pointing`` ``(N,)`` whether the labelled class's peak lies on the object; ``faithfulness`` the
    confidence change of that class; ``seconds`` the wall time per image of the maps and the first scoring."""

    method: str
    threshold: float
    at_paper: Evaluation
    at_dev: Evaluation
    pointing: np.ndarray
    faithfulness: ConfidenceChange
    seconds: float

    def subset(self, rows: np.ndarray) -> "MethodScores":
        """The same scores on the images ``rows`` (indices, repeats allowed: a bootstrap resample), each evaluation
        rescored once."""
        return MethodScores(self.method, self.threshold, self.at_paper.subset(rows), self.at_dev.subset(rows),
                            self.pointing[rows], self.faithfulness.subset(rows), self.seconds)


def score_method(classifier: PretrainedClassifier, name: str, split: CompositeSplit, rows: np.ndarray, threshold: float,
                 batch_size: int = 25, desc: str | None = None) -> MethodScores:
    """Method ``name`` on the test composites ``rows``, its maps computed once for every score."""
    if not 0 < threshold < 1:
        raise CamlibError(f"threshold is a fraction of the map's maximum in (0, 1), got {threshold}")
    batches = lambda: composite_batches(split, rows, classifier.crop, classifier.mean, classifier.std, batch_size)  # noqa: E731
    classes = len(classifier.class_names)
    with RecordedMaps(map_method(classifier, name)) as method:
        start = time.perf_counter()
        at_paper = evaluate(method, batches(), classes, released=False, true_class_only=True, desc=desc)
        seconds = (time.perf_counter() - start) / len(rows)
        at_dev = evaluate(method, batches(), classes, released=False, true_class_only=True, threshold=threshold)
        pointing, changes = [], []
        for batch in batches():
            maps = method(batch.images, batch.labels[:, None])[:, 0]
            pointing.append(pointing_hits(maps, batch.masks))
            changes.append(confidence_change(classifier.model, batch.images, maps, batch.labels, method.predict(batch.images)))
    return MethodScores(name, threshold, at_paper, at_dev, np.concatenate(pointing), ConfidenceChange.concatenate(changes),
                        seconds)
