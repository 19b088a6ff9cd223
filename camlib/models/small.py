"""CPU-scale networks that mirror the paper's comparisons, all on one small conv trunk.

The shared trunk (three conv-BN-ReLU blocks, two 2x2 max-pools) divides the input side by 4: at the
chapter's 32x32 input it gives an 8x8 map (the 14x14 of VGGnet-GAP/GoogLeNet-GAP at 224 px).
On top of it:

========================  =====================================================  ==================
name                      head                                                   paper analogue
========================  =====================================================  ==================
``gap``                   conv3x3 + ReLU -> GAP -> linear  (8x8 CAM)             GoogLeNet-GAP
``gmp``                   the same with global max pooling                        GoogLeNet-GMP
``gap-lowres``            one more pool + conv stage first (4x4 CAM)              GoogLeNet (7x7)
``gap-extra``             two extra conv layers before the GAP head               AlexNet*-GAP
``fc``                    max-pool -> flatten -> fc -> ReLU -> dropout -> fc      AlexNet / VGGnet
========================  =====================================================  ==================

The GAP/GMP heads are :class:`camlib.models.gap.GapNet` heads with batch norm after each head conv
(trained from scratch on the chapter's benchmark, the GAP network reached with it in 12 epochs the
test accuracy it reached in 20 without); ``fc`` has no CAM (it is the backprop baseline).
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from camlib.utils.errors import CamlibError
from camlib.models.gap import GapNet

#: Channels of the trunk's three conv blocks.
TRUNK_CHANNELS = (16, 32, 64)
#: Width of the GAP head conv (the paper's 1024, scaled down with the trunk).
HEAD_WIDTH = 128


def conv_block(in_channels: int, out_channels: int) -> list[nn.Module]:
    """conv 3x3 (stride 1, pad 1) -> BatchNorm -> ReLU."""
    return [nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True)]


def small_trunk(extra_stages: int = 0, channels: tuple[int, int, int] = TRUNK_CHANNELS) -> tuple[nn.Sequential, int]:
    """The shared trunk: ``(B, 3, H, W) -> (B, channels[-1], H/4, W/4)``.

    Each extra stage adds a 2x2 max-pool and a conv block (halving the map again), like the layers
    after inception4e that leave plain GoogLeNet with a 7x7 instead of a 14x14 map.
    Returns the trunk and its output channels.
    """
    c1, c2, c3 = channels
    layers = [*conv_block(3, c1), nn.MaxPool2d(2), *conv_block(c1, c2), nn.MaxPool2d(2), *conv_block(c2, c3)]
    for _ in range(extra_stages):
        layers += [nn.MaxPool2d(2), *conv_block(c3, c3)]
    return nn.Sequential(*layers), c3


class SmallGapNet(GapNet):
    """:class:`GapNet` whose head convs are conv 3x3 -> BatchNorm -> ReLU (the paper's have no BN)."""

    def __init__(self, trunk: nn.Module, trunk_channels: int, num_classes: int, pooling: str = "avg",
                 width: int = HEAD_WIDTH, extra_convs: int = 0):
        super().__init__(trunk, trunk_channels, num_classes, pooling=pooling, width=width, extra_convs=extra_convs)
        layers = conv_block(trunk_channels, width)
        for _ in range(extra_convs):
            layers += conv_block(width, width)
        self.head_conv = nn.Sequential(*layers)


def small_gap(num_classes: int, pooling: str = "avg", extra_stages: int = 0, extra_convs: int = 0,
              width: int = HEAD_WIDTH) -> SmallGapNet:
    """A GAP (``pooling="avg"``) or GMP (``"max"``) network on the small trunk."""
    trunk, channels = small_trunk(extra_stages)
    return SmallGapNet(trunk, channels, num_classes, pooling=pooling, width=width, extra_convs=extra_convs)


class SmallFcNet(nn.Module):
    """The fc-head network: trunk -> 2x2 max-pool -> flatten -> fc(hidden) -> BN -> ReLU -> dropout -> fc.

    Like AlexNet/VGGnet its classifier sees positions, so it has no CAM; it is the network the
    backprop (gradient saliency) baseline runs on. ``input_size`` fixes the flattened length.
    The batch norm after the hidden layer is ours (with it, 12 epochs reach 44% test accuracy on the
    chapter's benchmark, without it 28%).
    """

    def __init__(self, num_classes: int, input_size: int = 32, hidden: int = 256, dropout: float = 0.5):
        super().__init__()
        if input_size % 8:
            raise CamlibError(f"SmallFcNet needs an input size divisible by 8, got {input_size}")
        self.trunk, channels = small_trunk()
        side = input_size // 8
        self.classifier = nn.Sequential(
            nn.MaxPool2d(2), nn.Flatten(1), nn.Linear(channels * side * side, hidden, bias=False),
            nn.BatchNorm1d(hidden), nn.ReLU(inplace=True), nn.Dropout(dropout), nn.Linear(hidden, num_classes),
        )
        self.input_size = input_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, N)`` of images ``(B, 3, input_size, input_size)``."""
        if x.shape[-2:] != (self.input_size, self.input_size):
            raise CamlibError(f"SmallFcNet was built for {self.input_size}x{self.input_size} inputs, "
                              f"got {tuple(x.shape[-2:])}: its fc layer fixes the input size")
        return self.classifier(self.trunk(x))


_BUILDERS: dict[str, Callable[[int, int], nn.Module]] = {
    "gap": lambda n, size: small_gap(n),
    "gmp": lambda n, size: small_gap(n, pooling="max"),
    "gap-lowres": lambda n, size: small_gap(n, extra_stages=1),
    "gap-extra": lambda n, size: small_gap(n, extra_convs=2),
    "fc": lambda n, size: SmallFcNet(n, input_size=size),
}

#: The names :func:`small_network` accepts, in the order the chapter's tables list them.
SMALL_NETWORKS = tuple(_BUILDERS)


def small_network(name: str, num_classes: int, input_size: int = 32, seed: int | None = 0) -> nn.Module:
    """Build one of :data:`SMALL_NETWORKS`; ``seed`` makes the initial weights reproducible without touching the
    caller's random state (``None``: drawn from it).

    With the same seed every network starts from the same trunk weights (the trunk is built first).
    """
    if name not in _BUILDERS:
        raise CamlibError(f"unknown small network {name!r}; choose one of {', '.join(SMALL_NETWORKS)}")
    if num_classes < 2:
        raise CamlibError(f"a classifier needs at least 2 classes, got num_classes={num_classes}")
    if seed is None:
        return _BUILDERS[name](num_classes, input_size)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return _BUILDERS[name](num_classes, input_size)


def feature_size(model: nn.Module, input_size: int = 32) -> tuple[int, int]:
    """``(h, w)`` of the CAM features of a :class:`GapNet` at a square ``input_size`` input."""
    if not isinstance(model, GapNet):
        raise CamlibError(f"{type(model).__name__} has no CAM features; feature_size needs a GapNet")
    with torch.no_grad():
        was_training = model.training
        model.eval()
        shape = model.features(torch.zeros(1, 3, input_size, input_size)).shape[-2:]
        model.train(was_training)
    return int(shape[0]), int(shape[1])
