"""Pointing accuracy per question type: does the peak of an answer's CAM fall on the object the question
is about? Beside it, two references that need no model: the image centre and a uniformly random point
(:mod:`camlib.evaluation.pointing` does the scoring)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from camlib.evaluation.pointing import POINTING_TOLERANCE, near_masks, pointing_hits, points_hit, random_hit_rates


def pointing_frame(cams: torch.Tensor, masks: np.ndarray, scenes: np.ndarray | None = None,
                   tolerance: float = POINTING_TOLERANCE) -> pd.DataFrame:
    """One row per map: whether the CAM peak and the image centre hit (bool) and a random point's hit rate (float),
    with the ``scenes (B,)`` each map's question is about (the unit a bootstrap resamples) when given.

    ``cams`` (B, h, w) at any resolution; ``masks`` (B, H, W) the objects each map should point at.
    """
    near = near_masks(masks, tolerance)  # dilate once; the three scores then need no tolerance
    _, height, width = near.shape
    centre = points_hit(np.tile([height // 2, width // 2], (len(near), 1)), near)
    frame = pd.DataFrame({"CAM peak": pointing_hits(cams, near), "centre": centre, "random": random_hit_rates(near)})
    if scenes is not None:
        frame["scene"] = np.asarray(scenes)
    return frame


def pointing_table(cams: torch.Tensor, masks: np.ndarray, groups: np.ndarray | list[str], tolerance: float = POINTING_TOLERANCE) -> pd.DataFrame:
    """Pointing accuracy (%) of the CAM peaks, the image centre and a random point (:func:`pointing_frame`), per group
    and overall; ``groups`` (B,) a label per map (e.g. the question type)."""
    frame = pointing_frame(cams, masks, tolerance=tolerance).assign(group=np.asarray(groups))
    table = 100.0 * frame.groupby("group", sort=False)[["CAM peak", "centre", "random"]].mean()
    table.loc["all"] = 100.0 * frame[["CAM peak", "centre", "random"]].mean()
    table["maps"] = [*frame.groupby("group", sort=False).size(), len(frame)]
    table.index.name = None
    return table
