"""Chapter 1's experiment: GAP and GMP networks converted from the same ImageNet network, fine-tuned the same way.

Each network is EfficientNet-Lite0 cut at its 14x14 map, given the paper's head (a 3x3 conv, then global
average or max pooling and a linear layer: :func:`camlib.models.heads.paper_head`) and fine-tuned with the
stride-16 stage below it on composites of photographed objects (:mod:`camlib.training.finetune`), with several seeds,
by the project's command (``python -m camlib.commands.retrain``); it ships as a checkpoint. Here it classifies the
test composites, whose objects (stamps) it never saw. Chapter 4 reads the same networks and scores their
localization.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from camlib.training import finetune
from camlib.cam import CAM, normalize_maps, upsample
from camlib.book.claims import CLASSIFY_EQUALLY_MARGIN, contain, equivalence_verdict
from camlib.data.generators.composites import load_composites
from camlib.metrics.bootstrap import RESAMPLES, cluster_seed_intervals, minimum_detectable_effect
from camlib.models.gap import count_parameters
from camlib.app.plots import draw_boxes, overlay
from camlib.data.sets.real_photos import first_of_each_label, grouped_photos
from camlib.evaluation.batches import resized_photo, scale_boxes
from camlib.models.preprocess import normalize_images
from camlib.models.pretrained import load_pretrained
from camlib.training.stamp_groups import group_names
from camlib.utils.progress import progress
from camlib.training.train import TrainResult
from camlib.cam.box_rules import PAPER_THRESHOLD

#: Network name -> head kind of :func:`camlib.models.heads.paper_head`.
HEADS = {"GAP": "gap", "GMP": "gmp"}


@dataclass
class HeadRuns:
    """Per network, per seed: ``hits`` bool ``(N, 2)`` (top-1 and top-2 right on the test images), the
    training record, and the parameters fine-tuned (the tuned blocks and the head); ``objects`` ``(N,)``
    names the object each test image shows (the unit of independence)."""

    hits: dict[str, list[np.ndarray]]
    training: dict[str, list[TrainResult]]
    parameters: dict[str, int]
    objects: np.ndarray

    @property
    def seeds(self) -> int:
        return len(next(iter(self.hits.values())))

    def error(self, head: str, seed: int, rows: np.ndarray | None = None, k: int = 1) -> float:
        """Top-``k`` test error (%) of ``head`` trained with seed index ``seed``, over all images or ``rows``."""
        hits = self.hits[head][seed][:, k - 1]
        return 100.0 * (1.0 - float((hits if rows is None else hits[rows]).mean()))


def compare_heads(seeds: tuple[int, ...] = finetune.TUNED_SEEDS) -> HeadRuns:
    """Load the shipped GAP and GMP networks of every seed (:func:`camlib.training.finetune.shipped_tuned`) and classify
    the test composites of :func:`camlib.training.finetune.tuned_spec`."""
    objects = load_composites(finetune.tuned_spec(), progress=False)["test"].objects()
    runs = HeadRuns({h: [] for h in HEADS}, {h: [] for h in HEADS}, {}, objects)
    for seed, head in progress([(s, h) for s in seeds for h in HEADS], desc="load networks"):
        net, fit = finetune.shipped_tuned(HEADS[head], 16, seed)
        maps, labels = finetune.test_low_maps(net)
        top = finetune.upper_logits(net.upper, maps).topk(2, dim=1).indices.numpy()
        truth = labels.numpy()
        runs.hits[head].append(np.stack([top[:, 0] == truth, (top == truth[:, None]).any(axis=1)], axis=1))
        runs.training[head].append(fit)
        runs.parameters[head] = count_parameters(net.upper.tuned) + count_parameters(net.upper.head)
    return runs


def heads_table(runs: HeadRuns) -> pd.DataFrame:
    """Per network: the parameters fine-tuned, epochs, the last epoch's training loss and error, and
    the top-1 / top-2 test error (%), each the mean over seeds."""
    rows = {}
    for head in runs.hits:
        fits = runs.training[head]
        rows[head] = {
            "parameters fine-tuned": runs.parameters[head],
            "epochs": float(np.mean([len(f.history) for f in fits])),
            "train loss, last epoch": float(np.mean([f.history[-1]["loss"] for f in fits])),
            "train error, last epoch": float(np.mean([100.0 - f.history[-1]["accuracy"] for f in fits])),
            "top-1 error": float(np.mean([runs.error(head, s) for s in range(runs.seeds)])),
            "top-2 error": float(np.mean([runs.error(head, s, k=2) for s in range(runs.seeds)])),
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def gap_gmp_claim(runs: HeadRuns, resamples: int = RESAMPLES) -> dict[str, float | str]:
    """GMP's top-1 test error minus GAP's (mean over seeds), its 95% interval resampling objects and seeds
    (:func:`camlib.metrics.bootstrap.cluster_seed_intervals`), the smallest difference the test could
    detect, and the verdict on "GAP and GMP classify about equally" against :data:`CLASSIFY_EQUALLY_MARGIN`."""
    gmp_minus_gap = lambda k, rows: {"d": runs.error("GMP", k, rows) - runs.error("GAP", k, rows)}  # noqa: E731
    difference = float(np.mean([gmp_minus_gap(k, None)["d"] for k in range(runs.seeds)]))
    low, high = cluster_seed_intervals(gmp_minus_gap, runs.seeds, runs.objects, resamples)["d"]
    low, high = contain(difference, low, high)
    return {"difference": difference, "low": low, "high": high, "detectable": minimum_detectable_effect(low, high),
            "objects": len(np.unique(runs.objects)), "verdict": equivalence_verdict(difference, low, high, CLASSIFY_EQUALLY_MARGIN)}


@dataclass
class HeadMaps:
    """Images ``(N, S, S, 3)`` uint8, their object masks (each image's instances merged, ``(N, S, S)`` bool; ``None``
    for real photos, which have ``boxes`` instead: N arrays ``(M_i, 4)`` in the images' pixels), labels ``(N,)``,
    and per network its CAM of the true class ``(N, S, S)`` in [0, 1]."""

    images: np.ndarray
    masks: np.ndarray | None
    labels: np.ndarray
    maps: dict[str, np.ndarray]
    boxes: list[np.ndarray] | None = None


def _true_class_maps(seed: int, low_of: Callable[[finetune.ConvertedNet], torch.Tensor], labels: torch.Tensor,
                     size: int) -> dict[str, np.ndarray]:
    """Each head's CAM of ``labels`` ``(N,)``, upsampled to ``size`` and scaled to [0, 1], from the frozen layers'
    maps ``low_of(net)`` of the shipped network trained with ``seed``."""
    maps = {}
    for head, kind in HEADS.items():
        net, _ = finetune.shipped_tuned(kind, 16, seed)
        device = next(net.parameters()).device
        with CAM(net.upper.eval()) as cam:
            result = cam(low_of(net).float().to(device), classes=labels[:, None].to(device))
        maps[head] = normalize_maps(upsample(result.maps[:, 0:1].cpu(), (size, size)))[:, 0].numpy()
    return maps


def head_maps(seed: int = 0, rows: np.ndarray | None = None) -> HeadMaps:
    """The CAMs of the true class by the shipped GAP and GMP networks trained with ``seed``, on the test
    composites ``rows`` (all by default), upsampled to the image."""
    split = load_composites(finetune.tuned_spec(), progress=False)["test"]
    rows = np.arange(len(split)) if rows is None else np.asarray(rows)
    rendered = [split.render(int(i)) for i in rows]
    images = np.stack([image for image, _ in rendered])
    masks = np.stack([instance_masks.any(axis=0) for _, instance_masks in rendered])
    labels = torch.from_numpy(split.labels[rows].astype(np.int64))
    maps = _true_class_maps(seed, lambda net: finetune.test_low_maps(net)[0][rows], labels, split.size)
    return HeadMaps(images, masks, labels.numpy(), maps)


def photo_head_maps(seed: int = 0, size: int = 224) -> HeadMaps:
    """The same CAMs on the first hand-boxed real photo of each stamp group the photos show
    (:func:`camlib.data.sets.real_photos.grouped_photos`), each resized whole to ``size``: no masks, the boxes."""
    photos = grouped_photos(group_names())
    photos = [photos[i] for i in first_of_each_label(photos)]
    images = np.stack([resized_photo(p, size) for p in photos])
    labels = torch.tensor([int(p.labels[0]) for p in photos])
    lite = load_pretrained(finetune.NETWORK)
    inputs = normalize_images(images, lite.mean, lite.std)

    def low_of(net: finetune.ConvertedNet) -> torch.Tensor:
        with torch.no_grad():
            return net.low(inputs.to(next(net.parameters()).device))

    return HeadMaps(images, None, labels.numpy(), _true_class_maps(seed, low_of, labels, size),
                    [scale_boxes(p.boxes, p.size, size) for p in photos])


def coverage_table(maps: HeadMaps, threshold: float = PAPER_THRESHOLD) -> pd.DataFrame:
    """Per head, means over images (%): the share of the CAM's mass that lies on the object (the object's share
    of the image is the level of a map that ignores it), and the shares of the object's and of the background's
    pixels where the CAM is above ``threshold`` of its maximum (what the paper's box rule keeps)."""
    area = maps.masks.mean(axis=(1, 2))
    rows = {"object's share of the image": {"CAM mass on the object": 100 * area.mean()}}
    for head, cams in maps.maps.items():
        above = cams >= threshold
        rows[head] = {
            "CAM mass on the object": 100 * ((cams * maps.masks).sum(axis=(1, 2)) / cams.sum(axis=(1, 2))).mean(),
            "object pixels above 20%": 100 * ((above & maps.masks).sum(axis=(1, 2)) / maps.masks.sum(axis=(1, 2))).mean(),
            "background pixels above 20%": 100 * ((above & ~maps.masks).sum(axis=(1, 2))
                                                  / (~maps.masks).sum(axis=(1, 2)).clip(min=1)).mean(),
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def plot_head_maps(maps: HeadMaps, class_names: tuple[str, ...], shown: int = 6, size: float = 1.9) -> plt.Figure:
    """The first ``shown`` images, then each head's CAM of the true class over them (object outline, or the
    hand-drawn boxes of a real photo, in white)."""
    fig, axes = plt.subplots(len(maps.maps) + 1, shown, figsize=(size * shown, size * (len(maps.maps) + 1) + 0.2), squeeze=False)
    for i in range(shown):
        axes[0, i].imshow(maps.images[i])
        axes[0, i].set_title(class_names[maps.labels[i]], fontsize=8)
        for row, (head, cams) in enumerate(maps.maps.items(), start=1):
            axes[row, i].imshow(overlay(maps.images[i], cams[i]))
            if maps.masks is not None:
                axes[row, i].contour(maps.masks[i], levels=[0.5], colors="white", linewidths=0.8)
            if maps.boxes is not None:
                draw_boxes(axes[row, i], maps.boxes[i], colors="white", linewidth=1.0)
    for row, name in enumerate(["image", *maps.maps]):
        axes[row, 0].set_ylabel(name, fontsize=9)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return fig
