"""One rule for judging a claim on measured rates, used by every chapter.

A claim compares two rates in percent (errors, accuracies, hit rates), each measured on ``n``
trials. A difference is real when it exceeds the noise margin, two standard errors of the
difference of two independent binomial rates: ``2 * sqrt((a (100 - a) + b (100 - b)) / n)``
percentage points. Verdicts are "yes" / "no" beyond the margin and "undecided, leans yes" /
"undecided, leans no" inside it (the test cannot tell; the estimate points one way), or plain "undecided" for a tie
(a difference that rounds to 0.0 at the book's printed precision, :data:`TIE`: the estimate points nowhere); "about
equal" claims hold when the difference stays inside it.
Where both rates come from the same images, a paired bootstrap interval of the difference is the
sharper test (:func:`interval_verdict`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from camlib.metrics.bootstrap import RESAMPLES, bootstrap_intervals, minimum_detectable_effect
from camlib.utils.errors import CamlibError

#: Every verdict a claim can get.
VERDICTS = ("yes", "undecided, leans yes", "undecided", "undecided, leans no", "no")
#: A difference (percentage points, or any score the book prints to one decimal) below this in size is a tie: it prints
#: as 0.0, so its sign is not a lean.
TIE = 0.05
#: The column of every claims table that holds the verdict (read by :func:`camlib.book.scorecard.scorecard_rows`).
VERDICT_COLUMN = "holds?"
#: "GAP and GMP classify about equally" (chapters 1 and 4): top-1 errors within this many points, stated before
#: measuring: about three times the paper's own gap (35.0 vs 35.6).
CLASSIFY_EQUALLY_MARGIN = 2.0


def margin(a: float, b: float, n: int) -> float:
    """The noise margin (percentage points) of the difference of two rates ``a``, ``b`` (%) over ``n`` trials."""
    if n < 1:
        raise CamlibError(f"a claim needs at least one trial, got n={n}")
    for rate in (a, b):
        if not 0.0 <= rate <= 100.0:
            raise CamlibError(f"rates are percentages in [0, 100], got {rate}")
    return 2.0 * math.sqrt((a * (100.0 - a) + b * (100.0 - b)) / n)


def tenths(value: float) -> str:
    """``value`` to one decimal, as every claims table prints a difference, with no "-0.0" (a tie prints as "0.0")."""
    text = f"{value:.1f}"
    return "0.0" if text == "-0.0" else text


def undecided(difference: float) -> str:
    """The verdict when the test cannot tell: which way the estimate ``difference`` (in the claim's direction) leans,
    or plain "undecided" for a tie (``|difference| <`` :data:`TIE`)."""
    if abs(difference) < TIE:
        return "undecided"
    return "undecided, leans yes" if difference > 0 else "undecided, leans no"


def higher(a: float, b: float, n: int) -> str:
    """Verdict on "``a`` > ``b``" (e.g. an accuracy or a hit rate above a baseline's)."""
    diff, noise = a - b, margin(a, b, n)
    if abs(diff) <= noise:
        return undecided(diff)
    return "yes" if diff > 0 else "no"


def lower(a: float, b: float, n: int) -> str:
    """Verdict on "``a`` < ``b``" (e.g. an error below another method's)."""
    return higher(b, a, n)


def similar(a: float, b: float, n: int) -> str:
    """Verdict on "``a`` ~ ``b``": "yes" when they differ by no more than the noise margin."""
    return "yes" if abs(a - b) <= margin(a, b, n) else "no"


def rate_claim(claim: str, rate: float, chance: float, n: int) -> dict[str, str]:
    """A claim / measured / holds? row: is ``rate`` (%) above ``chance`` (%) over ``n`` trials?"""
    return {"claim": claim, "measured": f"{rate:.1f}% vs chance {chance:.1f}% (n={n})", VERDICT_COLUMN: higher(rate, chance, n)}


def sign_claim(claim: str, values: Sequence[float], reference: Sequence[float], alpha: float = 0.05) -> dict[str, str]:
    """A claim / measured / holds? row for paired values (%, e.g. one per class): is ``values`` above ``reference``?
    A two-sided sign test at ``alpha`` (ties dropped), as every other verdict of the book is two-sided at 95%: "yes"
    when the pairs favour ``values`` beyond chance, "no" when they favour ``reference`` beyond it, else "undecided, leans
    yes/no" by the direction of the majority ("undecided" when there is none)."""
    from scipy.stats import binomtest

    values, reference = np.asarray(values, dtype=float), np.asarray(reference, dtype=float)
    if values.shape != reference.shape or values.ndim != 1 or len(values) == 0:
        raise CamlibError(f"need two equally long 1-D sequences, got shapes {values.shape} and {reference.shape}")
    wins, losses = int((values > reference).sum()), int((values < reference).sum())
    p = binomtest(wins, wins + losses, 0.5).pvalue if wins + losses else 1.0
    if p < alpha:
        verdict = "yes" if wins > losses else "no"
    else:
        verdict = undecided(wins - losses)
    return {"claim": claim, "measured": f"mean {values.mean():.1f}% vs {reference.mean():.1f}%; higher in {wins} of "
            f"{len(values)}, lower in {losses} (two-sided sign test p={p:.3f})", VERDICT_COLUMN: verdict}


def contain(estimate: float, low: float, high: float) -> tuple[float, float]:
    """``[low, high]`` widened to contain ``estimate`` (a percentile interval can miss its own point estimate when
    the resampled values are skewed), without ``-0.0``: the interval every table prints and every verdict judges."""
    return min(low, estimate) + 0.0, max(high, estimate) + 0.0


def why_for(claim: str, verdict: str, reasons: dict[str, str]) -> str:
    """The 'why' of a claim that did not hold ("" for "yes"): the reason whose key begins ``claim``, else ""."""
    if verdict == "yes":
        return ""
    return next((why for start, why in reasons.items() if claim.startswith(start)), "")


def interval_verdict(difference: float, low: float, high: float) -> str:
    """Verdict on "the difference is above 0" from its value and 95% interval ``[low, high]`` (e.g. a
    paired bootstrap over images; widened by :func:`contain`): "yes" / "no" when the interval excludes 0,
    :func:`undecided` by the estimate's sign otherwise."""
    low, high = contain(difference, low, high)
    if low > 0:
        return "yes"
    if high < 0:
        return "no"
    return undecided(difference)


def equivalence_verdict(difference: float, low: float, high: float, margin: float) -> str:
    """Verdict on "about equal" (two one-sided tests at 95%): "yes" when the whole interval ``[low, high]``
    of the difference (widened by :func:`contain`) lies within ``+-margin`` (a margin stated before the measurement), "no" when it lies
    wholly outside; otherwise "undecided, leans yes" / "undecided, leans no" as the estimate is inside or outside."""
    if margin <= 0:
        raise CamlibError(f"the equivalence margin must be positive, got {margin}")
    low, high = contain(difference, low, high)
    if -margin <= low and high <= margin:
        return "yes"
    if low > margin or high < -margin:
        return "no"
    return "undecided, leans yes" if abs(difference) <= margin else "undecided, leans no"


@dataclass(frozen=True)
class PairedGain:
    """Both sides' rates (%) on all the images, the gain (in the direction claimed) with its 95% interval (widened by
    :func:`contain`), its minimum detectable effect and the verdict of :func:`interval_verdict`."""

    better: float
    worse: float
    gain: float
    low: float
    high: float
    detectable: float
    verdict: str


def paired_gain(better: Callable[[np.ndarray], float], worse: Callable[[np.ndarray], float], n: int,
                lower_is_better: bool = False, units: np.ndarray | None = None, resamples: int = RESAMPLES,
                seed: int = 0) -> PairedGain:
    """How much ``better(rows)`` beats ``worse(rows)`` (rates in % on the images ``rows (m,)`` of ``n``), with the
    paired bootstrap interval resampling ``units (n,)`` (the unit of independence of each image: the object, bird or
    scene it shows) when given, else images, and the minimum detectable effect (80% power,
    :func:`camlib.metrics.bootstrap.minimum_detectable_effect`)."""
    sign = -1.0 if lower_is_better else 1.0
    if units is not None and np.shape(units) != (n,):
        raise CamlibError(f"units names one unit per image, ({n},); got shape {np.shape(units)}")

    def gain(rows: np.ndarray) -> dict[str, float]:
        return {"gain": sign * (better(rows) - worse(rows))}

    every = np.arange(n)
    value = gain(every)["gain"]
    low, high = contain(value, *bootstrap_intervals(gain, n, resamples, seed=seed, clusters=units)["gain"])
    return PairedGain(better(every), worse(every), value, low, high, minimum_detectable_effect(low, high),
                      interval_verdict(value, low, high))


def paired_gain_claim(claim: str, paper: str, better: Callable[[np.ndarray], float], worse: Callable[[np.ndarray], float],
                      n: int, lower_is_better: bool = False, units: np.ndarray | None = None, unit_name: str = "objects",
                      resamples: int = RESAMPLES, seed: int = 0) -> dict[str, str]:
    """A claims row "``better`` beats ``worse``" measured on the same ``n`` images (:func:`paired_gain`): both rates,
    the gain with its interval, the sample and the gain's minimum detectable effect, and the verdict."""
    found = paired_gain(better, worse, n, lower_is_better, units, resamples, seed)
    sample = f"n={n}" if units is None else f"n={n} of {len(np.unique(units))} {unit_name}"
    return {"claim": claim, "paper": paper,
            "measured": f"{found.better:.1f} vs {found.worse:.1f}; gain {tenths(found.gain)} [{tenths(found.low)}, "
                        f"{tenths(found.high)}] "
                        f"({sample}; detectable {found.detectable:.1f})",
            VERDICT_COLUMN: found.verdict}
