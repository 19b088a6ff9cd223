"""camlib: Class Activation Mapping (Zhou et al., CVPR 2016) as a small, tested library."""
from .box_rules import box_from_cam, boxes_from_cams, heuristic_guesses, released_code_boxes
from .cam import CAM, CAMResult, class_activation_maps, upsample
from .errors import (
    BadImageError,
    CamlibError,
    CorruptFileError,
    DatasetNotFoundError,
    NoGapHeadError,
    NotLinearClassifierError,
)
from .images import load_image
from .localize import Localization, Prediction, localize
from .repro import seed_everything

__version__ = "0.1.0"

__all__ = [
    "CAM", "CAMResult", "class_activation_maps", "upsample",
    "box_from_cam", "boxes_from_cams", "released_code_boxes", "heuristic_guesses",
    "load_image", "localize", "Localization", "Prediction", "seed_everything",
    "CamlibError", "BadImageError", "NoGapHeadError", "NotLinearClassifierError", "DatasetNotFoundError", "CorruptFileError",
]
