"""OpenCV's sheet of handwritten digits (``data/digits.png`` of :mod:`camlib.data.opencv_doc`).

5,000 digits of 20x20 pixels, 50 rows of 100, five rows per class 0..9: the data of OpenCV's
``digits.py`` SVM sample.
"""
from __future__ import annotations

import cv2
import numpy as np

from ..errors import CorruptFileError
from .opencv_doc import opencv_doc_paths

DIGIT_SIZE = 20
DIGITS_PER_CLASS = 500


def split_digit_sheet(sheet: np.ndarray, size: int = DIGIT_SIZE, per_class: int = DIGITS_PER_CLASS) -> tuple[np.ndarray, np.ndarray]:
    """Cut a grey sheet of ``size`` x ``size`` cells (row-major, ``per_class`` cells per class in
    order) into images uint8 ``(N, size, size)`` and labels int64 ``(N,)``."""
    rows, cols = sheet.shape[0] // size, sheet.shape[1] // size
    cells = sheet[: rows * size, : cols * size].reshape(rows, size, cols, size).swapaxes(1, 2).reshape(-1, size, size)
    labels = np.arange(len(cells)) // per_class
    return np.ascontiguousarray(cells), labels.astype(np.int64)


def load_opencv_digits() -> tuple[np.ndarray, np.ndarray]:
    """OpenCV's 5,000 handwritten digits: images uint8 ``(5000, 20, 20)`` (white on black), labels ``(5000,)``."""
    path, = opencv_doc_paths(["data/digits.png"])
    sheet = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if sheet is None:
        raise CorruptFileError(f"{path} could not be decoded as a PNG; delete it and fetch again")
    return split_digit_sheet(sheet)
