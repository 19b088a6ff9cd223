"""The features compared (each network's GAP feature, Lite0's cut at 14x14, the fine-tuned GAP network's feature and
the raw-pixel floor), read in one cached pass per network, and the rows of our Table 5 they fill."""
from __future__ import annotations

from typing import Callable, Sequence

import cv2
import numpy as np
import torch
from torch import nn

from camlib.utils.cache import cache_key, cached_tensors
from camlib.chapters.ch06_transfer.tasks import INPUT_SIZE, StampTask
from camlib.data.assets.paths import cache_dir
from camlib.utils.errors import CamlibError
from camlib.methods.features import extract
from camlib.training.finetune import ConvertedNet
from camlib.models.pretrained import PretrainedClassifier
from camlib.models.trunks import LiteBlocks, lite_trunk

#: The packaged ImageNet networks compared, by their :func:`camlib.models.load_pretrained` name.
NETWORKS = {"efficientnet-lite0": "Lite0", "efficientnet-lite1": "Lite1", "efficientnet-lite2": "Lite2",
            "squeezenet1_1": "SqueezeNet 1.1"}
#: Row names: the fine-tuned GAP network (one feature per seed, ``"<row>, seed <k>"``), Lite0 cut at its last 14x14
#: map (nothing added or trained: the diagnostic), and the floor.
TUNED_ROW = "Lite0-GAP (fine-tuned, ours)"
CUT_ROW = "Lite0 cut at 14x14 (untrained; diagnostic)"
FLOOR_ROW = "raw pixels"
#: The paper's Table 5 row each of ours stands in for (SqueezeNet 1.1 and Lite0 have AlexNet's and GoogLeNet's
#: ImageNet accuracy).
PAPER_ROWS = {"SqueezeNet 1.1": "fc7 from AlexNet", "Lite0": "ave pool from GoogLeNet", TUNED_ROW: "gap from GoogLeNet-GAP"}


def stride16_layer(classifier: PretrainedClassifier) -> nn.Module:
    """The module whose output is the network's last map at stride 16: Lite's last stride-16 block
    (14x14 at 224 px), SqueezeNet's ``features`` (fire9, 13x13)."""
    model = classifier.model
    if hasattr(model, "_blocks"):
        return model._blocks[len(lite_trunk(model, 16)[0].blocks) - 1]
    if classifier.name == "squeezenet1_1":
        return model.features
    raise CamlibError(f"no stride-16 layer known for {classifier.name}; use an EfficientNet-Lite or squeezenet1_1")


#: A feature read inside a network's forward pass: the module whose output ``(B, C, h, w)`` is read, and the map
#: from that output to the feature ``(B, K)``.
Tap = tuple[nn.Module, Callable[[torch.Tensor], torch.Tensor]]


def stride16_tap(classifier: PretrainedClassifier) -> Tap:
    """The last stride-16 map (:func:`stride16_layer`) averaged: the network cut at 14x14, nothing added."""
    return stride16_layer(classifier), lambda out: out.mean(dim=(2, 3))


def gap_network_tap(classifier: PretrainedClassifier, net: ConvertedNet) -> Tap:
    """The GAP feature ``(B, width)`` of ``net`` (a network of :func:`camlib.training.finetune.convert` made from the packaged
    Lite0 ``classifier``), read in ``classifier``'s own pass: ``net``'s frozen part is ``classifier``'s stem and blocks
    to stride 8, so its fine-tuned blocks and added conv layer (after the ReLU) continue from that block's output,
    averaged as its linear layer receives it."""
    blocks = len(net.low.blocks)
    reference = LiteBlocks(classifier.model, 0, blocks, stem=True).state_dict()
    if reference.keys() != net.low.state_dict().keys() or \
            any(not torch.equal(v.cpu(), reference[k].cpu()) for k, v in net.low.state_dict().items()):
        raise CamlibError(f"the network's frozen part is not {classifier.name}'s first {blocks} blocks; convert that network")
    upper, head = net.upper, net.upper.head

    def read(out: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return head.pool(head.head_conv(upper.high(upper.tuned(out.to(next(upper.parameters()).device))))).flatten(1)

    return classifier.model._blocks[blocks - 1], read


def network_features(classifier: PretrainedClassifier, images: np.ndarray, taps: dict[str, Tap] | None = None,
                     maps_of: int = 0, batch_size: int = 16, desc: str = "features") -> dict[str, torch.Tensor]:
    """One pass of ``classifier`` over uint8 ``images (N, 224, 224, 3)``: ``gap`` ``(N, K)`` its last conv maps
    averaged (its own GAP feature), each of ``taps`` by name ``(N, K')``, and ``maps`` ``(maps_of, K, h, w)`` the last
    conv maps of the first ``maps_of`` images (for CAMs)."""
    caught: dict[str, list[torch.Tensor]] = {name: [] for name in taps or {}}
    hooks = [module.register_forward_hook(lambda m, i, out, name=name, read=read: caught[name].append(read(out).cpu()))
             for name, (module, read) in (taps or {}).items()]
    try:
        kept = extract(classifier, images[:maps_of], size=INPUT_SIZE, batch_size=batch_size, desc=f"{desc} with maps") \
            if maps_of else None
        rest = extract(classifier, images[maps_of:], size=INPUT_SIZE, batch_size=batch_size, keep_maps=False, desc=desc)
    finally:
        for hook in hooks:
            hook.remove()
    out = {"gap": torch.cat([kept.pooled, rest.pooled]) if kept is not None else rest.pooled}
    out.update({name: torch.cat(parts) for name, parts in caught.items()})
    if kept is not None:
        out["maps"] = kept.maps
    return out


def by_split(features: dict[str, torch.Tensor], n_test: int) -> dict[str, torch.Tensor]:
    """Features of the test images then the training images (rows), by name -> ``test/<name>`` and ``train/<name>``."""
    return {f"{split}/{name}": part for name, value in features.items()
            for split, part in (("test", value[:n_test]), ("train", value[n_test:]))}


def task_features(task: StampTask, classifier: PretrainedClassifier, keep_test_maps: bool = False,
                  tuned: dict[str, ConvertedNet] | None = None) -> dict[str, torch.Tensor]:
    """:func:`network_features` of the task's test and training images with the stride-16 tap and, for Lite0, the GAP
    feature of each ``tuned`` network (:func:`gap_network_tap`), cached under ``<data root>/cache/transfer`` by the
    task's images, the network and the tuned networks' weights; keys ``train/<name>`` and ``test/<name>`` for
    ``gap``, ``stride16`` and each tuned name (and ``test/maps`` ``(N_test, K, h, w)`` if asked)."""
    tuned = tuned or {}
    n_test = len(task.test_labels)
    key = cache_key(task=task, network=classifier.name, size=INPUT_SIZE, maps=keep_test_maps,
                    tuned={name: net.upper.trained_state() for name, net in tuned.items()}, version=2)

    def build() -> dict[str, torch.Tensor]:
        taps = {"stride16": stride16_tap(classifier), **{n: gap_network_tap(classifier, net) for n, net in tuned.items()}}
        feats = network_features(classifier, np.concatenate([task.test_images, task.train_images]), taps,
                                 maps_of=n_test if keep_test_maps else 0, desc=classifier.name)
        maps = feats.pop("maps", None)
        return {**by_split(feats, n_test), **({"test/maps": maps.half()} if maps is not None else {})}

    stored = cached_tensors(cache_dir() / "transfer" / f"table5-{classifier.name}-{key}.pt", build)
    return {name: value.float() for name, value in stored.items()}


def seed_row(seed: int) -> str:
    """The feature name of the fine-tuned network trained with ``seed``."""
    return f"{TUNED_ROW}, seed {seed}"


def table_rows(seeds: Sequence[int]) -> dict[str, tuple[str, ...]]:
    """The rows of our Table 5, each with its features: the packaged networks, the fine-tuned network (one feature per
    seed), the cut and the floor."""
    return {**{name: (name,) for name in NETWORKS.values()}, TUNED_ROW: tuple(seed_row(s) for s in seeds),
            CUT_ROW: (CUT_ROW,), FLOOR_ROW: (FLOOR_ROW,)}


def feature_sets(task: StampTask, classifiers: dict[str, PretrainedClassifier], tuned: dict[int, ConvertedNet],
                 keep_test_maps: bool = False) -> tuple[dict[str, tuple[torch.Tensor, torch.Tensor]], torch.Tensor | None]:
    """Every feature of ``task`` as ``{name: (train (N, K), test (M, K))}``: :data:`FLOOR_ROW`, each of ``classifiers``'
    own GAP feature (by display name) and, read in the pass of ``classifiers["Lite0"]``, :data:`CUT_ROW` and each
    ``tuned`` network's GAP feature (by seed, :func:`seed_row`); with Lite0's test maps ``(M, K, h, w)`` if asked."""
    if "Lite0" not in classifiers:
        raise CamlibError(f"feature_sets reads the cut and the tuned networks in Lite0's pass; got {sorted(classifiers)}")
    features = {FLOOR_ROW: (raw_pixels(task.train_images), raw_pixels(task.test_images))}
    maps = None
    for name, classifier in classifiers.items():
        lite0 = name == "Lite0"
        names = {seed_row(seed): net for seed, net in tuned.items()} if lite0 else {}
        f = task_features(task, classifier, keep_test_maps and lite0, names)
        features[name] = (f["train/gap"], f["test/gap"])
        if lite0:
            features[CUT_ROW] = (f["train/stride16"], f["test/stride16"])
            features.update({n: (f[f"train/{n}"], f[f"test/{n}"]) for n in names})
            maps = f.get("test/maps")
    return features, maps


def own_accuracy(net: ConvertedNet, features: torch.Tensor, labels: np.ndarray) -> float:
    """Test accuracy (%) of the fine-tuned network's own linear layer on its GAP features ``(N, width)`` (its softmax)."""
    with torch.no_grad():
        predicted = net.upper.head.fc(features.to(next(net.parameters()).device)).argmax(1).cpu().numpy()
    return float(100.0 * np.mean(predicted == np.asarray(labels)))


def raw_pixels(images: np.ndarray, side: int = 16) -> torch.Tensor:
    """The floor: grey pixels resized to ``side`` x ``side`` and flattened, ``(N, side * side)`` in [0, 1]."""
    grey = images.mean(axis=-1).astype(np.float32) if images.ndim == 4 else images.astype(np.float32)
    resized = np.stack([cv2.resize(g, (side, side), interpolation=cv2.INTER_AREA) for g in grey])
    return torch.from_numpy(resized.reshape(len(images), -1) / 255.0)

