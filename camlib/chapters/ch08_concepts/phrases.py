"""Phrases mined from captions, what kind of concept each names, and the scene objects each describes."""
from __future__ import annotations

import re

import numpy as np

from camlib.data.generators.object_scenes import CONCEPTS, ObjectScenes
from camlib.utils.errors import CamlibError
from camlib.chapters.ch08_concepts.captions import neighbours, side_word


#: Words that may not start or end a mined phrase (so "cow on the" is not a concept).
STOPWORDS = frozenset({"a", "an", "on", "the", "next", "to"})
_NOUN = "|".join(re.escape(w) for w in CONCEPTS)
_PATTERNS = (
    re.compile(rf"^(?P<noun>{_NOUN})(?: on the (?P<side>left|right))?$"),
    re.compile(rf"^(?P<noun>{_NOUN}) next to (?P<other>{_NOUN})$"),
)


def clause_tokens(caption: str) -> list[list[str]]:
    """A caption's clauses as token lists with the articles "a" and "an" removed."""
    return [[t for t in clause.split() if t not in ("a", "an")] for clause in caption.lower().rstrip(".").split(",") if clause.strip()]


def phrase_in(phrase: str, caption: str) -> bool:
    """Whether ``phrase`` occurs as consecutive words inside one clause of ``caption``."""
    words = phrase.split()
    return any(clause[i:i + len(words)] == words for clause in clause_tokens(caption)
               for i in range(len(clause) - len(words) + 1))


def mine_phrases(captions: list[str], min_count: int, lengths: tuple[int, int] = (1, 5)) -> dict[str, int]:
    """Phrases of ``lengths`` words (inclusive range) that occur in at least ``min_count`` captions,
    with their caption counts, most frequent first; a phrase neither starts nor ends with one of
    :data:`STOPWORDS`, and only phrases the caption grammar can interpret are kept (:func:`concept_kind`:
    "cow", "cow on the left", "cow next to pig"; not "left" or "cow on")."""
    counts: dict[str, int] = {}
    for caption in captions:
        seen = set()
        for clause in clause_tokens(caption):
            for n in range(lengths[0], lengths[1] + 1):
                for i in range(len(clause) - n + 1):
                    gram = clause[i:i + n]
                    if gram[0] not in STOPWORDS and gram[-1] not in STOPWORDS:
                        seen.add(" ".join(gram))
        for phrase in seen:
            counts[phrase] = counts.get(phrase, 0) + 1
    return dict(sorted(((p, c) for p, c in counts.items() if c >= min_count and _interpretable(p)),
                       key=lambda pc: (-pc[1], pc[0])))


def _interpretable(phrase: str) -> bool:
    return any(pattern.match(phrase) for pattern in _PATTERNS)


def _parse(phrase: str) -> dict[str, str | None]:
    for pattern in _PATTERNS:
        match = pattern.match(phrase)
        if match:
            return {"side": None, "other": None, **match.groupdict()}
    raise CamlibError(f"cannot interpret phrase {phrase!r}: expected 'noun [on the left|right]' or 'noun next to noun'")


def concept_kind(phrase: str) -> str:
    """"relation" ("cow next to pig"), "side" ("cow on the left") or "object" (a bare noun)."""
    parts = _parse(phrase)
    return "relation" if parts["other"] else "side" if parts["side"] else "object"


def concept_objects(phrase: str, scenes: ObjectScenes, image: int) -> np.ndarray:
    """The object rows of ``image`` that ``phrase`` describes, from the exact layout (not the caption):
    every object of its concept (on its side); for "X next to Y", every X and Y standing next to each
    other. Empty when the scene does not show the phrase."""
    parts = _parse(phrase)
    rows = scenes.objects_of(image)
    category = scenes.arrays["category"][rows]
    cells = scenes.arrays["cell"][rows]
    if parts["other"]:
        a, b = CONCEPTS.index(parts["noun"]), CONCEPTS.index(parts["other"])
        found = set()
        for i, j in neighbours(cells):
            if sorted((category[i], category[j])) == sorted((a, b)):
                found.update((rows[i], rows[j]))
        return np.array(sorted(found), dtype=np.int64)
    keep = category == CONCEPTS.index(parts["noun"])
    if parts["side"]:
        keep &= np.array([side_word(c) == parts["side"] for c in cells], dtype=bool)
    return rows[keep]
