"""Scenes of photographed objects: scene classes defined by which objects they show, with exact masks.

Each image is a crop of a real photograph (:func:`camlib.data.generators.composites.background_crops`, chosen
to suit the scene class: water for a pond, grass for a garden, cobblestones for a street...) with
photographed objects (Tux Paint stamps of :data:`~camlib.data.generators.stamps.GROUPS_FILE`) pasted
(:func:`camlib.data.generators.paste.paste`) into distinct cells of a 3 x 3 grid. Objects never overlap (each
stays inside its cell), so every mask is the object's whole alpha > 0.5 and every box its tight extent.

Objects are named **concepts** (:data:`CONCEPT_STAMPS`): a stamp group ("fruit", "flower") or a finer
name shared by several stamps of a group ("cow": cow, white cow, bull, zebu). A **scene class** is a
distribution over concepts (:data:`CLASS_PROBABILITIES`): an image of class ``c`` shows concept ``o``
with probability ``p[c, o]``, independently (an image drawing nothing is redrawn; one drawing more than
nine keeps nine at random), each shown object being a random stamp of its concept. Flowers and plants
appear in most classes (probability 0.40-0.55) and a little more in gardens and cemeteries (0.70-0.75),
so the most frequent objects of a class are also mildly class-dependent: nothing guarantees that a
CAM or a frequency count finds the discriminative objects.

Every stamp of a concept may appear in every split (train, dev and test differ in backgrounds, stamp
choice, scale, flip and position): the scenes test what a CAM points at, not generalisation to unseen
object instances.

The scenes are stored as their recipe (background window, stamp, scale, flip and position of every
object) with boxes in a checksummed cache; images and masks are rendered on access.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import cached_property, lru_cache

import cv2
import numpy as np
import torch

from camlib.utils.cache import cache_key, cached_tensors
from camlib.utils.errors import CamlibError
from camlib.utils.progress import progress
from camlib.data.generators.composites import BACKGROUND_CROPS, background_crops, load_stamps_cached
from camlib.data.generators.paste import paste, scale_rgba
from camlib.metrics.boxes import mask_box
from camlib.data.assets.paths import cache_dir
from camlib.data.generators.stamps import GROUPS_FILE, Stamp, stamp_mapping

GENERATOR_VERSION = 3
SPLITS = ("train", "dev", "test")
GRID = 3

#: Each concept's stamps (file names without ``.png`` in :data:`~camlib.data.generators.stamps.GROUPS_FILE`);
#: a concept that is a whole group lists the group as ``"group:<name>"``.
CONCEPT_STAMPS: dict[str, tuple[str, ...]] = {
    "fruit": ("group:fruit",),
    "vegetable": ("group:vegetable",),
    "coin": ("group:coin",),
    "flower": ("group:flower",),
    "plant": ("group:plant",),
    "insect": ("group:insect",),
    "bird": ("adelaide-rosella", "blackbird", "crow", "cuckoo", "lark", "magpie", "owl", "pigeon", "quetzal",
             "rainbow-lorikeet", "tucan", "peacock", "albino_peahen"),
    "hen": ("chicken_profile", "hen", "rooster", "turkey", "guineafowl", "helmeted_guineafowl"),
    "waterfowl": ("drake", "duck", "gander", "heron_greatblue", "pelican", "pink_flamingo", "seagull", "silver-gull"),
    "fish": ("group:fish",),
    "cow": ("cow", "cow_white", "bull", "zebu"),
    "sheep": ("sheep", "sheep_lamb", "ram", "goat"),
    "horse": ("horse", "donkey", "donkey_eating"),
    "pig": ("pig", "pig_golden", "pig_golden2"),
    "car": ("beetle", "sedan", "sportscar2", "indycar"),
    "truck": ("truck", "dumper", "firetruck", "garbagetruck"),
    "guitar": ("guitar2", "guitar_classical", "guitar_electric", "guitar_electric_bass"),
    "instrument": ("trumpet", "cymbal_crash", "drum_tomtom_floor", "cello", "violin", "bassoon"),
    "wrench": ("wrench", "wrench_adjustable", "wrench_plumbers"),
    "tool": ("hammer", "mallet_metal", "measuring_tape", "paintbrush_large", "saw", "plyers",
             "scissors_small_closed", "scissors_small_open", "nutcracker"),
    "spade": ("spade",),
    "gravestone": ("group:gravestone",),
}
#: The concepts, in table order (one word each, so a caption's words name them unambiguously).
CONCEPTS = tuple(CONCEPT_STAMPS)
#: The scene classes, in table order.
CLASS_NAMES = ("market", "garden", "farm", "street", "music room", "workshop", "cemetery", "pond")
#: The background crops each class is drawn on (matched against ``BACKGROUND_CROPS[i].shows``).
CLASS_BACKGROUNDS = {
    "market": ("cobblestones", "brick wall (grey)", "gravel (grey)"),
    "garden": ("grass (grey)", "foliage"),
    "farm": ("dry grass field", "grass (grey)"),
    "street": ("cobblestones", "brick wall (grey)"),
    "music room": ("brick wall (grey)",),
    "workshop": ("brick wall (grey)", "gravel (grey)"),
    "cemetery": ("grass (grey)", "gravel (grey)"),
    "pond": ("rippled water", "sea waves"),
}
_P = {  # concept: probability per class, in CLASS_NAMES order
    #             market garden farm street music workshop cemetery pond
    "fruit":      (0.80, 0.15, 0.15, 0.10, 0.05, 0.05, 0.05, 0.05),
    "vegetable":  (0.70, 0.30, 0.20, 0.05, 0.05, 0.05, 0.05, 0.05),
    "coin":       (0.50, 0.05, 0.05, 0.20, 0.15, 0.20, 0.10, 0.05),
    "flower":     (0.50, 0.75, 0.45, 0.45, 0.45, 0.40, 0.70, 0.45),
    "plant":      (0.45, 0.75, 0.55, 0.50, 0.40, 0.40, 0.65, 0.55),
    "insect":     (0.10, 0.55, 0.20, 0.05, 0.05, 0.10, 0.15, 0.20),
    "bird":       (0.15, 0.45, 0.20, 0.25, 0.05, 0.05, 0.35, 0.15),
    "hen":        (0.10, 0.10, 0.60, 0.05, 0.05, 0.05, 0.05, 0.10),
    "waterfowl":  (0.05, 0.10, 0.15, 0.05, 0.05, 0.05, 0.05, 0.60),
    "fish":       (0.15, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.70),
    "cow":        (0.05, 0.05, 0.50, 0.05, 0.05, 0.05, 0.05, 0.05),
    "sheep":      (0.05, 0.05, 0.45, 0.05, 0.05, 0.05, 0.05, 0.05),
    "horse":      (0.05, 0.05, 0.40, 0.10, 0.05, 0.05, 0.05, 0.05),
    "pig":        (0.05, 0.05, 0.40, 0.05, 0.05, 0.05, 0.05, 0.05),
    "car":        (0.10, 0.05, 0.10, 0.75, 0.05, 0.15, 0.10, 0.05),
    "truck":      (0.20, 0.05, 0.35, 0.60, 0.05, 0.15, 0.05, 0.05),
    "guitar":     (0.05, 0.05, 0.05, 0.05, 0.70, 0.05, 0.05, 0.05),
    "instrument": (0.05, 0.05, 0.05, 0.05, 0.70, 0.05, 0.05, 0.05),
    "wrench":     (0.05, 0.05, 0.10, 0.05, 0.05, 0.60, 0.05, 0.05),
    "tool":       (0.05, 0.20, 0.15, 0.05, 0.10, 0.70, 0.05, 0.05),
    "spade":      (0.05, 0.45, 0.15, 0.05, 0.05, 0.25, 0.15, 0.05),
    "gravestone": (0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.75, 0.05),
}
#: Float (classes, concepts): the probability that an image of each class shows each concept.
CLASS_PROBABILITIES = np.array([_P[c] for c in CONCEPTS]).T


def discriminativeness(probabilities: np.ndarray = CLASS_PROBABILITIES) -> np.ndarray:
    """Float (classes, concepts): how much more often a class shows each concept than the other
    classes do on average (its row minus the mean of the other rows)."""
    others = (probabilities.sum(axis=0, keepdims=True) - probabilities) / max(len(probabilities) - 1, 1)
    return probabilities - others


#: A concept is *discriminative* for a class when the class shows it this much more often than the others on average.
DISCRIMINATIVE_MARGIN = 0.3


def discriminative_objects(probabilities: np.ndarray = CLASS_PROBABILITIES,
                           margin: float = DISCRIMINATIVE_MARGIN) -> list[tuple[str, ...]]:
    """Each class's discriminative concepts: :func:`discriminativeness` >= ``margin``, most discriminative first."""
    table = discriminativeness(probabilities)
    return [tuple(CONCEPTS[j] for j in np.argsort(-row, kind="stable") if row[j] >= margin - 1e-9) for row in table]


def concept_stamps(stamps: list[Stamp] | tuple[Stamp, ...]) -> list[np.ndarray]:
    """For each of :data:`CONCEPTS`, the indices of its stamps in ``stamps`` (the :data:`GROUPS_FILE` stamps)."""
    names = [s.path.rsplit("/", 1)[-1].removesuffix(".png") for s in stamps]
    out = []
    for concept, members in CONCEPT_STAMPS.items():
        index = [i for i, (name, s) in enumerate(zip(names, stamps))
                 if name in members or f"group:{s.class_name}" in members]
        named = {m for m in members if not m.startswith("group:")}
        missing = named - {names[i] for i in index}
        if missing or not index:
            raise CamlibError(f"concept {concept!r}: stamps {sorted(missing) or members} are not in {GROUPS_FILE}; "
                              "update CONCEPT_STAMPS to the shipped mapping")
        out.append(np.array(index))
    return out


@dataclass(frozen=True)
class SceneSpec:
    """What determines the scenes: ``size`` px images, ``per_class`` images of each class in each of
    :data:`SPLITS`, objects whose longer side is ``object_size`` px (inclusive range; at most a grid
    cell), the class-concept probabilities, ``seed``."""

    size: int = 224
    per_class: tuple[int, int, int] = (60, 25, 40)
    object_size: tuple[int, int] = (52, 72)
    probabilities: tuple[tuple[float, ...], ...] = tuple(map(tuple, CLASS_PROBABILITIES.tolist()))
    seed: int = 0

    def __post_init__(self) -> None:
        if self.size < 224:
            raise CamlibError(f"scenes are 224 px or larger (ImageNet networks' input); got size={self.size}")
        if not 8 <= self.object_size[0] <= self.object_size[1] <= self.size // GRID:
            raise CamlibError(f"object_size must be a range within 8..{self.size // GRID} px (a grid cell), got {self.object_size}")
        table = np.asarray(self.probabilities)
        if table.shape != (len(CLASS_NAMES), len(CONCEPTS)) or not ((table >= 0) & (table <= 1)).all():
            raise CamlibError(f"probabilities must be ({len(CLASS_NAMES)}, {len(CONCEPTS)}) values in [0, 1]")

    def count(self, split: str) -> int:
        """Number of images of ``split``."""
        return self.per_class[SPLITS.index(split)] * len(CLASS_NAMES)

    def key(self) -> str:
        """A short hash of the spec, the stamps and the backgrounds (for cache file names)."""
        stamps = [(e.path, e.sha256, e.class_name) for e in stamp_mapping(GROUPS_FILE)]
        return cache_key(version=GENERATOR_VERSION, spec=asdict(self), stamps=stamps, concepts=CONCEPT_STAMPS,
                         backgrounds=BACKGROUND_CROPS, class_backgrounds=CLASS_BACKGROUNDS, working_side=WORKING_SIDE)


def class_backgrounds() -> list[np.ndarray]:
    """For each of :data:`CLASS_NAMES`, the indices of its :data:`CLASS_BACKGROUNDS` in ``BACKGROUND_CROPS``."""
    out = []
    for name in CLASS_NAMES:
        index = [i for i, crop in enumerate(BACKGROUND_CROPS) if crop.shows in CLASS_BACKGROUNDS[name]]
        if not index:
            raise CamlibError(f"no background crop shows {CLASS_BACKGROUNDS[name]} for class {name!r}")
        out.append(np.array(index))
    return out


#: Longer side (px) of the working copy of each stamp, cropped to its alpha and shrunk once (objects are pasted smaller).
WORKING_SIDE = 160


@lru_cache(maxsize=1)
def object_stamps() -> tuple[np.ndarray, ...]:
    """Each :data:`GROUPS_FILE` stamp as uint8 RGBA (h, w, 4) cropped to its non-transparent pixels and
    shrunk (premultiplied, :func:`camlib.data.generators.paste.scale_rgba`) to a longer side of at most :data:`WORKING_SIDE`."""
    out = []
    for stamp in load_stamps_cached(GROUPS_FILE):
        x0, y0, x1, y1 = mask_box(stamp.rgba[..., 3] > 0).astype(int)
        rgba = np.ascontiguousarray(stamp.rgba[y0:y1, x0:x1])
        longer = max(rgba.shape[:2])
        if longer > WORKING_SIDE:
            small = scale_rgba(rgba, WORKING_SIDE / longer)
            rgba = np.concatenate([np.rint(small[..., :3]), np.rint(255 * small[..., 3:])], axis=2).astype(np.uint8)
        out.append(rgba)
    return tuple(out)


class ObjectScenes:
    """One split of scenes, stored as its recipe; images and instance maps are rendered on first access.

    ``arrays``: per image (N) ``labels`` (class index into :data:`CLASS_NAMES`), ``background`` (crop
    index), ``window`` (N, 3) (x0, y0, side in the crop), ``background_flip``, ``first`` (N + 1,) (its
    objects' rows); per object (T) ``image``, ``category`` (index into :data:`CONCEPTS`), ``stamp``,
    ``cell`` (grid row * 3 + column), ``scale``, ``flip``, ``x``, ``y`` (top-left corner of the resized
    stamp) and ``box`` (T, 4) float32 ``[x0, y0, x1, y1]`` (the mask's tight box, x1/y1 exclusive).
    ``rendered``: ``(images, instances)`` given directly (hand-built scenes) instead of rendered.
    """

    class_names = CLASS_NAMES

    def __init__(self, name: str, size: int, arrays: dict[str, np.ndarray],
                 rendered: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        self.name, self.size, self.arrays = name, size, arrays
        if rendered is not None:
            self.__dict__["_rendered"] = rendered

    def __len__(self) -> int:
        return len(self.arrays["labels"])

    @property
    def labels(self) -> np.ndarray:
        """int64 (N,): each image's scene class."""
        return self.arrays["labels"]

    @property
    def objects(self) -> dict[str, np.ndarray]:
        """The per-object arrays (``image``, ``category``, ``cell``, ``box``, ...)."""
        return {k: self.arrays[k] for k in ("image", "category", "stamp", "cell", "scale", "flip", "x", "y", "box")
                if k in self.arrays}

    def objects_of(self, image: int) -> np.ndarray:
        """Rows of :attr:`objects` in image ``image``."""
        first = self.arrays["first"]
        return np.arange(first[image], first[image + 1])

    def render(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Image ``i`` as uint8 (S, S, 3) and its instance map int16 (S, S) (object row per pixel, -1 for background)."""
        a, stamps, crops = self.arrays, object_stamps(), background_crops()
        x0, y0, side = (int(v) for v in a["window"][i])
        crop = crops[a["background"][i]][y0:y0 + side, x0:x0 + side]
        image = cv2.resize(crop, (self.size, self.size), interpolation=cv2.INTER_AREA if side > self.size else cv2.INTER_LINEAR)
        image = np.ascontiguousarray(image[:, ::-1] if a["background_flip"][i] else image)
        instances = np.full((self.size, self.size), -1, dtype=np.int16)
        for row in self.objects_of(i):
            pasted = paste(image, stamps[a["stamp"][row]], int(a["x"][row]), int(a["y"][row]), float(a["scale"][row]),
                           bool(a["flip"][row]))
            image = pasted.image
            instances[pasted.mask] = row
        return image, instances

    @cached_property
    def _rendered(self) -> tuple[np.ndarray, np.ndarray]:
        images = np.empty((len(self), self.size, self.size, 3), dtype=np.uint8)
        instances = np.empty((len(self), self.size, self.size), dtype=np.int16)
        for i in progress(range(len(self)), desc=f"render {self.name} scenes"):
            images[i], instances[i] = self.render(i)
        return images, instances

    @property
    def images(self) -> np.ndarray:
        """uint8 (N, S, S, 3): every image (rendered once)."""
        return self._rendered[0]

    @property
    def instances(self) -> np.ndarray:
        """int16 (N, S, S): the object row each pixel shows, -1 for background."""
        return self._rendered[1]

    def masks_of(self, image: int, rows: np.ndarray | list[int]) -> np.ndarray:
        """Bool masks (M, S, S) of the given object rows of image ``image``."""
        return self.instances[image][None] == np.asarray(rows, dtype=np.int64).reshape(-1, 1, 1)

    def presence(self) -> np.ndarray:
        """Bool (N, len(CONCEPTS)): which concepts each image shows."""
        out = np.zeros((len(self), len(CONCEPTS)), dtype=bool)
        out[self.arrays["image"], self.arrays["category"]] = True
        return out


def _generate(spec: SceneSpec, split: str, rng: np.random.Generator) -> dict[str, np.ndarray]:
    stamps = object_stamps()
    members, backgrounds, crops = concept_stamps(load_stamps_cached(GROUPS_FILE)), class_backgrounds(), background_crops()
    table, cell = np.asarray(spec.probabilities), spec.size // GRID
    labels = rng.permutation(np.repeat(np.arange(len(CLASS_NAMES)), spec.per_class[SPLITS.index(split)]))
    image_keys, object_keys = ("labels", "background", "window", "background_flip", "first"), \
        ("image", "category", "stamp", "cell", "scale", "flip", "x", "y", "box")
    per_image: dict[str, list] = {k: [] for k in image_keys}
    per_object: dict[str, list] = {k: [] for k in object_keys}
    for i, label in enumerate(labels):
        present = np.zeros(len(CONCEPTS), dtype=bool)
        while not present.any():
            present = rng.random(len(CONCEPTS)) < table[label]
        categories = rng.permutation(np.flatnonzero(present))[:GRID * GRID]
        cells = rng.choice(GRID * GRID, len(categories), replace=False)
        crop_index = int(rng.choice(backgrounds[label]))
        height, width = crops[crop_index].shape[:2]
        side = int(min(height, width) * rng.uniform(0.7, 1.0))
        per_image["labels"].append(int(label))
        per_image["background"].append(crop_index)
        per_image["window"].append((int(rng.integers(width - side + 1)), int(rng.integers(height - side + 1)), side))
        per_image["background_flip"].append(bool(rng.random() < 0.5))
        per_image["first"].append(len(per_object["image"]))
        for category, where in zip(categories, cells):
            index = int(rng.choice(members[category]))
            longer = int(rng.integers(spec.object_size[0], spec.object_size[1] + 1))
            scale = longer / max(stamps[index].shape[:2])
            flip = bool(rng.random() < 0.5)
            alpha = scale_rgba(stamps[index], scale, flip)[..., 3] > 0.5
            h, w = alpha.shape
            row, col = divmod(int(where), GRID)
            y = row * cell + int(rng.integers(0, max(cell - h, 0) + 1))
            x = col * cell + int(rng.integers(0, max(cell - w, 0) + 1))
            x0, y0, x1, y1 = mask_box(alpha).astype(int)
            for key, value in zip(object_keys, (i, int(category), index, int(where), scale, flip, x, y,
                                                (x + x0, y + y0, x + x1, y + y1))):
                per_object[key].append(value)
    per_image["first"].append(len(per_object["image"]))
    arrays = {k: np.asarray(v) for k, v in {**per_image, **per_object}.items()}
    arrays["labels"] = arrays["labels"].astype(np.int64)
    arrays["scale"] = arrays["scale"].astype(np.float64)
    arrays["box"] = arrays["box"].astype(np.float32).reshape(-1, 4)
    return arrays


def make_scenes(spec: SceneSpec = SceneSpec()) -> dict[str, ObjectScenes]:
    """Every split of ``spec`` (recipe cached at ``<data root>/cache/object-scenes-<key>.pt``, checksummed)."""
    def build() -> dict[str, torch.Tensor]:
        streams = np.random.SeedSequence(spec.seed).spawn(len(SPLITS))
        return {f"{split}/{k}": torch.from_numpy(np.ascontiguousarray(v))
                for split, stream in zip(SPLITS, streams)
                for k, v in _generate(spec, split, np.random.default_rng(stream)).items()}

    state = cached_tensors(cache_dir() / f"object-scenes-{spec.key()}.pt", build)
    return {split: ObjectScenes(split, spec.size, {k.partition("/")[2]: v.numpy() for k, v in state.items()
                                                   if k.startswith(split + "/")})
            for split in SPLITS}
