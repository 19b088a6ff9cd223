"""Captions of object scenes: some of a scene's objects mentioned in short clauses.

"a cow", "a cow on the left", "a cow next to a pig" (horizontal neighbours, nouns in alphabetical order).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from camlib.data.generators.object_scenes import CONCEPTS, GRID, SPLITS, ObjectScenes


@dataclass(frozen=True)
class CaptionSpec:
    """How captions mention a scene's objects (probabilities in [0, 1]); see :func:`caption_for`."""

    mention_probability: float = 0.75
    relation_probability: float = 0.5
    position_probability: float = 0.5
    seed: int = 0


def neighbours(cells: np.ndarray) -> list[tuple[int, int]]:
    """Index pairs ``(a, b)``, a < b, of objects in horizontally adjacent grid cells (same row)."""
    pairs = []
    for a in range(len(cells)):
        for b in range(a + 1, len(cells)):
            (ra, ca), (rb, cb) = divmod(int(cells[a]), GRID), divmod(int(cells[b]), GRID)
            if ra == rb and abs(ca - cb) == 1:
                pairs.append((a, b))
    return pairs


def side_word(cell: int) -> str | None:
    """"left" for the grid's first column, "right" for its last, else ``None``."""
    col = int(cell) % GRID
    return "left" if col == 0 else "right" if col == GRID - 1 else None


def with_article(noun: str) -> str:
    """"a cow", "an insect"."""
    return f"{'an' if noun[0] in 'aeiou' else 'a'} {noun}"


def caption_for(categories: np.ndarray, cells: np.ndarray, spec: CaptionSpec, rng: np.random.Generator) -> str:
    """A caption mentioning some of a scene's objects (concept indices ``categories``, grid ``cells``).

    Each object is skipped with probability ``1 - mention_probability``; a mentioned object with an
    unmentioned horizontal neighbour is described together with it with ``relation_probability``
    ("a cow next to a pig", nouns in alphabetical order); else, in an outer column, by its side with
    ``position_probability`` ("a cow on the left").
    """
    pairs = neighbours(cells)
    used: set[int] = set()
    clauses = []
    for a in rng.permutation(len(categories)):
        if a in used:
            continue
        used.add(int(a))
        if rng.random() >= spec.mention_probability:
            continue
        noun = CONCEPTS[categories[a]]
        partners = [b for p in pairs if a in p for b in p if b != a and b not in used]
        if partners and rng.random() < spec.relation_probability:
            b = partners[int(rng.integers(len(partners)))]
            used.add(b)
            first, second = sorted((noun, CONCEPTS[categories[b]]))
            clauses.append(f"{with_article(first)} next to {with_article(second)}")
            continue
        side = side_word(cells[a])
        clauses.append(with_article(noun) + (f" on the {side}" if side and rng.random() < spec.position_probability else ""))
    return ", ".join(clauses)


def make_captions(scenes: ObjectScenes, spec: CaptionSpec = CaptionSpec()) -> list[str]:
    """One caption per image of ``scenes`` (deterministic given the split's name and ``spec.seed``)."""
    rng = np.random.default_rng(np.random.SeedSequence(spec.seed).spawn(len(SPLITS))[SPLITS.index(scenes.name)])
    category, cell = scenes.arrays["category"], scenes.arrays["cell"]
    return [caption_for(category[scenes.objects_of(i)], cell[scenes.objects_of(i)], spec, rng) for i in range(len(scenes))]
