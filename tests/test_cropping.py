"""Table 4's cropping protocol: pixel boxes, CAM boxes at image size, chance baselines, the whole pipeline."""
from pathlib import Path

import numpy as np
import pytest
import torch

from camlib.methods.baselines import random_boxes
from camlib.cam import cam_boxes
from camlib.chapters.ch05_cropping import (
    REFERENCES,
    SETTINGS,
    BoxedImages,
    choose_c_on_dev,
    enlarge_boxes,
    pixel_box,
    run_cropping,
)
from camlib.data.sets.localization_split import LocalizationSplit
from camlib.utils.errors import CamlibError
from camlib.metrics.boxes import hit_rate, paired_iou
from camlib.data.assets.paths import cache_dir

CUB_MINI = Path(__file__).parent / "fixtures" / "CUB_200_2011_mini"


def test_pixel_box_covers_fractional_boxes_and_stays_inside():
    assert pixel_box(np.array([1.2, 0.5, 3.1, 2.0]), (10, 10)).tolist() == [1, 0, 4, 2]
    assert pixel_box(np.array([-5.0, -1.0, 50.0, 7.5]), (6, 8)).tolist() == [0, 0, 8, 6]
    assert pixel_box(np.array([9.5, 9.5, 9.5, 9.5]), (10, 10)).tolist() == [9, 9, 10, 10]  # at least one pixel


def test_cam_boxes_upsample_to_each_image_size():
    # A 2x2 CAM with evidence in the top-left cell, upsampled (bilinear, half-pixel centres) to 4x4,
    # has rows/columns weighted (1, .75, .25, 0): the pixels >= 0.2 of the max are
    # (0,0) (0,1) (0,2) (1,0) (1,1) (2,0), whose box is [0, 0, 3, 3].
    cams = torch.tensor([[[1.0, 0.0], [0.0, 0.0]]])
    assert cam_boxes(cams, np.array([[4, 4]])).tolist() == [[0, 0, 3, 3]]
    # At its own size the CAM is not resampled: the box is the single top-left pixel.
    assert cam_boxes(cams, np.array([[2, 2]])).tolist() == [[0, 0, 1, 1]]
    # Images of different sizes in one call; a non-square image stretches the box with it.
    boxes = cam_boxes(torch.cat([cams, cams.flip(-1)]), np.array([[4, 4], [4, 8]]))
    assert boxes[0].tolist() == [0, 0, 3, 3] and boxes[1, 2] == 8 and boxes[1, 3] == 3
    with pytest.raises(CamlibError, match="sizes"):
        cam_boxes(cams, np.array([[4, 4], [4, 4]]))


def test_paired_iou_and_hit_rate():
    gt = np.array([[0, 0, 10, 10], [0, 0, 10, 10]], dtype=np.float32)
    boxes = np.array([[0, 0, 10, 5], [0, 0, 10, 10]], dtype=np.float32)
    np.testing.assert_allclose(paired_iou(boxes, gt), [0.5, 1.0])
    assert hit_rate(boxes, gt) == 100.0  # IoU >= 0.5 counts
    assert hit_rate(boxes, gt, iou_threshold=0.6) == 50.0
    assert paired_iou(np.stack([boxes, boxes], axis=1), gt).shape == (2, 2)


def test_random_boxes_stay_inside_and_match_the_known_chance_rate():
    sizes = np.array([[30, 50], [80, 20]])
    boxes = random_boxes(sizes, draws=500, seed=1)
    assert boxes.shape == (2, 500, 4)
    assert (boxes[..., :2] >= 0).all() and (boxes[..., 2:] >= boxes[..., :2]).all()
    assert (boxes[:, :, 2] <= sizes[:, 1:2]).all() and (boxes[:, :, 3] <= sizes[:, 0:1]).all()
    # Against a whole-image ground truth, IoU = the box's area fraction u * v, where u, v (differences
    # of two uniforms) have density 2(1 - u): P(u v >= 0.5) = int_.5^1 2(1-u)(1-.5/u)^2 du = 1.713 %.
    whole = np.array([[0, 0, 1, 1]], dtype=np.float32)
    rate = hit_rate(random_boxes(np.array([[1, 1]]), draws=200_000, seed=0), whole)
    assert abs(rate - 1.713) < 0.15
    # With the training sizes given, every draw has such a size: the whole image always hits.
    full = random_boxes(np.array([[40, 60]]), draws=50, seed=0, relative_sizes=np.array([[1.0, 1.0]]))
    np.testing.assert_allclose(full[0], np.tile([0, 0, 60, 40], (50, 1)))
    half = random_boxes(np.array([[40, 60]]), draws=50, seed=0, relative_sizes=np.array([[0.5, 0.25]]))
    np.testing.assert_allclose(half[0, :, 2] - half[0, :, 0], 30)
    np.testing.assert_allclose(half[0, :, 3] - half[0, :, 1], 10)


def test_boxed_images_from_a_generated_split_crop_and_resize():
    images = np.zeros((2, 8, 12, 3), dtype=np.uint8)
    images[1, 2:4, 6:9] = 255
    masks = np.zeros((2, 8, 12), dtype=bool)
    split = LocalizationSplit(images, np.array([0, 1]), np.array([[0, 0, 2, 2], [6, 2, 9, 4]], dtype=np.float32), masks, ("a", "b"))
    boxed = BoxedImages.from_split(split, "toy")
    assert len(boxed) == 2 and boxed.sizes.tolist() == [[8, 12], [8, 12]]
    view = boxed.view(5, boxed.boxes)
    crop = np.asarray(view[1])
    assert crop.shape == (5, 5, 3) and crop.min() == 255  # the white block fills its box exactly
    assert [np.asarray(im).shape for im in boxed.view(6)[0:2]] == [(6, 6, 3), (6, 6, 3)]


def test_enlarge_boxes_grows_about_the_centre_and_clips():
    boxes = np.array([[10, 20, 30, 40], [0, 0, 10, 10]], dtype=np.float32)
    sizes = np.array([[100, 100], [12, 12]])
    np.testing.assert_allclose(enlarge_boxes(boxes, 0.0, sizes), boxes)
    # +50%: a 20 x 20 box grows by 5 px on each side; the corner box is clipped to its 12 x 12 image
    np.testing.assert_allclose(enlarge_boxes(boxes, 0.5, sizes), [[5, 15, 35, 45], [0, 0, 12, 12]])
    with pytest.raises(CamlibError, match="margin"):
        enlarge_boxes(boxes, -0.1, sizes)


def test_choose_c_on_dev_picks_the_best_dev_accuracy():
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1, 2], 20)
    feats = torch.from_numpy(rng.normal(size=(60, 5)) + 3 * np.eye(5)[labels]).float()
    best, scores = choose_c_on_dev(feats[::2], labels[::2], feats[1::2], labels[1::2], grid=(1e-4, 1.0))
    assert set(scores) == {1e-4, 1.0} and scores[best] == max(scores.values()) == 100.0
    # a tie goes to the smallest C
    tied, tied_scores = choose_c_on_dev(feats[::2], labels[::2], feats[::2], labels[::2], grid=(1.0, 0.3))
    assert tied_scores == {0.3: 100.0, 1.0: 100.0} and tied == 0.3


def test_crop_from_a_smaller_source_has_fewer_pixels():
    images = np.zeros((1, 40, 40, 3), dtype=np.uint8)
    images[0, 10:30, 10:30, 0] = np.arange(20, dtype=np.uint8)[None, :] * 12  # a fine ramp inside the box
    split = LocalizationSplit(images, np.array([0]), np.array([[10, 10, 30, 30]], dtype=np.float32),
                              np.zeros((1, 40, 40), dtype=bool), ("a",))
    boxed = BoxedImages.from_split(split, "toy")
    sharp = np.asarray(boxed.view(20, boxed.boxes)[0])[..., 0].astype(int)
    blurred = np.asarray(boxed.view(20, boxed.boxes, source_size=10)[0])[..., 0].astype(int)
    assert sharp[10].tolist() == (np.arange(20) * 12).tolist()  # same pixels, same size: unchanged
    assert len(np.unique(blurred[10])) < len(np.unique(sharp[10]))  # from a quarter of the pixels: fewer levels


def test_pipeline_runs_on_the_cub_fixture(lite0, tmp_path, monkeypatch):
    from camlib.data.sets.cub import CUB200

    monkeypatch.setenv("CAMLIB_DATA", str(tmp_path))
    train = BoxedImages.from_dataset(CUB200(CUB_MINI, "train"), "cub-mini-train")
    test = BoxedImages.from_dataset(CUB200(CUB_MINI, "test"), "cub-mini-test")
    assert len(train) == len(test) == 2 and test.sizes.tolist() == [[36, 48], [30, 36]]
    images = {"train": train, "dev": train.subset(np.array([1, 0]), "cub-mini-dev"), "test": test}
    result = run_cropping(lite0, images, size=64, margins=(0.0, 0.5), chance_draws=10)
    assert set(result.accuracy) == {*SETTINGS, *REFERENCES} and set(result.C) == set(result.accuracy)
    assert all(v in (0.0, 50.0, 100.0) for v in result.accuracy.values())  # two test images
    assert result.margin in (0.0, 0.5) and len(result.dev_margins) == 3
    for boxes, sizes in ((result.train_boxes, train.sizes), (result.test_boxes, test.sizes)):
        assert (boxes[:, 2] <= sizes[:, 1]).all() and (boxes[:, 3] <= sizes[:, 0]).all()
    assert result.test_cams.shape == (2, 2, 2)  # Lite0 maps at 64 px
    table = result.accuracy_table("Lite0-GAP")
    assert list(table.index) == [f"Lite0-GAP on {s}" for s in SETTINGS]
    assert len(result.localization_table()) == 5
    by_hit = result.accuracy_by_hit()
    assert by_hit["images"].sum() == 2 and list(by_hit.columns) == ["images", *SETTINGS, *REFERENCES]
    assert result.accuracy_by_size()["images"].sum() == 2
    assert result.test_iou.shape == (2,) and all(c.shape == (2,) for c in result.test_correct.values())
    assert list((cache_dir() / "features").glob("*.pt")), "features are cached under the data root"
    again = run_cropping(lite0, images, size=64, margins=(0.0, 0.5), chance_draws=10)
    assert again.accuracy == result.accuracy and again.localization == result.localization


def test_cropping_claims_resample_the_birds_not_the_images():
    import numpy as np

    from camlib.chapters.ch05_cropping.claims import paired_row

    birds = np.repeat([0, 1], 50)
    better, worse = birds == 0, np.zeros(100, bool)  # right on every image of one bird, wrong on the other's
    naive = paired_row("c", "p", better, worse, np.arange(100), "why")
    clustered = paired_row("c", "p", better, worse, birds, "why")
    assert naive["holds?"] == "yes" and "gain 50.0 [4" in naive["measured"]  # 100 independent images: about +-10
    assert clustered["holds?"] == "undecided, leans yes" and "gain 50.0 [0.0, 100.0]" in clustered["measured"]
    assert "(n=100 of 2 birds; detectable 71.4)" in clustered["measured"]  # 2.8 standard errors, 100 / 3.92 each
    rate = paired_row("c", "p", better, 80.0, birds, "because")  # against a fixed rate: 50 vs 80
    assert rate["holds?"] == "undecided, leans no" and rate["why"] == ""
