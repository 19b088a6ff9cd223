"""Class-agnostic baseline maps: centre prior and spectral-residual saliency."""
import numpy as np
import pytest

from camlib.methods.baselines import centre_boxes, centre_maps, spectral_residual
from camlib.utils.errors import CamlibError
from camlib.evaluation.pointing import peaks


def test_centre_map_peaks_at_centre_and_is_symmetric():
    maps = centre_maps(2, (5, 7))
    assert maps.shape == (2, 5, 7)
    np.testing.assert_array_equal(peaks(maps), [[2, 3], [2, 3]])
    np.testing.assert_allclose(maps[0], maps[0, ::-1, ::-1])
    assert maps[0, 2, 3] == pytest.approx(1.0)


def test_centre_box_by_hand():
    np.testing.assert_array_equal(centre_boxes(np.array([[100, 200]]), 0.5), [[50, 25, 150, 75]])
    np.testing.assert_array_equal(centre_boxes(np.array([[100, 200], [10, 20]]), 0.3, 0.5), [[70, 25, 130, 75], [7, 2.5, 13, 7.5]])
    with pytest.raises(CamlibError):
        centre_boxes(np.array([[10, 10]]), 0.0)


def test_spectral_residual_finds_an_odd_patch():
    # Fine random texture (a flat spectrum, nothing stands out) with one bright square that does.
    grey = (np.random.default_rng(0).random((128, 128)) * 60 + 80).astype(np.uint8)
    grey[80:96, 20:36] = 255
    image = np.repeat(grey[None, :, :, None], 3, axis=3)
    saliency = spectral_residual(image)
    assert saliency.shape == (1, 128, 128) and (saliency >= 0).all()
    py, px = peaks(saliency)[0]
    assert 70 <= py < 106 and 10 <= px < 46


def test_spectral_residual_checks_input():
    with pytest.raises(CamlibError):
        spectral_residual(np.zeros((4, 4, 3), np.uint8))
