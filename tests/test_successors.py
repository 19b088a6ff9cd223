"""CAM's successors through pytorch-grad-cam: the identity Grad-CAM = CAM on a GAP network, the same maps as torchcam
computes, Grad-CAM++ by its paper's equation, and readable errors (issue 28)."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
from torch import nn

import camlib
from camlib.methods.successors import SUCCESSORS, SuccessorMaps, hookable_copy
from camlib.utils.errors import CamlibError


class Tiny(nn.Module):
    """conv (stride 4) -> ReLU -> GAP -> linear: a GAP network small enough for Score-CAM in a test."""

    def __init__(self):
        super().__init__()
        self.conv, self.act, self.pool, self.fc = nn.Conv2d(3, 6, 3, padding=1, stride=4), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Linear(6, 3)

    def forward(self, x):
        return self.fc(self.pool(self.act(self.conv(x))).flatten(1))


@pytest.fixture()
def tiny():
    torch.manual_seed(0)
    return Tiny().eval(), torch.randn(2, 3, 32, 32), torch.tensor([[0, 1], [2, 0]])


def _resized_like_grad_cam(maps: np.ndarray, size: int) -> np.ndarray:
    """torchcam's [0, 1] maps at the feature resolution, resized and scaled as pytorch-grad-cam does."""
    out = np.stack([cv2.resize(np.float32(m), (size, size)) for m in maps])
    out -= out.min(axis=(1, 2), keepdims=True)
    return out / (1e-7 + out.max(axis=(1, 2), keepdims=True))


def test_grad_cam_is_cam_on_a_gap_network(lite0, photo):
    # with GAP and one linear layer the gradient of class c's score is w_c / (h w) at every position, so Grad-CAM's
    # channel weights are the classifier's (over a constant) and its map is CAM's, once both are ReLU'd and scaled
    x, _ = camlib.preprocess(photo, lite0.mean, lite0.std, resize=224, crop=224)
    with camlib.CAM(lite0.model) as cam:
        result = cam(x[None], topk=3)
    for method in ("gradcam", "xgradcam"):  # XGrad-CAM's weights, sum(g A) / sum(A), are w_c / (h w) here too
        with SuccessorMaps(lite0.model, method) as successor:
            maps = successor(x[None], result.classes)
        torch.testing.assert_close(maps, result.normalized(), atol=1e-5, rtol=0)


@pytest.mark.parametrize("ours, theirs", [("gradcam", "GradCAM"), ("xgradcam", "XGradCAM"), ("layercam", "LayerCAM"),
                                          ("scorecam", "ScoreCAM")])
def test_the_same_maps_as_torchcam_computes(tiny, ours, theirs):
    from torchcam import methods

    model, x, classes = tiny
    with SuccessorMaps(model, ours) as method:
        maps = method(x, classes).numpy()
    extractor = getattr(methods, theirs)(model, target_layer=model.act)
    try:
        for column in range(classes.shape[1]):
            with torch.set_grad_enabled(ours != "scorecam"):
                low = extractor(class_idx=classes[:, column].tolist(), scores=model(x))[0].detach().numpy()
            np.testing.assert_allclose(maps[:, column], _resized_like_grad_cam(low, 32), atol=2e-3)
    finally:
        extractor.remove_hooks()


def test_grad_cam_plus_plus_follows_its_papers_equation(tiny):
    # Chattopadhay et al. eq. 19: alpha = g^2 / (2 g^2 + sum_ab A_ab g^3); weight = sum_ij alpha relu(g). On a GAP head
    # g = w_c / (h w) everywhere. (torchcam 0.5.0 divides a masked copy in place, so its alpha stays g^2: it differs.)
    model, x, classes = tiny
    with SuccessorMaps(model, "gradcam++") as method:
        maps = method(x, classes)[:, 0].numpy()
    features = model.act(model.conv(x)).detach()  # (2, 6, 8, 8)
    g = model.fc.weight[classes[:, 0]].detach()[:, :, None, None] / 64  # (2, 6, 1, 1)
    alpha = torch.where(g != 0, g ** 2 / (2 * g ** 2 + features.sum(dim=(2, 3), keepdim=True) * g ** 3 + 1e-6), 0)
    weights = (alpha * g.clamp_min(0) * 64).sum(dim=(2, 3))  # alpha and g are the same at all 64 positions
    by_hand = (weights[:, :, None, None] * features).sum(1).clamp_min(0).numpy()
    by_hand -= by_hand.min(axis=(1, 2), keepdims=True)
    by_hand /= 1e-7 + by_hand.max(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(maps, _resized_like_grad_cam(by_hand, 32), atol=1e-4)


def test_eigen_cam_gives_every_class_one_map_and_the_model_stays_untouched(tiny):
    model, x, classes = tiny
    before = {name: type(m) for name, m in model.named_modules()}
    with SuccessorMaps(model, "eigencam") as method:
        maps = method(x, classes)
        assert torch.equal(method.predict(x), model(x).detach())
    assert torch.equal(maps[:, 0], maps[:, 1]) and maps.shape == (2, 2, 32, 32)
    assert {name: type(m) for name, m in model.named_modules()} == before  # the hook sits in a copy
    twin, features = hookable_copy(model)
    assert isinstance(features, nn.Identity) and twin.pool[0] is features and twin is not model


def test_successors_refuse_what_they_cannot_run(tiny):
    model, _, _ = tiny
    with pytest.raises(CamlibError, match=r"unknown method 'gradcam\+'; camlib runs cam, gradcam, gradcam\+\+"):
        SuccessorMaps(model, "gradcam+")
    with pytest.raises(CamlibError, match="eval mode"):
        SuccessorMaps(model.train(), "gradcam")
    assert set(SUCCESSORS) == {"gradcam", "gradcam++", "xgradcam", "layercam", "scorecam", "eigencam"}


def test_localize_and_the_cli_take_a_method(lite0, photo, tmp_path, capsys):
    import json

    from camlib.app.cli import main
    from camlib.app.defaults import MAP_METHODS

    assert MAP_METHODS == ("cam", *SUCCESSORS)  # the CLI's list (kept free of torch) names every method
    cam, grad = (camlib.localize(lite0, photo, topk=2, method=m) for m in ("cam", "gradcam"))
    # Grad-CAM's map is CAM's ReLU'd and scaled, so its boxes are CAM's but for where the ReLU meets the upsampling
    from camlib.metrics import iou

    assert [p.label for p in grad.predictions] == [p.label for p in cam.predictions]
    assert all(iou(np.array([a.box]), np.array([b.box])).item() > 0.85 for a, b in zip(grad.predictions, cam.predictions))
    assert float(grad.cams.max()) == pytest.approx(1.0) and float(grad.cams.min()) == 0.0
    path = tmp_path / "coffee.jpg"
    photo.save(path)
    assert main(["cam", str(path), "--method", "layercam", "--topk", "1", "--jsonl"]) == 0
    assert json.loads(capsys.readouterr().out)["predictions"][0]["label"] == "espresso"
    with pytest.raises(SystemExit):  # argparse names the choices
        main(["cam", str(path), "--method", "gradcam+"])
    assert "invalid choice: 'gradcam+'" in capsys.readouterr().err
    with pytest.raises(CamlibError, match="unknown method 'nope'"):
        camlib.localize(lite0, photo, method="nope")


def test_confidence_change_is_the_peers_drop_and_increase(tiny):
    tiny, _, _ = tiny
    from pytorch_grad_cam.metrics.cam_mult_image import DropInConfidence, IncreaseInConfidence
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputSoftmaxTarget

    from camlib.cam.compute import unit_maps
    from camlib.evaluation.faithfulness import confidence_change

    images = torch.randn(6, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    maps = torch.randn(6, 32, 32, generator=torch.Generator().manual_seed(1))
    classes = torch.tensor([0, 1, 2, 0, 1, 2])
    change = confidence_change(tiny, images, maps, classes)
    targets = [ClassifierOutputSoftmaxTarget(int(k)) for k in classes]
    scaled = unit_maps(maps).numpy()
    assert scaled.min() == 0.0 and scaled.max() == 1.0
    drop = np.asarray(DropInConfidence()(images, scaled, targets, tiny)).reshape(-1)  # absolute: p - p', at least 0
    assert np.allclose(change.drop, 100 * drop / change.confidence, atol=1e-4)
    assert np.array_equal(change.increase, np.asarray(IncreaseInConfidence()(images, scaled, targets, tiny)).reshape(-1) > 0)
    assert change.drop.min() >= 0 and change.drop.max() > 0
    with torch.no_grad():
        again = confidence_change(tiny, images, maps, classes, logits=tiny(images))
    assert np.allclose(again.drop, change.drop)
    with pytest.raises(CamlibError, match="one batch"):
        confidence_change(tiny, images, maps[:3], classes)


def test_a_map_of_ones_keeps_the_confidence(tiny):
    tiny, _, _ = tiny
    from camlib.evaluation.faithfulness import confidence_change

    images = torch.randn(3, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    ones = torch.ones(3, 32, 32)
    ones[:, 0, 0] = 0.0  # min-max keeps every other pixel at 1: the image is unchanged but one pixel
    change = confidence_change(tiny, images, ones, torch.tensor([0, 1, 2]))
    assert change.drop.max() < 1.0 and np.all(change.confidence > 0) and np.all(change.kept > 99.9)


def test_a_target_layer_is_any_layer_as_in_pytorch_grad_cam():
    from pytorch_grad_cam import GradCAM
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 3, 1), nn.ReLU(),
                          nn.AdaptiveAvgPool2d(1), nn.Flatten()).eval()  # a class-conv head: no linear layer
    images = torch.randn(2, 3, 16, 16)
    with SuccessorMaps(model, "gradcam", target_layer=model[1]) as method:  # a module, like the peers take
        ours = method(images, torch.tensor([[0], [2]]))[:, 0].numpy()
    theirs = GradCAM(model=model, target_layers=[model[1]])(input_tensor=images, targets=[ClassifierOutputTarget(0), ClassifierOutputTarget(2)])
    assert np.allclose(ours, theirs, atol=1e-6) and ours.max() > 0
    with pytest.raises(CamlibError, match="'head' is not a module of Sequential"):
        SuccessorMaps(model, "gradcam", target_layer="head")


@pytest.mark.parametrize("method", ["cam", *SUCCESSORS])
def test_every_method_runs_from_the_cli_on_a_photo(method, photo, tmp_path, capsys):
    import json

    from camlib.app.cli import main

    path = tmp_path / "coffee.jpg"
    photo.save(path)
    model = "squeezenet1_1" if method == "scorecam" else "efficientnet-lite0"  # Score-CAM: 513 passes, not 1,281
    assert main(["cam", str(path), "--method", method, "--model", model, "--topk", "1", "--jsonl", "--save-maps",
                 "--out", str(tmp_path / "out")]) == 0
    found = json.loads(capsys.readouterr().out)["predictions"][0]
    assert found["label"] == "espresso" and len(found["box"]) == 4
    maps = np.load(tmp_path / "out" / "coffee_cam.npy", allow_pickle=False)
    assert maps.shape[0] == 1 and maps.min() == 0.0 and maps.max() == pytest.approx(1.0)


def test_the_features_the_chapter_reads_are_the_ones_the_successors_map():
    from camlib.chapters.ch12_successors import mapped_features
    from camlib.models import load_pretrained

    squeezenet = load_pretrained("squeezenet1_1")
    images = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        expected = squeezenet.model.features(images)
    with mapped_features(squeezenet) as features:
        assert torch.equal(features(images), expected)                                  # TARGET_LAYERS: "features"
        assert torch.allclose(features(images[:1]), expected[:1], atol=1e-4)            # one copy, every batch
    lite0 = load_pretrained("efficientnet-lite0")
    with torch.no_grad():
        expected = lite0.model.extract_features(images)
    with mapped_features(lite0) as features:
        assert torch.allclose(features(images), expected)                               # CAM's own features
    assert not any(module._forward_hooks for module in lite0.model.modules())           # the original stays unhooked
