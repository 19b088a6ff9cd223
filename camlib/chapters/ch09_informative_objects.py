"""Chapter 9 (Sec. 4.1, informative objects): which objects a scene class's CAM lights up, beside the
objects its images show most often."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from camlib.data.generators.object_scenes import CONCEPTS, ObjectScenes
from camlib.utils.errors import CamlibError
from camlib.book.paper import paper_table
from camlib.book.claims import contain
from camlib.metrics.bootstrap import RESAMPLES, bootstrap_intervals
from camlib.evaluation.pointing import high_regions, overlap_fractions


def informative_hits(cams: np.ndarray, scenes: ObjectScenes, images: np.ndarray, fraction: float = 0.5,
                     min_overlap: float = 0.5) -> np.ndarray:
    """Bool (len(images), len(CONCEPTS)): whether an object of each concept overlaps image k's high-CAM
    region: at least ``min_overlap`` of its pixels lie where the CAM ``(N, H, W)`` (one per image, at the
    scenes' size) is >= ``fraction`` x its maximum."""
    images = np.asarray(images)
    if len(cams) != len(images):
        raise CamlibError(f"got {len(cams)} CAMs for {len(images)} images")
    regions = high_regions(cams, fraction)
    hits = np.zeros((len(images), len(CONCEPTS)), dtype=bool)
    for k, (image, region) in enumerate(zip(images, regions)):
        rows = scenes.objects_of(int(image))
        inside = overlap_fractions(region, scenes.masks_of(int(image), rows)) >= min_overlap
        hits[k, scenes.arrays["category"][rows[inside]]] = True
    return hits


def informative_objects(cams: np.ndarray, scenes: ObjectScenes, images: np.ndarray, fraction: float = 0.5,
                        min_overlap: float = 0.5) -> np.ndarray:
    """Float (len(CONCEPTS),): the fraction of ``images`` in which an object of each concept overlaps
    the high-CAM region (:func:`informative_hits`)."""
    return informative_hits(cams, scenes, images, fraction, min_overlap).mean(axis=0)


def object_frequency(scenes: ObjectScenes, images: np.ndarray) -> np.ndarray:
    """Float (len(CONCEPTS),): the fraction of ``images`` showing each concept."""
    return scenes.presence()[np.asarray(images)].mean(axis=0)


def list_precision(scores: np.ndarray, wanted: Sequence[str]) -> float:
    """The share of a list's top ``len(wanted)`` concepts (``scores`` (len(CONCEPTS),), highest first,
    ties in :data:`CONCEPTS` order) that are in ``wanted`` (R-precision), in percent."""
    top = np.argsort(-np.asarray(scores), kind="stable")[:len(wanted)]
    return 100.0 * len({CONCEPTS[j] for j in top} & set(wanted)) / len(wanted)


def compare_lists(hits: Sequence[np.ndarray], presence: Sequence[np.ndarray],
                  wanted: Sequence[Sequence[str]]) -> tuple[np.ndarray, np.ndarray]:
    """Per class, the R-precision (%) of the CAM list (mean of ``hits[c]`` (n_c, concepts)) and of the
    frequency list (mean of ``presence[c]``) against the class's discriminative concepts ``wanted[c]``:
    two float arrays (classes,)."""
    cam = np.array([list_precision(h.mean(axis=0), w) for h, w in zip(hits, wanted)])
    frequency = np.array([list_precision(p.mean(axis=0), w) for p, w in zip(presence, wanted)])
    return cam, frequency


def bootstrap_difference(hits: Sequence[np.ndarray], presence: Sequence[np.ndarray], wanted: Sequence[Sequence[str]],
                         resamples: int = RESAMPLES, seed: int = 0) -> tuple[float, float, float]:
    """Mean over classes of CAM minus frequency R-precision (percentage points) with a 95% paired two-stage bootstrap
    interval (:func:`camlib.metrics.bootstrap.bootstrap_intervals` with the classes as units, ``within``): each draw
    takes the classes with replacement (the mean is over classes, and they differ most) and then each drawn class's
    images with replacement, the same draw for both lists."""
    cam, frequency = compare_lists(hits, presence, wanted)
    sizes = [len(h) for h in hits]
    classes = np.repeat(np.arange(len(hits)), sizes)
    starts = np.cumsum([0, *sizes[:-1]])

    def difference(rows: np.ndarray) -> dict[str, float]:
        drawn, at = [], 0
        while at < len(rows):  # the draw is one block per drawn class, as long as the class
            c = int(classes[rows[at]])
            drawn.append((c, rows[at:at + sizes[c]] - starts[c]))
            at += sizes[c]
        c, f = compare_lists([hits[k][i] for k, i in drawn], [presence[k][i] for k, i in drawn], [wanted[k] for k, _ in drawn])
        return {"d": float((c - f).mean())}

    diff = float((cam - frequency).mean())
    intervals = bootstrap_intervals(difference, len(classes), resamples, seed=seed, clusters=classes, within=True)
    return diff, *contain(diff, *intervals["d"])


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
