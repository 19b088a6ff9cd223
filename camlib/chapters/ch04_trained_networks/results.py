"""What a scale's run hands to the chapter: evaluations by table row, and how rows map to the paper's."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from camlib.chapters.ch04_trained_networks.claims_table import Roles
from camlib.evaluation import Evaluation, GtKnownScores
from camlib.map_methods import MapMethod
from camlib.train import TrainResult


@dataclass
class Examples:
    """A few test images to draw: ``images`` uint8 ``(B, H, W, 3)`` as the networks see them (resized),
    ``labels`` ``(B,)``, ``boxes``: B arrays ``(M_i, 4)`` in their pixels, and ``class_names``."""

    images: np.ndarray
    labels: np.ndarray
    boxes: list[np.ndarray]
    class_names: tuple[str, ...]


@dataclass
class Results:
    """The chapter's measurements at one scale.

    Attributes:
        classification: Table 1 rows -> evaluation (its classification errors are used).
        localization: Table 2 rows -> evaluation; ``roles.gap``'s also carries Table 3's heuristics.
        centre: the centre baseline's ground-truth-map scores.
        paper_rows: ``{"table1" | "table2" | "table3": {our row: paper row}}`` for ``side_by_side``.
        roles: which rows the paper's claims compare.
        methods: Table 2 rows -> the map method (with its network) to redraw maps with.
        examples: a few test images for figures.
        seconds: training time of this call (0 when every network came from its checkpoint).
        training: Table 1 rows -> their training record (per-epoch loss and accuracy), for the
            networks trained (or fine-tuned) by this run.
    """

    classification: dict[str, Evaluation]
    localization: dict[str, Evaluation]
    centre: GtKnownScores
    paper_rows: dict[str, dict[str, str]]
    roles: Roles
    methods: dict[str, MapMethod] = field(repr=False)
    examples: Examples = field(repr=False)
    seconds: float = 0.0
    training: dict[str, TrainResult] = field(default_factory=dict, repr=False)

    @property
    def gt_known(self) -> dict[str, GtKnownScores]:
        """The ground-truth-map scores of every Table 2 row, then the centre baseline."""
        return {**{row: e.gt_known for row, e in self.localization.items()}, "centre baseline": self.centre}
