"""Scenes of real objects on real photographs, with captions or scene classes and exact masks.

Each image is a crop of a real photograph with 2-5 Fashion-MNIST items pasted into distinct cells
of a 3 x 3 grid, each tinted with a named colour. Every object's pixels are known exactly
(``instances``), and so is everything a caption can say about it: its category, colour, grid
column (left / right) and which objects stand next to it (horizontal neighbours in the grid).

* :func:`make_captioned_scenes` (concept localization): random objects and a caption that
  mentions some of them (noise: objects go unmentioned) as short clauses such as
  "a red bag", "a boot on the left", "a sneaker next to a shirt".
* :func:`make_scene_classes` (informative objects): scene classes defined by which objects occur:
  some occur in every class (frequent), some mostly in one (discriminative).

Objects for ``train`` come from Fashion-MNIST's training set, for ``test`` from its test set.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

import numpy as np
from skimage import data as skdata

from ..cache import stable_key
from ..errors import CamlibError
from ..progress import progress
from .backgrounds import background_photos
from .fashion_mnist import load_fashion_mnist
from .items import COLOURS as ITEM_COLOURS
from .items import resize_longer_side, tight_crop, tinted
from .paste import blend, mask_box
from .text_scenes import random_crop

GENERATOR_VERSION = 2
SPLITS = ("train", "test")
#: The word a caption uses for each Fashion-MNIST class (in class order).
OBJECT_WORDS = ("t-shirt", "trousers", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "boot")
#: Named tints (RGB) of the objects.
COLOURS = {name: ITEM_COLOURS[name] for name in ("red", "green", "blue", "yellow")}
COLOUR_NAMES = tuple(COLOURS)
#: One bright colour per object category (in :data:`OBJECT_WORDS` order), for scenes whose objects keep their own look.
CATEGORY_COLOURS = [(230, 40, 40), (255, 140, 0), (240, 220, 30), (120, 220, 40), (20, 150, 60),
                    (30, 200, 220), (40, 80, 230), (140, 60, 210), (230, 50, 200), (240, 240, 240)]
GRID = 3


def _rng(seed: int, split: str) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed).spawn(len(SPLITS))[SPLITS.index(split)])


@dataclass
class ObjectScenes:
    """Images of objects with exact ground truth.

    images uint8 (N, S, S, 3); instances int16 (N, S, S): the row of ``objects`` each pixel shows
    (-1 for background); objects: a table of equal-length arrays ``image`` (T,), ``category`` (T,)
    (index into :data:`OBJECT_WORDS`), ``colour`` (T,) (index into the palette drawn with:
    :data:`COLOUR_NAMES` for captioned scenes), ``cell``
    (T,) (grid row * 3 + column) and ``box`` (T, 4); captions: one string per image (empty when
    none); labels int64 (N,): scene class (-1 when none), named by ``class_names``.
    """

    images: np.ndarray
    instances: np.ndarray
    objects: dict[str, np.ndarray]
    captions: list[str] = field(default_factory=list)
    labels: np.ndarray | None = None
    class_names: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.images)

    def objects_of(self, image: int) -> np.ndarray:
        """Rows of :attr:`objects` in image ``image``."""
        return np.flatnonzero(self.objects["image"] == image)

    def masks_of(self, image: int, rows: np.ndarray | list[int]) -> np.ndarray:
        """Bool masks (M, S, S) of the given object rows of image ``image``."""
        return self.instances[image][None] == np.asarray(rows, dtype=np.int64).reshape(-1, 1, 1)


def paste_object(canvas: np.ndarray, item: np.ndarray, colour: tuple[int, int, int], cell: int,
                 side: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A Fashion-MNIST ``item`` uint8 (28, 28), cropped, resized so its longer side is ``side`` and tinted
    with ``colour``, pasted at a random spot inside grid ``cell`` of ``canvas`` uint8 (S, S, 3).

    Returns the new canvas and the object's mask (S, S).
    """
    value = resize_longer_side(tight_crop(item), side)
    h, w = value.shape
    cell_size = canvas.shape[0] // GRID
    row, col = divmod(cell, GRID)
    top = row * cell_size + int(rng.integers(0, max(cell_size - h, 0) + 1))
    left = col * cell_size + int(rng.integers(0, max(cell_size - w, 0) + 1))
    return blend(canvas, tinted(value, colour), left, top)


@dataclass(frozen=True)
class _Layout:
    """The objects of one image before rendering: category, colour and cell of each."""

    categories: np.ndarray
    colours: np.ndarray
    cells: np.ndarray


def _render(layouts: list[_Layout], size: int, object_size: tuple[int, int], split: str, photos: list[np.ndarray],
            palette: list[tuple[int, int, int]], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Draw every layout on a background crop (object colours index ``palette``); returns images,
    instances and the object table."""
    if object_size[1] > size // GRID:
        raise CamlibError(f"objects must fit a grid cell: at most size // {GRID} = {size // GRID} px, got {object_size}")
    items, item_labels = load_fashion_mnist(split)
    by_class = [np.flatnonzero(item_labels == c) for c in range(len(OBJECT_WORDS))]
    n = len(layouts)
    images = np.empty((n, size, size, 3), dtype=np.uint8)
    instances = np.full((n, size, size), -1, dtype=np.int16)
    table: dict[str, list] = {"image": [], "category": [], "colour": [], "cell": [], "box": []}
    for i in progress(range(n), desc=f"scenes ({split})"):
        canvas = np.rint(random_crop(photos[int(rng.integers(len(photos)))], size, rng)).astype(np.uint8)
        for category, colour, cell in zip(layouts[i].categories, layouts[i].colours, layouts[i].cells):
            item = items[rng.choice(by_class[category])]
            item = item[:, ::-1] if rng.random() < 0.5 else item
            side = int(rng.integers(object_size[0], object_size[1] + 1))
            canvas, mask = paste_object(canvas, item, palette[colour], int(cell), side, rng)
            row = len(table["image"])
            instances[i][mask] = row
            table["image"].append(i)
            table["category"].append(int(category))
            table["colour"].append(int(colour))
            table["cell"].append(int(cell))
            table["box"].append(mask_box(mask))
        images[i] = canvas
    objects = {k: np.asarray(v, dtype=np.float32 if k == "box" else np.int64) for k, v in table.items()}
    objects["box"] = objects["box"].reshape(-1, 4)
    return images, instances, objects


# ---------------------------------------------------------------------------------------------
# Captioned scenes (concept localization)


@dataclass(frozen=True)
class CaptionSpec:
    """What determines a captioned-scene data set (sizes in pixels, probabilities in [0, 1])."""

    size: int = 224
    n_train: int = 800
    n_test: int = 300
    objects: tuple[int, int] = (3, 5)
    object_size: tuple[int, int] = (56, 72)
    categories: tuple[str, ...] = ("trousers", "sandal", "shirt", "sneaker", "bag")
    mention_probability: float = 0.75
    relation_probability: float = 0.6
    position_probability: float = 0.5
    colour_probability: float = 0.6
    seed: int = 0

    def __post_init__(self) -> None:
        unknown = [c for c in self.categories if c not in OBJECT_WORDS]
        if unknown or len(set(self.categories)) != len(self.categories) or not self.categories:
            raise CamlibError(f"categories must be distinct words of {OBJECT_WORDS}, got {self.categories}")
        if not 1 <= self.objects[0] <= self.objects[1] <= GRID * GRID:
            raise CamlibError(f"objects must be a range within 1..{GRID * GRID}, got {self.objects}")

    def count(self, split: str) -> int:
        """Number of images of ``split``."""
        return {"train": self.n_train, "test": self.n_test}[split]

    def key(self) -> str:
        """A short hash of the spec (for cache file names)."""
        return stable_key({"version": GENERATOR_VERSION, **asdict(self)})


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
    """"a bag", but "trousers" (a plural noun takes no article)."""
    return noun if noun.endswith("trousers") else f"a {noun}"


def caption_for(layout: _Layout, spec: CaptionSpec, rng: np.random.Generator) -> str:
    """A caption mentioning some of the layout's objects, one clause each (two for a relation).

    Each object is skipped with probability ``1 - mention_probability``; a mentioned object with an
    unmentioned horizontal neighbour is described together with it with ``relation_probability``
    ("a shirt next to a sneaker", the two nouns in alphabetical order); else, in an outer column, by its side with
    ``position_probability`` ("a bag on the left"); a colour is added with ``colour_probability``.
    """
    order = rng.permutation(len(layout.categories))
    pairs = neighbours(layout.cells)
    used: set[int] = set()
    clauses = []
    for a in order:
        if a in used:
            continue
        used.add(int(a))
        if rng.random() >= spec.mention_probability:
            continue
        noun = OBJECT_WORDS[layout.categories[a]]
        partners = [b for p in pairs if a in p for b in p if b != a and b not in used]
        if partners and rng.random() < spec.relation_probability:
            b = partners[int(rng.integers(len(partners)))]
            used.add(b)
            first, second = sorted((noun, OBJECT_WORDS[layout.categories[b]]))
            clauses.append(f"{with_article(first)} next to {with_article(second)}")
            continue
        colour = f"{COLOUR_NAMES[layout.colours[a]]} " if rng.random() < spec.colour_probability else ""
        side = side_word(layout.cells[a])
        where = f" on the {side}" if side and rng.random() < spec.position_probability else ""
        clauses.append(f"{with_article(colour + noun)}{where}")
    return ", ".join(clauses)


def make_captioned_scenes(spec: CaptionSpec, split: str, photos: list[np.ndarray] | None = None) -> ObjectScenes:
    """Generate ``split`` of ``spec`` (backgrounds: :func:`camlib.data.background_photos` by default)."""
    rng = _rng(spec.seed, split)
    photos = background_photos() if photos is None else photos
    allowed = np.array([OBJECT_WORDS.index(c) for c in spec.categories])
    layouts = []
    for _ in range(spec.count(split)):
        k = int(rng.integers(spec.objects[0], spec.objects[1] + 1))
        layouts.append(_Layout(rng.choice(allowed, k), rng.integers(0, len(COLOURS), k),
                               rng.choice(GRID * GRID, k, replace=False)))
    captions = [caption_for(layout, spec, rng) for layout in layouts]
    images, instances, objects = _render(layouts, spec.size, spec.object_size, split, photos, list(COLOURS.values()), rng)
    return ObjectScenes(images, instances, objects, captions, np.full(len(images), -1, dtype=np.int64))


# ---------------------------------------------------------------------------------------------
# Concepts: what a phrase means, and which objects of a scene it picks out

#: Words that may not start or end a mined phrase (so "bag on the" is not a concept).
STOPWORDS = frozenset({"a", "on", "the", "next", "to"})
_NOUN = "|".join(re.escape(w) for w in OBJECT_WORDS)
_PATTERNS = (
    re.compile(rf"^(?:(?P<colour>{'|'.join(COLOUR_NAMES)}) )?(?P<noun>{_NOUN})(?: on the (?P<side>left|right))?$"),
    re.compile(rf"^(?P<noun>{_NOUN}) next to (?P<other>{_NOUN})$"),
)


def clause_tokens(caption: str) -> list[list[str]]:
    """A caption's clauses as token lists with the article "a" removed."""
    return [[t for t in clause.split() if t != "a"] for clause in caption.lower().rstrip(".").split(",") if clause.strip()]


def phrase_in(phrase: str, caption: str) -> bool:
    """Whether ``phrase`` occurs as consecutive words inside one clause of ``caption``."""
    words = phrase.split()
    return any(clause[i:i + len(words)] == words for clause in clause_tokens(caption)
               for i in range(len(clause) - len(words) + 1))


def mine_phrases(captions: list[str], min_count: int, lengths: tuple[int, int] = (2, 5)) -> dict[str, int]:
    """Phrases of ``lengths`` words (inclusive range) that occur in at least ``min_count`` captions,
    with their caption counts; a phrase neither starts nor ends with one of :data:`STOPWORDS`."""
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
    return dict(sorted(((p, c) for p, c in counts.items() if c >= min_count), key=lambda pc: (-pc[1], pc[0])))


def _parse(phrase: str) -> dict[str, str | None]:
    for pattern in _PATTERNS:
        match = pattern.match(phrase)
        if match:
            return {"colour": None, "side": None, "other": None, **match.groupdict()}
    raise CamlibError(f"cannot interpret phrase {phrase!r}: expected '[colour] noun [on the left|right]' "
                      "or 'noun next to noun'")


def concept_kind(phrase: str) -> str:
    """"relation", "colour + side", "colour", "side" or "object" (a bare noun)."""
    parts = _parse(phrase)
    if parts["other"]:
        return "relation"
    return " + ".join(k for k in ("colour", "side") if parts[k]) or "object"


def concept_objects(phrase: str, scenes: ObjectScenes, image: int) -> np.ndarray:
    """The object rows of ``image`` that ``phrase`` describes, from the exact scene layout
    (not the caption): every object matching its colour, category and side; for "X next to Y",
    every X and Y that stand next to each other. Empty when the scene does not show the concept.
    """
    parts = _parse(phrase)
    rows = scenes.objects_of(image)
    category = scenes.objects["category"][rows]
    if parts["other"]:
        a, b = OBJECT_WORDS.index(parts["noun"]), OBJECT_WORDS.index(parts["other"])
        found = set()
        for i, j in neighbours(scenes.objects["cell"][rows]):
            if sorted((category[i], category[j])) == sorted((a, b)):
                found.update((rows[i], rows[j]))
        return np.array(sorted(found), dtype=np.int64)
    keep = category == OBJECT_WORDS.index(parts["noun"])
    if parts["colour"]:
        keep &= scenes.objects["colour"][rows] == COLOUR_NAMES.index(parts["colour"])
    if parts["side"]:
        keep &= np.array([side_word(c) == parts["side"] for c in scenes.objects["cell"][rows]], dtype=bool)
    return rows[keep]


def concept_distractors(phrase: str, scenes: ObjectScenes, image: int) -> np.ndarray:
    """Object rows of ``image`` that a phrase's nouns name but the phrase does not describe (a blue
    bag for "red bag", a bag on the right for "bag on the left", a lone shirt for "bag next to shirt")."""
    parts = _parse(phrase)
    rows = scenes.objects_of(image)
    nouns = [OBJECT_WORDS.index(parts[k]) for k in ("noun", "other") if parts[k]]
    named = rows[np.isin(scenes.objects["category"][rows], nouns)]
    return np.setdiff1d(named, concept_objects(phrase, scenes, image))


def concept_present(phrase: str, scenes: ObjectScenes) -> np.ndarray:
    """Bool (N,): whether each image shows ``phrase`` (exact layout, see :func:`concept_objects`)."""
    return np.array([len(concept_objects(phrase, scenes, i)) > 0 for i in range(len(scenes))], dtype=bool)


def concept_negatives(phrase: str, captions: list[str], rng: np.random.Generator, hard: bool = True,
                      per_positive: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    """Training images for a concept from captions alone: ``(positives, negatives)`` index arrays.

    Positives: captions containing ``phrase``. Negatives (``per_positive`` x as many, at most all
    there are): with ``hard``, ConceptLearner-style hard negatives first, captions sharing a word of
    the phrase but not the phrase (e.g. "blue bag" or "red shirt" for "red bag"), topped up with
    random captions without it; without ``hard``, random captions without any of the phrase's words.
    """
    has = np.array([phrase_in(phrase, c) for c in captions], dtype=bool)
    words = set(phrase.split()) - STOPWORDS
    shares = np.array([bool(words & {t for clause in clause_tokens(c) for t in clause}) for c in captions], dtype=bool)
    positives = np.flatnonzero(has)
    want = int(round(per_positive * len(positives)))
    if hard:
        pool_hard = rng.permutation(np.flatnonzero(shares & ~has))[:want]
        rest = rng.permutation(np.setdiff1d(np.flatnonzero(~has), pool_hard))[:want - len(pool_hard)]
        negatives = np.concatenate([pool_hard, rest])
    else:
        negatives = rng.permutation(np.flatnonzero(~shares))[:want]
    return positives, np.sort(negatives)


# ---------------------------------------------------------------------------------------------
# Scene classes (informative objects)


@dataclass(frozen=True)
class SceneClassSpec:
    """Scene classes by their objects: every class shows each of ``frequent`` with probability
    ``frequent_probability``; class ``c`` shows each of its ``discriminative[c]`` objects with
    ``own_probability`` and each other class's with ``other_probability``. With
    ``category_colours`` every object of a category has its colour (:data:`CATEGORY_COLOURS`; the
    objects table's ``colour`` then indexes that list), else a random one of :data:`COLOURS`."""

    size: int = 224
    class_names: tuple[str, ...] = ("beach", "winter", "office", "gym")
    frequent: tuple[str, ...] = ("t-shirt", "trousers")
    discriminative: tuple[tuple[str, ...], ...] = (("sandal", "dress"), ("coat", "boot"), ("shirt", "bag"), ("sneaker", "pullover"))
    frequent_probability: float = 0.9
    own_probability: float = 0.7
    other_probability: float = 0.1
    category_colours: bool = True
    object_size: tuple[int, int] = (56, 72)
    n_train_per_class: int = 120
    n_test_per_class: int = 50
    seed: int = 0

    def __post_init__(self) -> None:
        if len(self.discriminative) != len(self.class_names):
            raise CamlibError("discriminative needs one tuple of objects per scene class")
        used = list(self.frequent) + [o for group in self.discriminative for o in group]
        unknown = [o for o in used if o not in OBJECT_WORDS]
        if unknown or len(set(used)) != len(used):
            raise CamlibError(f"objects must be distinct words of {OBJECT_WORDS}; check {unknown or used}")

    def count(self, split: str) -> int:
        """Number of images of ``split``."""
        per_class = {"train": self.n_train_per_class, "test": self.n_test_per_class}[split]
        return per_class * len(self.class_names)

    def key(self) -> str:
        """A short hash of the spec (for cache file names)."""
        return stable_key({"version": GENERATOR_VERSION, **asdict(self)})

    def probabilities(self) -> np.ndarray:
        """Float (classes, len(OBJECT_WORDS)): the probability that a class's image shows each object."""
        table = np.zeros((len(self.class_names), len(OBJECT_WORDS)))
        for c, own in enumerate(self.discriminative):
            for word in self.frequent:
                table[c, OBJECT_WORDS.index(word)] = self.frequent_probability
            for d, group in enumerate(self.discriminative):
                for word in group:
                    table[c, OBJECT_WORDS.index(word)] = self.own_probability if d == c else self.other_probability
        return table

    def discriminativeness(self) -> np.ndarray:
        """Float (classes, len(OBJECT_WORDS)): how much more often a class shows each object than the
        other classes do on average (:meth:`probabilities` minus the mean of the other rows)."""
        table = self.probabilities()
        others = (table.sum(axis=0, keepdims=True) - table) / max(len(table) - 1, 1)
        return table - others


#: scikit-image samples of ground textures: the "floors and walls" of scene-class images.
TEXTURES = ("brick", "grass", "gravel")


def texture_photos() -> list[np.ndarray]:
    """The :data:`TEXTURES` photographs as uint8 (H, W, 3)."""
    return [np.repeat(getattr(skdata, name)()[:, :, None], 3, axis=2) for name in TEXTURES]


def make_scene_classes(spec: SceneClassSpec, split: str, photos: list[np.ndarray] | None = None) -> ObjectScenes:
    """Generate ``split`` of ``spec`` on crops of ``photos`` (default :func:`texture_photos`):
    equally many images per class, in random order, each object
    in its own random cell with a random colour (an image showing nothing is redrawn; one drawing
    more than 9 objects keeps 9 of them at random)."""
    rng = _rng(spec.seed, split)
    photos = texture_photos() if photos is None else photos
    probabilities = spec.probabilities()
    labels = rng.permutation(np.repeat(np.arange(len(spec.class_names)), spec.count(split) // len(spec.class_names)))
    layouts = []
    for label in labels:
        present = np.zeros(len(OBJECT_WORDS), dtype=bool)
        while not present.any():
            present = rng.random(len(OBJECT_WORDS)) < probabilities[label]
        categories = rng.permutation(np.flatnonzero(present))[:GRID * GRID]
        colours = categories if spec.category_colours else rng.integers(0, len(COLOURS), len(categories))
        layouts.append(_Layout(categories, colours, rng.choice(GRID * GRID, len(categories), replace=False)))
    palette = CATEGORY_COLOURS if spec.category_colours else list(COLOURS.values())
    images, instances, objects = _render(layouts, spec.size, spec.object_size, split, photos, palette, rng)
    return ObjectScenes(images, instances, objects, [""] * len(images), labels.astype(np.int64), spec.class_names)
