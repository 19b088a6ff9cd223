"""The chapter's claims: paired differences between columns of a table, with bootstrap intervals over its classes."""
from __future__ import annotations

from typing import Sequence

import pandas as pd

from camlib.book.claims import VERDICT_COLUMN, contain, interval_verdict
from camlib.metrics.bootstrap import RESAMPLES, bootstrap_intervals, minimum_detectable_effect


def paired_intervals(table: pd.DataFrame, pairs: Sequence[tuple[str, str]], resamples: int = RESAMPLES,
                     seed: int = 0) -> pd.DataFrame:
    """For each (a, b) of ``pairs`` (columns of ``table``, one row per class): the mean difference a - b
    over the classes, its 95% percentile-bootstrap interval (classes resampled; :func:`camlib.book.claims.contain`)
    and the verdict on "a > b" (:func:`camlib.book.claims.interval_verdict`)."""
    values = {f"{a} - {b}": (table[a] - table[b]).to_numpy() for a, b in pairs}
    ci = bootstrap_intervals(lambda rows: {k: float(v[rows].mean()) for k, v in values.items()}, len(table), resamples, seed=seed)
    ci = {name: contain(float(v.mean()), *ci[name]) for name, v in values.items()}
    return pd.DataFrame([{"difference": name, "mean": v.mean(), "low": ci[name][0], "high": ci[name][1],
                          "verdict": interval_verdict(float(v.mean()), *ci[name])} for name, v in values.items()]).set_index("difference")


def interval_claim(claim: str, table: pd.DataFrame, intervals: pd.DataFrame, a: str, b: str) -> dict[str, str]:
    """A claim / measured / holds? row for "column ``a`` of a :func:`class_hits` ``table`` is above column ``b``",
    judged by the ``"a - b"`` row of :func:`paired_intervals`."""
    row = intervals.loc[f"{a} - {b}"]
    return {"claim": claim,
            "measured": f"{a} {table[a].mean():.1f}% vs {b} {table[b].mean():.1f}%: {row['mean']:+.1f} points, "
                        f"95% CI [{row['low']:+.1f}, {row['high']:+.1f}] over {len(table)} classes; "
                        f"detectable {minimum_detectable_effect(row['low'], row['high']):.1f}",
            VERDICT_COLUMN: str(row["verdict"])}
