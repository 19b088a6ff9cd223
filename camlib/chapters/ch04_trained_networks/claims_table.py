"""The paper's claims about Tables 1-3, checked on measured results with a noise margin.

Each claim compares two error rates measured on the same ``n`` test images, judged by the book's one
noise rule (:mod:`camlib.claims`).
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from camlib.claims import lower, margin, similar
from camlib.evaluation import Evaluation
from camlib.paper import paper_table


@dataclass(frozen=True)
class Roles:
    """Which measured rows play which part (row names of the classification/localization results).

    ``gap`` is compared with ``gmp``, ``low_res`` (the same kind of network with a coarser last map)
    and the ``backprop`` rows; ``extra_convs`` with ``extra_base`` (the network without them);
    ``fc`` (an fc-head classifier) with ``fc_base`` (its GAP version).
    """

    gap: str
    gmp: str
    low_res: str
    extra_convs: str
    extra_base: str
    fc: str
    fc_base: str
    backprop: tuple[str, ...]


def _pair(a: float, b: float) -> str:
    return f"{a:.1f} vs {b:.1f}"


def claims_table(classification: dict[str, Evaluation], localization: dict[str, Evaluation], roles: Roles) -> pd.DataFrame:
    """One row per claim: the paper's numbers, ours (same order), the noise margin and the verdict.

    The last row separates localization from classification: the top-1 loc error counts a box only
    when the class is right, so a network that classifies worse also "localizes" worse by it; the
    GT-known error scores the true class's box alone (the paper reports no such number)."""
    t1, t2, t3 = (paper_table(name) for name in
                  ("table1_classification_error", "table2_localization_error", "table3_localization_test"))
    cls = lambda row: classification[row].top1_error  # noqa: E731
    loc = lambda row: localization[row].paper_rule.top1_error  # noqa: E731
    n = localization[roles.gap].count
    heuristic = localization[roles.gap].heuristics.top5_error
    plain_top5 = localization[roles.gap].paper_rule.top5_error
    best_backprop = min(loc(r) for r in roles.backprop)
    paper = lambda table, row_a, row_b, column="top1": _pair(table.loc[row_a, column], table.loc[row_b, column])  # noqa: E731
    # each row: claim, the paper's pair, ours A, ours B, and the test of A against B (lower or similar)
    rows = [
        ("GAP and GMP classify about equally well (top-1 cls error)", paper(t1, "GoogLeNet-GAP", "GoogLeNet-GMP"),
         cls(roles.gap), cls(roles.gmp), similar),
        ("GAP localizes better than GMP (top-1 loc error)", paper(t2, "GoogLeNet-GAP", "GoogLeNet-GMP"),
         loc(roles.gap), loc(roles.gmp), lower),
        ("CAM localizes better than backprop (top-1 loc error; best backprop row)",
         paper(t2, "GoogLeNet-GAP", "Backprop on GoogLeNet"), loc(roles.gap), best_backprop, lower),
        ("A higher-resolution last map localizes better (top-1 loc error)", paper(t2, "GoogLeNet-GAP", "GoogLeNet"),
         loc(roles.gap), loc(roles.low_res), lower),
        ("Extra conv layers before GAP help classification (top-1 cls error)", paper(t1, "AlexNet*-GAP", "AlexNet-GAP"),
         cls(roles.extra_convs), cls(roles.extra_base), lower),
        ("Extra conv layers before GAP help localization (top-1 loc error)", paper(t2, "AlexNet*-GAP", "AlexNet-GAP"),
         loc(roles.extra_convs), loc(roles.extra_base), lower),
        ("An fc head classifies a little better than GAP (top-1 cls error)", paper(t1, "AlexNet", "AlexNet-GAP"),
         cls(roles.fc), cls(roles.fc_base), lower),
        ("The heuristics lower the top-5 loc error", paper(t3, "GoogLeNet-GAP (heuristics)", "GoogLeNet-GAP", "top5"),
         heuristic, plain_top5, lower),
    ]
    known = lambda row: 100.0 - localization[row].paper_rule.gt_known_accuracy  # noqa: E731
    rows.append(("GAP localizes better than GMP when the class is given (GT-known loc error; not in the paper)",
                 "not reported", known(roles.gap), known(roles.gmp), lower))
    rows = [(claim, paper, a, b, test(a, b, n)) for claim, paper, a, b, test in rows]
    frame = pd.DataFrame(rows, columns=["claim", "paper", "ours A", "ours B", "holds here?"]).set_index("claim")
    frame.insert(3, "margin (2 SE)", [margin(a, b, n) for a, b in zip(frame["ours A"], frame["ours B"])])
    return frame


def summary(table: pd.DataFrame) -> str:
    """The claims grouped by verdict, one line per group, for the chapter's text."""
    groups = [("Held beyond the noise margin", "yes"), ("Held, but within the noise margin", "yes, within noise"),
              ("Reversed, within the noise margin", "no, within noise"), ("Did not hold", "no")]
    lines = []
    for title, verdict in groups:
        claims = [claim for claim, holds in table["holds here?"].items() if holds == verdict]
        if claims:
            lines.append(f"{title} ({len(claims)}): " + "; ".join(claims) + ".")
    return "\n".join(lines)
