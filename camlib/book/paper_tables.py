"""Tables 1-3, the modern metrics and the threshold curves, from :class:`Evaluation` results.

Every function takes ``{row name: Evaluation}`` (in table order) and returns a DataFrame whose
columns match the paper's (``top1``, ``top5``), so :func:`camlib.book.paper.side_by_side` can join them.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd

from camlib.utils.errors import CamlibError
from camlib.cam.box_rules import PAPER_THRESHOLD, RELEASED_THRESHOLD
from camlib.evaluation.evaluate import Evaluation, GtKnownScores


def _released(evaluation: Evaluation, field: str) -> float:
    """A number of the released rule's result, NaN when it was not evaluated."""
    return np.nan if evaluation.released_rule is None else getattr(evaluation.released_rule, field)


def table1(evaluations: dict[str, Evaluation]) -> pd.DataFrame:
    """Classification error (%): ``top1``, ``top5``."""
    return pd.DataFrame({"top1": [e.top1_error for e in evaluations.values()],
                         "top5": [e.top5_error for e in evaluations.values()]}, index=list(evaluations))


def table2(evaluations: dict[str, Evaluation]) -> pd.DataFrame:
    """Localization error (%) by the paper's 20% rule (``top1``, ``top5``), the same with the released
    code's box1, and the GT-known localization accuracy at 20%."""
    rows = evaluations.values()
    return pd.DataFrame({
        "top1": [e.paper_rule.top1_error for e in rows],
        "top5": [e.paper_rule.top5_error for e in rows],
        "top1 released rule": [_released(e, "top1_error") for e in rows],
        "top5 released rule": [_released(e, "top5_error") for e in rows],
        "GT-known acc": [e.paper_rule.gt_known_accuracy for e in rows],
    }, index=list(evaluations))


def table3(heuristics_of: str, evaluations: dict[str, Evaluation]) -> pd.DataFrame:
    """Top-5 localization error (%): ``<heuristics_of> (heuristics)`` (five guesses from released-rule
    boxes), ``<heuristics_of> (released rule)`` (box1 of each top-5 class, the same box generator
    without the heuristics), then every row's plain top-5 by the paper's rule.

    ``heuristics_of`` must have been evaluated with the heuristics (``evaluate(..., released=True)``)."""
    chosen = evaluations[heuristics_of]
    if chosen.heuristics is None:
        raise CamlibError(f"{heuristics_of!r} was evaluated without the heuristics (released=False or < 3 classes)")
    rows = {f"{heuristics_of} (heuristics)": chosen.heuristics.top5_error,
            f"{heuristics_of} (released rule)": chosen.released_rule.top5_error}
    rows.update({name: e.paper_rule.top5_error for name, e in evaluations.items()})
    return pd.DataFrame({"top5": list(rows.values())}, index=list(rows))


def modern_table(scores: dict[str, GtKnownScores]) -> pd.DataFrame:
    """MaxBoxAccV2 and PxAP (NaN without masks) in percent, and the best point of the GT-known
    threshold curve with its threshold (% of the map's maximum)."""
    return pd.DataFrame({
        "MaxBoxAccV2": [s.max_box_acc_v2.value for s in scores.values()],
        "PxAP": [s.pxap.value if s.pxap is not None else np.nan for s in scores.values()],
        "best of curve": [s.curve.value for s in scores.values()],
        "at threshold": [100.0 * float(s.curve.best_thresholds[0]) for s in scores.values()],
    }, index=list(scores))


def threshold_curves(scores: dict[str, GtKnownScores]) -> pd.DataFrame:
    """GT-known localization accuracy (%), one column per row name, indexed by threshold (fraction)."""
    first = next(iter(scores.values()))
    frame = pd.DataFrame({name: s.curve.box_acc[0] for name, s in scores.items()}, index=first.curve.thresholds)
    frame.index.name = "threshold"
    return frame


def box_area_table(evaluations: dict[str, Evaluation]) -> pd.DataFrame:
    """Mean area (% of the image) of the ground-truth class's box by each rule, and of the true box."""
    return pd.DataFrame([e.box_area for e in evaluations.values()], index=list(evaluations))


def threshold_summary(evaluations: dict[str, Evaluation]) -> pd.DataFrame:
    """GT-known accuracy (%) at the paper's 20%, at the released code's 20/255 (both as fractions of the
    map's maximum), by the released multi-threshold rule (box1), and the best over thresholds."""
    rows = evaluations.values()
    return pd.DataFrame({
        "paper 20%": [e.gt_known.accuracy_at(PAPER_THRESHOLD) for e in rows],
        "20/255": [e.gt_known.accuracy_at(RELEASED_THRESHOLD) for e in rows],
        "released multi-threshold": [_released(e, "gt_known_accuracy") for e in rows],
        "best of curve": [e.gt_known.curve.value for e in rows],
    }, index=list(evaluations))


#: Largest-box share bins (fractions of the image) for tables by object size.
SIZE_BINS = ((0.0, 0.1), (0.1, 0.3), (0.3, 0.6), (0.6, 1.0))


def size_bins(shares: np.ndarray, bins: tuple[tuple[float, float], ...] = SIZE_BINS) -> dict[str, np.ndarray]:
    """Indices of the images whose largest-box share (``(N,)``, fractions) falls in each bin, named like
    ``"10-30%"``; the last bin includes its upper end."""
    shares = np.asarray(shares)
    out = {}
    for low, high in bins:
        name = f"{100 * low:.0f}-{100 * high:.0f}%"
        out[name] = np.flatnonzero((shares >= low) & ((shares < high) if high < 1 else (shares <= high)))
    return out


def size_bin_table(bins: dict[str, np.ndarray], columns: dict[str, Callable[[np.ndarray], float]]) -> pd.DataFrame:
    """One row per size bin of :func:`size_bins` (``{name: image indices}``): its image count ``n``, then each
    column's value on the bin's images (``columns[name](indices)``, e.g. a metric of an evaluation's subset),
    rounded to 0.1; NaN for a bin of fewer than 2 images."""
    frame = pd.DataFrame({name: [value(rows) if len(rows) >= 2 else np.nan for rows in bins.values()]
                          for name, value in columns.items()}, index=list(bins)).round(1)
    frame.insert(0, "n", [len(rows) for rows in bins.values()])
    frame.index.name = "largest box"
    return frame


def over_seeds(frames: list[pd.DataFrame], decimals: int = 1) -> pd.DataFrame:
    """Same-shaped numeric tables, one per seed -> one table of ``"mean ± h"`` strings, ``h`` the half-width
    of the 95% t-interval of the mean over seeds (the mean alone with one seed; NaN cells stay empty)."""
    from scipy.stats import t

    if not frames or any(f.shape != frames[0].shape for f in frames):
        raise CamlibError("over_seeds needs one or more tables of the same shape")
    stack = np.stack([f.to_numpy(dtype=float) for f in frames])
    mean = stack.mean(axis=0)
    half = (t.ppf(0.975, len(frames) - 1) * stack.std(axis=0, ddof=1) / np.sqrt(len(frames))
            if len(frames) > 1 else np.full_like(mean, np.nan))
    cell = lambda m, h: "" if np.isnan(m) else (f"{m:.{decimals}f}" if np.isnan(h) else f"{m:.{decimals}f} ± {h:.{decimals}f}")  # noqa: E731
    return pd.DataFrame([[cell(m, h) for m, h in zip(mr, hr)] for mr, hr in zip(mean, half)],
                        index=frames[0].index, columns=frames[0].columns)
