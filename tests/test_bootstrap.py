"""Per-image records behind every evaluator: ``compute(rows)`` on subsets and bootstrap intervals."""
import numpy as np
import pytest

from camlib.utils.errors import CamlibError
from camlib.metrics import LocalizationEvaluator, MaxBoxAccV2, PxAP, bootstrap_intervals
from camlib.metrics.bootstrap import select_rows


def test_localization_rows_select_images():
    evaluator = LocalizationEvaluator()
    gt = [np.array([[0, 0, 10, 10]]), np.array([[0, 0, 10, 10]])]
    evaluator.accumulate(np.array([[1], [1]]), np.array([[[0, 0, 10, 10]], [[20, 20, 30, 30]]]), np.array([1, 1]), gt)
    assert evaluator.compute().top1_error == 50.0
    assert evaluator.compute(np.array([0, 0])).top1_error == 0.0
    assert evaluator.compute(np.array([1])).top1_error == 100.0
    assert evaluator.compute(np.array([0, 1, 1, 1])).top1_error == 75.0


def _square_map(x0: int, y0: int, side: int, size: int = 16) -> np.ndarray:
    out = np.zeros((size, size))
    out[y0:y0 + side, x0:x0 + side] = 1.0
    return out


def test_box_accuracy_rows_equal_a_fresh_evaluator():
    maps = np.stack([_square_map(0, 0, 8), _square_map(8, 8, 8)])
    gt = [np.array([[0, 0, 8, 8]]), np.array([[0, 0, 8, 8]])]
    both = MaxBoxAccV2()
    both.accumulate(maps, gt)
    assert both.compute().value == pytest.approx(50.0)
    alone = MaxBoxAccV2()
    alone.accumulate(maps[:1], gt[:1])
    np.testing.assert_allclose(both.compute(np.array([0, 0, 0])).box_acc, alone.compute().box_acc)
    assert both.compute(np.array([1])).value == 0.0
    assert both.compute(np.array([0, 0, 0])).num_images == 3


def test_pxap_rows_count_repeats_like_accumulating_twice():
    rng = np.random.default_rng(0)
    maps = rng.random((3, 8, 8))
    masks = rng.random((3, 8, 8)) > 0.6
    pooled = PxAP()
    pooled.accumulate(maps, masks)
    twice = PxAP()
    twice.accumulate(maps[[2, 2, 0]], masks[[2, 2, 0]])
    assert pooled.compute(np.array([2, 2, 0])).value == pytest.approx(twice.compute().value)
    assert pooled.compute(np.arange(3)).value == pytest.approx(pooled.compute().value)


def test_bootstrap_interval_of_a_proportion_matches_the_normal_approximation():
    outcomes = np.tile([True, False], 200)  # p = 0.5, n = 400: standard error 2.5 points
    intervals = bootstrap_intervals(lambda rows: {"rate": 100.0 * outcomes[rows].mean(), "fixed": 7.0}, len(outcomes))
    low, high = intervals["rate"]
    assert low < 50.0 < high
    assert high - low == pytest.approx(2 * 1.96 * 2.5, rel=0.15)
    assert intervals["fixed"] == (7.0, 7.0)
    assert bootstrap_intervals(lambda rows: {"rate": outcomes[rows].mean()}, 400) == \
        bootstrap_intervals(lambda rows: {"rate": outcomes[rows].mean()}, 400)  # fixed seed


@pytest.mark.parametrize("rows", [np.array([], dtype=int), np.array([3]), np.array([-1]), np.array([0.5]), np.zeros((1, 1), int)])
def test_bad_rows_are_refused(rows):
    with pytest.raises(CamlibError, match="rows must be"):
        select_rows(np.zeros(3), rows)


def test_bootstrap_refuses_too_few_images_or_resamples():
    with pytest.raises(CamlibError, match="at least 2 images"):
        bootstrap_intervals(lambda rows: {}, 1)
    with pytest.raises(CamlibError, match="resamples"):
        bootstrap_intervals(lambda rows: {}, 5, resamples=3)
