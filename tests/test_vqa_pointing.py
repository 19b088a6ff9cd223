"""Pointing accuracy: peaks, tolerance, baselines."""
import numpy as np
import pytest
import torch

from camlib.errors import CamlibError
from camlib.vqa.pointing import centre_hits, peak_points, pointing_hits, pointing_table, random_hit_rates


def test_peak_is_the_centre_of_the_highest_cell():
    maps = torch.tensor([[[0.0, 1.0], [5.0, 2.0]], [[9.0, 0.0], [0.0, 0.0]]])
    np.testing.assert_array_equal(peak_points(maps, (64, 64)), [[16, 48], [16, 16]])
    np.testing.assert_array_equal(peak_points(maps, (64, 128)), [[32, 48], [32, 16]])
    with pytest.raises(CamlibError):
        peak_points(torch.zeros(2, 2), (4, 4))


def test_hits_with_tolerance():
    mask = np.zeros((1, 64, 64), bool)
    mask[0, 48, 20] = True
    point = np.array([[16, 48]])  # 4 px left of the mask pixel
    assert not pointing_hits(point, mask, 0)[0]
    assert not pointing_hits(point, mask, 3.9)[0]
    assert pointing_hits(point, mask, 4.0)[0]
    with pytest.raises(CamlibError):
        pointing_hits(point, np.zeros((1, 64, 64), bool))  # empty mask


def test_baselines():
    masks = np.zeros((2, 64, 64), bool)
    masks[0, 28:36, 28:36] = True  # 8x8 around the centre (32, 32)
    masks[1, 0:8, 0:8] = True  # corner
    np.testing.assert_array_equal(centre_hits(masks), [True, False])
    np.testing.assert_allclose(random_hit_rates(masks), [64 / 4096, 64 / 4096])
    near = random_hit_rates(masks, tolerance=1.0)  # one more ring of pixels: 4 sides of 8, no corners
    np.testing.assert_allclose(near, [(64 + 32) / 4096, (64 + 16) / 4096])


def test_table_per_group():
    masks = np.zeros((3, 4, 4), bool)
    masks[0, :2, :2] = True
    masks[1, 2:, 2:] = True
    masks[2, :2, 2:] = True
    cams = torch.zeros(3, 2, 2)
    cams[0, 0, 0] = cams[1, 0, 0] = cams[2, 0, 1] = 1.0  # peaks at cells (0,0), (0,0), (0,1)
    table = pointing_table(cams, masks, ["a", "a", "b"])
    assert list(table.index) == ["a", "b", "all"]
    np.testing.assert_allclose(table["CAM peak"], [50.0, 100.0, 200 / 3])
    np.testing.assert_allclose(table["centre"], [50.0, 0.0, 100 / 3])  # centre pixel (2, 2) lies in mask 1
    np.testing.assert_allclose(table["random"], [25.0, 25.0, 25.0])
    assert list(table["maps"]) == [2, 1, 3]
