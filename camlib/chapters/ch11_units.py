"""Class-specific units (Sec. 5 of the paper): the last conv layer's units ranked by their softmax weight.

A CAM is a weighted sum of unit maps, ``M_c = sum_k w_k^c f_k``, so the units with the largest
``w_k^c`` are the parts the class is built from. This module ranks them, finds the images that
activate a unit most, segments a unit's receptive field by a threshold (as Network Dissection does:
the top ``1 - quantile`` of the unit's upsampled activations over a data set), scores those masks
against object masks, and measures how much of a CAM the top-k units already explain.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from PIL import Image

from camlib import finetune, stamp_groups
from camlib.cache import array_fingerprint, cached_tensors, stable_key
from camlib.cam import CAM, upsample
from camlib.claims import interval_verdict
from camlib.data.composites import CompositeSpec, CompositeSplit, load_composites, load_stamps_cached
from camlib.data.paths import cache_dir
from camlib.data.real_photos import RealPhoto, real_photos
from camlib.data.stamps import MAPPING_FILE, stamp_mapping
from camlib.errors import CamlibError
from camlib.features import to_batch
from camlib.metrics.bootstrap import bootstrap_intervals
from camlib.models import load_pretrained
from camlib.models.pretrained import PretrainedClassifier
from camlib.preprocess import resize_crop
from camlib.progress import progress

Order = Literal["weight", "magnitude"]
ORDERS: tuple[str, ...] = ("weight", "magnitude")


def _features(features: torch.Tensor) -> torch.Tensor:
    features = torch.as_tensor(features, dtype=torch.float32)
    if features.ndim != 4:
        raise CamlibError(f"features must be (N, K, h, w), got shape {tuple(features.shape)}")
    return features


def rank_units(weight: torch.Tensor, class_index: int) -> np.ndarray:
    """int64 (K,): the units ordered by their weight ``w_k^c`` for class ``class_index`` (largest first).

    ``weight`` is the classifier's (N, K) matrix; ties keep the lower unit index first.
    """
    weight = torch.as_tensor(weight)
    if weight.ndim != 2 or not 0 <= class_index < weight.shape[0]:
        raise CamlibError(f"need a (N, K) weight and 0 <= class_index < N; got shape {tuple(weight.shape)} and {class_index}")
    return np.argsort(-weight[class_index].double().numpy(), kind="stable")


def top_activating(features: torch.Tensor, unit: int, count: int) -> np.ndarray:
    """int64 (count,): the images whose peak activation of ``unit`` is highest (highest first).

    ``features`` (N, K, h, w); ties keep the lower image index first.
    """
    features = _features(features)
    if not 0 <= unit < features.shape[1] or count < 1:
        raise CamlibError(f"unit must lie in 0..{features.shape[1] - 1} and count >= 1; got {unit} and {count}")
    peaks = features[:, unit].flatten(1).max(dim=1).values.double().numpy()
    return np.argsort(-peaks, kind="stable")[:count]


def unit_masks(unit_maps: torch.Tensor, size: tuple[int, int], quantile: float = 0.99) -> np.ndarray:
    """bool (N, H, W): where one unit's maps (N, h, w), bilinearly upsampled to ``size``, exceed the
    ``quantile`` of all its upsampled activations over the N images (one threshold per unit)."""
    if not 0.0 < quantile < 1.0:
        raise CamlibError(f"quantile must lie strictly between 0 and 1, got {quantile}")
    unit_maps = torch.as_tensor(unit_maps, dtype=torch.float32)
    if unit_maps.ndim != 3:
        raise CamlibError(f"unit_maps must be (N, h, w) (one unit), got shape {tuple(unit_maps.shape)}")
    big = upsample(unit_maps[:, None], size)[:, 0].numpy()
    return big > np.quantile(big, quantile)


def unit_precision(features: torch.Tensor, objects: np.ndarray, groups: np.ndarray, quantile: float = 0.99) -> np.ndarray:
    """float (K, G): for every unit, the share of its receptive-field mask (:func:`unit_masks`, one
    threshold per unit over all N images) that lies on the object, within the images of each group.

    ``features`` (N, K, h, w); ``objects`` bool (N, H, W); ``groups`` int (N,) in 0..G-1 (e.g. the
    class of each image). NaN where a unit's mask is empty on a group's images.
    """
    features = _features(features)
    objects, groups = np.asarray(objects, dtype=bool), np.asarray(groups)
    if objects.shape[0] != features.shape[0] or groups.shape != (features.shape[0],) or objects.ndim != 3:
        raise CamlibError(f"need objects (N, H, W) and groups (N,) for N={features.shape[0]} images; "
                          f"got {objects.shape} and {groups.shape}")
    count = int(groups.max()) + 1
    out = np.full((features.shape[1], count), np.nan)
    for unit in range(features.shape[1]):
        masks = unit_masks(features[:, unit], objects.shape[1:], quantile)
        on = np.bincount(groups, weights=(masks & objects).sum(axis=(1, 2)), minlength=count)
        area = np.bincount(groups, weights=masks.sum(axis=(1, 2)), minlength=count)
        out[unit] = np.where(area > 0, on / np.maximum(area, 1), np.nan)
    return out


def _nanmean(values: np.ndarray) -> float:
    """Mean of the non-NaN values (NaN, silently, when there are none)."""
    values = np.asarray(values, dtype=np.float64)
    values = values[~np.isnan(values)]
    return float(values.mean()) if len(values) else float("nan")


def _precision_by_rank(precision: np.ndarray, weight: torch.Tensor, class_names: Sequence[str], units: int = 5) -> pd.DataFrame:
    """Per class (rows), the mean of :func:`unit_precision` (in %) over its ``units`` highest- and
    lowest-weighted units and over all units. ``precision`` (K, G), ``weight`` (G, K)."""
    rows = {}
    for g, name in enumerate(class_names):
        order = rank_units(weight, g)
        rows[name] = {f"top {units} units": _nanmean(precision[order[:units], g]),
                      f"bottom {units} units": _nanmean(precision[order[-units:], g]),
                      "all units": _nanmean(precision[:, g])}
    return 100.0 * pd.DataFrame(rows).T


def class_table(features: torch.Tensor, weight: torch.Tensor, labels: np.ndarray, objects: np.ndarray,
                class_names: Sequence[str], units: int = 5, top: int = 20, quantile: float = 0.99) -> pd.DataFrame:
    """Per class, in %: how class-specific its ``units`` highest-weighted units are.

    ``top images of the class``: the share of class images among each top unit's ``top`` most
    activating images (:func:`top_image_purity`), beside the ``class frequency``; ``on object``:
    the share of the units' receptive-field masks on the object (:func:`unit_precision`) for the top,
    bottom and all units, beside the ``object share`` of the class's images.
    ``features`` (N, K, h, w), ``weight`` (G, K), ``labels`` (N,), ``objects`` bool (N, H, W).
    """
    labels, objects = np.asarray(labels), np.asarray(objects, dtype=bool)
    purity = top_image_purity(features, weight, labels, units, top)
    table = pd.DataFrame({"top images of the class": 100.0 * purity.mean(axis=1),
                          "class frequency": 100.0 * np.bincount(labels, minlength=len(class_names)) / len(labels)},
                         index=list(class_names))
    on_object = _precision_by_rank(unit_precision(features, objects, labels, quantile), weight, class_names, units)
    table[[f"on object: {c}" for c in on_object.columns]] = on_object.to_numpy()
    table["object share"] = [100.0 * objects[labels == g].mean() for g in range(len(class_names))]
    return table


def units_needed(table: pd.DataFrame, level: float = 0.9) -> int | None:
    """The smallest k of a :func:`cam_explained` table whose mean correlation reaches ``level`` (None if none does)."""
    reached = table.index[table["correlation"] >= level]
    return int(reached[0]) if len(reached) else None


def top_image_purity(features: torch.Tensor, weight: torch.Tensor, labels: np.ndarray, units: int = 5, top: int = 20) -> np.ndarray:
    """float (G, units): for each class g, the share of the ``top`` most activating images of each of its
    ``units`` highest-weighted units that belong to class g. ``labels`` (N,) give every image's class;
    a unit that ignored the class would score about the class's frequency."""
    labels = np.asarray(labels)
    out = np.zeros((torch.as_tensor(weight).shape[0], units))
    for g in range(len(out)):
        for col, unit in enumerate(rank_units(weight, g)[:units]):
            out[g, col] = np.mean(labels[top_activating(features, int(unit), top)] == g)
    return out


def top_image_hits(features: torch.Tensor, weight: torch.Tensor, labels: dict[int, int], units: int = 5, top: int = 3) -> np.ndarray:
    """bool (len(labels), units): whether each labelled image is among the ``top`` most activating
    images (:func:`top_activating`) of each of its class's ``units`` highest-weighted units.

    ``labels`` maps image index -> class index. A unit that ignored the class would score ``top / N``.
    """
    features = _features(features)
    hits = np.zeros((len(labels), units), dtype=bool)
    for row, (image, label) in enumerate(labels.items()):
        for col, unit in enumerate(rank_units(weight, label)[:units]):
            hits[row, col] = image in top_activating(features, int(unit), top)
    return hits


def _pearson(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Row-wise correlation of (..., P) tensors; 0 where either row is constant."""
    a, b = a - a.mean(-1, keepdim=True), b - b.mean(-1, keepdim=True)
    denom = a.norm(dim=-1) * b.norm(dim=-1)
    return torch.where(denom > 0, (a * b).sum(-1) / denom.clamp_min(1e-30), torch.zeros_like(denom))


def partial_cams(features: torch.Tensor, weight: torch.Tensor, classes: Sequence[int] | np.ndarray,
                 ks: Sequence[int], order: Order = "weight") -> torch.Tensor:
    """(N, len(ks), h, w): for each image, the sum of ``w_k^c f_k`` over its class's top-k units.

    ``order="weight"`` ranks units by ``w_k^c`` (the same units for every image of a class);
    ``order="magnitude"`` by the size of each unit's share of this image's score,
    ``|w_k^c * mean_xy f_k|`` (units that lower the score count too). With k = K the partial CAM is
    the CAM itself.
    """
    features = _features(features)
    n, k_units, h, w = features.shape
    weight = torch.as_tensor(weight, dtype=torch.float32)
    classes = torch.as_tensor(np.asarray(classes), dtype=torch.long)
    if weight.ndim != 2 or weight.shape[1] != k_units or classes.shape != (n,):
        raise CamlibError(f"need weight (N_classes, K={k_units}) and one class per image ({n}); "
                          f"got {tuple(weight.shape)} and {tuple(classes.shape)}")
    bad = [k for k in ks if not 1 <= k <= k_units]
    if bad or order not in ORDERS:
        raise CamlibError(f"ks must lie in 1..{k_units} and order be one of {ORDERS}; got {list(ks)} and {order!r}")
    parts = weight[classes][:, :, None] * features.flatten(2)  # (N, K, hw)
    score = weight[classes] if order == "weight" else parts.mean(dim=2).abs()
    ranked = torch.argsort(-score.double(), dim=1, stable=True)
    cumulative = parts.gather(1, ranked[:, :, None].expand_as(parts)).double().cumsum(dim=1)
    return cumulative[:, [k - 1 for k in ks]].float().view(n, len(ks), h, w)


def cam_explained(features: torch.Tensor, weight: torch.Tensor, classes: Sequence[int] | np.ndarray,
                  ks: Sequence[int], order: Order = "weight") -> pd.DataFrame:
    """How close the top-k partial CAM is to the full CAM, averaged over images, for each k in ``ks``:
    ``correlation`` (Pearson over positions) and ``relative L2 error`` = ||M - M_k|| / ||M||."""
    full = partial_cams(features, weight, classes, [_features(features).shape[1]], order)[:, 0].flatten(1)
    part = partial_cams(features, weight, classes, ks, order).flatten(2)
    corr = _pearson(part, full[:, None]).mean(dim=0)
    error = ((part - full[:, None]).norm(dim=-1) / full.norm(dim=-1, keepdim=True).clamp_min(1e-30)).mean(dim=0)
    return pd.DataFrame({"k": list(ks), "correlation": corr.numpy(), "relative L2 error": error.numpy()}).set_index("k")


def _show_region(ax, image: np.ndarray, inside: np.ndarray) -> None:
    """``image`` (H, W, 3) uint8 with the region ``inside`` (H, W) bright and outlined, the rest dimmed."""
    shown = image.astype(np.float32) / 255.0
    ax.imshow(np.where(inside[:, :, None], shown, 0.35 * shown))
    ax.contour(inside, levels=[0.5], colors="yellow", linewidths=1.0)
    ax.set_xticks([])
    ax.set_yticks([])


def show_unit_rows(images: np.ndarray, features: torch.Tensor, units: Sequence[int], count: int = 4,
                   quantile: float = 0.99, labels: Sequence[str] | None = None, size: float = 1.8):
    """The paper's Fig. 13 idea: one row per unit, its ``count`` most activating images with the
    unit's thresholded receptive field (:func:`unit_masks`) outlined and the rest dimmed.

    ``images`` uint8 (N, H, W, 3), ``features`` (N, K, h, w); ``labels`` names each row. Returns the figure.
    """
    features = _features(features)
    images = np.asarray(images)
    fig, axes = plt.subplots(len(units), count, figsize=(size * count, size * len(units)), squeeze=False)
    for row, unit in enumerate(units):
        masks = unit_masks(features[:, unit], images.shape[1:3], quantile)
        for col, index in enumerate(top_activating(features, unit, count)):
            ax = axes[row, col]
            _show_region(ax, images[index], masks[index])
            if col == 0:
                ax.set_ylabel(labels[row] if labels is not None else f"unit {unit}", fontsize=8)
    fig.tight_layout()
    return fig


def show_cam_decomposition(image: np.ndarray, features: torch.Tensor, weight: torch.Tensor, class_index: int,
                           units: int = 4, size: float = 2.2, title: str = "CAM"):
    """One image (H, W, 3): its CAM for ``class_index`` and the weighted maps ``w_k f_k`` of the class's
    ``units`` highest-weighted units, each titled with the unit and its weight. ``features`` (K, h, w).
    Each panel has its own colour scale. Returns the figure."""
    features = torch.as_tensor(features, dtype=torch.float32)
    w = torch.as_tensor(weight, dtype=torch.float32)[class_index]
    top = rank_units(weight, class_index)[:units]
    panels = [(title, (w[:, None, None] * features).sum(0))]
    panels += [(f"unit {u}, w={w[u]:.3f}", w[u] * features[u]) for u in top]
    fig, axes = plt.subplots(1, len(panels) + 1, figsize=(size * (len(panels) + 1), size * 1.1))
    axes[0].imshow(image)
    for ax, (name, heat) in zip(axes[1:], panels):
        ax.imshow(image)
        big = upsample(heat[None, None], image.shape[:2])[0, 0].numpy()
        ax.imshow(big, cmap="jet", alpha=0.5)
        ax.set_title(name, fontsize=8)
    for ax in axes:
        ax.axis("off")
    fig.tight_layout()
    return fig


def plot_explained(tables: dict[str, pd.DataFrame], size: tuple[float, float] = (10.0, 3.4)):
    """Correlation and relative L2 error of top-k partial CAMs (tables from :func:`cam_explained`,
    one line each) against k, on a log axis. Returns the figure."""
    fig, axes = plt.subplots(1, 2, figsize=size)
    for name, table in tables.items():
        for ax, column in zip(axes, ("correlation", "relative L2 error")):
            ax.plot(table.index, table[column], marker=".", label=name)
    for ax, column in zip(axes, ("correlation with the full CAM", "relative L2 error")):
        ax.set_xscale("log", base=2)
        ax.set_xlabel("k (top units summed)")
        ax.set_ylabel(column)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    return fig


@dataclass
class UnitSource:
    """A GAP network's CAM-layer maps on labelled images with exact object masks: ``images`` uint8
    ``(N, H, W, 3)``, ``features`` ``(N, K, h, w)``, classifier ``weight`` ``(C, K)`` and ``bias`` ``(C,)``,
    ``labels`` ``(N,)``, ``masks`` bool ``(N, H, W)`` (all instances) and ``class_names``."""

    images: np.ndarray
    features: torch.Tensor
    weight: torch.Tensor
    bias: torch.Tensor
    labels: np.ndarray
    masks: np.ndarray
    class_names: tuple[str, ...]


def tuned_gap_network(seed: int = 0) -> UnitSource:
    """Chapters 1 and 4's GAP network (Lite0 converted and fine-tuned with ``seed``, shipped as a
    checkpoint, :mod:`camlib.finetune`) with its test composites of photographed objects: the units of its
    head conv on each test image."""
    net, _ = finetune.shipped_tuned("gap", 16, seed)
    test = load_composites(finetune.tuned_spec(), progress=False)["test"]
    low = finetune.test_low_maps(net)[0]
    device = next(net.parameters()).device
    with torch.no_grad():
        features = torch.cat([net.upper.head.head_conv(net.upper.tuned(low[i:i + 64].float().to(device))).cpu()
                              for i in range(0, len(low), 64)])
    rendered = [test.render(i) for i in range(len(test))]
    images, masks = np.stack([image for image, _ in rendered]), np.stack([m.any(axis=0) for _, m in rendered])
    head = net.upper.head
    return UnitSource(images, features, head.fc.weight.detach().cpu(), head.fc.bias.detach().cpu(),
                      test.labels.astype(np.int64), masks, stamp_groups.group_names())


# --- a large image pool for Lite0's units: every image's per-unit peak, and the object under each map cell ---

#: Class code of a map cell whose centre lies on no object; objects of a stamp group with no ImageNet class
#: are coded ``GROUP_OFFSET + group`` (never an ImageNet class, still "an object").
BACKGROUND, GROUP_OFFSET = -1, 1000
#: The pool's parts, in pool order: chapter 3's ImageNet-class composites (test split), the stamp-group
#: composites of :func:`camlib.stamp_groups.group_composites` (train, then test) and the annotated real photos.
POOL_PARTS: tuple[str, ...] = ("ImageNet composites", "group composites", "real photos")
PHOTO_SIZE = 224
_POOL_VERSION = 1


def cell_classes(label_map: np.ndarray, side: int) -> np.ndarray:
    """int64 (side * side,): ``label_map`` (H, W) at the centre of each cell of a ``side`` x ``side`` grid, row-major."""
    label_map = np.asarray(label_map)
    if label_map.ndim != 2 or side < 1:
        raise CamlibError(f"need a (H, W) label map and side >= 1; got shape {label_map.shape} and {side}")
    centres = (np.arange(side) + 0.5) / side
    rows = np.minimum((centres * label_map.shape[0]).astype(np.int64), label_map.shape[0] - 1)
    cols = np.minimum((centres * label_map.shape[1]).astype(np.int64), label_map.shape[1] - 1)
    return label_map[np.ix_(rows, cols)].astype(np.int64).ravel()


def mask_label_map(masks: np.ndarray, classes: Sequence[int]) -> np.ndarray:
    """int64 (H, W): the class of the topmost instance (the last of ``masks`` (k, H, W)) at each pixel, else BACKGROUND."""
    masks = np.asarray(masks, dtype=bool)
    out = np.full(masks.shape[1:], BACKGROUND, dtype=np.int64)
    for mask, label in zip(masks, classes):
        out[mask] = label
    return out


def box_label_map(boxes: np.ndarray, classes: Sequence[int], size: tuple[int, int]) -> np.ndarray:
    """int64 ``size`` (H, W): the class of the smallest box ``[x0, y0, x1, y1]`` (pixels) covering each pixel, else BACKGROUND."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    out = np.full(size, BACKGROUND, dtype=np.int64)
    ys, xs = np.arange(size[0]) + 0.5, np.arange(size[1]) + 0.5
    for j in np.argsort(-(boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]), kind="stable"):
        x0, y0, x1, y1 = boxes[j]
        out[np.ix_((ys >= y0) & (ys < y1), (xs >= x0) & (xs < x1))] = classes[j]
    return out


def unit_peaks(features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Each unit's largest activation on each image, float32 (N, K), and where it is: the flat index of
    its cell in the (h, w) map, int64 (N, K) (the first cell on ties). ``features`` (N, K, h, w)."""
    peak, where = _features(features).flatten(2).max(dim=2)
    return peak, where


@dataclass
class PoolSources:
    """The pool's images: chapter 3's ImageNet-class ``composites`` (test split), the stamp-group
    composites ``groups`` (train, then test) and the annotated real ``photos``."""

    composites: CompositeSplit
    groups: tuple[CompositeSplit, ...]
    photos: tuple[RealPhoto, ...]

    @property
    def counts(self) -> tuple[int, int, int]:
        """Images in each part of :data:`POOL_PARTS`."""
        return len(self.composites), sum(len(s) for s in self.groups), len(self.photos)

    def render(self, part: int, index: int) -> tuple[np.ndarray, np.ndarray]:
        """Image ``index`` of ``part`` as uint8 (H, W, 3) (composites at their size, photos resized and centre-cropped
        to :data:`PHOTO_SIZE`) and its label map int64 (H, W): the ImageNet class of the object at each pixel
        (group stamps without one: ``GROUP_OFFSET + group``), BACKGROUND elsewhere (real photos: boxes)."""
        if part == 0:
            image, masks = self.composites.render(index)
            return image, mask_label_map(masks, [int(self.composites.labels[index])] * len(masks))
        if part == 1:
            split, local = self._group_split(index)
            image, masks = split.render(local)
            first = split.arrays["first"]
            stamps, imagenet = load_stamps_cached(split.stamps), _imagenet_class_of_stamp()
            classes = [imagenet.get(stamps[s].path, GROUP_OFFSET + int(split.labels[local]))
                       for s in split.arrays["stamp"][first[local]:first[local + 1]]]
            return image, mask_label_map(masks, classes)
        if part == 2:
            photo = self.photos[index]
            crop, geometry = resize_crop(Image.open(photo.path).convert("RGB"), PHOTO_SIZE, PHOTO_SIZE)
            scale = np.array([geometry.scale_x, geometry.scale_y] * 2)
            offset = np.array([geometry.offset_x, geometry.offset_y] * 2)
            boxes = photo.boxes * scale - offset
            return np.asarray(crop), box_label_map(boxes, photo.labels, (PHOTO_SIZE, PHOTO_SIZE))
        raise CamlibError(f"part must index {POOL_PARTS}, got {part}")

    def _group_split(self, index: int) -> tuple[CompositeSplit, int]:
        for split in self.groups:
            if index < len(split):
                return split, index
            index -= len(split)
        raise CamlibError(f"group composite {index} is out of range")

    def describe(self, part: int, index: int, class_names: Sequence[str], group_names: Sequence[str]) -> str:
        """A short caption: the part and the image's class."""
        if part == 0:
            return f"composite: {class_names[int(self.composites.labels[index])]}"
        if part == 1:
            split, local = self._group_split(index)
            return f"group comp.: {group_names[int(split.labels[local])]}"
        return f"photo: {self.photos[index].class_names[0]}"


@lru_cache(maxsize=1)
def _imagenet_class_of_stamp() -> dict[str, int]:
    """The ImageNet class of every stamp of the ImageNet mapping, by stamp path."""
    return {e.path: e.class_index for e in stamp_mapping(MAPPING_FILE)}


def pool_sources() -> PoolSources:
    """The pool's recipes (cached composites, annotated photos); nothing is rendered."""
    groups = load_composites(_group_spec(), progress=False)
    return PoolSources(load_composites(CompositeSpec(), progress=False)["test"], (groups["train"], groups["test"]),
                       tuple(real_photos()))


#: The stamp-group composites (train, test) in the pool of Lite0's units.
GROUP_POOL_IMAGES = (960, 320)


def _group_spec() -> CompositeSpec:
    return stamp_groups.group_composites(*GROUP_POOL_IMAGES)


@dataclass
class UnitPool:
    """A network's unit peaks over a :class:`PoolSources` pool of N images: ``peak`` float32 (N, K), each
    unit's largest activation on each image; ``where`` int64 (N, K), its flat cell in the ``side`` x ``side``
    map; ``cells`` int64 (N, side * side), the class under each cell's centre (see :meth:`PoolSources.render`);
    ``part`` and ``index`` (N,), where each image comes from."""

    peak: np.ndarray
    where: np.ndarray
    cells: np.ndarray
    part: np.ndarray
    index: np.ndarray
    side: int


def _head_maps(model: torch.nn.Module, blocks_out: torch.Tensor) -> torch.Tensor:
    """EfficientNet-Lite's last conv layer (the CAM layer) on its last block's output (N, 320, h, w)."""
    return model._swish(model._bn1(model._conv_head(blocks_out)))


def lite_unit_pool(batch_size: int = 50) -> tuple[UnitPool, PoolSources]:
    """EfficientNet-Lite0's 1280 CAM-layer units over the whole pool (cached under ``<data root>/cache/units``,
    keyed on the network, the pool's recipes and photos). The group composites reuse chapters 1 and 4's
    cached stride-32 trunk maps; the rest runs the network once per image."""
    sources = pool_sources()
    recipes = [split.arrays[name] for split in (sources.composites, *sources.groups) for name in sorted(split.arrays)]
    key = stable_key({"network": "efficientnet-lite0", "recipes": array_fingerprint(*recipes),
                      "photos": [(p.file, p.boxes.tolist(), p.labels.tolist()) for p in sources.photos],
                      "photo_size": PHOTO_SIZE, "version": _POOL_VERSION})

    def build() -> dict[str, torch.Tensor]:
        classifier = load_pretrained("efficientnet-lite0")
        model = classifier.model.eval()
        out: dict[str, list] = {name: [] for name in ("peak", "where", "cells", "part", "index")}

        def add(part: int, start: int, features: torch.Tensor, label_maps: list[np.ndarray]) -> None:
            peak, where = unit_peaks(features)
            out["peak"].append(peak)
            out["where"].append(where.to(torch.int16))
            out["cells"].append(torch.from_numpy(np.stack([cell_classes(m, features.shape[-1]) for m in label_maps])).to(torch.int16))
            out["part"].append(torch.full((len(features),), part, dtype=torch.int16))
            out["index"].append(torch.arange(start, start + len(features), dtype=torch.int32))

        group_maps = stamp_groups.lite_maps(_group_spec(), ("train", "test")).maps
        blocks_out = torch.cat([group_maps["train"][32], group_maps["test"][32]])
        with torch.no_grad(), CAM(model) as cam:
            for part, count in enumerate(sources.counts):
                for start in progress(range(0, count, batch_size), desc=f"Lite0 units ({POOL_PARTS[part]})"):
                    stop = min(start + batch_size, count)
                    rendered = [sources.render(part, i) for i in range(start, stop)]
                    if part == 1:
                        features = _head_maps(model, blocks_out[start:stop].to(next(model.parameters()).device)).cpu()
                    else:
                        batch = to_batch(np.stack([image for image, _ in rendered]), 224, classifier.mean, classifier.std)
                        features = cam.features(batch.to(next(model.parameters()).device)).cpu()
                    add(part, start, features, [labels for _, labels in rendered])
        return {name: torch.cat(parts) for name, parts in out.items()}

    state = cached_tensors(cache_dir() / "units" / f"lite0-pool-{key}.pt", build)
    pool = UnitPool(state["peak"].numpy(), state["where"].long().numpy(), state["cells"].long().numpy(),
                    state["part"].long().numpy(), state["index"].long().numpy(), int(round(state["cells"].shape[1] ** 0.5)))
    return pool, sources


# --- do a class's top units fire on that class's objects? ---

def top_images(peak: np.ndarray, count: int) -> np.ndarray:
    """int64 (K, count): each unit's ``count`` images of highest peak (highest first; ties: lower image index).
    ``peak`` (N, K) as in :class:`UnitPool`."""
    peak = np.asarray(peak, dtype=np.float64)
    if peak.ndim != 2 or not 1 <= count <= peak.shape[0]:
        raise CamlibError(f"need peaks (N, K) and 1 <= count <= N; got shape {peak.shape} and {count}")
    return np.argsort(-peak, axis=0, kind="stable")[:count].T


def peak_classes(pool: UnitPool, count: int) -> np.ndarray:
    """int64 (K, count): the class under each unit's peak cell on each of its ``count`` top images
    (:func:`top_images`): an object's class, or BACKGROUND."""
    tops = top_images(pool.peak, count)
    units_ = np.arange(tops.shape[0])[:, None]
    return pool.cells[tops, pool.where[tops, units_]]


def gap_head_pool(source: UnitSource) -> UnitPool:
    """A :class:`UnitPool` of a :class:`UnitSource` (its images' group labels under their exact masks)."""
    peak, where = unit_peaks(source.features)
    side = source.features.shape[-1]
    cells = np.stack([cell_classes(np.where(mask, label, BACKGROUND), side) for mask, label in zip(source.masks, source.labels)])
    n = len(source.labels)
    return UnitPool(peak.numpy(), where.numpy(), cells, np.zeros(n, dtype=np.int64), np.arange(n), side)


RANKS: tuple[str, ...] = ("top units", "all units", "bottom units")


def class_hits(hits: np.ndarray, weight: torch.Tensor, classes: Sequence[int], units: int = 5) -> pd.DataFrame:
    """Per class c (rows, indexed by c), in %: the share of the top-image peaks (``hits`` (K, T) from
    :func:`peak_classes`) that lie on an object of class c, over c's ``units`` highest-weighted units,
    all units and its ``units`` lowest-weighted units (columns :data:`RANKS`)."""
    hits = np.asarray(hits)
    rows = {}
    for c in classes:
        order = rank_units(weight, int(c))
        on = hits == c
        rows[int(c)] = {"top units": on[order[:units]].mean(), "all units": on.mean(), "bottom units": on[order[-units:]].mean()}
    return 100.0 * pd.DataFrame(rows).T[list(RANKS)]


def paired_intervals(table: pd.DataFrame, pairs: Sequence[tuple[str, str]], resamples: int = 2000,
                     seed: int = 0) -> pd.DataFrame:
    """For each (a, b) of ``pairs`` (columns of ``table``, one row per class): the mean difference a - b
    over the classes, its 95% percentile-bootstrap interval (classes resampled) and the verdict on "a > b"
    (:func:`camlib.claims.interval_verdict`)."""
    values = {f"{a} - {b}": (table[a] - table[b]).to_numpy() for a, b in pairs}
    ci = bootstrap_intervals(lambda rows: {k: float(v[rows].mean()) for k, v in values.items()}, len(table), resamples, seed=seed)
    return pd.DataFrame([{"difference": name, "mean": v.mean(), "low": ci[name][0], "high": ci[name][1],
                          "verdict": interval_verdict(float(v.mean()), *ci[name])} for name, v in values.items()]).set_index("difference")


def plot_hit_rates(tables: dict[str, pd.DataFrame], resamples: int = 2000, size: tuple[float, float] = (9.0, 3.2)):
    """One panel per network: the mean over classes of each :data:`RANKS` column of a :func:`class_hits`
    table (bars, with 95% bootstrap intervals over classes) and each class's value (dots). Returns the figure."""
    fig, axes = plt.subplots(1, len(tables), figsize=size, squeeze=False)
    for ax, (name, table) in zip(axes[0], tables.items()):
        ci = bootstrap_intervals(lambda rows: {c: float(table[c].to_numpy()[rows].mean()) for c in RANKS}, len(table), resamples)
        means = [table[c].mean() for c in RANKS]
        errors = np.array([[m - ci[c][0], ci[c][1] - m] for m, c in zip(means, RANKS)]).T
        ax.bar(range(len(RANKS)), means, yerr=errors, capsize=4, color=["tab:green", "tab:gray", "tab:red"], alpha=0.6)
        jitter = np.random.default_rng(0).uniform(-0.25, 0.25, len(table))
        for x, c in enumerate(RANKS):
            ax.scatter(x + jitter, table[c], s=6, color="black", alpha=0.5)
        ax.set_xticks(range(len(RANKS)), [f"class's {c}" if c != "all units" else c for c in RANKS], fontsize=8)
        ax.set_ylabel("top-image peaks on the class's objects (%)", fontsize=8)
        ax.set_title(f"{name} ({len(table)} classes)", fontsize=9)
        ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def show_pool_rows(classifier: PretrainedClassifier, pool: UnitPool, sources: PoolSources, units: Sequence[int], count: int = 5,
                   labels: Sequence[str] | None = None, group_names: Sequence[str] = (), size: float = 1.8):
    """The paper's Fig. 13 rows from the big pool: one row per unit, its ``count`` most activating pool images,
    the unit's map recomputed on each and outlined where it exceeds half its peak there (the rest dimmed),
    the peak cell's centre marked, each image captioned with its source and class. Returns the figure."""
    tops = top_images(pool.peak, count)
    fig, axes = plt.subplots(len(units), count, figsize=(size * count, size * 1.12 * len(units)), squeeze=False)
    with torch.no_grad(), CAM(classifier.model) as cam:
        for row, unit in enumerate(units):
            for col, i in enumerate(tops[unit]):
                image, _ = sources.render(int(pool.part[i]), int(pool.index[i]))
                batch = to_batch(image[None], 224, classifier.mean, classifier.std)
                unit_map = cam.features(batch.to(next(classifier.model.parameters()).device)).cpu()[:, unit]
                big = upsample(unit_map[None], image.shape[:2])[0, 0].numpy()
                inside = big > 0.5 * big.max()
                ax = axes[row, col]
                _show_region(ax, image, inside)
                r, c = divmod(int(pool.where[i, unit]), pool.side)
                ax.plot((c + 0.5) / pool.side * image.shape[1], (r + 0.5) / pool.side * image.shape[0], "r+", ms=8)
                ax.set_title(sources.describe(int(pool.part[i]), int(pool.index[i]), classifier.class_names, group_names),
                             fontsize=6)
                if col == 0:
                    ax.set_ylabel(labels[row] if labels is not None else f"unit {unit}", fontsize=8)
    fig.tight_layout()
    return fig


def interval_claim(claim: str, table: pd.DataFrame, intervals: pd.DataFrame, a: str, b: str) -> dict[str, str]:
    """A claim / measured / holds? row for "column ``a`` of a :func:`class_hits` ``table`` is above column ``b``",
    judged by the ``"a - b"`` row of :func:`paired_intervals`."""
    row = intervals.loc[f"{a} - {b}"]
    return {"claim": claim,
            "measured": f"{a} {table[a].mean():.1f}% vs {b} {table[b].mean():.1f}%: {row['mean']:+.1f} points, "
                        f"95% CI [{row['low']:+.1f}, {row['high']:+.1f}] over {len(table)} classes",
            "holds?": str(row["verdict"])}
