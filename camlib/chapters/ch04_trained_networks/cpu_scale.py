"""Tables 1-3 at CPU scale: the small networks trained on the generated benchmark, then evaluated.

The benchmark (:mod:`camlib.data.synthetic`) has exact boxes and masks; the networks
(:mod:`camlib.models.small`) mirror the paper's comparisons on one trunk; :mod:`camlib.benchmark_networks`
trains and caches them.
"""
from __future__ import annotations

import pandas as pd
from torch import nn

from camlib.benchmark_networks import CpuScale, trained_network
from camlib.chapters.ch04_trained_networks.claims_table import Roles
from camlib.chapters.ch04_trained_networks.results import Examples, Results
from camlib.data.localization_split import LocalizationSplit
from camlib.data.synthetic import load_benchmark
from camlib.eval_batches import split_batches
from camlib.evaluation import evaluate, evaluate_gt_known
from camlib.map_methods import BackpropMaps, CAMMaps, CentreMaps
from camlib.models.gap import GapNet, count_parameters
from camlib.models.small import feature_size, small_network
from camlib.progress import progress
from camlib.train import TrainResult

#: Table 1 rows: display name -> small network.
NETWORKS = {"GAP": "gap", "GMP": "gmp", "GAP, 4x4 map": "gap-lowres", "GAP + 2 convs": "gap-extra", "fc net": "fc"}
#: Table 2 rows: display name -> (network row, map method).
METHODS = {
    "GAP": ("GAP", CAMMaps),
    "GMP": ("GMP", CAMMaps),
    "GAP, 4x4 map": ("GAP, 4x4 map", CAMMaps),
    "GAP + 2 convs": ("GAP + 2 convs", CAMMaps),
    "Backprop on GAP": ("GAP", BackpropMaps),
    "Backprop on fc net": ("fc net", BackpropMaps),
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


def network_table(scale: CpuScale = CpuScale()) -> pd.DataFrame:
    """The networks: the paper's network each stands for, its last conv map and its parameter count."""
    size, num_classes = scale.spec.canvas_size, len(scale.spec.classes)
    rows = []
    for row, name in NETWORKS.items():
        model = small_network(name, num_classes, input_size=size, seed=scale.seed)
        side = "x".join(map(str, feature_size(model, size))) if isinstance(model, GapNet) else "none (fc head)"
        rows.append((row, PAPER_ROWS["table1"][row], side, count_parameters(model)))
    return pd.DataFrame(rows, columns=["network", "stands for", "CAM map", "parameters"]).set_index("network")


def train_networks(scale: CpuScale, train_split: LocalizationSplit) -> tuple[dict[str, nn.Module], dict[str, TrainResult]]:
    """Train (or load) every network of :data:`NETWORKS`; one progress bar over the networks."""
    models, results = {}, {}
    for row, name in progress(NETWORKS.items(), desc="train networks", total=len(NETWORKS)):
        models[row], results[row] = trained_network(scale, name, train_split)
    return models, results


def run(scale: CpuScale = CpuScale(), examples: int = 6) -> Results:
    """Train (or load) the networks and evaluate every row of Tables 1-3 on the test split."""
    splits = load_benchmark(scale.spec, progress=False)
    test = splits["test"]
    num_classes = len(test.class_names)
    models, training = train_networks(scale, splits["train"])
    pairs = list(dict.fromkeys(METHODS.values()))  # (network row, method), each evaluated once
    by_pair = {(network, method): evaluate(method(models[network].eval()), split_batches(test), num_classes,
                                           released=method is CAMMaps)
               for network, method in progress(pairs, desc="evaluate")}
    first = slice(0, examples)
    return Results(
        classification={row: by_pair[row, BackpropMaps if row == "fc net" else CAMMaps] for row in NETWORKS},
        localization={row: by_pair[pair] for row, pair in METHODS.items()},
        centre=evaluate_gt_known(CentreMaps(), split_batches(test)),
        paper_rows=PAPER_ROWS,
        roles=ROLES,
        methods={row: method(models[network]) for row, (network, method) in METHODS.items()},
        examples=Examples(test.images[first], test.labels[first], [b[None] for b in test.boxes[first]], test.class_names),
        seconds=sum(t.seconds for t in training.values()),
        training=training,
    )
