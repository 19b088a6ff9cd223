"""A weakly supervised localization benchmark generated from a seed, with exact ground truth.

Each image is a crop of a real photograph (cluttered background), a few distractor fragments
(random pieces of Fashion-MNIST items of *other* classes, smaller than the object), and on top one
whole Fashion-MNIST item of the labelled class at a random scale and position. Item pixels are
blended in with an alpha taken from their own intensity, so the photo shows around and between
them, and tinted with a random colour so that brightness does not give the object away.
The labelled item's mask (alpha >= 0.5) and the box around it are exact.

Objects for ``train`` and ``val`` come from disjoint parts of Fashion-MNIST's training set
(every sixth item goes to ``val``), objects for ``test`` from its test set.
"""
from __future__ import annotations

import functools
from dataclasses import asdict, dataclass

import cv2
import numpy as np
from skimage.color import hsv2rgb

from ..cache import cached, stable_key
from ..errors import CamlibError
from ..progress import progress as tqdm
from .backgrounds import background_photos
from .fashion_mnist import FASHION_MNIST_CLASSES, load_fashion_mnist
from .items import resize_longer_side, tight_box, tinted
from .localization_split import LocalizationSplit
from .paste import blend
from .paths import cache_dir

#: Bump when the generator changes, so old caches are not reused.
GENERATOR_VERSION = 3
SPLITS = ("train", "val", "test")
#: Fraction of an item's height and width that a distractor fragment keeps.
FRAGMENT_FRACTION = (0.5, 0.9)
#: Photos are first shrunk so that their shorter side is at most this many canvas sides (speed).
MAX_ZOOM_OUT = 4
_VAL_EVERY = 6


@dataclass(frozen=True)
class BenchmarkSpec:
    """Everything that determines a generated benchmark (its cache file is named by a hash of it).

    ``object_size`` and ``distractor_size`` are inclusive ranges of an item's longer side in
    pixels; ``classes`` are Fashion-MNIST class names, in the order of the benchmark's labels.
    """

    canvas_size: int = 64
    object_size: tuple[int, int] = (20, 44)
    n_distractors: int = 3
    distractor_size: tuple[int, int] = (8, 18)
    classes: tuple[str, ...] = FASHION_MNIST_CLASSES
    n_train: int = 8000
    n_val: int = 1000
    n_test: int = 1000
    seed: int = 0

    def __post_init__(self) -> None:
        canonical = {name.lower(): name for name in FASHION_MNIST_CLASSES}
        unknown = [c for c in self.classes if c.lower() not in canonical]
        if unknown or not self.classes or len(set(self.classes)) != len(self.classes):
            raise CamlibError(f"classes must be distinct names from {list(FASHION_MNIST_CLASSES)}, "
                              f"got {list(self.classes)}")
        object.__setattr__(self, "classes", tuple(canonical[c.lower()] for c in self.classes))
        object.__setattr__(self, "object_size", tuple(self.object_size))
        object.__setattr__(self, "distractor_size", tuple(self.distractor_size))
        for name in ("object_size", "distractor_size"):
            lo, hi = getattr(self, name)
            if not 1 <= lo <= hi <= self.canvas_size:
                raise CamlibError(f"{name} must satisfy 1 <= min <= max <= canvas_size={self.canvas_size}, "
                                  f"got {(lo, hi)}")
        if min(self.n_distractors, self.n_train, self.n_val, self.n_test) < 0:
            raise CamlibError("n_distractors, n_train, n_val and n_test must be >= 0")

    def count(self, split: str) -> int:
        """Number of images in ``split`` ("train", "val" or "test")."""
        return {"train": self.n_train, "val": self.n_val, "test": self.n_test}[split]

    def key(self) -> str:
        """A short hash of the spec and :data:`GENERATOR_VERSION`."""
        return stable_key({"version": GENERATOR_VERSION, **asdict(self)})


#: The fine-grained variant: small objects of four similar upper-body classes on larger canvases.
FINE_GRAINED_SPEC = BenchmarkSpec(canvas_size=128, object_size=(24, 48), n_distractors=6,
                                  distractor_size=(10, 24), classes=("T-shirt/top", "Pullover", "Coat", "Shirt"))


def _tight_boxes(items: np.ndarray) -> np.ndarray:
    """Row/column ranges ``(y0, y1, x0, x1)`` int (M, 4) of each item (M, 28, 28) (:func:`camlib.data.items.tight_box`)."""
    return np.array([tight_box(item) for item in items], dtype=np.int64).reshape(-1, 4)


def _tints(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Random saturated, fairly bright RGB colours in [0, 1], float32 (*shape, 3)."""
    hsv = np.stack([rng.random(shape), rng.uniform(0.25, 1.0, shape), rng.uniform(0.55, 1.0, shape)], axis=-1)
    return hsv2rgb(hsv.reshape(-1, 1, 3)).reshape(*shape, 3).astype(np.float32)


def _shrink(photo: np.ndarray, side: int) -> np.ndarray:
    """``photo`` (H, W, 3) resized so that its shorter side is at most ``side``."""
    scale = side / min(photo.shape[:2])
    if scale >= 1:
        return photo
    size = (round(photo.shape[1] * scale), round(photo.shape[0] * scale))
    return cv2.resize(photo, size, interpolation=cv2.INTER_AREA)


def _background(photo: np.ndarray, u: np.ndarray, flip: bool, size: int) -> np.ndarray:
    """A square crop of ``photo`` (side between ``size`` and its shorter side), uint8 (size, size, 3)."""
    h, w = photo.shape[:2]
    side = min(h, w) if min(h, w) <= size else int(size + u[0] * (min(h, w) - size))
    y, x = int(u[1] * (h - side + 1)), int(u[2] * (w - side + 1))
    crop = photo[y:y + side, x:x + side]
    out = cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA if side > size else cv2.INTER_LINEAR)
    return np.ascontiguousarray(out[:, ::-1] if flip else out)


def _paste(canvas: np.ndarray, item: np.ndarray, tint: np.ndarray, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The grey ``item`` (h, w) tinted with ``tint`` (RGB in [0, 1]) pasted on ``canvas`` (S, S, 3) at a position
    drawn from ``u`` (2,): returns the new canvas and the object's mask (S, S)."""
    h, w = item.shape
    top = int(u[0] * (canvas.shape[0] - h + 1))
    left = int(u[1] * (canvas.shape[1] - w + 1))
    return blend(canvas, tinted(item, 255.0 * tint), left, top)


@dataclass(frozen=True)
class _ItemPool:
    """Fashion-MNIST items uint8 (M, 28, 28), labels (M,) and tight boxes (M, 4) that a split draws from."""

    items: np.ndarray
    labels: np.ndarray
    tight: np.ndarray


@functools.lru_cache(maxsize=1)
def _inputs() -> tuple[dict[str, _ItemPool], list[np.ndarray]]:
    """The item pool of each split and the background photos, built once per process (read-only)."""
    train_items, train_labels = load_fashion_mnist("train")
    in_val = np.arange(len(train_labels)) % _VAL_EVERY == 0
    parts = {"train": (train_items[~in_val], train_labels[~in_val]),
             "val": (train_items[in_val], train_labels[in_val]),
             "test": load_fashion_mnist("test")}
    pools = {split: _ItemPool(items, labels, _tight_boxes(items)) for split, (items, labels) in parts.items()}
    photos = background_photos()
    for array in [a for pool in pools.values() for a in (pool.items, pool.labels, pool.tight)] + photos:
        array.flags.writeable = False
    return pools, photos


def _make_split(spec: BenchmarkSpec, split: str, pool: _ItemPool, photos: list[np.ndarray],
                progress: bool) -> LocalizationSplit:
    """Generate one split from its item pool and the background photos (uint8 (H, W, 3) each)."""
    items, item_labels, tight = pool.items, pool.labels, pool.tight
    photos = [_shrink(photo, MAX_ZOOM_OUT * spec.canvas_size) for photo in photos]
    rng = np.random.default_rng(np.random.SeedSequence(spec.seed).spawn(len(SPLITS))[SPLITS.index(split)])
    n, k, size = spec.count(split), spec.n_distractors, spec.canvas_size
    class_ids = np.array([FASHION_MNIST_CLASSES.index(c) for c in spec.classes])
    to_label = np.full(len(FASHION_MNIST_CLASSES), -1)
    to_label[class_ids] = np.arange(len(class_ids))
    candidates = np.flatnonzero(np.isin(item_labels, class_ids))
    chosen = rng.choice(candidates, size=n, replace=n > len(candidates))
    sides = rng.integers(spec.object_size[0], spec.object_size[1] + 1, n)
    flips, positions, tints = rng.random((n, 2)) < 0.5, rng.random((n, 2)), _tints(rng, (n,))
    photo_ids, photo_u = rng.integers(0, len(photos), n), rng.random((n, 3))
    # Distractors: items of any class other than the object's, cut to a fragment, shrunk.
    n_classes = len(FASHION_MNIST_CLASSES)
    d_class = (item_labels[chosen][:, None] + rng.integers(1, n_classes, (n, k))) % n_classes
    d_pick = rng.random((n, k))
    d_items = np.zeros((n, k), dtype=np.int64)
    for c in range(n_classes):
        members = np.flatnonzero(item_labels == c)
        hit = d_class == c
        d_items[hit] = members[(d_pick[hit] * len(members)).astype(np.int64)]
    d_frac = rng.uniform(*FRAGMENT_FRACTION, (n, k, 2))
    d_offset = rng.random((n, k, 2))
    d_sides = rng.integers(spec.distractor_size[0], spec.distractor_size[1] + 1, (n, k))
    d_positions, d_tints = rng.random((n, k, 2)), _tints(rng, (n, k))

    images = np.empty((n, size, size, 3), dtype=np.uint8)
    masks = np.zeros((n, size, size), dtype=bool)
    for i in tqdm(range(n), desc=f"camlib {split}", disable=not progress, leave=False):
        canvas = _background(photos[photo_ids[i]], photo_u[i], flips[i, 1], size)
        for j in range(k):
            y0, y1, x0, x1 = tight[d_items[i, j]]
            fh, fw = np.maximum(1, (d_frac[i, j] * (y1 - y0, x1 - x0)).astype(int))
            fy, fx = (d_offset[i, j] * (y1 - y0 - fh + 1, x1 - x0 - fw + 1)).astype(int)
            fragment = items[d_items[i, j], y0 + fy:y0 + fy + fh, x0 + fx:x0 + fx + fw]
            canvas, _ = _paste(canvas, resize_longer_side(fragment, int(d_sides[i, j])), d_tints[i, j], d_positions[i, j])
        y0, y1, x0, x1 = tight[chosen[i]]
        item = items[chosen[i], y0:y1, x0:x1]
        item = resize_longer_side(item[:, ::-1] if flips[i, 0] else item, int(sides[i]))
        images[i], masks[i] = _paste(canvas, item, tints[i], positions[i])
    return LocalizationSplit(images=images, labels=to_label[item_labels[chosen]].astype(np.int64),
                             boxes=boxes_from_masks(masks), masks=masks, class_names=spec.classes)


def boxes_from_masks(masks: np.ndarray) -> np.ndarray:
    """Tight boxes float32 (N, 4) ``[x0, y0, x1, y1]`` (x1/y1 exclusive) of non-empty bool masks (N, H, W)."""
    rows, cols = masks.any(axis=2), masks.any(axis=1)
    if not rows.any(axis=1).all():
        raise CamlibError("boxes_from_masks got an empty mask; every mask needs at least one pixel")
    h, w = masks.shape[1:]
    return np.stack([cols.argmax(1), rows.argmax(1), w - cols[:, ::-1].argmax(1), h - rows[:, ::-1].argmax(1)],
                    axis=1).astype(np.float32)


def make_benchmark(spec: BenchmarkSpec, progress: bool = True) -> dict[str, LocalizationSplit]:
    """Generate ``{"train", "val", "test"}`` splits for ``spec`` (no cache; see :func:`load_benchmark`)."""
    pools, photos = _inputs()
    return {split: _make_split(spec, split, pools[split], photos, progress) for split in SPLITS}


def _to_arrays(splits: dict[str, LocalizationSplit]) -> dict:
    return {name: {"images": s.images, "labels": s.labels, "boxes": s.boxes, "masks": s.masks,
                   "class_names": list(s.class_names)} for name, s in splits.items()}


def load_benchmark(spec: BenchmarkSpec = BenchmarkSpec(), progress: bool = True) -> dict[str, LocalizationSplit]:
    """The benchmark for ``spec``, from ``<data root>/cache/fashion-loc-<hash>.pt`` or generated and cached.

    A missing or corrupt cache file is regenerated (the same seed gives bit-identical arrays).
    """
    path = cache_dir() / f"fashion-loc-{spec.key()}.pt"
    stored = cached(path, lambda: _to_arrays(make_benchmark(spec, progress=progress)))
    return {name: LocalizationSplit(**{**fields, "class_names": tuple(fields["class_names"])})
            for name, fields in stored.items()}

