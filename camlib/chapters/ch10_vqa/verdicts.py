"""The chapter's claims, judged by paired bootstraps over the scenes (:mod:`camlib.book.claims`)."""
from __future__ import annotations

import pandas as pd

from camlib.book.claims import VERDICT_COLUMN, paired_gain, paired_gain_claim
from camlib.metrics.bootstrap import RESAMPLES
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


def vqa_claims(scores: pd.DataFrame, pointed: pd.DataFrame, described: pd.DataFrame | None = None) -> pd.DataFrame:
    """Claim / measured / holds? / paper / why rows from the models' per-question scores
    (:meth:`Baselines.question_scores`), the answer CAMs' hits on the asked-about objects (:func:`pointing_frame`) and,
    optionally, on the objects the predicted answers describe (``described``). Each scene has several questions, so
    every verdict is a paired bootstrap over the scenes (:func:`camlib.book.claims.paired_gain_claim`). ``why`` is
    filled (from :data:`WHY`) only where the verdict is "no"."""
    paper_accuracy = PAPER_ACCURACY.format(float(paper_table("vqa").loc["GoogLeNet-GAP + BOW", "overall"]))
    rows = [
        ("the model uses the image: question+image beats question only", scores, "question+image", "question",
         paper_accuracy, "image"),
        ("the model uses the question: question+image beats image only", scores, "question+image", "image",
         paper_accuracy, "question"),
        ("the answer's CAM peak falls on the asked-about object more often than a random point", pointed, "CAM peak",
         "random", PAPER_CAM, "random"),
        ("the answer's CAM peak falls on the asked-about object more often than the image centre", pointed, "CAM peak",
         "centre", PAPER_CAM, "centre"),
    ]
    if described is not None:
        rows.append(("the answer's CAM peak falls on an object the predicted answer describes more often than a random "
                     "point", described, "CAM peak", "random", PAPER_CAM, "described"))
    out = []
    for claim, frame, a, b, paper, why in rows:
        better, worse = (100.0 * frame[column].to_numpy(dtype=float) for column in (a, b))
        row = paired_gain_claim(claim, paper, lambda r, v=better: float(v[r].mean()), lambda r, v=worse: float(v[r].mean()),
                                len(frame), units=frame["scene"].to_numpy(), unit_name="scenes")
        kind = "accuracy" if frame is scores else "pointing"
        out.append({**row, "measured": f"{kind} {row['measured']}", "why": WHY[why] if row[VERDICT_COLUMN] == "no" else ""})
    return pd.DataFrame(out)[["claim", "measured", VERDICT_COLUMN, "paper", "why"]]


def image_gain(scores: pd.DataFrame, resamples: int = RESAMPLES) -> pd.DataFrame:
    """Per question type and overall (from :meth:`Baselines.question_scores`): how many points the image adds to the
    question alone, with the 95% paired bootstrap interval over the scenes (each with all its questions of that type),
    the smallest gain it could detect, and the verdict on "the image helps" (:func:`camlib.book.claims.interval_verdict`)."""
    rows = {}
    for name, part in [*scores.groupby("type", sort=False), ("overall", scores)]:
        both, alone = (100.0 * part[column].to_numpy(dtype=float) for column in ("question+image", "question"))
        found = paired_gain(lambda r: float(both[r].mean()), lambda r: float(alone[r].mean()), len(part),
                            units=part["scene"].to_numpy(), resamples=resamples)
        rows[name] = {"gain from the image (points)": found.gain, "low": found.low, "high": found.high,
                      "detectable": found.detectable, "questions": len(part), "image helps?": found.verdict}
    return pd.DataFrame(rows).T.astype({"gain from the image (points)": float, "low": float, "high": float,
                                        "detectable": float, "questions": int})
