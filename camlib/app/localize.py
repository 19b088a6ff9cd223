"""From a photo to classes, CAMs and boxes in original-image pixels (what the CLI runs)."""
from __future__ import annotations

from dataclasses import dataclass, field
from numbers import Real
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from PIL import Image
from torch import nn

from camlib.cam.box_rules import boxes_from_cams, check_threshold, instance_boxes
from camlib.cam import select_classes
from camlib.app.defaults import DEFAULT_FLIP, DEFAULT_METHOD, DEFAULT_THRESHOLD, MAP_METHODS
from camlib.utils.errors import BadImageError, CamlibError
from camlib.utils.images import check_aspect, load_image, to_rgb
from camlib.methods.map_methods import CAMMaps, FlipAveragedMaps
from camlib.methods.successors import SuccessorMaps
from camlib.models.pretrained import PretrainedClassifier
from camlib.models.preprocess import Geometry, resize_crop, to_input


#: What :func:`localize` boxes per class: the paper's one box (the largest region) or every instance's.
BOX_MODES = ("largest", "all")


@dataclass
class Prediction:
    """One predicted class with its probability and CAM box ``[x0, y0, x1, y1]`` in original pixels (floats, rounded to
    0.1 px, ``x1``/``y1`` exclusive); with ``boxes="all"``, ``instances`` holds every instance's box, largest first
    (:func:`camlib.cam.box_rules.instance_boxes`; the first is ``box``)."""

    class_index: int
    label: str
    prob: float
    box: list[float]
    instances: list[list[float]] | None = None


@dataclass
class Localization:
    """Everything :func:`localize` found for one image."""

    predictions: list[Prediction]
    cams: torch.Tensor = field(repr=False)  # (k, H', W') at the network input's size
    geometry: Geometry = field(repr=False)
    input_image: Image.Image = field(repr=False)  # the resized image the CAMs align with
    image: Image.Image | None = field(default=None, repr=False)  # the original RGB image
    threshold: float = DEFAULT_THRESHOLD  # the box threshold the predictions' boxes were drawn at


def as_rgb_image(image: Image.Image | np.ndarray | str | Path) -> Image.Image:
    """An 8-bit RGB PIL image from a PIL image of any mode, a file path, or a uint8 array
    ``(H, W)``/``(H, W, 3)``/``(H, W, 4)``; refuses elongated images (:func:`~camlib.utils.images.check_aspect`)."""
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
    if rgb.width == 0 or rgb.height == 0:
        raise BadImageError(name, f"image has no pixels ({rgb.width}x{rgb.height}); pass a picture at least 1x1")
    check_aspect(name, rgb.width, rgb.height)
    return rgb


def check_classifier(classifier: object) -> None:
    """Refuse a classifier :func:`localize_batch` cannot use, before any image is read: not a
    :class:`PretrainedClassifier`, weights without values, ``mean``/``std`` not 3 finite numbers (``std`` > 0),
    a crop size below 1 or no class names."""
    if not isinstance(classifier, PretrainedClassifier):
        raise CamlibError(f"localize needs a camlib.models.PretrainedClassifier (camlib.load_pretrained, or your own model "
                          f"wrapped by camlib.as_classifier), got {type(classifier).__name__}")
    first = next(classifier.model.parameters(), None) if isinstance(classifier.model, nn.Module) else None
    if first is None or first.device.type == "meta":
        raise CamlibError(f"classifier {classifier.name!r}: its model must be a torch.nn.Module with loaded weights")
    for name in ("mean", "std"):
        values = getattr(classifier, name)
        if not (isinstance(values, (tuple, list)) and len(values) == 3 and all(isinstance(v, Real) and np.isfinite(v) for v in values)):
            raise CamlibError(f"classifier {classifier.name!r}: {name} must be 3 finite numbers (R, G, B), got {values!r}")
    if min(classifier.std) <= 0:
        raise CamlibError(f"classifier {classifier.name!r}: std must be positive, got {classifier.std!r}")
    if isinstance(classifier.crop, bool) or not isinstance(classifier.crop, int) or classifier.crop < 1:
        raise CamlibError(f"classifier {classifier.name!r}: crop must be a whole number of pixels >= 1, got {classifier.crop!r}")
    if not classifier.class_names or not all(isinstance(label, str) for label in classifier.class_names):
        raise CamlibError(f"classifier {classifier.name!r}: class_names must be a non-empty list of strings")


def localize(
    classifier: PretrainedClassifier,
    image: Image.Image | np.ndarray | str | Path,
    topk: int = 5,
    threshold: float = DEFAULT_THRESHOLD,
    flip: bool = DEFAULT_FLIP,
    boxes: str = "largest",
    method: str = DEFAULT_METHOD,
) -> Localization:
    """Top-k classes of ``image`` with one CAM box each (the paper's rule: the largest region above
    ``threshold`` x the map's maximum; ``boxes="all"`` adds every instance's box); ``flip`` averages the logits and
    CAMs of the image and its mirror. ``classifier``: :func:`camlib.load_pretrained` or your own GAP network wrapped
    by :func:`camlib.as_classifier` (or loaded by :func:`camlib.load_checkpoint`), on the device it should run on.
    ``method``: ``"cam"`` or one of CAM's successors (:data:`camlib.methods.successors.SUCCESSORS`, computed by
    pytorch-grad-cam: each costs backward passes, Score-CAM one forward pass per channel); maps in [0, 1].

    The whole image is used (shorter side resized to the network's crop size, no cropping), so a
    box can fall anywhere in the photo. ``image`` as :func:`as_rgb_image` takes it.
    """
    return localize_batch(classifier, [image], topk, threshold, flip, boxes, method)[0]


def localize_batch(
    classifier: PretrainedClassifier,
    images: Sequence[Image.Image | np.ndarray | str | Path],
    topk: int = 5,
    threshold: float = DEFAULT_THRESHOLD,
    flip: bool = DEFAULT_FLIP,
    boxes: str = "largest",
    method: str = DEFAULT_METHOD,
) -> list[Localization]:
    """:func:`localize` of several images, in order; images whose resized inputs have the same
    size go through the network in one batch."""
    check_classifier(classifier)
    check_threshold(threshold)
    if boxes not in BOX_MODES:
        raise CamlibError(f"boxes must be one of {BOX_MODES}, got {boxes!r}")
    if method not in MAP_METHODS:
        raise CamlibError(f"unknown method {method!r}; camlib runs {', '.join(MAP_METHODS)}")
    rgb = [as_rgb_image(image) for image in images]
    inputs = [resize_crop(image, resize=classifier.crop, crop=None) for image in rgb]
    groups: dict[tuple[int, int], list[int]] = {}
    for i, (resized, _) in enumerate(inputs):
        groups.setdefault(resized.size, []).append(i)
    device = next(classifier.model.parameters()).device
    out: list[Localization | None] = [None] * len(rgb)
    maps_of = CAMMaps(classifier.model) if method == "cam" else SuccessorMaps(classifier.model, method)
    with FlipAveragedMaps(maps_of) if flip else maps_of as maps_method, torch.no_grad():
        for members in groups.values():
            batch = torch.stack([to_input(inputs[i][0], classifier.mean, classifier.std) for i in members]).to(device)
            logits = maps_method.predict(batch)
            if logits.shape[1] != len(classifier.class_names):
                raise CamlibError(f"classifier {classifier.name!r}: its model gives {logits.shape[1]} scores but it names "
                                  f"{len(classifier.class_names)} classes; give one class name per output")
            chosen = select_classes(logits, topk=topk)  # (b, k), highest first
            probs = torch.softmax(logits, dim=1).gather(1, chosen).cpu().numpy()
            maps = maps_method(batch, chosen).cpu()  # (b, k, H', W')
            classes = chosen.cpu().numpy()
            for row, i in enumerate(members):
                resized, geometry = inputs[i]
                largest = geometry.to_original(boxes_from_cams(maps[row], threshold))
                every = ([_rounded(geometry.to_original(instance_boxes(m, threshold))) for m in maps[row]] if boxes == "all"
                         else [None] * len(largest))
                predictions = [
                    Prediction(int(c), classifier.class_names[int(c)], float(p), _rounded(box[None])[0], instances)
                    for c, p, box, instances in zip(classes[row], probs[row], largest, every)
                ]
                out[i] = Localization(predictions, maps[row], geometry, resized, rgb[i], threshold)
    return out  # type: ignore[return-value]


def _rounded(boxes: np.ndarray) -> list[list[float]]:
    return [[round(float(v), 1) for v in box] for box in boxes]


def boxes_in_input(loc: Localization, threshold: float | None = None) -> np.ndarray:
    """The boxes ``(k, 4)`` in the resized input's pixels (for drawing on ``loc.input_image``), at ``loc``'s own
    threshold unless ``threshold`` is given: the same boxes as ``loc.predictions``' before they are mapped back."""
    return boxes_from_cams(loc.cams, loc.threshold if threshold is None else threshold)
