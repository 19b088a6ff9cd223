"""Questions about a scene, with their exact answers and the objects that ground them.

Four kinds, written like VQA v1's question types:

* ``what colour is the``: "what colour is the fruit?" about a category present exactly once whose
  object has a clear colour; answer a colour word; grounded on that object.
* ``what is left of the``: "what is left of the fruit?" about a category present exactly once that
  has exactly one object entirely to its left (box ``x1 <= x0``); answer that object's category;
  grounded on the answer object.
* ``how many``: "how many fruits are there?" about a category present in the scene; answer a digit;
  grounded on every object of the category.
* ``is there a``: "is there a red fruit?", half yes (grounded on the matching objects), half no
  (a colour/category pair of the data set that no object of the scene shows, and whose category has
  no object without a clear colour in the scene, so "no" is certain; grounded on nothing); asked
  only about scenes where both answers are possible.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from camlib.data.generators.vqa_scenes import PLURALS, SceneObject
from camlib.utils.errors import CamlibError

QUESTION_TYPES = ("what colour is the", "what is left of the", "how many", "is there a")
ANSWER_TYPES = {"what colour is the": "other", "what is left of the": "other", "how many": "number", "is there a": "yes/no"}


@dataclass(frozen=True)
class Question:
    """One question: its text, answer, VQA-style types and the indices of the objects it is about."""

    text: str
    answer: str
    question_type: str
    evidence: tuple[int, ...]

    @property
    def answer_type(self) -> str:
        """``"other"``, ``"number"`` or ``"yes/no"`` as in VQA v1."""
        return ANSWER_TYPES[self.question_type]


def _colour_questions(objects: Sequence[SceneObject]) -> list[Question]:
    cats = [o.category for o in objects]
    return [Question(f"what colour is the {o.category}?", o.colour, "what colour is the", (i,))
            for i, o in enumerate(objects) if cats.count(o.category) == 1 and o.colour is not None]


def _left_questions(objects: Sequence[SceneObject]) -> list[Question]:
    cats = [o.category for o in objects]
    out = []
    for o in objects:
        if cats.count(o.category) != 1:
            continue
        left = [j for j, other in enumerate(objects) if other.box[2] <= o.box[0]]
        if len(left) == 1:
            out.append(Question(f"what is left of the {o.category}?", objects[left[0]].category, "what is left of the", (left[0],)))
    return out


def _count_questions(objects: Sequence[SceneObject]) -> list[Question]:
    cats = [o.category for o in objects]
    return [Question(f"how many {PLURALS[c]} are there?", str(cats.count(c)), "how many",
                     tuple(i for i, k in enumerate(cats) if k == c)) for c in dict.fromkeys(cats)]


def _exists_questions(objects: Sequence[SceneObject], pairs: Sequence[tuple[str, str]], rng: np.random.Generator) -> list[Question]:
    """One yes or one no question (a fair coin decides), or none unless both answers are possible
    (so that "yes" and "no" stay equally likely)."""
    present = sorted({(o.colour, o.category) for o in objects if o.colour is not None})
    unsure = {o.category for o in objects if o.colour is None}
    absent = [(c, k) for c, k in pairs if (c, k) not in present and k not in unsure]
    if not present or not absent:
        return []
    if rng.random() < 0.5:
        colour, category = present[int(rng.integers(0, len(present)))]
        evidence = tuple(i for i, o in enumerate(objects) if (o.colour, o.category) == (colour, category))
        return [Question(f"is there a {colour} {category}?", "yes", "is there a", evidence)]
    colour, category = absent[int(rng.integers(0, len(absent)))]
    return [Question(f"is there a {colour} {category}?", "no", "is there a", ())]


def ask(objects: Sequence[SceneObject], pairs: Sequence[tuple[str, str]], rng: np.random.Generator, count: int = 3) -> list[Question]:
    """Up to ``count`` questions about a scene, each of a different kind: "what is left of the" whenever
    the scene allows one (it is the rarest), the other kinds drawn at random.

    ``pairs`` are the (colour, category) pairs of the data set (the pool for "no" questions).
    """
    if not objects:
        raise CamlibError("cannot ask about an empty scene")
    candidates = {
        "what colour is the": _colour_questions(objects),
        "what is left of the": _left_questions(objects),
        "how many": _count_questions(objects),
        "is there a": _exists_questions(objects, pairs, rng),
    }
    kinds = [k for k in QUESTION_TYPES if candidates[k]]
    rare = [k for k in kinds if k == "what is left of the"]
    others = [kinds[i] for i in rng.permutation(len(kinds)) if kinds[i] not in rare]
    chosen = set((rare + others)[:count])
    return [candidates[k][int(rng.integers(0, len(candidates[k])))] for k in QUESTION_TYPES if k in chosen]
