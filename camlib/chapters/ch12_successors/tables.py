"""The chapter's table (method x metric, 95% intervals over objects), its cost table and its claims.

Every interval resamples the photographed objects the composites show (the unit of independence), each with all its
images, and rescores every metric on the resample (:meth:`Evaluation.subset`). Claims compare a successor with CAM
on the same images through :func:`camlib.book.claims.paired_gain_claim`.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd

from camlib.book.claims import paired_gain_claim
from camlib.chapters.ch12_successors.benchmark import PASSES, MethodScores
from camlib.metrics import bootstrap_intervals
from camlib.metrics.bootstrap import RESAMPLES
from camlib.utils.errors import CamlibError

Score = Callable[[MethodScores], float]

#: The table's columns: score of a method (%, errors lower is better, the rest higher, but the average drop, lower is
#: better), on a resample through :meth:`MethodScores.subset`. "dev thr." scores each method at its own dev-chosen
#: threshold.
SCORES: dict[str, Score] = {
    "top-1 loc err, 20%": lambda s: s.at_paper.paper_rule.top1_error,
    "top-1 loc err, dev thr.": lambda s: s.at_dev.paper_rule.top1_error,
    "top-5 loc err, dev thr.": lambda s: s.at_dev.paper_rule.top5_error,
    "GT-known loc acc, dev thr.": lambda s: s.at_dev.paper_rule.gt_known_accuracy,
    "MaxBoxAccV2": lambda s: s.at_paper.gt_known.max_box_acc_v2.value,
    "PxAP": lambda s: s.at_paper.gt_known.pxap.value,
    "pointing": lambda s: 100.0 * s.pointing.mean(),
    "average drop": lambda s: s.faithfulness.drop.mean(),
    "increase in confidence": lambda s: 100.0 * s.faithfulness.increase.mean(),
    "image kept": lambda s: s.faithfulness.kept.mean(),
}
#: The table's columns in three parts a reader can take in at once: the paper's box metrics at a threshold, the
#: localization metrics that need no box threshold, and how much of the class score the map's pixels carry.
TABLE_PARTS: dict[str, tuple[str, ...]] = {
    "boxes at a threshold": ("n", "dev thr.", "top-1 loc err, 20%", "top-1 loc err, dev thr.", "top-5 loc err, dev thr.",
                             "GT-known loc acc, dev thr."),
    "localization without a box threshold": ("MaxBoxAccV2", "PxAP", "pointing"),
    "faithfulness": ("average drop", "increase in confidence", "image kept"),
}
#: Columns where lower is better.
LOWER_IS_BETTER = ("top-1 loc err, 20%", "top-1 loc err, dev thr.", "top-5 loc err, dev thr.", "average drop")


def _check_units(scores: MethodScores, units: np.ndarray) -> np.ndarray:
    units = np.asarray(units)
    if units.shape != (scores.at_paper.count,):
        raise CamlibError(f"units names one object per test image ({scores.at_paper.count},); got {units.shape}")
    return units


def _every_score(scores: MethodScores) -> dict[str, float]:
    return {column: score(scores) for column, score in SCORES.items()}


def method_intervals(scores: dict[str, MethodScores], units: np.ndarray,
                     resamples: int = RESAMPLES) -> dict[str, dict[str, tuple[float, float, float]]]:
    """``{method: {column: (value, low, high)}}`` for every :data:`SCORES` column: 95% intervals over ``units``."""
    found = {}
    for name, s in scores.items():
        intervals = bootstrap_intervals(lambda rows, s=s: _every_score(s.subset(rows)), s.at_paper.count, resamples,
                                        clusters=_check_units(s, units))
        found[name] = {column: (value, *intervals[column]) for column, value in _every_score(s).items()}
    return found


def method_table(scores: dict[str, MethodScores], intervals: dict[str, dict[str, tuple[float, float, float]]]) -> pd.DataFrame:
    """One row per method: ``n``, its dev threshold and every :data:`SCORES` column as ``"value [low, high]"``."""
    table = {name: {"n": s.at_paper.count, "dev thr.": f"{s.threshold:.2f}",
                    **{c: "{:.1f} [{:.1f}, {:.1f}]".format(*intervals[name][c]) for c in SCORES}}
             for name, s in scores.items()}
    return pd.DataFrame.from_dict(table, orient="index")


def cost_table(seconds: dict[str, float], channels: int) -> pd.DataFrame:
    """Seconds per image of each method (measured in one run on the same images), the ratio to CAM and the passes
    through the network its design needs (``channels`` K of the mapped layer for Score-CAM)."""
    if "cam" not in seconds:
        raise CamlibError("the cost table needs CAM's time: it is the baseline of the ratios")
    return pd.DataFrame({"s / image": {m: f"{t:.3f}" for m, t in seconds.items()},
                         "x CAM": {m: t / seconds["cam"] for m, t in seconds.items()},
                         "passes per image and class": {m: PASSES[m].replace("K", str(channels)) for m in seconds}})


def successor_claim(claim: str, pairs: list[tuple[MethodScores, MethodScores]], column: str, units: np.ndarray,
                    resamples: int = RESAMPLES) -> dict[str, str]:
    """A claims row "a successor beats CAM on ``column``" (a :data:`SCORES` column): ``pairs`` of (successor, CAM)
    scores, one pair per network, all on the same images; each side's score is its mean over the networks."""
    counts = {s.at_paper.count for pair in pairs for s in pair}
    if len(counts) != 1:
        raise CamlibError(f"a paired claim needs the same images for every network and method; got counts {sorted(counts)}")
    score = SCORES[column]
    side = lambda k: lambda rows: float(np.mean([score(pair[k].subset(rows)) for pair in pairs]))  # noqa: E731
    return paired_gain_claim(claim, "not in the paper", side(0), side(1), counts.pop(), column in LOWER_IS_BETTER,
                             _check_units(pairs[0][1], units), "objects", resamples)
