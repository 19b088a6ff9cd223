"""Benchmark: memory over many repeated CAM calls (hooks and graphs must be freed).

Runs ``with CAM(model) as cam: cam(x, topk=5).boxes()`` ``--calls`` times on EfficientNet-Lite0
(a fresh context, so a fresh hook, every call) and records, every ``--every`` calls: the process
RSS, Python's traced heap (tracemalloc), the number of live tensors and of hooks left on the
model. Growth is measured from the first checkpoint (after warm-up) to the last.

    python bench/bench_memory.py [--calls 1000] [--batch 1] [--every 100] [--json out.json]
"""
from __future__ import annotations

import argparse
import gc
import resource
import sys
import tracemalloc
import warnings
from pathlib import Path

import psutil
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import describe, machine, photo_batch, write_json  # noqa: E402

from camlib.cam import CAM  # noqa: E402
from camlib.models import load_pretrained  # noqa: E402

MB = 1024 * 1024


def live_tensors() -> int:
    """Tensors reachable by Python's garbage collector."""
    with warnings.catch_warnings():  # isinstance on some torch module attributes warns
        warnings.simplefilter("ignore", FutureWarning)
        return sum(1 for obj in gc.get_objects() if isinstance(obj, torch.Tensor))


def hook_count(model: nn.Module) -> int:
    """Forward, pre-forward and backward hooks on every module of ``model``."""
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks) for m in model.modules())


def checkpoint(calls: int, model: nn.Module, device: torch.device) -> dict:
    gc.collect()
    current, peak = tracemalloc.get_traced_memory()
    point = {"calls": calls, "rss_mb": psutil.Process().memory_info().rss / MB, "python_heap_mb": current / MB,
             "python_heap_peak_mb": peak / MB, "live_tensors": live_tensors(), "hooks": hook_count(model)}
    if device.type == "cuda":
        point["cuda_allocated_mb"] = torch.cuda.memory_allocated(device) / MB
    return point


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--every", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)

    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    classifier = load_pretrained("efficientnet-lite0")
    model = classifier.model.to(device)
    x = photo_batch(classifier, args.batch).to(device)

    def call() -> None:
        with CAM(model) as cam:
            cam(x, topk=5).boxes()

    for _ in range(args.warmup):
        call()
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    tracemalloc.start()
    points = [checkpoint(0, model, device)]
    for i in range(1, args.calls + 1):
        call()
        if i % args.every == 0 or i == args.calls:
            points.append(checkpoint(i, model, device))
            p = points[-1]
            print(f"{p['calls']:>6} calls: RSS {p['rss_mb']:8.1f} MB, Python heap {p['python_heap_mb']:7.3f} MB, "
                  f"live tensors {p['live_tensors']}, hooks {p['hooks']}", flush=True)
    tracemalloc.stop()

    first, last = points[1] if len(points) > 1 else points[0], points[-1]
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    summary = {
        "rss_growth_mb": last["rss_mb"] - first["rss_mb"],
        "python_heap_growth_mb": last["python_heap_mb"] - first["python_heap_mb"],
        "live_tensor_growth": last["live_tensors"] - first["live_tensors"],
        "hooks_left": last["hooks"],
        "peak_rss_mb": peak_rss,
        "peak_python_heap_mb": max(p["python_heap_peak_mb"] for p in points),
        "measured_from_calls": first["calls"],
    }
    if device.type == "cuda":
        summary["peak_cuda_allocated_mb"] = torch.cuda.max_memory_allocated(device) / MB
    info = machine(device)
    print(f"\n{args.calls} calls of `with CAM(model) as cam: cam(x, topk=5).boxes()`, batch {args.batch}, after "
          f"{args.warmup} warm-up calls; growth from call {first['calls']} to call {last['calls']}:")
    print(f"  RSS {summary['rss_growth_mb']:+.1f} MB (peak RSS {peak_rss:.0f} MB), Python heap "
          f"{summary['python_heap_growth_mb']:+.3f} MB (peak {summary['peak_python_heap_mb']:.2f} MB), "
          f"live tensors {summary['live_tensor_growth']:+d}, hooks left {summary['hooks_left']}")
    print(describe(info))
    results = {"machine": info, "config": vars(args) | {"json": None}, "checkpoints": points, "summary": summary}
    write_json(args.json, results)
    return results


if __name__ == "__main__":
    main()
