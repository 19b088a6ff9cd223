"""Table 5 helpers: the tasks, the raw-pixel floor, PCA to a common dimension, one-pass features (the fine-tuned
GAP network's included), claims over objects and seeds, and generic localization."""
import numpy as np
import pytest
import torch
from torch import nn

from camlib.chapters.ch06_transfer import (Claim, Scores, claims_table, compare, held_out_stamps, paper_differences,
                                           pca_pair, raw_pixels, render_rows, table5)
from camlib.utils.errors import CamlibError
from camlib.methods.features import classifier_inputs, extract, final_linear


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
    from camlib.chapters.ch06_transfer import network_features, stride16_tap
    from camlib.methods.features import to_batch
    from camlib.models.trunks import lite_trunk

    images = np.random.default_rng(1).integers(0, 256, (3, 224, 224, 3), dtype=np.uint8)
    feats = network_features(lite0, images, {"stride16": stride16_tap(lite0)}, maps_of=2, batch_size=2)
    reference = extract(lite0, images, size=224)
    torch.testing.assert_close(feats["gap"], reference.pooled, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(feats["maps"], reference.maps[:2], rtol=1e-5, atol=1e-5)
    trunk, channels = lite_trunk(lite0.model, 16)
    with torch.no_grad():
        maps16 = trunk(to_batch(images, 224, lite0.mean, lite0.std))
    assert maps16.shape[-2:] == (14, 14) and feats["stride16"].shape == (3, channels)
    torch.testing.assert_close(feats["stride16"], maps16.mean(dim=(2, 3)), rtol=1e-4, atol=1e-5)
    assert set(network_features(lite0, images[:1])) == {"gap"}


def test_gap_network_tap_reads_the_converted_networks_gap_feature_in_lite0s_pass(lite0):
    from camlib.chapters.ch06_transfer import gap_network_tap, network_features, own_accuracy
    from camlib.methods.features import to_batch
    from camlib.training.finetune import Conversion, convert

    net = convert(lite0.model, Conversion(width=8), num_classes=3, seed=0).eval()
    images = np.random.default_rng(2).integers(0, 256, (3, 224, 224, 3), dtype=np.uint8)
    feats = network_features(lite0, images, {"gap-net": gap_network_tap(lite0, net)}, batch_size=2)
    with torch.no_grad():
        x = to_batch(images, 224, lite0.mean, lite0.std)
        head = net.upper.head
        expected = head.pool(head.head_conv(net.upper.tuned(net.low(x)))).flatten(1)  # the added layer's maps averaged
        logits = net(x)
    assert feats["gap-net"].shape == (3, 8)
    torch.testing.assert_close(feats["gap-net"], expected, rtol=1e-5, atol=1e-6)
    labels = logits.argmax(1).numpy()
    assert own_accuracy(net, feats["gap-net"], labels) == 100.0  # its own linear layer on the feature = its logits
    assert own_accuracy(net, feats["gap-net"], (labels + 1) % 3) == 0.0
    with torch.no_grad():
        net.low.stem[0].weight.add_(1.0)  # no longer Lite0's stem
    with pytest.raises(CamlibError, match="frozen part"):
        gap_network_tap(lite0, net)


def test_render_rows_returns_the_largest_object_and_its_mask():
    from camlib.data.generators.composites import CompositeSpec, generate_composites
    from camlib.metrics.boxes import mask_box
    from camlib.data.generators.stamps import GROUPS_FILE

    spec = CompositeSpec(size=224, splits=(("train", 3), ("test", 3)), stamps=GROUPS_FILE,
                         stamp_cycle=("train", "test", "train"), multi_share=1.0, seed=3)
    split = generate_composites(spec, progress=False)["test"]
    images, boxes, masks = render_rows(split, np.array([2, 0]), "test")
    assert images.shape == (2, 224, 224, 3) and images.dtype == np.uint8 and masks.shape == (2, 224, 224)
    for k, i in enumerate([2, 0]):
        np.testing.assert_array_equal(images[k], split.render(i)[0])
        np.testing.assert_array_equal(boxes[k], split.boxes(i)[0])
        np.testing.assert_allclose(mask_box(masks[k]), boxes[k], atol=1)
    with pytest.raises(CamlibError, match="of the 3 test images"):
        render_rows(split, np.array([3]), "test")


def test_held_out_stamps_tests_on_unseen_stamps_and_keeps_one_for_training():
    stamps = {0: ["a1", "a2"], 1: ["b1", "b2", "b3", "b4"], 2: ["c1", "c2"], 3: ["d1"], 4: ["e1", "e2"]}
    seen = {"a1", "b1", "b3", "e1", "e2"}
    assert held_out_stamps(stamps, seen) == {
        0: (["a1"], ["a2"]),  # the seen stamp trains, the unseen one tests
        1: (["b1", "b3"], ["b2", "b4"]),
        2: (["c1"], ["c2"]),  # nothing seen: the first stays in training
    }  # 3: a single stamp; 4: every stamp seen
    assert held_out_stamps(stamps, set()) == {0: (["a1"], ["a2"]), 1: (["b1"], ["b2", "b3", "b4"]),
                                              2: (["c1"], ["c2"]), 4: (["e1"], ["e2"])}


def test_imagenet_task_splits_by_object_and_labels_by_class():
    from camlib.chapters.ch06_transfer import imagenet_task
    from camlib.data.generators.stamps import MAPPING_FILE, stamp_mapping

    mapping = stamp_mapping(MAPPING_FILE)
    class_of = {e.path: e.class_name for e in mapping}
    ox = [e.path for e in mapping if e.class_name == "ox"]
    lion = [e.path for e in mapping if e.class_name == "lion"]
    seen = {e.path for e in mapping} - set(ox[2:]) - set(lion[:1])  # ox: its last two stamps unseen; lion: its first
    task = imagenet_task(seen, images_per_stamp=10)
    assert task.class_names == ("lion", "ox")  # in ImageNet class order
    assert set(task.test_objects) == set(ox[2:]) | set(lion[:1])
    assert set(task.train_objects) == set(ox[:2]) | set(lion[1:])
    for objects, labels in ((task.train_objects, task.train_labels), (task.test_objects, task.test_labels)):
        assert [class_of[o] for o in objects] == [task.class_names[k] for k in labels]
    with pytest.raises(CamlibError, match="a task needs 2"):
        imagenet_task({e.path for e in mapping} - set(ox[2:]))


def _scores(**hits) -> Scores:
    return Scores({n: 1 for n in hits}, {n: 1.0 for n in hits}, {n: np.asarray(h, dtype=bool) for n, h in hits.items()})


def test_compare_judges_over_objects_and_seeds():
    from camlib.chapters.ch06_transfer import EQUIVALENCE_MARGIN

    objects = np.repeat(np.arange(20), 2)  # 20 objects, two images each
    every, half = np.ones(40), (np.arange(40) % 4 < 2).astype(float)  # half: objects 0, 2, 4, ... hit
    same = compare([every], [every], objects, "similar")
    assert (same.difference, same.low, same.high, same.verdict) == (0.0, 0.0, 0.0, "yes")
    assert same.objects == 20 and same.measured() == "100.0% vs 100.0%: +0.0 [+0.0, +0.0] (detectable 0.0; 20 test objects)"
    better = compare([every], [half], objects, "higher")
    assert better.difference == 50.0 and better.low > 20 and better.verdict == "yes"
    assert compare([every], [half], objects, "similar").verdict == "no"  # the whole interval beyond the margin
    assert compare([half], [every], objects, "higher").verdict == "no"
    # three seeds against one: the difference is the mean over seeds (100, 50, 50 vs 50 -> +16.7)
    seeds = compare([every, half, half], [half], objects, "similar")
    assert seeds.a == pytest.approx(200 / 3) and seeds.difference == pytest.approx(50 / 3)
    assert seeds.low <= 0 <= seeds.high and seeds.verdict == "undecided, leans no"  # estimate beyond the margin, interval not
    near = compare([every], [np.r_[np.zeros(1), np.ones(39)]], objects, "similar")
    assert 0 < near.difference <= EQUIVALENCE_MARGIN and near.verdict == "undecided, leans yes"  # the interval reaches past it
    with pytest.raises(CamlibError, match="1 or 3 score arrays"):
        compare([every, every, every], [every, every], objects, "higher")
    with pytest.raises(CamlibError, match="'higher' or 'similar'"):
        compare([every], [every], objects, "lower")


def test_claims_table_keeps_a_why_for_each_verdict_but_yes():
    objects = np.arange(40)
    scores = {"t": _scores(a=np.ones(40), b=np.arange(40) % 2 == 0)}
    claims = claims_table([Claim("a beats b", "paper", "t", ("a",), ("b",), "higher", {"no": "Set-up: x."}),
                           Claim("a like b", "paper", "t", ("a",), ("b",), "similar", {"no": "Scale: y."})],
                          scores, {"t": objects}, resamples=200)
    assert claims["holds?"].tolist() == ["yes", "no"] and claims["why"].tolist() == ["", "Scale: y."]
    assert claims["measured"].iloc[0].startswith("100.0% vs 50.0%: +50.0 [")
    with pytest.raises(CamlibError, match="has no why"):
        claims_table([Claim("b beats a", "paper", "t", ("b",), ("a",), "higher")], scores, {"t": objects}, resamples=200)


def test_table5_means_seeds_and_sits_beside_the_papers_means():
    scores = {"task": _scores(s0=[1, 1, 0, 0], s1=[1, 0, 0, 0], lite=[1, 1, 1, 0])}
    table = table5(scores, {"ours": ("s0", "s1"), "Lite0": ("lite",), "other": ("missing",)},
                   {"ours": "gap from GoogLeNet-GAP", "Lite0": "ave pool from GoogLeNet"})
    assert table.loc["ours", "task"] == 37.5 and table.loc["ours", "task: seed range"] == 25.0
    assert table.loc["Lite0", "task"] == 75.0 and table.loc["Lite0", "task: seed range"] == 0.0
    assert np.isnan(table.loc["other", "task"]) and table.loc["other", "paper's row"] == ""
    assert table.loc["ours", "paper: mean of 8 data sets"] == pytest.approx(634.10 / 8)  # (51.31 + 66.61 + ... + 95.00) / 8
    paper = paper_differences()
    assert paper["gap vs original"] == pytest.approx(-0.45, abs=0.005)  # as the paper's Table 5 prints them
    assert paper["largest gap vs original"] == pytest.approx(1.41)
    assert paper["stronger vs weaker"] == pytest.approx(8.25, abs=0.005)


def test_generic_localization_finds_a_bright_object(lite0):
    from camlib.chapters.ch06_transfer import chance_hits, generic_localization
    from camlib.data.sets.localization_split import LocalizationSplit
    from camlib.methods.probe import fit_probe

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
    assert result.hits.dtype == bool and result.hit_rates["CAM box (predicted class)"] == 100.0 * result.hits.mean()
    chance = chance_hits(test, train.boxes, (64, 64))
    assert set(chance) == {"chance: random box", "chance: box of a training size, random place"}
    assert all(v.shape == (8,) and ((0 <= v) & (v <= 1)).all() for v in chance.values())
    # a training box of the whole image, placed anywhere, is the whole image: it hits exactly the full-image boxes
    whole = chance_hits(test, np.array([[0, 0, 64, 64]], dtype=np.float32), (64, 64))
    np.testing.assert_array_equal(whole["chance: box of a training size, random place"], (test.labels == 0).astype(float))
    with pytest.raises(CamlibError, match="for 8 images"):
        generic_localization(probe, feats.pooled[:3], feats.maps, test)


def test_score_features_reduces_every_feature_to_the_common_dimension():
    from camlib.chapters.ch06_transfer import SVM_C_GRID, score_features

    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1, 2], 10)
    centres = torch.eye(3) * 10

    def blobs(k):  # the class centre in the first 3 of k coordinates, plus small noise
        x = torch.from_numpy(rng.normal(0, 0.3, (30, k))).float()
        x[:, :3] += centres[labels]
        return x

    scores = score_features({"wide": (blobs(8), blobs(8)), "narrow": (blobs(3), blobs(3))}, labels, labels, dim=3)
    table = scores.table()
    assert table["dimension"].tolist() == [8, 3]
    assert (table["test accuracy (%)"] == 100.0).all() and scores.hits["wide"].shape == (30,)
    assert set(table["C"]) <= set(SVM_C_GRID)


def test_group_photos_are_resized_whole_with_their_largest_box():
    from camlib.chapters.ch06_transfer import INPUT_SIZE, group_photos
    from camlib.data.sets.real_photos import grouped_photos
    from camlib.metrics.boxes import box_area
    from camlib.training.stamp_groups import group_names

    photos, grouped = group_photos(), grouped_photos(group_names())
    assert len(photos) == len(grouped) == 15 and photos.images.shape == (15, INPUT_SIZE, INPUT_SIZE, 3)
    assert photos.images.dtype == np.uint8 and photos.class_names == group_names()
    assert [photos.class_names[label] for label in photos.labels] == [p.class_names[0] for p in grouped]
    assert ((photos.boxes >= 0) & (photos.boxes <= INPUT_SIZE)).all()
    for box, photo in zip(photos.boxes, grouped):  # the largest box, scaled by the photo's own width and height
        height, width = photo.size
        largest = photo.boxes[np.argmax(box_area(photo.boxes))]
        np.testing.assert_allclose(box, largest * np.array([INPUT_SIZE / width, INPUT_SIZE / height] * 2), rtol=1e-5)
