"""VQA accuracy (Antol et al. 2015): an answer is fully right when at least 3 of the 10 annotators gave it.

The official evaluation averages ``min(1, matches / 3)`` over the ten ways of leaving one annotator
out, after normalising answers (lower case, punctuation, number words to digits, articles dropped).
The normalisation here follows the official rules except for its table of contractions.
"""
from __future__ import annotations

import re
from typing import Literal, Sequence

import numpy as np
import pandas as pd

from camlib.chapters.ch10_vqa.table import QuestionTable
from camlib.utils.errors import CamlibError

_NUMBERS = {"none": "0", "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
            "six": "6", "seven": "7", "eight": "8", "nine": "9", "ten": "10"}
_ARTICLES = {"a", "an", "the"}
_PUNCTUATION = re.compile(r"[;/\[\]\"{}()=+\\_\-><@`,?!]")


def normalize_answer(text: str) -> str:
    """The official answer normalisation: ``"Two dogs."`` -> ``"2 dogs"``, ``"the T-shirt"`` -> ``"t shirt"``."""
    text = text.replace("\n", " ").replace("\t", " ").strip().lower()
    text = re.sub(r"(?<=\d),(?=\d)", "", text)  # 1,000 -> 1000
    text = re.sub(r"\.(?!\d)", "", text)  # periods, except decimal points
    text = _PUNCTUATION.sub(" ", text)
    return " ".join(_NUMBERS.get(w, w) for w in text.split() if w not in _ARTICLES)


def vqa_accuracy(prediction: str, answers: Sequence[str]) -> float:
    """Accuracy in [0, 1] of one predicted answer against the ground-truth ``answers``.

    With several answers (ten in VQA v1): the mean over leave-one-out subsets of
    ``min(1, matches / 3)``. With a single answer (the generated set): exact match after normalising.
    """
    if len(answers) == 0:
        raise CamlibError("a question needs at least one ground-truth answer to be scored")
    pred = normalize_answer(prediction)
    matches = np.array([normalize_answer(a) == pred for a in answers], dtype=np.float64)
    if len(matches) == 1:
        return float(matches[0])
    return float(np.mean(np.minimum(1.0, (matches.sum() - matches) / 3.0)))


def accuracy_table(
    predictions: Sequence[str],
    questions: QuestionTable,
    by: Literal["question_type", "answer_type"] = "question_type",
) -> pd.DataFrame:
    """VQA accuracy in percent per question (or answer) type and overall, with question counts."""
    if len(predictions) != len(questions):
        raise CamlibError(f"{len(predictions)} predictions for {len(questions)} questions")
    scores = np.array([vqa_accuracy(p, a) for p, a in zip(predictions, questions.all_answers)])
    groups = pd.Series(getattr(questions, by))
    table = pd.DataFrame({"accuracy": 100.0 * pd.Series(scores).groupby(groups, sort=False).mean(),
                          "questions": groups.value_counts(sort=False)})
    table.loc["overall"] = [100.0 * scores.mean(), len(scores)]
    table["questions"] = table["questions"].astype(int)
    table.index.name = by.replace("_", " ")
    return table
