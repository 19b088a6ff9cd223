"""Generated text scenes: exact masks and boxes, balanced labels, held-out photos, determinism."""
import numpy as np
import pytest

from camlib.data.generators.text_scenes import (
    TextSceneSpec,
    _luminance,
    box_masks,
    contrasting_colour,
    font_files,
    make_text_scenes,
    render_word,
    split_photos,
)
from camlib.utils.errors import CamlibError

SPEC = TextSceneSpec(size=96, n_train=8, n_test=6, font_size=(10, 24), seed=3)


@pytest.fixture(scope="module")
def photos():
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, (100, 120, 3), dtype=np.uint8), np.full((80, 80, 3), 200, np.uint8)]


@pytest.fixture(scope="module")
def scenes(photos):
    return make_text_scenes(SPEC, "train", photos, font_files("matplotlib"), progress=False)


def test_matplotlib_fonts_exist_and_bad_source_raises():
    fonts = font_files("matplotlib")
    assert len(fonts) == 21 and all(f.is_file() for f in fonts)
    with pytest.raises(CamlibError):
        font_files("web")


def test_render_word_layers():
    font = font_files("matplotlib")[0]
    flat = render_word("Hotel", font, 20, 0.0, outline=0, margin=3)
    assert flat.fill.shape == flat.paint.shape == flat.plate.shape
    np.testing.assert_array_equal(flat.fill, flat.paint)      # no outline: paint is the glyphs
    assert flat.plate.min() == 1.0                            # unrotated: the plate is the canvas
    assert flat.fill[:3].max() == 0 and flat.fill[-3:].max() == 0  # the margin holds no glyph
    turned = render_word("Hotel", font, 20, 30.0, outline=2, margin=3)
    assert (turned.paint >= turned.fill - 1.5 / 255).all()     # the outline only adds coverage (to 8-bit rounding)
    assert turned.paint.sum() > turned.fill.sum()
    assert (turned.plate[turned.paint >= 0.5] > 0.5).all()     # glyphs sit on their plate
    with pytest.raises(CamlibError):
        render_word("   ", font, 20, 0.0)


@pytest.mark.parametrize("background", [0.0, 100.0, 128.0, 255.0])
def test_contrasting_colour(background):
    colour = contrasting_colour(background, np.random.default_rng(1))
    assert abs(float(_luminance(colour)) - background) >= 90 and 0 <= colour.min() and colour.max() <= 255


def test_labels_boxes_and_masks_are_exact(scenes):
    assert scenes.images.shape == (8, 96, 96, 3) and scenes.images.dtype == np.uint8
    assert scenes.has_text.sum() == 4
    for i in range(len(scenes)):
        boxes, mask = scenes.boxes[i], scenes.masks[i]
        if not scenes.has_text[i]:
            assert len(boxes) == 0 and not mask.any() and scenes.words[i] == []
            continue
        assert 1 <= len(boxes) == len(scenes.words[i]) <= 3
        np.testing.assert_array_equal(box_masks([boxes], mask.shape)[0] | mask, box_masks([boxes], mask.shape)[0])
        for x0, y0, x1, y1 in boxes.astype(int):  # tight: every side of a box touches its word
            inside = mask[y0:y1, x0:x1]
            assert inside[0].any() and inside[-1].any() and inside[:, 0].any() and inside[:, -1].any()


def test_deterministic_and_splits_differ(photos, scenes):
    again = make_text_scenes(SPEC, "train", photos, font_files("matplotlib"), progress=False)
    np.testing.assert_array_equal(again.images, scenes.images)
    np.testing.assert_array_equal(again.masks, scenes.masks)
    test = make_text_scenes(SPEC, "test", photos, font_files("matplotlib"), progress=False)
    assert len(test) == 6 and not np.array_equal(test.images[:6], scenes.images[:6])


def test_subset(scenes):
    positives = scenes.subset(scenes.has_text)
    assert len(positives) == 4 and positives.has_text.all()
    assert positives.boxes[0] is scenes.boxes[int(np.flatnonzero(scenes.has_text)[0])]


def test_split_photos_holds_out_every_fourth_name():
    photos = {name: np.full((2, 2, 3), k, np.uint8) for k, name in enumerate("hgfedcba")}  # value = position in this dict
    test = [int(p[0, 0, 0]) for p in split_photos(photos, "test")]
    train = [int(p[0, 0, 0]) for p in split_photos(photos, "train")]
    assert test == [7, 3]  # names in sorted order a..h; a (value 7) and e (value 3) are held out
    assert sorted(test + train) == list(range(8))
    with pytest.raises(CamlibError):
        split_photos(photos, "val")


def test_bad_spec_raises():
    with pytest.raises(CamlibError):
        TextSceneSpec(words=(0, 2))
    with pytest.raises(CamlibError):
        TextSceneSpec(font_size=(10, 200))
    with pytest.raises(CamlibError):
        TextSceneSpec(plate_probability=1.5)


def test_each_scene_names_its_background_photo(photos, scenes):
    # the split's photos are drawn from: each image is a crop of the photo it names, and a subset keeps the names
    assert scenes.photos.shape == (len(scenes),) and scenes.photos.dtype == np.int64
    assert set(scenes.photos) == {0, 1}
    for image, photo in zip(scenes.images, scenes.photos):  # photo 1 is flat grey 200, photo 0 noise
        assert (np.mean(image == 200) > 0.2) == (photo == 1)
    positives = scenes.subset(scenes.has_text)
    np.testing.assert_array_equal(positives.photos, scenes.photos[scenes.has_text])
