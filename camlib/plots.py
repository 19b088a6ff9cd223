"""Pictures people would rather see than read: CAM overlays and labelled boxes."""
from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.patches import Rectangle
from PIL import Image

from .cam.compute import normalize_maps
from .errors import CamlibError

if TYPE_CHECKING:
    import pandas as pd

    from .data.composites import CompositeSplit
    from .train import TrainResult


def _to_array(image: Image.Image | np.ndarray) -> np.ndarray:
    arr = np.asarray(image)
    return arr.astype(np.float32) / 255.0 if arr.dtype == np.uint8 else arr.astype(np.float32)


def overlay(image: Image.Image | np.ndarray, cam: np.ndarray | torch.Tensor, alpha: float = 0.5, cmap: str = "jet") -> np.ndarray:
    """Blend a CAM ``(h, w)`` (any scale; resized to the image) over an RGB image ``(H, W, 3)``."""
    rgb = _to_array(image)
    cam_t = torch.as_tensor(np.asarray(cam, dtype=np.float32))[None, None]
    cam_t = torch.nn.functional.interpolate(cam_t, size=rgb.shape[:2], mode="bilinear", align_corners=False)
    heat = plt.get_cmap(cmap)(normalize_maps(cam_t)[0, 0].numpy())[..., :3]
    return np.clip((1 - alpha) * rgb + alpha * heat, 0, 1)


def draw_boxes(
    ax: Axes,
    boxes: np.ndarray,
    labels: Sequence[str] | None = None,
    colors: Sequence[str] | str = "lime",
    linewidth: float = 2.0,
) -> None:
    """Draw boxes ``(M, 4)`` (``[x0, y0, x1, y1]``) on an axes, with optional text labels."""
    boxes = np.atleast_2d(np.asarray(boxes, dtype=np.float64))
    colors = [colors] * len(boxes) if isinstance(colors, str) else list(colors)
    for i, (x0, y0, x1, y1) in enumerate(boxes):
        ax.add_patch(Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0, fill=False, edgecolor=colors[i], linewidth=linewidth))
        if labels is not None:
            ax.text(x0, y0, labels[i], color="black", fontsize=8, va="bottom",
                    bbox=dict(facecolor=colors[i], alpha=0.8, pad=1, edgecolor="none"))


def show_cams(
    image: Image.Image | np.ndarray,
    cams: np.ndarray | torch.Tensor,
    titles: Sequence[str],
    boxes: np.ndarray | None = None,
    ncols: int = 5,
    size: float = 2.6,
):
    """A row (or grid) of CAM overlays ``(C, h, w)`` on one image, optionally with one box each.

    Returns the matplotlib figure.
    """
    cams = np.asarray(cams.detach().cpu() if isinstance(cams, torch.Tensor) else cams)
    count = len(cams)
    ncols = min(ncols, count)
    nrows = int(np.ceil(count / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= count:
            continue
        ax.imshow(overlay(image, cams[i]))
        ax.set_title(titles[i], fontsize=9)
        if boxes is not None:
            draw_boxes(ax, boxes[i])
    fig.tight_layout()
    return fig


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
    """A contact sheet of annotated photos (:func:`camlib.data.real_photos.real_photos`): each photo
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
    as recorded by :func:`camlib.train.train`: each line ends where the stopping rule stopped it."""
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
    axes[0].imshow(_to_array(image))
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


#: One colour per verdict of :data:`camlib.claims.VERDICTS` (green: held, red: did not; pale: within noise), and grey.
VERDICT_COLOURS = {"yes": "#1a9850", "yes, within noise": "#a6d96a", "no, within noise": "#fdae61", "no": "#d73027",
                   "not tested": "#bdbdbd"}


def plot_verdicts(card: "pd.DataFrame", ax=None) -> plt.Figure:
    """One horizontal bar per chapter of a scorecard (:func:`camlib.scorecard.load_scorecard`): how many of its
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
    ax.legend(fontsize=8, loc="lower right", title="verdict", title_fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig
