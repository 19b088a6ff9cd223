"""The fast CAM + boxes engine equals the straightforward computation, frees its hooks and does not grow."""
from __future__ import annotations

import gc
import tracemalloc
import warnings

import numpy as np
import pytest
import torch
from torch import nn

import camlib.cam.box_rules
from camlib import CAM, CamlibError, boxes_from_cams
from camlib.cam.box_rules import boxes_from_cams_opencv
from camlib.cam import cam_boxes, normalize_maps, upsample
from camlib.models.preprocess import preprocess


def random_masks(rng: np.random.Generator, count: int) -> list[np.ndarray]:
    """Binary maps of many shapes and densities: lots of components, many of equal area."""
    maps = []
    for i in range(count):
        h, w = (int(v) for v in rng.integers(1, 40, size=2))
        density = (0.05, 0.3, 0.6, 0.9)[i % 4]
        maps.append((rng.random((6, h, w)) < density).astype(np.float32))
    return maps


def test_boxes_equal_opencv_on_random_masks():
    rng = np.random.default_rng(0)
    for maps in random_masks(rng, 200):
        for threshold in (0.2, 0.5):
            np.testing.assert_array_equal(boxes_from_cams(maps, threshold), boxes_from_cams_opencv(maps, threshold))


def test_boxes_equal_opencv_on_large_masks():
    # large enough for OpenCV's multi-threaded labelling, with thousands of equal-area components
    maps = (np.random.default_rng(2).random((3, 257, 301)) < 0.3).astype(np.float32)
    np.testing.assert_array_equal(boxes_from_cams(maps, 0.5), boxes_from_cams_opencv(maps, 0.5))


def test_boxes_equal_opencv_on_random_real_valued_maps():
    rng = np.random.default_rng(1)
    for _ in range(60):
        h, w = (int(v) for v in rng.integers(2, 70, size=2))
        noise = rng.standard_normal((8, h, w)).astype(np.float32)
        smooth = upsample(torch.randn(8, 1, 5, 5), (h, w))[:, 0]
        threshold = float(rng.uniform(0.05, 0.95))
        for maps in (noise, smooth):
            np.testing.assert_array_equal(boxes_from_cams(maps, threshold), boxes_from_cams_opencv(maps, threshold))


def test_equal_areas_resolve_like_opencv_labels():
    # Two single pixels: (row 1, col 4) lies in 2x2 block (0, 2), (row 0, col 7) in block (0, 3):
    # OpenCV labels block by block, so the first is the winner although it comes later in raster order.
    cam = np.zeros((4, 10), dtype=np.float32)
    cam[1, 4] = cam[0, 7] = 1.0
    assert boxes_from_cams(cam).tolist() == boxes_from_cams_opencv(cam).tolist() == [4, 1, 5, 2]


def test_masks_never_connect_across_maps():
    maps = np.zeros((2, 4, 5), dtype=np.float32)
    maps[0, 3, :] = 1.0  # last row of map 0
    maps[1, 0, :] = 1.0  # first row of map 1: adjacent in the stacked rows, not in the image
    maps[0, 0, 0] = 1.0
    np.testing.assert_array_equal(boxes_from_cams(maps), [[0, 3, 5, 4], [0, 0, 5, 1]])


def test_chunking_changes_nothing(monkeypatch):
    maps = torch.randn(3, 5, 7, 7)
    up = upsample(maps, (64, 96))
    expected = boxes_from_cams_opencv(up)
    # upsampling a chunk of maps gives bit-identical maps
    assert torch.equal(torch.cat([upsample(c, (64, 96)) for c in maps.split(2)]), up)
    monkeypatch.setitem(camlib.cam.box_rules.CHUNK_PIXELS, "cpu", 64 * 96 * 2)
    np.testing.assert_array_equal(cam_boxes(maps, (64, 96)), expected)
    np.testing.assert_array_equal(boxes_from_cams(up), expected)


@pytest.mark.parametrize("low, size", [((7, 7), (224, 224)), ((5, 6), (37, 61)), ((14, 14), (224, 224)), ((1, 3), (4, 9))])
def test_cam_boxes_equal_straightforward_path(low, size):
    torch.manual_seed(0)
    maps = torch.randn(4, 5, *low)
    maps[0, 0] = 0.0  # no evidence: whole image
    maps[0, 1] = -1.0
    expected = boxes_from_cams_opencv(upsample(maps, size), 0.2)
    np.testing.assert_array_equal(cam_boxes(maps, size, 0.2), expected)


def test_non_finite_maps_are_refused():
    for bad in (np.nan, np.inf, -np.inf):
        cam = np.ones((2, 6, 6), dtype=np.float32)
        cam[1, 2, 3] = bad
        with pytest.raises(CamlibError, match="NaN or infinite"):
            boxes_from_cams(cam)
    with pytest.raises(CamlibError, match="NaN or infinite"):
        cam_boxes(torch.full((1, 1, 7, 7), float("nan")), (32, 32))


def test_lite0_maps_and_boxes_equal_straightforward(lite0, photo):
    tensor, _ = preprocess(photo, lite0.mean, lite0.std)
    batch = torch.stack([tensor, tensor.flip(-1), tensor.flip(-2)])
    with CAM(lite0.model) as cam:
        result = cam(batch, topk=5)
        features = cam.features(batch)
    weight = lite0.model._fc.weight
    by_hand = torch.einsum("bck,bkhw->bchw", weight[result.classes], features)
    torch.testing.assert_close(result.maps, by_hand, rtol=1e-5, atol=1e-5)
    up = result.upsampled()
    expected = boxes_from_cams_opencv(up)
    np.testing.assert_array_equal(result.boxes(), expected)
    np.testing.assert_array_equal(boxes_from_cams(up), expected)


class TinyGap(nn.Module):
    def __init__(self, fail: bool = False):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.features = nn.Identity()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, 5)
        self.fail = fail

    def forward(self, x):
        x = self.features(torch.relu(self.conv(x)))
        if self.fail:
            raise RuntimeError("boom")
        return self.fc(self.pool(x).flatten(1))


def hook_count(model: nn.Module) -> int:
    from torch.nn.modules import module

    local = sum(len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks) for m in model.modules())
    return local + len(module._global_forward_hooks) + len(module._global_forward_pre_hooks)  # CAM's hook is global


def test_hooks_removed_after_exceptions():
    torch.manual_seed(0)
    failing = TinyGap(fail=True).eval()
    with pytest.raises(CamlibError, match="boom"):
        with CAM(failing) as cam:
            cam(torch.randn(2, 3, 8, 8))  # fails in the first (traced) forward pass
    assert hook_count(failing) == 0
    model = TinyGap().eval()
    with pytest.raises(ValueError, match="user error"):
        with CAM(model) as cam:
            cam(torch.randn(2, 3, 8, 8), topk=2)
            assert hook_count(model) == 1  # only the feature hook between calls
            raise ValueError("user error")
    assert hook_count(model) == 0
    with CAM(model) as cam:
        with pytest.raises(CamlibError):
            cam(torch.randn(2, 3, 8, 8), classes=[7])  # out of range
        assert hook_count(model) == 1
    assert hook_count(model) == 0


def live_tensors() -> int:
    with warnings.catch_warnings():  # isinstance on some torch module attributes warns
        warnings.simplefilter("ignore", FutureWarning)
        return sum(1 for obj in gc.get_objects() if isinstance(obj, torch.Tensor))


@pytest.fixture
def one_thread():
    """Tiny models run faster on one thread (and immune to a busy machine's thread stalls)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_repeated_calls_leave_no_hooks_and_no_growth(one_thread):
    torch.manual_seed(0)
    model = TinyGap().eval()
    x = torch.randn(4, 3, 16, 16)

    def call() -> None:
        with CAM(model) as cam:
            result = cam(x, topk=3)
            result.boxes()
            result.upsampled()

    for _ in range(20):  # warm-up: caches and allocator pools reach their steady state
        call()
    gc.collect()
    tensors = live_tensors()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for _ in range(200):
        call()
    gc.collect()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    assert hook_count(model) == 0
    assert live_tensors() == tensors
    assert grown < 64 * 1024, f"Python allocations grew by {grown} bytes over 200 calls"


def test_peers_compute_the_same_maps():
    torchcam = pytest.importorskip("torchcam.methods")
    grad_cam = pytest.importorskip("pytorch_grad_cam")
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    torch.manual_seed(0)
    model = TinyGap().eval()
    x = torch.randn(3, 3, 12, 12)
    with CAM(model) as cam:
        result = cam(x, topk=2)
    ours = result.maps

    def corr(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        a, b = a.flatten(-2).double(), torch.as_tensor(b).flatten(-2).double()
        a, b = a - a.mean(-1, keepdim=True), b - b.mean(-1, keepdim=True)
        return (a * b).sum(-1) / (a.norm(dim=-1) * b.norm(dim=-1))

    with torchcam.CAM(model, target_layer="features", fc_layer="fc") as extractor:
        with torch.no_grad():
            model(x)
        theirs = torch.stack([extractor(class_idx=result.classes[:, r].tolist())[0] for r in range(2)], dim=1)
    assert corr(normalize_maps(ours), theirs).min() > 0.999

    gradcam = grad_cam.GradCAM(model=model, target_layers=[model.features])
    theirs = np.stack([gradcam(input_tensor=x, targets=[ClassifierOutputTarget(int(c)) for c in result.classes[:, r]])
                       for r in range(2)], axis=1)
    gradcam.activations_and_grads.release()
    # GradCAM on a GAP head is ReLU(CAM) up to a positive scale, normalised, then upsampled
    like_gradcam = normalize_maps(upsample(normalize_maps(torch.relu(ours)), (12, 12)))
    assert corr(like_gradcam, theirs).min() > 0.999
