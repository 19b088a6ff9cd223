"""Scenes for the generated VQA set: a few coloured Fashion-MNIST objects at known places.

Each scene is a plain dark, slightly noisy background with 1..``max_objects`` real Fashion-MNIST
items pasted at non-overlapping places, each tinted with one named colour. Categories and colours
may repeat within a scene (so "how many" has answers above one). The renderer returns the exact
ground truth: every object's category, colour and box, and an instance map whose pixel value is the
index of the object covering it (-1 for background).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import CamlibError
from .items import COLOURS as ITEM_COLOURS
from .items import resize_longer_side, tight_crop, tinted
from .paste import blend

#: Question word -> Fashion-MNIST class name of the object categories a scene can hold.
CATEGORIES: dict[str, str] = {
    "trouser": "Trouser", "pullover": "Pullover", "sneaker": "Sneaker", "bag": "Bag", "boot": "Ankle boot",
}
#: Plural of each category word, for "how many" questions.
PLURALS: dict[str, str] = {"trouser": "trousers", "pullover": "pullovers", "sneaker": "sneakers", "bag": "bags", "boot": "boots"}
#: Colour word -> RGB tint (0..255): the one colour table of the generated scenes.
COLOURS = ITEM_COLOURS
#: Free pixels kept between any two objects' boxes.
GAP = 4


@dataclass(frozen=True)
class SceneObject:
    """One object of a scene: its category and colour words and its box ``[x0, y0, x1, y1]`` (x1/y1 exclusive)."""

    category: str
    colour: str
    box: tuple[int, int, int, int]


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


def render_scene(
    rng: np.random.Generator,
    items: dict[str, np.ndarray],
    canvas: int = 224,
    max_objects: int = 4,
    object_size: tuple[int, int] = (56, 88),
) -> tuple[np.ndarray, np.ndarray, list[SceneObject]]:
    """Draw one scene.

    Args:
        rng: the random source (the scene is a pure function of its state).
        items: category word -> the Fashion-MNIST items uint8 (M, 28, 28) it may draw from.
        canvas: image side in pixels.
        max_objects: the scene holds 1..max_objects objects.
        object_size: inclusive range of an object's longer side in pixels.

    Returns:
        ``image`` uint8 (canvas, canvas, 3), ``instances`` int8 (canvas, canvas) (object index or -1)
        and the objects, in index order.
    """
    if not 1 <= object_size[0] <= object_size[1] <= canvas or max_objects < 1:
        raise CamlibError(f"need 1 <= object_size[0] <= object_size[1] <= canvas={canvas} and max_objects >= 1, "
                          f"got object_size={object_size}, max_objects={max_objects}")
    categories, colours = list(items), list(COLOURS)
    while True:
        count = int(rng.integers(1, max_objects + 1))
        chosen = [categories[i] for i in rng.integers(0, len(categories), count)]
        tints = [colours[i] for i in rng.integers(0, len(colours), count)]
        pixels = []
        for category in chosen:
            pool = items[category]
            item = tight_crop(pool[int(rng.integers(0, len(pool)))])
            item = item[:, ::-1] if rng.random() < 0.5 else item
            pixels.append(resize_longer_side(item, int(rng.integers(object_size[0], object_size[1] + 1))))
        boxes = place_boxes(rng, [p.shape for p in pixels], canvas)
        if boxes is not None:
            break
    shade = float(rng.uniform(20, 70))
    image = np.rint(np.clip(shade + rng.normal(0.0, 6.0, (canvas, canvas, 1)), 0, 255)).repeat(3, axis=2).astype(np.uint8)
    instances = np.full((canvas, canvas), -1, dtype=np.int8)
    for index, (item, tint, (x0, y0, _, _)) in enumerate(zip(pixels, tints, boxes)):
        image, mask = blend(image, tinted(item, COLOURS[tint]), x0, y0)
        instances[mask] = index
    objects = [SceneObject(c, t, b) for c, t, b in zip(chosen, tints, boxes)]
    return image, instances, objects
