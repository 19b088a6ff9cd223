"""The one colour table of camlib's scenes: named colours, the name of a pixel's colour, and the
dominant colour of an object read from its own pixels.

A pixel is *chromatic* when its HSV saturation is at least :data:`MIN_SATURATION` and its value at
least :data:`MIN_VALUE`; a chromatic pixel is named by its hue (:data:`HUES`), and an orange-hued one
darker than :data:`BROWN_VALUE` is brown (wood, fur, copper). Other pixels (white, grey, black,
dark) have no colour name. An object's colour is *clear* when at least :data:`MIN_CHROMATIC` of its
mask is chromatic and at least :data:`MIN_DOMINANT` of those pixels share one name.
"""
from __future__ import annotations

import numpy as np

from camlib.utils.errors import CamlibError

#: Colour name -> a typical RGB (0..255) of the colour (for legends and tests).
COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (200, 30, 30), "orange": (240, 140, 20), "brown": (130, 80, 30), "yellow": (230, 210, 30),
    "green": (40, 160, 50), "blue": (40, 80, 210), "purple": (150, 50, 170),
}
#: Hue ranges in degrees [start, end) of each hue name (red wraps around 0).
HUES: tuple[tuple[str, float, float], ...] = (
    ("red", 340.0, 15.0), ("orange", 15.0, 45.0), ("yellow", 45.0, 70.0), ("green", 70.0, 170.0),
    ("blue", 170.0, 260.0), ("purple", 260.0, 340.0),
)
MIN_SATURATION, MIN_VALUE, BROWN_VALUE = 0.35, 0.25, 0.6
MIN_CHROMATIC, MIN_DOMINANT = 0.5, 0.7
_NAMES = tuple(COLOURS)


def _hsv(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hue in degrees [0, 360), saturation and value in [0, 1] of uint8 RGB ``(..., 3)``."""
    c = np.asarray(rgb, dtype=np.float64) / 255.0
    high, low = c.max(axis=-1), c.min(axis=-1)
    spread = high - low
    safe = np.where(spread > 0, spread, 1.0)
    r, g, b = c[..., 0], c[..., 1], c[..., 2]
    hue = np.select([high == r, high == g], [((g - b) / safe) % 6, (b - r) / safe + 2], (r - g) / safe + 4) * 60.0
    hue = np.where(spread > 0, hue, 0.0) % 360.0
    return hue, np.where(high > 0, spread / np.where(high > 0, high, 1.0), 0.0), high


def colour_codes(rgb: np.ndarray) -> np.ndarray:
    """int ``(...)``: the index into :data:`COLOURS` of each uint8 RGB pixel ``(..., 3)``, -1 where it has no name."""
    rgb = np.asarray(rgb)
    if rgb.shape[-1:] != (3,):
        raise CamlibError(f"colours are RGB triples (..., 3), got shape {rgb.shape}")
    hue, saturation, value = _hsv(rgb)
    codes = np.full(hue.shape, -1, dtype=np.int64)
    for name, start, end in HUES:
        inside = (hue >= start) & (hue < end) if start < end else (hue >= start) | (hue < end)
        codes[inside] = _NAMES.index(name)
    codes[(codes == _NAMES.index("orange")) & (value < BROWN_VALUE)] = _NAMES.index("brown")
    codes[(saturation < MIN_SATURATION) | (value < MIN_VALUE)] = -1
    return codes


def colour_name(rgb: tuple[int, int, int]) -> str | None:
    """The name (a key of :data:`COLOURS`) of one RGB colour (0..255), or ``None`` (white, grey, black, dark)."""
    code = int(colour_codes(np.asarray(rgb, dtype=np.uint8).reshape(1, 3))[0])
    return _NAMES[code] if code >= 0 else None


def dominant_colour(pixels: np.ndarray) -> tuple[str | None, float, float]:
    """The clear colour of an object from its pixels uint8 ``(n, 3)`` (those under its mask).

    Returns ``(name or None, chromatic share, share of the chromatic pixels with the top name)``;
    the name is ``None`` unless the colour is clear (see the module docstring).
    """
    codes = colour_codes(pixels).reshape(-1)
    if not len(codes):
        raise CamlibError("no pixels: an object's colour needs at least one pixel under its mask")
    chromatic = codes[codes >= 0]
    share = len(chromatic) / len(codes)
    if not len(chromatic):
        return None, 0.0, 0.0
    counts = np.bincount(chromatic, minlength=len(_NAMES))
    top = int(counts.argmax())
    purity = counts[top] / len(chromatic)
    clear = share >= MIN_CHROMATIC and purity >= MIN_DOMINANT
    return (_NAMES[top] if clear else None), float(share), float(purity)

