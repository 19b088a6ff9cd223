"""The fully supervised reference detector (PP-OCRv4 via rapidocr-onnxruntime), when installed."""
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from camlib.data.generators.text_scenes import font_files
from camlib.utils.errors import CamlibError

pytest.importorskip("rapidocr_onnxruntime")


def test_detector_finds_a_printed_word():
    from camlib.chapters.ch07_text_detector import SupervisedTextDetector

    image = Image.new("RGB", (320, 160), "white")
    ImageDraw.Draw(image).text((60, 50), "HOTEL", font=ImageFont.truetype(str(font_files()[1]), 48), fill="black")
    detector = SupervisedTextDetector()
    boxes = detector(np.asarray(image))
    assert boxes.ndim == 2 and boxes.shape[1] == 4 and len(boxes) >= 1
    ink = np.asarray(image.convert("L")) < 128
    ys, xs = np.nonzero(ink)
    x0, y0, x1, y1 = boxes[0]
    assert x0 <= xs.min() + 4 and xs.max() - 4 < x1 and y0 <= ys.min() + 4 and ys.max() - 4 < y1  # covers the word
    assert len(detector(np.full((64, 64, 3), 255, np.uint8))) == 0
    with pytest.raises(CamlibError):
        detector(np.zeros((10, 10), np.uint8))
