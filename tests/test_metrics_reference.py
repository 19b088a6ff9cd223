"""MaxBoxAcc, MaxBoxAccV2 and PxAP under the reference's rules (clovaai/wsolevaluation), the default.

Each rule has a hand-built map whose answer differs under camlib's own rules (``rules="camlib"``);
the last tests compare the evaluators with a direct per-threshold reading of the rules on random maps.
"""
from __future__ import annotations

import cv2
import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from camlib.metrics import (
    DEFAULT_THRESHOLDS,
    MaxBoxAcc,
    MaxBoxAccV2,
    PxAP,
    box_iou,
    cam_thresholds,
    reference_scoremaps,
)


def box_accuracy(make, maps, gts, **kwargs) -> tuple[float, float]:
    """``compute().value`` under the reference rules and under camlib's rules."""
    values = []
    for rules in ("reference", "camlib"):
        ev = make(rules=rules, **kwargs)
        ev.accumulate(np.asarray(maps, dtype=np.float64), [np.asarray(g, dtype=np.float64) for g in gts])
        values.append(ev.compute().value)
    return tuple(values)


def test_defaults_are_the_reference_command_line_defaults():
    np.testing.assert_array_equal(DEFAULT_THRESHOLDS, np.arange(0, 1, 0.01))
    assert len(cam_thresholds(0.001)) == 1000
    ev = MaxBoxAccV2()
    assert ev.iou_thresholds.tolist() == [0.3, 0.5, 0.7] and ev.multi_contour and ev.rules == "reference"
    assert MaxBoxAcc().iou_thresholds.tolist() == [0.5] and not MaxBoxAcc().multi_contour


def test_threshold_is_relative_to_the_peak():
    m = np.zeros((1, 10, 10))
    m[0, 2:5, 2:6] = 0.4  # peak 0.4 -> 8-bit 102; t = 0.5 keeps values above int(51.0)
    assert box_accuracy(MaxBoxAcc, m, [[[2, 2, 6, 5]]], thresholds=[0.5]) == (100.0, 0.0)


def test_eight_bit_truncation_and_strictly_greater():
    m = np.zeros((1, 10, 10))
    m[0, 2:5, 2:5] = 1.0  # A, box (2, 2, 5, 5) as boundingRect gives it
    m[0, 2:5, 5:8] = 0.2035  # B beside A: 51.89 truncates to 51, not above int(0.2 * 255) = 51
    gt = [[[2, 2, 5, 5]]]  # A alone (IoU 1 under both rules' own box conventions)
    assert box_accuracy(MaxBoxAcc, m, gt, thresholds=[0.2], iou_threshold=0.6) == (100.0, 0.0)  # camlib: 0.2035 >= 0.2 joins B
    m[0, 2:5, 5:8] = 0.2045  # 52.15 -> 52 > 51: B is kept under the reference rules too
    assert box_accuracy(MaxBoxAcc, m, gt, thresholds=[0.2], iou_threshold=0.6) == (0.0, 0.0)


def test_holes_are_contours_too():
    m = np.zeros((1, 11, 11))
    m[0, 1:10, 1:10] = 1.0
    m[0, 4:7, 4:7] = 0.0  # a 3x3 hole: its contour runs on the ring pixels around it, rect (3, 3, 5, 5)
    assert box_accuracy(MaxBoxAccV2, m, [[[3, 3, 8, 8]]], thresholds=[0.5], iou_thresholds=[0.5]) == (100.0, 0.0)


def test_largest_by_polygon_area_not_pixel_count():
    m = np.zeros((1, 10, 30))
    m[0, 1, 2:22] = 1.0  # a 1x20 line: 20 pixels but contourArea 0
    m[0, 5:8, 5:8] = 1.0  # a 3x3 square: 9 pixels, contourArea 4
    assert box_accuracy(MaxBoxAcc, m, [[[5, 5, 8, 8]]], thresholds=[0.5]) == (100.0, 0.0)


def test_boxes_are_clipped_and_ends_inclusive():
    m = np.ones((1, 9, 9))  # the whole map: boundingRect (0, 0, 9, 9) -> clipped box (0, 0, 8, 8)
    assert box_accuracy(MaxBoxAcc, m, [[[0, 0, 8, 8]]], thresholds=[0.5], iou_threshold=0.9) == (100.0, 0.0)
    # Ends inclusive: boxes (1, 1, 3, 3) and (2, 2, 4, 4) share 2x2 of 3x3 pixels, IoU 4/14; exclusive 1/7.
    m = np.zeros((1, 10, 10))
    m[0, 1:3, 1:3] = 1.0
    assert box_iou([1, 1, 3, 3], [2, 2, 4, 4], inclusive=True) == pytest.approx(4 / 14)
    assert box_accuracy(MaxBoxAcc, m, [[[2, 2, 4, 4]]], thresholds=[0.5], iou_threshold=0.25) == (100.0, 0.0)


def test_no_contour_gives_the_box_at_the_origin():
    m = np.zeros((1, 6, 6))  # nothing above any cut-off: the estimate is (0, 0, 0, 0), 1 pixel
    assert box_accuracy(MaxBoxAccV2, m, [[[0, 0, 1, 1]]], thresholds=[0.5], iou_thresholds=[0.25]) == (100.0, 0.0)


def test_maxboxaccv2_means_the_best_accuracy_over_thresholds_per_iou():
    m = np.zeros((2, 10, 10))
    m[:, 1:4, 1:5] = 1.0  # A: box (1, 1, 5, 4), 20 inclusive pixels
    m[:, 5:9, 5:9] = 0.5  # B: box (5, 5, 9, 9), 25 inclusive pixels
    gts = [np.array([[1, 1, 5, 4.0]]), np.array([[5, 5, 9, 8.0]])]  # image 1: B's box one row short: IoU 20/25
    ev = MaxBoxAccV2(thresholds=[0.0, 0.6], iou_thresholds=(0.3, 0.5, 0.9))
    ev.accumulate(m, gts)
    res = ev.compute()
    # t = 0: both blobs are candidates (IoU 1 and 0.8); t = 0.6: A only (IoU 1 and 0).
    np.testing.assert_array_equal(res.box_acc, [[100, 50], [100, 50], [50, 50]])
    assert res.value == pytest.approx((100 + 100 + 50) / 3)


def test_pxap_foreground_inside_an_ignore_box_is_still_positive():
    maps = np.array([[[0.1, 0.6, 0.3]]])
    gt = np.array([[[True, False, True]]])
    ignore = np.array([[[True, False, False]]])  # covers a foreground pixel: it stays a positive
    ev = PxAP(thresholds=[0.2, 0.5, 0.8])
    ev.accumulate(maps, gt, ignore)
    # positives 0.1, 0.3; negative 0.6: precision/recall (0, 0) at 0.5 and (1/2, 1/2) at 0.2 -> 1/4
    assert ev.compute().value == pytest.approx(25.0)  # dropping the whole ignore box gave 50


def per_threshold_curves(maps, gts, thresholds, multi):
    """The reference's rules read literally, one threshold at a time: best IoU ``(N, K)``."""
    out = np.zeros((len(maps), len(thresholds)))
    for i, (scoremap, gt) in enumerate(zip(maps, gts)):
        image = (scoremap * 255).astype(np.uint8)
        h, w = image.shape
        for k, t in enumerate(thresholds):
            _, binary = cv2.threshold(image, int(t * np.max(image)), 255, cv2.THRESH_BINARY)
            contours = cv2.findContours(binary, cv2.RETR_TREE, cv2.CHAIN_APPROX_SIMPLE)[0]
            if not contours:
                boxes = [(0, 0, 0, 0)]
            else:
                if not multi:
                    contours = [max(contours, key=cv2.contourArea)]
                boxes = []
                for c in contours:
                    x, y, bw, bh = cv2.boundingRect(c)
                    boxes.append((x, y, min(x + bw, w - 1), min(y + bh, h - 1)))
            out[i, k] = max(box_iou(np.array(b, float), gt, inclusive=True).max() for b in boxes)
    return out


def random_case(seed: int, n: int = 12, size: int = 48):
    rng = np.random.default_rng(seed)
    raw = np.stack([gaussian_filter(rng.standard_normal((size, size)), 3) for _ in range(n)]).astype(np.float32)
    maps = reference_scoremaps(raw) * rng.uniform(0.3, 1.0, (n, 1, 1)).astype(np.float32)  # peaks below 1 too
    gts = []
    for _ in range(n):
        x0, y0 = rng.integers(0, size - 8, 2)
        gts.append(np.array([[x0, y0, x0 + rng.integers(4, size - x0), y0 + rng.integers(4, size - y0)]], float))
    return maps, gts


@pytest.mark.parametrize("make, multi", [(MaxBoxAcc, False), (MaxBoxAccV2, True)])
@pytest.mark.parametrize("method", ["sweep", "loop"])
def test_random_maps_equal_the_rules_read_per_threshold(make, multi, method):
    maps, gts = random_case(seed=3)
    thresholds = cam_thresholds(0.001)
    ev = make(thresholds=thresholds, method=method)
    ev.accumulate(maps, gts)
    curves = per_threshold_curves(maps, gts, thresholds, multi)
    expected = 100.0 * (curves[None] >= ev.iou_thresholds[:, None, None]).sum(axis=1) / len(maps)
    np.testing.assert_array_equal(ev.compute().box_acc, expected)


def test_pxap_equals_the_reference_histogram_rule():
    rng = np.random.default_rng(5)
    maps = rng.random((4, 16, 16)).astype(np.float32)
    maps[0, 0, :3] = 1.0  # scores of exactly 1 fall in the bin from 1 to 2
    gt = rng.random((4, 16, 16)) < maps
    ignore = rng.random((4, 16, 16)) < 0.2
    ev = PxAP()
    ev.accumulate(maps, gt, ignore)
    edges = np.append(np.arange(0, 1, 0.01), [1.0, 2.0, 3.0])
    positive = np.histogram(maps[gt], bins=edges)[0]
    negative = np.histogram(maps[~gt & ~ignore], bins=edges)[0]
    tp, fp = np.cumsum(positive[::-1]), np.cumsum(negative[::-1])
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = tp / (tp + fp)
    recall = tp / positive.sum()
    gain = precision[1:] * np.diff(recall)
    assert ev.compute().value == pytest.approx(100 * gain[~np.isnan(precision[1:])].sum(), abs=1e-12)


def test_reference_scoremaps_resize_bicubic_and_normalise():
    cams = np.stack([np.arange(12, dtype=np.float32).reshape(3, 4), np.full((3, 4), 2.0, np.float32),
                     np.where(np.eye(3, 4) > 0, np.nan, 1.0).astype(np.float32)])
    out = reference_scoremaps(cams, size=(6, 8))
    assert out.shape == (3, 6, 8) and out.dtype == np.float32
    resized = cv2.resize(cams[0], (8, 6), interpolation=cv2.INTER_CUBIC)
    np.testing.assert_allclose(out[0], (resized - resized.min()) / (resized - resized.min()).max())
    assert out[0].min() == 0 and out[0].max() == 1
    assert not out[1].any() and not out[2].any()  # constant and NaN maps become zeros
