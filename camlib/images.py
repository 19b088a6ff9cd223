"""Loading images safely: every failure becomes a one-line :class:`BadImageError` naming the file."""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import BadImageError

#: Images larger than this many pixels are refused rather than exhausting memory.
MAX_PIXELS = 200_000_000


def load_image(path: str | Path) -> Image.Image:
    """Open an image file as 8-bit RGB, honouring EXIF orientation.

    Grayscale, RGBA (composited on white), palette, 16-bit and CMYK images are converted.
    Raises :class:`BadImageError` for missing, empty, truncated or non-image files.
    """
    path = Path(path)
    if not path.exists():
        raise BadImageError(path, "file not found; check the path")
    if path.is_dir():
        raise BadImageError(path, "is a directory, expected an image file")
    if path.stat().st_size == 0:
        raise BadImageError(path, "file is empty (0 bytes); re-download or re-export it")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # MAX_PIXELS is the limit here
            with Image.open(path) as img:
                if img.width * img.height > MAX_PIXELS:
                    raise BadImageError(path, f"image is {img.width}x{img.height}, more than {MAX_PIXELS} pixels; downscale it first")
                img.load()
                img = ImageOps.exif_transpose(img)
                return to_rgb(img)
    except BadImageError:
        raise
    except UnidentifiedImageError:
        raise BadImageError(path, "not an image file PIL can read (JPEG, PNG, ...); is the extension wrong?") from None
    except (OSError, SyntaxError, ValueError) as err:
        raise BadImageError(path, f"cannot decode image ({err}); the file is probably truncated or corrupt") from None
    except Image.DecompressionBombError as err:
        raise BadImageError(path, f"image too large to decode safely ({err}); downscale it first") from None


def to_rgb(img: Image.Image) -> Image.Image:
    """Convert any PIL mode to 8-bit RGB (16-bit scaled, alpha composited on white)."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(img, dtype=np.float64)
        peak = 65535.0 if arr.max(initial=0) > 255 else 255.0
        img = Image.fromarray(np.clip(arr / peak * 255.0 + 0.5, 0, 255).astype(np.uint8), mode="L")
    elif img.mode == "F":
        arr = np.asarray(img, dtype=np.float64)
        lo, hi = np.nanmin(arr), np.nanmax(arr)
        scaled = (arr - lo) / (hi - lo) if hi > lo else np.zeros_like(arr)
        img = Image.fromarray((scaled * 255).astype(np.uint8), mode="L")
    if img.mode == "P":
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA"):
        background = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, img.convert("RGBA"))
    return img.convert("RGB")
