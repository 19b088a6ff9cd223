"""The Tables 1-3 pipeline on inputs with known answers, its tables and claims, and the full-scale command."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn
from toy_models import ChannelOracle, rectangles

from camlib.chapters.ch04_trained_networks import (
    PAPER_THRESHOLD,
    Roles,
    box_area_table,
    claims_table,
    dataset_batches,
    evaluate,
    evaluate_gt_known,
    modern_table,
    resized_input,
    split_batches,
    table1,
    table2,
    table3,
    threshold_curves,
    threshold_summary,
)
from camlib.utils.errors import CamlibError
from camlib.evaluation.batches import scale_boxes
from camlib.methods.map_methods import BackpropMaps, CAMMaps, CentreMaps
from camlib.metrics import LocalizationResult
from camlib.models.small import small_network
from camlib.book.paper import paper_table, side_by_side

FIXTURES = Path(__file__).parent / "fixtures"


class ReluMeanOracle(nn.Module):
    """logit c = mean(relu(channel c)): its input gradient is the rectangle of class c (no CAM head)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x).mean(dim=(2, 3))


def test_oracle_cam_localizes_perfectly():
    split = rectangles()
    result = evaluate(CAMMaps(ChannelOracle().eval()), split_batches(split, batch_size=5), num_classes=3)
    assert result.count == 12 and result.top1_error == 0.0 and result.top5_error == 0.0
    assert result.paper_rule == LocalizationResult(0.0, 0.0, 100.0, 12)
    assert result.released_rule.top1_error == 0.0 and result.heuristics.top5_error == 0.0
    assert result.gt_known.max_box_acc_v2.value == pytest.approx(100.0)
    assert result.gt_known.pxap.value == pytest.approx(100.0)
    assert np.all(result.gt_known.curve.box_acc[0] == 100.0)
    true_area = np.mean([(b[2] - b[0]) * (b[3] - b[1]) / 32 ** 2 * 100 for b in split.boxes])
    assert result.box_area == pytest.approx({"paper rule": true_area, "released rule": true_area, "ground truth": true_area})
    assert box_area_table({"oracle": result}).loc["oracle", "ground truth"] == pytest.approx(true_area)


def test_wrong_classes_fail_localization_but_not_gt_known():
    result = evaluate(CAMMaps(ChannelOracle(favour=0).eval()), split_batches(rectangles()), num_classes=3)
    assert result.top1_error == pytest.approx(200 / 3)  # every image called class 0; a third are
    assert result.paper_rule.top1_error == pytest.approx(200 / 3)
    assert result.paper_rule.gt_known_accuracy == 100.0  # the CAM has no bias: the true class's map is exact
    assert result.top5_error == 0.0 and result.paper_rule.top5_error == 0.0  # top-3 holds every class


def test_backprop_on_a_known_gradient():
    result = evaluate(BackpropMaps(ReluMeanOracle().eval()), split_batches(rectangles()), num_classes=3, released=False)
    assert result.top1_error == 0.0 and result.paper_rule.top1_error == 0.0
    assert result.released_rule is None and result.heuristics is None
    assert result.gt_known.max_box_acc_v2.value == pytest.approx(100.0)


def test_mapping_the_true_class_alone_gives_the_same_localization_errors():
    split = rectangles(n=30, size=64, classes=3, seed=3)
    untrained = small_network("gap", 3, seed=4).eval()  # wrong classes and wrong boxes
    biased = ChannelOracle(favour=0).eval()  # wrong classes, exact boxes
    for model in (untrained, biased):
        full = evaluate(CAMMaps(model), split_batches(split, batch_size=7), num_classes=3, topk=2)
        alone = evaluate(CAMMaps(model), split_batches(split, batch_size=7), num_classes=3, topk=2, true_class_only=True)
        assert 0 < full.top1_error < 100  # some classes wrong: their guesses' boxes never count
        for rule in ("paper_rule", "released_rule"):
            assert getattr(alone, rule) == getattr(full, rule)
        assert alone.gt_known.max_box_acc_v2.value == full.gt_known.max_box_acc_v2.value
        assert np.array_equal(alone.gt_known.curve.box_acc, full.gt_known.curve.box_acc)
        assert alone.box_area == full.box_area and alone.top1_error == full.top1_error
        assert alone.heuristics is None and full.heuristics is None  # topk=2: Table 3 needs the top 3
    assert 0 < full.paper_rule.top1_error < 100  # the oracle's right classes are localized


def test_sweep_at_20_percent_is_the_paper_rule():
    split = rectangles(n=16, size=64, classes=3, seed=1)
    model = small_network("gap", 3, seed=2).eval()  # untrained: blotchy maps, imperfect boxes
    result = evaluate(CAMMaps(model), split_batches(split), num_classes=3)
    assert result.gt_known.accuracy_at(PAPER_THRESHOLD) == pytest.approx(result.paper_rule.gt_known_accuracy)
    with pytest.raises(CamlibError, match="not on the sweep"):
        result.gt_known.accuracy_at(0.123)


def test_every_map_method_is_scored_by_one_evaluation():
    split = rectangles()
    cam = evaluate_gt_known(CAMMaps(ChannelOracle().eval()), split_batches(split))
    backprop = evaluate_gt_known(BackpropMaps(ReluMeanOracle().eval()), split_batches(split))
    centre = evaluate_gt_known(CentreMaps(), split_batches(split))
    assert cam.max_box_acc_v2.value == pytest.approx(100.0) and backprop.max_box_acc_v2.value == pytest.approx(100.0)
    assert centre.max_box_acc_v2.value < 100.0  # the rectangles are not centred
    with pytest.raises(CamlibError, match="does not classify"):
        evaluate(CentreMaps(), split_batches(split), num_classes=3)


def test_map_scales():
    from camlib.evaluation.evaluate import fraction_of_max, min_max

    maps = np.array([[[-2.0, 0.0], [1.0, 4.0]], [[-1.0, -1.0], [-3.0, -2.0]]])
    assert fraction_of_max(maps).tolist() == [[[0.0, 0.0], [0.25, 1.0]], [[1.0, 1.0], [1.0, 1.0]]]
    assert np.allclose(min_max(maps)[0], [[0.0, 1 / 3], [0.5, 1.0]])


def test_centre_baseline_finds_centred_boxes():
    split = rectangles(n=4, size=32)
    split.boxes[:] = [8, 8, 24, 24]  # every object centred
    split.masks[:] = False
    split.masks[:, 8:24, 8:24] = True
    scores = evaluate_gt_known(CentreMaps(), split_batches(split))
    assert scores.curve.value == 100.0 and scores.max_box_acc_v2.value == pytest.approx(100.0)


def test_tables_line_up_with_the_paper():
    split = rectangles()
    good = evaluate(CAMMaps(ChannelOracle().eval()), split_batches(split), num_classes=3)
    bad = evaluate(CAMMaps(ChannelOracle(favour=0).eval()), split_batches(split), num_classes=3)
    rows = {"GAP": good, "GMP": bad}
    t1 = side_by_side(table1(rows), paper_table("table1_classification_error"), rows={"GAP": "GoogLeNet-GAP", "GMP": "GoogLeNet-GMP"})
    assert t1.loc["GAP", "top1 (ours)"] == 0.0 and t1.loc["GAP", "top1 (paper)"] == 35.0
    t2 = table2(rows)
    assert list(t2.columns[:2]) == ["top1", "top5"] and t2.loc["GMP", "top1"] == pytest.approx(200 / 3)
    t3 = table3("GAP", rows)
    assert list(t3.index) == ["GAP (heuristics)", "GAP (released rule)", "GAP", "GMP"]
    modern = modern_table({"GAP": good.gt_known, "centre": evaluate_gt_known(CentreMaps(), split_batches(split))})
    assert modern.loc["GAP", "PxAP"] == pytest.approx(100.0)
    curves = threshold_curves({"GAP": good.gt_known})
    assert curves.index.name == "threshold" and (curves["GAP"] == 100.0).all()
    assert threshold_summary(rows).loc["GAP"].tolist() == [100.0] * 4
    backprop = evaluate(BackpropMaps(ReluMeanOracle().eval()), split_batches(split), num_classes=3, released=False)
    assert np.isnan(table2({"bp": backprop}).loc["bp", "top1 released rule"])
    with pytest.raises(CamlibError, match="without the heuristics"):
        table3("bp", {"bp": backprop})


def _results(localization: dict, classification: dict | None = None, seeds: int = 2):
    """Results whose every row is the same evaluation for each of ``seeds`` seeds."""
    from camlib.chapters.ch04_trained_networks.results import Classification, Results

    classification = classification or {row: e for row, e in localization.items() if not row.startswith("B")}
    split = rectangles(n=3)
    return Results({row: [Classification.of(e)] * seeds for row, e in classification.items()},
                   {row: [e] * seeds for row, e in localization.items()},
                   evaluate_gt_known(CentreMaps(), split_batches(split)), {}, ROLES_FOR_TESTS, {}, None)


ROLES_FOR_TESTS = Roles(gap="G", gmp="M", low_res="L", extra_convs="X", extra_base="G", fc="F", fc_base="G",
                        backprop=("B",))


def test_claims_verdicts_follow_the_numbers():
    split = rectangles(n=30)
    run = lambda model, **kw: evaluate(CAMMaps(model.eval()), split_batches(split), num_classes=3, **kw)  # noqa: E731
    perfect = run(ChannelOracle())
    favour0 = run(ChannelOracle(favour=0))  # always class 0: right on a third of the images, CAMs unchanged
    backprop = evaluate(BackpropMaps(ReluMeanOracle().eval()), split_batches(split), num_classes=3, released=False)
    results = _results({"G": perfect, "M": favour0, "L": favour0, "X": perfect, "B": backprop},
                       {"G": perfect, "M": favour0, "L": favour0, "X": perfect, "F": favour0})
    table = claims_table(results, resamples=50)
    verdict = table["holds?"]
    assert perfect.top1_error == 0 and favour0.top1_error == pytest.approx(200 / 3)
    assert not table.index.str.startswith("GAP and GMP classify").any()  # chapter 1's claim, not repeated here
    assert verdict.iloc[0] == "yes"  # 0 vs 66.7 localization error (the class must be right)
    assert verdict.iloc[1] == "undecided"  # the same maps when the class is given: no difference at all
    assert table["gain (95% interval)"].iloc[1] == "+0.0 [+0.0, +0.0]" and table["detectable gain"].iloc[1] == 0.0
    assert verdict.iloc[6] == "yes"  # the 7x7 stand-in classifies worse, so it localizes worse by the paper's metric
    assert verdict.iloc[7] == "undecided" and verdict.iloc[9] == "no"  # extra convs: equal; fc: worse
    assert table["ours A"].iloc[0] == 0.0 and table["ours B"].iloc[0] == pytest.approx(200 / 3)
    assert table["paper"].iloc[0] == "56.4 vs 57.8" and table["paper gain"].iloc[0] == pytest.approx(1.4)
    assert table["paper"].iloc[1] == "not reported" and np.isnan(table["paper gain"].iloc[1])
    assert (table["test images"] == 30).all() and (table["test objects"] == 30).all()


def test_imagenet_fixture_boxes_follow_the_resize():
    from camlib.data.sets.ilsvrc import ImageNetLocalization

    val = ImageNetLocalization(FIXTURES / "ILSVRC2012_mini", "val", transform=resized_input(48), progress=False)
    batch = next(dataset_batches(val, 48, batch_size=3))
    assert batch.images.shape == (3, 3, 48, 48) and batch.masks is None
    raw = ImageNetLocalization(FIXTURES / "ILSVRC2012_mini", "val", progress=False)
    for i in range(3):
        image, _, boxes, size = raw[i]
        expected = scale_boxes(boxes.numpy(), tuple(size.tolist()), 48)
        assert np.allclose(batch.boxes[i], expected)
        red = batch.images[i, 0] > batch.images[i, 1] + 1.0  # the fixture draws each box in red
        ys, xs = np.nonzero(red.numpy())
        x0, y0, x1, y1 = expected[0] if len(expected) == 1 else expected.min(0)  # union corner
        assert abs(xs.min() - x0) <= 1.5 and abs(ys.min() - y0) <= 1.5
    with pytest.raises(CamlibError, match="resized_input"):
        next(dataset_batches(val, 64))


def test_scale_boxes():
    assert scale_boxes(np.array([[10, 20, 50, 40]]), (40, 100), 50).tolist() == [[5, 25, 25, 50]]


def test_full_scale_command_on_the_miniature_imagenet(tmp_path):
    from camlib.chapters.ch04_trained_networks.full_scale import main

    argv = ["--backbone", "alexnet", "--extra-convs", "2", "--data", str(FIXTURES / "ILSVRC2012_mini"),
            "--out", str(tmp_path), "--weights", "none", "--image-size", "64", "--epochs", "1",
            "--batch-size", "2", "--max-steps", "1", "--backprop"]
    assert main(argv) == 0
    record = json.loads((tmp_path / "AlexNet*-GAP.json").read_text())
    cam, backprop = record["evaluations"]["AlexNet*-GAP"], record["evaluations"]["Backprop on AlexNet*-GAP"]
    assert cam["count"] == 3 and backprop["released_rule"] is None
    assert 0 <= cam["paper_rule"]["top1_error"] <= 100
    frame = pd.read_csv(tmp_path / "AlexNet*-GAP.csv", index_col=0)
    assert list(frame.index) == ["AlexNet*-GAP", "Backprop on AlexNet*-GAP"]
    assert Path(record["checkpoint"]).is_file()
    assert main(argv) == 0  # the second run loads the checkpoint


def test_full_scale_command_reports_missing_data(tmp_path, capsys):
    from camlib.chapters.ch04_trained_networks.full_scale import main

    assert main(["--backbone", "vgg16", "--data", str(tmp_path / "nowhere"), "--weights", "none"]) == 2
    assert "ILSVRC2012 not found" in capsys.readouterr().err


def test_full_scale_chapter_on_the_miniature_imagenet(tmp_path):
    from dataclasses import replace

    import camlib.chapters.ch04_trained_networks.full_scale as full_scale
    from camlib.training.train import TrainConfig

    runs = tuple(replace(r, weights=None, image_size=64) for r in full_scale.CHAPTER_RUNS[:1])
    results = full_scale.chapter_results(FIXTURES / "ILSVRC2012_mini", tmp_path, TrainConfig(epochs=1, batch_size=3),
                                         image_size=64, weights=None, examples=2, runs=runs, originals={"GoogLeNet": "googlenet"})
    assert list(results.classification) == ["GoogLeNet-GAP", "GoogLeNet"]
    assert list(results.localization) == ["GoogLeNet-GAP", "GoogLeNet", "Backprop on GoogLeNet"]
    assert results.examples.images.shape == (2, 64, 64, 3) and results.centre.curve.num_images == 3
    assert results.seeds == 1 and results.classification["GoogLeNet"][0].count == 3
    frame = side_by_side(table2(results.seed(0)[1]), paper_table("table2_localization_error"), rows=results.paper_rows["table2"])
    assert frame.loc["GoogLeNet", "top1 (paper)"] == 60.09


def test_chapter_scale_must_be_known():
    from camlib.chapters.ch04_trained_networks.chapter import chapter_results

    with pytest.raises(CamlibError, match="scale"):
        chapter_results("huge")


def test_claims_summary_groups_by_verdict():
    from camlib.chapters.ch04_trained_networks.claims_table import summary

    table = pd.DataFrame({"holds?": ["yes", "no", "yes", "undecided, leans yes"]}, index=["A", "B", "C", "D"])
    assert summary(table) == ("Held beyond the noise (2): A; C.\nUndecided, the paper's way (within the noise) (1): D.\n"
                              "Did not hold (1): B.")


def test_figures_draw_every_method_and_curve():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from camlib.chapters.ch04_trained_networks.figures import plot_threshold_curves, show_examples
    from camlib.chapters.ch04_trained_networks.results import Examples
    from camlib.book.figures import plot_training_loss
    from camlib.training.train import TrainResult

    split = rectangles(n=3)
    examples = Examples(split.images, split.labels, [b[None] for b in split.boxes], split.class_names)
    fig = show_examples({"CAM": CAMMaps(ChannelOracle().eval()), "backprop": BackpropMaps(ReluMeanOracle().eval())}, examples)
    assert len(fig.axes) == 6 and fig.axes[0].get_title() == "red (ok)"
    scores = evaluate(CAMMaps(ChannelOracle().eval()), split_batches(split), num_classes=3).gt_known
    fig2 = plot_threshold_curves(threshold_curves({"CAM": scores}), {"CAM": 100.0})
    labels = fig2.axes[0].get_legend_handles_labels()[1]
    assert labels == ["CAM", "released multi-threshold rule"]
    history = [{"epoch": 1, "loss": 2.0, "accuracy": 40.0}, {"epoch": 2, "loss": 1.0, "accuracy": 75.0}]
    fig3 = plot_training_loss({"GAP": [TrainResult(history), TrainResult(history[:1])]})
    assert fig3.axes[0].lines[0].get_ydata().tolist() == [2.0, 1.0] and len(fig3.axes[0].lines) == 2
    with pytest.raises(CamlibError, match="non-empty history"):
        plot_training_loss({"GAP": [TrainResult()]})
    plt.close("all")


def test_an_evaluation_rescored_on_its_own_images_is_unchanged_and_subsets_are_per_image():
    result = evaluate(CAMMaps(ChannelOracle(favour=0).eval()), split_batches(rectangles(), batch_size=5), num_classes=3)
    again = result.subset(np.arange(result.count))
    assert (again.top1_error, again.paper_rule, again.box_area) == (result.top1_error, result.paper_rule, result.box_area)
    assert again.gt_known.max_box_acc_v2.value == pytest.approx(result.gt_known.max_box_acc_v2.value)
    labels = rectangles().labels
    favoured, other = np.flatnonzero(labels == 0)[0], np.flatnonzero(labels != 0)[0]
    assert result.subset(np.array([favoured, favoured])).top1_error == 0.0
    assert result.subset(np.array([other])).top1_error == 100.0


def test_a_subset_of_a_subset_indexes_the_subset():
    result = evaluate(CAMMaps(ChannelOracle(favour=0).eval()), split_batches(rectangles(), batch_size=5), num_classes=3)
    labels = rectangles().labels
    favoured, other = np.flatnonzero(labels == 0)[0], np.flatnonzero(labels != 0)[0]
    pair = result.subset(np.array([other, favoured]))
    assert pair.count == 2 and pair.top1_error == 50.0
    assert pair.subset(np.array([1, 1])).top1_error == 0.0 and pair.subset(np.array([0])).top1_error == 100.0
    with pytest.raises(CamlibError, match="rows must be"):
        pair.subset(np.array([2]))
