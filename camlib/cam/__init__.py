"""Class Activation Mapping: the hook-free arithmetic and the ``CAM`` context manager."""
from camlib.cam.compute import cam_boxes, class_activation_maps, normalize_maps, select_classes, unit_maps, upsample
from camlib.cam.extractor import CAM, CAMResult
from camlib.cam.head import GapHead, find_gap_head

__all__ = ["CAM", "CAMResult", "GapHead", "find_gap_head", "cam_boxes", "class_activation_maps", "normalize_maps", "select_classes", "unit_maps", "upsample"]
