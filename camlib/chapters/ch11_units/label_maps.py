"""Label maps: the class of the object at each pixel (from masks or boxes) and at each cell of a unit's map."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from camlib.utils.errors import CamlibError
from camlib.metrics.boxes import box_area


#: Class code of a map cell whose centre lies on no object; objects of a stamp group with no ImageNet class
#: are coded ``GROUP_OFFSET + group`` (never an ImageNet class, still "an object").
BACKGROUND, GROUP_OFFSET = -1, 1000


def cell_classes(label_map: np.ndarray, side: int) -> np.ndarray:
    """int64 (side * side,): ``label_map`` (H, W) at the centre of each cell of a ``side`` x ``side`` grid, row-major."""
    label_map = np.asarray(label_map)
    if label_map.ndim != 2 or side < 1:
        raise CamlibError(f"need a (H, W) label map and side >= 1; got shape {label_map.shape} and {side}")
    centres = (np.arange(side) + 0.5) / side
    rows = np.minimum((centres * label_map.shape[0]).astype(np.int64), label_map.shape[0] - 1)
    cols = np.minimum((centres * label_map.shape[1]).astype(np.int64), label_map.shape[1] - 1)
    return label_map[np.ix_(rows, cols)].astype(np.int64).ravel()


def mask_label_map(masks: np.ndarray, classes: Sequence[int]) -> np.ndarray:
    """int64 (H, W): the class of the topmost instance (the last of ``masks`` (k, H, W)) at each pixel, else BACKGROUND."""
    masks = np.asarray(masks, dtype=bool)
    out = np.full(masks.shape[1:], BACKGROUND, dtype=np.int64)
    for mask, label in zip(masks, classes):
        out[mask] = label
    return out


def box_label_map(boxes: np.ndarray, classes: Sequence[int], size: tuple[int, int]) -> np.ndarray:
    """int64 ``size`` (H, W): the class of the smallest box ``[x0, y0, x1, y1]`` (pixels) covering each pixel, else BACKGROUND."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    out = np.full(size, BACKGROUND, dtype=np.int64)
    ys, xs = np.arange(size[0]) + 0.5, np.arange(size[1]) + 0.5
    for j in np.argsort(-box_area(boxes), kind="stable"):
        x0, y0, x1, y1 = boxes[j]
        out[np.ix_((ys >= y0) & (ys < y1), (xs >= x0) & (xs < x1))] = classes[j]
    return out
