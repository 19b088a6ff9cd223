"""The generated VQA set: scenes + questions for train/val/test, deterministic from a seed.

Objects of ``train`` and ``val`` come from disjoint parts of Fashion-MNIST's training set (every
fifth item goes to ``val``), objects of ``test`` from its test set, so no test object was seen
in training.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from camlib.cache import stable_key
from camlib.chapters.ch10_vqa.questions import Question, ask
from camlib.chapters.ch10_vqa.table import QuestionTable
from camlib.data import FASHION_MNIST_CLASSES, load_fashion_mnist
from camlib.data.vqa_scenes import CATEGORIES, SceneObject, render_scene
from camlib.errors import CamlibError
from camlib.progress import progress

SPLITS = ("train", "val", "test")
#: Bump when the generator's output changes (invalidates cached features).
GENERATOR_VERSION = 2
_VAL_EVERY = 5


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
        """A short hash of the spec and :data:`GENERATOR_VERSION` (names cache files)."""
        return stable_key({"version": GENERATOR_VERSION, **asdict(self)})


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
        """bool (len(rows), H, W): the pixels of the objects in each question's image whose colour or
        category is ``answers[i]`` (e.g. the objects a predicted answer describes; empty if none)."""
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


def _items(split: str, categories: tuple[str, ...], fashion: dict[str, tuple[np.ndarray, np.ndarray]]) -> dict[str, np.ndarray]:
    """Category word -> the Fashion-MNIST items uint8 (M, 28, 28) that ``split`` draws from."""
    images, labels = fashion["test" if split == "test" else "train"]
    if split != "test":
        in_val = np.arange(len(labels)) % _VAL_EVERY == 0
        keep = in_val if split == "val" else ~in_val
        images, labels = images[keep], labels[keep]
    return {c: images[labels == FASHION_MNIST_CLASSES.index(CATEGORIES[c])] for c in categories}


def make_split(spec: VQASpec, split: str, items: dict[str, np.ndarray]) -> VQASplit:
    """Generate one split from its item pool (see :func:`generate_vqa`)."""
    rng = np.random.default_rng(np.random.SeedSequence(spec.seed).spawn(len(SPLITS))[SPLITS.index(split)])
    n = spec.images[SPLITS.index(split)]
    images = np.empty((n, spec.canvas, spec.canvas, 3), dtype=np.uint8)
    instances = np.empty((n, spec.canvas, spec.canvas), dtype=np.int8)
    scenes, asked, owners = [], [], []
    for i in progress(range(n), desc=f"vqa {split} scenes"):
        images[i], instances[i], objects = render_scene(rng, items, spec.canvas, spec.max_objects, spec.object_size)
        questions: list[Question] = ask(objects, spec.categories, rng, spec.questions_per_image)
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
    fashion = {name: load_fashion_mnist(name) for name in ("train", "test")}
    return {split: make_split(spec, split, _items(split, spec.categories, fashion)) for split in SPLITS}
