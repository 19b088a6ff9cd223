"""The generated VQA set: scenes + questions for train/val/test, deterministic from a seed.

The photographed stamps of each category are split between the splits (:data:`STAMP_CYCLE`: of
every five stamps of a group, in mapping order, three go to ``train``, one to ``val``, one to
``test``), so no test object was seen in training.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from camlib.utils.cache import cache_key
from camlib.chapters.ch10_vqa.questions import Question, ask
from camlib.chapters.ch10_vqa.table import QuestionTable
from camlib.data.generators import colours, vqa_scenes
from camlib.data.generators.composites import BACKGROUND_CROPS, background_crops, load_stamps_cached, split_stamps
from camlib.data.generators.stamps import GROUPS_FILE, stamp_mapping
from camlib.data.generators.vqa_scenes import CATEGORIES, Piece, SceneObject, pieces, render_scene
from camlib.utils.errors import CamlibError
from camlib.utils.progress import progress

SPLITS = ("train", "val", "test")
#: Bump when the generator's output changes (invalidates cached features).
GENERATOR_VERSION = 3
#: Which split each stamp of a group goes to, in turn (mapping order): 3/5 train, 1/5 val, 1/5 test.
STAMP_CYCLE = ("train", "test", "train", "val", "train")


@dataclass(frozen=True)
class VQASpec:
    """Everything that determines a generated VQA set.

    ``images`` is the number of scenes per split (train, val, test); each scene gets up to
    ``questions_per_image`` questions of different kinds. ``object_size`` is the inclusive range of
    an object's longer side in pixels.
    """

    canvas: int = 224
    max_objects: int = 4
    object_size: tuple[int, int] = (56, 88)
    categories: tuple[str, ...] = tuple(CATEGORIES)
    images: tuple[int, int, int] = (1000, 200, 300)
    questions_per_image: int = 3
    seed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "object_size", tuple(self.object_size))
        object.__setattr__(self, "images", tuple(self.images))
        object.__setattr__(self, "categories", tuple(self.categories))
        unknown = [c for c in self.categories if c not in CATEGORIES]
        if unknown or len(self.categories) < 2 or len(set(self.categories)) != len(self.categories):
            raise CamlibError(f"categories must be at least two distinct words from {list(CATEGORIES)}, got {list(self.categories)}")
        if len(self.images) != 3 or min(self.images) < 1 or self.questions_per_image < 1:
            raise CamlibError(f"images must be three positive counts (train, val, test) and questions_per_image >= 1, "
                              f"got {self.images} and {self.questions_per_image}")

    def key(self) -> str:
        """A short hash of the spec, the stamps, the background crops, the colour rule and :data:`GENERATOR_VERSION`
        (names cache files; the colour rule decides which questions are asked, and so the random stream of later scenes)."""
        stamps = [(e.path, e.sha256, e.class_name) for e in stamp_mapping(GROUPS_FILE)]
        rule = (colours.HUES, colours.MIN_SATURATION, colours.MIN_VALUE, colours.BROWN_VALUE, colours.MIN_CHROMATIC,
                colours.MIN_DOMINANT, vqa_scenes.GAP, vqa_scenes.LONGEST_STAMP)
        return cache_key(version=GENERATOR_VERSION, spec=asdict(self), stamps=stamps, backgrounds=BACKGROUND_CROPS,
                         cycle=STAMP_CYCLE, rule=rule)


@dataclass
class VQASplit:
    """One split of the generated set.

    images uint8 (N, H, W, 3); instances int8 (N, H, W) (object index per pixel, -1 background);
    scenes: the objects of each image; questions: a :class:`QuestionTable` of Q questions;
    evidence: per question, the indices (into its image's objects) of the objects it is about.
    """

    images: np.ndarray
    instances: np.ndarray
    scenes: list[list[SceneObject]]
    questions: QuestionTable
    evidence: list[tuple[int, ...]] = field(repr=False)

    def evidence_masks(self, rows: np.ndarray | None = None) -> np.ndarray:
        """bool (len(rows), H, W): the pixels of the objects each question (all if ``rows`` is None) is about."""
        rows = np.arange(len(self.questions)) if rows is None else np.asarray(rows)
        out = np.zeros((len(rows), *self.instances.shape[1:]), dtype=bool)
        for i, q in enumerate(rows):
            ids = self.evidence[q]
            if ids:
                out[i] = np.isin(self.instances[self.questions.image_index[q]], ids)
        return out


    def answer_masks(self, rows: np.ndarray, answers: list[str]) -> np.ndarray:
        """bool (len(rows), H, W): the pixels of the objects in each question's image whose (clear) colour
        or category is ``answers[i]`` (e.g. the objects a predicted answer describes; empty if none)."""
        rows = np.asarray(rows)
        if len(rows) != len(answers):
            raise CamlibError(f"{len(rows)} rows but {len(answers)} answers")
        out = np.zeros((len(rows), *self.instances.shape[1:]), dtype=bool)
        for i, (q, answer) in enumerate(zip(rows, answers)):
            image = self.questions.image_index[q]
            ids = [j for j, o in enumerate(self.scenes[image]) if answer in (o.colour, o.category)]
            if ids:
                out[i] = np.isin(self.instances[image], ids)
        return out


def stamp_pools(categories: tuple[str, ...]) -> dict[str, dict[str, list[Piece]]]:
    """Per split, category word -> its pieces (stamps with their colours); the splits' stamps are disjoint."""
    stamps = list(load_stamps_cached(GROUPS_FILE))
    chosen = {CATEGORIES[c] for c in categories}
    members = [i for i, s in enumerate(stamps) if s.class_name in chosen]
    split = split_stamps([stamps[i] for i in members], STAMP_CYCLE)
    return {name: pieces([stamps[members[i]] for i in split[name]], categories) for name in SPLITS}


def stamp_table(categories: tuple[str, ...]) -> pd.DataFrame:
    """Per category: stamps per split, how many have a clear colour, and those colours (with counts)."""
    pools = stamp_pools(categories)
    rows = {}
    for c in categories:
        row = {f"{name} stamps": len(pools[name][c]) for name in SPLITS}
        named = [p.colour for name in SPLITS for p in pools[name][c] if p.colour is not None]
        row["with a clear colour"] = len(named)
        row["colours"] = ", ".join(f"{k} {v}" for k, v in pd.Series(named).value_counts().sort_index().items())
        rows[c] = row
    return pd.DataFrame(rows).T.rename_axis("category")


def colour_pairs(pool: dict[str, list[Piece]]) -> list[tuple[str, str]]:
    """The (colour, category) pairs of the pool's pieces with a clear colour, sorted: what "is there a"
    questions may name (so the question alone does not rule out a pair no stamp shows)."""
    return sorted({(p.colour, c) for c, members in pool.items() for p in members if p.colour is not None})


def make_split(spec: VQASpec, split: str, pool: dict[str, list[Piece]], pairs: list[tuple[str, str]]) -> VQASplit:
    """Generate one split from its stamp pool; "is there a" questions name ``pairs`` (see :func:`generate_vqa`)."""
    rng = np.random.default_rng(np.random.SeedSequence(spec.seed).spawn(len(SPLITS))[SPLITS.index(split)])
    n = spec.images[SPLITS.index(split)]
    images = np.empty((n, spec.canvas, spec.canvas, 3), dtype=np.uint8)
    instances = np.empty((n, spec.canvas, spec.canvas), dtype=np.int8)
    scenes, asked, owners = [], [], []
    backgrounds = background_crops()
    for i in progress(range(n), desc=f"vqa {split} scenes"):
        images[i], instances[i], objects = render_scene(rng, pool, backgrounds, spec.canvas, spec.max_objects, spec.object_size)
        questions: list[Question] = ask(objects, pairs, rng, spec.questions_per_image)
        scenes.append(objects)
        asked += questions
        owners += [i] * len(questions)
    table = QuestionTable(
        image_index=np.asarray(owners, dtype=np.int64),
        text=[q.text for q in asked],
        answer=[q.answer for q in asked],
        question_type=[q.question_type for q in asked],
        answer_type=[q.answer_type for q in asked],
        all_answers=[(q.answer,) for q in asked],
    )
    return VQASplit(images, instances, scenes, table, [q.evidence for q in asked])


def generate_vqa(spec: VQASpec = VQASpec()) -> dict[str, VQASplit]:
    """``{"train", "val", "test"}`` splits for ``spec``; the same spec gives bit-identical splits."""
    pools = stamp_pools(spec.categories)
    pairs = colour_pairs({c: [p for pool in pools.values() for p in pool[c]] for c in spec.categories})
    return {split: make_split(spec, split, pools[split], pairs) for split in SPLITS}
