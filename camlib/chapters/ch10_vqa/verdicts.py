"""The chapter's claims, checked on the measured tables by the book's noise rule (:mod:`camlib.book.claims`)."""
from __future__ import annotations

import pandas as pd

from camlib.book.claims import higher
from camlib.book.paper import paper_table

#: The paper's evidence for each claim (Sec. 4.2 and Fig. 12 of Zhou et al. 2016).
PAPER_ACCURACY = ("Sec. 4.2: GoogLeNet-GAP + BOW, {:.2f}% on VQA test-standard (the baseline's question-only and "
                  "image-only ablations are in Zhou et al. 2015)")
PAPER_CAM = "Fig. 12: the CAM of the predicted answer highlights the image region the answer is about (qualitative, no number)"
#: Why a claim can fail on the generated scenes (shown only beside a "no").
WHY = {
    "image": "Set-up: the additive model cannot tie the image to the object the question names, and the answers it can read "
             "from the image alone (colours, categories present) are a small share of the questions.",
    "question": "Set-up: the image alone already tells most answers of these scenes.",
    "random": "Method on this set-up: the answer's CAM marks what the image part of the score saw, which is not tied to the asked-about object.",
    "centre": "Set-up: objects must fit inside the canvas, so they lie near its centre more often than near a corner, "
              "which makes the centre a strong reference.",
    "described": "Method on this set-up: the CAM of the answer does not single out the objects the answer describes.",
}


def vqa_claims(accuracy: pd.DataFrame, pointing: pd.DataFrame, described: pd.DataFrame | None = None) -> pd.DataFrame:
    """Claim / measured / holds? / paper / why rows from :meth:`Baselines.compare` (overall row),
    :func:`pointing_table` against the asked-about objects (``all`` row) and, optionally, against
    the objects the predicted answers describe (``described``, ``all`` row). ``why`` is filled
    (from :data:`WHY`) only where the verdict is "no"."""
    acc, n_q = accuracy.loc["overall"], int(accuracy.loc["overall", "questions"])
    point, n_p = pointing.loc["all"], int(pointing.loc["all", "maps"])
    paper_accuracy = PAPER_ACCURACY.format(float(paper_table("vqa").loc["GoogLeNet-GAP + BOW", "overall"]))
    rows = [
        ("the model uses the image: question+image beats question only", acc["question+image"], acc["question"], n_q,
         "accuracy", paper_accuracy, "image"),
        ("the model uses the question: question+image beats image only", acc["question+image"], acc["image"], n_q,
         "accuracy", paper_accuracy, "question"),
        ("the answer's CAM peak falls on the asked-about object more often than a random point",
         point["CAM peak"], point["random"], n_p, "pointing", PAPER_CAM, "random"),
        ("the answer's CAM peak falls on the asked-about object more often than the image centre",
         point["CAM peak"], point["centre"], n_p, "pointing", PAPER_CAM, "centre"),
    ]
    if described is not None:
        shown, n_s = described.loc["all"], int(described.loc["all", "maps"])
        rows.append(("the answer's CAM peak falls on an object the predicted answer describes more often than a random point",
                     shown["CAM peak"], shown["random"], n_s, "pointing", PAPER_CAM, "described"))
    out = []
    for claim, a, b, n, kind, paper, why in rows:
        verdict = higher(a, b, n)
        out.append({"claim": claim, "measured": f"{kind} {a:.1f}% vs {b:.1f}% (n={n})", "holds?": verdict, "paper": paper,
                    "why": WHY[why] if verdict == "no" else ""})
    return pd.DataFrame(out)


def image_gain(accuracy: pd.DataFrame) -> pd.DataFrame:
    """Per question type (rows of :meth:`Baselines.compare`): how many points the image adds to the
    question alone, and whether that gain is beyond noise (:func:`camlib.book.claims.higher`)."""
    gain = accuracy["question+image"] - accuracy["question"]
    verdicts = [higher(a, b, int(n)) for a, b, n in zip(accuracy["question+image"], accuracy["question"], accuracy["questions"])]
    return pd.DataFrame({"gain from the image (points)": gain, "image helps?": verdicts})
