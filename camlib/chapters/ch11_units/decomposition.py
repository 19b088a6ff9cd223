"""A CAM as a sum of weighted unit maps: how much of it a class's top-k units already explain."""
from __future__ import annotations

from typing import Literal, Sequence

import numpy as np
import pandas as pd
import torch

from camlib.utils.errors import CamlibError
from camlib.chapters.ch11_units.ranking import _features


Order = Literal["weight", "magnitude"]
ORDERS: tuple[str, ...] = ("weight", "magnitude")


def _pearson(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Row-wise correlation of (..., P) tensors; 0 where either row is constant."""
    a, b = a - a.mean(-1, keepdim=True), b - b.mean(-1, keepdim=True)
    denom = a.norm(dim=-1) * b.norm(dim=-1)
    return torch.where(denom > 0, (a * b).sum(-1) / denom.clamp_min(1e-30), torch.zeros_like(denom))


def partial_cams(features: torch.Tensor, weight: torch.Tensor, classes: Sequence[int] | np.ndarray,
                 ks: Sequence[int], order: Order = "weight") -> torch.Tensor:
    """(N, len(ks), h, w): for each image, the sum of ``w_k^c f_k`` over its class's top-k units.

    ``order="weight"`` ranks units by ``w_k^c`` (the same units for every image of a class);
    ``order="magnitude"`` by the size of each unit's share of this image's score,
    ``|w_k^c * mean_xy f_k|`` (units that lower the score count too). With k = K the partial CAM is
    the CAM itself.
    """
    features = _features(features)
    n, k_units, h, w = features.shape
    weight = torch.as_tensor(weight, dtype=torch.float32)
    classes = torch.as_tensor(np.asarray(classes), dtype=torch.long)
    if weight.ndim != 2 or weight.shape[1] != k_units or classes.shape != (n,):
        raise CamlibError(f"need weight (N_classes, K={k_units}) and one class per image ({n}); "
                          f"got {tuple(weight.shape)} and {tuple(classes.shape)}")
    bad = [k for k in ks if not 1 <= k <= k_units]
    if bad or order not in ORDERS:
        raise CamlibError(f"ks must lie in 1..{k_units} and order be one of {ORDERS}; got {list(ks)} and {order!r}")
    parts = weight[classes][:, :, None] * features.flatten(2)  # (N, K, hw)
    score = weight[classes] if order == "weight" else parts.mean(dim=2).abs()
    ranked = torch.argsort(-score.double(), dim=1, stable=True)
    cumulative = parts.gather(1, ranked[:, :, None].expand_as(parts)).double().cumsum(dim=1)
    return cumulative[:, [k - 1 for k in ks]].float().view(n, len(ks), h, w)


def cam_explained(features: torch.Tensor, weight: torch.Tensor, classes: Sequence[int] | np.ndarray,
                  ks: Sequence[int], order: Order = "weight") -> pd.DataFrame:
    """How close the top-k partial CAM is to the full CAM, averaged over images, for each k in ``ks``:
    ``correlation`` (Pearson over positions) and ``relative L2 error`` = ||M - M_k|| / ||M||."""
    full = partial_cams(features, weight, classes, [_features(features).shape[1]], order)[:, 0].flatten(1)
    part = partial_cams(features, weight, classes, ks, order).flatten(2)
    corr = _pearson(part, full[:, None]).mean(dim=0)
    error = ((part - full[:, None]).norm(dim=-1) / full.norm(dim=-1, keepdim=True).clamp_min(1e-30)).mean(dim=0)
    return pd.DataFrame({"k": list(ks), "correlation": corr.numpy(), "relative L2 error": error.numpy()}).set_index("k")


def units_needed(table: pd.DataFrame, level: float = 0.9) -> int | None:
    """The smallest k of a :func:`cam_explained` table whose mean correlation reaches ``level`` (None if none does)."""
    reached = table.index[table["correlation"] >= level]
    return int(reached[0]) if len(reached) else None
