"""The one pasting routine: an RGBA object onto a background at a position, scale and flip.

Every generated benchmark pastes objects the same way: the object is flipped, resized with
premultiplied alpha (no dark fringes), alpha-blended in float onto the background, and clipped to
it. The object's mask is where its resized alpha exceeds 0.5 inside the background, and its box is
the mask's tight extent ``[x0, y0, x1, y1]`` (float pixels, x1/y1 exclusive, camlib's convention).
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from camlib.metrics.boxes import mask_box
from camlib.utils.errors import CamlibError

#: Alpha above which a pixel belongs to the object's mask (alpha in [0, 1]).
MASK_ALPHA = 0.5


@dataclass(frozen=True)
class Pasted:
    """A background with one object pasted on it.

    Attributes:
        image: ``(H, W, 3)`` uint8, the blended result.
        mask: ``(H, W)`` bool, the pixels whose object alpha exceeds :data:`MASK_ALPHA`.
        box: ``(4,)`` float32 ``[x0, y0, x1, y1]``, the mask's tight box (x1/y1 exclusive).
    """

    image: np.ndarray
    mask: np.ndarray
    box: np.ndarray


def _check(background: np.ndarray, rgba: np.ndarray) -> None:
    if not (isinstance(background, np.ndarray) and background.dtype == np.uint8 and background.ndim == 3
            and background.shape[2] == 3):
        got = f"{background.dtype} {background.shape}" if isinstance(background, np.ndarray) else type(background).__name__
        raise CamlibError(f"background must be a uint8 (H, W, 3) RGB array, got {got}")
    if not (isinstance(rgba, np.ndarray) and rgba.dtype == np.uint8 and rgba.ndim == 3 and rgba.shape[2] == 4):
        got = f"{rgba.dtype} {rgba.shape}" if isinstance(rgba, np.ndarray) else type(rgba).__name__
        raise CamlibError(f"the object must be a uint8 (h, w, 4) RGBA array (e.g. np.asarray(Image.open(p).convert('RGBA'))), got {got}")


def scale_rgba(rgba: np.ndarray, scale: float = 1.0, flip: bool = False) -> np.ndarray:
    """The object flipped left-right (if ``flip``) and resized by ``scale``: float32 ``(h', w', 4)``,
    RGB in 0-255 and alpha in [0, 1], RGB not premultiplied.

    Resizing uses premultiplied alpha (area averaging when shrinking, bilinear when enlarging), so
    transparent pixels' colours never bleed into the object's edge.
    """
    if not (np.isfinite(scale) and scale > 0):
        raise CamlibError(f"scale must be a positive number, got {scale}")
    obj = rgba.astype(np.float32)
    alpha = obj[..., 3:] / 255.0
    premultiplied = np.concatenate([obj[..., :3] * alpha, alpha], axis=2)
    if flip:
        premultiplied = premultiplied[:, ::-1]
    height, width = rgba.shape[:2]
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    if size != (width, height):
        interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        premultiplied = cv2.resize(np.ascontiguousarray(premultiplied), size, interpolation=interpolation)
    alpha = np.clip(premultiplied[..., 3:], 0.0, 1.0)
    rgb = np.where(alpha > 0, premultiplied[..., :3] / np.maximum(alpha, 1e-12), 0.0)
    return np.concatenate([np.clip(rgb, 0, 255), alpha], axis=2).astype(np.float32)


def blend(background: np.ndarray, rgba: np.ndarray, x: int, y: int, scale: float = 1.0,
          flip: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """:func:`paste` without the box: ``(image, mask)``, where the mask may be empty (a faint fragment)."""
    _check(background, rgba)
    obj = scale_rgba(rgba, scale, flip)
    height, width = background.shape[:2]
    h, w = obj.shape[:2]
    x, y = int(x), int(y)
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, width), min(y + h, height)
    image = background.copy()
    mask = np.zeros((height, width), dtype=bool)
    if x0 < x1 and y0 < y1:
        part = obj[y0 - y:y1 - y, x0 - x:x1 - x]
        alpha = part[..., 3:]
        region = image[y0:y1, x0:x1].astype(np.float32)
        image[y0:y1, x0:x1] = np.rint(alpha * part[..., :3] + (1.0 - alpha) * region).astype(np.uint8)
        mask[y0:y1, x0:x1] = alpha[..., 0] > MASK_ALPHA
    return image, mask


def paste(background: np.ndarray, rgba: np.ndarray, x: int, y: int, scale: float = 1.0, flip: bool = False) -> Pasted:
    """Paste ``rgba`` onto ``background`` with the resized object's top-left corner at ``(x, y)``.

    Args:
        background: ``(H, W, 3)`` uint8 RGB; not modified.
        rgba: ``(h, w, 4)`` uint8 RGBA object (alpha 0 = transparent).
        x, y: top-left corner of the resized object in background pixels; it may lie partly
            outside the background (the part outside is clipped away).
        scale: resize factor of the object; ``flip``: mirror it left-right first.

    Returns:
        :class:`Pasted` with the blended image ``out = a * object + (1 - a) * background``
        (rounded to uint8), the mask ``a > 0.5`` and its tight box. Raises
        :class:`~camlib.utils.errors.CamlibError` when no pixel of the object's mask lands on the background.
    """
    image, mask = blend(background, rgba, x, y, scale, flip)
    if not mask.any():
        raise CamlibError("the object lies outside the background or is fully transparent: nothing was pasted")
    return Pasted(image, mask, mask_box(mask))
