"""The chapter's claims: two features' test hits compared with 95% intervals over test objects and seeds, and the
paper's Table 5 differences they are set against."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from camlib.chapters.ch06_transfer.scores import Scores
from camlib.book.claims import VERDICT_COLUMN, contain, equivalence_verdict, interval_verdict
from camlib.utils.errors import CamlibError
from camlib.metrics.bootstrap import RESAMPLES, cluster_seed_intervals, minimum_detectable_effect
from camlib.book.paper import paper_table

#: "About as good as" means test accuracies within this many points (stated before any measurement).
EQUIVALENCE_MARGIN = 3.0


@dataclass(frozen=True)
class Comparison:
    """``a`` minus ``b`` (percent, means over seeds), its 95% interval ``[low, high]`` over objects and seeds, the
    smallest difference the test detects (80% power), the number of test objects and the verdict."""

    a: float
    b: float
    difference: float
    low: float
    high: float
    detectable: float
    objects: int
    verdict: str

    def measured(self) -> str:
        """``"a% vs b%: difference [low, high]"`` with the detectable difference and the objects, for a claims row."""
        return (f"{self.a:.1f}% vs {self.b:.1f}%: {self.difference:+.1f} [{self.low:+.1f}, {self.high:+.1f}] "
                f"(detectable {self.detectable:.1f}; {self.objects} test objects)")


def compare(a: Sequence[np.ndarray], b: Sequence[np.ndarray], objects: np.ndarray, kind: str, resamples: int = RESAMPLES,
            seed: int = 0) -> Comparison:
    """Is the mean of ``a`` (per seed, per-image scores ``(N,)`` in [0, 1]) above (``kind="higher"``) or about equal
    to (``"similar"``, within :data:`EQUIVALENCE_MARGIN`) that of ``b``? Seeds pair up (a side of one seed is used
    with every seed of the other); the interval resamples ``objects (N,)`` and seeds
    (:func:`camlib.metrics.bootstrap.cluster_seed_intervals`)."""
    if kind not in ("higher", "similar"):
        raise CamlibError(f"kind is 'higher' or 'similar', got {kind!r}")
    seeds = max(len(a), len(b))
    if not a or not b or {len(a), len(b)} - {1, seeds} or any(len(x) != len(objects) for x in (*a, *b)):
        raise CamlibError(f"need 1 or {seeds} score arrays of {len(objects)} images per side, got {len(a)} and {len(b)}")

    def mean(scores: Sequence[np.ndarray], k: int, rows: np.ndarray) -> float:
        return float(100.0 * np.mean(scores[k % len(scores)][rows]))

    every = np.arange(len(objects))
    mean_a = float(np.mean([mean(a, k, every) for k in range(len(a))]))
    mean_b = float(np.mean([mean(b, k, every) for k in range(len(b))]))
    difference = mean_a - mean_b + 0.0  # + 0.0: no "-0.0"
    gap = lambda k, rows: {"d": mean(a, k, rows) - mean(b, k, rows)}  # noqa: E731
    low, high = cluster_seed_intervals(gap, seeds, objects, resamples, seed=seed)["d"]
    low, high = contain(difference, low, high)
    verdict = (equivalence_verdict(difference, low, high, EQUIVALENCE_MARGIN) if kind == "similar"
               else interval_verdict(difference, low, high))
    return Comparison(mean_a, mean_b, difference, low, high, minimum_detectable_effect(low, high),
                      len(np.unique(objects)), verdict)


@dataclass(frozen=True)
class Claim:
    """A claim of the chapter: ``a`` and ``b`` name features (one per seed) of ``task``, compared by ``kind``
    (:func:`compare`); ``paper`` is the paper's evidence; ``why[verdict]`` says why the claim fails (or cannot be
    told) here, for each verdict other than "yes" it can get (every "no" needs one)."""

    claim: str
    paper: str
    task: str
    a: tuple[str, ...]
    b: tuple[str, ...]
    kind: str
    why: dict[str, str] = field(default_factory=dict)


def claims_table(claims: Sequence[Claim], scores: dict[str, Scores], objects: dict[str, np.ndarray],
                 resamples: int = RESAMPLES) -> pd.DataFrame:
    """One row per claim: claim, paper, measured (:meth:`Comparison.measured`), holds? and why, judged on
    ``scores[claim.task]`` with that task's test ``objects``."""
    rows = []
    for number, claim in enumerate(claims):
        hits = scores[claim.task].hits
        result = compare([hits[n] for n in claim.a], [hits[n] for n in claim.b], objects[claim.task], claim.kind,
                         resamples, seed=number)
        why = claim.why.get(result.verdict, "") if result.verdict != "yes" else ""
        if result.verdict in ("no", "undecided", "undecided, leans no") and not why:
            raise CamlibError(f"{claim.claim!r} gets {result.verdict!r} and has no why for it")
        rows.append({"claim": claim.claim, "paper": claim.paper, "measured": result.measured(), VERDICT_COLUMN: result.verdict,
                     "why": why})
    return pd.DataFrame(rows)


def paper_differences() -> dict[str, float]:
    """From the paper's Table 5 (points, over its 8 data sets): the mean of GoogLeNet-GAP's gap minus GoogLeNet's ave
    pool and its largest size on one data set, and the mean of GoogLeNet's ave pool minus AlexNet's fc7."""
    paper = paper_table("table5_deep_features").astype(float)
    googlenet = paper.loc["ave pool from GoogLeNet"]
    gap = paper.loc["gap from GoogLeNet-GAP"] - googlenet
    return {"gap vs original": float(gap.mean()), "largest gap vs original": float(gap.abs().max()),
            "stronger vs weaker": float((googlenet - paper.loc["fc7 from AlexNet"]).mean())}
