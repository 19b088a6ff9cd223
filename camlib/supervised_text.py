"""A fully supervised text detector as the reference for the weakly supervised one.

PP-OCRv4's text detector (a DBNet trained with box annotations; Apache-2.0), as ONNX weights inside
the ``rapidocr-onnxruntime`` wheel. Only its detector runs here (no recognition). Install:
``pip install --no-deps rapidocr-onnxruntime==1.4.4 onnxruntime pyclipper shapely six flatbuffers
protobuf`` (``--no-deps`` because the wheel asks for ``opencv-python``, which would clash with
camlib's ``opencv-python-headless``; the detector works with either).
"""
from __future__ import annotations

import contextlib
import io
import logging

import numpy as np

from .errors import CamlibError

INSTALL = ("pip install --no-deps rapidocr-onnxruntime==1.4.4 onnxruntime pyclipper shapely six flatbuffers protobuf")


class SupervisedTextDetector:
    """``detector(image)`` -> word/line boxes float32 (M, 4) ``[x0, y0, x1, y1]`` (axis-aligned
    hulls of the detector's quadrilaterals) for an RGB uint8 image (H, W, 3)."""

    def __init__(self, threads: int = 2):
        try:
            from rapidocr_onnxruntime import RapidOCR
        except ImportError as err:
            raise CamlibError(f"the reference text detector needs rapidocr-onnxruntime: `{INSTALL}` ({err})") from None
        logging.getLogger("RapidOCR").setLevel(logging.ERROR)
        with contextlib.redirect_stdout(io.StringIO()):
            engine = RapidOCR(intra_op_num_threads=threads, inter_op_num_threads=1)
        self._detect = engine.text_det

    def quads(self, image: np.ndarray) -> np.ndarray:
        """The detector's quadrilaterals float32 (M, 4, 2) of ``(x, y)`` corners."""
        image = np.asarray(image)
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise CamlibError(f"image must be RGB uint8 (H, W, 3), got {image.dtype} {image.shape}")
        quads, _ = self._detect(np.ascontiguousarray(image[:, :, ::-1]))  # the detector expects BGR
        return np.zeros((0, 4, 2), np.float32) if quads is None or len(quads) == 0 else np.asarray(quads, np.float32)

    def __call__(self, image: np.ndarray) -> np.ndarray:
        quads = self.quads(image)
        return np.concatenate([quads.min(axis=1), quads.max(axis=1) + 1], axis=1).astype(np.float32)
