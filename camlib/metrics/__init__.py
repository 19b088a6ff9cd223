"""Metrics: box IoU, classification error, ILSVRC localization error, and the WSOL metrics of Choe et al. 2020."""
from .boxes import iou
from .classification import topk_error
from .localization import LocalizationError, LocalizationResult
from .wsol import DEFAULT_THRESHOLDS, PXAP_THRESHOLDS, BoxAccResult, MaxBoxAcc, MaxBoxAccV2, PxAP, PxAPResult

__all__ = [
    "iou", "topk_error", "LocalizationError", "LocalizationResult",
    "MaxBoxAcc", "MaxBoxAccV2", "PxAP", "BoxAccResult", "PxAPResult", "DEFAULT_THRESHOLDS", "PXAP_THRESHOLDS",
]
