"""Tables 1-3 at CPU scale: ImageNet networks converted the paper's way and fine-tuned on photographed objects.

Each row is EfficientNet-Lite0 (ImageNet weights, packaged) cut where its map is 14x14 at 224 px, as the
paper cut VGG and GoogLeNet, given the row's head (:func:`camlib.models.heads.paper_head`) and fine-tuned
with the whole stride-16 stage below it (:mod:`camlib.training.finetune`); the 7x7 row keeps the network's own
stride-32 blocks. The data are composites of photographed objects in coarse classes (mammal, bird,
fruit...), split by stamp so that no test object was seen in training, at ILSVRC's object sizes. Every
row and seed was trained once by ``python -m camlib.commands.retrain`` and ships as a checkpoint
(:mod:`camlib.training.checkpoints`); the :data:`GPU` scale fine-tunes every block on ten times the composites
instead. The frozen layers below the tuned ones are the same in every network, so a memo
(:class:`camlib.models.trunks.MemoTrunk`) runs them once per test batch for all rows.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd
from torch import nn

from camlib.chapters.ch04_trained_networks.claims_table import Roles
from camlib.chapters.ch04_trained_networks.results import Classification, Examples, Results
from camlib.data.generators.composites import CompositeSpec, CompositeSplit, largest_box_shares, load_composites
from camlib.data.assets.paths import cache_dir
from camlib.utils.errors import CamlibError
from camlib.evaluation.batches import EvalBatch, composite_batches
from camlib.evaluation.evaluate import evaluate, gt_known_record
from camlib.training.finetune import (NETWORK, TUNED_SEEDS, TUNED_TEST_IMAGES, TUNED_TRAIN_IMAGES, TUNED_WIDTH, Conversion,
                             ConvertedNet, convert, fine_tune, shipped_tuned, tuned_key, tuned_name, tuned_training)
from camlib.training.stamp_groups import group_composites, group_names
from camlib.methods.map_methods import BackpropMaps, CAMMaps, CentreMaps
from camlib.models.gap import count_parameters
from camlib.models.pretrained import PretrainedClassifier, load_pretrained
from camlib.models.trunks import MemoTrunk
from camlib.utils.progress import progress
from camlib.utils.repro import default_device
from camlib.training.train import TrainConfig, TrainResult
from camlib.metrics.bootstrap import RESAMPLES

#: Table 1 rows: display name -> (head kind of :func:`camlib.models.heads.paper_head`, output stride of the map).
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


@dataclass(frozen=True)
class Scale:
    """The benchmark (``train_images``/``test_images`` composites of :func:`camlib.training.stamp_groups.group_composites`),
    the ``seeds``, the training rule (``None``: each row's shipped rule, :func:`camlib.training.finetune.tuned_training`), the first stride whose blocks are fine-tuned (16: the stride-16 stage,
    the CPU way; 2: every block but the stem, a GPU's), and how many test images the backprop rows score (the
    first ``backprop_images``: a gradient per image)."""

    train_images: int = TUNED_TRAIN_IMAGES
    test_images: int = TUNED_TEST_IMAGES
    seeds: tuple[int, ...] = TUNED_SEEDS
    config: TrainConfig | None = None
    tune_from_stride: int = 16
    backprop_images: int = 48
    batch_size: int = 32
    resamples: int = RESAMPLES
    seed: int = 0

    def __post_init__(self):
        if min(self.train_images, self.test_images) < 10 or not self.seeds:
            raise CamlibError("need at least 10 train and test images and one seed")
        if not 2 <= self.backprop_images <= self.test_images:
            raise CamlibError(f"backprop_images must lie in [2, test_images={self.test_images}]")

    @property
    def spec(self) -> CompositeSpec:
        """The composites."""
        return group_composites(self.train_images, self.test_images, self.seed)

    def conversion(self, row: str) -> Conversion:
        """How ``row``'s network is converted (:data:`NETWORKS`) at this scale."""
        kind, stride = NETWORKS[row]
        return Conversion(kind=kind, map_stride=stride, width=TUNED_WIDTH, tune_from_stride=self.tune_from_stride)


#: What the chapter reads on 2 CPU cores: the shipped networks (:func:`camlib.training.finetune.tuned_recipes`).
CPU = Scale()
#: With a GPU (``CAMLIB_SCALE=gpu``): every block but the stem fine-tuned on ten times the composites, here.
GPU = Scale(train_images=10 * TUNED_TRAIN_IMAGES, test_images=5 * TUNED_TEST_IMAGES, tune_from_stride=2,
            backprop_images=640)


def network(row: str, seed: int, scale: Scale = CPU) -> tuple[ConvertedNet, TrainResult]:
    """``row``'s network trained with ``seed``: shipped at :data:`CPU`; another scale fine-tunes it here,
    resumable from its checkpoint in the cache."""
    kind, stride = NETWORKS[row]
    if scale == CPU:
        return shipped_tuned(kind, stride, seed)
    conversion, config = scale.conversion(row), scale.config or tuned_training(kind)
    name = f"{tuned_name(kind, stride, seed)}-{tuned_key(conversion, seed, config, scale.spec)}"
    net, fit = fine_tune(conversion, seed, config, cache_dir() / "training" / f"{name}.pt", spec=scale.spec)
    return net.to(default_device()), fit


def _images(split: CompositeSplit, rows: np.ndarray, lite: PretrainedClassifier, batch_size: int) -> list[EvalBatch]:
    return list(composite_batches(split, rows, split.size, lite.mean, lite.std, batch_size))


def run(scale: Scale = CPU, examples: int = 6) -> Results:
    """Every row of Tables 1-3, every seed (:func:`network`), evaluated on the test split."""
    test, names, lite = load_composites(scale.spec, progress=False)["test"], group_names(), load_pretrained(NETWORK)
    test_batches = _images(test, np.arange(len(test)), lite, scale.batch_size)
    backprop_batches = _images(test, np.arange(scale.backprop_images), lite, scale.batch_size)
    classification: dict[str, list] = {row: [] for row in NETWORKS}
    localization: dict[str, list] = {row: [] for row in METHODS}
    training: dict[str, list[TrainResult]] = {row: [] for row in NETWORKS}
    methods, memo = {}, None
    jobs = [(seed, row) for seed in scale.seeds for row in NETWORKS]
    for seed, row in progress(jobs, desc="evaluate networks"):
        net, fit = network(row, seed, scale)
        training[row].append(fit)
        # the frozen layers below the tuned ones are the same in every row: run them once per batch
        memo = memo or MemoTrunk(net.low, capacity=len(test_batches) + 1)
        whole = nn.Sequential(memo, net.upper).eval()
        for method_row, (network_row, method) in METHODS.items():
            if network_row != row:
                continue
            batches = backprop_batches if method is BackpropMaps else test_batches
            # gradient saliency pays per class: map the labelled class alone (the same localization errors)
            evaluation = evaluate(method(whole), batches, len(names), released=method is CAMMaps,
                                  true_class_only=method is BackpropMaps)
            localization[method_row].append(evaluation)
            if seed == scale.seeds[0]:
                methods[method_row] = method(whole)
        classification[row].append(Classification.of(localization[row][-1]) if row in localization
                                   else Classification.measure(whole, test_batches))
    first = slice(0, examples)
    rendered = [test.render(i) for i in range(examples)]
    centre = gt_known_record(CentreMaps(), test_batches)
    return Results(
        classification=classification,
        localization=localization,
        centre=centre.compute(),
        paper_rows=PAPER_ROWS,
        roles=ROLES,
        methods=methods,
        examples=Examples(np.stack([image for image, _ in rendered]), test.labels[first],
                          [test.boxes(i) for i in range(examples)], names, lite.mean, lite.std),
        seconds=sum(t.seconds for fits in training.values() for t in fits if not t.loaded),
        training=training,
        largest_box_share=largest_box_shares(test),
        objects=test.objects(),
        centre_record=centre,
    )


def network_table(scale: Scale = CPU) -> pd.DataFrame:
    """The networks: the paper's network each stands for, its CAM map, the parameters fine-tuned (the tuned
    blocks and the head) and the multiply-adds of one pass of the head (the rest costs the same in every row
    but the 7x7 one, which adds Lite0's stride-32 blocks)."""
    lite, rows = load_pretrained(NETWORK), []
    for row, (kind, stride) in NETWORKS.items():
        upper = convert(lite.model, scale.conversion(row), len(group_names())).upper
        side, head = 224 // stride, upper.head
        macs = sum(m.weight.numel() * side * side for m in head.modules() if isinstance(m, nn.Conv2d))
        macs += sum(m.weight.numel() for m in head.modules() if isinstance(m, nn.Linear))
        cam = "none (fc head)" if kind == "fc" else f"{side}x{side}"
        rows.append((row, PAPER_ROWS["table1"][row], cam, count_parameters(upper.tuned), count_parameters(head),
                     round(macs / 1e6, 1)))
    return pd.DataFrame(rows, columns=["network", "stands for", "CAM map", "tuned block parameters", "head parameters",
                                       "head MMACs per image"]).set_index("network")


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
    """Per network and seed: optimizer steps, the last epoch's training loss and running training error (%, in train
    mode: dropout on), the trained network's training error in eval mode (the convergence test) and the training time
    in minutes (of the run that made a shipped checkpoint, as its record says)."""
    rows = {}
    for row, fits in training.items():
        for k, fit in enumerate(fits):
            last = fit.history[-1]
            rows[(row, k)] = {"steps": fit.steps, "final loss": last["loss"], "final train error": 100.0 - last["accuracy"],
                              "train error (eval mode)": fit.fitted_error, "minutes": fit.seconds / 60}
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.names = ["network", "seed"]
    return frame


def seed_mean_columns(results: Results, rows: tuple[str, ...]) -> dict[str, Callable[[np.ndarray], float]]:
    """For each of ``rows``, its top-1 loc error (20% rule) and MaxBoxAccV2 on given test images, means over seeds: the
    columns of :func:`camlib.book.paper_tables.size_bin_table`."""
    columns = {}
    for row in rows:
        runs = results.localization[row]
        columns[f"{row}: top-1 loc err"] = lambda m, runs=runs: float(np.mean([e.per_image.paper.compute(m).top1_error for e in runs]))
        columns[f"{row}: MaxBoxAccV2"] = lambda m, runs=runs: float(np.mean([e.per_image.gt_known.v2.compute(m).value for e in runs]))
    return columns
