"""A real photograph with a ground-truth box: EfficientNet-Lite0's CAM box on imgaug's quokka.

ImageNet has no quokka class, so this checks class-agnostic localization: does the top-1 class's
CAM box cover the animal?
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from camlib.cam.box_rules import PAPER_THRESHOLD, released_code_boxes
from camlib.data.assets.packages import quokka
from camlib.utils.images import load_image
from camlib.app.localize import Localization, localize
from camlib.metrics import iou
from camlib.models.pretrained import load_pretrained


@dataclass
class QuokkaResult:
    """Boxes ``[x0, y0, x1, y1]`` in the photo's pixels and their best IoU with the ground truth."""

    image: Image.Image
    localization: Localization
    gt_boxes: np.ndarray
    paper_box: np.ndarray
    released_box: np.ndarray
    paper_iou: float
    released_iou: float


def quokka_localization(threshold: float = PAPER_THRESHOLD) -> QuokkaResult:
    """Lite0's top-1 CAM box by the paper's rule (``threshold``) and by the released rule (box1)."""
    path, gt_boxes = quokka()
    image = load_image(path)
    loc = localize(load_pretrained("efficientnet-lite0"), image, topk=1, threshold=threshold)
    paper_box = np.asarray(loc.predictions[0].box, dtype=np.float64)
    released_box = loc.geometry.to_original(released_code_boxes(loc.cams[0])[0])
    return QuokkaResult(image, loc, gt_boxes, paper_box, released_box,
                        float(iou(paper_box, gt_boxes).max()), float(iou(released_box, gt_boxes).max()))
