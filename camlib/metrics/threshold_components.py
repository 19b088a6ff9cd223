"""Connected components at many thresholds: boxes and pixel counts of the 8-connected components
of ``{map >= tau}`` for every threshold of a grid (camlib's own WSOL rules).

Two methods, with identical results (the same components, so the same boxes and areas):

- ``"loop"``: one OpenCV labelling per image and threshold, ``K`` passes over every image.
- ``"sweep"``: one pass for all thresholds. A map is first quantised to integer levels
  (``level >= k + 1`` exactly when ``map >= thresholds[k]``). Every pixel points to its
  8-neighbour of highest (level, lowest raster index); the chains end at local maxima and split
  the image into *basins*, each of which stays connected above any level (a chain only climbs).
  A component of ``{level >= j}`` is then a group of basins joined by adjacent pixel pairs whose
  lower level is ``>= j``: a maximum spanning forest over the basins, merged in decreasing order
  (Kruskal), gives these groups for all levels at once as a binary merge tree. Its only Python
  loops run over merges of basins (tens per CAM), never over pixels. (``skimage.morphology.max_tree``
  builds the full component tree too, but is slower per map than this whole method.)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np
import scipy.sparse as sp
from scipy import ndimage
from scipy.sparse.csgraph import minimum_spanning_tree

from camlib.utils.errors import CamlibError

Method = Literal["sweep", "loop"]
_CHUNK_PIXELS = 1 << 20  # pixels per batch of the sweep (merge tree) method (bounds its memory to ~100 MB)


@dataclass(frozen=True)
class ComponentBoxes:
    """Every component of every thresholded map, one row each (R rows).

    Attributes:
        image: ``(R,)`` index of the map.
        threshold: ``(R,)`` index of the threshold.
        boxes: ``(R, 4)`` float ``[x0, y0, x1, y1]``, ``x1``/``y1`` exclusive.
        areas: ``(R,)`` pixel count of the component.
    """

    image: np.ndarray
    threshold: np.ndarray
    boxes: np.ndarray
    areas: np.ndarray


def check_maps(maps: np.ndarray) -> np.ndarray:
    """``(N, H, W)`` float maps in [0, 1], float32 or float64 as given (float16 becomes float32);
    raises ``CamlibError`` otherwise."""
    arr = np.asarray(maps)
    if arr.ndim != 3 or 0 in arr.shape:
        raise CamlibError(f"maps must be a non-empty (N, H, W) array, got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.floating):
        raise CamlibError(f"maps must be floating point, got dtype {arr.dtype}")
    if arr.dtype not in (np.float32, np.float64):
        arr = arr.astype(np.float32)
    if np.isnan(arr).any():
        raise CamlibError("maps contain NaN; normalise them as the reference does (camlib.metrics.reference_scoremaps: NaN maps become zeros)")
    if arr.min() < 0 or arr.max() > 1:
        raise CamlibError(f"maps must be normalised to [0, 1], got values in [{arr.min():.4g}, {arr.max():.4g}]")
    return arr


def check_thresholds(thresholds: np.ndarray) -> np.ndarray:
    """``(K,)`` strictly increasing thresholds in [0, 1] as float64; raises ``CamlibError`` otherwise."""
    arr = np.asarray(thresholds, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0:
        raise CamlibError(f"thresholds must be a non-empty 1-D array, got shape {arr.shape}")
    if not np.isfinite(arr).all() or arr.min() < 0 or arr.max() > 1:
        raise CamlibError("thresholds must lie in [0, 1]")
    if (np.diff(arr) <= 0).any():
        raise CamlibError("thresholds must be strictly increasing")
    return arr


def component_boxes(maps: np.ndarray, thresholds: np.ndarray, method: Method = "sweep") -> ComponentBoxes:
    """Boxes and areas of the 8-connected components of ``maps[i] >= thresholds[k]`` for all i, k.

    Args:
        maps: ``(N, H, W)`` float maps in [0, 1].
        thresholds: ``(K,)`` strictly increasing thresholds in [0, 1].
        method: ``"sweep"`` (one pass for all thresholds) or ``"loop"`` (one OpenCV pass per threshold).
    """
    maps = check_maps(maps)
    thresholds = check_thresholds(thresholds)
    if method == "loop":
        return _loop_components(maps, thresholds)
    if method == "sweep":
        levels = np.searchsorted(thresholds, maps, side="right")  # level >= k + 1  <=>  map >= thresholds[k]
        per_image = max(1, _CHUNK_PIXELS // (maps.shape[1] * maps.shape[2]))
        parts = [_tree_components(levels[s : s + per_image], s) for s in range(0, len(maps), per_image)]
        return ComponentBoxes(*(np.concatenate(field) for field in zip(*(_fields(p) for p in parts))))
    raise CamlibError(f"method must be 'sweep' or 'loop', got {method!r}")


def _fields(c: ComponentBoxes) -> tuple[np.ndarray, ...]:
    return c.image, c.threshold, c.boxes, c.areas


def _loop_components(maps: np.ndarray, thresholds: np.ndarray) -> ComponentBoxes:
    """The baseline: ``cv2.connectedComponentsWithStats`` on every mask ``map >= tau``."""
    images, taus, stats = [], [], []
    for i, scoremap in enumerate(maps):
        for k, tau in enumerate(thresholds):
            mask = (scoremap >= tau).view(np.uint8)
            _, _, st, _ = cv2.connectedComponentsWithStats(mask, connectivity=8, ltype=cv2.CV_32S)
            st = st[1:]  # row 0 is the background
            stats.append(st)
            images.append(np.full(len(st), i))
            taus.append(np.full(len(st), k))
    x, y, w, h, area = np.concatenate(stats).astype(np.int64).T
    boxes = np.stack([x, y, x + w, y + h], axis=1).astype(np.float64)
    return ComponentBoxes(np.concatenate(images), np.concatenate(taus), boxes, area)


def _tree_components(levels: np.ndarray, first_image: int) -> ComponentBoxes:
    """All components of ``{levels >= j}``, j >= 1, of ``(n, H, W)`` integer level maps at once."""
    n, h, w = levels.shape
    # Flat layout with a level-0 column on each side and a level-0 row under each map, so that
    # the 8-neighbours of a pixel are at fixed offsets and never in another map.
    width, plane = w + 2, (h + 1) * (w + 2)
    padded = np.zeros((n, h + 1, width), dtype=np.int64)
    padded[:, :h, 1 : w + 1] = levels
    active = np.flatnonzero(padded.ravel() > 0)
    if active.size == 0:  # every map lies below the lowest threshold
        return ComponentBoxes(*(np.zeros(0, np.int64),) * 2, np.zeros((0, 4)), np.zeros(0, np.int64))
    basin, top, root_image = _basins(padded)
    flat = padded.ravel()
    level = flat[active]
    tree = _merge_tree(_basin_edges(flat, basin, width), top, root_image)
    node = tree.entering_node(basin[active], level)

    # One record per (node, level) with the node alive at that level, levels (lower, upper]
    # in decreasing order; a pixel first joins the record of its node at its own level.
    lengths = tree.level - tree.lower
    first = np.cumsum(lengths) - lengths
    rec_node = np.repeat(np.arange(tree.size), lengths)
    rec_level = tree.level[rec_node] - (np.arange(rec_node.size) - first[rec_node])
    record = first[node] + (tree.level[node] - level)
    local = active % plane
    span = max(h, w)
    own = _running_stats(record, local // width, local % width - 1, rec_node, span)
    neutral = _neutral(span)
    totals = np.tile(neutral, (tree.size, 1))
    last = first[lengths > 0] + lengths[lengths > 0] - 1
    totals[rec_node[last]] = own[last]
    stats = _combine(tree.descendant_stats(totals, neutral)[rec_node], own)
    boxes = np.stack([stats[:, 1], stats[:, 0], stats[:, 3] + 1, stats[:, 2] + 1], axis=1).astype(np.float64)
    return ComponentBoxes(tree.image[rec_node] + first_image, rec_level - 1, boxes, stats[:, 4])


def _basins(padded: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Basin of every pixel of the padded ``(n, H + 1, W + 2)`` levels, flat (-1 at level 0),
    and per basin its top level and map index.

    A pixel points to its 8-neighbour of highest (level, lowest index) when that one beats it;
    following the pointers only climbs, so a basin above any level stays connected.
    """
    flat = padded.ravel()
    pixel = np.arange(flat.size, dtype=np.int64)
    low = (1 << 32) - 1  # key = level in the high bits, then the reversed pixel index
    key = np.where(flat > 0, (flat << 32) | (low - pixel), -1).reshape(padded.shape)
    best = ndimage.maximum_filter(key, size=(1, 3, 3), mode="constant", cval=-1).ravel()
    active = flat > 0
    pointer = np.where(active, low - (best & low), pixel)  # a local maximum points to itself
    while not np.array_equal(nxt := pointer[pointer], pointer):  # pointer jumping: log2(longest chain) passes
        pointer = nxt
    is_root = (pointer == pixel) & active
    index = np.cumsum(is_root) - 1  # basin index at each root
    basin = np.where(active, index[pointer], -1)
    roots = np.flatnonzero(is_root)
    return basin, flat[roots], roots // (padded.shape[1] * padded.shape[2])


def _basin_edges(flat: np.ndarray, basin: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs of adjacent basins ``(E,)``, ``(E,)`` with the highest level ``(E,)`` at which they touch.

    ``flat`` and ``basin`` are flat padded arrays of row length ``width``.
    """
    firsts, seconds, weights = [], [], []
    for step in (1, width - 1, width, width + 1):  # right, down-left, down, down-right
        idx = np.flatnonzero(basin[:-step] != basin[step:])
        ba, bb = basin[idx], basin[idx + step]
        keep = (ba >= 0) & (bb >= 0)
        idx, ba, bb = idx[keep], ba[keep], bb[keep]
        firsts.append(np.minimum(ba, bb))
        seconds.append(np.maximum(ba, bb))
        weights.append(np.minimum(flat[idx], flat[idx + step]))
    first, second, weight = np.concatenate(firsts), np.concatenate(seconds), np.concatenate(weights)
    pair = first * (int(basin.max()) + 1) + second
    order = np.lexsort((-weight, pair))
    keep = order[np.diff(pair[order], prepend=-1) != 0]  # the highest weight of each pair
    return first[keep], second[keep], weight[keep]


def _neutral(span: int) -> np.ndarray:
    """Statistics (y_min, x_min, y_max, x_max, area) of no pixel, for coordinates below ``span``."""
    return np.array([span, span, 0, 0, 0], dtype=np.int64)


def _combine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Statistics ``(..., 5)`` of the union of two disjoint pixel sets."""
    low, high, count = np.minimum(a[..., :2], b[..., :2]), np.maximum(a[..., 2:4], b[..., 2:4]), a[..., 4:] + b[..., 4:]
    return np.concatenate([low, high, count], axis=-1)


def _running_stats(record: np.ndarray, rows: np.ndarray, cols: np.ndarray, group: np.ndarray, span: int) -> np.ndarray:
    """Statistics ``(R, 5)`` of the pixels that joined each record or an earlier one of its group.

    Args:
        record: ``(P,)`` record of each pixel; rows, cols: ``(P,)`` its coordinates (< ``span``).
        group: ``(R,)`` non-decreasing group (node) of each record; a record whose running set
            is still empty gets ``_neutral(span)``.
    """
    n_rec = group.size
    exact = np.tile(_neutral(span)[:4, None], (1, n_rec))
    np.minimum.at(exact[0], record, rows)
    np.minimum.at(exact[1], record, cols)
    np.maximum.at(exact[2], record, rows)
    np.maximum.at(exact[3], record, cols)
    offset = group * (span + 1)  # rising offsets restart a running max at each group,
    reverse = (group[-1] - group) * (span + 1)  # falling ones a running min
    count = np.cumsum(np.bincount(record, minlength=n_rec))
    starts = np.flatnonzero(np.diff(group, prepend=-1) != 0)
    before = np.repeat(np.r_[0, count][starts], np.diff(np.r_[starts, n_rec]))
    return np.stack(
        [
            np.minimum.accumulate(exact[0] + reverse) - reverse,
            np.minimum.accumulate(exact[1] + reverse) - reverse,
            np.maximum.accumulate(exact[2] + offset) - offset,
            np.maximum.accumulate(exact[3] + offset) - offset,
            count - before,
        ],
        axis=1,
    )


@dataclass(frozen=True)
class _MergeTree:
    """Binary merge tree: leaves are basins, each inner node a merge at ``level``.

    A node is a component of ``{levels >= j}`` exactly for ``lower < j <= level``; ``lower`` is
    its parent's level (0 at a root). Children are created before their parents.
    """

    parent: np.ndarray  # (T,) own index at roots
    level: np.ndarray  # (T,)
    lower: np.ndarray  # (T,)
    image: np.ndarray  # (T,)
    children: np.ndarray  # (T - B, 2) of the inner nodes, in creation order
    n_leaves: int

    @property
    def size(self) -> int:
        return len(self.parent)

    def entering_node(self, leaf: np.ndarray, level: np.ndarray) -> np.ndarray:
        """For pixels of basin ``leaf`` at ``level`` (both ``(P,)``), the node they first join:
        the highest ancestor whose level is still >= the pixel's (binary lifting)."""
        jumps = [self.parent]
        while not np.array_equal(nxt := jumps[-1][jumps[-1]], jumps[-1]):
            jumps.append(nxt)
        node = leaf
        for up in reversed(jumps):
            cand = up[node]
            node = np.where(self.level[cand] >= level, cand, node)
        return node

    def descendant_stats(self, own: np.ndarray, neutral: np.ndarray) -> np.ndarray:
        """Statistics ``(T, 5)`` of the pixels that joined strict descendants of each node,
        given those ``own`` ``(T, 5)`` that joined each node itself (``neutral``: no pixel)."""
        desc = [neutral.tolist()] * self.size
        total = own.tolist()
        for m, (a, b) in enumerate(self.children.tolist(), start=self.n_leaves):  # one step per merge
            ta, tb, om = total[a], total[b], total[m]
            d = [min(ta[0], tb[0]), min(ta[1], tb[1]), max(ta[2], tb[2]), max(ta[3], tb[3]), ta[4] + tb[4]]
            desc[m] = d
            total[m] = [min(d[0], om[0]), min(d[1], om[1]), max(d[2], om[2]), max(d[3], om[3]), d[4] + om[4]]
        return np.asarray(desc, dtype=np.int64)


def _merge_tree(edges: tuple[np.ndarray, np.ndarray, np.ndarray], top: np.ndarray, image: np.ndarray) -> _MergeTree:
    """Kruskal over the maximum spanning forest of the basin graph, highest level first."""
    first, second, weight = edges
    n = len(top)
    ceiling = int(weight.max()) + 1 if weight.size else 1
    graph = sp.csr_matrix(((ceiling - weight).astype(np.float64), (first, second)), shape=(n, n))
    forest = minimum_spanning_tree(graph).tocoo()
    forest_weight = ceiling - np.rint(forest.data).astype(np.int64)
    order = np.argsort(-forest_weight, kind="stable")
    merges = list(zip(forest.row[order].tolist(), forest.col[order].tolist()))

    union = list(range(n))  # union-find over basins
    cluster = list(range(n))  # the tree node that currently holds each union-find root
    children = []
    parent = list(range(n + len(merges)))
    for m, (a, b) in enumerate(merges, start=n):
        ra, rb = _find(union, a), _find(union, b)
        children.append((cluster[ra], cluster[rb]))
        parent[cluster[ra]] = parent[cluster[rb]] = m
        union[rb] = ra
        cluster[ra] = m
    parent_arr = np.asarray(parent, dtype=np.int64)
    level = np.concatenate([top, forest_weight[order]]).astype(np.int64)
    child_arr = np.asarray(children, dtype=np.int64).reshape(-1, 2)
    node_image = np.concatenate([image, image[np.asarray(merges, dtype=np.int64).reshape(-1, 2)[:, 0]]])
    is_root = parent_arr == np.arange(len(parent_arr))
    lower = np.where(is_root, 0, level[parent_arr])
    return _MergeTree(parent_arr, level, lower, node_image, child_arr, n)


def _find(union: list[int], x: int) -> int:
    while union[x] != x:
        union[x] = union[union[x]]  # path halving
        x = union[x]
    return x
