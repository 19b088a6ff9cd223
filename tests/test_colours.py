"""The one colour table: pixel names, the clear-colour rule and HSV against colorsys (known answers)."""
import colorsys

import numpy as np
import pytest

from camlib.data.generators.colours import COLOURS, MIN_CHROMATIC, _hsv, colour_codes, colour_name, dominant_colour
from camlib.utils.errors import CamlibError


@pytest.mark.parametrize("rgb, name", [
    ((255, 0, 0), "red"), ((250, 20, 60), "red"), ((255, 128, 0), "orange"), ((120, 70, 20), "brown"),
    ((255, 230, 0), "yellow"), ((0, 200, 0), "green"), ((0, 160, 200), "blue"), ((20, 40, 255), "blue"),
    ((160, 0, 200), "purple"), ((230, 50, 150), "purple"),
    ((255, 255, 255), None), ((128, 128, 128), None), ((0, 0, 0), None), ((40, 10, 10), None), ((200, 180, 170), None),
])
def test_pixel_names(rgb, name):
    assert colour_name(rgb) == name


def test_every_table_colour_names_itself():
    assert {name: colour_name(rgb) for name, rgb in COLOURS.items()} == {name: name for name in COLOURS}


def test_hsv_matches_colorsys():
    rgb = np.random.default_rng(0).integers(0, 256, (500, 3)).astype(np.uint8)
    hue, saturation, value = _hsv(rgb)
    expected = np.array([colorsys.rgb_to_hsv(*(c / 255.0)) for c in rgb.astype(float)])
    np.testing.assert_allclose(hue, expected[:, 0] * 360.0, atol=1e-9)
    np.testing.assert_allclose(saturation, expected[:, 1], atol=1e-12)
    np.testing.assert_allclose(value, expected[:, 2], atol=1e-12)
    assert colour_codes(rgb.reshape(20, 25, 3)).shape == (20, 25)


def test_dominant_colour_needs_a_chromatic_majority_of_one_name():
    red, grey, blue = (220, 20, 20), (128, 128, 128), (20, 40, 220)
    assert dominant_colour(np.array([red] * 8 + [grey] * 2, np.uint8)) == ("red", 0.8, 1.0)
    name, share, purity = dominant_colour(np.array([red] * 4 + [grey] * 6, np.uint8))  # mostly grey
    assert name is None and share == 0.4 < MIN_CHROMATIC and purity == 1.0
    name, share, purity = dominant_colour(np.array([red] * 6 + [blue] * 4, np.uint8))  # two colours
    assert name is None and share == 1.0 and purity == 0.6
    assert dominant_colour(np.array([grey] * 3, np.uint8)) == (None, 0.0, 0.0)
    with pytest.raises(CamlibError):
        dominant_colour(np.zeros((0, 3), np.uint8))
    with pytest.raises(CamlibError):
        colour_codes(np.zeros((4, 4), np.uint8))
