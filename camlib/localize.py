"""From a photo to classes, CAMs and boxes in original-image pixels (what the CLI runs)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from PIL import Image

from .box_rules import boxes_from_cams, check_threshold
from .cam import select_classes
from .defaults import DEFAULT_FLIP, DEFAULT_THRESHOLD
from .errors import CamlibError
from .images import check_aspect, load_image, to_rgb
from .map_methods import CAMMaps, FlipAveragedMaps
from .models.pretrained import PretrainedClassifier
from .preprocess import Geometry, resize_crop, to_input


@dataclass
class Prediction:
    """One predicted class with its probability and CAM box ``[x0, y0, x1, y1]`` in original pixels."""

    class_index: int
    label: str
    prob: float
    box: list[float]


@dataclass
class Localization:
    """Everything :func:`localize` found for one image."""

    predictions: list[Prediction]
    cams: torch.Tensor = field(repr=False)  # (k, H', W') at the network input's size
    geometry: Geometry = field(repr=False)
    input_image: Image.Image = field(repr=False)  # the resized image the CAMs align with
    image: Image.Image | None = field(default=None, repr=False)  # the original RGB image


def as_rgb_image(image: Image.Image | np.ndarray | str | Path) -> Image.Image:
    """An 8-bit RGB PIL image from a PIL image of any mode, a file path, or a uint8 array
    ``(H, W)``/``(H, W, 3)``/``(H, W, 4)``; refuses elongated images (:func:`~camlib.images.check_aspect`)."""
    name = str(image) if isinstance(image, (str, Path)) else "image"
    if isinstance(image, (str, Path)):
        image = load_image(image)
    elif isinstance(image, np.ndarray):
        if image.dtype != np.uint8 or not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] in (3, 4))):
            raise CamlibError(f"an image array must be uint8 (H, W), (H, W, 3) or (H, W, 4), got {image.dtype} {image.shape}; "
                              "or pass a file path or a PIL image")
        image = Image.fromarray(image)
    elif not isinstance(image, Image.Image):
        raise CamlibError(f"image must be a PIL image, a file path or a uint8 array, got {type(image).__name__}")
    rgb = to_rgb(image)
    check_aspect(name, rgb.width, rgb.height)
    return rgb


def localize(
    classifier: PretrainedClassifier,
    image: Image.Image | np.ndarray | str | Path,
    topk: int = 5,
    threshold: float = DEFAULT_THRESHOLD,
    flip: bool = DEFAULT_FLIP,
) -> Localization:
    """Top-k classes of ``image`` with one CAM box each (the paper's rule: the largest region above
    ``threshold`` x the map's maximum); ``flip`` averages the logits and CAMs of the image and its mirror.

    The whole image is used (shorter side resized to the network's crop size, no cropping), so a
    box can fall anywhere in the photo. ``image`` as :func:`as_rgb_image` takes it.
    """
    return localize_batch(classifier, [image], topk, threshold, flip)[0]


def localize_batch(
    classifier: PretrainedClassifier,
    images: Sequence[Image.Image | np.ndarray | str | Path],
    topk: int = 5,
    threshold: float = DEFAULT_THRESHOLD,
    flip: bool = DEFAULT_FLIP,
) -> list[Localization]:
    """:func:`localize` of several images, in order; images whose resized inputs have the same
    size go through the network in one batch."""
    check_threshold(threshold)
    rgb = [as_rgb_image(image) for image in images]
    inputs = [resize_crop(image, resize=classifier.crop, crop=None) for image in rgb]
    groups: dict[tuple[int, int], list[int]] = {}
    for i, (resized, _) in enumerate(inputs):
        groups.setdefault(resized.size, []).append(i)
    device = next(classifier.model.parameters()).device
    out: list[Localization | None] = [None] * len(rgb)
    cam = CAMMaps(classifier.model)
    with FlipAveragedMaps(cam) if flip else cam as method, torch.no_grad():
        for members in groups.values():
            batch = torch.stack([to_input(inputs[i][0], classifier.mean, classifier.std) for i in members]).to(device)
            logits = method.predict(batch)
            chosen = select_classes(logits, topk=topk)  # (b, k), highest first
            probs = torch.softmax(logits, dim=1).gather(1, chosen).cpu().numpy()
            maps = method(batch, chosen).cpu()  # (b, k, H', W')
            classes = chosen.cpu().numpy()
            for row, i in enumerate(members):
                resized, geometry = inputs[i]
                boxes = geometry.to_original(boxes_from_cams(maps[row], threshold))
                predictions = [
                    Prediction(int(c), classifier.class_names[int(c)], float(p), [round(float(v), 1) for v in box])
                    for c, p, box in zip(classes[row], probs[row], boxes)
                ]
                out[i] = Localization(predictions, maps[row], geometry, resized, rgb[i])
    return out  # type: ignore[return-value]


def boxes_in_input(loc: Localization, threshold: float = 0.2) -> np.ndarray:
    """The boxes ``(k, 4)`` in the resized input's pixels (for drawing on ``loc.input_image``)."""
    return boxes_from_cams(loc.cams, threshold)
