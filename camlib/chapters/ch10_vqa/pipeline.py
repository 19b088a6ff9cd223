"""Train the simple baseline and its two ablations on any VQA split (generated or VQA v1) and compare them."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd
import torch

from camlib.chapters.ch10_vqa.accuracy import accuracy_table, vqa_accuracy
from camlib.chapters.ch10_vqa.bow import AnswerVocabulary, BagOfWords
from camlib.chapters.ch10_vqa.model import INPUTS, SimpleBaseline, select_l2
from camlib.chapters.ch10_vqa.table import QuestionTable


@dataclass
class Baselines:
    """The question encoder, answer vocabulary and one model per input kind (see :data:`INPUTS`),
    each with its validation accuracy (%) per ``l2`` tried."""

    words: BagOfWords
    vocabulary: AnswerVocabulary
    models: dict[str, SimpleBaseline]
    l2_scores: dict[str, dict[float, float]]

    def inputs(self, questions: QuestionTable, pooled: torch.Tensor | np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Model inputs for ``questions``: bag of words (Q, V), the images' GAP features ``pooled`` (N, K), image index (Q,)."""
        return self.words.transform(questions.text), np.asarray(pooled, dtype=np.float32), questions.image_index

    def answers(self, kind: str, questions: QuestionTable, pooled: torch.Tensor | np.ndarray) -> list[str]:
        """The answers model ``kind`` gives to ``questions``."""
        return self.models[kind].answer(*self.inputs(questions, pooled))

    def question_scores(self, questions: QuestionTable, pooled: torch.Tensor | np.ndarray) -> pd.DataFrame:
        """VQA accuracy in [0, 1] of every model on each question: ``(Q, models)``, with the scene of each in
        ``"scene"`` and its question type in ``"type"``."""
        scores = {kind: [vqa_accuracy(p, a) for p, a in zip(self.answers(kind, questions, pooled), questions.all_answers)]
                  for kind in self.models}
        return pd.DataFrame({**scores, "scene": np.asarray(questions.image_index), "type": list(questions.question_type)})

    def compare(self, questions: QuestionTable, pooled: torch.Tensor | np.ndarray, by: str = "question_type") -> pd.DataFrame:
        """VQA accuracy (%) of every model per question type and overall; one column per model, plus counts."""
        tables = {kind: accuracy_table(self.answers(kind, questions, pooled), questions, by=by) for kind in self.models}
        out = pd.DataFrame({kind: t["accuracy"] for kind, t in tables.items()})
        out["questions"] = next(iter(tables.values()))["questions"]
        return out


def fit_encoders(questions: QuestionTable, top_answers: int | None = None,
                 max_words: int | None = None) -> tuple[BagOfWords, AnswerVocabulary]:
    """The word list and the answer vocabulary of the training ``questions`` (counts: nothing is trained)."""
    return BagOfWords.fit(questions.text, max_words=max_words), AnswerVocabulary.fit(questions.answer, top=top_answers)


def fit_baselines(
    train: tuple[QuestionTable, torch.Tensor | np.ndarray],
    val: tuple[QuestionTable, torch.Tensor | np.ndarray],
    top_answers: int | None = None,
    max_words: int | None = None,
    grid: Sequence[float] = (1e-3, 1e-2, 1e-1),
    kinds: Sequence[str] = INPUTS,
    max_iter: int = 100,
) -> Baselines:
    """Fit the word list and answer vocabulary on ``train`` = (questions, pooled GAP features (N, K)),
    then one softmax per input kind (at most ``max_iter`` L-BFGS iterations), its ``l2`` chosen on ``val``."""
    words, vocabulary = fit_encoders(train[0], top_answers, max_words)
    fitted = Baselines(words, vocabulary, {}, {})
    data = {name: (*fitted.inputs(table, pooled), vocabulary.encode(table.answer))
            for name, (table, pooled) in (("train", train), ("val", val))}
    for kind in kinds:
        fitted.models[kind], fitted.l2_scores[kind] = select_l2(data["train"], data["val"], vocabulary, inputs=kind,
                                                                grid=grid, max_iter=max_iter)
    return fitted
