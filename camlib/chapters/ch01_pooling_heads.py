"""Chapter 1's experiment: GAP and GMP heads on the same frozen ImageNet trunk.

Each head (:func:`camlib.models.heads.paper_head`) is trained with several seeds on EfficientNet-Lite0's
cached 14x14 maps of composites of photographed objects (:mod:`camlib.frozen_heads`) until its
training loss flattens, then classifies the test composites, whose objects (stamps) it never saw.
Chapter 4 trains the same heads on the same data (and so reuses these checkpoints) and scores
their localization.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from camlib import frozen_heads
from camlib.metrics.bootstrap import seed_image_intervals
from camlib.models.gap import count_parameters
from camlib.progress import progress
from camlib.train import TrainConfig, TrainResult

#: Head name -> head kind of :func:`camlib.models.heads.paper_head`.
HEADS = {"GAP": "gap", "GMP": "gmp"}
TRUNK = "efficientnet-lite0"


@dataclass
class HeadRuns:
    """Per head, per seed: ``hits`` bool ``(N, 2)`` (top-1 and top-2 right on the test images), the
    training record, and the head's parameter count (the frozen trunk's are not counted)."""

    hits: dict[str, list[np.ndarray]]
    training: dict[str, list[TrainResult]]
    parameters: dict[str, int]

    @property
    def seeds(self) -> int:
        return len(next(iter(self.hits.values())))

    def error(self, head: str, seed: int, rows: np.ndarray | None = None, k: int = 1) -> float:
        """Top-``k`` test error (%) of ``head`` trained with seed index ``seed``, over all images or ``rows``."""
        hits = self.hits[head][seed][:, k - 1]
        return 100.0 * (1.0 - float((hits if rows is None else hits[rows]).mean()))


def compare_heads(train_images: int = frozen_heads.CPU_TRAIN_IMAGES, test_images: int = frozen_heads.CPU_TEST_IMAGES,
                  seeds: tuple[int, ...] = frozen_heads.CPU_SEEDS, width: int = frozen_heads.CPU_WIDTH,
                  config: TrainConfig = frozen_heads.HEAD_TRAINING) -> HeadRuns:
    """Train (or load) every head of :data:`HEADS` with every seed on the same cached trunk maps (by the
    training rule ``config``) and classify the test composites."""
    spec = frozen_heads.group_composites(train_images, test_images)
    data = frozen_heads.lite_maps(spec, ("train", "test"), name=TRUNK)
    classes, test_maps = len(frozen_heads.group_names()), data.maps["test"][16]
    runs = HeadRuns({h: [] for h in HEADS}, {h: [] for h in HEADS}, {})
    for seed, head in progress([(s, h) for s in seeds for h in HEADS], desc="train heads"):
        model, fit = frozen_heads.train_head(HEADS[head], data.maps["train"][16], data.labels["train"], classes, seed,
                                             data.key, width, config, desc=f"{head}, seed {seed}")
        with torch.no_grad():
            top = model(test_maps.to(next(model.parameters()).device)).topk(2, dim=1).indices.cpu().numpy()
        truth = data.labels["test"].numpy()
        runs.hits[head].append(np.stack([top[:, 0] == truth, (top == truth[:, None]).any(axis=1)], axis=1))
        runs.training[head].append(fit)
        runs.parameters[head] = count_parameters(model)
    return runs


def heads_table(runs: HeadRuns) -> pd.DataFrame:
    """Per head: its parameters, epochs to the stopping rule, the last epoch's training loss and error, and
    the top-1 / top-2 test error (%), each the mean over seeds."""
    rows = {}
    for head in runs.hits:
        fits = runs.training[head]
        rows[head] = {
            "head parameters": runs.parameters[head],
            "epochs": float(np.mean([len(f.history) for f in fits])),
            "train loss, last epoch": float(np.mean([f.history[-1]["loss"] for f in fits])),
            "train error, last epoch": float(np.mean([100.0 - f.history[-1]["accuracy"] for f in fits])),
            "top-1 error": float(np.mean([runs.error(head, s) for s in range(runs.seeds)])),
            "top-2 error": float(np.mean([runs.error(head, s, k=2) for s in range(runs.seeds)])),
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def gap_gmp_claim(runs: HeadRuns, resamples: int = 300) -> dict[str, float | str]:
    """GMP's top-1 test error minus GAP's (mean over seeds), its 95% interval over seeds and images
    (:func:`camlib.metrics.bootstrap.seed_image_intervals`) and the verdict on "GAP and GMP classify
    about equally": "yes" when the interval contains 0."""
    n = len(runs.hits["GAP"][0])
    gap_minus = lambda k, rows: {"d": runs.error("GMP", k, rows) - runs.error("GAP", k, rows)}  # noqa: E731
    difference = float(np.mean([gap_minus(k, None)["d"] for k in range(runs.seeds)]))
    low, high = seed_image_intervals(gap_minus, runs.seeds, n, resamples)["d"]
    return {"difference": difference, "low": low, "high": high, "verdict": "yes" if low <= 0 <= high else "no"}
