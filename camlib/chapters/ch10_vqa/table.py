"""Questions of a VQA split as parallel columns, the same for the generated set and VQA v1."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from camlib.utils.errors import CamlibError


@dataclass
class QuestionTable:
    """Q questions about a split's images.

    image_index int64 (Q,): the image each question is about; text, answer (the single best answer;
    VQA v1's ``multiple_choice_answer``), question_type, answer_type: Q strings each; all_answers: per
    question the ground-truth answers the VQA accuracy counts (ten in VQA v1, one when generated).
    """

    image_index: np.ndarray
    text: list[str]
    answer: list[str]
    question_type: list[str]
    answer_type: list[str]
    all_answers: list[tuple[str, ...]]

    def __post_init__(self) -> None:
        self.image_index = np.asarray(self.image_index, dtype=np.int64)
        q = len(self.image_index)
        lengths = {len(self.text), len(self.answer), len(self.question_type), len(self.answer_type), len(self.all_answers)}
        if self.image_index.ndim != 1 or lengths != {q}:
            raise CamlibError(f"question columns have different lengths: image_index {self.image_index.shape}, "
                              f"text/answer/types/all_answers {sorted(lengths)}")

    def __len__(self) -> int:
        return len(self.image_index)

    def select(self, rows: np.ndarray) -> "QuestionTable":
        """The questions at ``rows`` (indices or a bool mask (Q,)); image indices are kept as they are."""
        rows = np.flatnonzero(rows) if np.asarray(rows).dtype == bool else np.asarray(rows, dtype=np.int64)
        pick = lambda column: [column[i] for i in rows]  # noqa: E731
        return QuestionTable(self.image_index[rows], pick(self.text), pick(self.answer), pick(self.question_type),
                             pick(self.answer_type), pick(self.all_answers))

    def frame(self) -> pd.DataFrame:
        """The table as a DataFrame (one row per question)."""
        return pd.DataFrame({"image": self.image_index, "question": self.text, "answer": self.answer,
                             "question type": self.question_type, "answer type": self.answer_type})
