"""Percentile-bootstrap intervals over images, for any metric an evaluator can recompute on a subset.

Every evaluator of :mod:`camlib.metrics` keeps what it accumulated per image, so ``compute(rows)``
gives the metric on any selection of images (repeats allowed). A bootstrap resample is such a
selection: :func:`bootstrap_intervals` draws ``resamples`` of them and reports the central
``level`` share of the recomputed values.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from camlib.utils.errors import CamlibError

#: Resamples of every bootstrap interval in the book (a 95% percentile interval's ends move by about 0.1 point
#: between runs of 1,000 on these test sets).
RESAMPLES = 1000


def select_rows(per_image: np.ndarray, rows: np.ndarray | None) -> np.ndarray:
    """``per_image[rows]`` (all of it when ``rows`` is None), refusing an empty or out-of-range selection."""
    if rows is None:
        return per_image
    rows = np.asarray(rows)
    if rows.ndim != 1 or rows.size == 0 or rows.dtype.kind not in "iu" or rows.min() < 0 or rows.max() >= len(per_image):
        raise CamlibError(f"rows must be a non-empty 1-D array of indices into the {len(per_image)} accumulated images")
    return per_image[rows]


def bootstrap_intervals(
    statistics: Callable[[np.ndarray], dict[str, float]],
    n: int,
    resamples: int = RESAMPLES,
    level: float = 0.95,
    seed: int = 0,
    strata: np.ndarray | None = None,
    clusters: np.ndarray | None = None,
    within: bool = False,
) -> dict[str, tuple[float, float]]:
    """Percentile intervals ``{name: (low, high)}`` of the values ``statistics(rows)`` returns, over
    ``resamples`` draws of ``n`` image indices with replacement (fixed ``seed``: the same intervals every run).

    ``statistics`` maps indices ``(n,)`` to named numbers, e.g.
    ``lambda rows: {"top-1 loc": evaluator.compute(rows).top1_error}``. With ``strata (n,)`` (e.g. each
    image's class) every draw resamples each stratum's images within it, so each stratum keeps its size.
    With ``clusters (n,)`` naming each image's unit of independence (the object it shows: images of one
    object are not independent) every draw takes units with replacement, each with all its images, as many
    units as there are (within each stratum, when both are given); units of several images give the
    wider, honest interval. ``within`` also resamples each drawn unit's images with replacement (a two-stage
    bootstrap, for units that are themselves samples of images, e.g. the images of a scene class). A clustered
    draw concatenates the drawn units' blocks, each as long as its unit, so a statistic can tell two draws of one
    unit apart.
    """
    if n < 2:
        raise CamlibError(f"a bootstrap needs at least 2 images, got n={n}")
    if resamples < 10:
        raise CamlibError(f"resamples must be at least 10, got {resamples}")
    if not 0 < level < 1:
        raise CamlibError(f"level is a fraction in (0, 1), got {level}")
    strata, clusters = (None if labels is None else np.asarray(labels) for labels in (strata, clusters))
    for name, labels in (("strata", strata), ("clusters", clusters)):
        if labels is not None and np.shape(labels) != (n,):
            raise CamlibError(f"{name} names one label per image, ({n},); got shape {np.shape(labels)}")
    layers = [np.arange(n)] if strata is None else [np.flatnonzero(strata == s) for s in np.unique(strata)]
    units = [[rows] if clusters is None else [rows[clusters[rows] == u] for u in np.unique(clusters[rows])] for rows in layers]
    if clusters is not None and sum(len(u) for u in units) < 2:
        raise CamlibError("a cluster bootstrap needs at least 2 distinct units")
    if within and clusters is None:
        raise CamlibError("within resamples the images of each drawn unit: give clusters")
    rng = np.random.default_rng(seed)
    draws: dict[str, list[float]] = {}
    for _ in range(resamples):
        if clusters is None:
            rows = np.concatenate([m[rng.integers(0, len(m), len(m))] for m in layers])
        else:
            blocks = [layer[u] for layer in units for u in rng.integers(0, len(layer), len(layer))]
            if within:
                blocks = [block[rng.integers(0, len(block), len(block))] for block in blocks]
            rows = np.concatenate(blocks)
        for name, value in statistics(rows).items():
            draws.setdefault(name, []).append(value)
    tail = 100.0 * (1.0 - level) / 2.0
    return {name: tuple(float(v) for v in np.nanpercentile(values, [tail, 100.0 - tail])) for name, values in draws.items()}


def seed_image_intervals(
    statistics: Callable[[int, np.ndarray], dict[str, float]],
    seeds: int,
    n: int,
    resamples: int = RESAMPLES,
    level: float = 0.95,
    seed: int = 0,
) -> dict[str, tuple[float, float]]:
    """Percentile intervals of the mean over seeds of ``statistics(k, rows)`` (seed ``k``'s numbers on
    images ``rows``), resampling both: each draw takes ``seeds`` seeds with replacement and ``n`` images
    with replacement, the same images for every seed drawn (comparisons stay paired on images). The
    interval so carries the seed-to-seed spread as well as the images' sampling noise; with one seed
    it is the image bootstrap of :func:`bootstrap_intervals`.
    """
    if seeds < 1:
        raise CamlibError(f"need at least one seed, got {seeds}")
    rng = np.random.default_rng(seed)
    chosen = [rng.integers(0, seeds, seeds) for _ in range(resamples)] if resamples >= 10 else []
    draws = iter(chosen)

    def seed_mean(rows: np.ndarray) -> dict[str, float]:
        values = [statistics(int(k), rows) for k in next(draws)]
        return {name: float(np.mean([v[name] for v in values])) for name in values[0]}

    return bootstrap_intervals(seed_mean, n, resamples, level, seed + 1)


def cluster_seed_intervals(
    statistics: Callable[[int, np.ndarray], dict[str, float]],
    seeds: int,
    clusters: np.ndarray,
    resamples: int = RESAMPLES,
    level: float = 0.95,
    seed: int = 0,
) -> dict[str, tuple[float, float]]:
    """Percentile intervals of the mean over seeds of ``statistics(k, rows)``, resampling the units of
    independence: ``clusters (n,)`` names each image's unit (the object it shows: images of one object are
    not independent), and each draw takes the units with replacement (all images of a drawn unit, as often
    as it was drawn) and ``seeds`` seeds with replacement, the same images for every seed. With one image
    per unit it is :func:`seed_image_intervals`; units of several images give the wider, honest interval.
    """
    clusters = np.asarray(clusters)
    if clusters.ndim != 1 or len(clusters) < 2:
        raise CamlibError(f"clusters names one unit per image, (n,) with n >= 2; got shape {clusters.shape}")
    if seeds < 1 or resamples < 10 or not 0 < level < 1:
        raise CamlibError(f"need seeds >= 1, resamples >= 10 and level in (0, 1); got {seeds}, {resamples}, {level}")
    _, unit = np.unique(clusters, return_inverse=True)
    members = [np.flatnonzero(unit == u) for u in range(unit.max() + 1)]
    if len(members) < 2:
        raise CamlibError("a cluster bootstrap needs at least 2 distinct units")
    rng = np.random.default_rng(seed)
    draws: dict[str, list[float]] = {}
    for _ in range(resamples):
        rows = np.concatenate([members[u] for u in rng.integers(0, len(members), len(members))])
        values = [statistics(int(k), rows) for k in rng.integers(0, seeds, seeds)]
        for name in values[0]:
            draws.setdefault(name, []).append(float(np.mean([v[name] for v in values])))
    tail = 100.0 * (1.0 - level) / 2.0
    return {name: tuple(float(v) for v in np.nanpercentile(values, [tail, 100.0 - tail])) for name, values in draws.items()}


def minimum_detectable_effect(low: float, high: float, power_z: float = 0.84) -> float:
    """The smallest true difference a test at 5% (two-sided) detects with 80% power (``power_z`` = z of the
    power), from a 95% interval ``[low, high]`` of the difference: (1.96 + 0.84) standard errors, the
    standard error read off the interval's half-width."""
    if not high >= low:
        raise CamlibError(f"need low <= high, got [{low}, {high}]")
    return (1.96 + power_z) * (high - low) / (2 * 1.96)
