"""Chapter 8 (Sec. 4.3, concept localization): concepts learned from captions alone, localized by
their probes' CAMs in scenes whose objects are known exactly."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from sklearn.metrics import average_precision_score

from camlib.cam import upsample
from camlib.data.object_scenes import ObjectScenes, concept_negatives, concept_objects
from camlib.errors import CamlibError
from camlib.pointing import chance_pointing, near_boxes, peaks, points_in_boxes
from camlib.probe import LinearProbe, fit_probe


def concept_probe(phrase: str, captions: Sequence[str], train_pooled: torch.Tensor, hard: bool, C: float = 0.01,
                  seed: int = 0) -> LinearProbe:
    """A binary probe for ``phrase`` trained on GAP features ``(N, K)`` of the captioned images:
    caption positives against :func:`camlib.data.object_scenes.concept_negatives` (``hard`` or random)."""
    positives, negatives = concept_negatives(phrase, list(captions), np.random.default_rng(seed), hard=hard)
    if len(positives) == 0 or len(negatives) == 0:
        raise CamlibError(f"phrase {phrase!r} has {len(positives)} positive and {len(negatives)} negative captions")
    index = np.concatenate([positives, negatives])
    labels = np.r_[np.ones(len(positives), int), np.zeros(len(negatives), int)]
    return fit_probe(train_pooled[index], labels, C=C, standardize=False, seed=seed)


def concept_scores(phrase: str, captions: Sequence[str], train_pooled: torch.Tensor, test: ObjectScenes,
                   test_pooled: torch.Tensor, test_maps: torch.Tensor, hard: bool, C: float = 0.01,
                   tolerance: float = 15.0, seed: int = 0) -> dict[str, float]:
    """Learn ``phrase`` from training ``captions`` alone and localize it in the ``test`` scenes
    (``test_maps`` ``(N, K, h, w)``: conv maps of every test scene).

    The probe is :func:`concept_probe`. On the test scenes, where the concept's objects are known exactly
    (:func:`camlib.data.object_scenes.concept_objects`), in percent: ``AP`` of the probe's score for
    "the scene shows the concept", beside ``prevalence`` (the share of test scenes showing it: the AP
    of a score that ignores the image); on scenes showing it, ``pointing`` (the CAM's peak within
    ``tolerance`` px of a box of one of its objects: the pointing game) beside ``chance`` (the same
    for a uniformly random point).
    """
    positives, negatives = concept_negatives(phrase, list(captions), np.random.default_rng(seed), hard=hard)
    probe = concept_probe(phrase, captions, train_pooled, hard, C, seed)
    objects = [concept_objects(phrase, test, i) for i in range(len(test))]
    shown = np.flatnonzero([len(o) > 0 for o in objects])
    if len(shown) == 0:
        raise CamlibError(f"no test scene shows {phrase!r}; generate more test scenes")
    scores = probe.decision_function(test_pooled)[:, 0].numpy()
    size = test.images.shape[1:3]
    cams = upsample(probe.cams(test_maps[shown], 0), size)[:, 0].numpy()
    boxes = [test.objects["box"][objects[i]] for i in shown]
    hits = points_in_boxes(peaks(cams), boxes, tolerance)
    return {
        "positives": len(positives), "negatives": len(negatives), "test scenes": len(shown),
        "AP": float(100.0 * average_precision_score(np.isin(np.arange(len(test)), shown), scores)),
        "prevalence": float(100.0 * len(shown) / len(test)),
        "pointing": float(100.0 * hits.mean()),
        "chance": chance_pointing(near_boxes(boxes, size, tolerance)),
    }
