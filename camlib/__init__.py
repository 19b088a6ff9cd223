"""camlib: Class Activation Mapping (Zhou et al., CVPR 2016) as a small, tested library.

The public names below are imported on first use, so that ``camlib --help`` and argument errors
answer without importing torch.
"""
from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_SOURCES = {
    "box_from_cam": "cam.box_rules", "boxes_from_cams": "cam.box_rules", "heuristic_guesses": "cam.box_rules",
    "released_code_boxes": "cam.box_rules", "instance_boxes": "cam.box_rules",
    "CAM": "cam", "CAMResult": "cam", "class_activation_maps": "cam", "upsample": "cam",
    "BadImageError": "utils.errors", "CamlibError": "utils.errors", "CorruptFileError": "utils.errors",
    "DatasetNotFoundError": "utils.errors", "NoGapHeadError": "utils.errors", "NotLinearClassifierError": "utils.errors",
    "load_image": "utils.images", "preprocess": "models.preprocess", "overlay": "app.plots",
    "load_pretrained": "models.pretrained", "as_classifier": "app.own_models", "load_checkpoint": "app.own_models",
    "Localization": "app.localize", "Prediction": "app.localize", "localize": "app.localize",
    "seed_everything": "utils.repro",
}

__all__ = [
    "CAM", "CAMResult", "class_activation_maps", "upsample",
    "box_from_cam", "boxes_from_cams", "released_code_boxes", "heuristic_guesses", "instance_boxes",
    "load_image", "preprocess", "overlay", "load_pretrained", "as_classifier", "load_checkpoint",
    "localize", "Localization", "Prediction", "seed_everything",
    "CamlibError", "BadImageError", "NoGapHeadError", "NotLinearClassifierError", "DatasetNotFoundError", "CorruptFileError",
]


def __getattr__(name: str) -> Any:
    if name not in _SOURCES:
        raise AttributeError(f"module 'camlib' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_SOURCES[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

