"""Every pool image's peak of every unit and the class under it: Lite0's units (cached) or a GAP network's."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from camlib.training import stamp_groups
from camlib.utils.cache import cache_key, cached_tensors
from camlib.cam import CAM
from camlib.data.assets.paths import cache_dir
from camlib.methods.features import to_batch
from camlib.models import load_pretrained
from camlib.utils.progress import progress
from camlib.chapters.ch11_units.gap_network import UnitSource
from camlib.chapters.ch11_units.label_maps import BACKGROUND, cell_classes
from camlib.chapters.ch11_units.pool_sources import PHOTO_SIZE, POOL_PARTS, PoolSources, _group_spec, pool_sources
from camlib.chapters.ch11_units.ranking import _features


_POOL_VERSION = 1


def unit_peaks(features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Each unit's largest activation on each image, float32 (N, K), and where it is: the flat index of
    its cell in the (h, w) map, int64 (N, K) (the first cell on ties). ``features`` (N, K, h, w)."""
    peak, where = _features(features).flatten(2).max(dim=2)
    return peak, where


@dataclass
class UnitPool:
    """A network's unit peaks over a :class:`PoolSources` pool of N images: ``peak`` float32 (N, K), each
    unit's largest activation on each image; ``where`` int64 (N, K), its flat cell in the ``side`` x ``side``
    map; ``cells`` int64 (N, side * side), the class under each cell's centre (see :meth:`PoolSources.render`);
    ``part`` and ``index`` (N,), where each image comes from."""

    peak: np.ndarray
    where: np.ndarray
    cells: np.ndarray
    part: np.ndarray
    index: np.ndarray
    side: int


def _head_maps(model: torch.nn.Module, blocks_out: torch.Tensor) -> torch.Tensor:
    """EfficientNet-Lite's last conv layer (the CAM layer) on its last block's output (N, 320, h, w)."""
    return model._swish(model._bn1(model._conv_head(blocks_out)))


def lite_unit_pool(batch_size: int = 50) -> tuple[UnitPool, PoolSources]:
    """EfficientNet-Lite0's 1280 CAM-layer units over the whole pool (cached under ``<data root>/cache/units``,
    keyed on the network, the pool's recipes and photos). The group composites reuse chapters 1 and 4's
    cached stride-32 trunk maps; the rest runs the network once per image."""
    sources = pool_sources()
    recipes = [split.arrays[name] for split in (sources.composites, *sources.groups) for name in sorted(split.arrays)]
    key = cache_key(network="efficientnet-lite0", recipes=recipes, photos=[(p.file, p.boxes, p.labels) for p in sources.photos],
                    photo_size=PHOTO_SIZE, version=_POOL_VERSION)

    def build() -> dict[str, torch.Tensor]:
        classifier = load_pretrained("efficientnet-lite0")
        model = classifier.model.eval()
        out: dict[str, list] = {name: [] for name in ("peak", "where", "cells", "part", "index")}

        def add(part: int, start: int, features: torch.Tensor, label_maps: list[np.ndarray]) -> None:
            peak, where = unit_peaks(features)
            out["peak"].append(peak)
            out["where"].append(where.to(torch.int16))
            out["cells"].append(torch.from_numpy(np.stack([cell_classes(m, features.shape[-1]) for m in label_maps])).to(torch.int16))
            out["part"].append(torch.full((len(features),), part, dtype=torch.int16))
            out["index"].append(torch.arange(start, start + len(features), dtype=torch.int32))

        group_maps = stamp_groups.lite_maps(_group_spec(), ("train", "test")).maps
        blocks_out = torch.cat([group_maps["train"][32], group_maps["test"][32]])
        with torch.no_grad(), CAM(model) as cam:
            for part, count in enumerate(sources.counts):
                for start in progress(range(0, count, batch_size), desc=f"Lite0 units ({POOL_PARTS[part]})"):
                    stop = min(start + batch_size, count)
                    rendered = [sources.render(part, i) for i in range(start, stop)]
                    if part == 1:
                        features = _head_maps(model, blocks_out[start:stop].to(next(model.parameters()).device)).cpu()
                    else:
                        batch = to_batch(np.stack([image for image, _ in rendered]), 224, classifier.mean, classifier.std)
                        features = cam.features(batch.to(next(model.parameters()).device)).cpu()
                    add(part, start, features, [labels for _, labels in rendered])
        return {name: torch.cat(parts) for name, parts in out.items()}

    state = cached_tensors(cache_dir() / "units" / f"lite0-pool-{key}.pt", build)
    pool = UnitPool(state["peak"].numpy(), state["where"].long().numpy(), state["cells"].long().numpy(),
                    state["part"].long().numpy(), state["index"].long().numpy(), int(round(state["cells"].shape[1] ** 0.5)))
    return pool, sources


def gap_head_pool(source: UnitSource) -> UnitPool:
    """A :class:`UnitPool` of a :class:`UnitSource` (its images' group labels under their exact masks)."""
    peak, where = unit_peaks(source.features)
    side = source.features.shape[-1]
    cells = np.stack([cell_classes(np.where(mask, label, BACKGROUND), side) for mask, label in zip(source.masks, source.labels)])
    n = len(source.labels)
    return UnitPool(peak.numpy(), where.numpy(), cells, np.zeros(n, dtype=np.int64), np.arange(n), side)
