"""Classification error as the paper reports it (Table 1)."""
from __future__ import annotations

import numpy as np
import torch

from ..errors import CamlibError


def topk_error(logits: np.ndarray | torch.Tensor, labels: np.ndarray | torch.Tensor, k: int = 1) -> float:
    """Top-k error in percent: the share of images whose label is not among the k highest scores.

    ``logits`` ``(N, C)``; ``labels`` ``(N,)``.
    """
    logits = torch.as_tensor(np.asarray(logits) if not isinstance(logits, torch.Tensor) else logits)
    labels = torch.as_tensor(np.asarray(labels) if not isinstance(labels, torch.Tensor) else labels).long()
    if logits.ndim != 2 or labels.ndim != 1 or logits.shape[0] != labels.shape[0]:
        raise CamlibError(f"need logits (N, C) and labels (N,), got {tuple(logits.shape)} and {tuple(labels.shape)}")
    if logits.shape[0] == 0:
        raise CamlibError("no images to score: logits is empty")
    if not 1 <= k <= logits.shape[1]:
        raise CamlibError(f"k={k} must be between 1 and the number of classes {logits.shape[1]}")
    top = logits.topk(k, dim=1).indices
    hit = (top == labels[:, None]).any(dim=1)
    return float(100.0 * (1.0 - hit.float().mean()))
