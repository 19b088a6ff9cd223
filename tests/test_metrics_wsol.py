"""MaxBoxAcc, MaxBoxAccV2 and PxAP on hand-computed cases under camlib's own rules (``rules="camlib"``);
its sweep (merge tree) and loop agree exactly. The reference rules are tested in test_metrics_reference.py."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter
from skimage.measure import label, regionprops
from sklearn.metrics import average_precision_score

import camlib.metrics.threshold_components as components
from camlib.utils.errors import CamlibError
from camlib.metrics.boxes import box_iou, iou
from camlib.metrics.threshold_components import component_boxes
from camlib.metrics.wsol import MaxBoxAcc, MaxBoxAccV2, PxAP

METHODS = ("sweep", "loop")


def two_blobs() -> np.ndarray:
    """10x10: blob A = 0.9 on rows 1-3, cols 1-4 (12 px); blob B = 0.6 on rows 5-8, cols 5-8 (16 px)."""
    m = np.zeros((10, 10))
    m[1:4, 1:5] = 0.9
    m[5:9, 5:9] = 0.6
    return m


def smooth_maps(seed: int, n: int, h: int, w: int, sigma: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    maps = np.stack([gaussian_filter(rng.standard_normal((h, w)), sigma) for _ in range(n)])
    lo, hi = maps.min(axis=(1, 2), keepdims=True), maps.max(axis=(1, 2), keepdims=True)
    return (maps - lo) / (hi - lo)


def random_boxes(seed: int, n: int, h: int, w: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        m = rng.integers(1, 4)
        x0, y0 = rng.integers(0, w, m), rng.integers(0, h, m)
        x1, y1 = x0 + rng.integers(1, w - x0 + 1), y0 + rng.integers(1, h - y0 + 1)
        out.append(np.stack([x0, y0, x1, y1], axis=1).astype(float))
    return out


def rows(c: components.ComponentBoxes) -> np.ndarray:
    """Components as sorted integer rows (image, threshold, x0, y0, x1, y1, area)."""
    table = np.column_stack([c.image, c.threshold, c.boxes.astype(np.int64), c.areas])
    return table[np.lexsort(table.T[::-1])]


def test_box_iou_by_hand():
    assert box_iou(np.array([0, 0, 2, 2.0]), np.array([1, 1, 3, 3.0])) == pytest.approx(1 / 7)
    assert box_iou(np.array([0, 0, 2, 2.0]), np.array([2, 0, 4, 2.0])) == 0.0  # touching, exclusive ends
    a, b = random_boxes(seed=11, n=2, h=30, w=40)  # same convention as the pairwise camlib.metrics.boxes.iou
    np.testing.assert_allclose(box_iou(a[:, None, :], b[None, :, :]), iou(a, b))


@pytest.mark.parametrize("method", METHODS)
def test_two_blobs_largest_component(method):
    # Image 0: GT [1,1,6,4] (15 px) covers blob A's box [1,1,5,4] (12 px): IoU 0.8.
    # Images 1, 2: GT is blob B's box [5,5,9,9]. At tau=0 the box is the whole 10x10 image.
    maps = np.stack([two_blobs()] * 3)
    gts = [np.array([[1, 1, 6, 4.0]]), np.array([[5, 5, 9, 9.0]]), np.array([[5, 5, 9, 9.0]])]
    ev = MaxBoxAcc(thresholds=[0.0, 0.5, 0.8], rules="camlib", method=method)
    ev.accumulate(maps, gts)
    res = ev.compute()
    # IoU curves: image 0 -> [0.15, 0 (B is the largest), 0.8]; images 1, 2 -> [0.16, 1, 0 (only A left)].
    np.testing.assert_allclose(res.box_acc, [[0.0, 200 / 3, 100 / 3]])
    assert res.value == pytest.approx(200 / 3)
    assert res.best_thresholds.tolist() == [0.5]
    assert res.num_images == 3


@pytest.mark.parametrize("method", METHODS)
def test_two_blobs_all_components(method):
    maps = np.stack([two_blobs(), two_blobs()])
    gts = [np.array([[1, 1, 6, 4.0]]), np.array([[5, 5, 9, 9.0]])]
    ev = MaxBoxAccV2(thresholds=[0.0, 0.5, 0.8], iou_thresholds=(0.1, 0.5, 0.9), rules="camlib", method=method)
    ev.accumulate(maps, gts)
    res = ev.compute()
    # Best IoU over components: image 0 -> [0.15, 0.8, 0.8]; image 1 -> [0.16, 1.0, 0.0].
    np.testing.assert_array_equal(res.box_acc, [[100, 100, 50], [0, 100, 50], [0, 50, 0]])
    np.testing.assert_array_equal(res.max_box_acc, [100, 100, 50])
    np.testing.assert_array_equal(res.best_thresholds, [0.0, 0.5, 0.5])
    assert res.value == pytest.approx(250 / 3)


@pytest.mark.parametrize("method", METHODS)
def test_constant_map(method):
    maps = np.full((1, 4, 6), 0.5)
    ev = MaxBoxAcc(thresholds=[0.25, 0.5, 0.75], rules="camlib", method=method)
    ev.accumulate(maps, [np.array([[0, 0, 6, 4.0]])])
    res = ev.compute()
    np.testing.assert_array_equal(res.box_acc, [[100, 100, 0]])  # 0.5 >= 0.5 keeps every pixel; 0.75 none
    assert res.best_thresholds.tolist() == [0.25]


@pytest.mark.parametrize("method", METHODS)
def test_one_hot_map_and_iou_exactly_at_threshold(method):
    maps = np.zeros((2, 5, 7))
    maps[:, 2, 3] = 1.0
    # The pixel's box is [3,2,4,3]; GT of image 1 is two pixels wide: IoU exactly 0.5 counts.
    gts = [np.array([[3, 2, 4, 3.0]]), np.array([[2, 2, 4, 3.0]])]
    ev = MaxBoxAcc(thresholds=[0.0, 0.5], rules="camlib", method=method)
    ev.accumulate(maps, gts)
    np.testing.assert_array_equal(ev.compute().box_acc, [[0, 100]])  # tau=0: the 7x5 image, IoU 1/35 and 2/35


@pytest.mark.parametrize("method", METHODS)
def test_diagonal_neighbours_are_one_component(method):
    maps = np.zeros((1, 3, 3))
    maps[0, 0, 0] = maps[0, 1, 1] = 1.0
    c = component_boxes(maps, [0.5], method)
    np.testing.assert_array_equal(c.boxes, [[0, 0, 2, 2]])  # 4-connectivity would give two 1x1 boxes
    np.testing.assert_array_equal(c.areas, [2])


@pytest.mark.parametrize("method", METHODS)
def test_equal_areas_pick_the_topmost_component(method):
    maps = np.zeros((2, 8, 8))
    maps[:, 5:7, 0:2] = 1.0  # lower-left 2x2
    maps[:, 0:2, 5:7] = 1.0  # upper-right 2x2, same area
    gts = [np.array([[5, 0, 7, 2.0]]), np.array([[5, 0, 7, 2.0]])]  # the upper one
    ev = MaxBoxAcc(thresholds=[0.5], rules="camlib", method=method)
    ev.accumulate(maps, gts)
    np.testing.assert_array_equal(ev.compute().box_acc, [[100]])


@pytest.mark.parametrize("method", METHODS)
def test_any_ground_truth_box_counts(method):
    maps = two_blobs()[None]
    ev = MaxBoxAcc(thresholds=[0.8], rules="camlib", method=method)
    ev.accumulate(maps, [np.array([[5, 5, 9, 9.0], [1, 1, 5, 4.0]])])  # the second GT is blob A's box
    assert ev.compute().value == 100.0


@pytest.mark.parametrize("method", METHODS)
def test_map_below_every_threshold_scores_zero(method):
    ev = MaxBoxAccV2(thresholds=[0.5, 0.9], rules="camlib", method=method)
    ev.accumulate(np.full((1, 3, 4), 0.2), [np.array([[0, 0, 4, 3.0]])])
    assert ev.compute().value == 0.0


def test_components_match_skimage_labelling():
    maps = smooth_maps(seed=3, n=3, h=23, w=31, sigma=2.0)
    thresholds = np.linspace(0.05, 0.95, 7)
    expected = []
    for i, m in enumerate(maps):
        for k, tau in enumerate(thresholds):
            for r in regionprops(label(m >= tau, connectivity=2)):
                y0, x0, y1, x1 = r.bbox
                expected.append([i, k, x0, y0, x1, y1, r.area])
    expected = np.array(expected)
    expected = expected[np.lexsort(expected.T[::-1])]
    for method in METHODS:
        np.testing.assert_array_equal(rows(component_boxes(maps, thresholds, method)), expected)


@pytest.mark.parametrize(
    "maps, thresholds",
    [
        (smooth_maps(seed=0, n=4, h=40, w=52, sigma=4.0), np.arange(1000) / 1000),
        (np.round(smooth_maps(seed=1, n=4, h=33, w=27, sigma=3.0) * 8) / 8, np.arange(9) / 8),  # plateaus on thresholds
        (np.random.default_rng(2).random((3, 17, 19)), np.linspace(0.1, 0.9, 13)),  # rough: many components
        (np.random.default_rng(4).integers(0, 3, (5, 1, 9)) / 2.0, np.array([0.0, 0.5, 1.0])),  # one row
        (np.random.default_rng(5).integers(0, 3, (5, 8, 1)) / 2.0, np.array([0.2, 0.7])),  # one column
    ],
)
def test_tree_and_loop_agree_exactly(maps, thresholds):
    tree = component_boxes(maps, thresholds, "sweep")
    np.testing.assert_array_equal(rows(tree), rows(component_boxes(maps, thresholds, "loop")))
    gts = random_boxes(seed=7, n=len(maps), h=maps.shape[1], w=maps.shape[2])
    for make in (MaxBoxAcc, MaxBoxAccV2):
        results = []
        for method in METHODS:
            ev = make(thresholds=thresholds, rules="camlib", method=method)
            ev.accumulate(maps, gts)
            results.append(ev.compute())
        np.testing.assert_array_equal(results[0].box_acc, results[1].box_acc)
        assert results[0].value == results[1].value


def test_tree_batches_maps_without_mixing_them(monkeypatch):
    maps = smooth_maps(seed=6, n=7, h=12, w=10, sigma=1.5)
    thresholds = np.linspace(0, 0.95, 20)
    monkeypatch.setattr(components, "_CHUNK_PIXELS", 250)  # two maps per batch
    tree, loop = component_boxes(maps, thresholds, "sweep"), component_boxes(maps, thresholds, "loop")
    np.testing.assert_array_equal(rows(tree), rows(loop))


def test_accumulating_in_batches_equals_one_batch():
    maps = smooth_maps(seed=8, n=6, h=20, w=20, sigma=2.0)
    gts = random_boxes(seed=9, n=6, h=20, w=20)
    whole, parts = MaxBoxAccV2(), MaxBoxAccV2()
    whole.accumulate(maps, gts)
    parts.accumulate(maps[:2], gts[:2])
    parts.accumulate(maps[2:], gts[2:])
    np.testing.assert_array_equal(whole.compute().box_acc, parts.compute().box_acc)


def test_pxap_by_hand():
    maps = np.array([[[0.9, 0.6, 0.3, 0.1]]])
    gt = np.array([[[True, False, True, False]]])
    ev = PxAP(thresholds=[0.2, 0.5, 0.8])
    ev.accumulate(maps, gt)
    res = ev.compute()
    np.testing.assert_allclose(res.precision, [2 / 3, 1 / 2, 1])
    np.testing.assert_allclose(res.recall, [1, 1 / 2, 1 / 2])
    assert res.value == pytest.approx(100 * (1 * 0.5 + 0.5 * 0 + 2 / 3 * 0.5))


def test_pxap_ignore_mask_drops_pixels():
    maps = np.array([[[0.9, 0.6, 0.3, 0.1]]])
    gt = np.array([[[True, False, True, False]]])
    ignore = np.array([[[False, True, False, False]]])  # drop the false positive at 0.6
    ev = PxAP(thresholds=[0.2, 0.5, 0.8])
    ev.accumulate(maps, gt, ignore)
    assert ev.compute().value == pytest.approx(100.0)


def test_pxap_equals_average_precision_at_every_score():
    rng = np.random.default_rng(10)
    maps = np.round(rng.random((3, 9, 11)), 2)
    gt = rng.random((3, 9, 11)) < maps  # informative but noisy labels
    ev = PxAP(thresholds=np.unique(maps))
    ev.accumulate(maps[:1], gt[:1])
    ev.accumulate(maps[1:], gt[1:])
    assert ev.compute().value == pytest.approx(100 * average_precision_score(gt.ravel(), maps.ravel()))


def test_pxap_precision_is_nan_where_nothing_is_predicted():
    ev = PxAP(thresholds=[0.0, 1.0])
    ev.accumulate(np.array([[[0.2, 0.4]]]), np.array([[[True, False]]]))
    res = ev.compute()
    assert np.isnan(res.precision[1]) and res.precision[0] == 0.5
    assert res.value == pytest.approx(50.0)


@pytest.mark.parametrize(
    "maps, message",
    [
        (np.full((1, 2, 2), np.nan), "NaN"),
        (np.full((1, 2, 2), 1.5), r"\[0, 1\]"),
        (np.full((1, 2, 2), -0.1), r"\[0, 1\]"),
        (np.ones((1, 2, 2), dtype=np.int64), "floating"),
        (np.ones((2, 2)), r"\(N, H, W\)"),
        (np.ones((0, 2, 2)), "non-empty"),
    ],
)
def test_bad_maps_are_rejected(maps, message):
    with pytest.raises(CamlibError, match=message):
        MaxBoxAcc().accumulate(maps, [np.array([[0, 0, 1, 1.0]])] * len(maps))
    with pytest.raises(CamlibError, match=message):
        PxAP().accumulate(maps, np.ones(maps.shape, dtype=bool))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"thresholds": [0.5, 1.2]}, r"\[0, 1\]"),
        ({"thresholds": [-0.1, 0.5]}, r"\[0, 1\]"),
        ({"thresholds": [0.5, 0.5]}, "increasing"),
        ({"thresholds": []}, "non-empty"),
        ({"iou_threshold": 0.0}, r"\(0, 1\]"),
        ({"iou_threshold": 1.5}, r"\(0, 1\]"),
        ({"method": "fast"}, "method"),
    ],
)
def test_bad_settings_are_rejected(kwargs, message):
    with pytest.raises(CamlibError, match=message):
        MaxBoxAcc(**kwargs)


def test_unsorted_iou_thresholds_are_rejected():
    with pytest.raises(CamlibError, match="increasing"):
        MaxBoxAccV2(iou_thresholds=(0.5, 0.3))


@pytest.mark.parametrize(
    "gts, message",
    [
        ([], "1 maps"),
        ([np.zeros((0, 4))], "non-empty"),
        ([np.array([1, 1, 2, 2.0])], r"\(M, 4\)"),
        ([np.array([[2, 1, 2, 3.0]])], "x0 < x1"),
        ([np.array([[0, 0, 5, np.nan]])], "finite"),
        ([np.array([[0, 0, 5, 4.0]])], "outside the 4x3 map"),
    ],
)
def test_bad_ground_truth_boxes_are_rejected(gts, message):
    with pytest.raises(CamlibError, match=message):
        MaxBoxAcc().accumulate(np.zeros((1, 3, 4)), gts)


@pytest.mark.parametrize("masks, message", [(np.ones((1, 3, 4)), "boolean"), (np.ones((1, 4, 3), dtype=bool), "shape")])
def test_bad_masks_are_rejected(masks, message):
    with pytest.raises(CamlibError, match=message):
        PxAP().accumulate(np.zeros((1, 3, 4)), masks)


def test_pxap_without_positive_pixels_is_rejected():
    ev = PxAP()
    ev.accumulate(np.zeros((1, 3, 4)), np.zeros((1, 3, 4), dtype=bool))
    with pytest.raises(CamlibError, match="no positive"):
        ev.compute()


@pytest.mark.parametrize("make", [MaxBoxAcc, MaxBoxAccV2, PxAP])
def test_compute_before_accumulate_is_rejected(make):
    with pytest.raises(CamlibError, match="before accumulate"):
        make().compute()
