"""Chapter 12's scoring on a network whose maps are known: every method's numbers from one map computation."""
from __future__ import annotations

import numpy as np
import pytest
from toy_models import ChannelOracle, rectangles

from camlib.chapters.ch12_successors import SCORES, TABLE_PARTS, MethodScores, cost_table, method_intervals, method_table, successor_claim
from camlib.evaluation.batches import split_batches
from camlib.evaluation.evaluate import evaluate
from camlib.evaluation.faithfulness import ConfidenceChange
from camlib.methods.map_methods import CAMMaps
from camlib.utils.errors import CamlibError


def _scores(favour: int | None, n: int = 12) -> MethodScores:
    split = rectangles(n=n)
    evaluation = evaluate(CAMMaps(ChannelOracle(favour=favour).eval()), split_batches(split), num_classes=3,
                          released=False, true_class_only=True)
    hits = np.ones(n, dtype=bool) if favour is None else np.arange(n) % 3 == 0
    change = ConfidenceChange(np.where(hits, 0.0, 50.0), ~hits, np.full(n, 0.9), np.full(n, 30.0))
    return MethodScores("cam", 0.2, evaluation, evaluation, hits, change, 0.01 if favour is None else 0.03)


def test_the_table_scores_a_perfect_method_perfectly():
    scores = {"oracle": _scores(None)}
    intervals = method_intervals(scores, np.arange(12) // 2, resamples=50)
    assert intervals["oracle"]["top-1 loc err, 20%"] == (0.0, 0.0, 0.0)
    assert intervals["oracle"]["MaxBoxAccV2"][0] == pytest.approx(100.0) and intervals["oracle"]["pointing"][0] == 100.0
    table = method_table(scores, intervals)
    assert list(table.columns) == ["n", "dev thr.", *SCORES] and table.loc["oracle", "average drop"] == "0.0 [0.0, 0.0]"
    shown = [column for columns in TABLE_PARTS.values() for column in columns]
    assert sorted(shown) == sorted(table.columns)  # the parts show every column once


def test_a_successor_claim_judges_the_gain_over_networks_and_refuses_other_images():
    good, biased = _scores(None), _scores(0)
    row = successor_claim("the oracle beats the biased one", [(good, biased)], "top-1 loc err, 20%", np.arange(12), 200)
    assert row["holds?"] == "yes" and row["measured"].startswith("0.0 vs 66.7; gain 66.7")
    row = successor_claim("the biased one is more faithful", [(biased, good)], "average drop", np.arange(12), 200)
    assert row["holds?"] == "no"
    with pytest.raises(CamlibError, match="same images"):
        successor_claim("x", [(good, _scores(None, n=9))], "MaxBoxAccV2", np.arange(12))
    with pytest.raises(CamlibError, match="one object per test image"):
        successor_claim("x", [(good, biased)], "MaxBoxAccV2", np.arange(5))


def test_costs_are_ratios_to_cam_measured_in_the_same_run():
    table = cost_table({"cam": 0.02, "gradcam": 0.06, "scorecam": 20.0}, 512)
    assert table.loc["gradcam", "x CAM"] == pytest.approx(3.0) and table.loc["scorecam", "x CAM"] == pytest.approx(1000.0)
    assert table.loc["gradcam", "s / image"] == "0.060"
    assert table.loc["scorecam", "passes per image and class"] == "1 + 512 forwards"
    with pytest.raises(CamlibError, match="CAM's time"):
        cost_table({"gradcam": 0.06}, 512)



def test_a_subset_rescores_every_column_on_its_images():
    scores = _scores(0)
    hit_rows, miss_rows = np.flatnonzero(scores.pointing), np.flatnonzero(~scores.pointing)
    hits, misses = scores.subset(hit_rows), scores.subset(np.concatenate([miss_rows, miss_rows]))  # repeats allowed
    assert SCORES["pointing"](hits) == 100.0 and SCORES["pointing"](misses) == 0.0
    assert SCORES["average drop"](hits) == 0.0 and SCORES["average drop"](misses) == 50.0
    assert hits.at_paper.count == len(hit_rows) and misses.at_dev.count == 2 * len(miss_rows)
    whole = SCORES["top-1 loc err, 20%"](scores)
    assert whole == pytest.approx(np.mean([SCORES["top-1 loc err, 20%"](scores.subset(np.array([i]))) for i in range(12)]))
