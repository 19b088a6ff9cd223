"""Evaluation batches from any localization data set: the generated benchmarks, the composites of
ImageNet classes, or ILSVRC val.

An :class:`EvalBatch` holds normalised images and their ground truth in the *input's* pixels, so
the evaluation code is the same at every scale.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Callable, Iterator, Sequence

import cv2
import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader

from camlib.data.sets.boxdataset import BoxImageDataset, collate_boxes
from camlib.data.generators.composites import CompositeSplit
from camlib.data.sets.localization_split import LocalizationSplit
from camlib.data.sets.real_photos import RealPhoto
from camlib.metrics.boxes import box_area
from camlib.utils.errors import CamlibError
from camlib.utils.images import load_image
from camlib.models.preprocess import IMAGENET_MEAN, IMAGENET_STD, normalize_images, resize_rgb

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
        yield EvalBatch(normalize_images(split.images[part], IMAGENET_MEAN, IMAGENET_STD), torch.from_numpy(split.labels[part]),
                        [box[None] for box in split.boxes[part]], split.masks[part])


def _resized_input(size: int, image: Image.Image) -> torch.Tensor:
    return normalize_images(resize_rgb(np.asarray(image.convert("RGB")), size, size)[None], IMAGENET_MEAN, IMAGENET_STD)[0]


def resized_input(size: int) -> Callable[[Image.Image], torch.Tensor]:
    """The full-scale evaluation transform, PIL image -> ``(3, size, size)``: the whole image resized to ``size x size``
    (:func:`camlib.models.preprocess.resize_rgb`), then normalised (as wsolevaluation does, so that every ground-truth box
    stays inside the input). Picklable, for data-loader workers."""
    return partial(_resized_input, size)


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


def composite_batches(split: CompositeSplit, rows: np.ndarray, size: int, mean: Sequence[float], std: Sequence[float],
                      batch_size: int = 50, flip: bool = False) -> Iterator[EvalBatch]:
    """Batches of the composite images ``rows`` of ``split`` (:mod:`camlib.data.generators.composites`), each resized
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
            image = resize_rgb(image, size, size)
            mask = cv2.resize(instance_masks.any(axis=0).astype(np.uint8), (size, size), interpolation=cv2.INTER_NEAREST) > 0
            box = split.boxes(int(i)).astype(np.float64) * scale
            if flip:
                image, mask = image[:, ::-1], mask[:, ::-1]
                box = np.stack([size - box[:, 2], box[:, 1], size - box[:, 0], box[:, 3]], axis=1)
            images.append(image)
            masks.append(np.ascontiguousarray(mask))
            boxes.append(box)
        yield EvalBatch(normalize_images(np.stack(images), mean, std), torch.from_numpy(split.labels[rows[start:start + batch_size]].astype(np.int64)), boxes, np.stack(masks))


def resized_photo(photo: RealPhoto, size: int) -> np.ndarray:
    """A real photo as the networks see it, uint8 ``(size, size, 3)``: resized whole (as :func:`resized_input` does)."""
    return resize_rgb(np.asarray(load_image(photo.path)), size, size)


def real_photo_batches(photos: Sequence[RealPhoto], size: int, mean: Sequence[float], std: Sequence[float],
                       batch_size: int = 16) -> Iterator[EvalBatch]:
    """Batches of the hand-boxed real photos (:func:`camlib.data.sets.real_photos.real_photos`), each resized
    whole to ``size x size`` (as :func:`resized_input` does) and normalised with a network's ``mean``/``std``.

    An image's label is the class of its largest box and its boxes are those of that class (two photos
    show two classes; the evaluation judges one class per image). No masks: PxAP needs pixel labels.
    """
    if batch_size < 1:
        raise CamlibError(f"batch_size must be >= 1, got {batch_size}")
    for start in range(0, len(photos), batch_size):
        images, labels, boxes = [], [], []
        for photo in photos[start:start + batch_size]:
            resized = resized_photo(photo, size)
            label = int(photo.labels[int(np.argmax(box_area(photo.boxes)))])
            images.append(resized)
            labels.append(label)
            boxes.append(scale_boxes(photo.boxes[photo.labels == label], photo.size, size))
        yield EvalBatch(normalize_images(np.stack(images), mean, std), torch.tensor(labels), boxes)


def sample_rows(split: CompositeSplit, count: int, seed: int = 0) -> np.ndarray:
    """``count`` image indices of ``split`` drawn without replacement with a fixed seed, in drawn order
    (so that any prefix is itself a random sample)."""
    if not 1 <= count <= len(split):
        raise CamlibError(f"count must lie in [1, {len(split)}] for the {split.name} split, got {count}")
    return np.random.default_rng(seed).permutation(len(split))[:count]
