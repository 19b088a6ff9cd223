"""Gradient saliency against hand-computed gradients."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from camlib.utils.errors import CamlibError
from camlib.methods.saliency import gradient_saliency


class PixelLinear(nn.Module):
    """Logit c = sum(weight[c] * image): its input gradient is weight[c] for every image."""

    def __init__(self, weight: torch.Tensor):
        super().__init__()
        self.weight = nn.Parameter(weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.einsum("bchw,nchw->bn", x, self.weight)


def test_linear_model_saliency_is_max_abs_weight_over_channels():
    weight = torch.randn(4, 3, 5, 6)
    model = PixelLinear(weight).eval()
    images = torch.randn(2, 3, 5, 6)
    logits, classes, maps = gradient_saliency(model, images, classes=torch.tensor([[2, 0], [1, 3]]))
    assert torch.allclose(logits, model(images))
    assert maps.shape == (2, 2, 5, 6)
    expected = weight.abs().amax(dim=1)  # (4, 5, 6)
    assert torch.allclose(maps[0, 0], expected[2]) and torch.allclose(maps[0, 1], expected[0])
    assert torch.allclose(maps[1, 0], expected[1]) and torch.allclose(maps[1, 1], expected[3])
    assert model.weight.grad is None  # parameters are left alone


def test_topk_picks_the_best_classes_and_images_do_not_mix():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 8 * 8, 5)).eval()
    images = torch.randn(3, 3, 8, 8)
    logits, classes, maps = gradient_saliency(model, images, topk=2)
    assert torch.equal(classes, logits.topk(2, dim=1).indices)
    for i in range(3):  # the batched result equals the one-image result
        _, _, single = gradient_saliency(model, images[i:i + 1], classes=classes[i:i + 1])
        assert torch.allclose(single[0], maps[i], atol=1e-6)
    assert (maps >= 0).all()


def test_only_the_object_pixels_matter():
    weight = torch.zeros(2, 3, 4, 4)
    weight[1, :, 1:3, 1:3] = 1.0  # class 1 looks only at the centre
    _, _, maps = gradient_saliency(PixelLinear(weight).eval(), torch.randn(1, 3, 4, 4), classes=[1])
    assert maps[0, 0, 1:3, 1:3].eq(1).all() and maps[0, 0].sum() == 4


def test_bad_input():
    model = PixelLinear(torch.randn(2, 3, 4, 4))
    with pytest.raises(CamlibError, match="eval mode"):
        gradient_saliency(model.train(), torch.randn(1, 3, 4, 4), topk=1)
    with pytest.raises(CamlibError, match=r"\(B, 3, H, W\)"):
        gradient_saliency(model.eval(), torch.randn(3, 4, 4), topk=1)
    with pytest.raises(CamlibError, match="out of range"):
        gradient_saliency(model.eval(), torch.randn(1, 3, 4, 4), topk=3)
