"""Class-specific units (Sec. 5 of the paper): the last conv layer's units ranked by their softmax weight.

A CAM is a weighted sum of unit maps, ``M_c = sum_k w_k^c f_k``, so the units with the largest
``w_k^c`` are the parts the class is built from. This module ranks them, finds the images that
activate a unit most, segments a unit's receptive field by a threshold (as Network Dissection does:
the top ``1 - quantile`` of the unit's upsampled activations over a data set), scores those masks
against object masks, and measures how much of a CAM the top-k units already explain.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from camlib import frozen_heads
from camlib.cam import upsample
from camlib.errors import CamlibError

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
            shown = images[index].astype(np.float32) / 255.0
            ax.imshow(np.where(masks[index][:, :, None], shown, 0.35 * shown))
            ax.contour(masks[index], levels=[0.5], colors="yellow", linewidths=1.0)
            ax.set_xticks([])
            ax.set_yticks([])
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


def frozen_gap_head(seed: int = 0) -> UnitSource:
    """Chapters 1 and 4's GAP head (trained with ``seed``, loaded from its checkpoint or trained) on
    EfficientNet-Lite0's frozen 14x14 trunk, with the test composites of photographed objects."""
    spec = frozen_heads.group_composites(frozen_heads.CPU_TRAIN_IMAGES, frozen_heads.CPU_TEST_IMAGES)
    data = frozen_heads.lite_maps(spec, ("train", "test"))
    names = frozen_heads.group_names()
    head, _ = frozen_heads.train_head("gap", data.maps["train"][16], data.labels["train"], len(names), seed, data.key,
                                      frozen_heads.CPU_WIDTH, frozen_heads.HEAD_TRAINING)
    with torch.no_grad():
        features = head.head_conv(data.maps["test"][16].to(next(head.parameters()).device)).cpu()
    test = data.splits["test"]
    rendered = [test.render(i) for i in range(len(test))]
    images, masks = np.stack([image for image, _ in rendered]), np.stack([m.any(axis=0) for _, m in rendered])
    return UnitSource(images, features, head.fc.weight.detach().cpu(), head.fc.bias.detach().cpu(),
                      test.labels.astype(np.int64), masks, names)
