"""Network-input preprocessing, one path for every input camlib makes: :func:`resize_rgb` (the one resampling
rule) and :func:`normalize_images` (the one normalisation), :func:`resize_crop` that remembers how to map boxes
back to the original image, and the ImageNet-1k constants (class names, the usual mean and standard deviation)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import cv2
import numpy as np
import torch
from PIL import Image
from torchvision.models._meta import _IMAGENET_CATEGORIES

from camlib.utils.errors import CamlibError

#: The 1000 ImageNet-1k class names in the standard (synset-sorted) order.
IMAGENET_CLASSES: tuple[str, ...] = tuple(_IMAGENET_CATEGORIES)
#: The usual ImageNet channel mean and standard deviation on [0, 1] RGB.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def resize_rgb(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """uint8 ``(H, W, 3)`` -> ``(height, width, 3)``: OpenCV's pixel-area average when the image shrinks (it
    anti-aliases), bilinear when it grows. Every network input in camlib (photos, composites, crops) is resized by
    this rule, so one picture gives one input whatever path it takes."""
    h, w = image.shape[:2]
    if (h, w) == (height, width):
        return image
    shrinks = width * height < w * h
    return cv2.resize(np.ascontiguousarray(image), (width, height), interpolation=cv2.INTER_AREA if shrinks else cv2.INTER_LINEAR)


def resize_image(image: Image.Image, width: int, height: int) -> Image.Image:
    """A PIL image as RGB ``width`` x ``height``, resized by :func:`resize_rgb` (the one rule, for PIL images)."""
    return Image.fromarray(resize_rgb(np.asarray(image.convert("RGB")), width, height))


def normalize_images(images: np.ndarray, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """uint8 ``(N, H, W, 3)`` -> the networks' float input ``(N, 3, H, W)``: pixels / 255, minus ``mean``, over ``std``."""
    batch = torch.from_numpy(np.require(images, requirements=["C", "W"])).permute(0, 3, 1, 2).float().div_(255.0)
    return (batch - torch.tensor(mean, dtype=torch.float32)[:, None, None]) / torch.tensor(std, dtype=torch.float32)[:, None, None]


@dataclass(frozen=True)
class Geometry:
    """How a network input relates to the original image: ``input = original * scale - offset``."""

    scale_x: float
    scale_y: float
    offset_x: float
    offset_y: float
    original_size: tuple[int, int]  # (H, W)

    def to_original(self, boxes: np.ndarray) -> np.ndarray:
        """Map boxes ``(..., 4)`` from input pixels to original-image pixels, clipped to the image."""
        boxes = np.asarray(boxes, dtype=np.float64)
        out = np.empty_like(boxes)
        out[..., 0::2] = (boxes[..., 0::2] + self.offset_x) / self.scale_x
        out[..., 1::2] = (boxes[..., 1::2] + self.offset_y) / self.scale_y
        height, width = self.original_size
        out[..., 0::2] = out[..., 0::2].clip(0, width)
        out[..., 1::2] = out[..., 1::2].clip(0, height)
        return out


def resize_crop(image: Image.Image, resize: int = 256, crop: int | None = 224) -> tuple[Image.Image, Geometry]:
    """Resize the shorter side to ``resize``, then centre-crop ``crop`` x ``crop`` (``None``: no crop).

    Returns the new image and the :class:`Geometry` that maps its boxes back to ``image``.
    """
    width, height = image.size
    scale = resize / min(width, height)
    new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
    resized = resize_image(image, new_w, new_h)
    off_x = off_y = 0
    if crop is not None:
        off_x, off_y = (new_w - crop) // 2, (new_h - crop) // 2
        resized = resized.crop((off_x, off_y, off_x + crop, off_y + crop))
    return resized, Geometry(new_w / width, new_h / height, float(off_x), float(off_y), (height, width))


def preprocess(
    image: Image.Image | np.ndarray,
    mean: Sequence[float],
    std: Sequence[float],
    resize: int = 256,
    crop: int | None = 224,
) -> tuple[torch.Tensor, Geometry]:
    """:func:`resize_crop`, then :func:`to_input`: returns the tensor ``(3, H', W')`` and the :class:`Geometry`.
    ``image``: a PIL image or a uint8 array ``(H, W)`` / ``(H, W, 3)``."""
    if isinstance(image, np.ndarray):
        if image.dtype != np.uint8 or not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 3)):
            raise CamlibError(f"an image array must be uint8 (H, W) or (H, W, 3), got {image.dtype} {image.shape}")
        image = Image.fromarray(image)
    if not isinstance(image, Image.Image):
        raise CamlibError(f"preprocess takes a PIL image or a uint8 array, got {type(image).__name__}; "
                          "read files with camlib.load_image")
    resized, geometry = resize_crop(image, resize, crop)
    return to_input(resized, mean, std), geometry


def to_input(image: Image.Image, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """An RGB image as the network's normalised input ``(3, H, W)`` (:func:`normalize_images`)."""
    return normalize_images(np.asarray(image.convert("RGB"))[None], mean, std)[0]
