"""A weakly supervised localization split in memory, and its torch ``Dataset`` view."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from torch.utils.data import Dataset

from camlib.utils.errors import CamlibError


@dataclass
class LocalizationSplit:
    """Images with one labelled object each and its exact ground truth.

    images uint8 (N, H, W, 3); labels int64 (N,) indexing ``class_names``; boxes float32 (N, 4)
    ``[x0, y0, x1, y1]`` with x1/y1 exclusive; masks bool (N, H, W), the object's pixels.
    """

    images: np.ndarray
    labels: np.ndarray
    boxes: np.ndarray
    masks: np.ndarray
    class_names: tuple[str, ...]

    def __post_init__(self) -> None:
        n, h, w = self.masks.shape
        if (self.images.shape != (n, h, w, 3) or self.labels.shape != (n,) or self.boxes.shape != (n, 4)):
            raise CamlibError(
                f"inconsistent split: images {self.images.shape}, labels {self.labels.shape}, "
                f"boxes {self.boxes.shape}, masks {self.masks.shape}; expected (N, H, W, 3), (N,), (N, 4), (N, H, W)")

    def __len__(self) -> int:
        return len(self.labels)


class LocalizationDataset(Dataset):
    """``(image float32 (3, H, W) in [0, 1], label int, box float32 (4,))`` for each item of a split.

    ``transform`` is applied to the image tensor only (normalisation, photometric changes);
    it must not move pixels, since the box is returned unchanged.
    """

    def __init__(self, split: LocalizationSplit, transform: Callable[[torch.Tensor], torch.Tensor] | None = None):
        self.split = split
        self.transform = transform

    def __len__(self) -> int:
        return len(self.split)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int, torch.Tensor]:
        image = torch.from_numpy(self.split.images[index]).permute(2, 0, 1).float().div_(255.0)
        if self.transform is not None:
            image = self.transform(image)
        return image, int(self.split.labels[index]), torch.from_numpy(self.split.boxes[index].copy())
