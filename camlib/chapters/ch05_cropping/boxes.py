"""The crops' boxes: whole pixels covering a box, boxes grown by a margin."""
from __future__ import annotations

import numpy as np

from camlib.utils.errors import CamlibError


def pixel_box(box: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Whole pixels covering ``box`` (floor/ceil), clipped to an image of ``size`` ``(H, W)``, at least 1 x 1."""
    height, width = size
    x0 = int(np.clip(np.floor(box[0]), 0, width - 1))
    y0 = int(np.clip(np.floor(box[1]), 0, height - 1))
    x1 = int(np.clip(np.ceil(box[2]), x0 + 1, width))
    y1 = int(np.clip(np.ceil(box[3]), y0 + 1, height))
    return np.array([x0, y0, x1, y1], dtype=np.int64)


def enlarge_boxes(boxes: np.ndarray, margin: float, sizes: np.ndarray) -> np.ndarray:
    """``boxes (N, 4)`` with width and height grown by ``margin`` (0.25: +25%, half on each side),
    about the same centre, clipped to images of ``sizes (N, 2)`` ``(H, W)``."""
    if margin < 0:
        raise CamlibError(f"the crop margin is a non-negative fraction of the box, got {margin}")
    grow = (boxes[:, 2:] - boxes[:, :2]) * margin / 2
    limit = sizes[:, ::-1].astype(np.float32)
    low = np.clip(boxes[:, :2] - grow, 0, limit)
    high = np.clip(boxes[:, 2:] + grow, 0, limit)
    return np.concatenate([low, high], axis=1).astype(np.float32)
