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

from camlib import CAM, BadImageError, CamlibError, CorruptFileError, DatasetNotFoundError, NoGapHeadError
from camlib import NotLinearClassifierError, boxes_from_cams, load_image, localize, released_code_boxes
from camlib.boxes import check_threshold
from camlib.cache import atomic_write_bytes, cached, load_torch, save_torch
from camlib.cli import check_aspect, main
from camlib.data import CUB200, BoxImageDataset, BoxRecord, ImageNetLocalization

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
    assert [r["image"] for r in results] == [str(p) for p in (good, twin_a, tiny, twin_b, cmyk)]
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
        "from camlib.cli import main\n"
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
    from camlib.features import extract

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
    with pytest.raises(CorruptFileError, match="checksum matches but torch cannot load it") as err:
        load_torch(path)
    one_line(err)
    assert torch.equal(cached(path, lambda: torch.arange(3)), torch.arange(3))
    assert "rebuilding" in capsys.readouterr().out
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
    from camlib.train import TrainConfig, train

    data = TensorDataset(torch.randn(8, 3, 8, 8), torch.arange(8) % 3)
    config = TrainConfig(epochs=1, batch_size=4, lr=0.01)
    checkpoint = tmp_path / "run.pt"
    assert not train(TinyGap(), data, config, checkpoint, show_progress=False).loaded
    raw = bytearray(checkpoint.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    checkpoint.write_bytes(bytes(raw))
    again = train(TinyGap(), data, config, checkpoint, show_progress=False)
    assert not again.loaded and "checksum mismatch" in capsys.readouterr().out
    assert train(TinyGap(), data, config, checkpoint, show_progress=False).loaded
    with pytest.raises(CamlibError, match="holds weights of another network") as err:
        train(ConvClassifier(), data, config, checkpoint, show_progress=False)
    one_line(err)
