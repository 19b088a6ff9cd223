"""Questions about a scene, with their exact answers and the objects that ground them.

Four kinds, written like VQA v1's question types:

* ``what colour is the``: "what colour is the bag?" about a category present exactly once;
  answer a colour word; grounded on that object.
* ``what is left of the``: "what is left of the bag?" about a category present exactly once that
  has exactly one object entirely to its left (box ``x1 <= x0``); answer that object's category;
  grounded on the answer object.
* ``how many``: "how many bags are there?" about a category present in the scene; answer a digit;
  grounded on every object of the category.
* ``is there a``: "is there a red bag?", half yes (grounded on a matching object), half no
  (a colour/category pair absent from the scene; grounded on nothing).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from camlib.data.vqa_scenes import COLOURS, PLURALS, SceneObject
from camlib.errors import CamlibError

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
            for i, o in enumerate(objects) if cats.count(o.category) == 1]


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


def _exists_questions(objects: Sequence[SceneObject], categories: Sequence[str], rng: np.random.Generator) -> list[Question]:
    """One yes or one no question (a fair coin decides)."""
    present = {(o.colour, o.category) for o in objects}
    if rng.random() < 0.5:
        pairs = sorted(present)
        colour, category = pairs[int(rng.integers(0, len(pairs)))]
        evidence = tuple(i for i, o in enumerate(objects) if (o.colour, o.category) == (colour, category))
        return [Question(f"is there a {colour} {category}?", "yes", "is there a", evidence)]
    absent = [(c, k) for c in COLOURS for k in categories if (c, k) not in present]
    colour, category = absent[int(rng.integers(0, len(absent)))]
    return [Question(f"is there a {colour} {category}?", "no", "is there a", ())]


def ask(objects: Sequence[SceneObject], categories: Sequence[str], rng: np.random.Generator, count: int = 3) -> list[Question]:
    """Up to ``count`` questions about a scene, each of a different kind: "what is left of the" whenever
    the scene allows one (it is the rarest), the other kinds drawn at random.

    ``categories`` are all category words of the data set (the pool for "no" questions).
    """
    if not objects:
        raise CamlibError("cannot ask about an empty scene")
    candidates = {
        "what colour is the": _colour_questions(objects),
        "what is left of the": _left_questions(objects),
        "how many": _count_questions(objects),
        "is there a": _exists_questions(objects, categories, rng),
    }
    kinds = [k for k in QUESTION_TYPES if candidates[k]]
    rare = [k for k in kinds if k == "what is left of the"]
    others = [kinds[i] for i in rng.permutation(len(kinds)) if kinds[i] not in rare]
    chosen = set((rare + others)[:count])
    return [candidates[k][int(rng.integers(0, len(candidates[k])))] for k in QUESTION_TYPES if k in chosen]
