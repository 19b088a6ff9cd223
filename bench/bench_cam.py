"""Benchmark: top-k CAMs + boxes on EfficientNet-Lite0 against the plain forward pass and the peers.

Times, per batch of real photos (224x224) and interleaved round-robin on the same model:

- ``forward``: the plain forward pass (``torch.inference_mode``), the baseline of target 1;
- ``camlib CAM + boxes``: ``cam(x, topk=5).boxes()``, maps at 7x7 plus the paper's 20% boxes on
  the maps upsampled to 224x224 (target 1: at most 3% above ``forward``);
- ``camlib CAM + 224 maps + boxes``: the same, also keeping the 224x224 maps;
- ``camlib CAM``: the maps only;
- ``torchcam CAM`` and ``grad-cam GradCAM`` on the same GAP layer, the same top-k classes and
  inputs, without any boxes. Target 2, end to end, was camlib with boxes at least 3x faster than
  each peer; against torchcam it cannot be met, because both spend nearly all their time in the same
  forward pass. What camlib controls is the work after it, so target 2 is also stated there: camlib's
  top-k maps at least 3x faster than torchcam's same maps once the features are computed.

Before timing, it checks that the peers' maps agree with camlib's (Pearson correlation of each
map after the same normalisation), and it also times the work after the forward pass alone.

    python bench/bench_cam.py [--batch 32] [--repeats 7] [--peer-repeats 3] [--json out.json]
    python bench/bench_cam.py --device cuda --batch 256    # GPU throughput
"""
from __future__ import annotations

import argparse
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import GapView, after_forward_gains, describe, interleaved, machine, photo_batch, synchronizer, write_json  # noqa: E402

from camlib.cam.box_rules import boxes_from_cams, boxes_from_cams_opencv  # noqa: E402
from camlib.cam import CAM, cam_boxes, class_activation_maps, normalize_maps, upsample  # noqa: E402
from camlib.models import load_pretrained  # noqa: E402


@dataclass
class Peer:
    """A peer's top-k maps for a batch, and (torchcam) its map step after a forward pass."""

    run: Callable[[torch.Tensor], object]
    after_forward: Callable[[torch.Tensor], Callable[[], object]] | None = None


def peers(model: torch.nn.Module, topk: int) -> dict[str, Peer]:
    """The installed peers, each on its own :class:`GapView` of ``model`` (same weights)."""
    found = {}
    try:
        from torchcam.methods import CAM as TorchcamCAM
    except ImportError:
        TorchcamCAM = None
    if TorchcamCAM is not None:
        tc_view = GapView(model).eval()
        extractor = TorchcamCAM(tc_view, target_layer=tc_view.features, fc_layer=tc_view.fc)

        def maps_of(logits: torch.Tensor) -> torch.Tensor:
            classes = logits.topk(topk, dim=1).indices
            return torch.stack([extractor(class_idx=classes[:, r].tolist(), scores=logits)[0]
                                for r in range(topk)], dim=1)  # (B, k, 7, 7), min-max normalised

        def torchcam_maps(x: torch.Tensor) -> torch.Tensor:
            with torch.inference_mode():
                return maps_of(tc_view(x))

        def torchcam_after_forward(x: torch.Tensor) -> Callable[[], torch.Tensor]:
            with torch.inference_mode():
                logits = tc_view(x)  # hooks the features once

            def step() -> torch.Tensor:
                with torch.inference_mode():
                    return maps_of(logits)
            return step

        found["torchcam CAM"] = Peer(torchcam_maps, torchcam_after_forward)
    try:
        from pytorch_grad_cam import GradCAM
        from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
    except ImportError:
        GradCAM = None
    if GradCAM is not None:
        gc_view = GapView(model).eval()
        gradcam = GradCAM(model=gc_view, target_layers=[gc_view.features])

        def gradcam_maps(x: torch.Tensor) -> np.ndarray:
            maps = [gradcam(input_tensor=x, targets=None)]  # top-1; its outputs give the other ranks
            classes = gradcam.outputs.topk(topk, dim=1).indices
            for r in range(1, topk):
                maps.append(gradcam(input_tensor=x, targets=[ClassifierOutputTarget(int(c)) for c in classes[:, r]]))
            return np.stack(maps, axis=1)  # (B, k, 224, 224), ReLU'd, min-max normalised

        found["grad-cam GradCAM"] = Peer(gradcam_maps)
    return found


def correlations(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson correlation of each map pair of ``(..., H, W)`` arrays."""
    a = a.reshape(-1, a.shape[-2] * a.shape[-1]).astype(np.float64)
    b = b.reshape(-1, b.shape[-2] * b.shape[-1]).astype(np.float64)
    a -= a.mean(axis=1, keepdims=True)
    b -= b.mean(axis=1, keepdims=True)
    return (a * b).sum(axis=1) / np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))


def agreement(cam: CAM, found: dict[str, Peer], x: torch.Tensor, topk: int) -> dict:
    """Do the peers compute camlib's maps? torchcam: normalised 7x7 maps; GradCAM: ReLU, then
    normalised and upsampled (its order of operations), compared with camlib's maps treated alike."""
    result = cam(x, topk=topk)
    out = {}
    for name, peer in found.items():
        maps = peer.run(x)
        if name.startswith("torchcam"):
            ours = normalize_maps(result.maps)
        else:
            ours = normalize_maps(upsample(normalize_maps(F.relu(result.maps)), result.input_size))
        r = correlations(ours.cpu().numpy(), np.asarray(maps.cpu() if torch.is_tensor(maps) else maps))
        out[name] = {"min_correlation": float(r.min()), "mean_correlation": float(r.mean()), "maps": int(r.size),
                     "agree": bool(r.min() > 0.999)}
    return out


def summarise(times: dict[str, dict[str, list[float]]], batch: int, base: str = "forward") -> dict:
    """Median wall/CPU seconds, images/s and the medians of per-round ratios to ``base``."""
    out = {}
    for name, t in times.items():
        row = {"rounds": len(t["wall"])}
        for clock in ("wall", "cpu"):
            ts, bs = t[clock], times[base][clock]
            suffix = "" if clock == "wall" else "_cpu"
            row[f"median_s{suffix}"] = statistics.median(ts)
            row[f"ratio_to_forward{suffix}"] = statistics.median(a / b for a, b in zip(ts, bs))
            row[f"times_s{suffix}"] = ts
        row["images_per_s"] = batch / row["median_s"]
        out[name] = row
    return out


def speedups(times: dict[str, dict[str, list[float]]], ours: str, peer_names: list[str]) -> dict[str, float]:
    """Median over rounds of peer time / camlib time (wall clock, both measured in the same round)."""
    return {name: statistics.median(p / o for p, o in zip(times[name]["wall"], times[ours]["wall"])) for name in peer_names}


def print_table(title: str, rows: dict, extra: dict[str, float]) -> None:
    print(f"\n{title}")
    print(f"{'method':<32}{'rounds':>7}{'median ms':>11}{'images/s':>10}{'x forward':>11}{'CPU ms':>10}"
          f"{'x forward':>11}{'camlib faster':>15}")
    print(f"{'':<32}{'':>7}{'(wall)':>11}{'(wall)':>10}{'(wall)':>11}{'':>10}{'(CPU)':>11}{'(wall)':>15}")
    for name, row in rows.items():
        gain = f"{extra[name]:.2f}x" if name in extra else ""
        print(f"{name:<32}{row['rounds']:>7}{1e3 * row['median_s']:>11.1f}{row['images_per_s']:>10.1f}"
              f"{row['ratio_to_forward']:>11.4f}{1e3 * row['median_s_cpu']:>10.1f}{row['ratio_to_forward_cpu']:>11.4f}{gain:>15}")


def post_forward(cam: CAM, found: dict[str, Peer], x: torch.Tensor, topk: int, threshold: float, repeats: int,
                 sync: Callable[[], None]) -> dict:
    """Times of the work after the forward pass (features and logits already computed)."""
    with torch.inference_mode():
        features = cam.features(x)
        weight = cam.head.classifier.weight
        logits = cam.head.classifier(features.mean(dim=(2, 3)))
        classes = logits.topk(topk, dim=1).indices
        maps = class_activation_maps(features, weight, classes)
        up = upsample(maps, tuple(x.shape[-2:]))
    size = tuple(x.shape[-2:])
    methods = {
        "camlib maps (one bmm)": lambda: class_activation_maps(features, weight, classes),
        "upsample to 224 (F.interpolate)": lambda: upsample(maps, size),
        "camlib boxes from 7x7 maps": lambda: cam_boxes(maps, size, threshold),
        "camlib boxes from 224 maps": lambda: boxes_from_cams(up, threshold),
        "OpenCV per-map boxes from 224 maps": lambda: boxes_from_cams_opencv(up, threshold),
    }
    methods.update({f"{name} after forward": peer.after_forward(x) for name, peer in found.items() if peer.after_forward})
    with torch.inference_mode():
        for method in methods.values():  # warm-up
            method()
        times = interleaved(methods, {name: repeats for name in methods}, sync)
    return {name: {"median_s": statistics.median(t["wall"]), "median_s_cpu": statistics.median(t["cpu"]),
                   "times_s": t["wall"], "times_s_cpu": t["cpu"]} for name, t in times.items()}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--batch", type=int, default=None, help="images per batch (default 32 on cpu, 256 on cuda)")
    parser.add_argument("--repeats", type=int, default=7, help="interleaved rounds")
    parser.add_argument("--peer-repeats", type=int, default=3, help="rounds that include GradCAM (5 forward+backward passes)")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--topk", type=int, default=5)
    parser.add_argument("--threshold", type=float, default=0.2)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    args = parser.parse_args(argv)

    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    batch = args.batch or (256 if device.type == "cuda" else 32)
    classifier = load_pretrained("efficientnet-lite0")
    model = classifier.model.to(device)
    x = photo_batch(classifier, batch).to(device)
    sync = synchronizer(device)
    found = {} if args.no_peers else peers(model, args.topk)

    with CAM(model) as cam:
        def forward() -> torch.Tensor:
            with torch.inference_mode():
                return model(x)

        def camlib_boxes() -> np.ndarray:
            return cam(x, topk=args.topk).boxes(args.threshold)

        def camlib_maps_and_boxes() -> tuple:
            up = cam(x, topk=args.topk).upsampled()
            return up, boxes_from_cams(up, args.threshold)

        ours = "camlib CAM + boxes"
        methods = {"forward": forward, ours: camlib_boxes, "camlib CAM + 224 maps + boxes": camlib_maps_and_boxes,
                   "camlib CAM (7x7 maps)": lambda: cam(x, topk=args.topk),
                   **{name: (lambda peer=peer: peer.run(x)) for name, peer in found.items()}}
        check = agreement(cam, found, x, args.topk)  # also the peers' warm-up
        for _ in range(args.warmup):
            for name in methods:
                if name not in found:
                    methods[name]()
        repeats = {name: args.peer_repeats if "GradCAM" in name else args.repeats for name in methods}
        times = interleaved(methods, repeats, sync)
        after = post_forward(cam, found, x, args.topk, args.threshold, max(args.repeats, 11), sync)

    info = machine(device)
    rows = summarise(times, batch)
    gains = speedups(times, ours, list(found))
    overhead = rows[ours]["ratio_to_forward"] - 1
    overhead_cpu = rows[ours]["ratio_to_forward_cpu"] - 1
    after_gains = after_forward_gains(after)
    results = {
        "machine": info,
        "config": {"batch": batch, "image_size": list(x.shape[-2:]), "topk": args.topk, "threshold": args.threshold,
                   "repeats": args.repeats, "peer_repeats": args.peer_repeats, "warmup": args.warmup,
                   "model": "efficientnet-lite0"},
        "methods": rows,
        "peer_agreement": check,
        "camlib_speedup": gains,
        "after_forward": after,
        "targets": {
            "cam_boxes_overhead": {"value": overhead, "target": 0.03, "met": overhead <= 0.03,
                                   "value_cpu_time": overhead_cpu},
            **{f"faster_than_{name}": {"value": g, "target": 3.0, "met": g >= 3.0} for name, g in gains.items()},
            **({"after_forward_faster_than_torchcam": {"value": after_gains["maps"], "target": 3.0,
                                                       "met": after_gains["maps"] >= 3.0,
                                                       "with_boxes": after_gains["maps + boxes"]}} if after_gains else {}),
        },
    }

    print(f"Top-{args.topk} CAMs + boxes, EfficientNet-Lite0, batch {batch} x 3 x {x.shape[-2]} x {x.shape[-1]}, "
          f"{device}; medians over interleaved rounds after {args.warmup} warm-up round(s)")
    print_table("per batch", rows, gains)
    print("\nwork after the forward pass (features already computed)")
    for name, row in after.items():
        print(f"  {name:<40}{1e3 * row['median_s']:>10.2f} ms wall {1e3 * row['median_s_cpu']:>10.2f} ms CPU")
    for name, row in check.items():
        print(f"\n{name} vs camlib maps: correlation min {row['min_correlation']:.6f}, mean {row['mean_correlation']:.6f} "
              f"over {row['maps']} maps -> {'agree' if row['agree'] else 'DISAGREE'}")
    print(f"\ntarget 1: CAM + boxes cost {100 * overhead:+.2f}% vs the forward pass (target <= +3%): "
          f"{'met' if overhead <= 0.03 else 'not met'} (CPU time: {100 * overhead_cpu:+.2f}%)")
    for name, g in gains.items():
        print(f"target 2: camlib CAM + boxes is {g:.2f}x faster than {name} (target >= 3x): {'met' if g >= 3 else 'not met'}")
    if after_gains:
        print(f"target 2 after the forward pass: camlib's top-{args.topk} maps are {after_gains['maps']:.2f}x faster than "
              f"torchcam's (target >= 3x): {'met' if after_gains['maps'] >= 3 else 'not met'}; "
              f"with camlib's boxes added, {after_gains['maps + boxes']:.2f}x")
    print(describe(info))
    write_json(args.json, results)
    return results


if __name__ == "__main__":
    main()
