"""Sample data of OpenCV's documentation (Debian package ``opencv-doc``), fetched once into
``<data root>/assets/opencv-doc/data/`` (the layout :mod:`camlib.data.opencv_text` uses too).

``digits.png`` is OpenCV's handwritten-digit sheet: 5,000 digits of 20x20 pixels, 50 rows of 100,
five rows per class 0..9 (the data of OpenCV's ``digits.py`` SVM sample; BSD licence).
The package is ``apt-get download``-ed and unpacked with ``dpkg -x`` (no installation); each file is
checked against its recorded SHA-256 and fetched again when missing or modified.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import cv2
import numpy as np

from ..cache import atomic_write_bytes
from ..errors import CamlibError, CorruptFileError, DatasetNotFoundError
from .assets import is_valid
from .paths import assets_dir
from .sources import FetchError, deb_members

DEBIAN_PACKAGE = "opencv-doc"
PACKAGE_DATA = "usr/share/doc/opencv-doc/examples/data"
SYSTEM_DIR = Path("/") / PACKAGE_DATA

#: SHA-256 of each sample file used by camlib (opencv-doc 4.6.0).
SAMPLE_SHA256 = {
    "digits.png": "60c917758ef97cc090f35cd8e293e4de691ef942847da0ff80dedab33d57c662",
}

DIGIT_SIZE = 20
DIGITS_PER_CLASS = 500


def local_dir() -> Path:
    """Where fetched copies live: ``<data root>/assets/opencv-doc/data``."""
    return assets_dir() / "opencv-doc" / "data"


def sample_path(name: str) -> Path:
    """The verified local path of sample ``name`` (the installed package's copy if intact), fetching it if needed."""
    if name not in SAMPLE_SHA256:
        raise CamlibError(f"unknown OpenCV sample {name!r}; camlib knows: {', '.join(SAMPLE_SHA256)}")
    for folder in (SYSTEM_DIR, local_dir()):
        if is_valid(folder / name, SAMPLE_SHA256[name]):
            return folder / name
    fetch_opencv_samples([name])
    return local_dir() / name


def fetch_opencv_samples(names: list[str] | None = None) -> list[str]:
    """Fetch the named samples (default: all known) that are missing or corrupt; returns those fetched."""
    names = list(SAMPLE_SHA256) if names is None else names
    todo = [n for n in names if not is_valid(local_dir() / n, SAMPLE_SHA256[n]) and not is_valid(SYSTEM_DIR / n, SAMPLE_SHA256[n])]
    if not todo:
        return []
    try:
        members = deb_members(DEBIAN_PACKAGE, [f"{PACKAGE_DATA}/{n}" for n in todo])
    except FetchError as err:
        raise DatasetNotFoundError(
            "OpenCV samples", local_dir(),
            f"Run `apt-get update` then retry where apt-get reaches Debian, or `apt-get install {DEBIAN_PACKAGE}`, "
            f"or copy {', '.join(todo)} from OpenCV's samples/data into {local_dir()} ({err})") from None
    for name in todo:
        data = members[f"{PACKAGE_DATA}/{name}"]
        if hashlib.sha256(data).hexdigest() != SAMPLE_SHA256[name]:
            raise CorruptFileError(f"{name} in the {DEBIAN_PACKAGE} package does not match the recorded SHA-256; "
                                   "the package changed, report it to camlib")
        atomic_write_bytes(local_dir() / name, data)
    return todo


def split_digit_sheet(sheet: np.ndarray, size: int = DIGIT_SIZE, per_class: int = DIGITS_PER_CLASS) -> tuple[np.ndarray, np.ndarray]:
    """Cut a grey sheet of ``size`` x ``size`` cells (row-major, ``per_class`` cells per class in
    order) into images uint8 ``(N, size, size)`` and labels int64 ``(N,)``."""
    rows, cols = sheet.shape[0] // size, sheet.shape[1] // size
    cells = sheet[: rows * size, : cols * size].reshape(rows, size, cols, size).swapaxes(1, 2).reshape(-1, size, size)
    labels = np.arange(len(cells)) // per_class
    return np.ascontiguousarray(cells), labels.astype(np.int64)


def load_opencv_digits() -> tuple[np.ndarray, np.ndarray]:
    """OpenCV's 5,000 handwritten digits: images uint8 ``(5000, 20, 20)`` (white on black), labels ``(5000,)``."""
    sheet = cv2.imread(str(sample_path("digits.png")), cv2.IMREAD_GRAYSCALE)
    if sheet is None:
        raise CorruptFileError(f"{sample_path('digits.png')} could not be decoded as a PNG; delete it and fetch again")
    return split_digit_sheet(sheet)
