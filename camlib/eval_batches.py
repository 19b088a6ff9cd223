"""Evaluation batches from any localization data set: the generated benchmarks, the composites of
ImageNet classes, or ILSVRC val.

An :class:`EvalBatch` holds normalised images and their ground truth in the *input's* pixels, so
the evaluation code is the same at every scale.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Sequence

import cv2
import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader
from torchvision import transforms

from camlib.data.boxdataset import BoxImageDataset, collate_boxes
from camlib.data.composites import CompositeSplit
from camlib.data.localization_split import LocalizationSplit
from camlib.data.real_photos import RealPhoto
from camlib.errors import CamlibError
from camlib.preprocess import IMAGENET_MEAN, IMAGENET_STD

#: ImageNet's input normalisation (on [0, 1] RGB): the small networks' and torchvision's.
NORMALIZE = transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD)


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


def _normalised(images: list[np.ndarray], mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """uint8 ``(H, W, 3)`` images -> one ``(B, 3, H, W)`` float batch normalised with ``mean``/``std`` (on [0, 1])."""
    batch = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float().div_(255.0)
    return (batch - torch.tensor(mean, dtype=torch.float32)[:, None, None]) / torch.tensor(std, dtype=torch.float32)[:, None, None]


def composite_batches(split: CompositeSplit, rows: np.ndarray, size: int, mean: Sequence[float], std: Sequence[float],
                      batch_size: int = 50, flip: bool = False) -> Iterator[EvalBatch]:
    """Batches of the composite images ``rows`` of ``split`` (:mod:`camlib.data.composites`), each resized
    whole to ``size x size`` and normalised with a network's ``mean``/``std``; boxes and the union of the
    instances' masks follow the resize. ``flip`` mirrors images, boxes and masks left to right."""
    if batch_size < 1:
        raise CamlibError(f"batch_size must be >= 1, got {batch_size}")
    rows = np.asarray(rows)
    if rows.ndim != 1 or rows.size == 0 or rows.min() < 0 or rows.max() >= len(split):
        raise CamlibError(f"rows must be indices into the {len(split)} {split.name} composites")
    scale = size / split.size
    for start in range(0, len(rows), batch_size):
        images, masks, boxes = [], [], []
        for i in rows[start:start + batch_size]:
            image, instance_masks = split.render(int(i))
            image = cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA if size < split.size else cv2.INTER_LINEAR)
            mask = cv2.resize(instance_masks.any(axis=0).astype(np.uint8), (size, size), interpolation=cv2.INTER_NEAREST) > 0
            box = split.boxes(int(i)).astype(np.float64) * scale
            if flip:
                image, mask = image[:, ::-1], mask[:, ::-1]
                box = np.stack([size - box[:, 2], box[:, 1], size - box[:, 0], box[:, 3]], axis=1)
            images.append(image)
            masks.append(np.ascontiguousarray(mask))
            boxes.append(box)
        yield EvalBatch(_normalised(images, mean, std), torch.from_numpy(split.labels[rows[start:start + batch_size]].astype(np.int64)), boxes, np.stack(masks))


def real_photo_batches(photos: Sequence[RealPhoto], size: int, mean: Sequence[float], std: Sequence[float],
                       batch_size: int = 16) -> Iterator[EvalBatch]:
    """Batches of the hand-boxed real photos (:func:`camlib.data.real_photos.real_photos`), each resized
    whole to ``size x size`` (as :func:`resized_input` does) and normalised with a network's ``mean``/``std``.

    An image's label is the class of its largest box and its boxes are those of that class (two photos
    show two classes; the evaluation judges one class per image). No masks: PxAP needs pixel labels.
    """
    if batch_size < 1:
        raise CamlibError(f"batch_size must be >= 1, got {batch_size}")
    for start in range(0, len(photos), batch_size):
        images, labels, boxes = [], [], []
        for photo in photos[start:start + batch_size]:
            rgb = np.asarray(Image.open(photo.path).convert("RGB"))
            resized = cv2.resize(rgb, (size, size), interpolation=cv2.INTER_AREA if size < min(rgb.shape[:2]) else cv2.INTER_LINEAR)
            areas = (photo.boxes[:, 2] - photo.boxes[:, 0]) * (photo.boxes[:, 3] - photo.boxes[:, 1])
            label = int(photo.labels[int(np.argmax(areas))])
            images.append(resized)
            labels.append(label)
            boxes.append(scale_boxes(photo.boxes[photo.labels == label], photo.size, size))
        yield EvalBatch(_normalised(images, mean, std), torch.tensor(labels), boxes)
