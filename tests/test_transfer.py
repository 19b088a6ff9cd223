"""Table 5 helpers: the raw-pixel floor, PCA to a common dimension, one-pass features, claims and generic localization."""
import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from camlib.chapters.ch06_transfer import not_worse, pca_pair, raw_pixels, render_split, table5_claims
from camlib.errors import CamlibError
from camlib.features import classifier_inputs, extract, final_linear


def test_raw_pixels():
    grey = np.array([[[0, 255], [51, 102]]], dtype=np.uint8)
    rgb = np.repeat(grey[..., None], 3, axis=-1)
    np.testing.assert_allclose(raw_pixels(rgb, side=2).numpy(), [[0.0, 1.0, 0.2, 0.4]], atol=1e-6)
    np.testing.assert_allclose(raw_pixels(rgb, side=1).numpy(), [[102 / 255]], atol=1e-6)  # mean of the four


def test_pca_pair_is_fitted_on_train_and_keeps_small_features():
    # Training points on the line y = 2x (plus a constant third coordinate): one component holds them all.
    t = torch.arange(-3.0, 4.0)[:, None]
    train = torch.cat([t, 2 * t, torch.ones_like(t)], dim=1)
    test = torch.tensor([[1.0, 2.0, 1.0], [0.0, 0.0, 5.0]])
    small_train, small_test = pca_pair(train, test, 1)
    assert small_train.shape == (7, 1) and small_test.shape == (2, 1)
    np.testing.assert_allclose(small_train.abs().squeeze().numpy(), np.sqrt(5) * t.abs().squeeze().numpy(), atol=1e-5)
    # test points are centred with the training mean (0, 0, 1): the second lies at the origin of the line
    np.testing.assert_allclose(small_test.abs().squeeze().numpy(), [np.sqrt(5), 0.0], atol=1e-5)
    same = pca_pair(train, test, 3)
    assert same[0] is train and same[1] is test  # nothing to reduce
    with pytest.raises(CamlibError, match="at least 2 training images"):
        pca_pair(train[:1], test, 2)


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


def test_network_features_read_gap_and_the_stride16_map_in_one_pass(lite0):
    from camlib.chapters.ch06_transfer import network_features
    from camlib.features import to_batch
    from camlib.models.trunks import lite_trunk

    images = np.random.default_rng(1).integers(0, 256, (3, 224, 224, 3), dtype=np.uint8)
    feats = network_features(lite0, images, maps_of=2, batch_size=2)
    reference = extract(lite0, images, size=224)
    torch.testing.assert_close(feats["gap"], reference.pooled, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(feats["maps"], reference.maps[:2], rtol=1e-5, atol=1e-5)
    trunk, channels = lite_trunk(lite0.model, 16)
    with torch.no_grad():
        maps16 = trunk(to_batch(images, 224, lite0.mean, lite0.std))
    assert maps16.shape[-2:] == (14, 14) and feats["stride16"].shape == (3, channels)
    torch.testing.assert_close(feats["stride16"], maps16.mean(dim=(2, 3)), rtol=1e-4, atol=1e-5)


def test_render_split_returns_the_largest_object_and_its_mask():
    from camlib.data.composites import CompositeSpec, generate_composites
    from camlib.data.paste import mask_box
    from camlib.data.stamps import GROUPS_FILE

    spec = CompositeSpec(size=224, splits=(("train", 3), ("test", 3)), stamps=GROUPS_FILE,
                         stamp_cycle=("train", "test", "train"), multi_share=1.0, seed=3)
    split = generate_composites(spec, progress=False)["test"]
    images, labels, boxes, masks = render_split(split, 2, "test")
    assert images.shape == (2, 224, 224, 3) and images.dtype == np.uint8 and masks.shape == (2, 224, 224)
    assert labels.tolist() == split.labels[:2].tolist()
    for i in range(2):
        np.testing.assert_array_equal(boxes[i], split.boxes(i)[0])
        np.testing.assert_allclose(mask_box(masks[i]), boxes[i], atol=1)
    with pytest.raises(CamlibError, match="has 3 images"):
        render_split(split, 4, "test")


def test_table5_claims_verdicts_from_a_hand_made_table():
    accuracy = pd.Series({"pixels": 20.0, "A: GAP": 80.0, "A: stride-16 map": 79.0,
                          "B: GAP": 60.0, "B: stride-16 map": 40.0})
    claims = table5_claims(accuracy, 400, ["A", "B"], stronger="A", weaker="B", floor="pixels",
                           why={"cut": "because", "stronger": "", "floor": ""}).set_index("claim")
    holds = claims["holds?"]
    # A: 79 vs 80 is inside two standard errors (2 sqrt((79*21 + 80*20) / 400) = 5.7): not worse.
    assert holds["A: stride-16 features not worse than the full network's GAP"] == "yes"
    assert claims.loc["A: stride-16 features not worse than the full network's GAP", "measured"] == \
        "79.0% vs 80.0% (-1.0, margin 5.7)"
    # B: 40 vs 60, 20 points below: fails, with the reason given for that kind of claim.
    assert holds["B: stride-16 features not worse than the full network's GAP"] == "no"
    assert claims.loc["B: stride-16 features not worse than the full network's GAP", "why"] == "because"
    assert holds["A (GoogLeNet-level on ImageNet) beats B (AlexNet-level)"] == "yes"
    assert holds["A: GAP features beat pixels"] == "yes" and holds["B: GAP features beat pixels"] == "yes"
    assert claims["paper"].iloc[0] == "GoogLeNet-GAP vs GoogLeNet: mean -0.45"
    assert claims["paper"].iloc[2] == "GoogLeNet vs AlexNet fc7: mean +8.25"
    assert not_worse(50.0, 90.0, 400) == "no" and not_worse(90.0, 50.0, 400) == "yes"


def test_generic_localization_finds_a_bright_object(lite0):
    from camlib.chapters.ch06_transfer import chance_hit_rates, generic_localization
    from camlib.data.localization_split import LocalizationSplit
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
    feats = extract(lite0, test.images, size=128)
    result = generic_localization(probe, feats.pooled, feats.maps, test)
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
    with pytest.raises(CamlibError, match="for 8 images"):
        generic_localization(probe, feats.pooled[:3], feats.maps, test)


def test_accuracy_table_reduces_every_feature_to_the_common_dimension():
    from camlib.chapters.ch06_transfer import SVM_C_GRID, accuracy_table

    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1, 2], 10)
    centres = torch.eye(3) * 10

    def blobs(k):  # the class centre in the first 3 of k coordinates, plus small noise
        x = torch.from_numpy(rng.normal(0, 0.3, (30, k))).float()
        x[:, :3] += centres[labels]
        return x

    features = {"wide": (blobs(8), blobs(8)), "narrow": (blobs(3), blobs(3))}
    table = accuracy_table(features, labels, labels, dim=3)
    assert table["dimension"].tolist() == [8, 3]
    assert (table["accuracy at 3 dims (%)"] == 100.0).all()
    assert set(table["C"]) <= set(SVM_C_GRID)
