"""Chapter 4's networks on the grouped real photos: the table's means and the examples drawn first."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from camlib.chapters.ch04_trained_networks.real_photos import PhotoResults, photo_table
from camlib.chapters.ch04_trained_networks.results import Classification, Examples


def evaluation(loc_error: float, gt_known: float, max_box: float) -> SimpleNamespace:
    return SimpleNamespace(paper_rule=SimpleNamespace(top1_error=loc_error, gt_known_accuracy=gt_known),
                           gt_known=SimpleNamespace(max_box_acc_v2=SimpleNamespace(value=max_box)))


def results(labels=(2, 0, 2, 1)) -> PhotoResults:
    right = np.array([[True, True]] * 3 + [[False, True]])           # 3 of 4 right: 25% top-1 error
    wrong = np.array([[False, False]] * 2 + [[True, True]] * 2)      # 50%
    examples = Examples(np.zeros((len(labels), 4, 4, 3), np.uint8), np.array(labels), [np.zeros((1, 4))] * len(labels),
                        ("a", "b", "c"))
    centre = SimpleNamespace(accuracy_at=lambda threshold: 40.0 if threshold == 0.2 else np.nan,
                             max_box_acc_v2=SimpleNamespace(value=45.0))
    return PhotoResults(photos=[SimpleNamespace(labels=np.array([label])) for label in labels],
                        classification={"GAP": [Classification(right), Classification(wrong)], "fc net": [Classification(wrong)]},
                        localization={"GAP": [evaluation(60.0, 50.0, 70.0), evaluation(80.0, 30.0, 50.0)]},
                        centre=centre, methods={}, examples=examples)


def test_the_table_averages_the_seeds_and_adds_the_centre_baseline():
    table = photo_table(results())
    assert table.loc["GAP", "top-1 error"] == pytest.approx(37.5) and table.loc["GAP", "top-1 error by seed"] == "25 / 50"
    assert table.loc["GAP", "top-1 loc err (20%)"] == 70.0 and table.loc["GAP", "GT-known loc (20%)"] == 40.0
    assert table.loc["GAP", "MaxBoxAccV2"] == 60.0 and table.loc["fc net", "top-1 error"] == 50.0
    assert np.isnan(table.loc["fc net", "MaxBoxAccV2"]) and np.isnan(table.loc["centre baseline", "top-1 error"])
    assert table.loc["centre baseline", "GT-known loc (20%)"] == 40.0 and table.index.name == "4 real photos"


def test_the_first_photo_of_each_group_in_file_order():
    shown = results(labels=(2, 0, 2, 1)).first_of_each_group()
    assert shown.labels.tolist() == [2, 0, 1] and len(shown.boxes) == 3 and shown.images.shape[0] == 3
