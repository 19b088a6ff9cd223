"""The chapter's figures: CAM boxes and crops of test images, and the margin and object-size diagnosis."""
from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np

from camlib.book.figures import draw_cam_and_boxes
from camlib.chapters.ch05_cropping.boxed_images import BoxedImages
from camlib.chapters.ch05_cropping.protocol import MARGINS
from camlib.chapters.ch05_cropping.result import SETTINGS, CroppingResult


def show_examples(test: BoxedImages, result: CroppingResult, indices: Sequence[int], size: float = 2.0):
    """Per test image (columns): the CAM of the predicted class with the ground-truth box (green) and
    the CAM box (red), then the two crops the second SVMs see. Returns the figure."""
    names = test.class_names or tuple(str(c) for c in np.unique(test.labels))
    fig, axes = plt.subplots(3, len(indices), figsize=(size * len(indices), size * 3.2), squeeze=False)
    for col, i in enumerate(indices):
        draw_cam_and_boxes(axes[0, col], np.asarray(test[i]), result.test_cams[i], test.boxes[i], result.test_boxes[i],
                           names[int(test.labels[i])], names[int(result.test_predictions[i])])
        for row, boxes in ((1, result.test_boxes), (2, test.boxes)):
            axes[row, col].imshow(test.view(96, boxes)[i])
            axes[row, col].set_xticks([])
            axes[row, col].set_yticks([])
    for row, label in enumerate(("CAM, GT box, CAM box", "CAM crop", "GT box crop")):
        axes[row, 0].set_ylabel(label, fontsize=8)
    fig.tight_layout()
    return fig


def plot_diagnosis(result: CroppingResult):
    """Left: dev accuracy of the CAM crop by margin (full image dashed). Right: test accuracy of the
    full image, the CAM crop and the GT crop by object size, with two-standard-error bars. Returns the figure."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.6))
    dev = result.dev_margins
    crops = dev.drop(index="full image")
    left.plot([100 * m for m in MARGINS[:len(crops)]], crops["dev accuracy"], "o-", label="CAM crop")
    left.axhline(dev.loc["full image", "dev accuracy"], color="grey", linestyle="--", label="full image")
    left.set_xlabel("crop margin (% of the CAM box)")
    left.set_ylabel("dev accuracy (%)")
    left.legend(fontsize=8)
    by_size = result.accuracy_by_size()
    x = np.arange(len(by_size))
    for k, setting in enumerate((*SETTINGS, "GT box crop from 224 px")):
        acc = by_size[setting].to_numpy()
        err = 2 * np.sqrt(acc * (100 - acc) / by_size["images"].to_numpy())
        right.bar(x + (k - 1.5) * 0.2, acc, 0.2, yerr=err, capsize=2, label=setting)
    right.set_xticks(x, [f"{name}\n(n={n})" for name, n in zip(by_size.index, by_size["images"])], fontsize=8)
    right.set_ylabel("test accuracy (%)")
    right.set_ylim(0, 128)  # room above 100% for the legend, which would otherwise cover bars
    right.set_yticks(range(0, 101, 20))
    right.legend(fontsize=7, loc="upper center", ncol=2)
    fig.tight_layout()
    return fig
