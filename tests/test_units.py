"""Class-specific units: ranking, top images, receptive-field masks, CAM explained by top-k units."""
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import torch

from camlib.chapters.ch11_units import (
    cam_explained,
    partial_cams,
    rank_units,
    show_unit_rows,
    top_activating,
    top_image_hits,
    unit_masks,
    unit_precision,
)
from camlib.utils.errors import CamlibError


def test_rank_units_by_weight_stable_ties():
    weight = torch.tensor([[0.1, 0.5, -0.2, 0.5], [1.0, 0.0, 0.0, 0.0]])
    np.testing.assert_array_equal(rank_units(weight, 0), [1, 3, 0, 2])
    with pytest.raises(CamlibError):
        rank_units(weight, 2)


def test_top_activating_by_peak():
    features = torch.zeros(3, 2, 2, 2)
    features[0, 1, 0, 0] = 2.0
    features[1, 1] = 1.5  # higher mean, lower peak
    features[2, 1, 1, 1] = 3.0
    np.testing.assert_array_equal(top_activating(features, 1, 2), [2, 0])
    with pytest.raises(CamlibError):
        top_activating(features, 5, 1)


def test_unit_masks_threshold_over_the_data_set():
    maps = torch.zeros(2, 2, 2)
    maps[1, 0, 0] = 1.0
    masks = unit_masks(maps, (4, 4), quantile=0.9)
    assert masks.shape == (2, 4, 4) and not masks[0].any()
    assert masks[1, 0, 0] and not masks[1, 3, 3]
    with pytest.raises(CamlibError):
        unit_masks(maps, (4, 4), quantile=1.0)


def test_partial_cams_by_weight_and_by_magnitude():
    features = torch.tensor([1.0, 2.0, 3.0]).view(1, 3, 1, 1)
    weight = torch.tensor([[3.0, -1.0, 2.0]])
    # contributions w_k f_k = [3, -2, 6]; by weight: units 0, 2, 1 -> 3, 9, 7; by magnitude: 2, 0, 1 -> 6, 9, 7
    torch.testing.assert_close(partial_cams(features, weight, [0], [1, 2, 3]).flatten(), torch.tensor([3.0, 9.0, 7.0]))
    torch.testing.assert_close(partial_cams(features, weight, [0], [1, 2, 3], "magnitude").flatten(), torch.tensor([6.0, 9.0, 7.0]))
    with pytest.raises(CamlibError, match="order"):
        partial_cams(features, weight, [0], [1], "contribution")
    with pytest.raises(CamlibError):
        partial_cams(features, weight, [0], [4])


def test_cam_explained():
    features = torch.zeros(1, 2, 1, 2)
    features[0, 0] = torch.tensor([[1.0, 0.0]])
    features[0, 1] = torch.tensor([[0.0, 1.0]])
    weight = torch.tensor([[2.0, 1.0]])  # CAM = [2, 1]; top-1 partial = [2, 0]
    table = cam_explained(features, weight, [0], [1, 2])
    # corr([2, 0], [2, 1]) = 1 (two points); error = ||[0, 1]|| / ||[2, 1]|| = 1 / sqrt(5)
    np.testing.assert_allclose(table["correlation"], [1.0, 1.0], atol=1e-6)
    np.testing.assert_allclose(table["relative L2 error"], [1 / np.sqrt(5), 0.0], atol=1e-6)
    features = torch.zeros(1, 2, 1, 3)
    features[0, 0] = torch.tensor([[1.0, 0.0, 0.0]])
    features[0, 1] = torch.tensor([[0.0, 1.0, 1.0]])
    weight = torch.tensor([[2.0, -1.0]])  # CAM = [2, -1, -1]; top-1 = [2, 0, 0]
    table = cam_explained(features, weight, [0], [1])
    # error = ||[0, -1, -1]|| / ||[2, -1, -1]|| = sqrt(2 / 6); both maps are (2, -1, -1)-shaped up to scale: corr 1
    np.testing.assert_allclose(table["relative L2 error"], [np.sqrt(2 / 6)], atol=1e-6)
    np.testing.assert_allclose(table["correlation"], [1.0], atol=1e-6)


def test_show_unit_rows():
    images = np.zeros((3, 8, 8, 3), np.uint8)
    features = torch.rand(3, 4, 2, 2, generator=torch.Generator().manual_seed(0))
    fig = show_unit_rows(images, features, [0, 3], count=2)
    assert len(fig.axes) == 4
    plt.close(fig)


def test_unit_precision_per_group():
    features = torch.zeros(2, 2, 2, 2)
    features[0, 0, 0, 0] = 1.0  # unit 0 fires top-left on image 0
    features[1, 0, 1, 1] = 1.0  # ... and bottom-right on image 1
    features[:, 1] = torch.arange(4.0).view(2, 2)  # unit 1 fires bottom-right on both
    objects = np.zeros((2, 2, 2), bool)
    objects[0, 0, 0] = objects[1, 0, 0] = True  # the object is top-left in both images
    precision = unit_precision(features, objects, np.array([0, 1]), quantile=0.7)
    # unit 0: image 0 mask = its top-left pixel (on the object), image 1 = bottom-right (off); unit 1: always bottom-right
    np.testing.assert_allclose(precision, [[1.0, 0.0], [0.0, 0.0]])


def test_top_image_hits():
    features = torch.zeros(3, 3, 1, 1)
    features[0, 0] = 5.0  # image 0 is unit 0's top image
    features[1, 1] = 5.0  # image 1 is unit 1's top image
    weight = torch.tensor([[1.0, 0.5, 0.0], [0.0, 1.0, 0.9]])
    hits = top_image_hits(features, weight, {0: 0, 1: 1}, units=2, top=1)
    np.testing.assert_array_equal(hits, [[True, False], [True, False]])


def test_figures_build():
    from camlib.chapters.ch11_units import plot_explained, show_cam_decomposition

    fig = show_cam_decomposition(np.zeros((8, 8, 3), np.uint8), torch.rand(5, 2, 2), torch.rand(3, 5), 1, units=2)
    assert len(fig.axes) == 4  # image, CAM, two units
    table = cam_explained(torch.rand(2, 4, 2, 2), torch.rand(3, 4), [0, 2], [1, 2, 4])
    fig2 = plot_explained({"a": table})
    assert len(fig2.axes) == 2
    plt.close("all")


def test_class_table_and_units_needed():
    from camlib.chapters.ch11_units import class_table, units_needed

    # unit 0 fires on the object (top-left) of class-0 images, unit 1 on the background of class-1 images
    features = torch.zeros(4, 2, 2, 2)
    features[0, 0, 0, 0] = features[2, 0, 0, 0] = 1.0
    features[1, 1, 1, 1] = features[3, 1, 1, 1] = 1.0
    objects = np.zeros((4, 2, 2), bool)
    objects[:, 0, 0] = True
    weight = torch.tensor([[1.0, -1.0], [-1.0, 1.0]])
    table = class_table(features, weight, np.array([0, 1, 0, 1]), objects, ["a", "b"], units=1, top=2, quantile=0.5)
    np.testing.assert_allclose(table["top images of the class"], [100.0, 100.0])
    np.testing.assert_allclose(table["class frequency"], [50.0, 50.0])
    np.testing.assert_allclose(table["on object: top 1 units"], [100.0, 0.0])
    np.testing.assert_allclose(table["object share"], [25.0, 25.0])
    curve = pd.DataFrame({"correlation": [0.5, 0.95, 1.0]}, index=pd.Index([1, 2, 4], name="k"))
    assert units_needed(curve, 0.9) == 2 and units_needed(curve, 0.99) == 4 and units_needed(curve.iloc[:1], 0.9) is None


def test_magnitude_order_and_purity():
    from camlib.chapters.ch11_units import top_image_purity

    features = torch.tensor([1.0, 2.0, 3.0]).view(1, 3, 1, 1)
    weight = torch.tensor([[3.0, -4.0, 2.0]])  # contributions [3, -8, 6]: by magnitude units 1, 2, 0
    torch.testing.assert_close(partial_cams(features, weight, [0], [1, 2, 3], "magnitude").flatten(), torch.tensor([-8.0, -2.0, 1.0]))
    features = torch.zeros(4, 2, 1, 1)
    features[:, 0, 0, 0] = torch.tensor([4.0, 3.0, 2.0, 1.0])
    features[:, 1, 0, 0] = torch.tensor([1.0, 2.0, 3.0, 4.0])
    weight = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    purity = top_image_purity(features, weight, np.array([0, 1, 0, 1]), units=1, top=2)
    # class 0's unit 0 tops images 0, 1 (classes 0, 1); class 1's unit 1 tops images 3, 2 (classes 1, 0)
    np.testing.assert_allclose(purity, [[0.5], [0.5]])


# --- the big pool: peaks, the class under a peak, top vs all vs bottom units ---

from camlib.chapters.ch11_units import (  # noqa: E402
    BACKGROUND,
    UnitPool,
    UnitSource,
    box_label_map,
    cell_classes,
    class_hits,
    gap_head_pool,
    mask_label_map,
    paired_intervals,
    peak_classes,
    plot_hit_rates,
    top_images,
    unit_peaks,
)
from camlib.chapters.ch11_units.unit_pool import _head_maps  # noqa: E402


def test_cell_classes_read_each_cells_centre():
    label_map = np.full((8, 8), BACKGROUND)
    label_map[:4, 4:] = 7  # top-right quadrant
    np.testing.assert_array_equal(cell_classes(label_map, 2), [BACKGROUND, 7, BACKGROUND, BACKGROUND])
    np.testing.assert_array_equal(cell_classes(label_map, 1), [BACKGROUND])  # the centre pixel (4, 4) is background
    with pytest.raises(CamlibError):
        cell_classes(np.zeros(4), 2)


def test_label_maps_put_the_topmost_instance_and_the_smallest_box_on_top():
    masks = np.zeros((2, 4, 4), dtype=bool)
    masks[0, :2] = True
    masks[1, 1:3] = True
    np.testing.assert_array_equal(mask_label_map(masks, [3, 5])[:, 0], [3, 5, 5, BACKGROUND])
    boxes = np.array([[0, 0, 4, 4], [2, 0, 4, 2]], dtype=np.float32)  # big box, then a small one inside it
    out = box_label_map(boxes, [1, 2], (4, 4))
    np.testing.assert_array_equal(out, [[1, 1, 2, 2], [1, 1, 2, 2], [1, 1, 1, 1], [1, 1, 1, 1]])
    np.testing.assert_array_equal(box_label_map(boxes[::-1], [2, 1], (4, 4)), out)  # order of the boxes does not matter


def test_unit_peaks_and_top_images():
    features = torch.zeros(3, 2, 2, 2)
    features[0, 0, 1, 0] = 5.0  # unit 0 peaks on image 0 at cell 2
    features[2, 0, 0, 1] = 3.0
    features[1, 1, 1, 1] = 4.0  # unit 1 peaks on image 1 at cell 3
    peak, where = unit_peaks(features)
    np.testing.assert_allclose(peak.numpy(), [[5, 0], [0, 4], [3, 0]])
    assert where[0, 0] == 2 and where[1, 1] == 3 and where[2, 0] == 1
    np.testing.assert_array_equal(top_images(peak.numpy(), 2), [[0, 2], [1, 0]])  # unit 1: ties keep image 0 before 2
    with pytest.raises(CamlibError):
        top_images(peak.numpy(), 4)


def _pool(peak, where, cells):
    n = len(peak)
    return UnitPool(np.asarray(peak, dtype=np.float32), np.asarray(where), np.asarray(cells), np.zeros(n, int), np.arange(n), 2)


def test_peak_classes_and_class_hits_on_known_answers():
    # 3 images, 4 units, 2x2 maps; image 0 shows class 0 in cell 0, image 1 class 1 in cell 3, image 2 nothing
    cells = [[0, BACKGROUND, BACKGROUND, BACKGROUND], [BACKGROUND, BACKGROUND, BACKGROUND, 1], [BACKGROUND] * 4]
    peak = [[9, 1, 0, 5], [1, 9, 0, 4], [0, 0, 9, 3]]  # units 0, 1, 2 prefer images 0, 1, 2; unit 3 image 0
    where = [[0, 0, 0, 1], [0, 3, 0, 0], [0, 0, 0, 0]]  # unit 3 peaks off the object (cell 1) of image 0
    hits = peak_classes(_pool(peak, where, cells), 1)
    np.testing.assert_array_equal(hits[:, 0], [0, 1, BACKGROUND, BACKGROUND])
    weight = torch.tensor([[1.0, 0.0, 0.0, -1.0], [0.0, 1.0, 0.5, -1.0]])  # class 0: unit 0 first, unit 3 last
    table = class_hits(hits, weight, [0, 1], units=1)
    np.testing.assert_allclose(table.loc[0], [100.0, 25.0, 0.0])
    np.testing.assert_allclose(table.loc[1], [100.0, 25.0, 0.0])
    assert list(table.columns) == ["top units", "all units", "bottom units"]


def test_paired_intervals_give_verdicts_of_the_noise_rule():
    table = pd.DataFrame({"top units": [50.0, 60.0, 55.0, 65.0, 52.0], "all units": [10.0, 12.0, 9.0, 11.0, 10.0],
                          "bottom units": [49.0, 61.0, 56.0, 64.0, 53.0]})
    out = paired_intervals(table, [("top units", "all units"), ("top units", "bottom units")], resamples=200)
    assert out.loc["top units - all units", "verdict"] == "yes"
    assert out.loc["top units - all units", "mean"] == pytest.approx(46.0)
    assert out.loc["top units - bottom units", "verdict"].startswith("undecided")
    row = out.loc["top units - bottom units"]
    assert row["low"] <= row["mean"] <= row["high"]


def test_gap_head_pool_labels_cells_by_mask_and_class():
    features = torch.zeros(2, 1, 2, 2)
    features[0, 0, 0, 0], features[1, 0, 1, 1] = 1.0, 2.0
    masks = np.zeros((2, 4, 4), dtype=bool)
    masks[0, :2, :2] = True
    source = UnitSource(np.zeros((2, 4, 4, 3), np.uint8), features, torch.ones(2, 1), torch.zeros(2), np.array([0, 1]), masks, ("a", "b"))
    pool = gap_head_pool(source)
    np.testing.assert_array_equal(pool.cells, [[0, BACKGROUND, BACKGROUND, BACKGROUND], [BACKGROUND] * 4])
    np.testing.assert_array_equal(peak_classes(pool, 2)[0], [BACKGROUND, 0])  # image 1 first (peak 2), off its object


def test_plot_hit_rates_draws_one_panel_per_network():
    table = pd.DataFrame({"top units": [50.0, 60.0], "all units": [10.0, 12.0], "bottom units": [5.0, 6.0]})
    fig = plot_hit_rates({"a": table, "b": table}, resamples=20)
    assert len(fig.axes) == 2
    plt.close(fig)


def test_head_maps_continue_the_trunk_to_the_cam_layer():
    from camlib.cam import CAM
    from camlib.models.pretrained import load_pretrained
    from camlib.models.trunks import lite_trunk

    model = load_pretrained("efficientnet-lite0").model.eval()
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad(), CAM(model) as cam:
        own = cam.features(x)
        continued = _head_maps(model, lite_trunk(model, 32, start_stride=16)[0](lite_trunk(model, 16)[0](x)))
    torch.testing.assert_close(continued, own, rtol=1e-4, atol=1e-4)


def test_interval_claim_reads_the_pairs_row():
    from camlib.chapters.ch11_units import interval_claim

    table = pd.DataFrame({"top units": [40.0, 20.0], "all units": [10.0, 10.0]})
    intervals = pd.DataFrame({"mean": [20.0], "low": [10.0], "high": [30.0], "verdict": ["yes"]},
                             index=["top units - all units"])
    row = interval_claim("c", table, intervals, "top units", "all units")
    assert row["holds?"] == "yes"
    # detectable: 2.8 standard errors of 10 / 1.96 each
    assert row["measured"] == ("top units 30.0% vs all units 10.0%: +20.0 points, 95% CI [+10.0, +30.0] over 2 classes; "
                               "detectable 14.3")
