"""Steps 1-2 on the full images: cached GAP features, the SVM with its ``C`` chosen on dev, its predictions and CAMs."""
from __future__ import annotations

import dataclasses
from typing import Sequence

import numpy as np
import torch

from camlib.utils.cache import cache_key, cached
from camlib.data.assets.paths import cache_dir
from camlib.methods.features import extract
from camlib.models.pretrained import PretrainedClassifier
from camlib.methods.probe import C_GRID, LinearProbe, fit_probe
from camlib.chapters.ch05_cropping.boxed_images import BoxedImages


def pooled_features(classifier: PretrainedClassifier, images: Sequence, size: int, key: str, desc: str) -> torch.Tensor:
    """GAP features ``(N, K)`` of ``images``, cached as ``<data root>/cache/features/<key>.pt``."""
    path = cache_dir() / "features" / f"{key}.pt"
    return cached(path, lambda: extract(classifier, images, size=size, keep_maps=False, desc=desc).pooled)


def choose_c_on_dev(train: torch.Tensor, train_labels: np.ndarray, dev: torch.Tensor, dev_labels: np.ndarray,
                    grid: Sequence[float] = C_GRID, seed: int = 0) -> tuple[float, dict[float, float]]:
    """The ``C`` of ``grid`` whose SVM, fit on ``train (N, K)``, is most accurate on ``dev (M, K)`` (the
    smallest among ties); returns it and every ``C``'s dev accuracy (%)."""
    scores = {c: fit_probe(train, train_labels, C=c, seed=seed).accuracy(dev, dev_labels) for c in sorted(grid)}
    best = max(scores.values())
    return min(c for c, s in scores.items() if s == best), scores


def full_image_stage(classifier: PretrainedClassifier, images: dict[str, BoxedImages], size: int, seed: int = 0) -> dict:
    """Steps 1-2 without boxes: pooled features, the SVM (``C`` chosen on dev), its predictions and CAMs (cached).

    Returns ``{"probe", "C", "dev_scores" ({C: dev accuracy}), "<split>_pooled" (N, K), "<split>_cams" (N, h, w):
    train of the labelled class, dev and test of the predicted class, "test_known_cams" (labelled class),
    "<split>_predictions" (N,) for dev and test}``.
    """
    train, dev, test = images["train"], images["dev"], images["test"]
    key = "cropping-" + cache_key(network=classifier.name, size=size, images=[train.name, dev.name, test.name], seed=seed,
                                 labels=[train.labels, dev.labels, test.labels], boxes=[train.boxes, test.boxes])

    def build() -> dict:
        feats = {name: extract(classifier, images[name].view(size), size=size, desc=f"{name} images") for name in images}
        chosen, scores = choose_c_on_dev(feats["train"].pooled, train.labels, feats["dev"].pooled, dev.labels, seed=seed)
        probe = fit_probe(feats["train"].pooled, train.labels, C=chosen, seed=seed)
        out = {"probe": dataclasses.asdict(probe), "C": chosen, "dev_scores": scores,
               "train_cams": probe.cams(feats["train"].maps, probe.rows(train.labels)[:, None])[:, 0]}
        for name in ("dev", "test"):
            predictions = probe.predict(feats[name].pooled)
            out[f"{name}_predictions"] = predictions
            out[f"{name}_cams"] = probe.cams(feats[name].maps, probe.rows(predictions)[:, None])[:, 0]
        out["test_known_cams"] = probe.cams(feats["test"].maps, probe.rows(test.labels)[:, None])[:, 0]
        for name in images:
            out[f"{name}_pooled"] = feats[name].pooled
        return out

    stored = cached(cache_dir() / "features" / f"{key}.pt", build)  # caches hold data: the probe as its fields
    return {**stored, "probe": LinearProbe(**stored["probe"])}
