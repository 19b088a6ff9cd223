"""Loading images safely: every failure becomes a one-line :class:`BadImageError` naming the file."""
from __future__ import annotations

import os
import stat
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from camlib.utils.errors import BadImageError, CamlibError

#: Images larger than this many pixels are refused rather than exhausting memory.
MAX_PIXELS = 200_000_000
#: Images whose loading would take more memory than this many bytes are refused before decoding (see :func:`decoding_bytes`):
#: an 8-bit RGB photo of :data:`MAX_PIXELS` fits, a 16-bit or transparent one of that size does not.
MAX_IMAGE_BYTES = 1_000_000_000
#: Modes converted through a numpy array (:func:`to_rgb`).
_NUMPY_MODES = ("I;16", "I;16B", "I;16L", "I", "F")
#: Modes composited on white through RGBA (:func:`to_rgb`).
_ALPHA_MODES = ("P", "PA", "RGBA", "LA", "RGBa", "La")
#: Rows converted at a time by :func:`to_rgb`, so that its float working copy stays small.
_ROWS = 256
#: Longest side over shortest side beyond which an image is refused: ``localize`` resizes the shorter
#: side to the network's input size, so a 1x10000 strip would become a 224x2,240,000 input.
MAX_ASPECT = 20


def decoding_bytes(mode: str, width: int, height: int) -> int:
    """Peak bytes :func:`load_image` needs for an image: PIL's decoded copy (1, 2 or 4 bytes a pixel), the
    numpy copy and 8-bit result of 16-bit and float modes, RGBA compositing, and the RGB result (PIL keeps 4 bytes)."""
    stored = 1 if mode in ("1", "L", "P") else 2 if mode.startswith("I;16") else 4
    work = stored + 1 if mode in _NUMPY_MODES else 12 if mode in _ALPHA_MODES else 0
    return width * height * (stored + work + (0 if mode == "RGB" else 4))


def check_aspect(path: str | Path, width: int, height: int) -> None:
    """Refuse images more than :data:`MAX_ASPECT` times longer than wide (or the reverse)."""
    if max(width, height) > MAX_ASPECT * min(width, height):
        raise BadImageError(path, f"image is {width}x{height}, more elongated than {MAX_ASPECT}:1; crop it to the object first")


def load_image(path: str | Path) -> Image.Image:
    """Open an image file as 8-bit RGB, honouring EXIF orientation.

    Grayscale, RGBA (composited on white), palette, 16-bit and CMYK images are converted.
    Raises :class:`BadImageError` for missing, unreadable, empty, truncated or non-image files
    (and ``CamlibError`` when ``path`` is not a path at all). Decoder warnings are not shown.
    """
    if not isinstance(path, (str, Path)):
        raise CamlibError(f"load_image needs a file path (str or pathlib.Path), got {type(path).__name__}; "
                          "for image bytes use PIL.Image.open(io.BytesIO(data))")
    path = Path(path)
    _check_file(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PIL's EXIF/TIFF and numpy's NaN warnings: the result is checked here
            with Image.open(path) as img:
                if img.width * img.height > MAX_PIXELS:
                    raise BadImageError(path, f"image is {img.width}x{img.height}, more than {MAX_PIXELS} pixels; downscale it first")
                need = decoding_bytes(img.mode, img.width, img.height)
                if need > MAX_IMAGE_BYTES:
                    raise BadImageError(path, f"image is {img.width}x{img.height} {img.mode}, which needs {need / 1e9:.1f} GB to load, "
                                              f"more than {MAX_IMAGE_BYTES / 1e9:.1f} GB; downscale it first")
                img.load()
                img = ImageOps.exif_transpose(img)
                return to_rgb(img)
    except BadImageError:
        raise
    except UnidentifiedImageError:
        raise BadImageError(path, "not an image file PIL can read (JPEG, PNG, ...); is the extension wrong?") from None
    except PermissionError:
        raise BadImageError(path, "permission denied: camlib cannot read this file; check its permissions") from None
    except (OSError, SyntaxError, ValueError) as err:
        raise BadImageError(path, f"cannot decode image ({err}); the file is probably truncated or corrupt") from None
    except Image.DecompressionBombError as err:
        raise BadImageError(path, f"image too large to decode safely ({err}); downscale it first") from None


def _check_file(path: Path) -> None:
    """Raise :class:`BadImageError` unless ``path`` is a readable, non-empty regular file."""
    try:
        info = path.stat()
    except FileNotFoundError:
        reason = "a symbolic link to a missing file" if path.is_symlink() else "file not found; check the path"
        raise BadImageError(path, reason) from None
    except PermissionError:
        raise BadImageError(path, "permission denied on a folder of this path; check its permissions") from None
    except OSError as err:  # ELOOP, ENAMETOOLONG, ...
        raise BadImageError(path, f"cannot open it ({os.strerror(err.errno) if err.errno else err}); is it a symbolic link loop?") from None
    if stat.S_ISDIR(info.st_mode):
        raise BadImageError(path, "is a directory, expected an image file")
    if not stat.S_ISREG(info.st_mode):
        raise BadImageError(path, "is not a regular file (a pipe or device?); save the image to a file first")
    if info.st_size == 0:
        raise BadImageError(path, "file is empty (0 bytes); re-download or re-export it")
    if not os.access(path, os.R_OK):
        raise BadImageError(path, "permission denied: camlib cannot read this file; check its permissions")


def to_rgb(img: Image.Image) -> Image.Image:
    """Convert any PIL mode to 8-bit RGB (16-bit scaled, alpha composited on white)."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(img)
        peak = 65535.0 if arr.max(initial=0) > 255 else 255.0
        img = Image.fromarray(_by_rows(arr, lambda rows: np.clip(rows / peak * 255.0 + 0.5, 0, 255)))
    elif img.mode == "F":
        arr = np.asarray(img)
        lo, hi = np.nanmin(arr, initial=np.inf, where=np.isfinite(arr)), np.nanmax(arr, initial=-np.inf, where=np.isfinite(arr))
        lo, hi = (float(lo), float(hi)) if hi >= lo else (0.0, 0.0)
        img = Image.fromarray(_by_rows(arr, lambda rows: np.where(np.isfinite(rows), (rows - lo) / (hi - lo), 0.0) * 255
                                       if hi > lo else np.zeros_like(rows)))
    if img.mode == "P":
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA"):
        background = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, img.convert("RGBA"))
    return img if img.mode == "RGB" else img.convert("RGB")


def _by_rows(arr: np.ndarray, scale) -> np.ndarray:
    """``scale(rows as float64)`` cast to uint8, :data:`_ROWS` rows at a time (a whole float64 copy of a large
    16-bit image would take 8 bytes a pixel, several times over)."""
    out = np.empty(arr.shape, dtype=np.uint8)
    for start in range(0, len(arr), _ROWS):
        out[start:start + _ROWS] = scale(arr[start:start + _ROWS].astype(np.float64))
    return out
