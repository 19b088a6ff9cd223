"""Fashion-MNIST items as RGBA objects: tight crops, resizing and tinting, by hand."""
import numpy as np
import pytest

from camlib.data.items import COLOURS, OPAQUE_AT, SHADE_MIN, resize_longer_side, tight_box, tight_crop, tinted
from camlib.data.paste import blend
from camlib.errors import CamlibError


def test_tight_box_keeps_pixels_at_least_half_opaque():
    item = np.zeros((6, 5), np.uint8)
    item[1, 2] = OPAQUE_AT / 2          # half opaque: kept
    item[4, 3] = 255
    item[5, 0] = OPAQUE_AT / 2 - 1      # too faint
    assert tight_box(item) == (1, 5, 2, 4)
    assert tight_crop(item).shape == (4, 2)
    with pytest.raises(CamlibError, match="no pixel"):
        tight_box(np.zeros((3, 3), np.uint8))


def test_resize_longer_side():
    assert resize_longer_side(np.zeros((28, 14), np.uint8), 56).shape == (56, 28)
    assert resize_longer_side(np.zeros((28, 14), np.uint8), 7).shape == (7, 4)


def test_tint_shades_and_alpha_by_hand():
    item = np.array([[0, 20, 40, 255]], np.uint8)
    rgba = tinted(item, (200, 100, 0))
    np.testing.assert_array_equal(rgba[0, :, 3], [0, 128, 255, 255])  # alpha = intensity / OPAQUE_AT
    shade = SHADE_MIN + (1 - SHADE_MIN) * 40 / 255
    np.testing.assert_array_equal(rgba[0, 2, :3], np.rint([200 * shade, 100 * shade, 0]))
    np.testing.assert_array_equal(rgba[0, 3, :3], [200, 100, 0])  # the brightest pixel has the tint itself


def test_a_tinted_item_pastes_with_its_exact_mask():
    item = np.zeros((4, 4), np.uint8)
    item[1:3, 1:3] = 255
    image, mask = blend(np.zeros((10, 10, 3), np.uint8), tinted(item, COLOURS["red"]), 5, 2)
    assert mask.sum() == 4 and mask[3:5, 6:8].all()
    np.testing.assert_array_equal(image[3, 6], COLOURS["red"])
