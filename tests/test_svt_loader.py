"""The SVT loader on a miniature copy in SVT's own XML layout (tests/fixtures/svt_mini)."""
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from camlib.data.sets.opencv_text import load_svt, parse_svt_xml
from camlib.data.generators.text_scenes import scenes_from_photos
from camlib.utils.errors import CamlibError, DatasetNotFoundError

FIXTURE = Path(__file__).parent / "fixtures" / "svt_mini"


def test_test_split_boxes_words_lexicon():
    images = load_svt("test", FIXTURE)
    assert [im.path.name for im in images] == ["00_00.jpg", "00_01.jpg"]
    first, second = images
    # x=9 y=5 width=34 height=14 -> [9, 5, 43, 19]; x=40 y=30 width=30 height=20 runs past the
    # 64x48 image and is clipped to [40, 30, 64, 48].
    np.testing.assert_array_equal(first.boxes, [[9, 5, 43, 19], [40, 30, 64, 48]])
    assert first.words == ["CAFE", "BAR"]
    assert first.lexicon == ["CAFE", "BAR", "LIVING", "ROOM", "THEATERS"]  # the line break is dropped
    assert first.size == (64, 48)
    np.testing.assert_array_equal(second.boxes, [[29, 11, 60, 26]])  # attributes in another order
    assert second.words == ["TAXI"] and second.size == (80, 40)


def test_train_split_clips_negative_origin():
    (only,) = load_svt("train", FIXTURE)
    np.testing.assert_array_equal(only.boxes, [[0, 19, 50, 34]])  # x = -2 is clipped to 0
    assert only.words == ["OPEN"]


def test_boxes_cover_the_drawn_words():
    # The fixture's words are white on green: every white pixel lies inside a box.
    for image in load_svt("test", FIXTURE) + load_svt("train", FIXTURE):
        white = np.asarray(Image.open(image.path)).min(axis=2) > 200
        inside = np.zeros_like(white)
        for x0, y0, x1, y1 in image.boxes.astype(int):
            inside[y0:y1, x0:x1] = True
        assert white.any() and not (white & ~inside).any()


def test_scenes_from_photos_scales_boxes():
    images = load_svt("test", FIXTURE)
    scenes = scenes_from_photos([np.asarray(Image.open(im.path)) for im in images], [im.boxes for im in images], size=32)
    assert scenes.images.shape == (2, 32, 32, 3) and scenes.has_text.all()
    # 64x48 -> 32x32: x * 0.5, y * 2/3.
    np.testing.assert_allclose(scenes.boxes[0][0], [4.5, 5 * 2 / 3, 21.5, 19 * 2 / 3], rtol=1e-6)
    # Masks fill the boxes rounded outwards: [4, 3, 22, 13] and [20, 20, 32, 32].
    assert scenes.masks[0].sum() == 18 * 10 + 12 * 12
    assert scenes.masks[0, 3, 4] and not scenes.masks[0, 13, 4] and not scenes.masks[0, 3, 22]
    with pytest.raises(CamlibError):
        scenes_from_photos([np.zeros((4, 4, 3), np.uint8)], [])


def test_missing_and_broken_data(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="svt"):
        load_svt("test", tmp_path)
    with pytest.raises(CamlibError, match="split"):
        load_svt("val", FIXTURE)
    copy = tmp_path / "svt1"
    shutil.copytree(FIXTURE, copy)
    (copy / "img" / "00_01.jpg").unlink()
    with pytest.raises(CamlibError, match="missing"):
        load_svt("test", copy)
    (copy / "test.xml").write_text("<tagset><image><imageName>img/00_00.jpg</imageName></image>")
    with pytest.raises(CamlibError, match="not valid SVT XML"):
        parse_svt_xml(copy / "test.xml")
    (copy / "test.xml").write_text("<tagset><image><imageName>img/00_00.jpg</imageName></image></tagset>")
    with pytest.raises(CamlibError, match="Resolution"):
        parse_svt_xml(copy / "test.xml")
