"""Table 5 helpers: balanced subsets, the raw-pixel floor and features taken before a network's classifier."""
import numpy as np
import pytest
import torch
from torch import nn

from camlib.chapters.ch06_transfer import LabelledImages, balanced_indices, raw_pixels, to_rgb
from camlib.errors import CamlibError
from camlib.features import classifier_inputs, final_linear


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
    LabelledImages("toy", ("a", "b"), ok, np.array([0, 1]), ok, np.array([0, 1]))
    with pytest.raises(CamlibError, match="toy train"):
        LabelledImages("toy", ("a", "b"), ok[..., 0], np.array([0, 1]), ok, np.array([0, 1]))


def test_table5_claims_verdicts_from_a_hand_made_table():
    import pandas as pd

    from camlib.chapters.ch06_transfer import table5_claims

    table = pd.DataFrame({"A": [50.0, 90.0, 80.0, 80.5], "B": [50.0, 60.0, 70.0, 90.0]},
                         index=["pixels", "deep", "gap", "fc"])
    claims = table5_claims(table, {"A": 400, "B": 400}, gap="gap", original="fc", deep="deep", floor="pixels")
    holds = claims["holds?"]
    # A: deep 90 vs pixels 50 (clear); gap 80 vs fc 80.5 (inside two standard errors: ~5.6 points).
    assert holds["deep beats pixels", "A"] == "yes" and holds["gap not worse than fc", "A"] == "yes"
    assert claims.loc[("gap not worse than fc", "A"), "margin (2 SE)"] == "5.6"  # 2 sqrt((80*20 + 80.5*19.5) / 400)
    assert "verdict" not in claims.columns  # one verdict column, about the claim as stated
    # B: deep 60 vs pixels 50 (10 points > 2 SE ~ 6.9): yes; gap 70 vs fc 90: clearly worse.
    assert holds["deep beats pixels", "B"] == "yes" and holds["gap not worse than fc", "B"] == "no"
    assert claims.loc[("gap not worse than fc", "B"), "ours"] == "-20.0"
    assert claims.loc[("gap not worse than fc", "A"), "paper"] == "mean difference -0.45"


def test_image_features_are_cached_by_pixels(tmp_path, monkeypatch):
    from camlib.chapters.ch06_transfer import Extractor, image_features

    monkeypatch.setenv("CAMLIB_DATA", str(tmp_path))
    calls = []
    extractor = Extractor("count", "count-v1", lambda images: calls.append(1) or torch.ones(len(images), 2))
    images = np.zeros((3, 4, 4, 3), dtype=np.uint8)
    assert image_features(images, extractor, "Toy set").shape == (3, 2)
    image_features(images, extractor, "Toy set")
    assert len(calls) == 1  # the second call reads the cache
    image_features(images + 1, extractor, "Toy set")
    assert len(calls) == 2  # other pixels, another cache file
    assert len(list((tmp_path / "cache" / "features").glob("table5-toy-set-count-v1-*.pt"))) == 2


def test_generic_localization_finds_a_bright_object(lite0):
    from camlib.chapters.ch06_transfer import chance_hit_rates, generic_localization
    from camlib.data.localization_split import LocalizationSplit
    from camlib.features import extract
    from camlib.probe import fit_probe

    # Class 1: a white square on black in a random quadrant; class 0: all black. The SVM is trained
    # on whole images; its CAM must peak on the square of test images it never saw.
    def scenes(n):
        images = np.zeros((n, 64, 64, 3), dtype=np.uint8)
        boxes = np.tile(np.array([0, 0, 64, 64], dtype=np.float32), (n, 1))
        labels = np.arange(n) % 2
        for k, i in enumerate(np.flatnonzero(labels)):
            y, x = 32 * (k // 2 % 2), 32 * (k % 2)  # each quadrant in turn
            images[i, y:y + 32, x:x + 32] = 255
            boxes[i] = [x, y, x + 32, y + 32]
        return LocalizationSplit(images, labels, boxes, np.zeros((n, 64, 64), dtype=bool), ("empty", "square"))

    train, test = scenes(12), scenes(8)
    probe = fit_probe(extract(lite0, train.images, size=64, keep_maps=False).pooled, train.labels)
    result = generic_localization({"svm": probe}, lite0, test, size=128)["svm"]
    assert result.accuracy == 100.0
    squares = test.labels == 1
    assert result.boxes.shape == (8, 4) and result.cams.shape == (8, 4, 4)
    for cam, box in zip(result.cams[squares], test.boxes[squares]):
        row, col = divmod(int(cam.argmax()), 4)  # 4x4 map: one cell per 16 pixels of the 64 px image
        assert box[0] <= 16 * col < box[2] and box[1] <= 16 * row < box[3]
    centres = (test.boxes[squares, :2] + test.boxes[squares, 2:]) / 2
    inside = (result.boxes[squares, :2] <= centres) & (centres <= result.boxes[squares, 2:])
    assert inside.all()
    chance = chance_hit_rates(test, train.boxes, (64, 64))
    assert set(chance) == {"chance: random box", "chance: box of a training size, random place"}
