"""Pointing and region overlap, checked on maps and masks small enough to score by hand."""
import numpy as np
import pytest
import torch

from camlib.utils.errors import CamlibError
from camlib.evaluation.pointing import (
    chance_pointing,
    high_regions,
    localization_scores,
    near_boxes,
    overlap_fractions,
    peaks,
    pointing_hits,
    points_hit,
    points_in_boxes,
    random_hit_rates,
)


def test_peaks_first_in_raster_order():
    maps = np.zeros((2, 3, 4))
    maps[0, 1, 2] = 5.0
    maps[1, 0, 3] = maps[1, 2, 0] = 1.0  # a tie: (0, 3) comes first
    np.testing.assert_array_equal(peaks(maps), [[1, 2], [0, 3]])
    np.testing.assert_array_equal(peaks(torch.from_numpy(maps)), [[1, 2], [0, 3]])


def test_pointing_hits_and_tolerance():
    maps = np.zeros((2, 5, 5))
    maps[0, 2, 2] = 1.0   # peak on the mask
    maps[1, 0, 0] = 1.0   # peak 3 px left of the mask's pixel (0, 3)
    masks = np.zeros((2, 5, 5), dtype=bool)
    masks[0, 2, 2] = True
    masks[1, 0, 3] = True
    np.testing.assert_array_equal(pointing_hits(maps, masks), [True, False])
    np.testing.assert_array_equal(pointing_hits(maps, masks, tolerance=2.9), [True, False])
    np.testing.assert_array_equal(pointing_hits(maps, masks, tolerance=3.0), [True, True])


def test_empty_mask_is_never_hit():
    maps = np.ones((1, 3, 3))
    assert not pointing_hits(maps, np.zeros((1, 3, 3), bool), tolerance=10).any()


def test_points_in_boxes_exclusive_right_edge():
    boxes = [np.array([[2, 1, 4, 3]]), np.array([[2, 1, 4, 3], [0, 0, 1, 1]]), np.zeros((0, 4))]
    points = np.array([[1, 3], [0, 0], [0, 0]])  # (y, x)
    np.testing.assert_array_equal(points_in_boxes(points, boxes), [True, True, False])
    assert not points_in_boxes(np.array([[1, 4]]), [np.array([[2, 1, 4, 3]])])[0]  # x = x1 is outside


def test_chance_pointing_is_mean_area():
    masks = np.zeros((2, 2, 2), dtype=bool)
    masks[0, 0, 0] = True          # 1/4
    masks[1] = True                # 4/4
    assert chance_pointing(masks) == pytest.approx(62.5)


def test_high_regions_and_overlap():
    maps = np.array([[[0.0, 0.4, 1.0], [0.5, 0.6, 0.2]]])
    region = high_regions(maps, 0.5)[0]
    np.testing.assert_array_equal(region, [[False, False, True], [True, True, False]])
    objects = np.zeros((2, 2, 3), dtype=bool)
    objects[0, 0, :] = True        # covers (0,0) (0,1) (0,2): 1 of 3 in the region
    objects[1, 1, :2] = True       # covers (1,0) (1,1): both in the region
    np.testing.assert_allclose(overlap_fractions(region, objects), [1 / 3, 1.0])
    assert not high_regions(-np.ones((1, 2, 2)), 0.5).any()  # no positive evidence: empty region


def test_bad_input_raises():
    with pytest.raises(CamlibError):
        pointing_hits(np.zeros((2, 3, 3)), np.zeros((1, 3, 3), bool))  # one mask per map
    with pytest.raises(CamlibError):
        peaks(np.zeros((3, 3)))
    with pytest.raises(CamlibError):
        overlap_fractions(np.ones((2, 2), bool), np.zeros((1, 2, 2), bool))
    with pytest.raises(CamlibError):
        high_regions(np.zeros((1, 2, 2)), 0.0)


def test_localization_scores_perfect_and_wrong_maps():
    masks = np.zeros((2, 20, 20), dtype=bool)
    masks[:, 5:10, 4:12] = True
    boxes = [np.array([[4, 5, 12, 10]], np.float32)] * 2
    perfect = localization_scores(masks.astype(float), boxes, masks)
    assert perfect == {"pointing": 100.0, "box IoU>=0.5": 100.0, "MaxBoxAccV2": 100.0, "PxAP": 100.0}
    wrong = np.zeros((2, 20, 20))
    wrong[:, 15:20, 15:20] = 1.0  # a square away from the object
    scores = localization_scores(wrong, boxes, masks)
    assert scores["pointing"] == 0.0 and scores["box IoU>=0.5"] == 0.0
    with pytest.raises(CamlibError):
        localization_scores(wrong, [np.zeros((0, 4))] * 2, masks)


def test_near_boxes_matches_points_in_boxes():
    boxes = [np.array([[2, 1, 4, 3]])]
    near = near_boxes(boxes, (6, 8), tolerance=1.0)[0]
    # The box covers (y, x) in {1, 2} x {2, 3}; within 1 px adds its four edge neighbours' rows/cols.
    expected = np.zeros((6, 8), dtype=bool)
    expected[1:3, 1:5] = True
    expected[0:4, 2:4] = True
    np.testing.assert_array_equal(near, expected)
    points = np.array([[0, 1], [0, 2]])
    np.testing.assert_array_equal(points_in_boxes(points, boxes * 2, tolerance=1.0), [False, True])


def test_peak_of_a_coarse_map_is_the_centre_of_its_cell_in_image_pixels():
    maps = torch.tensor([[[0.0, 1.0], [5.0, 2.0]], [[9.0, 0.0], [0.0, 0.0]]])
    np.testing.assert_array_equal(peaks(maps, (64, 64)), [[48, 16], [16, 16]])  # (y, x)
    np.testing.assert_array_equal(peaks(maps, (64, 128)), [[48, 32], [16, 32]])
    np.testing.assert_array_equal(peaks(maps, (2, 2)), peaks(maps))  # at its own size: its own pixel


def test_points_hit_with_tolerance():
    mask = np.zeros((1, 64, 64), bool)
    mask[0, 48, 20] = True
    point = np.array([[48, 16]])  # (y, x): 4 px left of the mask pixel
    assert not points_hit(point, mask, 0)[0]
    assert not points_hit(point, mask, 3.9)[0]
    assert points_hit(point, mask, 4.0)[0]
    assert not points_hit(point, np.zeros((1, 64, 64), bool), 10.0)[0]  # an empty mask is never hit
    with pytest.raises(CamlibError, match="points"):
        points_hit(np.array([[1, 2, 3]]), mask)


def test_coarse_maps_point_into_full_size_masks():
    masks = np.zeros((2, 64, 64), bool)
    masks[0, 40:56, 8:24] = True   # around the centre (48, 16) of cell (1, 0) of a 2x2 map
    masks[1, 0:8, 0:8] = True
    maps = torch.tensor([[[0.0, 1.0], [5.0, 2.0]], [[9.0, 0.0], [0.0, 0.0]]])
    np.testing.assert_array_equal(pointing_hits(maps, masks), [True, False])


def test_random_hit_rates_per_mask():
    masks = np.zeros((2, 64, 64), bool)
    masks[0, 28:36, 28:36] = True
    masks[1, 0:8, 0:8] = True  # corner
    np.testing.assert_allclose(random_hit_rates(masks), [64 / 4096, 64 / 4096])
    near = random_hit_rates(masks, tolerance=1.0)  # one more ring of pixels: 4 sides of 8, no corners
    np.testing.assert_allclose(near, [(64 + 32) / 4096, (64 + 16) / 4096])
    assert chance_pointing(masks) == pytest.approx(100 * 64 / 4096)

