"""Chapter 3 (Sec. 3, Tables 2-3): weakly supervised localization by real ImageNet networks on real objects.

The composites of ImageNet classes (photographed objects with exact masks, :mod:`camlib.data.generators.composites`)
and the hand-boxed real photos (:mod:`camlib.data.sets.real_photos`), scored for EfficientNet-Lite0/1/2 and
SqueezeNet 1.1 with the library's evaluation (:mod:`camlib.evaluation.evaluate`); ``camlib cam``'s defaults
are chosen here on the composites' dev split (:mod:`.defaults`).
"""
from camlib.chapters.ch03_imagenet_localization.benchmark import (
    CPU,
    FULL,
    NETWORKS,
    PAPER_ROWS,
    Scale,
    RAW_BACKPROP,
    evaluate_backprop,
    evaluate_cam,
    evaluate_centre,
    evaluate_photos,
    size_bin_rows,
)
from camlib.chapters.ch03_imagenet_localization.backprop_rule import BACKPROP_SIGMAS, BackpropRule, choose_backprop_rule
from camlib.chapters.ch03_imagenet_localization.defaults import (
    DevChoice,
    choose_flip,
    choose_network_and_threshold,
    dev_curve,
)
from camlib.chapters.ch03_imagenet_localization.real_photo_eval import PhotoScores, Setting, score_photos
from camlib.chapters.ch03_imagenet_localization.tables import (
    TABLE2_METRICS,
    centre_row,
    heuristics_table,
    interval_table,
    measure,
    paired_claim,
    paper_beside,
    metric_columns,
)
from camlib.book.paper_tables import SIZE_BINS
from camlib.evaluation.batches import sample_rows
from camlib.evaluation.evaluate import DEV_THRESHOLDS

__all__ = [
    "BACKPROP_SIGMAS", "BackpropRule", "RAW_BACKPROP", "choose_backprop_rule", "CPU", "FULL", "NETWORKS", "PAPER_ROWS", "SIZE_BINS", "Scale", "evaluate_backprop", "evaluate_cam", "evaluate_centre",
    "evaluate_photos", "sample_rows", "size_bin_rows", "DEV_THRESHOLDS", "DevChoice", "choose_flip",
    "choose_network_and_threshold", "dev_curve", "PhotoScores", "Setting", "score_photos", "TABLE2_METRICS", "centre_row",
    "heuristics_table", "interval_table", "measure", "paired_claim", "paper_beside", "metric_columns",
]
