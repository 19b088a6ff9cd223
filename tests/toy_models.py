"""Tiny networks whose CAMs are known exactly, shared by the tests."""
from __future__ import annotations

import torch
from torch import nn

from camlib.models.preprocess import IMAGENET_MEAN, IMAGENET_STD


class ChannelOracle(nn.Module):
    """features = the image's channels -> GAP -> linear: the CAM of class c is exactly channel c.

    The bias cancels each channel's normalised black level, so the class channel wins; ``favour``
    adds a large bias to one class, which then always wins while every CAM stays the same.
    """

    def __init__(self, favour: int | None = None):
        super().__init__()
        self.features = nn.Identity()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten(1)
        self.fc = nn.Linear(3, 3)
        with torch.no_grad():
            self.fc.weight.copy_(10 * torch.eye(3))
            self.fc.bias.copy_(self.fc.weight @ (torch.tensor(IMAGENET_MEAN) / torch.tensor(IMAGENET_STD)))
            if favour is not None:
                self.fc.bias[favour] += 1000.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.flatten(self.pool(self.features(x))))
