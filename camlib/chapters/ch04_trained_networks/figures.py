"""The chapter's figures: the threshold-sensitivity curves and example maps with their boxes."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from camlib.cam.box_rules import boxes_from_cams
from camlib.chapters.ch04_trained_networks.results import Examples
from camlib.cam.box_rules import PAPER_THRESHOLD, RELEASED_THRESHOLD
from camlib.methods.map_methods import MapMethod
from camlib.models.preprocess import normalize_images
from camlib.app.plots import draw_boxes, overlay


def plot_threshold_curves(curves: pd.DataFrame, released: dict[str, float] | None = None, ax=None) -> Figure:
    """GT-known accuracy against the box threshold, one line per column of ``curves``
    (:func:`~camlib.book.paper_tables.threshold_curves`), with the paper's 20% and the released
    code's 20/255 marked; ``released`` adds each row's accuracy under the released multi-threshold
    rule as a star at 20/255 (its largest box usually comes from that lowest threshold)."""
    fig, ax = (plt.subplots(figsize=(9, 4)) if ax is None else (ax.figure, ax))
    for i, column in enumerate(curves.columns):
        line, = ax.plot(100 * curves.index, curves[column], label=column, color=f"C{i}",
                        linestyle=":" if column == "centre baseline" else "-")
        if released and column in released and np.isfinite(released[column]):
            ax.plot(100 * RELEASED_THRESHOLD, released[column], marker="*", markersize=11, color=line.get_color(),
                    markeredgecolor="black", linestyle="none")
    ax.axvline(100 * PAPER_THRESHOLD, color="black", linestyle="--", linewidth=1)
    ax.axvline(100 * RELEASED_THRESHOLD, color="grey", linestyle="--", linewidth=1)
    top = ax.get_ylim()[1] * 1.15  # head room for the labels, above every curve
    ax.set_ylim(top=top)
    ax.text(100 * PAPER_THRESHOLD + 1, top * 0.98, "paper: 20%", va="top", fontsize=8)
    ax.text(100 * RELEASED_THRESHOLD + 1, top * 0.92, "released code: 20/255", va="top", fontsize=8, color="dimgrey")
    if released:
        ax.plot([], [], marker="*", color="white", markeredgecolor="black", linestyle="none", markersize=11,
                label="released multi-threshold rule")
    ax.set_xlabel("box threshold (% of the map's maximum)")
    ax.set_ylabel("GT-known localization accuracy (%)")
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def show_examples(methods: dict[str, MapMethod], examples: Examples, size: float = 1.9) -> Figure:
    """One row per map method, one column per example: the top-1 class's map over the image, the
    ground-truth boxes (green) and the predicted box by the 20% rule (red, "ok" if the class is right)."""
    images = normalize_images(examples.images, examples.mean, examples.std)
    fig, axes = plt.subplots(len(methods), len(images), figsize=(size * len(images), size * len(methods) + 0.3),
                             squeeze=False)
    for row, (name, method) in zip(axes, methods.items()):
        with method:
            top = method.predict(images).argmax(dim=1, keepdim=True)
            maps = method(images, top)[:, 0].cpu().numpy()
        boxes = boxes_from_cams(maps, PAPER_THRESHOLD)
        for i, ax in enumerate(row):
            predicted = int(top[i, 0])
            ax.imshow(overlay(examples.images[i], maps[i]))
            draw_boxes(ax, examples.boxes[i], colors="lime")
            draw_boxes(ax, boxes[i], colors="red")
            verdict = "ok" if predicted == examples.labels[i] else "wrong"
            ax.set_title(f"{examples.class_names[predicted]} ({verdict})", fontsize=7)
            ax.set_xticks([])
            ax.set_yticks([])
        row[0].set_ylabel(name, fontsize=8)
    fig.tight_layout()
    return fig
