"""Your own networks and photos: checkpoints of a fine-tuned GAP network, any GAP model wrapped with its
preprocessing, multi-instance boxes, and the CLI flags that reach them (issue 27)."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import save_file
from skimage import data
from torch import nn

from camlib import CamlibError, as_classifier, instance_boxes, load_checkpoint, localize
from camlib.app.cli import main
from camlib.models.pretrained import load_pretrained
from camlib.utils.errors import CorruptFileError, NoGapHeadError


def _save(model: nn.Module, path) -> None:
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path))


@pytest.fixture(scope="module")
def ten_class_lite0(tmp_path_factory):
    """Lite0 with a 10-class classifier whose class 3 copies ImageNet's espresso (967): a stand-in for a fine-tuned net."""
    model = load_pretrained("efficientnet-lite0").model
    fc = nn.Linear(1280, 10)
    with torch.no_grad():
        fc.weight.zero_(), fc.bias.zero_()
        fc.weight[3], fc.bias[3] = model._fc.weight[967], model._fc.bias[967] + 5.0
    model._fc = fc
    path = tmp_path_factory.mktemp("ckpt") / "cups.safetensors"
    _save(model, path)
    return path


def test_instance_boxes_by_hand():
    cam = np.zeros((10, 20), np.float32)
    cam[1:4, 1:6] = 1.0      # 15 px
    cam[6:9, 10:18] = 0.9    # 24 px: the largest region comes first
    cam[0, 19] = 0.5         # 1 px: under a tenth of the largest, dropped
    boxes = instance_boxes(cam, 0.2)
    np.testing.assert_array_equal(boxes, [[10, 6, 18, 9], [1, 1, 6, 4]])
    assert instance_boxes(cam, 0.2, min_share=1.0).tolist() == [[10, 6, 18, 9]]  # only the paper's box
    assert instance_boxes(np.zeros((4, 5)), 0.2).tolist() == [[0, 0, 5, 4]]  # no evidence: the whole image
    with pytest.raises(CamlibError, match="one \\(H, W\\) CAM"):
        instance_boxes(np.zeros((2, 4, 5)))


def test_a_checkpoint_with_its_own_classes_loads_on_its_architecture(ten_class_lite0, tmp_path):
    classifier = load_checkpoint(ten_class_lite0, "efficientnet-lite0", [f"kind {i}" for i in range(10)])
    assert classifier.model._fc.out_features == 10 and classifier.crop == 224 and not classifier.model.training
    found = localize(classifier, data.coffee(), topk=2)
    assert found.predictions[0].label == "kind 3" and found.cams.shape[0] == 2
    assert load_checkpoint(ten_class_lite0, "efficientnet-lite0").class_names[:2] == ["class 0", "class 1"]
    with pytest.raises(CamlibError, match="10 classes but 2 class names"):
        load_checkpoint(ten_class_lite0, "efficientnet-lite0", ["a", "b"])
    with pytest.raises(CamlibError, match="not a efficientnet-lite1 checkpoint|does not fit efficientnet-lite1"):
        load_checkpoint(ten_class_lite0, "efficientnet-lite1")
    with pytest.raises(CamlibError, match="not a squeezenet1_1 checkpoint"):
        load_checkpoint(ten_class_lite0, "squeezenet1_1")
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(ten_class_lite0.read_bytes()[:1000])
    with pytest.raises(CorruptFileError, match="not a safetensors file"):
        load_checkpoint(broken, "efficientnet-lite0")
    pickled = tmp_path / "model.pt"
    torch.save({"a": torch.zeros(1)}, pickled)
    with pytest.raises(CamlibError, match="safetensors only"):
        load_checkpoint(pickled, "efficientnet-lite0")


def test_a_squeezenet_checkpoint_gets_its_class_convolution_rebuilt(tmp_path):
    model = load_pretrained("squeezenet1_1").model
    model.classifier[1] = nn.Conv2d(512, 4, 1)
    path = tmp_path / "four.safetensors"
    _save(model, path)
    classifier = load_checkpoint(path, "squeezenet1_1", ["a", "b", "c", "d"])
    assert classifier.model.classifier[1].out_channels == 4
    assert len(localize(classifier, data.coffee(), topk=4).predictions) == 4


def test_any_gap_model_localizes_once_wrapped_with_its_preprocessing():
    class Tiny(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.pool, self.fc = nn.Conv2d(3, 4, 3, padding=1), nn.AdaptiveAvgPool2d(1), nn.Linear(4, 2)

        def forward(self, x):
            return self.fc(self.pool(torch.relu(self.conv(x))).flatten(1))

    torch.manual_seed(0)
    classifier = as_classifier(Tiny(), ["left", "right"], size=32, name="tiny")
    found = localize(classifier, data.coffee(), topk=2, boxes="all")
    assert {p.label for p in found.predictions} == {"left", "right"} and found.cams.shape[-2:] == (32, 48)
    assert all(p.instances and p.instances[0] == p.box for p in found.predictions)
    with pytest.raises(NoGapHeadError):
        as_classifier(nn.Sequential(nn.Conv2d(3, 2, 3)), ["a", "b"])
    with pytest.raises(CamlibError, match="boxes must be one of"):
        localize(classifier, data.coffee(), boxes="some")


def test_cli_runs_a_checkpoint_with_class_names_and_saves_maps_and_instance_boxes(ten_class_lite0, tmp_path, capsys):
    photo = tmp_path / "coffee.jpg"
    Image.fromarray(data.coffee()).save(photo)
    names = tmp_path / "names.txt"
    names.write_text("\n".join(f"kind {i}" for i in range(10)) + "\n")
    code = main(["cam", str(photo), "--checkpoint", str(ten_class_lite0), "--arch", "efficientnet-lite0", "--classes",
                 str(names), "--device", "cpu", "--topk", "2", "--boxes", "all", "--out", str(tmp_path / "out"),
                 "--save-maps", "--jsonl"])
    entry = json.loads(capsys.readouterr().out)
    assert code == 0 and entry["predictions"][0]["label"] == "kind 3"
    assert entry["predictions"][0]["instances"][0] == entry["predictions"][0]["box"]
    maps = np.load(entry["maps"], allow_pickle=False)
    assert maps.shape == (2, 224, 336) and maps.dtype == np.float32 and maps.min() == 0.0 and maps.max() == 1.0
    main(["cam", str(photo), "--topk", "1", "--jsonl"])  # the default keeps one box and says nothing of instances
    assert "instances" not in json.loads(capsys.readouterr().out)["predictions"][0]


@pytest.mark.parametrize("options, message", [
    (["--device", "cuda:7"], "no such GPU"),
    (["--device", "abacus"], "is not a device"),
    (["--save-maps"], "give --out"),
    (["--arch", "efficientnet-lite0"], "go together"),
    (["--classes", "names.txt"], "classes of a --checkpoint"),
    (["--checkpoint", "model.pt", "--arch", "efficientnet-lite0"], "safetensors only"),
    (["--checkpoint", "x.safetensors", "--arch", "resnet50"], "unknown --arch"),
    (["--checkpoint", "x.safetensors", "--arch", "squeezenet1_1", "--model", "efficientnet-lite2"], "not both"),
])
def test_cli_refuses_bad_model_options_in_one_line(tmp_path, capsys, monkeypatch, options, message):
    monkeypatch.chdir(tmp_path)
    photo = tmp_path / "coffee.jpg"
    Image.fromarray(data.coffee()).save(photo)
    assert main(["cam", str(photo), *options]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("camlib: error:") and message in err and "\n" not in err
