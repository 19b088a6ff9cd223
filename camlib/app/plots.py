"""Pictures people would rather see than read: CAM overlays and labelled boxes (``camlib cam``'s overlays and the
chapters' figures draw with these)."""
from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.patches import Rectangle
from PIL import Image

from camlib.cam.compute import normalize_maps


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
