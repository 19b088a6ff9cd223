"""The chapter's figures: every method's map of one photo, and the methods' scores against their cost."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from camlib.app.plots import draw_boxes, overlay
from camlib.cam.box_rules import boxes_from_cams
from camlib.cam.compute import unit_maps

#: Display names of the methods.
LABELS = {"cam": "CAM", "cam-raw": "CAM, raw", "gradcam": "Grad-CAM", "gradcam++": "Grad-CAM++", "xgradcam": "XGrad-CAM", "layercam": "LayerCAM",
          "eigencam": "Eigen-CAM", "scorecam": "Score-CAM"}


def methods_on_photo(image: np.ndarray, maps: dict[str, dict[str, torch.Tensor]], seconds: dict[str, dict[str, float]],
                     thresholds: dict[str, dict[str, float]], true_boxes: np.ndarray, tile: float = 2.2) -> plt.Figure:
    """One row per network, one column per method: the map ``(H, W)`` over ``image`` ``(H, W, 3)`` in [0, 1], the
    annotated boxes (green) and the method's box at ``thresholds[network][method]`` (red); titles give each map's
    seconds."""
    methods = list(LABELS)
    figure, axes = plt.subplots(len(maps), len(methods), figsize=(len(methods) * tile, len(maps) * tile + 0.3), squeeze=False)
    for row, (network, by_method) in zip(axes, maps.items()):
        for ax, method in zip(row, methods):
            ax.axis("off")
            if method not in by_method:
                continue
            unit = unit_maps(by_method[method][None])[0].numpy()
            ax.imshow(overlay(image, unit, alpha=0.45))
            draw_boxes(ax, true_boxes, colors="lime", linewidth=1.0)
            threshold = thresholds[network].get(method)
            if threshold is not None:
                draw_boxes(ax, boxes_from_cams(unit[None], threshold), colors="red", linewidth=1.4)
            ax.set_title(f"{LABELS[method]}\n{network}, {seconds[network][method]:.2f} s", fontsize=8)
    figure.tight_layout()
    return figure


def score_against_cost(intervals: dict[str, dict[str, tuple[float, float, float]]], cost: pd.DataFrame,
                       column: str, network: str) -> plt.Figure:
    """Each method's ``column`` score on ``network`` with its interval (:func:`~.tables.method_intervals`) against
    its cost relative to CAM."""
    figure, ax = plt.subplots(figsize=(6.5, 3.6))
    for method, scores in intervals.items():
        value, low, high = scores[column]
        ratio = cost.loc[method, "x CAM"]
        ax.errorbar([ratio], [value], yerr=[[value - low], [high - value]], fmt="o", capsize=3, label=LABELS[method])
    ax.set(xlabel="cost (seconds per image, as a multiple of CAM's)", ylabel=f"{column} (%)", title=f"{network}: {column} against cost")
    ax.legend(fontsize=7, ncol=2)
    figure.tight_layout()
    return figure
