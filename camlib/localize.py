"""From a photo to classes, CAMs and boxes in original-image pixels (what the CLI runs)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from PIL import Image
from torchvision.transforms import functional as TF

from .box_rules import boxes_from_cams, check_threshold
from .cam import CAM
from .preprocess import Geometry, resize_crop
from .models.pretrained import PretrainedClassifier


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


def localize(
    classifier: PretrainedClassifier,
    image: Image.Image,
    topk: int = 5,
    threshold: float = 0.2,
) -> Localization:
    """Top-k classes of ``image`` with one CAM box each (the paper's threshold rule).

    The whole image is used (shorter side resized to the network's crop size, no cropping), so a
    box can fall anywhere in the photo.
    """
    check_threshold(threshold)
    resized, geometry = resize_crop(image, resize=classifier.crop, crop=None)
    tensor = TF.normalize(TF.to_tensor(resized), classifier.mean, classifier.std)
    device = next(classifier.model.parameters()).device
    with CAM(classifier.model) as cam:
        result = cam(tensor.unsqueeze(0).to(device), topk=topk)
    maps = result.upsampled()[0]  # (k, H', W')
    boxes = geometry.to_original(boxes_from_cams(maps, threshold))
    probs = result.probs[0].cpu().numpy()
    classes = result.classes[0].cpu().numpy()
    predictions = [
        Prediction(int(c), classifier.class_names[int(c)], float(p), [round(float(v), 1) for v in box])
        for c, p, box in zip(classes, probs, boxes)
    ]
    return Localization(predictions, maps.cpu(), geometry, resized)


def boxes_in_input(loc: Localization, threshold: float = 0.2) -> np.ndarray:
    """The boxes ``(k, 4)`` in the resized input's pixels (for drawing on ``loc.input_image``)."""
    return boxes_from_cams(loc.cams, threshold)
