"""A unit's receptive field: its upsampled maps above a quantile over a data set; the share of it on the object."""
from __future__ import annotations

import numpy as np
import torch

from camlib.cam import upsample
from camlib.utils.errors import CamlibError
from camlib.chapters.ch11_units.ranking import _features


def unit_masks(unit_maps: torch.Tensor, size: tuple[int, int], quantile: float = 0.99) -> np.ndarray:
    """bool (N, H, W): where one unit's maps (N, h, w), bilinearly upsampled to ``size``, exceed the
    ``quantile`` of all its upsampled activations over the N images (one threshold per unit)."""
    if not 0.0 < quantile < 1.0:
        raise CamlibError(f"quantile must lie strictly between 0 and 1, got {quantile}")
    unit_maps = torch.as_tensor(unit_maps, dtype=torch.float32)
    if unit_maps.ndim != 3:
        raise CamlibError(f"unit_maps must be (N, h, w) (one unit), got shape {tuple(unit_maps.shape)}")
    big = upsample(unit_maps[:, None], size)[:, 0].numpy()
    return big > np.quantile(big, quantile)


def unit_precision(features: torch.Tensor, objects: np.ndarray, groups: np.ndarray, quantile: float = 0.99) -> np.ndarray:
    """float (K, G): for every unit, the share of its receptive-field mask (:func:`unit_masks`, one
    threshold per unit over all N images) that lies on the object, within the images of each group.

    ``features`` (N, K, h, w); ``objects`` bool (N, H, W); ``groups`` int (N,) in 0..G-1 (e.g. the
    class of each image). NaN where a unit's mask is empty on a group's images.
    """
    features = _features(features)
    objects, groups = np.asarray(objects, dtype=bool), np.asarray(groups)
    if objects.shape[0] != features.shape[0] or groups.shape != (features.shape[0],) or objects.ndim != 3:
        raise CamlibError(f"need objects (N, H, W) and groups (N,) for N={features.shape[0]} images; "
                          f"got {objects.shape} and {groups.shape}")
    count = int(groups.max()) + 1
    out = np.full((features.shape[1], count), np.nan)
    for unit in range(features.shape[1]):
        masks = unit_masks(features[:, unit], objects.shape[1:], quantile)
        on = np.bincount(groups, weights=(masks & objects).sum(axis=(1, 2)), minlength=count)
        area = np.bincount(groups, weights=masks.sum(axis=(1, 2)), minlength=count)
        out[unit] = np.where(area > 0, on / np.maximum(area, 1), np.nan)
    return out
