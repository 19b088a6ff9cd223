"""Shared pieces of the benchmarks: the machine description, real input batches, the Lite0 model
with its GAP features exposed as a named layer (for the peers), and interleaved timing."""
from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path
from typing import Callable

import cv2
import numpy as np
import torch
from PIL import Image
from torch import nn

from camlib.data.assets.packages import imagenet_samples
from camlib.models.pretrained import PretrainedClassifier
from camlib.models.preprocess import preprocess


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux), else what ``platform`` knows."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def machine(device: torch.device) -> dict:
    """What the numbers were measured on (printed under every table and stored in the JSON)."""
    info = {
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "opencv": cv2.__version__,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "device": str(device),
    }
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    return info


def describe(info: dict) -> str:
    """One line for the console."""
    gpu = f", GPU {info['gpu']}" if "gpu" in info else ""
    load = ", ".join(f"{x:.1f}" for x in info["load_average"])
    return (f"machine: {info['cpu']}, {info['cpu_count']} cores, {info['torch_threads']} torch threads{gpu}, "
            f"load average {load}; torch {info['torch']}, numpy {info['numpy']}, opencv {info['opencv']}, "
            f"python {info['python']}")


def photo_batch(classifier: PretrainedClassifier, batch: int) -> torch.Tensor:
    """``(batch, 3, 224, 224)`` real photos: the 20 ImageNet samples and their mirror images, cycled."""
    tensors = []
    for path, _ in imagenet_samples():
        with Image.open(path) as img:
            tensor, _ = preprocess(img.convert("RGB"), classifier.mean, classifier.std, classifier.resize, classifier.crop)
        tensors += [tensor, tensor.flip(-1)]
    return torch.stack([tensors[i % len(tensors)] for i in range(batch)])


class GapView(nn.Module):
    """EfficientNet-Lite with the same forward pass, but its GAP input is the output of a named
    layer (``features``) and its classifier is ``fc``: the peers hook layers by name. Each view
    has its own ``features`` and pooling layers, so hooks on one view never fire in another."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.backbone = model
        self.features = nn.Identity()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = model._dropout
        self.fc = model._fc

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = self.pool(self.features(self.backbone.extract_features(x))).flatten(1)
        return self.fc(self.dropout(pooled))


def synchronizer(device: torch.device) -> Callable[[], None]:
    """Waits for queued GPU work (a no-op on the CPU), so a timer measures finished work."""
    if device.type == "cuda":
        return lambda: torch.cuda.synchronize(device)
    return lambda: None


def interleaved(methods: dict[str, Callable[[], object]], repeats: dict[str, int],
                sync: Callable[[], None]) -> dict[str, dict[str, list[float]]]:
    """Wall and process CPU seconds per call of each method, measured round-robin: round ``r`` runs
    every method whose ``repeats`` is above ``r``, starting at a different method each round, so
    slow drifts of a shared machine hit all methods alike. (CPU time counts only the time this
    process ran, so it is less sensitive to other jobs on the machine.)"""
    names = list(methods)
    times: dict[str, dict[str, list[float]]] = {name: {"wall": [], "cpu": []} for name in names}
    for r in range(max(repeats.values())):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            if r >= repeats[name]:
                continue
            sync()
            wall, cpu = time.perf_counter(), time.process_time()
            methods[name]()
            sync()
            times[name]["wall"].append(time.perf_counter() - wall)
            times[name]["cpu"].append(time.process_time() - cpu)
    return times


def write_json(path: Path | None, results: dict) -> None:
    """Store a benchmark's results as JSON at ``path`` (nothing when ``path`` is None, i.e. no ``--json``)."""
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(results, indent=1))


#: The rows of the after-forward timing that the restated peer target compares.
OUR_MAPS, OUR_BOXES, TORCHCAM_AFTER = "camlib maps (one bmm)", "camlib boxes from 7x7 maps", "torchcam CAM after forward"


def after_forward_gains(after: dict) -> dict[str, float]:
    """How many times faster camlib's work after the forward pass is than torchcam's (median wall times):
    ``maps``, the same top-k maps; ``maps + boxes``, camlib's maps and boxes against torchcam's maps alone.
    Empty when torchcam was not timed."""
    if TORCHCAM_AFTER not in after:
        return {}
    theirs = after[TORCHCAM_AFTER]["median_s"]
    maps = after[OUR_MAPS]["median_s"]
    return {"maps": theirs / maps, "maps + boxes": theirs / (maps + after[OUR_BOXES]["median_s"])}
