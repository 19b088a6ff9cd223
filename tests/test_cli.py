"""The `camlib cam` command on real photos and bad files."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
from PIL import Image
from skimage import data

from camlib.cli import main


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
