"""camlib: Class Activation Mapping (Zhou et al., CVPR 2016) as a small, tested library.

The public names below are imported on first use, so that ``camlib --help`` and argument errors
answer without importing torch.
"""
from __future__ import annotations

import importlib
import sys
import types
from typing import Any

__version__ = "0.1.0"

_SOURCES = {
    "box_from_cam": "box_rules", "boxes_from_cams": "box_rules", "heuristic_guesses": "box_rules", "released_code_boxes": "box_rules",
    "CAM": "cam", "CAMResult": "cam", "class_activation_maps": "cam", "upsample": "cam",
    "BadImageError": "errors", "CamlibError": "errors", "CorruptFileError": "errors", "DatasetNotFoundError": "errors",
    "NoGapHeadError": "errors", "NotLinearClassifierError": "errors",
    "load_image": "images",
    "Localization": "localize", "Prediction": "localize", "localize": "localize",
    "seed_everything": "repro",
}

__all__ = [
    "CAM", "CAMResult", "class_activation_maps", "upsample",
    "box_from_cam", "boxes_from_cams", "released_code_boxes", "heuristic_guesses",
    "load_image", "localize", "Localization", "Prediction", "seed_everything",
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


class _Package(types.ModuleType):
    """Keeps ``camlib.localize`` the function: importing the submodule of the same name would
    otherwise rebind the attribute to the module (as the eager imports of old did not)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "localize" and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
