"""What the protocol measured: Table 4's settings, our references, and accuracy by CAM-box hit and object size."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd
import torch

from camlib.book.paper_tables import size_bins
from camlib.methods.probe import LinearProbe


#: The three classification rows of Table 4, in the paper's order, then our references.
SETTINGS = ("full image", "CAM crop", "GT box crop")
REFERENCES = ("random box crop", "centre crop", "GT box crop from 224 px")


#: Box-share bins of the bird-size analysis (in :func:`camlib.book.paper_tables.size_bins`'s form): birds are larger
#: than ILSVRC's objects, so its bins are coarser at the small end.
BIRD_SIZE_BINS = ((0.0, 0.2), (0.2, 0.4), (0.4, 1.0))


@dataclass
class CroppingResult:
    """Everything the protocol measured (accuracies and hit rates in percent)."""

    accuracy: dict[str, float]  # test accuracy of each setting (SETTINGS + REFERENCES)
    localization: dict[str, float]
    C: dict[str, float]  # the SVM regularisation used in each setting
    dev_margins: pd.DataFrame  # dev accuracy of the CAM crop per margin (and of the full image)
    margin: float  # the margin chosen on dev
    threshold: float
    train_boxes: np.ndarray
    test_boxes: np.ndarray  # the CAM boxes cropped (margin included)
    test_iou: np.ndarray  # (N,) IoU of each test CAM box (no margin) with the ground truth
    test_shares: np.ndarray  # (N,) ground-truth box share of each test image
    test_correct: dict[str, np.ndarray] = field(repr=False)  # per setting, (N,) bool
    test_cams: torch.Tensor = field(repr=False)  # (N, h, w) of the predicted class
    test_predictions: np.ndarray = field(repr=False)
    probe: LinearProbe = field(repr=False)

    def accuracy_table(self, model: str, settings: Sequence[str] = SETTINGS) -> pd.DataFrame:
        """Rows ``"<model> on <setting>"`` (Table 4's three by default)."""
        rows = {f"{model} on {setting}": [self.accuracy[setting]] for setting in settings}
        return pd.DataFrame.from_dict(rows, orient="index", columns=["accuracy"])

    def _groups(self, groups: dict[str, np.ndarray]) -> pd.DataFrame:
        rows = {name: {"images": int(mask.sum()),
                       **{s: 100.0 * float(self.test_correct[s][mask].mean()) if mask.any() else float("nan")
                          for s in (*SETTINGS, *REFERENCES)}}
                for name, mask in groups.items()}
        return pd.DataFrame.from_dict(rows, orient="index")

    def accuracy_by_hit(self, iou_threshold: float = 0.5) -> pd.DataFrame:
        """Accuracy of each setting on the test images whose CAM box hit the object and on those it missed."""
        hit = self.test_iou >= iou_threshold
        return self._groups({f"CAM box hit (IoU >= {iou_threshold:g})": hit, "CAM box missed": ~hit})

    def accuracy_by_size(self, bins: tuple[tuple[float, float], ...] = BIRD_SIZE_BINS) -> pd.DataFrame:
        """Accuracy of each setting on the test images whose ground-truth box covers each ``bins`` range of the image
        (:func:`camlib.book.paper_tables.size_bins`)."""
        members = size_bins(self.test_shares, bins)
        return self._groups({f"box {name} of image": np.isin(np.arange(len(self.test_shares)), rows) for name, rows in members.items()})

    def localization_table(self) -> pd.DataFrame:
        """Hit rates at IoU >= 0.5: the CAM boxes and the chance baselines."""
        return pd.DataFrame.from_dict({k: [v] for k, v in self.localization.items()}, orient="index", columns=["accuracy"])
