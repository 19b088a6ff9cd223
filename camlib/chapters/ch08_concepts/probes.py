"""Concepts learned from captions alone: their training images, a binary probe, its AP and pointing in the scenes."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from sklearn.metrics import average_precision_score

from camlib.data.generators.object_scenes import ObjectScenes
from camlib.utils.errors import CamlibError
from camlib.evaluation.pointing import POINTING_TOLERANCE, chance_pointing, near_boxes, peaks, points_in_boxes
from camlib.methods.probe import LinearProbe, fit_probe
from camlib.chapters.ch08_concepts.phrases import STOPWORDS, clause_tokens, concept_objects, phrase_in


def concept_negatives(phrase: str, captions: list[str], rng: np.random.Generator, hard: bool = True,
                      per_positive: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    """Training images for a concept from captions alone: ``(positives, negatives)`` index arrays.

    Positives: captions containing ``phrase``. Negatives (``per_positive`` x as many, at most all
    there are): with ``hard``, ConceptLearner-style hard negatives first, captions sharing a word of
    the phrase but not the phrase (e.g. "cow on the right" or "pig on the left" for "cow on the left"),
    topped up with random captions without it; without ``hard``, random captions without any of the phrase's words.
    """
    has = np.array([phrase_in(phrase, c) for c in captions], dtype=bool)
    words = set(phrase.split()) - STOPWORDS
    shares = np.array([bool(words & {t for clause in clause_tokens(c) for t in clause}) for c in captions], dtype=bool)
    positives = np.flatnonzero(has)
    want = int(round(per_positive * len(positives)))
    if hard:
        pool_hard = rng.permutation(np.flatnonzero(shares & ~has))[:want]
        rest = rng.permutation(np.setdiff1d(np.flatnonzero(~has), pool_hard))[:want - len(pool_hard)]
        negatives = np.concatenate([pool_hard, rest])
    else:
        negatives = rng.permutation(np.flatnonzero(~shares))[:want]
    return positives, np.sort(negatives)


def concept_probe(phrase: str, captions: Sequence[str], train_pooled: torch.Tensor, hard: bool, C: float = 0.01,
                  seed: int = 0) -> LinearProbe:
    """A binary probe for ``phrase`` trained on GAP features ``(N, K)`` of the captioned images:
    caption positives against :func:`concept_negatives` (``hard`` or random)."""
    positives, negatives = concept_negatives(phrase, list(captions), np.random.default_rng(seed), hard=hard)
    if len(positives) == 0 or len(negatives) == 0:
        raise CamlibError(f"phrase {phrase!r} has {len(positives)} positive and {len(negatives)} negative captions")
    index = np.concatenate([positives, negatives])
    labels = np.r_[np.ones(len(positives), int), np.zeros(len(negatives), int)]
    return fit_probe(train_pooled[index], labels, C=C, standardize=False, seed=seed)


def concept_scores(phrase: str, captions: Sequence[str], train_pooled: torch.Tensor, test: ObjectScenes,
                   test_pooled: torch.Tensor, test_maps: torch.Tensor, hard: bool, C: float = 0.01,
                   tolerance: float = POINTING_TOLERANCE, seed: int = 0) -> dict[str, float]:
    """Learn ``phrase`` from training ``captions`` alone and localize it in the ``test`` scenes
    (``test_maps`` ``(N, K, h, w)``: conv maps of every test scene).

    The probe is :func:`concept_probe`. On the test scenes, where the concept's objects are known exactly
    (:func:`camlib.chapters.ch08_concepts.phrases.concept_objects`), in percent: ``AP`` of the probe's score for
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
    cams = probe.cams(test_maps[shown], 0)[:, 0]
    boxes = [test.objects["box"][objects[i]] for i in shown]
    hits = points_in_boxes(peaks(cams, size), boxes, tolerance)  # the centre of each map's peak cell, in image pixels
    return {
        "positives": len(positives), "negatives": len(negatives), "test scenes": len(shown),
        "AP": float(100.0 * average_precision_score(np.isin(np.arange(len(test)), shown), scores)),
        "prevalence": float(100.0 * len(shown) / len(test)),
        "pointing": float(100.0 * hits.mean()),
        "chance": chance_pointing(near_boxes(boxes, size, tolerance)),
    }
