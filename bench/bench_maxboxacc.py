"""Benchmark: MaxBoxAccV2 over many CAM thresholds, the sweep vs one region computation per threshold.

Makes smooth random 224x224 maps (Gaussian-filtered noise, fixed seed) with 1-3 random ground-truth
boxes each, checks that both methods give identical BoxAcc curves, and prints median times
(warm-up, then repeats). With the reference rules (default) the sweep finds contours once per
distinct 8-bit cut-off (at most 256 per map), the loop once per threshold; with ``--rules camlib``
the sweep is the merge tree, the loop one OpenCV labelling per threshold. The loop method runs on
fewer maps to keep the bench short; its time is scaled per map, and the table says so. It also
prints MaxBoxAcc and MaxBoxAccV2 under both rules on the same maps, and on them scaled to peaks below 1.

    python bench/bench_maxboxacc.py [--maps 200] [--loop-maps 10] [--thresholds 1000] [--repeats 3] [--rules reference]
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import cv2
import numpy as np
import scipy
import skimage
from scipy.ndimage import gaussian_filter

from camlib.metrics.wsol import BoxAccResult, MaxBoxAcc, MaxBoxAccV2


def make_maps(n: int, size: int, seed: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """``(n, size, size)`` smooth maps in [0, 1] and n ground-truth box arrays ``(M, 4)``."""
    rng = np.random.default_rng(seed)
    maps = np.stack([gaussian_filter(rng.standard_normal((size, size)), sigma=12) for _ in range(n)])
    lo, hi = maps.min(axis=(1, 2), keepdims=True), maps.max(axis=(1, 2), keepdims=True)
    maps = (maps - lo) / (hi - lo)
    boxes = []
    for _ in range(n):
        m = rng.integers(1, 4)
        x0, y0 = rng.integers(0, size - 16, m), rng.integers(0, size - 16, m)
        x1, y1 = x0 + rng.integers(16, size - x0 + 1), y0 + rng.integers(16, size - y0 + 1)
        boxes.append(np.stack([x0, y0, x1, y1], axis=1).astype(np.float64))
    return maps, boxes


def evaluate(maps: np.ndarray, boxes: list[np.ndarray], thresholds: np.ndarray, method: str,
             rules: str = "reference", make: type = MaxBoxAccV2) -> BoxAccResult:
    evaluator = make(thresholds=thresholds, rules=rules, method=method)
    evaluator.accumulate(maps, boxes)
    return evaluator.compute()


def median_seconds(
    maps: np.ndarray, boxes: list[np.ndarray], thresholds: np.ndarray, method: str, rules: str, repeats: int
) -> float:
    evaluate(maps[:1], boxes[:1], thresholds, method, rules)  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        evaluate(maps, boxes, thresholds, method, rules)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--maps", type=int, default=200)
    parser.add_argument("--loop-maps", type=int, default=10, help="maps timed with the loop method")
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--thresholds", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rules", choices=("reference", "camlib"), default="reference")
    args = parser.parse_args()

    maps, boxes = make_maps(args.maps, args.size, args.seed)
    thresholds = np.arange(args.thresholds) / args.thresholds
    n_loop = min(args.loop_maps, args.maps)

    same = evaluate(maps[:n_loop], boxes[:n_loop], thresholds, "sweep", args.rules)
    loop = evaluate(maps[:n_loop], boxes[:n_loop], thresholds, "loop", args.rules)
    identical = np.array_equal(same.box_acc, loop.box_acc) and same.value == loop.value
    print(f"identical BoxAcc curves on the {n_loop} maps both methods ran: {identical}", end=" ")
    print(f"(MaxBoxAccV2 = {loop.value:.4f})")
    if not identical:
        raise SystemExit("the sweep and loop methods disagree")

    tree_s = median_seconds(maps, boxes, thresholds, "sweep", args.rules, args.repeats)
    loop_s = median_seconds(maps[:n_loop], boxes[:n_loop], thresholds, "loop", args.rules, args.repeats)
    tree_per_map, loop_per_map = tree_s / args.maps, loop_s / n_loop

    print(f"\nMaxBoxAccV2 ({args.rules} rules), {args.thresholds} thresholds, {args.size}x{args.size} maps,", end=" ")
    print(f"median of {args.repeats} runs after a warm-up")
    header = ("method", "maps timed", "median s", "ms / map", f"s / {args.maps} maps", "ratio vs loop")
    table = [
        ("loop", n_loop, loop_s, 1000 * loop_per_map, loop_per_map * args.maps, 1.0),
        ("sweep", args.maps, tree_s, 1000 * tree_per_map, tree_s, loop_per_map / tree_per_map),
    ]
    print(f"{header[0]:<8}" + "".join(f"{h:>16}" for h in header[1:]))
    for name, count, median, per_map, scaled, ratio in table:
        print(f"{name:<8}{count:>16}{median:>16.3f}{per_map:>16.2f}{scaled:>16.2f}{ratio:>16.1f}")
    if n_loop < args.maps:
        print(f"(loop timed on {n_loop} of the {args.maps} maps; its s / {args.maps} maps is scaled per map)")

    print(f"\nthe same {args.maps} maps, {args.thresholds} thresholds: reference rules vs camlib rules")
    peaks = np.random.default_rng(args.seed + 1).uniform(0.3, 1.0, (len(maps), 1, 1))
    for label, scaled in (("peak 1", maps), ("peaks in [0.3, 1)", maps * peaks)):
        for make in (MaxBoxAcc, MaxBoxAccV2):
            ref, own = (evaluate(scaled, boxes, thresholds, "sweep", r, make).value for r in ("reference", "camlib"))
            print(f"  {label:<18}{make.__name__:<12} reference {ref:6.2f}   camlib {own:6.2f}   difference {ref - own:+6.2f}")

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    cpu = platform.processor() or platform.machine()
    print(f"\nmachine: {platform.platform()}, {cpu}, {os.cpu_count()} CPUs, load average {load}")
    print(f"python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__},", end=" ")
    print(f"opencv {cv2.__version__}, scikit-image {skimage.__version__}")


if __name__ == "__main__":
    main()
