"""Do a class's top units fire on that class's objects? The class under each unit's peak on its top images."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
import torch

from camlib.utils.errors import CamlibError
from camlib.chapters.ch11_units.ranking import rank_units
from camlib.chapters.ch11_units.unit_pool import UnitPool


def top_images(peak: np.ndarray, count: int) -> np.ndarray:
    """int64 (K, count): each unit's ``count`` images of highest peak (highest first; ties: lower image index).
    ``peak`` (N, K) as in :class:`UnitPool`."""
    peak = np.asarray(peak, dtype=np.float64)
    if peak.ndim != 2 or not 1 <= count <= peak.shape[0]:
        raise CamlibError(f"need peaks (N, K) and 1 <= count <= N; got shape {peak.shape} and {count}")
    return np.argsort(-peak, axis=0, kind="stable")[:count].T


def peak_classes(pool: UnitPool, count: int) -> np.ndarray:
    """int64 (K, count): the class under each unit's peak cell on each of its ``count`` top images
    (:func:`top_images`): an object's class, or BACKGROUND."""
    tops = top_images(pool.peak, count)
    units_ = np.arange(tops.shape[0])[:, None]
    return pool.cells[tops, pool.where[tops, units_]]


RANKS: tuple[str, ...] = ("top units", "all units", "bottom units")


def class_hits(hits: np.ndarray, weight: torch.Tensor, classes: Sequence[int], units: int = 5) -> pd.DataFrame:
    """Per class c (rows, indexed by c), in %: the share of the top-image peaks (``hits`` (K, T) from
    :func:`peak_classes`) that lie on an object of class c, over c's ``units`` highest-weighted units,
    all units and its ``units`` lowest-weighted units (columns :data:`RANKS`)."""
    hits = np.asarray(hits)
    rows = {}
    for c in classes:
        order = rank_units(weight, int(c))
        on = hits == c
        rows[int(c)] = {"top units": on[order[:units]].mean(), "all units": on.mean(), "bottom units": on[order[-units:]].mean()}
    return 100.0 * pd.DataFrame(rows).T[list(RANKS)]
