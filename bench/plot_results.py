"""Draw the book's performance figure (``book/images/performance.png``) from a run_all.py JSON file.

    python bench/plot_results.py [--results bench/results/cpu.json] [--out book/images/performance.png]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import after_forward_gains  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OURS = "camlib CAM + boxes"
WITH_MAPS = "camlib CAM + 224 maps + boxes"


def per_batch(ax, cam: dict) -> None:
    """Each method's median time per batch as a multiple of the plain forward pass (log scale)."""
    rows = cam["methods"]
    names = list(rows)[::-1]
    ratios = [rows[n]["ratio_to_forward"] for n in names]
    colors = ["tab:orange" if n.startswith("camlib") else "tab:gray" if n == "forward" else "tab:blue" for n in names]
    ax.barh(names, ratios, color=colors)
    ax.set_xscale("log")
    ax.axvline(1.03, color="tab:red", linestyle="--", linewidth=1, label="target: forward + 3%")
    for y, (name, r) in enumerate(zip(names, ratios)):
        ms = 1e3 * rows[name]["median_s"]
        speedup = cam["camlib_speedup"].get(name)
        label = (f" x{r:.3f} wall, x{rows[name]['ratio_to_forward_cpu']:.3f} CPU  ({ms:,.0f} ms)"
                 + (f"  camlib {speedup:.1f}x faster" if speedup else ""))
        ax.text(r, y, label, va="center", fontsize=8)
    ax.set_xlim(0.5, max(ratios) * 3000)
    config = cam["config"]
    verdicts = "; ".join(f"{name}: {'met' if rows[name]['ratio_to_forward'] <= 1.03 else 'missed'}"
                         for name in (OURS, WITH_MAPS) if name in rows)
    ax.set_title(f"Top-{config['topk']} CAMs (+ boxes) per batch of {config['batch']}, EfficientNet-Lite0: "
                 f"time / forward pass (median of per-round ratios)\ntarget 1 (at most forward + 3%): {verdicts}",
                 fontsize=9)
    ax.legend(loc="lower right", fontsize=8)


def after_forward(ax, cam: dict) -> None:
    """Median wall and CPU milliseconds of the steps that follow the forward pass."""
    rows = cam["after_forward"]
    names = list(rows)[::-1]
    positions = range(len(names))
    for offset, key, label, alpha in ((0.2, "median_s", "wall", 1.0), (-0.2, "median_s_cpu", "CPU", 0.45)):
        ms = [1e3 * rows[n][key] for n in names]
        colors = ["tab:blue" if "torchcam" in n else "tab:orange" for n in names]
        ax.barh([p + offset for p in positions], ms, height=0.4, color=colors, alpha=alpha, label=label)
        for y, v in zip(positions, ms):
            ax.text(v, y + offset, f" {v:.1f} ms {label}", va="center", fontsize=7)
    ax.set_yticks(list(positions), names)
    ax.set_xlim(0, max(1e3 * rows[n]["median_s"] for n in names) * 1.35)
    gains = after_forward_gains(rows)
    target = (f"\ntarget 2 after the forward pass (at least 3x): camlib's maps {gains['maps']:.1f}x faster than "
              f"torchcam's: {'met' if gains['maps'] >= 3 else 'missed'}\ncamlib's maps and boxes "
              f"{gains['maps + boxes']:.1f}x faster than torchcam's maps alone" if gains else "")
    ax.set_title("Work after the forward pass (features already computed), ms: wall (dark) and CPU (light)" + target,
                 fontsize=9)


def memory(ax, mem: dict) -> None:
    """RSS and live tensors over the repeated calls."""
    points = mem["checkpoints"]
    calls = [p["calls"] for p in points]
    ax.plot(calls, [p["rss_mb"] for p in points], marker="o", color="tab:orange", label="RSS (MB)")
    ax.set_xlabel("calls of `with CAM(model) as cam: cam(x, topk=5).boxes()`")
    ax.set_ylabel("RSS (MB)")
    twin = ax.twinx()
    twin.plot(calls, [p["live_tensors"] for p in points], marker="s", color="tab:blue", label="live tensors")
    twin.set_ylabel("live tensors")
    summary = mem["summary"]
    ax.set_title(f"Memory over repeated calls: RSS {summary['rss_growth_mb']:+.1f} MB, live tensors "
                 f"{summary['live_tensor_growth']:+d}, hooks left {summary['hooks_left']} "
                 f"(from call {summary['measured_from_calls']}); peak RSS {summary['peak_rss_mb']:.0f} MB", fontsize=9)
    lines = ax.get_legend_handles_labels()[0] + twin.get_legend_handles_labels()[0]
    ax.legend(lines, [line.get_label() for line in lines], loc="lower right", fontsize=8)
    ax.set_ylim(0, max(p["rss_mb"] for p in points) * 1.2)
    twin.set_ylim(0, max(p["live_tensors"] for p in points) * 1.5)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results" / "cpu.json")
    parser.add_argument("--out", type=Path, default=ROOT / "book" / "images" / "performance.png")
    args = parser.parse_args(argv)
    results = json.loads(args.results.read_text())
    cam = results["bench_cam"]["results"]
    mem = results["bench_memory"]["results"]
    fig, axes = plt.subplots(3, 1, figsize=(10, 11), gridspec_kw={"height_ratios": [1.2, 1, 0.9]})
    per_batch(axes[0], cam)
    after_forward(axes[1], cam)
    memory(axes[2], mem)
    m = cam["machine"]
    load = ", ".join(f"{x:.1f}" for x in m["load_average"])
    when = {name: f"{results[name].get('created', results['created'])} ({results[name].get('revision', results['revision'])})"
            for name in ("bench_cam", "bench_memory")}
    fig.suptitle(f"{m['cpu']}, {m['cpu_count']} cores, {m['torch_threads']} torch threads, load average {load}; "
                 f"torch {m['torch']}\ntimings {when['bench_cam']}, memory {when['bench_memory']}", fontsize=8)
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
