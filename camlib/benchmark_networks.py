"""The small networks trained from scratch on the generated localization benchmark, cached.

Two chapters use them: the localization chapter compares their heads (Tables 1-3 at CPU scale) and
the units chapter reads the units of the GAP network. :class:`CpuScale` fixes everything that
determines a trained network (benchmark, training configuration, seed); the weights are cached under
``<data root>/cache/wsol/``, named by a hash of all of it.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torchvision import transforms

from .data.localization_split import LocalizationDataset, LocalizationSplit
from .data.paths import cache_dir
from .data.synthetic import BenchmarkSpec
from .models.pretrained import PretrainedClassifier
from .models.small import small_network
from .preprocess import IMAGENET_MEAN, IMAGENET_STD
from .repro import default_device
from .train import TrainConfig, TrainResult, run_key, train

#: Bump when the networks or the training code change, so that old checkpoints are not reused.
CHECKPOINT_VERSION = 1
#: The input normalisation of every small network (on [0, 1] RGB).
NORMALIZE = transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD)
#: The benchmark: 32x32 images (objects 12-24 px, three smaller distractors), 10 classes.
DEFAULT_SPEC = BenchmarkSpec(canvas_size=32, object_size=(12, 24), n_distractors=3, distractor_size=(5, 10),
                             n_train=4000, n_val=100, n_test=1000)
#: Every network is trained from scratch the same way (random flips only).
DEFAULT_CONFIG = TrainConfig(epochs=30, batch_size=32, optimizer="adam", lr=0.002, weight_decay=0.0)


@dataclass(frozen=True)
class CpuScale:
    """Everything that determines a trained small network: benchmark, training and seed."""

    spec: BenchmarkSpec = DEFAULT_SPEC
    config: TrainConfig = DEFAULT_CONFIG
    seed: int = 0


def checkpoint_path(scale: CpuScale, network: str) -> str:
    """Where the trained ``network`` (a :func:`camlib.models.small.small_network` name) of ``scale`` is
    cached. The name also depends on the device type and the CPU thread count, which change the trained
    weights' last bits."""
    key = run_key(network=network, config=scale.config, data=scale.spec.key(), seed=scale.seed, version=CHECKPOINT_VERSION,
                  device=default_device().type, threads=torch.get_num_threads())
    return str(cache_dir() / "wsol" / f"{network}-{key}.pt")


def trained_network(scale: CpuScale, network: str, train_split: LocalizationSplit) -> tuple[nn.Module, TrainResult]:
    """The small ``network`` trained on ``train_split`` (the benchmark's training images), or loaded
    from its checkpoint when it was trained before."""
    size, num_classes = train_split.images.shape[1], len(train_split.class_names)
    model = small_network(network, num_classes, input_size=size, seed=scale.seed)
    result = train(model, LocalizationDataset(train_split, NORMALIZE), scale.config,
                   checkpoint=checkpoint_path(scale, network), show_progress=False)
    return model, result


def as_classifier(model: nn.Module, network: str, split: LocalizationSplit) -> PretrainedClassifier:
    """A trained small network wrapped like the pretrained classifiers (its normalisation, input size and
    the benchmark's class names), so feature extraction and CAM code take it as they take Lite0."""
    size = split.images.shape[1]
    return PretrainedClassifier(f"small-{network}", model, IMAGENET_MEAN, IMAGENET_STD, size, size, list(split.class_names))
