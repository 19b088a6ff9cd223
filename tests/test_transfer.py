"""Table 5 helpers: balanced subsets, the raw-pixel floor and features taken before a network's classifier."""
import numpy as np
import pytest
import torch
from torch import nn

from camlib.errors import CamlibError
from camlib.transfer import LabelledImages, balanced_indices, classifier_inputs, final_linear, raw_pixels, to_rgb


def test_balanced_indices_take_per_class_and_respect_exclusions():
    labels = np.array([0, 0, 0, 1, 1, 2])
    picked = balanced_indices(labels, per_class=2, seed=0)
    assert np.bincount(labels[picked]).tolist() == [2, 2, 1]  # class 2 has one image only
    rest = balanced_indices(labels, per_class=2, seed=1, exclude=picked)
    assert set(rest).isdisjoint(picked) and sorted(labels[rest].tolist()) == [0]
    assert picked.tolist() == sorted(picked.tolist())


def test_raw_pixels_and_rgb():
    grey = np.array([[[0, 255], [51, 102]]], dtype=np.uint8)
    rgb = to_rgb(grey)
    assert rgb.shape == (1, 2, 2, 3) and (rgb[..., 1] == grey).all()
    np.testing.assert_allclose(raw_pixels(rgb, side=2).numpy(), [[0.0, 1.0, 0.2, 0.4]], atol=1e-6)
    np.testing.assert_allclose(raw_pixels(rgb, side=1).numpy(), [[102 / 255]], atol=1e-6)  # mean of the four


def test_classifier_inputs_are_the_gap_vector_of_a_gap_network():
    torch.manual_seed(0)
    conv = nn.Conv2d(3, 4, 3, padding=1)
    model = nn.Sequential(conv, nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2))
    images = np.random.default_rng(0).integers(0, 256, (5, 8, 8, 3), dtype=np.uint8)
    features = classifier_inputs(model, images, size=8, mean=(0.5,) * 3, std=(0.5,) * 3, batch_size=2)
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255 * 2 - 1
    expected = torch.relu(conv(x)).mean(dim=(2, 3))
    torch.testing.assert_close(features, expected.detach(), rtol=1e-5, atol=1e-6)
    assert final_linear(model) is model[4]
    with pytest.raises(CamlibError, match="no nn.Linear"):
        final_linear(nn.Sequential(conv))


def test_labelled_images_validate_shapes():
    ok = np.zeros((2, 4, 4, 3), dtype=np.uint8)
    LabelledImages("toy", ok, np.array([0, 1]), ok, np.array([0, 1]), ("a", "b"))
    with pytest.raises(CamlibError, match="toy train"):
        LabelledImages("toy", ok[..., 0], np.array([0, 1]), ok, np.array([0, 1]), ("a", "b"))
