"""The paper's heads on any trunk's feature map, built with an empty trunk so that they can be
trained on cached features and then put on the real trunk (:func:`on_trunk`).

===============  =====================================================  ==========================
kind             head                                                   stands for
===============  =====================================================  ==========================
``gap``          conv 3x3 + ReLU -> global average pool -> linear       GoogLeNet-GAP, VGGnet-GAP
``gmp``          conv 3x3 + ReLU -> global max pool -> linear           GoogLeNet-GMP
``gap-extra``    two more conv 3x3 + ReLU before the GAP head's conv    AlexNet*-GAP
``fc``           conv 3x3 + ReLU -> flatten -> fc + ReLU + dropout -> fc  the original AlexNet/VGGnet
===============  =====================================================  ==========================

The ``fc`` head sees positions, so it has no CAM (the backprop baseline of Table 2).
"""
from __future__ import annotations

import torch
from torch import nn

from camlib.utils.errors import CamlibError
from camlib.models.gap import GapNet

HEAD_KINDS = ("gap", "gmp", "gap-extra", "fc")


class FcHeadNet(nn.Module):
    """``trunk -> conv3x3(width) + ReLU [-> max pool pool x pool] -> flatten -> fc(hidden) + ReLU + dropout -> fc``;
    the map must be ``side`` x ``side`` (the flattening fixes it). ``pool`` > 1 shrinks the map first, as
    AlexNet's pool5 does before its fc6."""

    def __init__(self, trunk: nn.Module, trunk_channels: int, num_classes: int, side: int, width: int = 64,
                 hidden: int = 256, dropout: float = 0.5, pool: int = 1) -> None:
        super().__init__()
        if pool < 1 or side % pool:
            raise CamlibError(f"pool must divide the map side {side}, got {pool}")
        self.trunk, self.side = trunk, side
        pooling = [nn.MaxPool2d(pool)] if pool > 1 else []
        self.head_conv = nn.Sequential(nn.Conv2d(trunk_channels, width, 3, padding=1), nn.ReLU(inplace=True))
        self.classifier = nn.Sequential(*pooling, nn.Flatten(1), nn.Linear(width * (side // pool) ** 2, hidden),
                                        nn.ReLU(inplace=True), nn.Dropout(dropout), nn.Linear(hidden, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.trunk(x)
        if features.shape[-2:] != (self.side, self.side):
            raise CamlibError(f"the fc head takes {self.side}x{self.side} maps, got {tuple(features.shape[-2:])}: "
                              "its fc layer fixes the input size")
        return self.classifier(self.head_conv(features))


def paper_head(kind: str, channels: int, num_classes: int, side: int, width: int = 64, seed: int = 0,
               fc_pool: int = 1, fc_hidden: int = 256) -> nn.Module:
    """A head of :data:`HEAD_KINDS` for ``(B, channels, side, side)`` maps, with an empty trunk, its
    weights drawn from ``seed``; ``fc_pool`` and ``fc_hidden`` shape the ``fc`` head (:class:`FcHeadNet`)."""
    if kind not in HEAD_KINDS:
        raise CamlibError(f"unknown head {kind!r}; choose one of {', '.join(HEAD_KINDS)}")
    if num_classes < 2 or channels < 1 or side < 1 or width < 1:
        raise CamlibError(f"need num_classes >= 2 and positive channels, side, width; got {num_classes}, {channels}, {side}, {width}")
    with torch.random.fork_rng(devices=[]):  # seeded without touching the caller's random state
        torch.manual_seed(seed)
        if kind == "fc":
            return FcHeadNet(nn.Identity(), channels, num_classes, side, width, hidden=fc_hidden, pool=fc_pool)
        return GapNet(nn.Identity(), channels, num_classes, pooling="max" if kind == "gmp" else "avg", width=width,
                      extra_convs=2 if kind == "gap-extra" else 0)


def on_trunk(head: nn.Module, trunk: nn.Module) -> nn.Module:
    """``head`` (trained on cached features) with ``trunk`` in front: a network from images, in eval mode."""
    if not isinstance(head, (GapNet, FcHeadNet)):
        raise CamlibError(f"on_trunk takes a head of paper_head, got {type(head).__name__}")
    head.trunk = trunk
    return head.eval()
