"""The chapter's networks on real photographs: the hand-boxed photos that show objects of the stamp groups
(:func:`camlib.data.sets.real_photos.grouped_photos`), each resized whole to the composites' 224 px.

Trained on pasted stamps, tested on photos: a different kind of image, with the context a composite never has.
A handful of photos gives no verdict; the chapter prints these numbers as a description.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from torch import nn

from camlib.chapters.ch04_trained_networks.converted_networks import CPU, METHODS, NETWORKS, Scale, network
from camlib.chapters.ch04_trained_networks.results import Classification, Examples
from camlib.data.sets.real_photos import RealPhoto, first_of_each_label, grouped_photos
from camlib.evaluation.batches import real_photo_batches, resized_photo, scale_boxes
from camlib.evaluation.evaluate import Evaluation, GtKnownScores, evaluate, evaluate_gt_known
from camlib.methods.map_methods import CAMMaps, CentreMaps, MapMethod
from camlib.models.pretrained import load_pretrained
from camlib.training.finetune import NETWORK
from camlib.training.stamp_groups import group_names

#: The networks' input side (the composites are made at it).
SIZE = 224
#: The Table 2 rows whose maps are CAMs (the fc net has none; backprop is scored on composites only).
CAM_ROWS = [row for row, (_, method) in METHODS.items() if method is CAMMaps]


@dataclass
class PhotoResults:
    """Every network row on the photos: ``classification`` per seed (all rows), ``localization`` per seed (the CAM
    rows), the centre baseline's scores, the first seed's map methods and the photos to draw (:class:`Examples`)."""

    photos: list[RealPhoto]
    classification: dict[str, list[Classification]]
    localization: dict[str, list[Evaluation]]
    centre: GtKnownScores
    methods: dict[str, MapMethod]
    examples: Examples

    def first_of_each_group(self) -> Examples:
        """The first photo of each group that has one, in the file's order."""
        return self.examples.select(first_of_each_label(self.photos))


def on_real_photos(scale: Scale = CPU) -> PhotoResults:
    """Classify and localize the grouped real photos with every network of :data:`NETWORKS`, every seed."""
    names, lite = group_names(), load_pretrained(NETWORK)
    photos = grouped_photos(names)
    batches = list(real_photo_batches(photos, SIZE, lite.mean, lite.std))
    classification: dict[str, list[Classification]] = {row: [] for row in NETWORKS}
    localization: dict[str, list[Evaluation]] = {row: [] for row in CAM_ROWS}
    methods: dict[str, MapMethod] = {}
    for seed in scale.seeds:
        for row in NETWORKS:
            net, _ = network(row, seed, scale)
            whole = nn.Sequential(net.low, net.upper).eval()
            if row in localization:
                method = CAMMaps(whole)
                evaluation = evaluate(method, batches, len(names), released=False)
                localization[row].append(evaluation)
                classification[row].append(Classification.of(evaluation))
                methods.setdefault(row, method)
            else:
                classification[row].append(Classification.measure(whole, batches))
    images = np.stack([resized_photo(p, SIZE) for p in photos])
    examples = Examples(images, np.array([int(p.labels[0]) for p in photos]),
                        [scale_boxes(p.boxes, p.size, SIZE) for p in photos], names, lite.mean, lite.std)
    return PhotoResults(photos, classification, localization, evaluate_gt_known(CentreMaps(), batches), methods, examples)


def photo_table(results: PhotoResults) -> pd.DataFrame:
    """One row per network (and the centre baseline), means over seeds (%): top-1 error of the group, top-1
    localization error and GT-known accuracy by the paper's 20% rule, MaxBoxAccV2; and each seed's top-1 error."""
    rows = {}
    for row, runs in results.classification.items():
        found = {"top-1 error": np.mean([run.top1_error for run in runs]),
                 "top-1 error by seed": " / ".join(f"{run.top1_error:.0f}" for run in runs)}
        evaluations = results.localization.get(row, [])
        if evaluations:
            found.update({"top-1 loc err (20%)": np.mean([e.paper_rule.top1_error for e in evaluations]),
                          "GT-known loc (20%)": np.mean([e.paper_rule.gt_known_accuracy for e in evaluations]),
                          "MaxBoxAccV2": np.mean([e.gt_known.max_box_acc_v2.value for e in evaluations])})
        rows[row] = found
    rows["centre baseline"] = {"GT-known loc (20%)": results.centre.accuracy_at(0.2),
                               "MaxBoxAccV2": results.centre.max_box_acc_v2.value}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = f"{len(results.photos)} real photos"
    return table
