"""The CPU-scale networks: shapes, map resolutions, shared trunk, CAM compatibility and errors."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from camlib.cam import CAM
from camlib.utils.errors import CamlibError, NoGapHeadError
from camlib.models.gap import GapNet
from camlib.models.small import SMALL_NETWORKS, SmallFcNet, feature_size, small_network


@pytest.mark.parametrize("name", SMALL_NETWORKS)
def test_every_network_gives_logits(name):
    model = small_network(name, num_classes=7).eval()
    assert model(torch.zeros(2, 3, 32, 32)).shape == (2, 7)


@pytest.mark.parametrize("name, size", [("gap", (8, 8)), ("gmp", (8, 8)), ("gap-lowres", (4, 4)), ("gap-extra", (8, 8))])
def test_cam_resolution_at_32_pixels(name, size):
    assert feature_size(small_network(name, 10), 32) == size


def test_resolution_scales_with_the_input():
    assert feature_size(small_network("gap", 10), 64) == (16, 16)
    assert feature_size(small_network("gap-lowres", 10), 64) == (8, 8)
    assert small_network("fc", 10, input_size=64).eval()(torch.zeros(1, 3, 64, 64)).shape == (1, 10)


def test_gmp_differs_from_gap_only_in_pooling():
    gap, gmp = small_network("gap", 10, seed=3), small_network("gmp", 10, seed=3)
    assert isinstance(gap.pool, nn.AdaptiveAvgPool2d) and isinstance(gmp.pool, nn.AdaptiveMaxPool2d)
    assert all(torch.equal(a, b) for a, b in zip(gap.state_dict().values(), gmp.state_dict().values()))


def test_head_convs_have_batch_norm():
    head = small_network("gap", 10).head_conv
    assert [type(m) for m in head] == [nn.Conv2d, nn.BatchNorm2d, nn.ReLU]


def test_extra_convs_add_two_conv_layers():
    convs = lambda m: sum(isinstance(x, nn.Conv2d) for x in m.head_conv)  # noqa: E731
    assert convs(small_network("gap-extra", 10)) == convs(small_network("gap", 10)) + 2


def test_same_seed_same_trunk_across_networks():
    trunks = [small_network(name, 10, seed=5).trunk for name in SMALL_NETWORKS]
    first = trunks[0].state_dict()
    for trunk in trunks[1:]:
        for key, value in first.items():  # the low-res trunk only adds layers after these
            assert torch.equal(trunk.state_dict()[key], value)


def test_seed_changes_weights():
    a, b = small_network("gap", 10, seed=0), small_network("gap", 10, seed=1)
    assert not torch.equal(a.fc.weight, b.fc.weight)


@pytest.mark.parametrize("name", ["gap", "gmp", "gap-lowres", "gap-extra"])
def test_cam_finds_the_head(name):
    model = small_network(name, 10).eval()
    with CAM(model) as cam:
        result = cam(torch.randn(2, 3, 32, 32), topk=3)
    assert result.maps.shape == (2, 3, *feature_size(model, 32))
    assert isinstance(model, GapNet)


def test_fc_net_has_no_cam_and_checks_its_input_size():
    model = small_network("fc", 10)
    assert isinstance(model, SmallFcNet)
    with pytest.raises(NoGapHeadError):
        CAM(model)
    with pytest.raises(CamlibError, match="32x32"):
        model.eval()(torch.zeros(1, 3, 64, 64))
    with pytest.raises(CamlibError, match="divisible by 8"):
        SmallFcNet(10, input_size=60)


def test_bad_names_and_class_counts():
    with pytest.raises(CamlibError, match="unknown small network"):
        small_network("resnet", 10)
    with pytest.raises(CamlibError, match="at least 2 classes"):
        small_network("gap", 1)
    with pytest.raises(CamlibError, match="GapNet"):
        feature_size(small_network("fc", 10))
