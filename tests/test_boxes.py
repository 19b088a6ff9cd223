"""Boxes from CAMs: the paper's rule and the released code's rule on maps with known answers."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from camlib import CamlibError, box_from_cam, boxes_from_cams, heuristic_guesses, released_code_boxes
from camlib.cam.box_rules import _suppress_contained, guesses_from_boxes
from camlib.evaluation.evaluate import _released_boxes


def test_paper_rule_largest_component():
    cam = np.zeros((10, 12), dtype=np.float32)
    cam[1:3, 1:3] = 1.0      # small strong blob: 4 pixels
    cam[5:9, 4:10] = 0.5     # large weaker blob: 24 pixels, above 20% of the max
    assert box_from_cam(cam, 0.2).tolist() == [4, 5, 10, 9]
    # above 60% of the max only the small blob survives
    assert box_from_cam(cam, 0.6).tolist() == [1, 1, 3, 3]


def test_diagonal_pixels_are_connected():
    cam = np.zeros((5, 5), dtype=np.float32)
    cam[0, 0] = cam[1, 1] = cam[2, 2] = 1.0
    assert box_from_cam(cam).tolist() == [0, 0, 3, 3]


def test_all_zero_and_constant_maps_give_whole_image():
    assert box_from_cam(np.zeros((4, 6))).tolist() == [0, 0, 6, 4]
    assert box_from_cam(np.full((4, 6), 3.0)).tolist() == [0, 0, 6, 4]
    assert box_from_cam(np.full((4, 6), -1.0)).tolist() == [0, 0, 6, 4]


def test_nan_map_and_bad_threshold_are_clear_errors():
    with pytest.raises(CamlibError, match="NaN"):
        box_from_cam(np.full((3, 3), np.nan))
    for t in (0.0, 1.0, -0.1, 1.5):
        with pytest.raises(CamlibError, match=r"\(0, 1\)"):
            box_from_cam(np.ones((3, 3)), t)


def test_batched_boxes_shape_and_torch_input():
    maps = torch.zeros(2, 3, 8, 8)
    maps[1, 2, 2:4, 5:7] = 1.0
    boxes = boxes_from_cams(maps, 0.5)
    assert boxes.shape == (2, 3, 4)
    assert boxes[1, 2].tolist() == [5, 2, 7, 4]
    assert boxes[0, 0].tolist() == [0, 0, 8, 8]


def test_released_rule_two_blobs_sorted_by_area():
    cam = np.zeros((40, 40), dtype=np.float32)
    cam[2:12, 2:12] = 1.0     # 10x10
    cam[20:38, 15:35] = 1.0   # 18x20, larger
    boxes = released_code_boxes(cam)
    assert boxes.shape[1] == 4
    first, second = boxes[0], boxes[1]
    assert first[0] >= 15 and first[2] <= 35 and first[1] >= 20 and first[3] <= 38
    assert second[0] >= 2 and second[2] <= 12
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    assert np.all(np.diff(areas) <= 0)


def test_released_rule_drops_contained_boxes():
    cam = np.zeros((30, 30), dtype=np.float32)
    cam[5:25, 5:25] = 0.5
    cam[10:20, 10:20] = 1.0   # inside the big one at the higher thresholds
    boxes = released_code_boxes(cam)
    assert len(boxes) == 1


def test_heuristics_five_guesses():
    cams = np.zeros((3, 20, 20), dtype=np.float32)
    cams[0, 2:8, 2:8] = 1.0
    cams[1, 10:18, 10:18] = 1.0
    cams[2, 0:5, 12:20] = 1.0
    guesses = heuristic_guesses(cams)
    assert guesses.shape == (5, 4)
    # class 1 has one blob: its second guess repeats the first
    assert guesses[2].tolist() == guesses[3].tolist()
    with pytest.raises(CamlibError, match="top-3"):
        heuristic_guesses(cams[:2])
    assert np.array_equal(guesses_from_boxes([released_code_boxes(cam) for cam in cams]), guesses)


def test_suppression_keeps_what_the_one_by_one_greedy_rule_keeps():
    def one_by_one(boxes, overlap):  # the rule as the released code states it
        boxes = boxes[np.argsort(-(boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]), kind="stable")]
        kept = []
        for box in boxes:
            inter = [max(0, min(k[2], box[2]) - max(k[0], box[0])) * max(0, min(k[3], box[3]) - max(k[1], box[1])) for k in kept]
            if not any(i > overlap * (k[2] - k[0]) * (k[3] - k[1]) for i, k in zip(inter, kept)):
                kept.append(box)
        return np.array(kept).reshape(-1, 4)

    rng = np.random.default_rng(0)
    for count in (0, 1, 2, 7, 60):
        corners = rng.integers(0, 40, size=(count, 2, 2)).astype(np.float32)
        boxes = np.concatenate([corners.min(axis=1), corners.max(axis=1) + 1], axis=1)
        assert np.array_equal(_suppress_contained(boxes, 0.5), one_by_one(boxes, 0.5))


def test_an_evaluation_boxes_only_the_labels_maps_and_a_twin_of_its_map_once():
    maps = np.zeros((1, 3, 20, 20), dtype=np.float32)
    maps[0, 0, 2:8, 2:8] = 1.0
    maps[0, 1, 10:18, 10:18] = 1.0
    maps[0, 2] = maps[0, 0]  # the label's map, also ranked first
    boxes = _released_boxes(maps, np.array([[4, 9, 4]]), np.array([4]))[0]
    assert boxes[0] is boxes[2] and boxes[1] is boxes[2]  # class 9's guess is wrong whatever its box
    other = _released_boxes(maps, np.array([[9, 4, 4]]), np.array([4]))[0]
    assert other[0] is other[2] and other[1] is not other[2]  # the label ranked second with another map: boxed
    maps[0, 2, 12:20, 0:6] = 1.0  # the label ranked first with another map than the label's (never in practice)
    apart = _released_boxes(maps, np.array([[4, 9, 4]]), np.array([4]))[0]
    assert apart[0] is not apart[2] and len(apart[0]) == 1 and len(apart[2]) == 2
