"""Figures of the VQA chapter: scenes with their questions, and answer CAMs like the paper's Fig. 12."""
from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch

from camlib.chapters.ch10_vqa.dataset import VQASplit
from camlib.app.plots import overlay
from camlib.evaluation.pointing import peaks


def _grid(count: int, ncols: int, size: float, height: float):
    ncols = min(ncols, count)
    nrows = int(np.ceil(count / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, height * nrows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    return fig, axes.flat


def show_scenes(split: VQASplit, images: Sequence[int], ncols: int = 4, size: float = 3.0):
    """Scenes with every question asked about them and its answer. Returns the figure."""
    fig, axes = _grid(len(images), ncols, size, size * 1.35)
    q = split.questions
    for ax, index in zip(axes, images):
        ax.imshow(split.images[index])
        lines = [f"{t} {a}" for t, a, i in zip(q.text, q.answer, q.image_index) if i == index]
        ax.set_title("\n".join(lines), fontsize=7.5, loc="left")
    fig.tight_layout()
    return fig


def show_answer_cams(split: VQASplit, rows: Sequence[int], cams: torch.Tensor, answers: Sequence[str],
                     ncols: int = 4, size: float = 3.0):
    """The paper's Fig. 12 idea: for questions ``rows`` of ``split``, the CAM of the predicted answer
    over the image, its peak (+) and the outline of the object the question is about (white).

    ``cams`` (Q, h, w) and ``answers`` (Q,) cover all the split's questions. Returns the figure.
    """
    q = split.questions
    rows = list(rows)
    masks = split.evidence_masks(np.asarray(rows))
    points = peaks(cams[rows], masks.shape[1:])  # (y, x)
    fig, axes = _grid(len(rows), ncols, size, size * 1.25)
    for ax, row, mask, point in zip(axes, rows, masks, points):
        ax.imshow(overlay(split.images[q.image_index[row]], cams[row], alpha=0.45))
        if mask.any():
            ax.contour(mask, levels=[0.5], colors="white", linewidths=1.2)
        ax.plot(point[1], point[0], marker="+", color="white", markersize=14, markeredgewidth=2.5)
        verdict = "right" if answers[row] == q.answer[row] else f"wrong, truth: {q.answer[row]}"
        ax.set_title(f"Q: {q.text[row]}\nA: {answers[row]} ({verdict})", fontsize=8)
    fig.tight_layout()
    return fig
