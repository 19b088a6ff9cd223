"""CAM on class-convolution heads (NIN, SqueezeNet): the CAM is the pooled class map, known answers."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from camlib import CAM, NoGapHeadError
from camlib.cam import find_gap_head
from camlib.cam.class_conv import ClassMapReadout, class_conv_before


class TinyNin(nn.Module):
    """conv trunk -> 1x1 class conv (4 classes) -> ReLU -> GAP -> flatten (functional), like SqueezeNet."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.ReLU())
        self.classifier = nn.Sequential(nn.Dropout(0.5), nn.Conv2d(6, 4, 1), nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.flatten(self.classifier(self.features(x)), 1)


def test_readout_is_the_identity():
    readout = ClassMapReadout(3)
    x = torch.tensor([[1.0, -2.0, 5.0]])
    assert torch.equal(readout(x), x) and readout.bias is None


def test_class_conv_found_behind_elementwise_layers():
    model = TinyNin()
    modules = dict(model.named_modules())
    assert class_conv_before(modules, "classifier.3") is model.classifier[1]
    head = find_gap_head(model)
    assert (head.feature_name, head.capture, head.classifier_name) == ("classifier.3", "input", "classifier.3")
    assert head.classifier.out_features == 4


def test_cam_is_the_relu_class_map_and_the_identity_is_exact():
    torch.manual_seed(0)
    model = TinyNin().eval()
    x = torch.randn(2, 3, 5, 7)
    with CAM(model) as cam:
        result = cam(x, classes=torch.arange(4))
    expected = torch.relu(model.classifier[1](model.features(x)))  # (2, 4, 5, 7), computed by hand
    assert torch.equal(result.maps, expected)
    assert torch.equal(result.bias, torch.zeros(2, 4))
    torch.testing.assert_close(result.maps.mean(dim=(2, 3)) + result.bias, result.scores, atol=1e-6, rtol=0)


def test_a_pool_fed_by_something_else_is_still_refused():
    model = nn.Sequential(nn.Conv2d(3, 4, 1), nn.BatchNorm2d(4), nn.AdaptiveAvgPool2d(1), nn.Flatten())
    assert class_conv_before(dict(model.named_modules()), "2") is None
    with pytest.raises(NoGapHeadError, match="no nn.Linear classifier"):
        find_gap_head(model)
