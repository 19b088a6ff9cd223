"""Chapter 9 (Sec. 4.1, informative objects): which objects a scene class's CAM lights up, beside the
objects its images show most often."""
from __future__ import annotations

import numpy as np
import pandas as pd

from camlib.data.object_scenes import OBJECT_WORDS, ObjectScenes
from camlib.errors import CamlibError
from camlib.paper import paper_table
from camlib.pointing import high_regions, overlap_fractions


def informative_objects(cams: np.ndarray, scenes: ObjectScenes, images: np.ndarray, fraction: float = 0.5,
                        min_overlap: float = 0.5) -> np.ndarray:
    """Float (len(OBJECT_WORDS),): for each object category, the fraction of ``images`` in which an
    object of that category overlaps the high-CAM region: at least ``min_overlap`` of its pixels lie
    where the CAM ``(N, H, W)`` (one per image, at the scenes' size) is >= ``fraction`` x its maximum."""
    images = np.asarray(images)
    if len(cams) != len(images):
        raise CamlibError(f"got {len(cams)} CAMs for {len(images)} images")
    regions = high_regions(cams, fraction)
    hits = np.zeros((len(images), len(OBJECT_WORDS)), dtype=bool)
    for k, (image, region) in enumerate(zip(images, regions)):
        rows = scenes.objects_of(int(image))
        if len(rows) == 0:
            continue
        inside = overlap_fractions(region, scenes.masks_of(int(image), rows)) >= min_overlap
        hits[k, scenes.objects["category"][rows[inside]]] = True
    return hits.mean(axis=0)


def object_frequency(scenes: ObjectScenes, images: np.ndarray) -> np.ndarray:
    """Float (len(OBJECT_WORDS),): the fraction of ``images`` showing each object category."""
    present = np.zeros((len(images), len(OBJECT_WORDS)), dtype=bool)
    for k, image in enumerate(np.asarray(images)):
        present[k, scenes.objects["category"][scenes.objects_of(int(image))]] = True
    return present.mean(axis=0)


def object_lists(lists: dict[str, pd.Series], k: int = 6) -> pd.DataFrame:
    """The paper's two-column form: for each named list of object scores, its ``k`` highest as
    ``"object .96"`` strings, best first (rows 1..k; ties keep the series' order)."""
    columns = {}
    for name, scores in lists.items():
        top = scores.sort_values(ascending=False, kind="stable").head(k)
        columns[name] = [f"{obj} {value:.2f}".replace(" 0.", " .") for obj, value in top.items()]
        columns[name] += [""] * (k - len(columns[name]))
    return pd.DataFrame(columns, index=pd.RangeIndex(1, k + 1, name="rank"))


def paper_object_lists() -> dict[str, pd.DataFrame]:
    """The paper's informative-object lists (``paper_table("informative_objects")``) per scene, in
    :func:`object_lists` form."""
    table = paper_table("informative_objects")
    parts = [name.split(" / ") for name in table.index]
    scenes: dict[str, dict[str, pd.Series]] = {}
    for (scene, kind, _), (obj, score) in zip(parts, table[["object", "score"]].itertuples(index=False)):
        lists = scenes.setdefault(scene, {})
        label = "informative (CAM)" if kind == "informative" else "most frequent"
        lists[label] = pd.concat([lists.get(label, pd.Series(dtype=float)), pd.Series({obj: float(score)})])
    return {scene: object_lists(lists, k=max(len(v) for v in lists.values())) for scene, lists in scenes.items()}
