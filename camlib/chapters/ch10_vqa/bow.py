"""Bag-of-words question features and the answer vocabulary of the simple VQA baseline."""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from camlib.utils.errors import CamlibError

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def tokenize(text: str) -> list[str]:
    """Lower-case words and digits of ``text`` (punctuation dropped, ``what's`` kept whole)."""
    return _WORD.findall(text.lower())


@dataclass(frozen=True)
class BagOfWords:
    """A fixed word list; a question becomes a 0/1 vector (V,) marking which of its words it holds.

    Words outside the list (unseen in training or too rare) are ignored.
    """

    words: tuple[str, ...]

    @classmethod
    def fit(cls, texts: Sequence[str], min_count: int = 1, max_words: int | None = None) -> "BagOfWords":
        """The words seen at least ``min_count`` times, most frequent first (ties alphabetical), at most ``max_words``."""
        counts = Counter(w for t in texts for w in tokenize(t))
        ranked = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
        if not ranked:
            raise CamlibError(f"no word occurs {min_count}+ times in the {len(texts)} questions given")
        return cls(tuple(ranked[:max_words]))

    def __len__(self) -> int:
        return len(self.words)

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        """float32 (Q, V): 1 where question q contains word v."""
        index = {w: i for i, w in enumerate(self.words)}
        out = np.zeros((len(texts), len(self.words)), dtype=np.float32)
        for row, text in enumerate(texts):
            cols = [index[w] for w in tokenize(text) if w in index]
            out[row, cols] = 1.0
        return out


@dataclass(frozen=True)
class AnswerVocabulary:
    """The answers the softmax chooses from (the ``top`` most frequent training answers)."""

    answers: tuple[str, ...]

    @classmethod
    def fit(cls, answers: Sequence[str], top: int | None = None) -> "AnswerVocabulary":
        """Most frequent first (ties alphabetical), at most ``top``."""
        counts = Counter(answers)
        if not counts:
            raise CamlibError("no answers given to build the answer vocabulary from")
        return cls(tuple(sorted(counts, key=lambda a: (-counts[a], a))[:top]))

    def __len__(self) -> int:
        return len(self.answers)

    def encode(self, answers: Sequence[str]) -> np.ndarray:
        """int64 (Q,) answer indices; -1 for answers outside the vocabulary."""
        index = {a: i for i, a in enumerate(self.answers)}
        return np.asarray([index.get(a, -1) for a in answers], dtype=np.int64)

    def decode(self, indices: Sequence[int] | np.ndarray) -> list[str]:
        """The answer strings of ``indices``."""
        return [self.answers[int(i)] for i in indices]
