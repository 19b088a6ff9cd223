"""Pattern discovery with linear probes and their CAMs (Sec. 4.2), scored against exact ground truth.

* :func:`cached_features`: GAP features of many images, conv maps of a few, cached;
* :func:`choose_c`: the SVM's C by cross-validation on the training features only;
* :func:`photo_cam`: a probe's score and CAM on a photo of any size (aspect kept), and its
  :func:`agreement` with a reference detector's boxes; :func:`svt_scores` on the SVT data set;
* :func:`concept_scores`: train a concept probe from captions, localize the concept on test scenes;
* :func:`informative_objects` and :func:`object_frequency`: which objects a scene class's CAM
  lights up, next to which objects its images show most often.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
import torch
from PIL import Image
from sklearn.metrics import average_precision_score
from sklearn.model_selection import StratifiedKFold

from .boxes import box_from_cam
from .cache import cached
from .cam import CAM, upsample
from .data.opencv_text import load_svt
from .errors import CamlibError
from .features import Features, extract
from .imagenet import preprocess
from .images import load_image
from .metrics import iou
from .models.pretrained import PretrainedClassifier
from .paper import paper_table
from .pointing import (
    chance_pointing, high_regions, localization_scores, near_boxes, overlap_fractions, peaks, points_in_boxes,
)
from .probe import LinearProbe, fit_probe
from .synth.scenes import OBJECT_WORDS, ObjectScenes, concept_distractors, concept_negatives, concept_objects
from .synth.text import scenes_from_photos


def cached_features(classifier: PretrainedClassifier, images: np.ndarray, path: str | Path, size: int = 224,
                    maps_of: np.ndarray | None = None, desc: str = "features") -> Features:
    """:func:`camlib.features.extract` of uint8 ``images (N, H, W, 3)`` at ``size`` px, cached at ``path``.

    ``pooled`` is kept for every image; ``maps`` (for CAMs) only for the images ``maps_of`` (bool
    (N,) or indices, in that order; ``None``: none), stored as float16 to keep the cache small and
    returned as float32.
    """
    def build() -> dict:
        index = np.arange(len(images))[maps_of] if maps_of is not None else np.zeros(0, dtype=np.int64)
        rest = np.setdiff1d(np.arange(len(images)), index)
        parts = [(rows, extract(classifier, images[rows], size=size, keep_maps=keep, desc=label))
                 for rows, keep, label in ((index, True, f"{desc} with maps"), (rest, False, desc)) if len(rows)]
        pooled = torch.empty(len(images), parts[0][1].pooled.shape[1])
        for rows, feats in parts:
            pooled[torch.from_numpy(rows)] = feats.pooled
        maps = parts[0][1].maps.half() if len(index) else None
        return {"pooled": pooled, "maps": maps}

    stored = cached(path, build)
    return Features(stored["pooled"], None if stored["maps"] is None else stored["maps"].float())


def choose_c(features: torch.Tensor | np.ndarray, labels: np.ndarray, grid: Sequence[float] = (0.001, 0.01, 0.1, 1.0),
             folds: int = 5, standardize: bool = False, seed: int = 0) -> float:
    """The C of ``grid`` with the best mean ``folds``-fold cross-validated accuracy of
    :func:`camlib.probe.fit_probe` on ``features (N, K)`` (ties: the smaller C)."""
    features = features.numpy() if isinstance(features, torch.Tensor) else np.asarray(features)
    labels = np.asarray(labels)
    splits = list(StratifiedKFold(folds, shuffle=True, random_state=seed).split(features, labels))
    scores = []
    for c in grid:
        accuracy = [fit_probe(features[tr], labels[tr], C=c, standardize=standardize, seed=seed)
                    .accuracy(features[va], labels[va]) for tr, va in splits]
        scores.append(np.mean(accuracy))
    return float(grid[int(np.argmax(scores))])


@dataclass
class PhotoCAM:
    """A probe on one photo: decision ``score`` (> 0: positive), ``cam`` float32 (H, W) at the
    photo's own size, and the paper's ``box`` (4,) from it in the photo's pixels."""

    score: float
    cam: np.ndarray
    box: np.ndarray


def photo_cam(classifier: PretrainedClassifier, probe: LinearProbe, image: Image.Image, short_side: int = 448,
              row: int = 0, threshold: float = 0.2) -> PhotoCAM:
    """Resize ``image`` so its shorter side is ``short_side`` (no crop), score it with weight row
    ``row`` of ``probe`` and upsample the CAM back to the photo's size."""
    tensor, _ = preprocess(image, classifier.mean, classifier.std, resize=short_side, crop=None)
    device = next(classifier.model.parameters()).device
    with CAM(classifier.model) as cam:
        maps = cam.features(tensor[None].to(device)).cpu()
    score = float(probe.decision_function(maps.mean(dim=(2, 3)))[0, row])
    full = upsample(probe.cams(maps, row), (image.height, image.width))[0, 0].numpy()
    return PhotoCAM(score, full, box_from_cam(full, threshold))


def agreement(ours: PhotoCAM, reference: np.ndarray) -> dict[str, float | bool | int]:
    """How a CAM on a photo agrees with a reference detector's boxes ``(M, 4)`` on it: whether the
    CAM's peak lies in a reference box; the IoU of the CAM box with the best single reference box
    and with the reference's text region (the box around all its boxes); ``agree`` when either
    IoU is >= 0.5 (a CAM box may cover one word, a line, or a whole sign)."""
    reference = np.asarray(reference, dtype=np.float32).reshape(-1, 4)
    if len(reference) == 0:
        return {"reference boxes": 0, "peak in a reference box": False, "best IoU with a box": 0.0,
                "IoU with text region": 0.0, "agree": False}
    region = np.r_[reference[:, :2].min(axis=0), reference[:, 2:].max(axis=0)]
    best, whole = float(iou(ours.box, reference).max()), float(iou(ours.box, region)[0, 0])
    return {
        "reference boxes": len(reference),
        "peak in a reference box": bool(points_in_boxes(peaks(ours.cam[None]), [reference])[0]),
        "best IoU with a box": best,
        "IoU with text region": whole,
        "agree": max(best, whole) >= 0.5,
    }


def svt_scores(classifier: PretrainedClassifier, probe: LinearProbe, split: str = "test", root: str | Path | None = None,
               canvas: int = 224, size: int = 448) -> dict[str, float]:
    """The text probe on SVT (the paper's text data set, full scale): every image resized to
    ``canvas`` px (boxes scaled, box masks), features at ``size`` px; returns the percentage the
    probe calls text and :func:`camlib.pointing.localization_scores` of its CAMs."""
    records = load_svt(split, root)
    scenes = scenes_from_photos([np.asarray(load_image(r.path)) for r in records], [r.boxes for r in records], canvas)
    keep = np.flatnonzero(scenes.has_text)
    feats = extract(classifier, scenes.images[keep], size=size, desc="SVT features")
    cams = upsample(probe.cams(feats.maps, 0), (canvas, canvas))[:, 0].numpy()
    scores = localization_scores(cams, [scenes.boxes[i] for i in keep], scenes.masks[keep])
    return {"images": len(keep), "called text": float(100.0 * (probe.decision_function(feats.pooled)[:, 0] > 0).float().mean()),
            **scores}


def concept_probe(phrase: str, captions: Sequence[str], train_pooled: torch.Tensor, hard: bool, C: float = 0.01,
                  seed: int = 0) -> LinearProbe:
    """A binary probe for ``phrase`` trained on GAP features ``(N, K)`` of the captioned images:
    caption positives against :func:`camlib.synth.scenes.concept_negatives` (``hard`` or random)."""
    positives, negatives = concept_negatives(phrase, list(captions), np.random.default_rng(seed), hard=hard)
    if len(positives) == 0 or len(negatives) == 0:
        raise CamlibError(f"phrase {phrase!r} has {len(positives)} positive and {len(negatives)} negative captions")
    index = np.concatenate([positives, negatives])
    labels = np.r_[np.ones(len(positives), int), np.zeros(len(negatives), int)]
    return fit_probe(train_pooled[index], labels, C=C, standardize=False, seed=seed)


def concept_scores(phrase: str, captions: Sequence[str], train_pooled: torch.Tensor, test: ObjectScenes,
                   test_pooled: torch.Tensor, test_maps: torch.Tensor, hard: bool, C: float = 0.01,
                   tolerance: float = 15.0, seed: int = 0) -> dict[str, float]:
    """Learn ``phrase`` from training ``captions`` alone and localize it in the ``test`` scenes
    (``test_maps`` ``(N, K, h, w)``: conv maps of every test scene).

    The probe is :func:`concept_probe`. On the test scenes, where the concept's objects are known exactly
    (:func:`camlib.synth.scenes.concept_objects`), in percent: ``AP`` of the probe's score for
    "the scene shows the concept"; on scenes showing it, ``pointing`` (the CAM's peak within
    ``tolerance`` px of a box of one of its objects: the pointing game) beside ``chance`` (the same
    for a uniformly random point); and ``pointing, confusable`` on the scenes that also show a
    distractor (:func:`camlib.synth.scenes.concept_distractors`, e.g. a blue bag for "red bag").
    """
    positives, negatives = concept_negatives(phrase, list(captions), np.random.default_rng(seed), hard=hard)
    probe = concept_probe(phrase, captions, train_pooled, hard, C, seed)
    objects = [concept_objects(phrase, test, i) for i in range(len(test))]
    shown = np.flatnonzero([len(o) > 0 for o in objects])
    if len(shown) == 0:
        raise CamlibError(f"no test scene shows {phrase!r}; generate more test scenes")
    scores = probe.decision_function(test_pooled)[:, 0].numpy()
    size = test.images.shape[1:3]
    cams = upsample(probe.cams(test_maps[shown], 0), size)[:, 0].numpy()
    boxes = [test.objects["box"][objects[i]] for i in shown]
    hits = points_in_boxes(peaks(cams), boxes, tolerance)
    confusable = np.array([len(concept_distractors(phrase, test, i)) > 0 for i in shown], dtype=bool)
    return {
        "positives": len(positives), "negatives": len(negatives), "test scenes": len(shown),
        "AP": float(100.0 * average_precision_score(np.isin(np.arange(len(test)), shown), scores)),
        "pointing": float(100.0 * hits.mean()),
        "chance": chance_pointing(near_boxes(boxes, size, tolerance)),
        "confusable scenes": int(confusable.sum()),
        "pointing, confusable": float(100.0 * hits[confusable].mean()) if confusable.any() else float("nan"),
    }


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
