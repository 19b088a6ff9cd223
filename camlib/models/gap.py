"""The paper's *-GAP networks: a pretrained trunk cut after a conv layer, then
conv 3x3 (stride 1, pad 1, 1024 units) + ReLU, global pooling and one linear layer.

``weights=None`` builds them offline with random trunks; ``weights="DEFAULT"`` loads torchvision's
ImageNet weights into the trunk (needs the internet the first time, then torch's cache).
"""
from __future__ import annotations

from typing import Literal

import torch
import torchvision
from torch import nn

from camlib.utils.errors import CamlibError

Pooling = Literal["avg", "max"]


class GapNet(nn.Module):
    """``trunk -> [extra convs] -> conv3x3(1024) + ReLU -> global pool -> linear``.

    ``features(x)`` returns the CAM features ``(B, 1024, h, w)``; ``forward(x)`` the logits ``(B, N)``.
    """

    def __init__(
        self,
        trunk: nn.Module,
        trunk_channels: int,
        num_classes: int = 1000,
        pooling: Pooling = "avg",
        width: int = 1024,
        extra_convs: int = 0,
        dropout: float = 0.0,
    ):
        super().__init__()
        if pooling not in ("avg", "max"):
            raise CamlibError(f"pooling must be 'avg' (GAP) or 'max' (GMP), got {pooling!r}")
        layers: list[nn.Module] = []
        channels = trunk_channels
        for _ in range(extra_convs + 1):
            layers += [nn.Conv2d(channels, width, kernel_size=3, stride=1, padding=1), nn.ReLU(inplace=True)]
            channels = width
        self.trunk = trunk
        self.head_conv = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1) if pooling == "avg" else nn.AdaptiveMaxPool2d(1)
        self.flatten = nn.Flatten(1)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(width, num_classes)
        self.pooling = pooling

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """CAM features ``(B, width, h, w)`` of images ``(B, 3, H, W)``."""
        return self.head_conv(self.trunk(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.dropout(self.flatten(self.pool(self.features(x)))))


class _GoogLeNetInput(nn.Module):
    """torchvision's ``transform_input``: ImageNet-normalised input to the scaling GoogLeNet was trained on."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ch0 = x[:, 0:1] * (0.229 / 0.5) + (0.485 - 0.5) / 0.5
        ch1 = x[:, 1:2] * (0.224 / 0.5) + (0.456 - 0.5) / 0.5
        ch2 = x[:, 2:3] * (0.225 / 0.5) + (0.406 - 0.5) / 0.5
        return torch.cat([ch0, ch1, ch2], dim=1)


def vgg16_trunk(weights: str | None = None) -> tuple[nn.Module, int]:
    """VGG16 up to conv5_3 + ReLU (pool5 and the fc layers removed): 14x14 at 224 px."""
    vgg = torchvision.models.vgg16(weights=weights)
    return vgg.features[:30], 512


def alexnet_trunk(weights: str | None = None) -> tuple[nn.Module, int]:
    """AlexNet up to conv5 + ReLU (pool5 to prob removed): 13x13 at 224 px."""
    alexnet = torchvision.models.alexnet(weights=weights)
    return alexnet.features[:12], 256


def googlenet_trunk(weights: str | None = None) -> tuple[nn.Module, int]:
    """GoogLeNet up to inception4e (maxpool4 onwards removed): 14x14 at 224 px."""
    net = torchvision.models.googlenet(weights=weights, aux_logits=False, init_weights=weights is None)
    names = ["conv1", "maxpool1", "conv2", "conv3", "maxpool2", "inception3a", "inception3b", "maxpool3",
             "inception4a", "inception4b", "inception4c", "inception4d", "inception4e"]
    layers = [getattr(net, n) for n in names]
    if net.transform_input:
        layers.insert(0, _GoogLeNetInput())
    return nn.Sequential(*layers), 832


_TRUNKS = {"vgg16": vgg16_trunk, "alexnet": alexnet_trunk, "googlenet": googlenet_trunk}


def gap_network(
    backbone: Literal["vgg16", "alexnet", "googlenet"],
    num_classes: int = 1000,
    pooling: Pooling = "avg",
    extra_convs: int = 0,
    weights: str | None = None,
    dropout: float = 0.0,
) -> GapNet:
    """Build ``<backbone>-GAP`` (or ``-GMP`` with ``pooling="max"``) as in Sec. 3 of the paper."""
    if backbone not in _TRUNKS:
        raise CamlibError(f"unknown backbone {backbone!r}; choose one of {sorted(_TRUNKS)}")
    trunk, channels = _TRUNKS[backbone](weights)
    return GapNet(trunk, channels, num_classes, pooling=pooling, extra_convs=extra_convs, dropout=dropout)


def vgg16_gap(num_classes: int = 1000, weights: str | None = None, pooling: Pooling = "avg") -> GapNet:
    """VGGnet-GAP: 14x14 CAMs; the released VGG16-CAM adds dropout 0.5 after GAP."""
    return gap_network("vgg16", num_classes, pooling, weights=weights, dropout=0.5)


def alexnet_gap(num_classes: int = 1000, weights: str | None = None, pooling: Pooling = "avg") -> GapNet:
    """AlexNet-GAP: 13x13 CAMs."""
    return gap_network("alexnet", num_classes, pooling, weights=weights)


def alexnet_star_gap(num_classes: int = 1000, weights: str | None = None) -> GapNet:
    """AlexNet*-GAP: two extra conv layers before GAP."""
    return gap_network("alexnet", num_classes, extra_convs=2, weights=weights)


def googlenet_gap(num_classes: int = 1000, weights: str | None = None) -> GapNet:
    """GoogLeNet-GAP: 14x14 CAMs."""
    return gap_network("googlenet", num_classes, weights=weights)


def googlenet_gmp(num_classes: int = 1000, weights: str | None = None) -> GapNet:
    """GoogLeNet-GMP: GoogLeNet-GAP with global max pooling."""
    return gap_network("googlenet", num_classes, pooling="max", weights=weights)


def count_parameters(model: nn.Module) -> int:
    """Number of learnable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
