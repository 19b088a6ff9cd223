"""Tiny networks whose CAMs are known exactly, and a split of rectangles to run them on, shared by the tests."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from camlib.data.sets.localization_split import LocalizationSplit
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


def rectangles(n: int = 12, size: int = 32, classes: int = 3, seed: int = 0) -> LocalizationSplit:
    """Black images with one rectangle whose colour channel is its class (one-hot RGB)."""
    rng = np.random.default_rng(seed)
    images = np.zeros((n, size, size, 3), dtype=np.uint8)
    masks = np.zeros((n, size, size), dtype=bool)
    boxes = np.zeros((n, 4), dtype=np.float32)
    labels = np.arange(n) % classes
    for i in range(n):
        w, h = rng.integers(6, 20, 2)
        x0, y0 = rng.integers(0, size - w), rng.integers(0, size - h)
        images[i, y0:y0 + h, x0:x0 + w, labels[i]] = 255
        masks[i, y0:y0 + h, x0:x0 + w] = True
        boxes[i] = [x0, y0, x0 + w, y0 + h]
    return LocalizationSplit(images, labels.astype(np.int64), boxes, masks, ("red", "green", "blue"))
