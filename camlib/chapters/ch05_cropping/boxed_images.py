"""Images with one label and one ground-truth box each, loaded on demand, and their resized (cropped) views."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
from PIL import Image

from camlib.data.sets.boxdataset import BoxImageDataset
from camlib.data.generators.composites import CompositeSplit
from camlib.data.sets.localization_split import LocalizationSplit
from camlib.utils.errors import CamlibError
from camlib.utils.images import load_image
from camlib.chapters.ch05_cropping.boxes import pixel_box
from camlib.models.preprocess import resize_image



@dataclass
class BoxedImages(Sequence):
    """``N`` images with one label and one ground-truth box each; indexing loads PIL images.

    Attributes:
        load: ``load(i)`` -> the ``i``-th image as RGB PIL.
        labels: int64 ``(N,)``.
        boxes: float32 ``(N, 4)`` ``[x0, y0, x1, y1]`` in the image's own pixels.
        sizes: int64 ``(N, 2)`` each image's ``(H, W)``.
        name: identifies the images in cache file names (a data set, split and seed).
        class_names: names of the labels.
    """

    load: Callable[[int], Image.Image]
    labels: np.ndarray
    boxes: np.ndarray
    sizes: np.ndarray
    name: str
    class_names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        n = len(self.labels)
        if self.boxes.shape != (n, 4) or self.sizes.shape != (n, 2):
            raise CamlibError(f"{self.name}: need labels (N,), boxes (N, 4), sizes (N, 2); got "
                              f"{self.labels.shape}, {self.boxes.shape}, {self.sizes.shape}")

    @classmethod
    def from_split(cls, split: LocalizationSplit, name: str) -> "BoxedImages":
        """A benchmark split held in memory."""
        n, h, w = split.images.shape[:3]
        return cls(lambda i: Image.fromarray(split.images[i]), split.labels.astype(np.int64), split.boxes.astype(np.float32),
                   np.tile([h, w], (n, 1)).astype(np.int64), name, tuple(split.class_names))

    @classmethod
    def from_composites(cls, split: CompositeSplit, name: str, names: tuple[str, ...]) -> "BoxedImages":
        """A composite split with one instance per image, rendered from its recipe on access."""
        first = split.arrays["first"]
        if (np.diff(first) != 1).any():
            raise CamlibError(f"{name}: the cropping protocol needs exactly one object per image (multi_share=0)")
        n = len(split)
        return cls(lambda i: Image.fromarray(split.render(i)[0]), split.labels.astype(np.int64),
                   split.arrays["boxes"][first[:-1]].astype(np.float32), np.tile([split.size, split.size], (n, 1)).astype(np.int64),
                   name, names)

    @classmethod
    def from_dataset(cls, dataset: BoxImageDataset, name: str) -> "BoxedImages":
        """A data set of image files with one box each (e.g. :class:`camlib.data.sets.cub.CUB200`); sizes come from the file headers."""
        records = dataset.records
        if any(len(r.boxes) != 1 for r in records):
            raise CamlibError(f"{name}: the cropping protocol needs exactly one ground-truth box per image")
        sizes = []
        for record in records:
            with Image.open(record.path) as img:
                sizes.append((img.height, img.width))
        return cls(lambda i: load_image(records[i].path), dataset.labels, np.stack([r.boxes[0] for r in records]).astype(np.float32),
                   np.asarray(sizes, dtype=np.int64).reshape(-1, 2), name, tuple(dataset.class_names))

    def subset(self, indices: np.ndarray, name: str) -> "BoxedImages":
        """The images at ``indices``, named ``name``."""
        indices = np.asarray(indices, dtype=np.int64)
        return BoxedImages(lambda i: self.load(int(indices[i])), self.labels[indices], self.boxes[indices],
                           self.sizes[indices], name, self.class_names)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self.load(i) for i in range(*index.indices(len(self)))]
        return self.load(int(index))

    def view(self, size: int, boxes: np.ndarray | None = None, source_size: int | None = None) -> "ImageView":
        """The images (cropped to ``boxes (N, 4)`` if given) resized to ``size`` x ``size``, lazily;
        ``source_size``: crop from the image first resized to that square size (fewer pixels)."""
        return ImageView(self, size, boxes, source_size)

    def box_shares(self) -> np.ndarray:
        """``(N,)`` share of each image covered by its ground-truth box."""
        return np.prod(self.boxes[:, 2:] - self.boxes[:, :2], axis=1) / np.prod(self.sizes, axis=1)


@dataclass
class ImageView(Sequence):
    """Item ``i`` is ``images[i]``, cut to ``pixel_box(boxes[i])`` when boxes are given, resized to
    ``size`` x ``size`` (bilinear, antialiased) as the extractor sees it. With ``source_size`` the
    image is first resized to ``source_size`` x ``source_size`` and the box scaled with it."""

    images: BoxedImages
    size: int
    boxes: np.ndarray | None = None
    source_size: int | None = None

    def __post_init__(self) -> None:
        if self.boxes is not None and self.boxes.shape != (len(self.images), 4):
            raise CamlibError(f"need one box per image: {len(self.images)} images, boxes of shape {self.boxes.shape}")

    def __len__(self) -> int:
        return len(self.images)

    def _item(self, i: int) -> Image.Image:
        image, hw = self.images[i], tuple(self.images.sizes[i])
        if self.boxes is None:
            return resize_image(image, self.size, self.size)
        box = self.boxes[i]
        if self.source_size is not None:
            image = resize_image(image, self.source_size, self.source_size)
            box = box * np.array([self.source_size / hw[1], self.source_size / hw[0]] * 2)
            hw = (self.source_size, self.source_size)
        image = image.crop(tuple(int(v) for v in pixel_box(box, hw)))
        return resize_image(image, self.size, self.size)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self._item(i) for i in range(*index.indices(len(self)))]
        return self._item(int(index))
