"""The generated localization benchmark: exact ground truth, determinism, caching, Dataset view."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from camlib.data import synthetic
from camlib.data.fashion_mnist import FASHION_MNIST_CLASSES
from camlib.data.localization_split import LocalizationDataset, LocalizationSplit
from camlib.data.synthetic import BenchmarkSpec, boxes_from_masks, load_benchmark, make_benchmark
from camlib.errors import CamlibError

SMALL = BenchmarkSpec(n_train=60, n_val=10, n_test=30, seed=7)


@pytest.fixture(scope="module")
def bench() -> dict[str, LocalizationSplit]:
    return make_benchmark(SMALL, progress=False)


def test_splits_have_documented_shapes_and_dtypes(bench):
    assert list(bench) == ["train", "val", "test"]
    for split, n in (("train", 60), ("val", 10), ("test", 30)):
        s = bench[split]
        assert s.images.shape == (n, 64, 64, 3) and s.images.dtype == np.uint8
        assert s.labels.shape == (n,) and s.labels.dtype == np.int64
        assert s.boxes.shape == (n, 4) and s.boxes.dtype == np.float32
        assert s.masks.shape == (n, 64, 64) and s.masks.dtype == bool
        assert s.class_names == FASHION_MNIST_CLASSES
        assert 0 <= s.labels.min() and s.labels.max() < 10


def test_boxes_are_tight_around_masks_and_sized_as_specified(bench):
    for s in bench.values():
        np.testing.assert_array_equal(s.boxes, boxes_from_masks(s.masks))
        longer = np.maximum(s.boxes[:, 2] - s.boxes[:, 0], s.boxes[:, 3] - s.boxes[:, 1])
        assert longer.min() >= SMALL.object_size[0] - 2 and longer.max() <= SMALL.object_size[1]
        assert (s.boxes[:, :2] >= 0).all() and (s.boxes[:, 2:] <= 64).all()


def test_object_differs_from_a_benchmark_without_it(bench):
    """Pixels of the mask are where the object was pasted: the same seed without distractors
    gives the same object, so the two images agree inside the mask and differ elsewhere."""
    plain = make_benchmark(replace(SMALL, n_distractors=0), progress=False)["val"]
    cluttered = bench["val"]
    np.testing.assert_array_equal(plain.masks, cluttered.masks)
    inside = cluttered.masks
    same = (plain.images == cluttered.images).all(axis=-1)
    assert same[inside].mean() > 0.9  # only semi-transparent edge pixels show the clutter below
    assert same[~inside].mean() < 0.99


def test_same_seed_is_bit_identical_and_other_seed_differs(bench):
    again = make_benchmark(SMALL, progress=False)
    for split in bench:
        for field in ("images", "labels", "boxes", "masks"):
            assert np.array_equal(getattr(bench[split], field), getattr(again[split], field))
    other = make_benchmark(replace(SMALL, seed=8, n_train=1, n_val=1), progress=False)
    assert not np.array_equal(other["test"].images, bench["test"].images)


def test_class_subset_and_larger_canvas():
    spec = replace(synthetic.FINE_GRAINED_SPEC, n_train=40, n_val=0, n_test=0, classes=("coat", "Shirt"))
    split = make_benchmark(spec, progress=False)["train"]
    assert split.class_names == ("Coat", "Shirt")
    assert split.images.shape == (40, 128, 128, 3)
    assert set(split.labels.tolist()) == {0, 1}
    longer = np.maximum(split.boxes[:, 2] - split.boxes[:, 0], split.boxes[:, 3] - split.boxes[:, 1])
    assert longer.min() >= 22 and longer.max() <= 48


def test_spec_validation_and_key():
    with pytest.raises(CamlibError, match="classes"):
        BenchmarkSpec(classes=("Hat",))
    with pytest.raises(CamlibError, match="object_size"):
        BenchmarkSpec(canvas_size=32, object_size=(20, 44))
    with pytest.raises(CamlibError, match=">= 0"):
        BenchmarkSpec(n_train=-1)
    assert BenchmarkSpec().key() == BenchmarkSpec().key()
    assert BenchmarkSpec(seed=1).key() != BenchmarkSpec().key()


def test_boxes_from_masks_known_answer():
    mask = np.zeros((1, 8, 10), dtype=bool)
    mask[0, 1:4, 2:6] = True  # rows 1..3, columns 2..5
    np.testing.assert_array_equal(boxes_from_masks(mask), [[2, 1, 6, 4]])
    with pytest.raises(CamlibError, match="empty mask"):
        boxes_from_masks(np.zeros((1, 4, 4), dtype=bool))


def test_load_benchmark_caches_and_rebuilds_corrupt_cache(monkeypatch, tmp_path, bench):
    monkeypatch.setattr(synthetic, "cache_dir", lambda: tmp_path)
    spec = replace(SMALL, n_train=5, n_val=5, n_test=5)
    first = load_benchmark(spec, progress=False)
    path = tmp_path / f"fashion-loc-{spec.key()}.pt"
    assert path.is_file()
    monkeypatch.setattr(synthetic, "make_benchmark", lambda *a, **k: pytest.fail("cache not used"))
    cached = load_benchmark(spec, progress=False)
    assert np.array_equal(cached["test"].images, first["test"].images)
    assert cached["test"].class_names == FASHION_MNIST_CLASSES
    monkeypatch.setattr(synthetic, "make_benchmark", make_benchmark)
    path.write_bytes(path.read_bytes()[:-100])
    rebuilt = load_benchmark(spec, progress=False)
    assert np.array_equal(rebuilt["val"].masks, first["val"].masks)


def test_dataset_returns_float_image_label_and_box(bench):
    dataset = LocalizationDataset(bench["test"])
    image, label, box = dataset[3]
    assert len(dataset) == 30
    assert image.shape == (3, 64, 64) and image.dtype == torch.float32
    assert 0.0 <= image.min() and image.max() <= 1.0
    assert torch.equal(image, torch.from_numpy(bench["test"].images[3]).permute(2, 0, 1).float() / 255)
    assert label == int(bench["test"].labels[3]) and torch.equal(box, torch.from_numpy(bench["test"].boxes[3]))
    shifted = LocalizationDataset(bench["test"], transform=lambda x: x - 0.5)[3][0]
    assert torch.allclose(shifted, image - 0.5)
