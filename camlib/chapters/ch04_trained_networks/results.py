"""What a scale's run hands to the chapter: evaluations by table row and seed, and how rows map to the paper's."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

import numpy as np
import torch
from torch import nn

from camlib.chapters.ch04_trained_networks.claims_table import Roles
from camlib.utils.errors import CamlibError
from camlib.evaluation.batches import EvalBatch
from camlib.evaluation.evaluate import Evaluation, GtKnownEvaluator, GtKnownScores
from camlib.methods.map_methods import MapMethod
from camlib.metrics.bootstrap import select_rows
from camlib.models.preprocess import IMAGENET_MEAN, IMAGENET_STD
from camlib.training.train import TrainResult


@dataclass(frozen=True)
class Classification:
    """A network's classification of the test images: ``hits`` bool ``(N, 2)``, top-1 and top-5 right."""

    hits: np.ndarray

    @classmethod
    def of(cls, evaluation: Evaluation) -> "Classification":
        """The classification part of an :class:`~camlib.evaluation.evaluate.Evaluation` (which kept its per-image record)."""
        if evaluation.per_image is None:
            raise CamlibError(f"the evaluation of {evaluation.method} kept no per-image record")
        return cls(select_rows(evaluation.per_image.hits, evaluation.record_rows))

    @classmethod
    def measure(cls, model: nn.Module, batches: Iterable[EvalBatch], topk: int = 5) -> "Classification":
        """Classify ``batches`` with ``model`` (for a network without maps, such as the fc head)."""
        hits, device = [], next(model.parameters(), torch.empty(0)).device
        with torch.no_grad():
            for batch in batches:
                logits = model(batch.images.to(device))
                top = logits.topk(min(topk, logits.shape[1]), dim=1).indices.cpu().numpy()
                labels = batch.labels.numpy()
                hits.append(np.stack([top[:, 0] == labels, (top == labels[:, None]).any(axis=1)], axis=1))
        return cls(np.concatenate(hits))

    @property
    def count(self) -> int:
        return len(self.hits)

    def errors(self, rows: np.ndarray | None = None) -> tuple[float, float]:
        """Top-1 and top-5 error (%) over all images or ``rows``."""
        top1, top5 = 100.0 * (1.0 - select_rows(self.hits, rows).mean(axis=0))
        return float(top1), float(top5)

    @property
    def top1_error(self) -> float:
        return self.errors()[0]

    @property
    def top5_error(self) -> float:
        return self.errors()[1]


@dataclass
class Examples:
    """A few test images to draw: ``images`` uint8 ``(B, H, W, 3)`` as the networks see them (resized),
    ``labels`` ``(B,)``, ``boxes``: B arrays ``(M_i, 4)`` in their pixels, ``class_names``, and the
    networks' input normalisation ``mean``/``std`` (on [0, 1] RGB)."""

    images: np.ndarray
    labels: np.ndarray
    boxes: list[np.ndarray]
    class_names: tuple[str, ...]
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD

    def select(self, rows: Iterable[int]) -> "Examples":
        """The examples ``rows``, in that order."""
        rows = list(rows)
        return Examples(self.images[rows], self.labels[rows], [self.boxes[i] for i in rows], self.class_names,
                        self.mean, self.std)


@dataclass
class Results:
    """The chapter's measurements at one scale, one entry per seed (one seed at full scale).

    Attributes:
        classification: Table 1 rows -> per seed, the classification of the test images.
        localization: Table 2 rows -> per seed, the evaluation; ``roles.gap``'s also carries Table 3's heuristics.
        centre: the centre baseline's ground-truth-map scores.
        paper_rows: ``{"table1" | "table2" | "table3": {our row: paper row}}`` for ``side_by_side``.
        roles: which rows the paper's claims compare.
        methods: Table 2 rows -> the first seed's map method (with its network) to redraw maps with.
        examples: a few test images for figures.
        seconds: training time of this call (0 when every network came from its checkpoint).
        training: Table 1 rows -> per seed, the training record (per-epoch loss and accuracy).
        largest_box_share: ``(N,)`` share of each test image covered by its largest box (size bins), if known.
        objects: ``(N,)`` the object each test image shows (the unit of independence of the intervals), if known.
        centre_record: the centre baseline's evaluator, which scores any subset of the test images, if kept.
    """

    classification: dict[str, list[Classification]]
    localization: dict[str, list[Evaluation]]
    centre: GtKnownScores
    paper_rows: dict[str, dict[str, str]]
    roles: Roles
    methods: dict[str, MapMethod] = field(repr=False)
    examples: Examples = field(repr=False)
    seconds: float = 0.0
    training: dict[str, list[TrainResult]] = field(default_factory=dict, repr=False)
    largest_box_share: np.ndarray | None = field(default=None, repr=False)
    objects: np.ndarray | None = field(default=None, repr=False)
    centre_record: GtKnownEvaluator | None = field(default=None, repr=False)

    @property
    def seeds(self) -> int:
        """How many seeds each row was trained with."""
        return len(next(iter(self.localization.values())))

    def seed(self, k: int) -> tuple[dict[str, Classification], dict[str, Evaluation]]:
        """Seed ``k``'s classification and localization rows."""
        return ({row: runs[k] for row, runs in self.classification.items()},
                {row: runs[k] for row, runs in self.localization.items()})

    @property
    def gt_known(self) -> dict[str, GtKnownScores]:
        """The first seed's ground-truth-map scores of every Table 2 row, then the centre baseline."""
        return {**{row: runs[0].gt_known for row, runs in self.localization.items()}, "centre baseline": self.centre}
