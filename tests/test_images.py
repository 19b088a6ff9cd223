"""Loading images: conversions of unusual modes and one-line errors for bad files."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from camlib import BadImageError, load_image


def _save(tmp_path, name, image, **kwargs):
    path = tmp_path / name
    image.save(path, **kwargs)
    return path


@pytest.mark.parametrize(
    "mode, maker",
    [
        ("L", lambda: Image.new("L", (5, 4), 128)),
        ("RGBA", lambda: Image.new("RGBA", (5, 4), (255, 0, 0, 0))),
        ("P", lambda: Image.new("RGB", (5, 4), (0, 255, 0)).convert("P")),
        ("I;16", lambda: Image.fromarray(np.full((4, 5), 65535, dtype=np.uint16))),
        ("CMYK", lambda: Image.new("CMYK", (5, 4), (0, 0, 0, 0))),
    ],
)
def test_modes_become_rgb(tmp_path, mode, maker):
    ext = "jpg" if mode == "CMYK" else "png"
    img = load_image(_save(tmp_path, f"x.{ext}", maker()))
    assert img.mode == "RGB" and img.size == (5, 4)


def test_transparent_pixels_become_white(tmp_path):
    img = load_image(_save(tmp_path, "t.png", Image.new("RGBA", (2, 2), (255, 0, 0, 0))))
    assert img.getpixel((0, 0)) == (255, 255, 255)


def test_sixteen_bit_white_stays_white(tmp_path):
    img = load_image(_save(tmp_path, "w.png", Image.fromarray(np.full((3, 3), 65535, dtype=np.uint16))))
    assert img.getpixel((1, 1)) == (255, 255, 255)


def test_tiny_image(tmp_path):
    assert load_image(_save(tmp_path, "one.png", Image.new("RGB", (1, 1)))).size == (1, 1)


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("missing.jpg", None, "file not found"),
        ("empty.jpg", b"", "empty"),
        ("text.jpg", b"this is not an image", "not an image"),
    ],
)
def test_bad_files(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(BadImageError, match=message) as err:
        load_image(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_truncated_jpeg_and_directory(tmp_path):
    good = _save(tmp_path, "good.jpg", Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)))
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(good.read_bytes()[:300])
    with pytest.raises(BadImageError, match="truncated"):
        load_image(cut)
    with pytest.raises(BadImageError, match="directory"):
        load_image(tmp_path)
