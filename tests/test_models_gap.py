"""The paper's *-GAP conversions: map sizes, heads, parameter counts (offline, random weights)."""
from __future__ import annotations

import pytest
import torch

from camlib import CAM, CamlibError
from camlib.models import (
    alexnet_gap,
    alexnet_star_gap,
    count_parameters,
    gap_network,
    googlenet_gap,
    googlenet_gmp,
    vgg16_gap,
)


@pytest.mark.parametrize(
    "build, size",
    [(vgg16_gap, 14), (alexnet_gap, 13), (googlenet_gap, 14), (googlenet_gmp, 14), (alexnet_star_gap, 13)],
)
def test_feature_map_sizes_at_224(build, size):
    torch.manual_seed(0)
    model = build(num_classes=10).eval()
    with torch.no_grad():
        feats = model.features(torch.randn(1, 3, 224, 224))
    assert feats.shape == (1, 1024, size, size)
    with CAM(model) as cam:
        result = cam(torch.randn(1, 3, 224, 224), topk=2)
    assert result.maps.shape == (1, 2, size, size)


def test_gmp_uses_max_pooling():
    assert isinstance(googlenet_gmp(num_classes=5).pool, torch.nn.AdaptiveMaxPool2d)


def test_alexnet_star_has_two_extra_convs():
    convs = [m for m in alexnet_star_gap(num_classes=5).head_conv if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == 3 and all(c.out_channels == 1024 for c in convs)


def test_vgg16_gap_removes_most_parameters():
    import torchvision

    full = count_parameters(torchvision.models.vgg16())
    gap = count_parameters(vgg16_gap())
    # trunk 14.71M + conv 512->1024 (4.72M) + fc 1024->1000 (1.03M)
    assert gap == 14_714_688 + (512 * 9 * 1024 + 1024) + (1024 * 1000 + 1000)
    assert 0.8 < 1 - gap / full < 0.9


def test_unknown_backbone():
    with pytest.raises(CamlibError, match="unknown backbone"):
        gap_network("resnet")
