"""Evaluation batches from any localization data set: the generated benchmark or ILSVRC val.

An :class:`EvalBatch` holds normalised images and their ground truth in the *input's* pixels, so
the evaluation code is the same at every scale.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np
import torch
from torch.utils.data import DataLoader
from torchvision import transforms

from camlib.benchmark_networks import NORMALIZE
from camlib.data.boxdataset import BoxImageDataset, collate_boxes
from camlib.data.localization_split import LocalizationSplit
from camlib.errors import CamlibError


@dataclass
class EvalBatch:
    """``images`` ``(B, 3, H, W)`` normalised; ``labels`` ``(B,)``; ``boxes``: B arrays ``(M_i, 4)``
    in input pixels; ``masks`` ``(B, H, W)`` bool object pixels, or ``None`` when unknown."""

    images: torch.Tensor
    labels: torch.Tensor
    boxes: list[np.ndarray]
    masks: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.labels)


def split_batches(split: LocalizationSplit, batch_size: int = 250) -> Iterator[EvalBatch]:
    """Batches of an in-memory split (one box and one mask per image)."""
    if batch_size < 1:
        raise CamlibError(f"batch_size must be >= 1, got {batch_size}")
    for start in range(0, len(split), batch_size):
        part = slice(start, start + batch_size)
        images = torch.from_numpy(split.images[part]).permute(0, 3, 1, 2).float().div_(255.0)
        yield EvalBatch(NORMALIZE(images), torch.from_numpy(split.labels[part]),
                        [box[None] for box in split.boxes[part]], split.masks[part])


def resized_input(size: int) -> transforms.Compose:
    """The full-scale evaluation transform: the whole image resized to ``size x size``, then normalised
    (as wsolevaluation does, so that every ground-truth box stays inside the input)."""
    return transforms.Compose([transforms.Resize((size, size)), transforms.ToTensor(), NORMALIZE])


def scale_boxes(boxes: np.ndarray, original: tuple[int, int], size: int) -> np.ndarray:
    """Boxes ``(M, 4)`` in an ``original = (H, W)`` image's pixels -> pixels of its ``size x size`` resize."""
    height, width = original
    factors = np.array([size / width, size / height, size / width, size / height])
    return np.clip(np.asarray(boxes, dtype=np.float64) * factors, 0, size)


def dataset_batches(dataset: BoxImageDataset, size: int, batch_size: int = 64, workers: int = 0) -> Iterator[EvalBatch]:
    """Batches of an image-file data set (ILSVRC val, CUB test) whose transform is :func:`resized_input`."""
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=workers, collate_fn=collate_boxes)
    for images, labels, boxes, sizes in loader:
        if images.shape[-2:] != (size, size):
            raise CamlibError(f"images are {tuple(images.shape[-2:])}, expected ({size}, {size}): "
                              f"give the data set transform=resized_input({size})")
        scaled = [scale_boxes(b.numpy(), tuple(s.tolist()), size) for b, s in zip(boxes, sizes)]
        yield EvalBatch(images, labels, scaled)
