"""Tables 1-3 at CPU scale: the paper's heads on a frozen ImageNet trunk, trained on photographed objects.

The trunk is EfficientNet-Lite0 (ImageNet weights, packaged) cut where its map is 14x14 at 224 px
(112 channels), as the paper cut VGG and GoogLeNet, and kept frozen (:mod:`camlib.frozen_heads`:
its maps are computed once and cached, each head is trained on them); the 7x7 row continues the
trunk to the network's own 7x7 map. The data are composites of photographed objects in coarse
classes (mammal, bird, fruit...), split by stamp so that no test object was seen in training, at
ILSVRC's object sizes. Every head was trained with every seed until its training loss flattened (the
same rule for all) by ``python -m camlib.book.retrain`` and is shipped as a checkpoint (:mod:`camlib.checkpoints`). Evaluation puts each head back on the real trunk; a memo
(:class:`camlib.models.trunks.MemoTrunk`) runs the trunk once per test batch for all heads.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from torch import nn

from camlib.chapters.ch04_trained_networks.claims_table import Roles
from camlib.chapters.ch04_trained_networks.results import Classification, Examples, Results
from camlib.data.composites import CompositeSpec, CompositeSplit, largest_box_shares
from camlib.data.paths import cache_dir
from camlib.errors import CamlibError
from camlib.eval_batches import EvalBatch, composite_batches
from camlib.evaluation import evaluate, evaluate_gt_known
from camlib.frozen_heads import (
    CPU_SEEDS,
    CPU_TEST_IMAGES,
    CPU_TRAIN_IMAGES,
    CPU_WIDTH,
    HEAD_TRAINING,
    group_composites,
    group_names,
    lite_maps,
    fit_head,
    head_key,
    head_name,
    shipped_head,
)
from camlib.map_methods import BackpropMaps, CAMMaps, CentreMaps
from camlib.models.gap import count_parameters
from camlib.models.heads import on_trunk, paper_head
from camlib.models.pretrained import PretrainedClassifier, load_pretrained
from camlib.models.trunks import MemoTrunk, lite_trunk
from camlib.paper_tables import size_bins
from camlib.progress import progress
from camlib.train import TrainConfig, TrainResult

#: Table 1 rows: display name -> (head kind of :func:`camlib.models.heads.paper_head`, trunk output stride).
NETWORKS = {"GAP": ("gap", 16), "GMP": ("gmp", 16), "GAP, 7x7 map": ("gap", 32), "GAP + 2 convs": ("gap-extra", 16),
            "fc net": ("fc", 16)}
#: Table 2 rows: display name -> (network row, map method).
METHODS = {
    "GAP": ("GAP", CAMMaps),
    "GMP": ("GMP", CAMMaps),
    "GAP, 7x7 map": ("GAP, 7x7 map", CAMMaps),
    "GAP + 2 convs": ("GAP + 2 convs", CAMMaps),
    "Backprop on GAP": ("GAP", BackpropMaps),
    "Backprop on fc net": ("fc net", BackpropMaps),
}
#: Our rows -> the paper's rows of the same design.
PAPER_ROWS = {
    "table1": {"GAP": "GoogLeNet-GAP", "GMP": "GoogLeNet-GMP", "GAP, 7x7 map": "GoogLeNet",
               "GAP + 2 convs": "AlexNet*-GAP", "fc net": "AlexNet"},
    "table2": {"GAP": "GoogLeNet-GAP", "GMP": "GoogLeNet-GMP", "GAP, 7x7 map": "GoogLeNet",
               "GAP + 2 convs": "AlexNet*-GAP", "Backprop on GAP": "Backprop on GoogLeNet",
               "Backprop on fc net": "Backprop on AlexNet"},
    "table3": {"GAP (heuristics)": "GoogLeNet-GAP (heuristics)", "GAP": "GoogLeNet-GAP",
               "Backprop on fc net": "Backprop (Simonyan et al.)"},
}
ROLES = Roles(gap="GAP", gmp="GMP", low_res="GAP, 7x7 map", extra_convs="GAP + 2 convs", extra_base="GAP",
              fc="fc net", fc_base="GAP", backprop=("Backprop on GAP", "Backprop on fc net"))
TRUNK = "efficientnet-lite0"


@dataclass(frozen=True)
class Scale:
    """The benchmark (``train_images``/``test_images`` composites of :func:`camlib.frozen_heads.group_composites`),
    the heads (``width`` units in each head conv), the ``seeds``, the training rule
    (:data:`camlib.frozen_heads.HEAD_TRAINING`) and how many test images the backprop rows score (the
    first ``backprop_images``: gradients need the trunk again)."""

    train_images: int = CPU_TRAIN_IMAGES
    test_images: int = CPU_TEST_IMAGES
    width: int = CPU_WIDTH
    seeds: tuple[int, ...] = CPU_SEEDS
    config: TrainConfig = HEAD_TRAINING
    backprop_images: int = 48
    batch_size: int = 32
    resamples: int = 1000
    seed: int = 0

    def __post_init__(self):
        if min(self.train_images, self.test_images) < 10 or not self.seeds or self.width < 1:
            raise CamlibError("need at least 10 train and test images, one seed and width >= 1")
        if not 2 <= self.backprop_images <= self.test_images:
            raise CamlibError(f"backprop_images must lie in [2, test_images={self.test_images}]")

    @property
    def spec(self) -> CompositeSpec:
        """The composites."""
        return group_composites(self.train_images, self.test_images, self.seed)


#: What the chapter runs on 2 CPU cores; ``FULL`` trains on ten times the images with five seeds (a GPU helps).
CPU = Scale()
FULL = Scale(train_images=9600, test_images=3200, seeds=(0, 1, 2, 3, 4), backprop_images=3200, resamples=1000)


def _images(split: CompositeSplit, rows: np.ndarray, lite: PretrainedClassifier, batch_size: int) -> list[EvalBatch]:
    return list(composite_batches(split, rows, split.size, lite.mean, lite.std, batch_size))


def run(scale: Scale = CPU, examples: int = 6) -> Results:
    """Load every shipped head of every seed (at :data:`CPU`; another scale trains its heads here) and evaluate
    every row of Tables 1-3 on the test split."""
    data = lite_maps(scale.spec, ("train",), (16, 32), TRUNK, scale.batch_size)
    test, names, lite = data.splits["test"], group_names(), data.classifier
    trunk14, trunk7 = data.trunks[16], data.trunks[32]
    memo = MemoTrunk(trunk14, capacity=-(-scale.test_images // scale.batch_size) + 1)
    trunks = {16: memo, 32: nn.Sequential(memo, trunk7)}
    test_batches = _images(test, np.arange(len(test)), lite, scale.batch_size)
    backprop_batches = _images(test, np.arange(scale.backprop_images), lite, scale.batch_size)
    classification: dict[str, list] = {row: [] for row in NETWORKS}
    localization: dict[str, list] = {row: [] for row in METHODS}
    training: dict[str, list[TrainResult]] = {row: [] for row in NETWORKS}
    methods = {}
    jobs = [(seed, row) for seed in scale.seeds for row in NETWORKS]
    for seed, row in progress(jobs, desc="evaluate heads"):
        kind, stride = NETWORKS[row]
        if scale == CPU:
            head, fit = shipped_head(kind, stride, seed, data, scale.width, scale.config)
        else:  # another scale (FULL): trained here, resumable from its checkpoint in the cache
            name = f"{head_name(kind, stride, seed)}-{head_key(kind, stride, seed, data.key, scale.width, scale.config)}"
            head, fit = fit_head(kind, data.maps["train"][stride], data.labels["train"], len(names), seed, scale.width,
                                 scale.config, cache_dir() / "training" / f"{name}.pt", desc=f"{row}, seed {seed}")
        training[row].append(fit)
        network = on_trunk(head, trunks[stride])
        for method_row, (network_row, method) in METHODS.items():
            if network_row != row:
                continue
            batches = backprop_batches if method is BackpropMaps else test_batches
            evaluation = evaluate(method(network), batches, len(names), released=method is CAMMaps)
            localization[method_row].append(evaluation)
            if seed == scale.seeds[0]:
                methods[method_row] = method(network)
        classification[row].append(Classification.of(localization[row][-1]) if row in localization
                                   else Classification.measure(network, test_batches))
    first = slice(0, examples)
    rendered = [test.render(i) for i in range(examples)]
    return Results(
        classification=classification,
        localization=localization,
        centre=evaluate_gt_known(CentreMaps(), test_batches),
        paper_rows=PAPER_ROWS,
        roles=ROLES,
        methods=methods,
        examples=Examples(np.stack([image for image, _ in rendered]), test.labels[first],
                          [test.boxes(i) for i in range(examples)], names, lite.mean, lite.std),
        seconds=sum(t.seconds for fits in training.values() for t in fits if not t.loaded),
        training=training,
        largest_box_share=largest_box_shares(test),
        objects=test.objects(),
    )


def network_table(scale: Scale = CPU) -> pd.DataFrame:
    """The heads: the paper's network each stands for, its CAM map, its trainable parameters and the
    multiply-adds of one forward pass of the head (the frozen trunk's cost is the same for all)."""
    lite = load_pretrained(TRUNK)
    rows = []
    for row, (kind, stride) in NETWORKS.items():
        _, channels = lite_trunk(lite.model, stride)
        side = 224 // stride
        head = paper_head(kind, channels, len(group_names()), side=side, width=scale.width)
        macs = sum(m.weight.numel() * side * side for m in head.modules() if isinstance(m, nn.Conv2d))
        macs += sum(m.weight.numel() for m in head.modules() if isinstance(m, nn.Linear))
        cam = "none (fc head)" if kind == "fc" else f"{side}x{side}"
        rows.append((row, PAPER_ROWS["table1"][row], cam, count_parameters(head), round(macs / 1e6, 1)))
    return pd.DataFrame(rows, columns=["network", "stands for", "CAM map", "head parameters", "head MMACs per image"]).set_index("network")


def benchmark_table(splits: dict[str, CompositeSplit], names: tuple[str, ...]) -> pd.DataFrame:
    """Per group: the distinct objects (stamps) and the images of each split."""
    columns = {}
    for name, split in splits.items():
        group_of_instance = np.repeat(split.labels, np.diff(split.arrays["first"]))
        stamps = split.arrays["stamp"]
        columns[f"{name} objects"] = [len(np.unique(stamps[group_of_instance == g])) for g in range(len(names))]
        columns[f"{name} images"] = np.bincount(split.labels, minlength=len(names))
    return pd.DataFrame(columns, index=list(names))


def training_table(training: dict[str, list[TrainResult]]) -> pd.DataFrame:
    """Per network and seed: the epochs the stopping rule allowed, the last epoch's training loss and
    training error (%)."""
    rows = {}
    for row, fits in training.items():
        for k, fit in enumerate(fits):
            last = fit.history[-1]
            rows[(row, k)] = {"epochs": len(fit.history), "final loss": last["loss"], "final train error": 100.0 - last["accuracy"]}
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.names = ["network", "seed"]
    return frame


def size_bin_table(results: Results, rows: tuple[str, ...], shares: np.ndarray) -> pd.DataFrame:
    """Per largest-box size bin: image count, then for each of ``rows`` the top-1 loc error (20% rule) and
    MaxBoxAccV2, means over seeds."""
    table = {}
    for name, members in size_bins(shares).items():
        entry = {"n": len(members)}
        for row in rows:
            runs = results.localization[row]
            entry[f"{row}: top-1 loc err"] = (float(np.mean([e.per_image.paper.compute(members).top1_error for e in runs]))
                                              if len(members) else np.nan)
            entry[f"{row}: MaxBoxAccV2"] = (float(np.mean([e.per_image.gt_known.v2.compute(members).value for e in runs]))
                                            if len(members) else np.nan)
        table[name] = entry
    return pd.DataFrame.from_dict(table, orient="index")
