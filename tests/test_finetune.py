"""The paper's conversion of a packaged Lite network: cut, new head, which parts train and which ship."""
from __future__ import annotations

import pytest
import torch

from camlib.utils.errors import CamlibError
from camlib.training.finetune import Conversion, colour_jitter, convert, tuned_recipes
from camlib.models.gap import GapNet
from camlib.models.heads import FcHeadNet
from camlib.models.pretrained import load_pretrained


@pytest.fixture(scope="module")
def lite0():
    return load_pretrained("efficientnet-lite0").model


def own_blocks(model, x, stop):
    x = model._swish(model._bn0(model._conv_stem(x)))
    for block in list(model._blocks)[:stop]:
        x = block(x, drop_connect_rate=0.0)
    return x


@pytest.mark.parametrize("stride, side, blocks", [(16, 14, 11), (32, 7, 16)])
def test_before_training_the_cut_network_computes_the_pretrained_maps(lite0, stride, side, blocks):
    net = convert(lite0, Conversion(kind="gap", map_stride=stride, width=8), num_classes=5).eval()
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        maps = net.upper.high(net.upper.tuned(net.low(x)))
        torch.testing.assert_close(maps, own_blocks(lite0.eval(), x, blocks), rtol=0, atol=0)
        assert maps.shape[-1] == side and net(x).shape == (2, 5)


def test_the_stride_16_stage_trains_and_the_rest_stays_frozen(lite0):
    net = convert(lite0, Conversion(kind="gap", map_stride=32, width=8), num_classes=5)
    assert len(net.upper.tuned.blocks) == 6  # Lite0's six blocks at output stride 16
    assert all(p.requires_grad for p in net.upper.tuned.parameters()) and all(p.requires_grad for p in net.upper.head.parameters())
    assert not any(p.requires_grad for p in net.low.parameters()) and not any(p.requires_grad for p in net.upper.high.parameters())
    net.train()
    assert not net.low.training and not net.upper.high.training and net.upper.tuned.training
    assert all(p.requires_grad for p in lite0.parameters())  # the packaged network is untouched


def test_the_trained_state_leaves_out_the_frozen_part_and_loads_back(lite0):
    a = convert(lite0, Conversion(kind="gap", map_stride=32, width=8), num_classes=5, seed=0)
    b = convert(lite0, Conversion(kind="gap", map_stride=32, width=8), num_classes=5, seed=1)
    state = a.upper.trained_state()
    assert not any(k.startswith("high.") for k in state) and any(k.startswith("tuned.") for k in state)
    assert not torch.equal(a.upper.head.fc.weight, b.upper.head.fc.weight)  # new layers from the seed
    b.upper.load_trained_state(state)
    assert torch.equal(a.upper.head.fc.weight, b.upper.head.fc.weight)
    with pytest.raises(CamlibError, match="does not fit"):
        b.upper.load_trained_state({"head.fc.weight": state["head.fc.weight"]})


@pytest.mark.parametrize("kind, head_type", [("gap", GapNet), ("gmp", GapNet), ("gap-extra", GapNet), ("fc", FcHeadNet)])
def test_every_head_kind_converts(lite0, kind, head_type):
    net = convert(lite0, Conversion(kind=kind, width=8), num_classes=3).eval()
    assert isinstance(net.upper.head, head_type)
    with torch.no_grad():
        assert net(torch.randn(1, 3, 224, 224)).shape == (1, 3)


def test_conversion_is_checked():
    with pytest.raises(CamlibError, match="map_stride"):
        Conversion(map_stride=8)
    with pytest.raises(CamlibError, match="tune_from_stride"):
        Conversion(tune_from_stride=3)


def test_colour_jitter_is_seeded_bounded_and_the_identity_at_strength_zero():
    images = torch.rand(4, 3, 8, 8)
    assert torch.allclose(colour_jitter(images, torch.Generator().manual_seed(0), strength=0.0), images, atol=1e-6)
    one = colour_jitter(images, torch.Generator().manual_seed(3))
    assert torch.equal(one, colour_jitter(images, torch.Generator().manual_seed(3)))
    assert not torch.allclose(one, images) and one.min() >= 0 and one.max() <= 1
    with pytest.raises(CamlibError):
        colour_jitter(images, torch.Generator(), strength=1.5)


def test_recipes_name_every_network_and_seed_once():
    recipes = tuned_recipes()
    assert [r.name for r in recipes[:6]] == ["lite0-tuned-gap-14-s0", "lite0-tuned-gmp-14-s0", "lite0-tuned-gap-7-s0",
                                            "lite0-tuned-gap-extra-14-s0", "lite0-tuned-fc-14-s0", "lite0-tuned-gap-14-s1"]
    assert len({r.name for r in recipes}) == len({r.key for r in recipes}) == 15
    assert {r.group for r in recipes} == {f"lite0-tuned-{row}" for row in ("gap-14", "gmp-14", "gap-7", "gap-extra-14", "fc-14")}
    other = tuned_recipes(networks=(("gmp", 16), ("gap", 32)), seeds=(0,))
    assert [r.name for r in other] == ["lite0-tuned-gmp-14-s0", "lite0-tuned-gap-7-s0"]


@pytest.mark.slow
def test_fine_tuning_runs_both_ways_and_the_loss_falls(tmp_path, monkeypatch):
    """The CPU way (cached maps of the frozen layers, the stride-16 stage tuned) and the GPU way (every
    block but the stem tuned, images rendered as needed), on a few composites."""
    from dataclasses import replace

    import camlib.data.assets.paths as paths
    from camlib.training.finetune import TUNED_TRAINING, fine_tune
    from camlib.training.stamp_groups import group_composites

    assets = paths.assets_dir().resolve()
    monkeypatch.setenv("CAMLIB_DATA", str(tmp_path))
    (tmp_path / "assets").symlink_to(assets, target_is_directory=True)
    spec = group_composites(16, 4)
    config = replace(TUNED_TRAINING, epochs=3, batch_size=8, lr=0.005)
    for tune_from in (16, 2):
        net, fit = fine_tune(Conversion(kind="gap", width=8, tune_from_stride=tune_from), 0, config, tmp_path / f"{tune_from}.pt", spec)
        assert len(fit.history) == 3 and fit.steps == 6 and not net.training and 0.0 <= fit.fitted_error <= 100.0
        assert fit.history[-1]["loss"] < fit.history[0]["loss"]
        assert (tmp_path / f"{tune_from}.pt").is_file()


@pytest.mark.slow
def test_the_shipped_fc_seed_1s_running_error_is_its_dropout():
    """Chapter 4's account of fc seed 1, checked on its shipped weights and its first 512 training images (eight of its
    batches): it gets every one right in eval mode, still does with batch norm on batch statistics, and loses about as
    many as its last epoch's running error (12.8%) with dropout alone switched on, so that running error counts
    dropout's noise, not a failure to fit."""
    import numpy as np
    from torch import nn

    from camlib.data.generators.composites import load_composites
    from camlib.training.finetune import NETWORK, low_maps, shipped_tuned, top1_error, tuned_spec

    spec = tuned_spec()
    split = load_composites(spec, progress=False)["train"]
    count = 512
    labels = torch.from_numpy(split.labels[:count].astype(np.int64))

    def error(dropout: bool, batch_statistics: bool) -> float:
        net, _ = shipped_tuned("fc", 16, 1)  # afresh: batch norm in train mode updates its running statistics
        maps = low_maps(split, spec, load_pretrained(NETWORK), net.low, jitter_seed=1)[:count]
        upper = net.upper.eval()
        switched = (nn.Dropout,) * dropout + (nn.modules.batchnorm._BatchNorm,) * batch_statistics
        for module in upper.modules():
            if isinstance(module, switched):
                module.train()
        torch.manual_seed(0)
        return top1_error(upper, maps, labels)

    assert error(False, False) == 0.0
    assert error(False, True) < 1.0
    assert 9.0 < error(True, False) < 15.0
