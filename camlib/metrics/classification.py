"""Classification error as the paper reports it (Table 1)."""
from __future__ import annotations

import numpy as np
import torch

from camlib.utils.errors import CamlibError


def topk_error(logits: np.ndarray | torch.Tensor, labels: np.ndarray | torch.Tensor, k: int = 1) -> float:
    """Top-k error in percent: the share of images whose label is not among the k highest scores.

    ``logits`` ``(N, C)``; ``labels`` ``(N,)``.
    """
    logits = _as_tensor(logits, "logits")
    labels = _as_tensor(labels, "labels")
    if logits.ndim != 2 or labels.ndim != 1 or logits.shape[0] != labels.shape[0]:
        raise CamlibError(f"need logits (N, C) and labels (N,), got {tuple(logits.shape)} and {tuple(labels.shape)}")
    if logits.shape[0] == 0:
        raise CamlibError("no images to score: logits is empty")
    if not 1 <= k <= logits.shape[1]:
        raise CamlibError(f"k={k} must be between 1 and the number of classes {logits.shape[1]}")
    if torch.isnan(logits).any():  # topk would rank NaN first
        raise CamlibError("logits contain NaN; check the model (a diverged training run?)")
    if labels.is_floating_point() and not torch.equal(labels, labels.round()):
        raise CamlibError("labels must be whole class indices, got fractions (e.g. 1.7); pass integer labels")
    labels = labels.long()
    if labels.min() < 0 or labels.max() >= logits.shape[1]:
        raise CamlibError(f"labels must be class indices 0..{logits.shape[1] - 1}, got values from {int(labels.min())} to {int(labels.max())}")
    top = logits.topk(k, dim=1).indices
    hit = (top == labels[:, None]).any(dim=1)
    return float(100.0 * (1.0 - hit.float().mean()))


def _as_tensor(values: np.ndarray | torch.Tensor, name: str) -> torch.Tensor:
    """``values`` as a real-valued tensor, or a ``CamlibError`` naming ``name``."""
    if not isinstance(values, torch.Tensor):
        try:
            values = torch.as_tensor(np.asarray(values))
        except (TypeError, ValueError, RuntimeError):
            raise CamlibError(f"{name} must be a numeric array, got {type(values).__name__}") from None
    if values.dtype.is_complex or values.dtype == torch.bool:
        raise CamlibError(f"{name} must be real numbers, got {values.dtype}")
    return values
