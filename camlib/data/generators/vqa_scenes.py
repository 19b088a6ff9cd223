"""Scenes for the generated VQA set: photographed objects at known places on real backgrounds.

Each scene is a square window of a real background crop (:func:`camlib.data.generators.composites.background_crops`)
with 1..``max_objects`` photographed Tux Paint stamps (:data:`camlib.data.generators.stamps.GROUPS_FILE`) pasted
by :func:`camlib.data.generators.paste.paste` at non-overlapping places. Categories may repeat within a scene
(so "how many" has answers above one). An object's colour is its stamp's own clear colour, named from
the stamp's pixels under its mask by :func:`camlib.data.generators.colours.dominant_colour`, or ``None`` when the
stamp has no clear colour (grey, white, mixed). The renderer returns the exact ground truth: every
object's category, colour, stamp and tight box, and an instance map whose pixel value is the index
of the object covering it (-1 for background).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, Sequence

import cv2
import numpy as np

from camlib.utils.errors import CamlibError
from camlib.data.generators.colours import COLOURS, dominant_colour
from camlib.data.generators.paste import paste, scale_rgba
from camlib.metrics.boxes import mask_box
from camlib.data.generators.stamps import Stamp

#: Question word -> the stamp group (of :data:`~camlib.data.generators.stamps.GROUPS_FILE`) of the categories a scene can hold.
CATEGORIES: dict[str, str] = {
    "mammal": "mammal", "bird": "bird", "fish": "fish", "fruit": "fruit", "flower": "flower", "vehicle": "vehicle",
}
#: Plural of each category word, for "how many" questions.
PLURALS: dict[str, str] = {"mammal": "mammals", "bird": "birds", "fish": "fish", "fruit": "fruits",
                           "flower": "flowers", "vehicle": "vehicles"}
#: Free pixels kept between any two objects' boxes.
GAP = 4
#: Stamps whose mask is longer than this (pixels) are shrunk to it once, before any scene is drawn.
LONGEST_STAMP = 192

__all__ = ["CATEGORIES", "PLURALS", "COLOURS", "GAP", "LONGEST_STAMP", "Piece", "SceneObject", "stamp_colour", "pieces",
           "place_boxes", "background_window", "render_scene"]


class Piece(NamedTuple):
    """A stamp a scene may hold, with its category word and its clear colour (``None`` if it has none)."""

    category: str
    colour: str | None
    stamp: Stamp


@dataclass(frozen=True)
class SceneObject:
    """One object of a scene: its category and colour words (colour ``None`` when the object has no
    clear colour), its tight box ``[x0, y0, x1, y1]`` (x1/y1 exclusive) and its stamp's path."""

    category: str
    colour: str | None
    box: tuple[int, int, int, int]
    stamp: str = ""


def stamp_colour(stamp: Stamp) -> str | None:
    """The clear colour of a stamp from its pixels under its mask (:func:`~camlib.data.generators.colours.dominant_colour`)."""
    return dominant_colour(stamp.rgba[stamp.mask][:, :3])[0]


def _bounded(stamp: Stamp) -> Stamp:
    """The stamp, shrunk (premultiplied, :func:`~camlib.data.generators.paste.scale_rgba`) so its mask's longer side is
    at most :data:`LONGEST_STAMP` (a few stamps are 2,000 px tall; scenes show them at under 100 px)."""
    x0, y0, x1, y1 = mask_box(stamp.mask)
    longest = float(max(x1 - x0, y1 - y0))
    if longest <= LONGEST_STAMP:
        return stamp
    small = scale_rgba(stamp.rgba, LONGEST_STAMP / longest)
    rgba = np.rint(np.concatenate([small[..., :3], small[..., 3:] * 255.0], axis=2)).astype(np.uint8)
    return Stamp(stamp.path, rgba, rgba[..., 3] > 127, stamp.class_index, stamp.class_name)


def pieces(stamps: Sequence[Stamp], categories: Sequence[str]) -> dict[str, list[Piece]]:
    """Category word -> the stamps of its group among ``stamps`` (in their order), each with its colour
    (named from the full-size stamp) and shrunk to at most :data:`LONGEST_STAMP`."""
    unknown = [c for c in categories if c not in CATEGORIES]
    if unknown:
        raise CamlibError(f"unknown categories {unknown}; choose from {list(CATEGORIES)}")
    out = {c: [Piece(c, stamp_colour(s), _bounded(s)) for s in stamps if s.class_name == CATEGORIES[c]] for c in categories}
    empty = [c for c, v in out.items() if not v]
    if empty:
        raise CamlibError(f"no stamp of the categories {empty} in this pool: give each category at least one stamp")
    return out


def _overlaps(box: tuple[int, int, int, int], others: list[tuple[int, int, int, int]]) -> bool:
    x0, y0, x1, y1 = box
    return any(x0 < b[2] + GAP and b[0] < x1 + GAP and y0 < b[3] + GAP and b[1] < y1 + GAP for b in others)


def place_boxes(
    rng: np.random.Generator, shapes: list[tuple[int, int]], canvas: int, tries: int = 200
) -> list[tuple[int, int, int, int]] | None:
    """Random non-overlapping boxes for items of ``(h, w)`` shapes on a ``canvas`` square, or ``None`` if they do not fit."""
    boxes: list[tuple[int, int, int, int]] = []
    for h, w in shapes:
        for _ in range(tries):
            x0, y0 = int(rng.integers(0, canvas - w + 1)), int(rng.integers(0, canvas - h + 1))
            box = (x0, y0, x0 + w, y0 + h)
            if not _overlaps(box, boxes):
                boxes.append(box)
                break
        else:
            return None
    return boxes


def background_window(rng: np.random.Generator, backgrounds: Sequence[np.ndarray], canvas: int) -> np.ndarray:
    """uint8 ``(canvas, canvas, 3)``: a random square window (70-100% of the shorter side) of a random
    background, resized to the canvas and mirrored half of the time."""
    crop = backgrounds[int(rng.integers(len(backgrounds)))]
    height, width = crop.shape[:2]
    side = int(min(height, width) * rng.uniform(0.7, 1.0))
    x0, y0 = int(rng.integers(width - side + 1)), int(rng.integers(height - side + 1))
    window = crop[y0:y0 + side, x0:x0 + side]
    image = cv2.resize(window, (canvas, canvas), interpolation=cv2.INTER_AREA if side > canvas else cv2.INTER_LINEAR)
    return np.ascontiguousarray(image[:, ::-1] if rng.random() < 0.5 else image)


def _sized(rng: np.random.Generator, stamp: Stamp, object_size: tuple[int, int]) -> tuple[float, bool, np.ndarray]:
    """A scale giving the stamp's mask a longer side in ``object_size``, a flip, and the resized mask's box."""
    x0, y0, x1, y1 = mask_box(stamp.mask)
    scale = int(rng.integers(object_size[0], object_size[1] + 1)) / float(max(x1 - x0, y1 - y0))
    flip = bool(rng.random() < 0.5)
    return scale, flip, mask_box(scale_rgba(stamp.rgba, scale, flip)[..., 3] > 0.5).astype(int)


def render_scene(
    rng: np.random.Generator,
    pool: dict[str, list[Piece]],
    backgrounds: Sequence[np.ndarray],
    canvas: int = 224,
    max_objects: int = 4,
    object_size: tuple[int, int] = (56, 88),
) -> tuple[np.ndarray, np.ndarray, list[SceneObject]]:
    """Draw one scene.

    Args:
        rng: the random source (the scene is a pure function of its state).
        pool: category word -> the pieces it may draw from (see :func:`pieces`).
        backgrounds: uint8 ``(h, w, 3)`` photos to cut the background window from.
        canvas: image side in pixels.
        max_objects: the scene holds 1..max_objects objects.
        object_size: inclusive range of the longer side of an object's mask, in pixels.

    Returns:
        ``image`` uint8 (canvas, canvas, 3), ``instances`` int8 (canvas, canvas) (object index or -1)
        and the objects, in index order; each object's box is its mask's tight box.
    """
    if not 1 <= object_size[0] <= object_size[1] <= canvas or max_objects < 1:
        raise CamlibError(f"need 1 <= object_size[0] <= object_size[1] <= canvas={canvas} and max_objects >= 1, "
                          f"got object_size={object_size}, max_objects={max_objects}")
    categories = list(pool)
    while True:
        count = int(rng.integers(1, max_objects + 1))
        chosen = [pool[categories[i]] for i in rng.integers(0, len(categories), count)]
        chosen = [members[int(rng.integers(len(members)))] for members in chosen]
        sized = [_sized(rng, piece.stamp, object_size) for piece in chosen]
        boxes = place_boxes(rng, [(int(b[3] - b[1]), int(b[2] - b[0])) for _, _, b in sized], canvas)
        if boxes is not None:
            break
    image = background_window(rng, backgrounds, canvas)
    instances = np.full((canvas, canvas), -1, dtype=np.int8)
    objects = []
    for index, (piece, (scale, flip, inner), box) in enumerate(zip(chosen, sized, boxes)):
        pasted = paste(image, piece.stamp.rgba, box[0] - int(inner[0]), box[1] - int(inner[1]), scale, flip)
        image = pasted.image
        instances[pasted.mask] = index
        objects.append(SceneObject(piece.category, piece.colour, tuple(int(v) for v in pasted.box), piece.stamp.path))
    return image, instances, objects
