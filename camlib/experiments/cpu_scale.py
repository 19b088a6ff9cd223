"""Tables 1-3 at CPU scale: the small networks trained on the generated benchmark, then evaluated.

The benchmark (:mod:`camlib.data.synthetic`) has exact boxes and masks; the networks
(:mod:`camlib.models.small`) mirror the paper's comparisons on one trunk. Trained weights are
cached under ``<data root>/cache/wsol/``, named by a hash of network, training config and data.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import torch
from torch import nn

from ..data.localization import LocalizationDataset, LocalizationSplit
from ..data.paths import cache_dir
from ..data.synthetic import BenchmarkSpec, load_benchmark
from ..models.gap import GapNet, count_parameters
from ..models.small import feature_size, small_network
from ..progress import progress
from ..repro import default_device
from ..train import TrainConfig, TrainResult, run_key, train
from .batches import NORMALIZE, split_batches
from .claims import Roles
from .evaluate import evaluate, evaluate_centre
from .results import Examples, Results

#: Bump when the networks or the training code change, so that old checkpoints are not reused.
CHECKPOINT_VERSION = 1

#: Table 1 rows: display name -> small network.
NETWORKS = {"GAP": "gap", "GMP": "gmp", "GAP, 4x4 map": "gap-lowres", "GAP + 2 convs": "gap-extra", "fc net": "fc"}
#: Table 2 rows: display name -> (network row, method).
METHODS = {
    "GAP": ("GAP", "cam"),
    "GMP": ("GMP", "cam"),
    "GAP, 4x4 map": ("GAP, 4x4 map", "cam"),
    "GAP + 2 convs": ("GAP + 2 convs", "cam"),
    "Backprop on GAP": ("GAP", "backprop"),
    "Backprop on fc net": ("fc net", "backprop"),
}
#: Our rows -> the paper's rows they stand for (``side_by_side(..., rows=...)``).
PAPER_ROWS = {
    "table1": {"GAP": "GoogLeNet-GAP", "GMP": "GoogLeNet-GMP", "GAP, 4x4 map": "GoogLeNet",
               "GAP + 2 convs": "AlexNet*-GAP", "fc net": "AlexNet"},
    "table2": {"GAP": "GoogLeNet-GAP", "GMP": "GoogLeNet-GMP", "GAP, 4x4 map": "GoogLeNet",
               "GAP + 2 convs": "AlexNet*-GAP", "Backprop on GAP": "Backprop on GoogLeNet",
               "Backprop on fc net": "Backprop on AlexNet"},
    "table3": {"GAP (heuristics)": "GoogLeNet-GAP (heuristics)", "GAP": "GoogLeNet-GAP",
               "Backprop on fc net": "Backprop (Simonyan et al.)"},
}
#: Which rows the claims compare.
ROLES = Roles(gap="GAP", gmp="GMP", low_res="GAP, 4x4 map", extra_convs="GAP + 2 convs", extra_base="GAP",
              fc="fc net", fc_base="GAP", backprop=("Backprop on GAP", "Backprop on fc net"))


#: The chapter's benchmark: 32x32 images (objects 12-24 px, three smaller distractors), 10 classes.
DEFAULT_SPEC = BenchmarkSpec(canvas_size=32, object_size=(12, 24), n_distractors=3, distractor_size=(5, 10),
                             n_train=4000, n_val=100, n_test=1000)
#: Every network is trained from scratch the same way (random flips only).
DEFAULT_CONFIG = TrainConfig(epochs=30, batch_size=32, optimizer="adam", lr=0.002, weight_decay=0.0)


@dataclass(frozen=True)
class CpuScale:
    """Everything that determines the CPU-scale results: benchmark, training and seed."""

    spec: BenchmarkSpec = DEFAULT_SPEC
    config: TrainConfig = DEFAULT_CONFIG
    seed: int = 0


def network_table(scale: CpuScale = CpuScale()) -> pd.DataFrame:
    """The networks: the paper's network each stands for, its last conv map and its parameter count."""
    size, num_classes = scale.spec.canvas_size, len(scale.spec.classes)
    rows = []
    for row, name in NETWORKS.items():
        model = small_network(name, num_classes, input_size=size, seed=scale.seed)
        side = "x".join(map(str, feature_size(model, size))) if isinstance(model, GapNet) else "none (fc head)"
        rows.append((row, PAPER_ROWS["table1"][row], side, count_parameters(model)))
    return pd.DataFrame(rows, columns=["network", "stands for", "CAM map", "parameters"]).set_index("network")


def checkpoint_path(scale: CpuScale, network: str) -> str:
    """Where the trained ``network`` of ``scale`` is cached. The name also depends on the device type
    and the CPU thread count, which change the trained weights' last bits."""
    key = run_key(network=network, config=scale.config, data=scale.spec.key(), seed=scale.seed, version=CHECKPOINT_VERSION,
                  device=default_device().type, threads=torch.get_num_threads())
    return str(cache_dir() / "wsol" / f"{network}-{key}.pt")


def train_networks(scale: CpuScale, train_split: LocalizationSplit) -> tuple[dict[str, nn.Module], dict[str, TrainResult]]:
    """Train (or load) every network of :data:`NETWORKS`; one progress bar over the networks."""
    dataset = LocalizationDataset(train_split, NORMALIZE)
    size, num_classes = train_split.images.shape[1], len(train_split.class_names)
    models, results = {}, {}
    for row, name in progress(NETWORKS.items(), desc="train networks", total=len(NETWORKS)):
        model = small_network(name, num_classes, input_size=size, seed=scale.seed)
        results[row] = train(model, dataset, scale.config, checkpoint=checkpoint_path(scale, name), show_progress=False)
        models[row] = model
    return models, results


def run(scale: CpuScale = CpuScale(), examples: int = 6) -> Results:
    """Train (or load) the networks and evaluate every row of Tables 1-3 on the test split."""
    splits = load_benchmark(scale.spec, progress=False)
    test = splits["test"]
    num_classes = len(test.class_names)
    models, training = train_networks(scale, splits["train"])
    pairs = list(dict.fromkeys(METHODS.values()))  # (network row, method), each evaluated once
    by_pair = {(network, method): evaluate(models[network], split_batches(test), num_classes, method,
                                           released=method == "cam")
               for network, method in progress(pairs, desc="evaluate")}
    first = slice(0, examples)
    return Results(
        classification={row: by_pair[row, "backprop" if row == "fc net" else "cam"] for row in NETWORKS},
        localization={row: by_pair[pair] for row, pair in METHODS.items()},
        centre=evaluate_centre(split_batches(test)),
        paper_rows=PAPER_ROWS,
        roles=ROLES,
        methods={row: (models[network], method) for row, (network, method) in METHODS.items()},
        examples=Examples(test.images[first], test.labels[first], [b[None] for b in test.boxes[first]], test.class_names),
        seconds=sum(t.seconds for t in training.values()),
        training=training,
    )
