"""Table 5 at CPU scale: linear SVMs on the fixed features of ImageNet networks and of the fine-tuned GAP network.

Two tasks of photographed Tux Paint stamps pasted on real background crops, each split by object (every
test object is a photo no SVM training image shows):

* :func:`stamp_task`: the 14 stamp groups (:func:`camlib.training.stamp_groups.group_composites`), the task the
  fine-tuned network was trained on; its test objects are the stamps that network held out;
* :func:`imagenet_task`: ImageNet classes (:data:`camlib.data.generators.stamps.MAPPING_FILE`), labels the fine-tuned
  network never trained on, tested on objects it never saw (:func:`held_out_stamps`).

Features: each packaged network's own GAP feature (its last conv maps averaged, what its classifier receives,
:func:`network_features`), Lite0's last 14x14 map averaged (the cut before any new layer or fine-tuning, a
diagnostic) and the shipped fine-tuned Lite0-GAP network's GAP feature (its added conv layer's maps averaged,
:func:`gap_network_tap`, read in Lite0's own pass). The same linear SVM is scored on each after PCA to a common
dimension (:func:`score_features`); claims compare per-image hits with 95% intervals that resample test objects
and seeds (:func:`compare`).
"""
from camlib.chapters.ch06_transfer.claims import (EQUIVALENCE_MARGIN, Claim, Comparison, claims_table, compare,
                                                  paper_differences)
from camlib.chapters.ch06_transfer.features import (CUT_ROW, FLOOR_ROW, NETWORKS, PAPER_ROWS, TUNED_ROW, Tap, by_split,
                                                    feature_sets, gap_network_tap, network_features, own_accuracy,
                                                    raw_pixels, seed_row, stride16_layer, stride16_tap, table_rows,
                                                    task_features)
from camlib.chapters.ch06_transfer.figures import plot_accuracies, show_examples, show_localization
from camlib.chapters.ch06_transfer.localization import GenericLocalization, chance_hits, generic_localization
from camlib.chapters.ch06_transfer.scores import SVM_C_GRID, Scores, pca_pair, score_features, svm, table5
from camlib.chapters.ch06_transfer.tasks import (IMAGES_PER_STAMP, INPUT_SIZE, SPEC_IMAGES, TEST_IMAGES, TRAIN_IMAGES,
                                                 PhotoSet, StampTask, group_photos, held_out_stamps, imagenet_task,
                                                 instance_paths, object_paths, render_rows, rendered_task, stamp_task,
                                                 tuned_training_objects)

__all__ = [
    "INPUT_SIZE", "SPEC_IMAGES", "TRAIN_IMAGES", "TEST_IMAGES", "IMAGES_PER_STAMP", "StampTask", "object_paths",
    "instance_paths", "tuned_training_objects", "render_rows", "rendered_task", "stamp_task", "held_out_stamps",
    "imagenet_task", "PhotoSet", "group_photos",
    "NETWORKS", "TUNED_ROW", "CUT_ROW", "FLOOR_ROW", "PAPER_ROWS", "Tap", "stride16_layer", "stride16_tap",
    "gap_network_tap", "network_features", "by_split", "task_features", "seed_row", "table_rows", "feature_sets",
    "own_accuracy", "raw_pixels",
    "SVM_C_GRID", "pca_pair", "svm", "Scores", "score_features", "table5",
    "EQUIVALENCE_MARGIN", "Comparison", "compare", "Claim", "claims_table", "paper_differences",
    "GenericLocalization", "generic_localization", "chance_hits",
    "show_examples", "plot_accuracies", "show_localization",
]
