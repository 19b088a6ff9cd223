"""The chapter's figures: units' top images with their receptive fields, CAMs split into units, hit rates."""
from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from camlib.cam import CAM, upsample
from camlib.methods.features import to_batch
from camlib.metrics.bootstrap import RESAMPLES, bootstrap_intervals
from camlib.models.pretrained import PretrainedClassifier
from camlib.chapters.ch11_units.peak_hits import RANKS, top_images
from camlib.chapters.ch11_units.pool_sources import PoolSources
from camlib.chapters.ch11_units.ranking import _features, rank_units, top_activating
from camlib.chapters.ch11_units.receptive_fields import unit_masks
from camlib.chapters.ch11_units.unit_pool import UnitPool


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


def plot_hit_rates(tables: dict[str, pd.DataFrame], resamples: int = RESAMPLES, size: tuple[float, float] = (9.0, 3.2)):
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
