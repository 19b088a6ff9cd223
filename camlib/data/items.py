"""Fashion-MNIST items as objects to paste: cropped, resized and tinted into RGBA, one way for every
generator (:mod:`camlib.data.synthetic`, :mod:`camlib.data.object_scenes`, :mod:`camlib.data.vqa_scenes`).

An item is a grey uint8 image ``(h, w)`` whose intensity is both its shape and its shading: a pixel is
opaque from :data:`OPAQUE_AT` up (alpha = intensity / OPAQUE_AT, clipped to 1), and its colour is the
tint darkened to :data:`SHADE_MIN` where the item is darkest. :func:`camlib.data.paste.paste` then puts
the RGBA object on a background, with its exact mask (alpha > 0.5).
"""
from __future__ import annotations

import cv2
import numpy as np

from ..errors import CamlibError

#: Item intensity (0..255) at which a pasted pixel becomes fully opaque.
OPAQUE_AT = 40.0
#: Darkest shade of a tinted item, as a fraction of its tint.
SHADE_MIN = 0.35
#: The named colours of the generated scenes (RGB 0..255); captions and questions use these names.
COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (230, 40, 40), "green": (40, 200, 70), "blue": (50, 100, 240), "yellow": (245, 215, 40),
    "white": (240, 240, 240),
}


def tight_box(item: np.ndarray) -> tuple[int, int, int, int]:
    """``(y0, y1, x0, x1)`` of the pixels of a grey item ``(h, w)`` that would be at least half opaque."""
    ys, xs = np.nonzero(np.asarray(item) >= OPAQUE_AT / 2)
    if len(ys) == 0:
        raise CamlibError("the item has no pixel bright enough to be drawn; pick another item")
    return int(ys.min()), int(ys.max()) + 1, int(xs.min()), int(xs.max()) + 1


def tight_crop(item: np.ndarray) -> np.ndarray:
    """The item cropped to :func:`tight_box`."""
    y0, y1, x0, x1 = tight_box(item)
    return item[y0:y1, x0:x1]


def resize_longer_side(item: np.ndarray, side: int) -> np.ndarray:
    """A uint8 ``(h, w)`` item resized so that its longer side is ``side`` pixels (area averaging when
    shrinking, bilinear when enlarging)."""
    h, w = item.shape
    scale = side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(item, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)


def tinted(item: np.ndarray, colour: tuple[float, float, float] | np.ndarray) -> np.ndarray:
    """The grey item ``(h, w)`` as a uint8 RGBA object ``(h, w, 4)`` of ``colour`` (RGB 0..255)."""
    value = np.asarray(item, dtype=np.float32)
    shade = SHADE_MIN + (1.0 - SHADE_MIN) * value / 255.0
    rgb = np.asarray(colour, dtype=np.float32)[None, None, :] * shade[..., None]
    alpha = 255.0 * np.clip(value / OPAQUE_AT, 0.0, 1.0)
    return np.rint(np.concatenate([rgb, alpha[..., None]], axis=2)).clip(0, 255).astype(np.uint8)
