"""The `camlib cam` command on real photos and bad files."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image
from skimage import data

from camlib.app.cli import main


@pytest.fixture()
def photos(tmp_path):
    coffee = tmp_path / "coffee.jpg"
    Image.fromarray(data.coffee()).save(coffee)
    bad = tmp_path / "notes.jpg"
    bad.write_text("not an image")
    return coffee, bad


def test_json_output_and_bad_file(photos, tmp_path, capsys):
    coffee, bad = photos
    code = main(["cam", str(coffee), str(bad), str(tmp_path / "missing.png"), "--json", "--topk", "3", "--out", str(tmp_path / "out")])
    captured = capsys.readouterr()
    assert code == 1
    results = json.loads(captured.out)
    assert len(results) == 3 and [r["image"] for r in results[1:]] == [str(bad), str(tmp_path / "missing.png")]
    assert "not an image file" in results[1]["error"] and "not found" in results[2]["error"]
    entry = results[0]
    assert entry["image"] == str(coffee) and (entry["width"], entry["height"]) == (600, 400)
    preds = entry["predictions"]
    assert [p["label"] for p in preds][0] == "espresso" and len(preds) == 3
    assert preds[0]["prob"] >= preds[1]["prob"] >= preds[2]["prob"]
    x0, y0, x1, y1 = preds[0]["box"]
    assert 0 <= x0 < x1 <= 600 and 0 <= y0 < y1 <= 400
    errors = captured.err.strip().splitlines()
    assert len(errors) == 2 and "notes.jpg" in errors[0] and "missing.png" in errors[1]
    assert (tmp_path / "out" / "coffee_cam.png").is_file() and entry["overlay"] == str((tmp_path / "out" / "coffee_cam.png").resolve())


def test_bad_threshold_is_one_line_error(photos, capsys):
    assert main(["cam", str(photos[0]), "--threshold", "1.5"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("camlib: error:") and "(0, 1)" in err and "\n" not in err


def test_module_entry_point(photos):
    out = subprocess.run([sys.executable, "-m", "camlib", "cam", str(photos[0]), "--topk", "1"], capture_output=True, text=True, check=True)
    assert "espresso" in out.stdout


# -- issue 13: start-up, --out, overlays, interrupts, batches ----------------------------------------
def test_help_version_and_argument_errors_do_not_import_torch():
    code = ("import sys\nfrom camlib.app.cli import main\n"
            "for argv in (['--help'], ['--version'], ['cam'], ['cam', 'x.jpg', '--topk', 'many']):\n"
            "    try:\n        main(argv)\n    except SystemExit:\n        pass\n"
            "assert 'torch' not in sys.modules and 'numpy' not in sys.modules, 'heavy imports before parsing'\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "usage: camlib" in out.stdout and "camlib 0.1.0" in out.stdout


@pytest.mark.parametrize("option, value, message", [("--topk", "0", "--topk must be at least 1"),
                                                    ("--batch-size", "0", "--batch-size must be at least 1"),
                                                    ("--threshold", "inf", "--threshold must be a fraction")])
def test_bad_numbers_are_refused_before_the_model_loads(monkeypatch, capsys, option, value, message):
    import camlib.models.pretrained as pretrained

    monkeypatch.setattr(pretrained, "load_pretrained", lambda name: pytest.fail("the model was loaded"))
    assert main(["cam", "x.jpg", option, value]) == 2
    assert message in capsys.readouterr().err


def file_then_sub(tmp: Path) -> Path:
    (tmp / "f.txt").write_text("")
    return tmp / "f.txt" / "sub"


def read_only(tmp: Path) -> Path:
    (tmp / "ro").mkdir(mode=0o555)
    return tmp / "ro"


@pytest.mark.parametrize("make_out, message", [(file_then_sub, "a part of this path is a file"),
                                               (read_only, "cannot write there")])
def test_unusable_out_is_refused_before_any_work(monkeypatch, tmp_path, capsys, make_out, message):
    import os

    import camlib.models.pretrained as pretrained

    if message == "cannot write there" and os.geteuid() == 0:
        pytest.skip("root writes into read-only folders")
    monkeypatch.setattr(pretrained, "load_pretrained", lambda name: pytest.fail("the model was loaded"))
    assert main(["cam", "x.jpg", "--json", "--out", str(make_out(tmp_path))]) == 2
    captured = capsys.readouterr()
    assert message in captured.err and json.loads(captured.out) == []


def test_out_that_cannot_be_written_is_caught_by_a_write_probe(monkeypatch, tmp_path):
    import tempfile

    from camlib import CamlibError
    from camlib.utils.outputs import check_output_folder

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "TemporaryFile", refuse)  # what a read-only folder does, even for root
    with pytest.raises(CamlibError, match="cannot write there"):
        check_output_folder(tmp_path / "out")


def test_overlays_never_replace_an_input_a_link_or_an_earlier_run(photos, tmp_path, capsys):
    coffee = photos[0]
    out = tmp_path / "out"
    out.mkdir()
    inside = out / "coffee_cam.png"  # an input already named like coffee.jpg's overlay
    Image.open(coffee).save(inside)
    outside = tmp_path / "outside.png"
    outside.write_bytes(b"keep")
    (out / "coffee_cam_cam.png").symlink_to(outside)  # a link where inside.png's overlay would go
    before = inside.read_bytes()
    for _ in range(3):
        assert main(["cam", str(coffee), str(inside), "--topk", "1", "--out", str(out), "--json"]) == 0
    runs = json.loads("[" + capsys.readouterr().out.replace("]\n[", "],\n[") + "]")
    overlays = [Path(entry["overlay"]) for run in runs for entry in run]
    assert len(set(overlays)) == 6 and all(p.parent == out.resolve() for p in overlays)
    assert inside.read_bytes() == before and outside.read_bytes() == b"keep"
    assert (out / "coffee_cam_cam.png").is_symlink()
    for path in overlays:
        assert Image.open(path).size[0] > 300  # a whole PNG
    assert not list(out.glob(".*.tmp"))


def test_a_writer_killed_mid_write_leaves_no_truncated_overlay(tmp_path, monkeypatch):
    import os

    from camlib.utils.outputs import write_new_file

    def killed(src, dst):
        raise KeyboardInterrupt  # stands for a kill between writing the data and naming the file

    monkeypatch.setattr(os, "link", killed)
    with pytest.raises(KeyboardInterrupt):
        write_new_file(tmp_path, "photo", "_cam.png", b"x" * 1000)
    assert list(tmp_path.iterdir()) == []


def test_overlay_is_drawn_on_the_original_photo(lite0, tmp_path):
    import numpy as np

    from camlib.app.localize import localize
    from camlib.app.overlays import overlay_figure

    wide = Image.fromarray(data.coffee()).resize((1200, 400))
    loc = localize(lite0, wide, topk=2)
    fig = overlay_figure(loc, "coffee.jpg")
    ax = fig.axes[0]
    assert ax.images[0].get_extent() == [-0.5, 1199.5, 399.5, -0.5]  # original pixels, not 224 px
    assert fig._suptitle.get_text() == "coffee.jpg" and loc.predictions[0].label in ax.get_title()
    assert len(fig.axes) == 3  # two panels and the colour bar
    x0, y0, x1, y1 = loc.predictions[0].box
    patch = ax.patches[0]
    assert (patch.get_x(), patch.get_width()) == pytest.approx((x0 - 0.5, x1 - x0))
    assert np.asarray(loc.image).shape == (400, 1200, 3)


@pytest.mark.parametrize("threshold", [0.25, 0.5])
def test_boxes_in_input_are_the_predictions_boxes(lite0, threshold):
    """One call, one set of boxes: ``boxes_in_input`` redraws ``localize``'s boxes at its own threshold."""
    import numpy as np

    from camlib.app.localize import boxes_in_input, localize

    wide = Image.fromarray(data.coffee()).resize((600, 400))
    loc = localize(lite0, wide, topk=3, threshold=threshold)
    shown = loc.geometry.to_original(boxes_in_input(loc))
    np.testing.assert_allclose(shown, [p.box for p in loc.predictions], atol=0.051)  # predictions round to 0.1 px
    other = loc.geometry.to_original(boxes_in_input(loc, 0.05))
    assert not np.allclose(other, [p.box for p in loc.predictions], atol=0.051)  # an explicit threshold still wins


def test_jsonl_batches_and_failed_inputs(photos, tmp_path, capsys):
    coffee, bad = photos
    small = tmp_path / "small.png"
    Image.fromarray(data.coffee()).resize((300, 200)).save(small)
    names = [str(coffee), str(bad), str(small), str(coffee)]
    assert main(["cam", *names, "--topk", "1", "--jsonl", "--batch-size", "3"]) == 1
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["image"] for line in lines] == names
    assert "error" in lines[1] and all(line["predictions"][0]["label"] == "espresso" for line in lines if "error" not in line)


def test_batched_results_equal_one_at_a_time(lite0):
    import numpy as np

    from camlib.app.localize import localize, localize_batch

    images = [Image.fromarray(data.coffee()), Image.fromarray(data.astronaut()), Image.fromarray(data.coffee())]
    batched = localize_batch(lite0, images, topk=3)
    for image, loc in zip(images, batched):
        alone = localize(lite0, image, topk=3)
        assert [p.class_index for p in alone.predictions] == [p.class_index for p in loc.predictions]
        np.testing.assert_allclose([p.prob for p in alone.predictions], [p.prob for p in loc.predictions], rtol=1e-4)
        np.testing.assert_allclose([p.box for p in alone.predictions], [p.box for p in loc.predictions], atol=1.0)


def test_ctrl_c_exits_130_quietly_with_valid_json(photos, tmp_path):
    import signal
    import time

    out = tmp_path / "out"
    # A terminal's Ctrl-C reaches a process whose SIGINT is not ignored; a shell starts background jobs
    # (make test &, nohup) with SIGINT ignored and children inherit that, so the child gets the default back.
    proc = subprocess.Popen([sys.executable, "-m", "camlib", "cam", *[str(photos[0])] * 200, "--topk", "1", "--batch-size", "1",
                             "--json", "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while not (out.is_dir() and any(out.glob("*.png"))) and time.monotonic() < deadline:
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "interrupted" in stderr
    results = json.loads(stdout)
    assert 1 <= len(results) < 200 and all(r["predictions"][0]["label"] == "espresso" for r in results)


def test_closed_pipe_exits_quietly(photos):
    proc = subprocess.run(f"{sys.executable} -m camlib cam {' '.join([str(photos[0])] * 40)} --topk 5 --batch-size 1 | head -1",
                          shell=True, capture_output=True, text=True, executable="/bin/bash")
    assert proc.stdout.startswith(str(photos[0])) and len(proc.stdout.splitlines()) == 1
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr, proc.stderr
    status = subprocess.run(f"set -o pipefail; {sys.executable} -m camlib cam {' '.join([str(photos[0])] * 40)} --batch-size 1 | head -1 >/dev/null; echo ${{PIPESTATUS[0]}}",
                            shell=True, capture_output=True, text=True, executable="/bin/bash")
    assert status.stdout.strip() == "141"


def test_temporaries_of_a_killed_writer_go_with_the_next_write(tmp_path):
    from camlib.utils.outputs import write_new_file

    stale = tmp_path / ".photo_cam.png.999999999.x1.tmp"  # a SIGKILLed writer's partial file (no such pid)
    stale.write_bytes(b"half")
    path = write_new_file(tmp_path, "photo", "_cam.png", b"whole")
    assert path.read_bytes() == b"whole" and not stale.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photo_cam.png"]


def test_overlay_that_cannot_be_written_keeps_the_results(photos, monkeypatch, tmp_path, capsys):
    import camlib.utils.outputs as outputs

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(outputs, "write_new_file", disk_full)
    assert main(["cam", str(photos[0]), "--topk", "1", "--json", "--out", str(tmp_path / "out")]) == 1
    captured = capsys.readouterr()
    (entry,) = json.loads(captured.out)
    assert entry["predictions"][0]["label"] == "espresso" and "No space left on device" in entry["error"]
    assert "overlay not written" in captured.err and "Traceback" not in captured.err


# -- --flip, --model and the plain text output --------------------------------------------------------
@pytest.fixture()
def mirrored_photos(tmp_path):
    """The coffee photo and its left-right mirror, as lossless PNGs (a JPEG's artefacts would differ)."""
    import numpy as np

    pixels = data.coffee()
    coffee, mirror = tmp_path / "coffee.png", tmp_path / "mirror.png"
    Image.fromarray(pixels).save(coffee)
    Image.fromarray(np.ascontiguousarray(pixels[:, ::-1])).save(mirror)
    return coffee, mirror


def _cam_json(capsys, *argv: str) -> list[dict]:
    assert main(["cam", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def _logits(classifier, image: Image.Image, mirror: bool = False):
    """The classifier's own logits for ``image`` resized as ``camlib cam`` feeds it (shorter side to its crop size),
    or for the mirror of that input."""
    import torch

    from camlib.models.preprocess import resize_crop, to_input

    resized, _ = resize_crop(image, resize=classifier.crop, crop=None)
    x = to_input(resized, classifier.mean, classifier.std).unsqueeze(0)
    with torch.no_grad():
        return classifier.model(x.flip(-1) if mirror else x)[0]


def test_flip_averages_the_photo_and_its_mirror(mirrored_photos, lite0, capsys):
    import torch

    coffee, mirror = mirrored_photos
    plain = _cam_json(capsys, str(coffee), str(mirror), "--topk", "5")
    flipped = _cam_json(capsys, str(coffee), str(mirror), "--topk", "5", "--flip")
    # without --flip (the default) a network sees a photo and its mirror differently ...
    assert [p["prob"] for p in plain[0]["predictions"]] != [p["prob"] for p in plain[1]["predictions"]]
    # ... with it, both give the same classes and probabilities, and mirrored boxes
    photo, mirrored = (entry["predictions"] for entry in flipped)
    assert [(p["class_index"], p["prob"]) for p in photo] == [(p["class_index"], p["prob"]) for p in mirrored]
    width = flipped[0]["width"]
    for p, q in zip(photo, mirrored):
        x0, y0, x1, y1 = p["box"]
        assert q["box"] == pytest.approx([width - x1, y0, width - x0, y1], abs=0.11)  # boxes are rounded to 0.1 px
    # the probabilities are the softmax of the mean of the two logits
    image = Image.open(coffee)
    logits = (_logits(lite0, image) + _logits(lite0, image, mirror=True)) / 2
    expected = torch.softmax(logits, 0).topk(5)
    assert [p["class_index"] for p in photo] == expected.indices.tolist()
    assert [p["prob"] for p in photo] == pytest.approx(expected.values.tolist(), rel=1e-4)
    assert photo[0]["prob"] != pytest.approx(plain[0]["predictions"][0]["prob"], abs=1e-3)
    alone = _cam_json(capsys, str(coffee), "--topk", "5", "--no-flip")[0]["predictions"]
    assert [p["class_index"] for p in alone] == [p["class_index"] for p in plain[0]["predictions"]]
    assert [p["prob"] for p in alone] == pytest.approx([p["prob"] for p in plain[0]["predictions"]], rel=1e-4)


@pytest.mark.parametrize("model", ["efficientnet-lite1", "squeezenet1_1"])
def test_model_option_runs_that_network(mirrored_photos, capsys, model):
    import torch

    from camlib.models.pretrained import load_pretrained

    coffee = mirrored_photos[0]
    default = _cam_json(capsys, str(coffee), "--topk", "3")[0]["predictions"]
    chosen = _cam_json(capsys, str(coffee), "--topk", "3", "--model", model)[0]["predictions"]
    classifier = load_pretrained(model)
    expected = torch.softmax(_logits(classifier, Image.open(coffee)), 0).topk(3)
    assert [p["class_index"] for p in chosen] == expected.indices.tolist()
    assert [p["prob"] for p in chosen] == pytest.approx(expected.values.tolist(), rel=1e-4)
    assert chosen[0]["label"] == default[0]["label"] == "espresso"  # both networks know the photo ...
    assert abs(chosen[0]["prob"] - default[0]["prob"]) > 0.05  # ... but they are different networks
    assert max(abs(a - b) for a, b in zip(chosen[0]["box"], default[0]["box"])) > 5  # with different maps


def test_model_choices_in_help_are_the_loadable_ones_and_others_are_refused(capsys):
    from camlib.models.pretrained import PRETRAINED

    with pytest.raises(SystemExit):
        main(["cam", "--help"])
    helptext = " ".join(capsys.readouterr().out.split())
    listed = re.search(r"--model MODEL pretrained classifier: (.*?) \(default: ([\w-]+)", helptext)
    assert listed, helptext
    assert sorted(re.split(r", | or ", listed.group(1))) == sorted(PRETRAINED) and listed.group(2) in PRETRAINED
    assert main(["cam", "x.jpg", "--model", "resnet50"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("camlib: error: unknown model 'resnet50'") and "squeezenet1_1" in err and "\n" not in err


def test_plain_text_output_format(mirrored_photos, tmp_path, capsys):
    coffee = mirrored_photos[0]
    assert main(["cam", str(coffee), "--topk", "3", "--out", str(tmp_path / "out")]) == 0
    lines = capsys.readouterr().out.splitlines()
    (entry,) = _cam_json(capsys, str(coffee), "--topk", "3")
    assert len(lines) == 5
    assert lines[0] == f"{coffee} (600x400)"
    for line, p in zip(lines[1:4], entry["predictions"]):
        # "  {prob:6.3f}  {label:<30s} box=[x0, y0, x1, y1]"
        match = re.fullmatch(r"  ([ \d]\d\.\d{3})  (.{30}) box=\[(.*)\]", line)
        assert match, line
        assert float(match.group(1)) == pytest.approx(p["prob"], abs=5e-4) and match.group(2).rstrip() == p["label"]
        assert [float(v) for v in match.group(3).split(", ")] == p["box"]
    assert lines[1].startswith("   0.7") and "espresso" in lines[1]
    assert lines[4] == f"  overlay: {(tmp_path / 'out' / 'coffee_cam.png').resolve()}"
    assert (tmp_path / "out" / "coffee_cam.png").is_file()
