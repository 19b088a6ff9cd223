"""Which units a class weights most, and which images fire a unit most."""
from __future__ import annotations

import numpy as np
import torch

from camlib.utils.errors import CamlibError


def _features(features: torch.Tensor) -> torch.Tensor:
    features = torch.as_tensor(features, dtype=torch.float32)
    if features.ndim != 4:
        raise CamlibError(f"features must be (N, K, h, w), got shape {tuple(features.shape)}")
    return features


def rank_units(weight: torch.Tensor, class_index: int) -> np.ndarray:
    """int64 (K,): the units ordered by their weight ``w_k^c`` for class ``class_index`` (largest first).

    ``weight`` is the classifier's (N, K) matrix; ties keep the lower unit index first.
    """
    weight = torch.as_tensor(weight)
    if weight.ndim != 2 or not 0 <= class_index < weight.shape[0]:
        raise CamlibError(f"need a (N, K) weight and 0 <= class_index < N; got shape {tuple(weight.shape)} and {class_index}")
    return np.argsort(-weight[class_index].double().numpy(), kind="stable")


def top_activating(features: torch.Tensor, unit: int, count: int) -> np.ndarray:
    """int64 (count,): the images whose peak activation of ``unit`` is highest (highest first).

    ``features`` (N, K, h, w); ties keep the lower image index first.
    """
    features = _features(features)
    if not 0 <= unit < features.shape[1] or count < 1:
        raise CamlibError(f"unit must lie in 0..{features.shape[1] - 1} and count >= 1; got {unit} and {count}")
    peaks = features[:, unit].flatten(1).max(dim=1).values.double().numpy()
    return np.argsort(-peaks, kind="stable")[:count]
