"""The book's figures: contact sheets of the photos and composites, training curves, CAM as a weighted sum drawn,
and the scorecard's verdict bars."""
from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from PIL import Image

from camlib.app.plots import draw_boxes, overlay
from camlib.utils.errors import CamlibError

if TYPE_CHECKING:
    import pandas as pd

    from camlib.data.generators.composites import CompositeSplit
    from camlib.training.train import TrainResult


def draw_cam_and_boxes(ax, image: np.ndarray, cam: torch.Tensor, gt_box: np.ndarray, cam_box: np.ndarray,
                       true: str, predicted: str) -> None:
    """One panel: the CAM over the image, the ground-truth box (green), the CAM box (red) and the
    true class as title, with the prediction below it (red when wrong)."""
    ax.imshow(overlay(image, cam, alpha=0.45))
    draw_boxes(ax, np.stack([gt_box, cam_box]), colors=["lime", "red"], linewidth=1.5)
    ax.set_title(f"{true}\n(SVM: {predicted})", fontsize=8, color="black" if predicted == true else "firebrick")
    ax.set_xticks([])
    ax.set_yticks([])


def real_photo_sheet(photos: Sequence, columns: int = 6, tile: float = 2.6) -> plt.Figure:
    """A contact sheet of annotated photos (:func:`camlib.data.sets.real_photos.real_photos`): each photo
    with every box and its class name, so anyone can check the annotations by eye."""
    rows = max(1, -(-len(photos) // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(columns * tile, rows * tile))
    for ax in np.atleast_1d(axes).ravel():
        ax.axis("off")
    for ax, photo in zip(np.atleast_1d(axes).ravel(), photos):
        ax.imshow(Image.open(photo.path).convert("RGB"))
        draw_boxes(ax, photo.boxes, labels=list(photo.class_names), colors="magenta", linewidth=1.5)
        ax.set_title(photo.file.split("/")[-1], fontsize=7)
    fig.tight_layout()
    return fig


def composite_sheet(split: "CompositeSplit", rows: np.ndarray, class_names: list[str], columns: int = 6,
                    tile: float = 2.2) -> plt.Figure:
    """Composites ``rows`` with every instance's box (green) and the class name."""
    figure, axes = plt.subplots(-(-len(rows) // columns), columns, figsize=(columns * tile, -(-len(rows) // columns) * tile),
                                squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, i in zip(axes.flat, rows):
        image, _ = split.render(int(i))
        ax.imshow(image)
        draw_boxes(ax, split.boxes(int(i)), linewidth=1.5)
        ax.set_title(class_names[split.labels[i]].split(",")[0], fontsize=8)
    figure.tight_layout()
    return figure


def plot_training_loss(training: dict[str, list["TrainResult"]], ax=None) -> plt.Figure:
    """Training loss per epoch of each network and seed (one colour per network, one line per seed),
    as recorded by :func:`camlib.training.train.train`: each line ends where the stopping rule stopped it."""
    if not training or not all(t.history for runs in training.values() for t in runs):
        raise CamlibError("plot_training_loss needs a non-empty history for every network and seed")
    fig, ax = (plt.subplots(figsize=(7, 3.5)) if ax is None else (ax.figure, ax))
    for i, (name, runs) in enumerate(training.items()):
        for k, record in enumerate(runs):
            epochs = [h["epoch"] for h in record.history]
            ax.plot(epochs, [h["loss"] for h in record.history], color=f"C{i}", marker="o", markersize=2,
                    linewidth=1, alpha=0.8, label=name if k == 0 else None)
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss (cross-entropy)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_weighted_sum(image: Image.Image | np.ndarray, features: torch.Tensor, weights: torch.Tensor, label: str,
                      shown: int = 4, size: float = 2.2) -> plt.Figure:
    """CAM as a weighted sum, drawn: the channels ``f_k`` of ``features`` ``(K, h, w)`` that add most to the
    class score (largest ``w_k * mean(f_k)``), each titled with its weight ``w_k`` from ``weights`` ``(K,)``,
    then the sum of those ``shown`` terms and the whole map ``M = sum_k w_k f_k`` over ``image``."""
    features, weights = features.detach().float().cpu(), weights.detach().float().cpu()
    if features.ndim != 3 or weights.shape != features.shape[:1]:
        raise CamlibError(f"need features (K, h, w) and weights (K,), got {tuple(features.shape)} and {tuple(weights.shape)}")
    terms = weights[:, None, None] * features                                  # (K, h, w)
    order = terms.mean(dim=(1, 2)).argsort(descending=True)[:shown]
    fig, axes = plt.subplots(1, shown + 3, figsize=(size * (shown + 3), size + 0.5))
    axes[0].imshow(np.asarray(image))
    axes[0].set_title(f"input\n(top class: {label})", fontsize=8)
    for ax, k in zip(axes[1:], order.tolist()):
        ax.imshow(features[k].numpy(), cmap="viridis")
        ax.set_title(f"channel {k}\nw = {weights[k]:+.3f}", fontsize=8)
    partial, whole = terms[order].sum(dim=0), terms.sum(dim=0)
    axes[shown + 1].imshow(partial.numpy(), cmap="jet")
    axes[shown + 1].set_title(f"sum of these {shown}\nweighted maps", fontsize=8)
    axes[shown + 2].imshow(overlay(image, whole))
    axes[shown + 2].set_title(f"all {len(weights)} channels:\nthe CAM", fontsize=8)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return fig


#: One colour per verdict of :data:`camlib.book.claims.VERDICTS` (green: held, red: did not; pale: undecided, pale
#: yellow for a tie), and grey.
VERDICT_COLOURS = {"yes": "#1a9850", "undecided, leans yes": "#a6d96a", "undecided": "#ffffbf", "undecided, leans no": "#fdae61",
                   "no": "#d73027", "not tested": "#bdbdbd"}


def plot_verdicts(card: "pd.DataFrame", ax=None) -> plt.Figure:
    """One horizontal bar per chapter of a scorecard (:func:`camlib.book.scorecard.load_scorecard`): how many of its
    claims got each verdict, coloured by :data:`VERDICT_COLOURS`."""
    counts = card.groupby(["chapter", "verdict"], sort=False).size().unstack(fill_value=0)
    counts = counts.reindex(columns=[v for v in VERDICT_COLOURS if v in counts.columns])
    fig, ax = (plt.subplots(figsize=(12, 0.4 * len(counts) + 1.6)) if ax is None else (ax.figure, ax))
    left = np.zeros(len(counts))
    for verdict in counts.columns:
        ax.barh(counts.index, counts[verdict], left=left, color=VERDICT_COLOURS[verdict], label=verdict)
        left += counts[verdict].to_numpy()
    ax.invert_yaxis()
    ax.set_xlabel("claims")
    ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
    ax.legend(fontsize=8, loc="lower right", title="verdict", title_fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig
