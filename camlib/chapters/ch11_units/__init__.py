"""Class-specific units (Sec. 5 of the paper): the last conv layer's units ranked by their softmax weight.

A CAM is a weighted sum of unit maps, ``M_c = sum_k w_k^c f_k``, so the units with the largest
``w_k^c`` are the parts the class is built from. This package ranks them, finds the images that
activate a unit most (:mod:`.ranking`), segments a unit's receptive field by a threshold (as Network Dissection
does: the top ``1 - quantile`` of the unit's upsampled activations over a data set, :mod:`.receptive_fields`),
scores those masks against object masks (:mod:`.class_specificity`), and measures how much of a CAM the top-k
units already explain (:mod:`.decomposition`). On a large pool of images (:mod:`.pool_sources`,
:mod:`.unit_pool`) it asks whether a class's top units peak on that class's objects (:mod:`.peak_hits`,
:mod:`.claims`).
"""
from camlib.chapters.ch11_units.class_specificity import class_table, top_image_hits, top_image_purity
from camlib.chapters.ch11_units.claims import interval_claim, paired_intervals
from camlib.chapters.ch11_units.decomposition import ORDERS, cam_explained, partial_cams, units_needed
from camlib.chapters.ch11_units.figures import (plot_explained, plot_hit_rates, show_cam_decomposition, show_pool_rows,
                                                show_unit_rows)
from camlib.chapters.ch11_units.gap_network import UnitSource, tuned_gap_network
from camlib.chapters.ch11_units.label_maps import BACKGROUND, box_label_map, cell_classes, mask_label_map
from camlib.chapters.ch11_units.peak_hits import class_hits, peak_classes, top_images
from camlib.chapters.ch11_units.pool_sources import POOL_PARTS
from camlib.chapters.ch11_units.ranking import rank_units, top_activating
from camlib.chapters.ch11_units.receptive_fields import unit_masks, unit_precision
from camlib.chapters.ch11_units.unit_pool import UnitPool, gap_head_pool, lite_unit_pool, unit_peaks

__all__ = [
    "rank_units", "top_activating",
    "unit_masks", "unit_precision",
    "class_table", "top_image_purity", "top_image_hits",
    "ORDERS", "partial_cams", "cam_explained", "units_needed",
    "UnitSource", "tuned_gap_network",
    "BACKGROUND", "cell_classes", "mask_label_map", "box_label_map",
    "POOL_PARTS",
    "UnitPool", "unit_peaks", "lite_unit_pool", "gap_head_pool",
    "top_images", "peak_classes", "class_hits",
    "paired_intervals", "interval_claim",
    "show_unit_rows", "show_cam_decomposition", "plot_explained", "plot_hit_rates", "show_pool_rows",
]
