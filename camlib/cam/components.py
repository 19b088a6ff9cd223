"""The largest 8-connected component of many binary masks at once, found through row runs.

A *run* is a maximal horizontal segment of foreground pixels. Runs in consecutive rows of one mask
that touch (their column ranges overlap or meet diagonally) belong to the same 8-connected
component, so the components are the connected components of a small graph of runs (scipy's
``csgraph``). The per-pixel work is three reductions per row of the masks (numpy on the CPU, torch
on other devices); the graph has about one node per row for CAM masks and is solved on the CPU.

The result equals ``cv2.connectedComponentsWithStats(mask, connectivity=8)`` followed by the
first largest component in OpenCV's label order, which numbers components by the first 2x2 block
(block rows of 2 pixel rows, then block columns) that holds one of their pixels.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components


@dataclass
class Runs:
    """Row runs of a stack of ``(N, H, W)`` masks, sorted by ``(row, start)``.

    ``row`` is the global row ``n * H + y``; columns ``start`` to ``stop - 1`` are foreground.
    """

    row: np.ndarray
    start: np.ndarray
    stop: np.ndarray

    @staticmethod
    def concat(parts: list["Runs"]) -> "Runs":
        """Join the runs of consecutive chunks of masks (already offset, so still sorted)."""
        return Runs(*(np.concatenate([getattr(p, f) for p in parts] or [np.zeros(0, np.int64)])
                      for f in ("row", "start", "stop")))


def row_runs(masks: np.ndarray | torch.Tensor, row_offset: int = 0) -> Runs:
    """The runs of ``(N, H, W)`` bool masks (numpy, or torch on any device); global rows start at
    ``row_offset``.

    Rows holding one run (nearly all rows of a thresholded CAM) are read off three per-row
    reductions (count, first and last foreground column); only the other rows are scanned.
    """
    width = masks.shape[-1]
    rows = masks.reshape(-1, width)
    count, first, last = _row_stats(rows)
    filled = count > 0
    single = filled & (last - first + 1 == count)
    (one,) = np.nonzero(single)
    (many,) = np.nonzero(filled & ~single)
    row, start, stop = one, first[one], last[one] + 1
    if len(many):  # a few rows: find their runs from the edges of the row (on the CPU)
        sub = rows[many] if isinstance(rows, np.ndarray) else rows[torch.from_numpy(many).to(rows.device)].cpu().numpy()
        edges = np.diff(np.pad(sub.view(np.int8), ((0, 0), (1, 1))), axis=1)
        rise_row, rise_col = np.nonzero(edges == 1)
        stops = np.nonzero(edges == -1)[1]  # same order as the rises: run by run
        row = np.concatenate([row, many[rise_row]])
        start = np.concatenate([start, rise_col])
        stop = np.concatenate([stop, stops])
        order = np.lexsort((start, row))
        row, start, stop = row[order], start[order], stop[order]
    return Runs(row.astype(np.int64) + row_offset, start.astype(np.int64), stop.astype(np.int64))


def _row_stats(rows: np.ndarray | torch.Tensor) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Foreground count, first and last foreground column of each row of ``(R, W)`` bool masks.

    numpy's bool ``argmax`` is a byte search, many times faster than torch's on the CPU.
    """
    width = rows.shape[1]
    if len(rows) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    if isinstance(rows, np.ndarray):
        as_bytes = rows.view(np.uint8)
        flipped = cv2.flip(as_bytes, 1).view(bool)  # a contiguous mirror copy (numpy's is slow)
        return as_bytes.sum(axis=1, dtype=np.int32), rows.argmax(axis=1), width - 1 - flipped.argmax(axis=1)
    as_bytes = rows.view(torch.uint8)
    stats = torch.stack([as_bytes.sum(dim=1), as_bytes.argmax(dim=1), as_bytes.flip(1).argmax(dim=1)]).cpu().numpy()
    return stats[0], stats[1], width - 1 - stats[2]


def _touching_pairs(runs: Runs, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs ``(a, b)`` of runs where ``b`` lies in the row above ``a`` and touches it."""
    span = width + 2  # keys of one row never reach the next row's keys
    key_start = runs.row * span + runs.start
    key_last = runs.row * span + runs.stop - 1
    above = (runs.row - 1) * span
    lo = np.searchsorted(key_last, above + runs.start - 1, side="left")  # last >= start - 1
    hi = np.searchsorted(key_start, above + runs.stop, side="right")  # start <= stop
    counts = np.where(runs.row % height == 0, 0, np.clip(hi - lo, 0, None))
    total = int(counts.sum())
    a = np.repeat(np.arange(len(counts)), counts)
    offsets = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    return a, np.repeat(lo, counts) + offsets


def largest_components(runs: Runs, num_masks: int, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Box ``[x0, y0, x1, y1]`` (exclusive ends) of each mask's largest 8-connected component.

    Returns ``boxes (num_masks, 4)`` float32 and ``found (num_masks,)`` bool (False: empty mask,
    box left at zeros). Ties in area go to the component OpenCV labels first.
    """
    boxes = np.zeros((num_masks, 4), dtype=np.float32)
    found = np.zeros(num_masks, dtype=bool)
    total = len(runs.row)
    if total == 0:
        return boxes, found
    a, b = _touching_pairs(runs, height, width)
    graph = csr_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(total, total))
    count, label = connected_components(graph, directed=False)
    area = np.bincount(label, weights=runs.stop - runs.start, minlength=count)
    y = runs.row % height
    first_block = (y // 2) * (width // 2 + 1) + runs.start // 2  # OpenCV's label order
    x0, y0, block = (_reduce(np.minimum, v, label, count) for v in (runs.start, y, first_block))
    x1, y1 = (_reduce(np.maximum, v, label, count) for v in (runs.stop, y + 1))
    owner = np.zeros(count, dtype=np.int64)
    owner[label] = runs.row // height
    order = np.lexsort((block, -area, owner))
    masks, first = np.unique(owner[order], return_index=True)
    best = order[first]
    boxes[masks] = np.stack([x0[best], y0[best], x1[best], y1[best]], axis=1)
    found[masks] = True
    return boxes, found


def _reduce(ufunc: np.ufunc, values: np.ndarray, label: np.ndarray, count: int) -> np.ndarray:
    """Per-component ``ufunc`` (np.minimum or np.maximum) of run ``values`` ``(R,)`` -> ``(count,)``."""
    info = np.iinfo(np.int64)
    out = np.full(count, info.max if ufunc is np.minimum else info.min, dtype=np.int64)
    ufunc.at(out, label, values)
    return out
