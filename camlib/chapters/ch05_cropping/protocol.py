"""Table 4's protocol run end to end: CAM boxes, crops, the second SVMs, the references and localization."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
import torch

from camlib.methods.baselines import random_boxes
from camlib.cam.box_rules import PAPER_THRESHOLD, check_threshold
from camlib.utils.cache import cache_key
from camlib.cam import cam_boxes
from camlib.utils.errors import CamlibError
from camlib.metrics.boxes import hit_rate, paired_iou
from camlib.models.pretrained import PretrainedClassifier
from camlib.methods.probe import fit_probe
from camlib.chapters.ch05_cropping.boxed_images import BoxedImages
from camlib.chapters.ch05_cropping.boxes import enlarge_boxes
from camlib.methods.baselines import centre_boxes
from camlib.chapters.ch05_cropping.full_image import choose_c_on_dev, full_image_stage, pooled_features
from camlib.chapters.ch05_cropping.result import REFERENCES, SETTINGS, CroppingResult


#: CAM-box margins tried on the dev split (each side of the box grows by half of it).
MARGINS = (0.0, 0.25, 0.5)


def _crop_features(classifier: PretrainedClassifier, images: BoxedImages, boxes: np.ndarray, size: int, what: str,
                   source_size: int | None = None) -> torch.Tensor:
    key = "crop-" + cache_key(network=classifier.name, size=size, images=images.name, source_size=source_size, boxes=boxes)
    return pooled_features(classifier, images.view(size, boxes, source_size), size, key, f"{images.name[-5:]} {what}")


def _score(train: torch.Tensor, train_labels: np.ndarray, test: torch.Tensor, test_labels: np.ndarray, C: float,
           seed: int) -> np.ndarray:
    return fit_probe(train, train_labels, C=C, seed=seed).predict(test) == test_labels


def run_cropping(
    classifier: PretrainedClassifier,
    images: dict[str, BoxedImages],
    size: int = 224,
    threshold: float = PAPER_THRESHOLD,
    margins: Sequence[float] = MARGINS,
    chance_draws: int = 100,
    seed: int = 0,
) -> CroppingResult:
    """Run Table 4's protocol (the package docstring) with ``classifier`` as the fixed extractor at ``size`` px.

    ``images`` holds ``"train"``, ``"dev"`` and ``"test"``. The full-image SVM's ``C`` is chosen on dev; the
    CAM crop's margin (of ``margins``) and its SVM's ``C`` too, jointly; every other crop setting uses
    the CAM crop's ``C``. The test images are used only to score.
    """
    check_threshold(threshold)
    train, dev, test = (images[name] for name in ("train", "dev", "test"))
    if min(len(train), len(dev), len(test)) == 0:
        raise CamlibError("the cropping protocol needs train, dev and test images")
    stage = full_image_stage(classifier, images, size, seed)
    correct = {"full image": stage["test_predictions"] == test.labels}
    chosen = {"full image": stage["C"]}
    boxes = {"train": cam_boxes(stage["train_cams"], train.sizes, threshold),
             "dev": cam_boxes(stage["dev_cams"], dev.sizes, threshold),
             "test": cam_boxes(stage["test_cams"], test.sizes, threshold)}
    dev_rows, best = {}, None
    for m in margins:
        tr = _crop_features(classifier, train, enlarge_boxes(boxes["train"], m, train.sizes), size, f"CAM crops +{m:g}")
        dv = _crop_features(classifier, dev, enlarge_boxes(boxes["dev"], m, dev.sizes), size, f"CAM crops +{m:g}")
        c, scores = choose_c_on_dev(tr, train.labels, dv, dev.labels, seed=seed)
        dev_rows[f"CAM crop, margin {100 * m:.0f}%"] = {"dev accuracy": scores[c], "C": c}
        if best is None or scores[c] > best[0]:
            best = (scores[c], m, c, tr)
    dev_rows["full image"] = {"dev accuracy": stage["dev_scores"][stage["C"]], "C": stage["C"]}
    _, chosen_margin, crop_c, train_crops = best
    test_boxes = enlarge_boxes(boxes["test"], chosen_margin, test.sizes)
    train_boxes = enlarge_boxes(boxes["train"], chosen_margin, train.sizes)
    te = _crop_features(classifier, test, test_boxes, size, f"CAM crops +{chosen_margin:g}")
    correct["CAM crop"] = _score(train_crops, train.labels, te, test.labels, crop_c, seed)
    train_relative = (train.boxes[:, 2:] - train.boxes[:, :2]) / train.sizes[:, ::-1]
    references = {
        "GT box crop": (train.boxes, test.boxes, None),
        "random box crop": (random_boxes(train.sizes, 1, seed, relative_sizes=train_relative)[:, 0],
                            random_boxes(test.sizes, 1, seed + 1, relative_sizes=train_relative)[:, 0], None),
        "centre crop": (centre_boxes(train.sizes, *train_relative.mean(axis=0)), centre_boxes(test.sizes, *train_relative.mean(axis=0)), None),
        "GT box crop from 224 px": (train.boxes, test.boxes, size),
    }
    for setting, (tr_boxes, te_boxes, source) in references.items():
        tr = _crop_features(classifier, train, tr_boxes, size, setting, source)
        te = _crop_features(classifier, test, te_boxes, size, setting, source)
        correct[setting] = _score(tr, train.labels, te, test.labels, crop_c, seed)
    chosen.update({setting: crop_c for setting in correct if setting != "full image"})
    accuracy = {setting: 100.0 * float(correct[setting].mean()) for setting in (*SETTINGS, *REFERENCES)}
    known_boxes = cam_boxes(stage["test_known_cams"], test.sizes, threshold)
    test_iou = paired_iou(boxes["test"], test.boxes)
    localization = {
        "CAM box (predicted class)": float(100.0 * np.mean(test_iou >= 0.5)),
        "CAM box (labelled class)": hit_rate(known_boxes, test.boxes),
        "chance: random box": hit_rate(random_boxes(test.sizes, chance_draws, seed), test.boxes),
        "chance: box of a training size, random place": hit_rate(
            random_boxes(test.sizes, chance_draws, seed, relative_sizes=train_relative), test.boxes),
        "centre box of the mean training size": hit_rate(centre_boxes(test.sizes, *train_relative.mean(axis=0)), test.boxes),
    }
    return CroppingResult(accuracy, localization, chosen, pd.DataFrame.from_dict(dev_rows, orient="index"), chosen_margin,
                          threshold, train_boxes, test_boxes, test_iou, test.box_shares(), correct, stage["test_cams"],
                          stage["test_predictions"], stage["probe"])
