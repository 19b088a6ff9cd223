"""How class-specific a class's highest-weighted units are: their top images, their receptive fields on the object."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
import torch

from camlib.chapters.ch11_units.ranking import _features, rank_units, top_activating
from camlib.chapters.ch11_units.receptive_fields import unit_precision


def _nanmean(values: np.ndarray) -> float:
    """Mean of the non-NaN values (NaN, silently, when there are none)."""
    values = np.asarray(values, dtype=np.float64)
    values = values[~np.isnan(values)]
    return float(values.mean()) if len(values) else float("nan")


def _precision_by_rank(precision: np.ndarray, weight: torch.Tensor, class_names: Sequence[str], units: int = 5) -> pd.DataFrame:
    """Per class (rows), the mean of :func:`unit_precision` (in %) over its ``units`` highest- and
    lowest-weighted units and over all units. ``precision`` (K, G), ``weight`` (G, K)."""
    rows = {}
    for g, name in enumerate(class_names):
        order = rank_units(weight, g)
        rows[name] = {f"top {units} units": _nanmean(precision[order[:units], g]),
                      f"bottom {units} units": _nanmean(precision[order[-units:], g]),
                      "all units": _nanmean(precision[:, g])}
    return 100.0 * pd.DataFrame(rows).T


def class_table(features: torch.Tensor, weight: torch.Tensor, labels: np.ndarray, objects: np.ndarray,
                class_names: Sequence[str], units: int = 5, top: int = 20, quantile: float = 0.99) -> pd.DataFrame:
    """Per class, in %: how class-specific its ``units`` highest-weighted units are.

    ``top images of the class``: the share of class images among each top unit's ``top`` most
    activating images (:func:`top_image_purity`), beside the ``class frequency``; ``on object``:
    the share of the units' receptive-field masks on the object (:func:`unit_precision`) for the top,
    bottom and all units, beside the ``object share`` of the class's images.
    ``features`` (N, K, h, w), ``weight`` (G, K), ``labels`` (N,), ``objects`` bool (N, H, W).
    """
    labels, objects = np.asarray(labels), np.asarray(objects, dtype=bool)
    purity = top_image_purity(features, weight, labels, units, top)
    table = pd.DataFrame({"top images of the class": 100.0 * purity.mean(axis=1),
                          "class frequency": 100.0 * np.bincount(labels, minlength=len(class_names)) / len(labels)},
                         index=list(class_names))
    on_object = _precision_by_rank(unit_precision(features, objects, labels, quantile), weight, class_names, units)
    table[[f"on object: {c}" for c in on_object.columns]] = on_object.to_numpy()
    table["object share"] = [100.0 * objects[labels == g].mean() for g in range(len(class_names))]
    return table


def top_image_purity(features: torch.Tensor, weight: torch.Tensor, labels: np.ndarray, units: int = 5, top: int = 20) -> np.ndarray:
    """float (G, units): for each class g, the share of the ``top`` most activating images of each of its
    ``units`` highest-weighted units that belong to class g. ``labels`` (N,) give every image's class;
    a unit that ignored the class would score about the class's frequency."""
    labels = np.asarray(labels)
    out = np.zeros((torch.as_tensor(weight).shape[0], units))
    for g in range(len(out)):
        for col, unit in enumerate(rank_units(weight, g)[:units]):
            out[g, col] = np.mean(labels[top_activating(features, int(unit), top)] == g)
    return out


def top_image_hits(features: torch.Tensor, weight: torch.Tensor, labels: dict[int, int], units: int = 5, top: int = 3) -> np.ndarray:
    """bool (len(labels), units): whether each labelled image is among the ``top`` most activating
    images (:func:`top_activating`) of each of its class's ``units`` highest-weighted units.

    ``labels`` maps image index -> class index. A unit that ignored the class would score ``top / N``.
    """
    features = _features(features)
    hits = np.zeros((len(labels), units), dtype=bool)
    for row, (image, label) in enumerate(labels.items()):
        for col, unit in enumerate(rank_units(weight, label)[:units]):
            hits[row, col] = image in top_activating(features, int(unit), top)
    return hits
