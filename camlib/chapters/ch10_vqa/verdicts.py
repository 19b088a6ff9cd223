"""The chapter's claims, checked on the measured tables by the book's noise rule (:mod:`camlib.claims`)."""
from __future__ import annotations

import pandas as pd

from camlib.claims import higher


def vqa_claims(accuracy: pd.DataFrame, pointing: pd.DataFrame, described: pd.DataFrame | None = None) -> pd.DataFrame:
    """Claim / measured / holds? rows from :meth:`Baselines.compare` (overall row),
    :func:`pointing_table` against the asked-about objects (``all`` row) and, optionally, against
    the objects the predicted answers describe (``described``, ``all`` row)."""
    acc, n_q = accuracy.loc["overall"], int(accuracy.loc["overall", "questions"])
    point, n_p = pointing.loc["all"], int(pointing.loc["all", "maps"])
    rows = [
        ("the model uses the image: question+image beats question only", acc["question+image"], acc["question"], n_q, "accuracy"),
        ("the model uses the question: question+image beats image only", acc["question+image"], acc["image"], n_q, "accuracy"),
        ("the answer's CAM peak falls on the asked-about object more often than a random point",
         point["CAM peak"], point["random"], n_p, "pointing"),
        ("... and more often than the image centre", point["CAM peak"], point["centre"], n_p, "pointing"),
    ]
    if described is not None:
        shown, n_s = described.loc["all"], int(described.loc["all", "maps"])
        rows.append(("the answer's CAM peak falls on an object the predicted answer describes more often than a random point",
                     shown["CAM peak"], shown["random"], n_s, "pointing"))
    return pd.DataFrame([{"claim": claim, "measured": f"{kind} {a:.1f}% vs {b:.1f}% (n={n})", "holds?": higher(a, b, n)}
                         for claim, a, b, n, kind in rows])


def image_gain(accuracy: pd.DataFrame) -> pd.DataFrame:
    """Per question type (rows of :meth:`Baselines.compare`): how many points the image adds to the
    question alone, and whether that gain is beyond noise (:func:`camlib.claims.higher`)."""
    gain = accuracy["question+image"] - accuracy["question"]
    verdicts = [higher(a, b, int(n)) for a, b, n in zip(accuracy["question+image"], accuracy["question"], accuracy["questions"])]
    return pd.DataFrame({"gain from the image (points)": gain, "image helps?": verdicts})
