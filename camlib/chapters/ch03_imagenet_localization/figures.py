"""The chapter's figures: the dev-split threshold curves, accuracy by object size, and the real photos
as ``camlib cam`` localizes them (the composites are drawn by :func:`camlib.book.figures.composite_sheet`)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from camlib.chapters.ch03_imagenet_localization.defaults import DevChoice
from camlib.chapters.ch03_imagenet_localization.real_photo_eval import PhotoScores
from camlib.data.sets.real_photos import RealPhoto
from camlib.app.localize import boxes_in_input
from camlib.app.plots import draw_boxes, overlay
from camlib.book.figures import composite_sheet

__all__ = ["composite_sheet", "dev_curves_plot", "size_bin_plot", "real_photo_results"]


def dev_curves_plot(choice: DevChoice) -> plt.Figure:
    """Top-1 localization accuracy on the dev split against the box threshold, one line per network
    (and the chosen network with flip averaging, dashed), the paper's 20% and the choice marked."""
    figure, ax = plt.subplots(figsize=(7, 4))
    for name, curve in choice.curves.items():
        ax.plot(curve.thresholds, curve.accuracy(), marker=".", label=name)
    flip = choice.flip_curve
    ax.plot(flip.thresholds, flip.accuracy(), "k--", label=f"{choice.setting.model} + flip")
    ax.axvline(0.2, color="grey", lw=0.8, ls=":")
    chosen = choice.flip_curve if choice.setting.flip else choice.curves[choice.setting.model]
    k = int(np.flatnonzero(np.isclose(chosen.thresholds, choice.setting.threshold))[0])
    ax.plot([choice.setting.threshold], [chosen.accuracy()[k]], "r*", markersize=14, label="chosen")
    ax.set(xlabel="box threshold (fraction of the CAM's maximum)", ylabel="top-1 localization accuracy, dev (%)",
           title="Choosing the defaults on the dev composites (dotted: the paper's 20%)")
    ax.legend(fontsize=8)
    figure.tight_layout()
    return figure


def size_bin_plot(table: pd.DataFrame, ylabel: str) -> plt.Figure:
    """A grouped bar chart of a :func:`~camlib.book.paper_tables.size_bin_table`."""
    figure, ax = plt.subplots(figsize=(7, 3.6))
    values = table.drop(columns="n")
    values.index = [f"{name}\n(n={n})" for name, n in zip(table.index, table["n"])]
    values.plot.bar(ax=ax, rot=0, width=0.8)
    ax.set(xlabel="largest box, share of the image", ylabel=ylabel)
    ax.legend(fontsize=8, ncol=2)
    figure.tight_layout()
    return figure


def real_photo_results(photos: list[RealPhoto], scores: PhotoScores, threshold: float, columns: int = 6,
                       tile: float = 2.4) -> plt.Figure:
    """Every real photo as ``camlib cam`` sees it: the top-1 CAM, the annotated boxes (green) and the
    top-1 box (red); the title gives the top-1 class, in red when the localization is wrong."""
    rows = -(-len(photos) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(columns * tile, rows * tile), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for i, (ax, photo, loc) in enumerate(zip(axes.flat, photos, scores.localizations)):
        scale = np.array([loc.input_image.width / photo.size[1], loc.input_image.height / photo.size[0]] * 2)
        gt = photo.boxes * scale
        box = boxes_in_input(loc, threshold)[0]
        top = loc.predictions[0]
        right = scores.localization.compute(np.array([i])).top1_error == 0.0  # the evaluator's own verdict
        ax.imshow(overlay(loc.input_image, loc.cams[0], alpha=0.4))
        draw_boxes(ax, gt, colors="lime", linewidth=1.2)
        draw_boxes(ax, box, colors="red", linewidth=1.5)
        ax.set_title(top.label.split(",")[0][:22], fontsize=8, color="black" if right else "firebrick")
    figure.tight_layout()
    return figure
