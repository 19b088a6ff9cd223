"""A composite localization benchmark of ImageNet classes with exact boxes and masks.

Photographic Tux Paint stamps of ImageNet classes (:mod:`camlib.data.generators.stamps`) are pasted
(:func:`camlib.data.generators.paste.paste`) onto crops of real photos that hold no object of their own
(:data:`BACKGROUND_CROPS`: sky, sea, water, grass, foliage, cobblestones, brick and gravel), with the
object sizes of ILSVRC 2012 validation (``box_statistics.md``, measured from its 50,000 images'
boxes): the largest box's share of the image follows :data:`ILSVRC_LARGEST_BOX_HISTOGRAM`, and
about a quarter of the images hold two or more instances of their class, as ILSVRC's 23.4%.

Each image shows one class. Its largest instance gets an area share drawn from the histogram
(uniform inside the bin) and a centre near the image centre; a share larger than the stamp fits
at its aspect ratio is reached by letting the object run past the border (ILSVRC's largest objects
are truncated too), keeping at least 60% of its width or height in view. Extra instances (other
stamps of the class, or the same one) are smaller and never overlap another instance's box, so
every mask is the instance's whole visible alpha > 0.5 and every box its tight extent. Flips are
random. Split by stamp: the stamps of a class with two or more alternate between ``test`` and
``dev``; a class with a single stamp is in ``test`` only.

The benchmark is stored as its recipe (background window, stamp, scale, position, flip of every
instance) and boxes in a checksummed cache under ``<data root>/cache/``; images and masks are
rendered from the recipe on access (a few milliseconds each), so thousands of images cost a few
hundred kilobytes on disk.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np
import torch
from skimage import data as skdata

from camlib.utils.cache import cache_key, cached_tensors
from camlib.metrics.boxes import box_area
from camlib.utils.errors import CamlibError
from camlib.utils.progress import progress as progress_bar
from camlib.utils.shipped import shipped_text, tsv_rows
from camlib.data.assets.darknet import darknet_photo_paths
from camlib.data.assets.opencv_doc import opencv_doc_paths
from camlib.data.generators.paste import paste, scale_rgba
from camlib.metrics.boxes import mask_box
from camlib.data.assets.paths import cache_dir
from camlib.data.generators.stamps import MAPPING_FILE, Stamp, load_stamps, stamp_mapping

#: Share of ILSVRC 2012 validation images whose largest box covers 0-10%, 10-20%, ... 90-100% of the image.
ILSVRC_LARGEST_BOX_HISTOGRAM = (0.135, 0.124, 0.116, 0.113, 0.109, 0.097, 0.087, 0.074, 0.062, 0.083)
#: Share of CUB-200-2011 test images whose (single) box covers 0-10%, 10-20%, ... 90-100% of the image
#: (``box_statistics.md``: mean 0.342, median 0.313).
CUB_BOX_HISTOGRAM = (0.033, 0.207, 0.230, 0.204, 0.144, 0.091, 0.050, 0.028, 0.010, 0.003)
#: Share of ILSVRC 2012 validation images with a single box, and mean boxes per image.
ILSVRC_SINGLE_BOX_SHARE, ILSVRC_BOXES_PER_IMAGE = 0.766, 1.61

#: Smallest largest-box share drawn (the first bin is drawn from [MIN_SHARE, 0.1)).
MIN_SHARE = 0.01
#: Least part of an object's width or height kept in view when it runs past the border.
MIN_VISIBLE = 0.6


class BackgroundCrop(NamedTuple):
    """A region ``(x0, y0, x1, y1)`` of a real photo that holds no object, and what it shows."""

    source: str
    box: tuple[int, int, int, int]
    shows: str


#: The background crops, chosen by looking at each photo with a pixel grid (``camlib/resources/background_crops.tsv``).
BACKGROUND_CROPS = tuple(BackgroundCrop(f[0], (int(f[1]), int(f[2]), int(f[3]), int(f[4])), f[5])
                         for f in tsv_rows(shipped_text("background_crops.tsv"), ["source", "x0", "y0", "x1", "y1", "shows"],
                                           "background_crops.tsv"))


@dataclass(frozen=True)
class CompositeSpec:
    """What to generate: square images of ``size`` px from the stamps of ``stamps`` (a mapping of
    :mod:`camlib.data.generators.stamps`), ``splits`` as ``(name, image count)`` pairs, ``seed``.

    Split by stamp: a class's stamps (in mapping order) go to the splits named by ``stamp_cycle``,
    repeated (``("test", "dev")``: alternately; ``("train", "test", "train")``: a third to test).
    ``multi_share`` of the images hold 2+ instances; their count is 2 + Poisson(``extra_mean``), as
    many as fit (ILSVRC: 1.61 boxes per image, so about 3.4 in its multi-box images).

    ``share_histogram``: the share of images whose largest box covers 0-10%, ..., 90-100% of the
    image. ``groups``: only the stamps of these classes of ``stamps`` (all when empty). ``classes``:
    ``"mapping"`` labels an image with its stamp's class; ``"stamp"`` makes each stamp its own class
    (label = the stamp's rank among the chosen stamps) and puts every stamp in every split (the
    splits then differ in sizes, places, flips and backgrounds, not in the photo; ``stamp_cycle`` is unused).
    """

    size: int = 256
    splits: tuple[tuple[str, int], ...] = (("test", 3000), ("dev", 500))
    stamps: str = MAPPING_FILE
    stamp_cycle: tuple[str, ...] = ("test", "dev")
    multi_share: float = 0.25
    extra_mean: float = 1.4
    centre_sd: float = 0.15
    seed: int = 0
    share_histogram: tuple[float, ...] = ILSVRC_LARGEST_BOX_HISTOGRAM
    classes: str = "mapping"
    groups: tuple[int, ...] = ()

    def __post_init__(self):
        if self.size < 224:
            raise CamlibError(f"composite images are 224 px or larger (ImageNet networks' input); got size={self.size}")
        names = [name for name, _ in self.splits]
        if not names or len(set(names)) != len(names) or any(count < 1 for _, count in self.splits):
            raise CamlibError(f"splits must name distinct splits with at least 1 image each, got {self.splits}")
        if self.classes == "mapping" and (not set(self.stamp_cycle) <= set(names) or not self.stamp_cycle):
            raise CamlibError(f"stamp_cycle must name splits of {names}, got {self.stamp_cycle}")
        if not 0 <= self.multi_share <= 1:
            raise CamlibError(f"multi_share is a fraction in [0, 1], got {self.multi_share}")
        if len(self.share_histogram) != 10 or min(self.share_histogram) < 0 or sum(self.share_histogram) <= 0:
            raise CamlibError(f"share_histogram is 10 non-negative bin shares (0-10%, ..., 90-100%), got {self.share_histogram}")
        if self.classes not in ("mapping", "stamp"):
            raise CamlibError(f"classes is 'mapping' (a stamp's class) or 'stamp' (each stamp its own class), got {self.classes!r}")

    def key(self) -> str:
        """The key naming this benchmark's cache (and anything derived from it): the spec, the stamps' files and
        classes, the background crops and the generator's rules."""
        stamps = [(e.path, e.sha256, e.class_index) for e in stamp_mapping(self.stamps)]
        return cache_key(spec=asdict(self), stamps=stamps, backgrounds=BACKGROUND_CROPS,
                         rules=(MIN_SHARE, MIN_VISIBLE, ILSVRC_LARGEST_BOX_HISTOGRAM), version=2)

    @property
    def split_names(self) -> tuple[str, ...]:
        """The splits' names, in generation order."""
        return tuple(name for name, _ in self.splits)


def _load_photo(source: str) -> np.ndarray:
    kind, _, name = source.partition("/")
    if kind == "skimage":
        photo = getattr(skdata, name)()
    else:
        (path,) = darknet_photo_paths([name]) if kind == "darknet" else opencv_doc_paths([name])
        photo = cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    return np.repeat(photo[:, :, None], 3, axis=2) if photo.ndim == 2 else photo[:, :, :3]


@lru_cache(maxsize=1)
def background_crops() -> tuple[np.ndarray, ...]:
    """Every :data:`BACKGROUND_CROPS` region as uint8 ``(h, w, 3)`` RGB."""
    photos = {source: _load_photo(source) for source in dict.fromkeys(c.source for c in BACKGROUND_CROPS)}
    return tuple(np.ascontiguousarray(photos[c.source][c.box[1]:c.box[3], c.box[0]:c.box[2]]) for c in BACKGROUND_CROPS)


def split_stamps(stamps: list[Stamp], cycle: tuple[str, ...] = ("test", "dev")) -> dict[str, list[int]]:
    """Stamp indices of each split: a class's stamps (in mapping order) go to the splits of ``cycle``
    in turn (the default alternates test, dev, test, ...; a class with one stamp is in test only)."""
    by_class: dict[int, list[int]] = {}
    for index, stamp in enumerate(stamps):
        by_class.setdefault(stamp.class_index, []).append(index)
    out: dict[str, list[int]] = {name: [] for name in dict.fromkeys(cycle)}
    for indices in by_class.values():
        for k, index in enumerate(indices):
            out[cycle[k % len(cycle)]].append(index)
    return {name: sorted(v) for name, v in out.items()}


def sample_largest_shares(rng: np.random.Generator, count: int,
                          histogram: tuple[float, ...] = ILSVRC_LARGEST_BOX_HISTOGRAM) -> np.ndarray:
    """``count`` largest-box shares with ``histogram`` (ILSVRC's by default; uniform inside each 0.1 bin,
    the first from MIN_SHARE)."""
    bins = rng.choice(10, size=count, p=np.asarray(histogram) / sum(histogram))
    low = np.where(bins == 0, MIN_SHARE, bins / 10)
    return low + rng.random(count) * ((bins + 1) / 10 - low)


def _stamp_box(stamp: Stamp) -> tuple[float, float]:
    x0, y0, x1, y1 = mask_box(stamp.mask)
    return float(x1 - x0), float(y1 - y0)


def _scale_for_share(stamp: Stamp, share: float, size: int) -> float:
    """The scale whose visible box covers ``share`` of the canvas, letting the object run past the
    border when it must (keeping :data:`MIN_VISIBLE` of its long side in view)."""
    width, height = _stamp_box(stamp)
    scale = np.sqrt(share * size * size / (width * height))
    long_side, short_side = max(width, height), min(width, height)
    if long_side * scale > size:  # past the border: visible box = size x short_side * scale
        scale = min(share * size / short_side, size / short_side, size / (MIN_VISIBLE * long_side))
    return float(scale)


class _Placed(NamedTuple):
    stamp: int
    scale: float
    flip: bool
    x: int
    y: int
    box: np.ndarray


def _scaled_box(stamp: Stamp, scale: float, flip: bool) -> np.ndarray:
    return mask_box(scale_rgba(stamp.rgba, scale, flip)[..., 3] > 0.5)


def _max_share(stamp: Stamp) -> float:
    """The largest box share the stamp reaches on a square canvas (past the border, :data:`MIN_VISIBLE` in view)."""
    width, height = _stamp_box(stamp)
    return min(1.0, min(width, height) / (MIN_VISIBLE * max(width, height)))


def _place_largest(rng: np.random.Generator, stamps: list[Stamp], index: int, share: float, spec: CompositeSpec) -> _Placed:
    size = spec.size
    scale, flip = _scale_for_share(stamps[index], share, size), bool(rng.random() < 0.5)
    alpha = scale_rgba(stamps[index].rgba, scale, flip)[..., 3] > 0.5
    bx0, by0, bx1, by1 = mask_box(alpha)
    corner = []
    for low, high in ((bx0, bx1), (by0, by1)):
        extent = high - low
        if extent <= size:  # centre near the image centre, box inside the image
            centre = size / 2 + rng.normal(0, spec.centre_sd * size)
            start = np.clip(centre - extent / 2, 0, size - extent)
        else:  # runs past both borders: any offset that keeps the canvas covered
            start = rng.uniform(size - extent, 0)
        corner.append(int(round(start - low)))
    x, y = corner
    # the visible part's box: the mask clipped to the canvas
    visible = alpha[max(0, -y):size - y, max(0, -x):size - x]
    vx0, vy0, vx1, vy1 = mask_box(visible)
    offset_x, offset_y = max(0, x), max(0, y)
    box = np.array([vx0 + offset_x, vy0 + offset_y, vx1 + offset_x, vy1 + offset_y], dtype=np.float32)
    return _Placed(index, scale, flip, x, y, box)


def _overlaps(box: np.ndarray, others: list[np.ndarray], margin: float = 2.0) -> bool:
    return any(box[0] < o[2] + margin and o[0] < box[2] + margin and box[1] < o[3] + margin and o[1] < box[3] + margin
               for o in others)


def _place_extra(rng: np.random.Generator, stamps: list[Stamp], index: int, share: float, taken: list[np.ndarray],
                 size: int, tries: int = 30) -> _Placed | None:
    """An extra instance covering about ``share`` of the canvas, inside it and clear of ``taken`` boxes;
    shrinks when it does not fit; ``None`` when even a small one does not."""
    while share >= 0.004:
        scale, flip = _scale_for_share(stamps[index], share, size), bool(rng.random() < 0.5)
        bx0, by0, bx1, by1 = _scaled_box(stamps[index], scale, flip)
        if bx1 - bx0 <= size and by1 - by0 <= size:
            for _ in range(tries):
                x = int(rng.integers(0, size - (bx1 - bx0) + 1) - bx0)
                y = int(rng.integers(0, size - (by1 - by0) + 1) - by0)
                box = np.array([bx0 + x, by0 + y, bx1 + x, by1 + y], dtype=np.float32)
                if not _overlaps(box, taken):
                    return _Placed(index, scale, flip, x, y, box)
        share *= 0.7
    return None


@dataclass
class CompositeSplit:
    """One split's recipe and boxes; :meth:`render` draws image ``i`` with its instances' masks.

    Per image (``N``): ``labels``, ``background`` (crop index), ``window`` ``(N, 3)`` (x0, y0, side in
    the crop) and ``background_flip``; ``first`` ``(N + 1,)`` indexes its instances. Per instance
    (``M``): ``stamp``, ``scale``, ``flip``, ``x``, ``y`` (top-left corner of the resized stamp) and
    ``boxes`` ``(M, 4)`` float32 ``[x0, y0, x1, y1]``.
    """

    name: str
    size: int
    arrays: dict[str, np.ndarray]
    stamps: str = MAPPING_FILE

    def __len__(self) -> int:
        return len(self.arrays["labels"])

    @property
    def labels(self) -> np.ndarray:
        """``(N,)`` class index of each image (an ImageNet class, or a group of :data:`~camlib.data.generators.stamps.GROUPS_FILE`)."""
        return self.arrays["labels"]

    def objects(self) -> np.ndarray:
        """``(N,)`` the stamp of each image's largest instance: the object an image shows, the unit of
        independence (images of one object are not independent samples)."""
        return self.arrays["stamp"][self.arrays["first"][:-1]]

    def boxes(self, i: int) -> np.ndarray:
        """``(k, 4)`` boxes of image ``i``, largest first."""
        first = self.arrays["first"]
        return self.arrays["boxes"][first[i]:first[i + 1]]

    def render(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Image ``i`` as uint8 ``(size, size, 3)`` and its instances' masks bool ``(k, size, size)``."""
        if not 0 <= i < len(self):
            raise CamlibError(f"image index {i} is out of range for the {len(self)} {self.name} images")
        a, stamps, crops = self.arrays, load_stamps_cached(self.stamps), background_crops()
        x0, y0, side = (int(v) for v in a["window"][i])
        crop = crops[a["background"][i]][y0:y0 + side, x0:x0 + side]
        interpolation = cv2.INTER_AREA if side > self.size else cv2.INTER_LINEAR
        image = cv2.resize(crop, (self.size, self.size), interpolation=interpolation)
        if a["background_flip"][i]:
            image = image[:, ::-1]
        image = np.ascontiguousarray(image)
        masks = []
        for j in range(a["first"][i], a["first"][i + 1]):
            pasted = paste(image, stamps[a["stamp"][j]].rgba, int(a["x"][j]), int(a["y"][j]), float(a["scale"][j]), bool(a["flip"][j]))
            image = pasted.image
            masks.append(pasted.mask)
        return image, np.stack(masks)


@lru_cache(maxsize=2)
def load_stamps_cached(mapping: str = MAPPING_FILE) -> tuple[Stamp, ...]:
    """:func:`load_stamps` of ``mapping``, loaded once per process."""
    return tuple(load_stamps(mapping))


def chosen_stamps(spec: CompositeSpec) -> list[int]:
    """Indices (in mapping order) of the stamps ``spec`` uses: those of its ``groups``, or all."""
    stamps = load_stamps_cached(spec.stamps)
    return [i for i, stamp in enumerate(stamps) if not spec.groups or stamp.class_index in spec.groups]


def stamp_labels(spec: CompositeSpec) -> dict[int, int]:
    """The label of each chosen stamp (index in mapping order -> class): its class, or its rank (``classes="stamp"``)."""
    stamps, chosen = load_stamps_cached(spec.stamps), chosen_stamps(spec)
    if spec.classes == "stamp":
        return {index: rank for rank, index in enumerate(chosen)}
    return {index: stamps[index].class_index for index in chosen}


def class_names(spec: CompositeSpec) -> tuple[str, ...]:
    """Names of the labels of a ``classes="stamp"`` spec (the stamps' file names, e.g. ``"crow"``), in label order."""
    if spec.classes != "stamp":
        raise CamlibError("class_names names the stamps of a classes='stamp' spec; mapping classes are named by the mapping")
    stamps = load_stamps_cached(spec.stamps)
    return tuple(Path(stamps[i].path).stem for i in chosen_stamps(spec))


def _generate_split(spec: CompositeSpec, name: str, count: int, pool: list[int], rng: np.random.Generator,
                    progress: bool) -> dict[str, np.ndarray]:
    stamps, crops, labels = list(load_stamps_cached(spec.stamps)), background_crops(), stamp_labels(spec)
    by_class: dict[int, list[int]] = {}
    for index in pool:
        by_class.setdefault(labels[index], []).append(index)
    classes = sorted(by_class)
    shares = sample_largest_shares(rng, count, spec.share_histogram)
    # multi-instance images among those whose largest box leaves room (ILSVRC's multi-box images hold smaller objects)
    roomy = np.flatnonzero(shares <= 0.5)
    multi = set(rng.choice(roomy, size=min(len(roomy), round(spec.multi_share * count)), replace=False).tolist())
    per_image = {key: [] for key in ("labels", "background", "window", "background_flip", "first")}
    per_instance = {key: [] for key in ("stamp", "scale", "flip", "x", "y", "boxes")}
    reach = {index: _max_share(stamps[index]) for index in pool}
    for i in progress_bar(range(count), desc=f"composites ({name})", disable=not progress, leave=False):
        # a class (uniformly) among those with a stamp that reaches the drawn share, so the share histogram stays ILSVRC's
        able = [c for c in classes if any(reach[j] >= shares[i] for j in by_class[c])] or classes
        label = able[rng.integers(len(able))]
        members = by_class[label]
        fitting = [j for j in members if reach[j] >= shares[i]] or members
        placed = [_place_largest(rng, stamps, fitting[rng.integers(len(fitting))], float(shares[i]), spec)]
        if i in multi:
            largest = float((placed[0].box[2] - placed[0].box[0]) * (placed[0].box[3] - placed[0].box[1])) / spec.size ** 2
            for _ in range(1 + rng.poisson(spec.extra_mean)):
                share = largest * rng.uniform(0.3, 1.0)
                extra = _place_extra(rng, stamps, members[rng.integers(len(members))], share, [p.box for p in placed], spec.size)
                if extra is not None:
                    placed.append(extra)
        crop_index = int(rng.integers(len(crops)))
        height, width = crops[crop_index].shape[:2]
        side = int(min(height, width) * rng.uniform(0.7, 1.0))
        per_image["labels"].append(label)
        per_image["background"].append(crop_index)
        per_image["window"].append((int(rng.integers(width - side + 1)), int(rng.integers(height - side + 1)), side))
        per_image["background_flip"].append(bool(rng.random() < 0.5))
        per_image["first"].append(len(per_instance["stamp"]))
        for p in placed:
            for key, value in zip(("stamp", "scale", "flip", "x", "y", "boxes"), p):
                per_instance[key].append(value)
    per_image["first"].append(len(per_instance["stamp"]))
    arrays = {key: np.asarray(value) for key, value in {**per_image, **per_instance}.items()}
    arrays["scale"] = arrays["scale"].astype(np.float64)
    arrays["boxes"] = np.stack(per_instance["boxes"]).astype(np.float32)
    return arrays


def _split_pools(spec: CompositeSpec) -> dict[str, list[int]]:
    """Stamp indices each split draws from (see :class:`CompositeSpec`)."""
    chosen = chosen_stamps(spec)
    if not chosen:
        raise CamlibError(f"no stamp of {spec.stamps} is in groups {spec.groups}")
    if spec.classes == "stamp":
        return {name: chosen for name in spec.split_names}
    stamps = load_stamps_cached(spec.stamps)
    return {name: sorted(chosen[k] for k in v) for name, v in split_stamps([stamps[i] for i in chosen], spec.stamp_cycle).items()}


def generate_composites(spec: CompositeSpec = CompositeSpec(), progress: bool = True) -> dict[str, CompositeSplit]:
    """Generate every split of ``spec``, in order, from one random stream (no cache; see :func:`load_composites`)."""
    pools = _split_pools(spec)
    rng = np.random.default_rng(spec.seed)
    return {name: CompositeSplit(name, spec.size, _generate_split(spec, name, count, pools[name], rng, progress), spec.stamps)
            for name, count in spec.splits}


def load_composites(spec: CompositeSpec = CompositeSpec(), progress: bool = True) -> dict[str, CompositeSplit]:
    """The benchmark of ``spec``: its recipe from ``<data root>/cache/composites-<key>.pt`` (checksummed,
    tensors only), or generated and cached."""
    def build() -> dict[str, torch.Tensor]:
        splits = generate_composites(spec, progress)
        return {f"{name}/{key}": torch.from_numpy(np.ascontiguousarray(value))
                for name, split in splits.items() for key, value in split.arrays.items()}

    state = cached_tensors(cache_dir() / f"composites-{spec.key()}.pt", build)
    return {name: CompositeSplit(name, spec.size, {key.partition("/")[2]: value.numpy()
                                                    for key, value in state.items() if key.startswith(name + "/")},
                                 spec.stamps)
            for name in spec.split_names}


def largest_box_shares(split: CompositeSplit) -> np.ndarray:
    """``(N,)`` area share of each image's largest box (ILSVRC's 'largest box' statistic)."""
    first, boxes = split.arrays["first"], split.arrays["boxes"]
    areas = box_area(boxes) / split.size ** 2
    return np.array([areas[first[i]:first[i + 1]].max() for i in range(len(split))])
