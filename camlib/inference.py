"""Batched inference without gradients."""
from __future__ import annotations

import torch
from torch import nn

from .errors import CamlibError


def predict_logits(model: nn.Module, images: torch.Tensor, batch_size: int = 512) -> torch.Tensor:
    """Logits ``(N, C)`` of images ``(N, 3, H, W)`` in eval mode, on the model's device, returned on the CPU."""
    if images.ndim != 4 or images.shape[0] == 0:
        raise CamlibError(f"images must be a non-empty batch (N, 3, H, W), got shape {tuple(images.shape)}")
    device = next(model.parameters()).device
    model.eval()
    with torch.inference_mode():
        return torch.cat([model(images[i:i + batch_size].to(device)).float().cpu() for i in range(0, len(images), batch_size)])
