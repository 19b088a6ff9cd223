"""Chapter 4 (Sec. 3, Tables 1-3): weakly supervised localization by the paper's converted networks; tables, claims.

The same code serves the CPU-scale chapter (:mod:`.converted_networks`: ImageNet networks converted and
fine-tuned on composites, several seeds) and the full-scale ILSVRC runs (:mod:`camlib.chapters.ch04_trained_networks.full_scale`).
"""
from camlib.chapters.ch04_trained_networks.claims_table import Roles, claims_table, scorecard_table, summary
from camlib.evaluation.batches import EvalBatch, dataset_batches, resized_input, split_batches
from camlib.cam.box_rules import PAPER_THRESHOLD, RELEASED_THRESHOLD
from camlib.evaluation.evaluate import (
    SWEEP_THRESHOLDS,
    Evaluation,
    GtKnownScores,
    evaluate,
    evaluate_gt_known,
)
from camlib.book.paper_tables import (
    SIZE_BINS,
    box_area_table,
    modern_table,
    over_seeds,
    size_bins,
    table1,
    table2,
    table3,
    threshold_curves,
    threshold_summary,
)

__all__ = [
    "EvalBatch", "split_batches", "dataset_batches", "resized_input",
    "Evaluation", "GtKnownScores", "evaluate", "evaluate_gt_known",
    "PAPER_THRESHOLD", "RELEASED_THRESHOLD", "SWEEP_THRESHOLDS",
    "table1", "table2", "table3", "box_area_table", "over_seeds", "size_bins", "SIZE_BINS", "modern_table", "threshold_curves", "threshold_summary",
    "Roles", "claims_table", "scorecard_table", "summary",
]
