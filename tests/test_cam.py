"""CAM arithmetic with hand-computed answers, head discovery, hooks and the GAP identity on Lite0."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from camlib import CAM, CamlibError, NoGapHeadError, NotLinearClassifierError
from camlib.cam import class_activation_maps, find_gap_head, normalize_maps, select_classes
from camlib.models.preprocess import preprocess


def test_cam_by_hand():
    # two channels on a 2x2 map; class 0 weighs them (1, 2), class 1 weighs them (-1, 0)
    features = torch.tensor([[[[1.0, 0.0], [0.0, 0.0]], [[0.0, 1.0], [0.0, 3.0]]]])  # (1, 2, 2, 2)
    weight = torch.tensor([[1.0, 2.0], [-1.0, 0.0]])
    maps = class_activation_maps(features, weight, torch.tensor([[0, 1]]))
    assert torch.equal(maps[0, 0], torch.tensor([[1.0, 2.0], [0.0, 6.0]]))
    assert torch.equal(maps[0, 1], torch.tensor([[-1.0, 0.0], [0.0, 0.0]]))


def test_select_classes_forms():
    logits = torch.tensor([[0.1, 0.9, 0.5], [0.7, 0.2, 0.3]])
    assert select_classes(logits, topk=2).tolist() == [[1, 2], [0, 2]]
    assert select_classes(logits, 2).tolist() == [[2], [2]]
    assert select_classes(logits, [0, 1]).tolist() == [[0, 1], [0, 1]]
    with pytest.raises(CamlibError, match="out of range"):
        select_classes(logits, [3])
    with pytest.raises(CamlibError, match="topk"):
        select_classes(logits, topk=4)


def test_normalize_maps_constant_is_zero():
    maps = torch.stack([torch.full((3, 3), 5.0), torch.arange(9.0).view(3, 3)])
    out = normalize_maps(maps)
    assert torch.equal(out[0], torch.zeros(3, 3))
    assert out[1].min() == 0 and out[1].max() == 1


class TinyGap(nn.Module):
    def __init__(self, pool: nn.Module | None = None):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.pool = pool or nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        return self.fc(self.pool(torch.relu(self.conv(x))).flatten(1))


def camlib_hooks() -> int:
    """CAM's feature hooks: global module hooks (that fire for the hooked module only), so copies of a model carry none."""
    from torch.nn.modules import module

    return len(module._global_forward_hooks) + len(module._global_forward_pre_hooks)


def test_tiny_model_identity_and_hooks_removed():
    torch.manual_seed(0)
    model = TinyGap().eval()
    x = torch.randn(2, 3, 8, 8)
    with CAM(model) as cam:
        result = cam(x, topk=3)
        assert camlib_hooks() == 1
    assert camlib_hooks() == 0
    assert result.maps.shape == (2, 3, 8, 8)
    torch.testing.assert_close(result.maps.mean(dim=(2, 3)) + result.bias, result.scores, atol=1e-5, rtol=0)


def test_hooks_removed_after_exception():
    model = TinyGap().eval()
    with pytest.raises(CamlibError):
        with CAM(model) as cam:
            cam(torch.randn(1, 3, 8, 8), classes=[7])
    assert camlib_hooks() == 0


def test_call_without_context_is_a_clear_error():
    with pytest.raises(CamlibError, match="with CAM"):
        CAM(TinyGap().eval())(torch.randn(1, 3, 8, 8))


def test_single_image_and_empty_batch():
    model = TinyGap().eval()
    with CAM(model) as cam:
        assert cam(torch.randn(3, 8, 8)).maps.shape == (1, 1, 8, 8)
        with pytest.raises(CamlibError, match="non-empty"):
            cam(torch.randn(0, 3, 8, 8))


def test_model_without_global_pooling():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.Linear(4 * 6 * 6, 2))
    with pytest.raises(NoGapHeadError, match="no global pooling"):
        CAM(model)


def test_model_with_nonlinear_classifier():
    class MlpHead(TinyGap):
        def __init__(self):
            super().__init__()
            self.hidden = nn.Linear(4, 4)

        def forward(self, x):
            pooled = self.pool(torch.relu(self.conv(x))).flatten(1)
            return self.fc(torch.relu(self.hidden(pooled)))

    model = MlpHead().eval()
    with pytest.raises(NotLinearClassifierError, match="besides the linear classifier"):
        with CAM(model) as cam:
            cam(torch.randn(1, 3, 8, 8))


def test_named_target_layer_and_classifier():
    model = TinyGap().eval()
    head = find_gap_head(model, target_layer="conv", classifier="fc")
    assert head.capture == "output" and head.classifier_name == "fc"
    with pytest.raises(NoGapHeadError, match="not a module"):
        find_gap_head(model, target_layer="nope")


def test_target_layer_and_classifier_may_be_the_modules_themselves():
    import copy

    model = TinyGap().eval()
    by_module = find_gap_head(model, target_layer=model.conv, classifier=model.fc)
    assert (by_module.feature_name, by_module.capture, by_module.classifier_name) == ("conv", "output", "fc")
    with pytest.raises(NoGapHeadError, match="not a module of TinyGap"):  # a copy's layer is not the model's
        find_gap_head(model, classifier=copy.deepcopy(model.fc))
    with pytest.raises(NoGapHeadError, match="module name .* or a module"):
        find_gap_head(model, target_layer=3)


def test_normalized_maps_follow_the_peers_convention():
    model = TinyGap().eval()
    with CAM(model) as cam:
        result = cam(torch.randn(2, 3, 8, 8), topk=2)
    unit = result.normalized((16, 16))
    assert unit.shape == (2, 2, 16, 16)
    flat = unit.flatten(2)
    assert torch.all((flat.amax(-1) == 1.0) | (flat.amax(-1) == 0.0)) and flat.amin() == 0.0
    # ReLU, upsample, min-max: by hand for one map
    expected = normalize_maps(torch.nn.functional.interpolate(result.maps.clamp_min(0), (16, 16), mode="bilinear",
                                                              align_corners=False))
    torch.testing.assert_close(unit, expected)
    # a map without positive evidence is all zeros, not a rescaled negative map
    negative = type(result)(result.logits, result.classes, -result.maps.abs() - 1, result.bias, result.input_size)
    assert negative.normalized().eq(0).all()


def test_gmp_model_maps():
    model = TinyGap(nn.AdaptiveMaxPool2d(1)).eval()
    with CAM(model) as cam:
        result = cam(torch.randn(1, 3, 8, 8), topk=1)
    assert cam.head.pooling == "max" and result.maps.shape == (1, 1, 8, 8)


def test_lite0_identity_on_a_real_photo(lite0, photo):
    x, _ = preprocess(photo, lite0.mean, lite0.std)
    with CAM(lite0.model) as cam:
        result = cam(x.unsqueeze(0), classes=torch.arange(1000))
    assert cam.head.feature_name == "_avg_pooling" and cam.head.classifier_name == "_fc"
    torch.testing.assert_close(result.maps.mean(dim=(2, 3)) + result.bias, result.scores, atol=1e-5, rtol=0)
    assert result.classes.shape == (1, 1000)
    # the coffee photo is an espresso (ImageNet class 967) for this network
    assert int(result.logits.argmax()) == 967


# -- issue 13: hooks go with their CAM; ambiguous calls and heads are refused -------------------------
def _hook_count(model) -> int:
    return sum(len(m._forward_pre_hooks) + len(m._forward_hooks) for m in model.modules())


def _tiny_gap() -> torch.nn.Module:
    from torch import nn

    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3)).eval()


def test_hooks_are_removed_when_the_cam_object_goes():
    from camlib import CAM

    model, x = _tiny_gap(), torch.randn(1, 3, 8, 8)
    for _ in range(1000):
        cam = CAM(model).attach()
        cam(x)
        del cam
    assert _hook_count(model) == 0


def test_a_forgotten_cam_does_not_keep_features_alive_through_its_hook():
    import weakref

    from camlib import CAM

    model = _tiny_gap()
    cam = CAM(model).attach()
    ref = weakref.ref(cam)
    del cam
    assert ref() is None and _hook_count(model) == 0
    model(torch.randn(1, 3, 8, 8))  # no hook left to call


@pytest.mark.parametrize("kwargs, message", [({"classes": [1], "topk": 2}, "not both"),
                                             ({"classes": []}, "classes is empty")])
def test_classes_and_topk_are_not_silently_ignored(kwargs, message):
    from camlib import CAM, CamlibError

    with CAM(_tiny_gap()) as cam, pytest.raises(CamlibError, match=message):
        cam(torch.randn(1, 3, 8, 8), **kwargs)


@pytest.mark.parametrize("maps, size, message", [(torch.ones(4, 4), (8, 8), r"\(B, C, h, w\)"),
                                                 (torch.ones(1, 1, 4, 4), (0, 0), "at least"),
                                                 (torch.ones(1, 1, 4, 4), "big", "must be")])
def test_upsample_bad_shapes(maps, size, message):
    from camlib import CamlibError, upsample

    with pytest.raises(CamlibError, match=message):
        upsample(maps, size)


def test_functional_pooling_error_says_how_to_name_the_layers():
    from torchvision.models import densenet121

    from camlib import CAM, NoGapHeadError

    model = densenet121(weights=None).eval()
    with pytest.raises(NoGapHeadError, match="pooled") as err:
        CAM(model)
    assert "model.features.add_module('relu', nn.ReLU()), then target_layer='features'" in str(err.value)
    model.features.add_module("relu", nn.ReLU())  # what the message says; F.relu in forward is then a no-op
    x = torch.randn(2, 3, 64, 64)
    with CAM(model, target_layer="features") as cam:
        result = cam(x, topk=2)
    assert result.maps.shape == (2, 2, 2, 2)
    expected = result.maps.mean(dim=(2, 3)) + result.bias  # CAM's defining identity under GAP
    torch.testing.assert_close(expected, result.scores, rtol=1e-4, atol=1e-4)


# -- CAMResult.probs ------------------------------------------------------------------------------------
def test_probs_by_hand():
    from camlib import CAMResult

    logits = torch.log(torch.tensor([[1.0, 2.0, 3.0], [4.0, 4.0, 2.0]]))  # softmax: (1, 2, 3) / 6 and (2, 2, 1) / 5
    result = CAMResult(logits, torch.tensor([[2, 0], [1, 2]]), torch.zeros(2, 2, 1, 1), torch.zeros(2, 2), (1, 1))
    torch.testing.assert_close(result.probs, torch.tensor([[3 / 6, 1 / 6], [2 / 5, 1 / 5]]))
    torch.testing.assert_close(result.scores, logits.gather(1, result.classes))


def test_probs_are_the_models_softmax(lite0, photo):
    x, _ = preprocess(photo, lite0.mean, lite0.std)
    with torch.no_grad():
        own = torch.softmax(lite0.model(x.unsqueeze(0)), dim=1)
    with CAM(lite0.model) as cam:
        top = cam(x.unsqueeze(0), topk=5)
        every = cam(x.unsqueeze(0), classes=torch.arange(1000))
    torch.testing.assert_close(every.probs.sum(dim=1), torch.ones(1))
    torch.testing.assert_close(every.probs, own, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(top.probs, own.topk(5).values, atol=1e-6, rtol=1e-5)
    assert top.probs[0].tolist() == sorted(top.probs[0].tolist(), reverse=True) and 0.5 < float(top.probs[0, 0]) < 1
