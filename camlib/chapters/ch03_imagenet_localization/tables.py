"""The chapter's tables: every number with a 95% bootstrap interval over images, the paper's beside.

Intervals are percentile bootstraps (:func:`camlib.metrics.bootstrap_intervals`) that rescore each
resample with :meth:`camlib.evaluation.evaluate.Evaluation.subset`; claims compare two rows on the same
images with a paired bootstrap of their difference (:func:`camlib.book.claims.interval_verdict`). Given
``units`` (the object each image shows, the unit of independence: several composites show the same
photographed object), every bootstrap resamples objects, each with all its images; the rows that score a
prefix of the sample use the prefix of ``units``.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd

from camlib.book.claims import paired_gain_claim
from camlib.utils.errors import CamlibError
from camlib.evaluation.evaluate import Evaluation, GtKnownScores
from camlib.metrics import bootstrap_intervals
from camlib.book.paper import paper_table
from camlib.metrics.bootstrap import RESAMPLES

Metric = Callable[[Evaluation], float]

#: Table 2's columns (errors and accuracies in %); the released rule and PxAP are NaN where not measured.
TABLE2_METRICS: dict[str, Metric] = {
    "top-1 cls err": lambda e: e.top1_error,
    "top-5 cls err": lambda e: e.top5_error,
    "top-1 loc err": lambda e: e.paper_rule.top1_error,
    "top-5 loc err": lambda e: e.paper_rule.top5_error,
    "top-1 loc err, released rule": lambda e: np.nan if e.released_rule is None else e.released_rule.top1_error,
    "GT-known loc acc": lambda e: e.paper_rule.gt_known_accuracy,
    "MaxBoxAccV2": lambda e: e.gt_known.max_box_acc_v2.value,
    "PxAP": lambda e: np.nan if e.gt_known.pxap is None else e.gt_known.pxap.value,
}


def _cell(value: float, low: float, high: float) -> str:
    return f"{value:.1f} [{low:.1f}, {high:.1f}]"


def _units(units: np.ndarray | None, count: int) -> np.ndarray | None:
    if units is not None and len(units) < count:
        raise CamlibError(f"units names {len(units)} images but the evaluation has {count}")
    return None if units is None else np.asarray(units)[:count]


def measure(evaluation: Evaluation, metrics: dict[str, Metric], resamples: int = RESAMPLES, seed: int = 0,
            units: np.ndarray | None = None) -> dict[str, str]:
    """``{metric: "value [low, high]"}`` for one evaluation (95% percentile bootstrap over its images, or over
    the ``units`` of its images); ``"n/a"`` for a metric the evaluation did not measure (NaN)."""
    values = {name: f(evaluation) for name, f in metrics.items()}
    measured = {name: metrics[name] for name, value in values.items() if not np.isnan(value)}
    intervals = bootstrap_intervals(lambda rows: {name: f(evaluation.subset(rows)) for name, f in measured.items()},
                                    evaluation.count, resamples, seed=seed, clusters=_units(units, evaluation.count))
    return {name: _cell(value, *intervals[name]) if name in measured else "n/a" for name, value in values.items()}


def interval_table(evaluations: dict[str, Evaluation], metrics: dict[str, Metric] = TABLE2_METRICS,
                   resamples: int = RESAMPLES, units: np.ndarray | None = None) -> pd.DataFrame:
    """One row per evaluation, one ``"value [low, high]"`` column per metric, and the image count ``n``
    (intervals over ``units``' prefix when given)."""
    rows = {name: {"n": e.count, **measure(e, metrics, resamples, units=units)} for name, e in evaluations.items()}
    return pd.DataFrame.from_dict(rows, orient="index")


def centre_row(scores: GtKnownScores, count: int) -> dict[str, str | int]:
    """The centre baseline's row of :func:`interval_table` (it neither classifies nor draws boxes by a rule)."""
    row: dict[str, str | int] = {"n": count, **{name: "n/a" for name in TABLE2_METRICS}}
    row["MaxBoxAccV2"] = f"{scores.max_box_acc_v2.value:.1f}"
    row["PxAP"] = "n/a" if scores.pxap is None else f"{scores.pxap.value:.1f}"
    return row


def paper_beside(evaluations: dict[str, Evaluation], paper_rows: dict[str, str]) -> pd.DataFrame:
    """Top-1 / top-5 localization error (%): ours on the composites beside the paper's row of the same
    design on ILSVRC val (Table 2)."""
    paper = paper_table("table2_localization_error")
    frame = pd.DataFrame({
        "paper row": [paper_rows.get(name, "") for name in evaluations],
        "top-1 loc err (ours)": [e.paper_rule.top1_error for e in evaluations.values()],
        "top-1 loc err (paper)": [paper.loc[paper_rows[n], "top1"] if n in paper_rows else np.nan for n in evaluations],
        "top-5 loc err (ours)": [e.paper_rule.top5_error for e in evaluations.values()],
        "top-5 loc err (paper)": [paper.loc[paper_rows[n], "top5"] if n in paper_rows else np.nan for n in evaluations],
    }, index=list(evaluations))
    return frame.round(1)


def heuristics_table(evaluations: dict[str, Evaluation], resamples: int = RESAMPLES,
                     units: np.ndarray | None = None) -> pd.DataFrame:
    """Table 3: top-5 localization error (%) with the paper's heuristics (five guesses from the top-3
    classes' released-rule boxes) beside the plain top-5 by the paper's rule and by the released rule."""
    metrics: dict[str, Metric] = {
        "top-5 loc err, heuristics": lambda e: e.heuristics.top5_error,
        "top-5 loc err, released rule": lambda e: e.released_rule.top5_error,
        "top-5 loc err, paper rule": lambda e: e.paper_rule.top5_error,
    }
    missing = [name for name, e in evaluations.items() if e.heuristics is None]
    if missing:
        raise CamlibError(f"{', '.join(missing)}: evaluated without the heuristics (released=False)")
    return interval_table(evaluations, metrics, resamples, units)


def metric_columns(evaluations: dict[str, Evaluation], metric: Metric) -> dict[str, Callable[[np.ndarray], float]]:
    """``{row: metric of that evaluation's images at given positions}``: the columns of
    :func:`camlib.book.paper_tables.size_bin_table`."""
    return {name: (lambda rows, e=e: metric(e.subset(rows))) for name, e in evaluations.items()}


def paired_claim(claim: str, paper: str, better: Evaluation, worse: Evaluation, metric: Metric, lower_is_better: bool,
                 resamples: int = RESAMPLES, worse_metric: Metric | None = None, seed: int = 0,
                 units: np.ndarray | None = None) -> dict[str, str]:
    """A claim row "``better`` beats ``worse``" (:func:`camlib.book.claims.paired_gain_claim`): ``metric`` of ``better``
    against ``worse_metric`` (default: the same metric) of ``worse``, both evaluated on the same images in the same
    order (they may be one evaluation, e.g. two box rules), resampling the ``units`` of the images when given."""
    if better.count != worse.count:
        raise CamlibError(f"a paired claim needs the same images: {better.count} vs {worse.count}")
    worse_metric = worse_metric or metric
    return paired_gain_claim(claim, paper, lambda rows: metric(better.subset(rows)), lambda rows: worse_metric(worse.subset(rows)),
                             better.count, lower_is_better, _units(units, better.count), "objects", resamples, seed)
