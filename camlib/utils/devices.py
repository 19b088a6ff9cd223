"""Device arguments checked once, so that ``'banana'`` or ``'cuda'`` on a machine without a GPU is a one-line error."""
from __future__ import annotations

import torch

from camlib.utils.errors import CamlibError


def check_device(device: torch.device | str) -> torch.device:
    """``device`` as a ``torch.device`` this machine has; raises ``CamlibError`` for a misspelt or absent device."""
    if not isinstance(device, (str, torch.device)):
        raise CamlibError(f"device must be a string such as 'cpu' or 'cuda:0' or a torch.device, got {type(device).__name__}")
    try:
        device = torch.device(device)
    except RuntimeError:
        raise CamlibError(f"unknown device {device!r}; use 'cpu', 'cuda' or 'cuda:N'") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise CamlibError(f"device {str(device)!r} asked for, but torch sees no CUDA GPU here; use device='cpu'")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise CamlibError(f"device {str(device)!r} asked for, but torch sees {torch.cuda.device_count()} GPU(s); use cuda:0 .. cuda:{torch.cuda.device_count() - 1}")
    if device.type == "meta":
        raise CamlibError("device 'meta' holds no data; use 'cpu' or 'cuda'")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise CamlibError("device 'mps' asked for, but this machine has no Apple GPU; use device='cpu'")
    return device
