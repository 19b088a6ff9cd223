"""Intervals over the unit of independence: images of one object are resampled together."""
from __future__ import annotations

import numpy as np
import pytest

from camlib.utils.errors import CamlibError
from camlib.metrics.bootstrap import cluster_seed_intervals, minimum_detectable_effect, seed_image_intervals


def test_copies_of_an_object_widen_the_interval_by_the_square_root_of_the_copies():
    """40 objects shown 9 times each, every copy scoring the same: resampling images sees 360 independent
    values (a standard error 3 = sqrt(9) times too small); resampling objects sees the 40 there are."""
    values = np.random.default_rng(1).normal(size=40)
    copies = 9
    per_image, objects = np.repeat(values, copies), np.repeat(np.arange(40), copies)
    mean = lambda k, rows: {"m": float(per_image[rows].mean())}  # noqa: E731
    naive = seed_image_intervals(mean, 1, len(per_image), resamples=2000)["m"]
    clustered = cluster_seed_intervals(mean, 1, objects, resamples=2000)["m"]
    ratio = (clustered[1] - clustered[0]) / (naive[1] - naive[0])
    assert ratio == pytest.approx(np.sqrt(copies), rel=0.12)
    expected_half_width = 1.96 * values.std() / np.sqrt(40)  # the hand-computed standard error of 40 values
    assert (clustered[1] - clustered[0]) / 2 == pytest.approx(expected_half_width, rel=0.12)


def test_one_image_per_object_is_the_image_bootstrap():
    per_image = np.random.default_rng(2).normal(size=200)
    mean = lambda k, rows: {"m": float(per_image[rows].mean())}  # noqa: E731
    naive = seed_image_intervals(mean, 1, 200, resamples=2000)["m"]
    clustered = cluster_seed_intervals(mean, 1, np.arange(200), resamples=2000)["m"]
    assert (clustered[1] - clustered[0]) == pytest.approx(naive[1] - naive[0], rel=0.1)


def test_seeds_that_disagree_widen_the_interval():
    per_image = np.zeros(100)
    offsets = [0.0, 2.0, 4.0]
    stat = lambda k, rows: {"m": offsets[k] + float(per_image[rows].mean())}  # noqa: E731
    low, high = cluster_seed_intervals(stat, 3, np.arange(100) // 4, resamples=500)["m"]
    assert low < 1.0 and high > 3.0


@pytest.mark.parametrize("clusters", [np.zeros(5), np.array([1]), np.zeros((2, 2))])
def test_too_few_units_are_refused(clusters):
    with pytest.raises(CamlibError):
        cluster_seed_intervals(lambda k, rows: {"m": 0.0}, 1, clusters, resamples=20)


def test_minimum_detectable_effect_is_2_8_standard_errors():
    assert minimum_detectable_effect(-1.96, 1.96) == pytest.approx(2.80)
    with pytest.raises(CamlibError):
        minimum_detectable_effect(1.0, 0.0)


def test_the_image_bootstrap_resamples_units_when_told_them_and_the_interval_widens_by_the_hand_computed_amount():
    from camlib.metrics.bootstrap import bootstrap_intervals

    # two objects, 50 images each, scored 0 and 1: the mean's interval over images is about 0.5 +- 1.96 * 0.05, but
    # over objects a draw holds 0, 1 or 2 copies of the scoring object (means 0, 0.5, 1 with chances 1/4, 1/2, 1/4)
    values = np.repeat([0.0, 1.0], 50)
    objects = np.repeat([7, 3], 50)
    mean = lambda rows: {"mean": float(values[rows].mean())}
    low, high = bootstrap_intervals(mean, 100, resamples=2000)["mean"]
    assert 0.38 < low < 0.42 and 0.58 < high < 0.62
    assert bootstrap_intervals(mean, 100, resamples=2000, clusters=objects)["mean"] == (0.0, 1.0)
    # one image per unit is the image bootstrap itself
    assert bootstrap_intervals(mean, 100, resamples=200, clusters=np.arange(100)) == bootstrap_intervals(mean, 100, resamples=200)
    # within strata each stratum's units are drawn apart: one unit per stratum leaves nothing to resample
    assert bootstrap_intervals(mean, 100, resamples=50, strata=objects, clusters=objects)["mean"] == (0.5, 0.5)
    with pytest.raises(CamlibError, match="one label per image"):
        bootstrap_intervals(mean, 100, clusters=objects[:10])
    with pytest.raises(CamlibError, match="2 distinct units"):
        bootstrap_intervals(mean, 100, clusters=np.zeros(100))


def test_a_two_stage_bootstrap_adds_the_spread_within_units_and_keeps_draws_of_a_unit_apart():
    from camlib.metrics.bootstrap import bootstrap_intervals

    # 30 units with equal means (0) and 20 images each of spread 1 within: resampling units alone sees no spread of
    # the mean; resampling images within the drawn units too sees the within-unit noise, 1 / sqrt(600) per mean
    values = np.tile(np.r_[np.ones(10), -np.ones(10)], 30)
    units = np.repeat(np.arange(30), 20)
    mean = lambda rows: {"m": float(values[rows].mean())}  # noqa: E731
    units_only = bootstrap_intervals(mean, 600, 500, clusters=units)["m"]
    two_stage = bootstrap_intervals(mean, 600, 2000, clusters=units, within=True)["m"]
    assert units_only == (0.0, 0.0)
    assert (two_stage[1] - two_stage[0]) / 2 == pytest.approx(1.96 / np.sqrt(600), rel=0.12)
    # every drawn unit is one block as long as the unit: a unit drawn twice is two blocks of 20
    seen = []
    bootstrap_intervals(lambda rows: seen.append(rows) or {"m": 0.0}, 600, 10, clusters=units, within=True)
    blocks = seen[0].reshape(30, 20)
    assert all(len(set(units[block])) == 1 for block in blocks)
    with pytest.raises(CamlibError, match="give clusters"):
        bootstrap_intervals(mean, 600, 10, within=True)
