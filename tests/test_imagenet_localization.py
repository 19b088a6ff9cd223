"""Chapter 3's code: composite batches, threshold curves, the defaults' choice, size bins and paired claims."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from test_wsol_pipeline import rectangles
from toy_models import ChannelOracle

from camlib.chapters.ch03_imagenet_localization import (
    DevChoice,
    Scale,
    Setting,
    choose_flip,
    choose_network_and_threshold,
    paired_claim,
    sample_rows,
    size_bin_rows,
)
from camlib.data.generators.composites import largest_box_shares, load_composites
from camlib.utils.errors import CamlibError
from camlib.evaluation.batches import composite_batches, split_batches
from camlib.evaluation.evaluate import ThresholdCurve, evaluate, top1_localization_curve
from camlib.methods.map_methods import CAMMaps


@pytest.fixture(scope="module")
def test_split():
    return load_composites(progress=False)["test"]


def test_composite_batches_resize_boxes_and_masks_and_flip_them(test_split):
    rows = np.array([3, 0])
    (plain,) = composite_batches(test_split, rows, 224, (0.0, 0.0, 0.0), (1.0, 1.0, 1.0))
    (mirrored,) = composite_batches(test_split, rows, 224, (0.0, 0.0, 0.0), (1.0, 1.0, 1.0), flip=True)
    assert plain.images.shape == (2, 3, 224, 224) and plain.masks.shape == (2, 224, 224)
    assert plain.labels.tolist() == test_split.labels[rows].tolist()
    np.testing.assert_allclose(plain.boxes[0], test_split.boxes(3) * 224 / 256)
    x0, y0, x1, y1 = plain.boxes[1][0]
    np.testing.assert_allclose(mirrored.boxes[1][0], [224 - x1, y0, 224 - x0, y1])
    assert torch.equal(mirrored.images, plain.images.flip(-1))
    assert np.array_equal(mirrored.masks, plain.masks[:, :, ::-1])
    ys, xs = np.nonzero(plain.masks[1])  # the mask lies inside the image's boxes (up to resampling)
    assert xs.min() >= min(b[0] for b in plain.boxes[1]) - 1 and xs.max() <= max(b[2] for b in plain.boxes[1]) + 1


def test_composite_batches_refuse_bad_rows(test_split):
    with pytest.raises(CamlibError, match="rows must be indices"):
        next(composite_batches(test_split, np.array([len(test_split)]), 224, (0, 0, 0), (1, 1, 1)))


def test_rows_are_a_fixed_sample_and_size_bins_partition_them(test_split):
    rows = sample_rows(test_split, 100)
    assert len(set(rows)) == 100 and np.array_equal(rows, sample_rows(test_split, 100))
    assert np.array_equal(sample_rows(test_split, 200)[:100], rows)  # a prefix is a smaller sample
    bins = size_bin_rows(test_split, rows)
    assert sorted(np.concatenate(list(bins.values())).tolist()) == list(range(100))
    shares = largest_box_shares(test_split)[rows]
    assert (shares[bins["0-10%"]] < 0.1).all() and (shares[bins["60-100%"]] >= 0.6).all()
    with pytest.raises(CamlibError, match="count must lie"):
        sample_rows(test_split, 0)


def test_scale_keeps_the_expensive_rows_inside_the_sample():
    with pytest.raises(CamlibError, match="prefix"):
        Scale(test_images=10, high_res_images=20)


def test_oracle_top1_curve_is_perfect_where_its_box_is_right():
    split = rectangles()
    curve = top1_localization_curve(CAMMaps(ChannelOracle().eval()), split_batches(split, batch_size=5),
                                    thresholds=np.array([0.2, 0.5, 0.99]))
    assert curve.hits.shape == (12, 3) and curve.accuracy().tolist() == [100.0, 100.0, 100.0]
    assert curve.best() == (0.2, 100.0)
    wrong = top1_localization_curve(CAMMaps(ChannelOracle(favour=0).eval()), split_batches(split), np.array([0.5]))
    assert wrong.accuracy()[0] == pytest.approx(100.0 * np.mean(split.labels == 0))


def _curve(accuracies: list[float]) -> ThresholdCurve:
    """A curve over thresholds 0.1, 0.2, ... with the given accuracies (%) on 10 images."""
    hits = np.array([[i < a / 10 for a in accuracies] for i in range(10)])
    return ThresholdCurve(np.round(np.arange(1, len(accuracies) + 1) / 10, 1), hits)


def test_the_choice_takes_the_best_network_and_threshold_then_flip_only_if_it_beats_them():
    curves = {"A": _curve([30, 50, 40]), "B": _curve([30, 60, 60]), "C": _curve([60, 10, 10])}
    assert choose_network_and_threshold(curves) == ("B", 0.2)  # B ties C at 60 but B comes first; lowest threshold
    assert choose_flip(curves["B"], _curve([60, 60, 10])) == (False, 0.2)  # a tie keeps the plain CAM
    assert choose_flip(curves["B"], _curve([10, 40, 70])) == (False, 0.2)  # +10 points on 10 images is noise
    assert choose_flip(curves["B"], _curve([10, 40, 100])) == (True, 0.3)  # +40 points is not
    table = DevChoice(curves, _curve([10, 40, 100]), Setting("B", 0.3, True)).table()
    assert table.loc["B + flip", "best threshold"] == "0.30" and table.loc["C", "top-1 loc acc (dev)"] == 60.0


def test_paired_claims_need_the_same_images_and_judge_by_the_interval():
    split = rectangles(n=30)
    good = evaluate(CAMMaps(ChannelOracle().eval()), split_batches(split), num_classes=3)
    bad = evaluate(CAMMaps(ChannelOracle(favour=0).eval()), split_batches(split), num_classes=3)
    top1 = lambda e: e.paper_rule.top1_error  # noqa: E731
    row = paired_claim("oracle beats the biased oracle", "-", good, bad, top1, True, resamples=200)
    assert row["holds?"] == "yes" and "0.0 vs 66.7" in row["measured"]
    assert paired_claim("reverse", "-", bad, good, top1, True, resamples=200)["holds?"] == "no"
    assert paired_claim("same", "-", good, good, top1, True, resamples=200)["holds?"] == "undecided"
    with pytest.raises(CamlibError, match="same images"):
        paired_claim("x", "-", good, bad.subset(np.arange(5)), top1, True)


def test_backprop_gets_the_blur_and_threshold_best_on_dev_ties_to_the_least_blur(monkeypatch):
    from types import SimpleNamespace

    from camlib.chapters.ch03_imagenet_localization import backprop_rule

    dev_curves = {0.0: _curve([10, 20, 30]), 0.02: _curve([30, 70, 40]), 0.04: _curve([70, 10, 10])}
    monkeypatch.setattr(backprop_rule, "composite_batches", lambda *args, **kwargs: [])
    monkeypatch.setattr(backprop_rule, "top1_localization_curve", lambda method, batches, thresholds: dev_curves[method.sigma])
    classifier = SimpleNamespace(model=torch.nn.Identity().eval(), crop=224, mean=(0, 0, 0), std=(1, 1, 1))
    rule = backprop_rule.choose_backprop_rule(classifier, None, np.arange(4), sigmas=tuple(dev_curves))
    assert (rule.sigma, rule.threshold) == (0.02, 0.2)  # 0.04 ties at 70 but blurs more
    assert rule.table().loc["0.04", "best threshold"] == "0.10" and rule.table().loc["0", "top-1 loc acc (dev)"] == 30.0
