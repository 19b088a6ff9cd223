"""Metrics: box IoU, classification error, ILSVRC localization error, and the WSOL metrics of Choe et al. 2020.

Every evaluator (:class:`LocalizationEvaluator`, :class:`MaxBoxAcc`, :class:`MaxBoxAccV2`,
:class:`PxAP`) has the same protocol: ``accumulate(...)`` per batch, ``compute()`` for the result
over every batch so far (it can be called again after more batches), ``compute(rows)`` for the
result on a selection of the accumulated images (a size bin, a bootstrap resample:
:func:`bootstrap_intervals`), ``reset()`` to start over.
"""
from camlib.metrics.bootstrap import bootstrap_intervals
from camlib.metrics.boxes import box_intersection, box_iou, iou
from camlib.metrics.classification import topk_error
from camlib.metrics.localization import LocalizationEvaluator, LocalizationResult
from camlib.metrics.wsol import (
    DEFAULT_THRESHOLDS,
    IOU_THRESHOLDS,
    PXAP_THRESHOLDS,
    BoxAccResult,
    MaxBoxAcc,
    MaxBoxAccV2,
    PxAP,
    PxAPResult,
    cam_thresholds,
    reference_scoremaps,
)

__all__ = [
    "iou", "box_iou", "box_intersection", "topk_error", "LocalizationEvaluator", "LocalizationResult",
    "MaxBoxAcc", "MaxBoxAccV2", "PxAP", "BoxAccResult", "PxAPResult", "DEFAULT_THRESHOLDS", "PXAP_THRESHOLDS",
    "IOU_THRESHOLDS", "cam_thresholds", "reference_scoremaps", "bootstrap_intervals",
]
