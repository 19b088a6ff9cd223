"""The chapter's figures: example test images, the accuracies of every feature, and CAM boxes of the generic
localization."""
from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np

from camlib.chapters.ch06_transfer.features import CUT_ROW, FLOOR_ROW, TUNED_ROW
from camlib.chapters.ch06_transfer.localization import GenericLocalization
from camlib.chapters.ch06_transfer.scores import Scores
from camlib.chapters.ch06_transfer.tasks import PhotoSet, StampTask
from camlib.data.sets.localization_split import LocalizationSplit
from camlib.book.figures import draw_cam_and_boxes


def show_examples(task: StampTask, title: str, ncols: int = 7, size: float = 1.75):
    """The first test image of each class, with its largest object's box (green)."""
    nrows = -(-len(task.class_names) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + 0.6), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for c, ax in zip(range(len(task.class_names)), axes.flat):
        i = int(np.flatnonzero(task.test_labels == c)[0])
        ax.imshow(task.test_images[i])
        x0, y0, x1, y1 = task.test.boxes[i]
        ax.add_patch(plt.Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, color="lime", linewidth=1.2))
        ax.set_title(task.class_names[c], fontsize=9)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_accuracies(scores: dict[str, Scores], rows: dict[str, Sequence[str]], chance: float):
    """One panel per task: each row's test accuracy (bar: the mean over seeds, dots: each seed where there are
    several), chance dotted."""
    fig, axes = plt.subplots(1, len(scores), figsize=(5.2 * len(scores), 0.42 * len(rows) + 1.2), sharey=True, squeeze=False)
    labels = list(rows)
    for ax, (task, score) in zip(axes[0], scores.items()):
        for y, (label, names) in enumerate(rows.items()):
            values = [score.accuracy(n) for n in names if n in score.hits]
            if not values:
                ax.text(chance + 3, y, "not measured", va="center", fontsize=8, color="grey")
                continue
            colour = "tab:orange" if label == TUNED_ROW else "lightgrey" if label in (CUT_ROW, FLOOR_ROW) else "tab:blue"
            ax.barh(y, np.mean(values), color=colour, height=0.65)
            if len(values) > 1:
                ax.plot(values, [y] * len(values), "k.", markersize=6, label="each seed")
        ax.axvline(chance, color="grey", linestyle=":", label="chance")
        ax.set(xlim=(0, 100), title=task, xlabel="test accuracy (%)")
        ax.legend(fontsize=8, loc="lower right")
    axes[0, 0].set_yticks(range(len(labels)), labels, fontsize=9)
    axes[0, 0].invert_yaxis()
    fig.tight_layout()
    return fig


def show_localization(split: LocalizationSplit | PhotoSet, result: GenericLocalization, indices: Sequence[int],
                      ncols: int = 5, size: float = 2.0):
    """The CAM of the predicted class on each chosen image, with its box (red) and the ground truth (green)."""
    indices = list(indices)
    nrows = -(-len(indices) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * 1.25 * nrows), squeeze=False)
    for ax in axes.flat[len(indices):]:
        ax.axis("off")
    for ax, i in zip(axes.flat, indices):
        draw_cam_and_boxes(ax, split.images[i], result.cams[i], split.boxes[i], result.boxes[i],
                           split.class_names[int(split.labels[i])], split.class_names[int(result.predictions[i])])
    fig.tight_layout()
    return fig
