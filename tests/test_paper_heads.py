"""The paper's heads and the stamp-group benchmark: the cut trunk, the memo, the heads, the stopping rule, seed statistics, chapter 4 end to end."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

from camlib.chapters.ch04_trained_networks.results import Classification
from camlib.data.generators.composites import CompositeSpec, split_stamps
from camlib.data.generators.stamps import GROUPS_FILE, load_stamps
from camlib.utils.errors import CamlibError
from camlib.training.stamp_groups import group_composites, group_names
from camlib.metrics.bootstrap import seed_image_intervals
from camlib.models.heads import FcHeadNet, on_trunk, paper_head
from camlib.models.pretrained import load_pretrained
from camlib.models.trunks import MemoTrunk, lite_trunk
from camlib.book.paper_tables import over_seeds, size_bin_table, size_bins
from camlib.training.train import TrainConfig, flattened, train
from camlib.data.assets.paths import cache_dir


@pytest.fixture(scope="module")
def lite0():
    return load_pretrained("efficientnet-lite0").model


def test_lite_trunk_cuts_at_14x14_and_continues_to_the_networks_own_map(lite0):
    trunk14, channels14 = lite_trunk(lite0, 16)
    trunk7, channels7 = lite_trunk(lite0, 32, start_stride=16)
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        maps14 = trunk14(x)
        maps7 = trunk7(maps14)
        own = lite0._swish(lite0._bn0(lite0._conv_stem(x)))
        for block in lite0._blocks:
            own = block(own, drop_connect_rate=0.0)
    assert maps14.shape == (2, channels14, 14, 14) and channels14 == 112
    assert maps7.shape == (2, channels7, 7, 7) and channels7 == 320
    torch.testing.assert_close(maps7, own, rtol=0, atol=0)
    assert not any(p.requires_grad for p in trunk14.parameters())
    trunk14.train()
    assert not trunk14.training  # frozen: batch norm keeps its ImageNet statistics
    assert all(p.requires_grad for p in lite0.parameters())  # the network itself is untouched
    with pytest.raises(CamlibError, match="output stride 64"):
        lite_trunk(lite0, 64)
    with pytest.raises(CamlibError, match="EfficientNet-Lite"):
        lite_trunk(nn.Linear(2, 2), 16)


class Counting(nn.Module):
    def __init__(self):
        super().__init__()
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        return 2 * x


def test_memo_trunk_runs_once_per_batch_and_never_for_gradients():
    inner = Counting()
    memo = MemoTrunk(inner, capacity=2)
    a, b, c = torch.ones(1, 3, 2, 2), torch.zeros(1, 3, 2, 2), torch.full((1, 3, 2, 2), 3.0)
    first = memo(a)
    assert memo(a.clone()) is first and inner.calls == 1  # same content, same answer, no second run
    memo(b)
    memo(c)  # capacity 2: a is forgotten
    memo(a)
    assert inner.calls == 4
    x = a.clone().requires_grad_(True)
    memo(x).sum().backward()
    assert inner.calls == 5 and torch.equal(x.grad, torch.full_like(x, 2.0))
    with pytest.raises(CamlibError, match="capacity"):
        MemoTrunk(inner, capacity=0)


def test_paper_heads_have_the_papers_shapes_and_their_own_seed():
    maps = torch.randn(4, 112, 14, 14)
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    gap = paper_head("gap", 112, 14, side=14, width=8, seed=0)
    assert torch.equal(torch.rand(1), before)  # the caller's random state is untouched
    for kind in ("gap", "gmp", "gap-extra", "fc"):
        head = paper_head(kind, 112, 14, side=14, width=8, seed=0)
        assert head(maps).shape == (4, 14)
    again = paper_head("gap", 112, 14, side=14, width=8, seed=0)
    other = paper_head("gap", 112, 14, side=14, width=8, seed=1)
    assert torch.equal(gap.fc.weight, again.fc.weight) and not torch.equal(gap.fc.weight, other.fc.weight)
    extra = paper_head("gap-extra", 112, 14, side=14, width=8)
    assert sum(isinstance(m, nn.Conv2d) for m in extra.modules()) == 3
    assert paper_head("gmp", 112, 14, side=14, width=8).pooling == "max"
    fc = paper_head("fc", 112, 14, side=14, width=8)
    with pytest.raises(CamlibError, match="14x14"):
        fc(torch.randn(1, 112, 7, 7))
    with pytest.raises(CamlibError, match="unknown head"):
        paper_head("gap-max", 112, 14, side=14)
    network = on_trunk(fc, nn.Conv2d(3, 112, 16, stride=16))
    assert isinstance(network, FcHeadNet) and not network.training and network(torch.randn(1, 3, 224, 224)).shape == (1, 14)


@pytest.mark.parametrize("losses, expected", [
    ([2.0, 1.0, 0.5, 0.3], False),          # fell 0.7 over the last 3 epochs: more than 1% of 2.0
    ([2.0, 1.0, 0.5, 0.3, 0.29, 0.285, 0.281], True),   # fell 0.019 < 0.02 over the last 3
    ([2.0, 1.0, 0.5], False),                # not enough epochs to judge
    ([2.0, 1.0, 1.0, 1.05, 1.01], True),     # went up: flat
])
def test_stopping_rule_compares_the_last_drop_with_the_first_loss(losses, expected):
    config = TrainConfig(plateau=0.01, patience=3)
    assert flattened([{"loss": v} for v in losses], config) is expected
    assert flattened([{"loss": v} for v in losses], TrainConfig()) is False  # no rule: never stops early


def test_training_stops_at_the_plateau_and_refuses_bad_rules():
    torch.manual_seed(0)
    x = torch.randn(64, 4)
    y = (x[:, 0] > 0).long()
    model = nn.Linear(4, 2)
    config = TrainConfig(epochs=200, batch_size=16, optimizer="adam", lr=0.05, flip=False, schedule="constant",
                         plateau=0.01, patience=3)
    fit = train(model, TensorDataset(x, y), config, progress=False)
    assert 4 <= len(fit.history) < 200
    assert flattened(fit.history, config) and not flattened(fit.history[:-1], config)
    with pytest.raises(CamlibError, match="plateau"):
        TrainConfig(plateau=1.5)
    with pytest.raises(CamlibError, match="schedule"):
        TrainConfig(schedule="linear")


def test_over_seeds_gives_mean_and_t_interval():
    frames = [pd.DataFrame({"a": [1.0, np.nan]}, index=["x", "y"]), pd.DataFrame({"a": [3.0, np.nan]}, index=["x", "y"])]
    table = over_seeds(frames)
    # mean 2, sd sqrt(2), t(0.975, 1) = 12.706: half-width 12.706 * sqrt(2) / sqrt(2)
    assert table.loc["x", "a"] == "2.0 ± 12.7" and table.loc["y", "a"] == ""
    assert over_seeds(frames[:1]).loc["x", "a"] == "1.0"
    with pytest.raises(CamlibError):
        over_seeds([frames[0], pd.DataFrame({"a": [1.0]})])


def test_size_bins_split_by_largest_box_share():
    bins = size_bins(np.array([0.05, 0.1, 0.29, 0.3, 0.99, 1.0]))
    assert {k: v.tolist() for k, v in bins.items()} == {"0-10%": [0], "10-30%": [1, 2], "30-60%": [3], "60-100%": [4, 5]}
    values = np.array([1.0, 2.0, 4.0, 8.0, 16.0, 32.0])
    table = size_bin_table(bins, {"mean": lambda rows: float(values[rows].mean()), "max": lambda rows: float(values[rows].max())})
    assert table["n"].tolist() == [1, 2, 1, 2] and table.index.name == "largest box"
    assert table["mean"].tolist()[1::2] == [3.0, 24.0] and table["max"].isna().tolist() == [True, False, True, False]


def test_seed_image_intervals_carry_the_seed_spread():
    # a number that depends only on the seed: 0 for seed 0, 10 for seed 1 -> the mean over resampled seeds
    low, high = seed_image_intervals(lambda k, rows: {"v": 10.0 * k}, seeds=2, n=20, resamples=400)["v"]
    assert 0.0 <= low < 5.0 < high <= 10.0
    # one seed and a number that ignores the images: a point
    assert seed_image_intervals(lambda k, rows: {"v": 3.0}, seeds=1, n=5, resamples=50)["v"] == (3.0, 3.0)
    with pytest.raises(CamlibError):
        seed_image_intervals(lambda k, rows: {"v": 0.0}, seeds=0, n=5)


def test_classification_record_counts_top1_and_top5_hits():
    model = nn.Identity()
    logits = torch.tensor([[0.0, 1.0, 0.5, 0.2, 0.1, 0.05, 0.0], [1.0, 0.5, 0.0, 0.0, 0.0, 0.0, 2.0]])

    class Batch:
        images, labels = logits, torch.tensor([1, 1])

    record = Classification.measure(model, [Batch()])
    assert record.hits.tolist() == [[True, True], [False, True]]
    assert record.errors() == (50.0, 0.0) and record.errors(np.array([1, 1])) == (100.0, 0.0)


def test_group_composites_split_every_group_by_stamp():
    stamps = load_stamps(GROUPS_FILE)
    spec = group_composites(30, 10)
    pools = split_stamps(stamps, spec.stamp_cycle)
    assert not set(pools["train"]) & set(pools["test"])
    assert len(pools["test"]) * 3 <= len(stamps) + len(group_names())  # about a third held out
    names = group_names()
    assert len(names) >= 8 and len(set(names)) == len(names)
    for group in range(len(names)):  # every group has stamps on both sides
        assert any(stamps[i].class_index == group for i in pools["train"])
        assert any(stamps[i].class_index == group for i in pools["test"])
    with pytest.raises(CamlibError, match="stamp_cycle"):
        CompositeSpec(splits=(("train", 5),), stamp_cycle=("test",))


def test_gap_gmp_claim_on_known_hits():
    from camlib.book.claims import CLASSIFY_EQUALLY_MARGIN
    from camlib.chapters.ch01_pooling_heads import HeadRuns, gap_gmp_claim, heads_table
    from camlib.training.train import TrainResult

    right, wrong = np.ones((40, 2), dtype=bool), np.zeros((40, 2), dtype=bool)
    objects = np.arange(40) // 4  # ten objects, four images each
    fit = TrainResult([{"epoch": 1, "loss": 1.0, "accuracy": 90.0}, {"epoch": 2, "loss": 0.5, "accuracy": 99.0}])
    same = HeadRuns({"GAP": [right, right], "GMP": [right, right]}, {"GAP": [fit, fit], "GMP": [fit, fit]},
                    {"GAP": 5, "GMP": 5}, objects)
    claim = gap_gmp_claim(same, resamples=20)
    assert (claim["difference"], claim["low"], claim["high"], claim["verdict"]) == (0.0, 0.0, 0.0, "yes")
    assert claim["objects"] == 10 and claim["detectable"] == 0.0
    half = right.copy()
    half[:20] = False  # GMP wrong on the first five objects
    worse = HeadRuns({"GAP": [right, right], "GMP": [half, half]}, same.training, same.parameters, objects)
    claim = gap_gmp_claim(worse, resamples=200)
    assert claim["difference"] == 50.0 and claim["verdict"] == "no" and claim["low"] > CLASSIFY_EQUALLY_MARGIN
    spread = HeadRuns({"GAP": [right, right], "GMP": [wrong, right]}, same.training, same.parameters, objects)
    assert gap_gmp_claim(spread, resamples=200)["verdict"] == "undecided, leans no"  # the seeds disagree by 100 points
    table = heads_table(worse)
    assert table.loc["GMP", "top-1 error"] == 50.0 and table.loc["GAP", "epochs"] == 2
    assert table.loc["GAP", "train error, last epoch"] == pytest.approx(1.0)


@pytest.mark.slow
def test_chapter_4_runs_end_to_end_on_a_tiny_scale(tmp_path, monkeypatch):
    """Every row, every seed, the tables over seeds and the claims, on 28 composites and two seeds, at a scale
    other than the shipped one: its networks are fine-tuned here, resumably, the GPU way (every block but the
    stem tuned, images rendered as needed)."""
    from dataclasses import replace

    import camlib.data.assets.paths as paths
    from camlib.chapters.ch04_trained_networks import converted_networks as ch4
    from camlib.training.finetune import TUNED_TRAINING
    from camlib.chapters.ch04_trained_networks.claims_table import centre_margins, claims_table
    from camlib.book.paper_tables import table1, table2

    assets = paths.assets_dir().resolve()
    monkeypatch.setenv("CAMLIB_DATA", str(tmp_path))
    (tmp_path / "assets").symlink_to(assets, target_is_directory=True)
    scale = ch4.Scale(train_images=16, test_images=12, seeds=(0, 1), backprop_images=4, tune_from_stride=2,
                      config=replace(TUNED_TRAINING, epochs=1, batch_size=8), resamples=10)
    results = ch4.run(scale, examples=2)
    assert results.seeds == 2 and list(results.localization) == list(ch4.METHODS)
    assert all(len(fits) == 2 and len(fits[0].history) == 1 and fits[0].steps == 2 for fits in results.training.values())
    assert results.localization["Backprop on GAP"][0].count == 4 and results.localization["GAP"][1].count == 12
    assert results.classification["fc net"][0].count == 12 and len(results.objects) == 12
    assert over_seeds([table1(results.seed(k)[0]) for k in range(2)]).shape == (5, 2)
    assert over_seeds([table2(results.seed(k)[1]) for k in range(2)]).shape == (6, 5)
    assert all(0 <= fit.fitted_error <= 100 for fits in results.training.values() for fit in fits)  # measured in eval mode
    fitted = lambda error: {row: [replace(fit, fitted_error=error) for fit in fits] for row, fits in results.training.items()}  # noqa: E731
    claims = claims_table(replace(results, training=fitted(50.0)), resamples=10)
    assert len(claims) == 11 and set(claims["holds?"]) == {"not tested"}  # no network converged
    with pytest.raises(CamlibError, match="--add-metrics"):
        claims_table(replace(results, training=fitted(None)), resamples=10)
    judged = claims_table(replace(results, training=fitted(1.0)), resamples=10)["holds?"]
    assert set(judged) <= {"yes", "no", "undecided, leans yes", "undecided", "undecided, leans no"}
    assert {"paper gain", "detectable gain", "test objects"} <= set(claims.columns)
    margins = centre_margins(results, resamples=10)
    v2 = np.mean([e.gt_known.max_box_acc_v2.value for e in results.localization["GAP"]])
    assert margins.loc["MaxBoxAccV2", "gain"] == pytest.approx(v2 - results.centre.max_box_acc_v2.value)
    assert margins.loc["PxAP", "centre baseline"] == pytest.approx(results.centre.pxap.value)
    assert margins.loc["PxAP", "interval low"] <= margins.loc["PxAP", "gain"]
    assert results.examples.images.shape == (2, 224, 224, 3) and results.examples.mean == (0.5, 0.5, 0.5)
    assert len(list((cache_dir() / "training").glob("*.pt"))) == 10  # five networks x two seeds, resumable


def test_a_later_field_of_the_group_spec_names_other_caches_and_networks():
    # trunk maps, low maps and network recipes are keyed on spec.key(): every field counts, the later ones too
    spec = group_composites(960, 320)
    assert spec.key() == group_composites(960, 320).key() != replace(spec, classes="stamp").key()


def test_an_fc_head_can_pool_before_its_fc_layer_as_alexnet_does():
    fc = paper_head("fc", 112, 14, side=14, width=8, fc_pool=2, fc_hidden=16)
    assert fc.classifier[2].in_features == 8 * 7 * 7 and fc.classifier[2].out_features == 16
    assert fc(torch.randn(2, 112, 14, 14)).shape == (2, 14)
    with pytest.raises(CamlibError, match="divide"):
        paper_head("fc", 112, 14, side=14, fc_pool=3)
