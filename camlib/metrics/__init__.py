"""Metrics: box IoU, classification error, ILSVRC localization error."""
from .boxes import iou
from .classification import topk_error
from .localization import LocalizationError, LocalizationResult

__all__ = ["iou", "topk_error", "LocalizationError", "LocalizationResult"]
