"""Map methods behind one interface: CAM, backprop, the centre baseline and spectral residual."""
import numpy as np
import pytest
import torch
from torch import nn
from toy_models import ChannelOracle, rectangles

from camlib.evaluation.batches import split_batches
from camlib.evaluation.evaluate import evaluate
from camlib.methods.baselines import spectral_residual
from camlib.utils.errors import CamlibError
from camlib.methods.map_methods import (BackpropMaps, CAMMaps, CentreMaps, FlipAveragedMaps, MapMethod, RecordedMaps,
                                        SmoothedMaps, SpectralResidualMaps)


def test_cam_maps_by_hand_with_and_without_a_prediction_first():
    images = torch.rand(2, 3, 8, 8)
    classes = torch.tensor([[0, 2], [1, 1]])
    with CAMMaps(ChannelOracle().eval()) as method:
        logits = method.predict(images)
        after_predict = method(images, classes)
        fresh = method(images.clone(), classes)  # other images: a forward pass of their own
    assert logits.shape == (2, 3)
    expected = 10 * torch.stack([images[0, [0, 2]], images[1, [1, 1]]])
    assert torch.allclose(after_predict, expected) and torch.allclose(fresh, expected)


def test_cam_hooks_go_when_the_block_ends():
    model = ChannelOracle().eval()
    with CAMMaps(model) as method:
        method.predict(torch.rand(1, 3, 4, 4))
    assert not any(m._forward_hooks for m in model.modules())


def test_backprop_maps_are_the_input_gradient():
    class ReluMean(nn.Module):
        def forward(self, x):
            return torch.relu(x).mean(dim=(2, 3))

    images = torch.zeros(1, 3, 4, 4)
    images[0, 1, 1:3, 1:3] = 1.0
    with BackpropMaps(ReluMean().eval()) as method:
        maps = method(images, torch.tensor([[1]]))
    assert torch.equal(maps[0, 0] > 0, images[0, 1] > 0)


def test_centre_maps_ignore_the_image_and_span_zero_to_one():
    maps = CentreMaps()(torch.rand(2, 3, 6, 10), torch.tensor([[0, 1], [2, 0]]))
    assert maps.shape == (2, 2, 6, 10) and maps.min() == 0.0 and maps.max() == 1.0
    assert torch.equal(maps[0, 0], maps[1, 1])
    assert CentreMaps().predict(torch.rand(1, 3, 4, 4)) is None


def test_spectral_residual_undoes_the_normalisation():
    mean, std = (0.5, 0.5, 0.5), (0.25, 0.25, 0.25)
    image = np.zeros((1, 3, 16, 16), np.float32)
    image[0, :, 6:10, 6:10] = 1.0
    normalised = (torch.from_numpy(image) - 0.5) / 0.25
    maps = SpectralResidualMaps(mean, std)(normalised, torch.tensor([[0, 1]]))
    pixels = (image.transpose(0, 2, 3, 1) * 255).astype(np.uint8)  # the photo before normalisation
    assert maps.shape == (1, 2, 16, 16)
    np.testing.assert_allclose(maps[0, 0].numpy(), spectral_residual(pixels)[0])
    assert torch.equal(maps[0, 0], maps[0, 1])  # class-agnostic


def test_bad_input_says_what_to_do():
    with pytest.raises(CamlibError, match="eval mode"):
        CAMMaps(ChannelOracle())
    with pytest.raises(CamlibError, match="images must be"):
        CentreMaps()(torch.rand(3, 8, 8), torch.tensor([[0]]))
    with pytest.raises(CamlibError, match="classes must be"):
        CentreMaps()(torch.rand(2, 3, 8, 8), torch.tensor([0, 1]))


class _LeftBiased(MapMethod):
    """Maps: the column index x whatever the image (a prior that favours the right); logits: each
    channel's mean plus its column-0 value."""

    def predict(self, images):
        return images.mean(dim=(2, 3)) + images[:, :, 0, 0]

    def _maps(self, images, classes):
        ramp = torch.arange(images.shape[-1], dtype=torch.float32)
        return ramp.expand(images.shape[0], classes.shape[1], images.shape[-2], -1)


def test_flip_averaging_mirrors_the_maps_back_and_averages_logits():
    ramp = torch.arange(4.0).expand(1, 3, 2, 4).clone()  # x = 0, 1, 2, 3 in every row and channel
    with FlipAveragedMaps(_LeftBiased()) as method:
        maps = method(ramp, torch.tensor([[0, 1]]))
        logits = method.predict(ramp)
    assert maps.shape == (1, 2, 2, 4)
    assert torch.allclose(maps, torch.full_like(maps, 1.5))  # (x + (3 - x)) / 2: the prior is cancelled
    assert torch.allclose(logits, torch.full((1, 3), 1.5 + 1.5))  # mean 1.5, column 0 holds 0 then 3
    assert method.name == "map method + flip"


def test_flip_averaged_cam_costs_two_forward_passes_per_batch():
    model = ChannelOracle().eval()
    calls = []
    model.register_forward_hook(lambda *args: calls.append(1))
    images = torch.rand(2, 3, 8, 8)
    with FlipAveragedMaps(CAMMaps(model)) as method:
        logits = method.predict(images)
        maps = method(images, logits.topk(2).indices)
    assert len(calls) == 2 and maps.shape == (2, 2, 8, 8)


def test_smoothed_maps_blur_another_methods_maps_and_keep_its_predictions():
    class Spike(MapMethod):
        name = "spike"

        def predict(self, images):
            return torch.ones(len(images), 2)

        def _maps(self, images, classes):
            maps = torch.zeros(len(images), classes.shape[1], 21, 21)
            maps[..., 10, 10] = 1.0
            return maps

    images, classes = torch.zeros(2, 3, 21, 21), torch.tensor([[0], [1]])
    assert torch.equal(SmoothedMaps(Spike(), 0.0)(images, classes), Spike()(images, classes))
    method = SmoothedMaps(Spike(), 0.1)  # sigma 2.1 px
    blurred = method(images, classes)
    assert blurred.shape == (2, 1, 21, 21) and method.name == "spike, smoothed 0.1"
    assert blurred[0, 0].argmax().item() == 10 * 21 + 10 and blurred.max() < 0.1
    assert blurred[0, 0].sum().item() == pytest.approx(1.0, abs=1e-4)  # a blur moves mass, it does not add any
    expected = torch.exp(-torch.tensor(1.0) / (2 * 2.1 ** 2))  # one pixel away from the peak, relative to it
    assert (blurred[0, 0, 10, 11] / blurred[0, 0, 10, 10]).item() == pytest.approx(expected.item(), rel=1e-4)
    assert torch.equal(method.predict(images), torch.ones(2, 2))
    for sigma in (-0.1, 0.3):
        with pytest.raises(CamlibError, match="sigma"):
            SmoothedMaps(Spike(), sigma)


def test_the_paper_rules_threshold_can_be_a_methods_own():

    split = rectangles()
    method = SmoothedMaps(CAMMaps(ChannelOracle().eval()), 0.1)  # blurred: lower thresholds draw larger boxes
    low, high = (evaluate(method, split_batches(split), num_classes=3, threshold=t) for t in (0.1, 0.9))
    assert low.box_area["paper rule"] > high.box_area["paper rule"]
    assert low.box_area["ground truth"] == high.box_area["ground truth"]


def test_recorded_maps_compute_each_batch_once_and_tell_batches_apart_by_content():
    class Counting(MapMethod):
        name = "counting"
        calls = 0

        def _maps(self, images, classes):
            Counting.calls += 1
            return images[:, :1].expand(-1, classes.shape[1], -1, -1) + classes[:, :, None, None]

    images, classes = torch.rand(2, 3, 5, 5), torch.tensor([[0], [1]])
    with RecordedMaps(Counting()) as method:
        first = method(images, classes)
        again = method(images.clone(), classes.clone())  # the same values in other tensors: kept maps
        assert Counting.calls == 1 and torch.equal(first, again) and method.name == "counting"
        assert torch.equal(SmoothedMaps(method, 0.1)(images, classes), SmoothedMaps(Counting(), 0.1)(images, classes))
        calls = Counting.calls
        other = method(images, torch.tensor([[1], [0]]))  # other classes, other maps
        method(images + 1, classes)  # other images
        assert Counting.calls == calls + 2 and not torch.equal(other, first)
    assert method._kept == {}  # closing frees what it kept


def test_recorded_maps_survive_the_evaluations_inside_the_callers_block():
    class Counting(CAMMaps):
        calls = 0

        def _maps(self, images, classes):
            Counting.calls += 1
            return super()._maps(images, classes)

    split = rectangles(n=9)
    with RecordedMaps(Counting(ChannelOracle().eval())) as method:
        first = evaluate(method, split_batches(split, batch_size=4), num_classes=3)
        calls = Counting.calls
        again = evaluate(SmoothedMaps(method, 0.0), split_batches(split, batch_size=4), num_classes=3, threshold=0.5)
        assert calls == 3 and Counting.calls == calls  # three batches, mapped once for both box rules
        assert method._kept and again.count == first.count == 9
    assert method._kept == {} and not any(m._forward_hooks for m in method.model.modules())


def test_cam_maps_in_the_peers_convention_are_the_normalized_result():
    from camlib.cam import CAM
    from camlib.models.small import small_network

    model = small_network("gap", 3, seed=1).eval()
    images, classes = torch.rand(2, 3, 32, 32), torch.tensor([[0, 2], [1, 0]])
    with CAMMaps(model, peers=True) as method:
        peers = method(images, classes)
    with CAM(model) as cam:
        expected = torch.stack([cam(images[i:i + 1], classes=classes[i].tolist()).normalized()[0] for i in range(2)])
    assert torch.allclose(peers, expected, atol=1e-6) and peers.min() == 0.0 and method.name == "CAM, peers' convention"
    with CAMMaps(model) as raw:
        assert raw(images, classes).min() < 0  # the paper's raw scale keeps negative evidence
