"""GAP features of the generated scenes from a pretrained network, cached under the data root."""
from __future__ import annotations

from typing import Sequence

from camlib.utils.cache import cached
from camlib.chapters.ch10_vqa.dataset import VQASpec, VQASplit
from camlib.data import cache_dir
from camlib.methods.features import Features, extract
from camlib.models.pretrained import PretrainedClassifier


def scene_features(
    classifier: PretrainedClassifier,
    splits: dict[str, VQASplit],
    spec: VQASpec,
    keep_maps: Sequence[str] = ("test",),
) -> dict[str, Features]:
    """Per split: pooled GAP features (N, K) of its images at their own size, and conv maps (N, K, h, w)
    for the splits in ``keep_maps``. Cached in ``cache/vqa/<model>-<spec key>-<maps>.pt``.
    """
    path = cache_dir() / "vqa" / f"{classifier.name}-{spec.key()}-{'-'.join(sorted(keep_maps)) or 'nomaps'}.pt"

    def build() -> dict[str, dict]:
        out = {}
        for name, split in splits.items():
            feats = extract(classifier, split.images, size=spec.canvas, keep_maps=name in keep_maps, desc=f"{classifier.name} {name}")
            out[name] = {"pooled": feats.pooled, "maps": feats.maps}
        return out

    return {name: Features(**stored) for name, stored in cached(path, build).items()}
