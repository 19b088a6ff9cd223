"""Table 5 at CPU scale: linear SVMs on the fixed features of ImageNet networks and of the fine-tuned GAP network.

Two tasks of photographed Tux Paint stamps pasted on real background crops, each split by object (every
test object is a photo no SVM training image shows):

* :func:`stamp_task`: the 14 stamp groups (:func:`camlib.frozen_heads.group_composites`), the task the
  fine-tuned network was trained on; its test objects are the stamps that network held out;
* :func:`imagenet_task`: ImageNet classes (:data:`camlib.data.stamps.MAPPING_FILE`), labels the fine-tuned
  network never trained on, tested on objects it never saw (:func:`held_out_stamps`).

Features: each packaged network's own GAP feature (its last conv maps averaged, what its classifier receives,
:func:`network_features`), Lite0's last 14x14 map averaged (the cut before any new layer or fine-tuning, a
diagnostic) and the shipped fine-tuned Lite0-GAP network's GAP feature (its added conv layer's maps averaged,
:func:`gap_network_tap`, read in Lite0's own pass). The same linear SVM is scored on each after PCA to a common
dimension (:func:`score_features`); claims compare per-image hits with 95% intervals that resample test objects
and seeds (:func:`compare`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable, Sequence

import cv2
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from sklearn.decomposition import PCA
from torch import nn

from camlib.baselines import random_boxes
from camlib.cache import array_fingerprint, cached_tensors, stable_key
from camlib.cam import cam_boxes
from camlib.claims import equivalence_verdict, interval_verdict
from camlib.data.composites import CompositeSpec, CompositeSplit, load_composites
from camlib.data.localization_split import LocalizationSplit
from camlib.data.paths import cache_dir
from camlib.data.stamps import MAPPING_FILE, stamp_mapping
from camlib.errors import CamlibError
from camlib.features import extract
from camlib.finetune import ConvertedNet, tuned_spec
from camlib.frozen_heads import group_composites, group_names
from camlib.metrics.bootstrap import cluster_seed_intervals, minimum_detectable_effect
from camlib.metrics.boxes import hit_rate, paired_iou
from camlib.models.pretrained import PretrainedClassifier
from camlib.models.trunks import LiteBlocks, lite_trunk
from camlib.paper import paper_table
from camlib.plots import draw_cam_and_boxes
from camlib.probe import LinearProbe, choose_c, fit_probe
from camlib.progress import progress

#: The packaged ImageNet networks compared, by their :func:`camlib.models.load_pretrained` name.
NETWORKS = {"efficientnet-lite0": "Lite0", "efficientnet-lite1": "Lite1", "efficientnet-lite2": "Lite2",
            "squeezenet1_1": "SqueezeNet 1.1"}
#: Every network sees the composites at their own size (no resampling).
INPUT_SIZE = 224
#: The group composites at the scale of chapters 1 and 4 (the same recipe, so its cache is shared); this chapter
#: uses the first :data:`TRAIN_IMAGES` / :data:`TEST_IMAGES` of each split.
SPEC_IMAGES = (960, 320)
TRAIN_IMAGES, TEST_IMAGES = 240, 160
#: Composites per stamp of the ImageNet-class task.
IMAGES_PER_STAMP = 12
#: "About as good as" means test accuracies within this many points (stated before any measurement).
EQUIVALENCE_MARGIN = 3.0
#: Row names: the fine-tuned GAP network (one feature per seed, ``"<row>, seed <k>"``), Lite0 cut at its last 14x14
#: map (nothing added or trained: the diagnostic), and the floor.
TUNED_ROW = "Lite0-GAP (fine-tuned, ours)"
CUT_ROW = "Lite0 cut at 14x14 (untrained; diagnostic)"
FLOOR_ROW = "raw pixels"
#: The paper's Table 5 row each of ours stands in for (SqueezeNet 1.1 and Lite0 have AlexNet's and GoogLeNet's
#: ImageNet accuracy).
PAPER_ROWS = {"SqueezeNet 1.1": "fc7 from AlexNet", "Lite0": "ave pool from GoogLeNet", TUNED_ROW: "gap from GoogLeNet-GAP"}


@dataclass
class StampTask:
    """A task: rendered uint8 images ``(N, 224, 224, 3)``, labels ``(N,)`` and the stamp file of each image's
    largest object ``(N,)`` (the unit of independence), for training and test; test also holds each image's
    largest box ``(N, 4)`` and its mask ``(N, 224, 224)``; ``spec`` made them."""

    spec: CompositeSpec
    class_names: tuple[str, ...]
    train_images: np.ndarray
    train_labels: np.ndarray
    train_objects: np.ndarray
    test: LocalizationSplit
    test_objects: np.ndarray

    @property
    def test_images(self) -> np.ndarray:
        return self.test.images

    @property
    def test_labels(self) -> np.ndarray:
        return self.test.labels

    @cached_property
    def fingerprint(self) -> str:
        """A short hash of the images and labels (names the cached features)."""
        return array_fingerprint(self.train_images, self.train_labels, self.test_images, self.test_labels)


def object_paths(split: CompositeSplit) -> np.ndarray:
    """``(N,)`` the stamp file of each image's largest object (the same name in every stamp mapping)."""
    mapping = stamp_mapping(split.stamps)
    return np.array([mapping[i].path for i in split.objects()])


def instance_paths(split: CompositeSplit) -> set[str]:
    """The stamp file of every instance in ``split`` (extra instances included)."""
    mapping = stamp_mapping(split.stamps)
    return {mapping[i].path for i in np.unique(split.arrays["stamp"])}


def tuned_training_objects() -> set[str]:
    """The stamp files the shipped fine-tuned networks trained on (every instance of :func:`camlib.finetune.tuned_spec`'s
    training split)."""
    return instance_paths(load_composites(tuned_spec(), progress=False)["train"])


def render_rows(split: CompositeSplit, rows: np.ndarray, desc: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Images ``rows`` of ``split``: images ``(n, S, S, 3)``, the largest object's box ``(n, 4)`` and its mask
    ``(n, S, S)``."""
    rows = np.asarray(rows)
    if rows.size == 0 or rows.min() < 0 or rows.max() >= len(split):
        raise CamlibError(f"rows must be a non-empty selection of the {len(split)} {split.name} images")
    images, masks = [], []
    for i in progress(rows.tolist(), desc=desc):
        image, instance_masks = split.render(i)
        images.append(image)
        masks.append(instance_masks[0])  # instances are stored largest first
    boxes = np.stack([split.boxes(i)[0] for i in rows]).astype(np.float32)
    return np.stack(images), boxes, np.stack(masks)


def rendered_task(spec: CompositeSpec, class_names: tuple[str, ...], train: tuple[CompositeSplit, np.ndarray, np.ndarray],
                  test: tuple[CompositeSplit, np.ndarray, np.ndarray]) -> StampTask:
    """The task whose training and test images are ``(split, rows, labels)``: those rows rendered, with their labels."""
    train_images, _, _ = render_rows(train[0], train[1], "render train")
    test_images, boxes, masks = render_rows(test[0], test[1], "render test")
    split = LocalizationSplit(test_images, test[2].astype(np.int64), boxes, masks, class_names)
    return StampTask(spec, class_names, train_images, train[2].astype(np.int64), object_paths(train[0])[train[1]], split,
                     object_paths(test[0])[test[1]])


def stamp_task(train_images: int = TRAIN_IMAGES, test_images: int = TEST_IMAGES) -> StampTask:
    """The first ``train_images`` / ``test_images`` composites of ``group_composites(*SPEC_IMAGES)``."""
    spec = group_composites(*SPEC_IMAGES)
    splits = load_composites(spec, progress=False)
    train, test = np.arange(train_images), np.arange(test_images)
    return rendered_task(spec, group_names(), (splits["train"], train, splits["train"].labels[train]),
                         (splits["test"], test, splits["test"].labels[test]))


def held_out_stamps(stamps_by_class: dict[int, list[str]], seen: set[str]) -> dict[int, tuple[list[str], list[str]]]:
    """Per class, its ``(training, test)`` stamps: test = its stamps not in ``seen``, but the first stays in training
    when none would; classes of one stamp, or with every stamp in ``seen``, are left out."""
    out = {}
    for label, stamps in stamps_by_class.items():
        test = [s for s in stamps if s not in seen]
        if len(stamps) < 2 or not test:
            continue
        test = test[1:] if len(test) == len(stamps) else test
        out[label] = ([s for s in stamps if s not in test], test)
    return out


def imagenet_task(seen: set[str], images_per_stamp: int = IMAGES_PER_STAMP) -> StampTask:
    """ImageNet classes of :data:`~camlib.data.stamps.MAPPING_FILE` split by :func:`held_out_stamps` (test objects
    outside ``seen``): about ``images_per_stamp`` composites of each stamp, labelled with its class. Each stamp is a
    class of the composites' recipe (``classes="stamp"``), so every instance in an image is its largest object's stamp."""
    by_class: dict[int, list[str]] = {}
    names: dict[int, str] = {}
    for entry in stamp_mapping(MAPPING_FILE):
        by_class.setdefault(entry.class_index, []).append(entry.path)
        names[entry.class_index] = entry.class_name
    chosen = held_out_stamps(by_class, seen)
    if len(chosen) < 2:
        raise CamlibError(f"only {len(chosen)} ImageNet class(es) have a stamp outside the seen ones; a task needs 2")
    classes = sorted(chosen)
    stamps = sum(len(train) + len(test) for train, test in chosen.values())
    spec = CompositeSpec(size=INPUT_SIZE, splits=(("all", images_per_stamp * stamps),), stamps=MAPPING_FILE,
                         classes="stamp", groups=tuple(classes))
    split = load_composites(spec, progress=False)["all"]
    objects = object_paths(split)
    label_of = {path: k for k, c in enumerate(classes) for path in chosen[c][0] + chosen[c][1]}
    labels = np.array([label_of[path] for path in objects])
    is_test = np.isin(objects, [path for _, test in chosen.values() for path in test])
    train, test = np.flatnonzero(~is_test), np.flatnonzero(is_test)
    return rendered_task(spec, tuple(names[c] for c in classes), (split, train, labels[train]), (split, test, labels[test]))


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
    """The GAP feature ``(B, width)`` of ``net`` (a network of :func:`camlib.finetune.convert` made from the packaged
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
    weights = {name: array_fingerprint(*(v.cpu().numpy() for v in net.upper.trained_state().values()))
               for name, net in tuned.items()}
    key = stable_key({"task": task.fingerprint, "network": classifier.name, "size": INPUT_SIZE, "maps": keep_test_maps,
                      "tuned": weights, "version": 2})

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


def pca_pair(train: torch.Tensor, test: torch.Tensor, dim: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Train and test features projected on the first ``dim`` principal components of ``train`` (fitted on
    train only); features with ``dim`` or fewer columns pass through."""
    if train.shape[1] <= dim:
        return train, test
    if dim > len(train):
        raise CamlibError(f"PCA to {dim} dimensions needs at least {dim} training images, got {len(train)}")
    pca = PCA(dim, svd_solver="full").fit(train.double().numpy())
    return (torch.from_numpy(pca.transform(train.double().numpy())).float(),
            torch.from_numpy(pca.transform(test.double().numpy())).float())


#: The SVM's ``C`` grid, one value per decade; a larger ``C`` takes LIBLINEAR minutes to converge on raw pixels.
SVM_C_GRID = (1e-4, 1e-3, 1e-2, 0.1)


def svm(train: torch.Tensor, labels: np.ndarray, seed: int = 0) -> tuple[LinearProbe, float]:
    """A linear SVM on ``train (N, K)`` and its ``C`` (of :data:`SVM_C_GRID`), chosen by 3-fold
    cross-validation on these features."""
    C = choose_c(train, labels, grid=SVM_C_GRID, seed=seed)[0]
    return fit_probe(train, labels, C=C, seed=seed), C


@dataclass
class Scores:
    """Per feature (by name): its dimension, the SVM's ``C`` and which test images it classifies right ``(N,)`` bool."""

    dimension: dict[str, int]
    C: dict[str, float]
    hits: dict[str, np.ndarray]

    def accuracy(self, name: str) -> float:
        """Test accuracy (%) of the SVM on feature ``name``."""
        return float(100.0 * self.hits[name].mean())

    def table(self) -> pd.DataFrame:
        """Dimension, test accuracy (%) and ``C`` of every feature."""
        return pd.DataFrame({"dimension": self.dimension, "test accuracy (%)": {n: self.accuracy(n) for n in self.hits},
                             "C": self.C})


def score_features(features: dict[str, tuple[torch.Tensor, torch.Tensor]], train_labels: np.ndarray,
                   test_labels: np.ndarray, dim: int) -> Scores:
    """A linear SVM (:func:`svm`) on each feature ``features[name] = (train (N, K), test (M, K))`` after PCA to ``dim``
    dimensions (fitted on train, :func:`pca_pair`), scored on the test images."""
    scores = Scores({}, {}, {})
    for name, (train, test) in progress(features.items(), desc="SVMs"):
        small = pca_pair(train, test, dim)
        probe, scores.C[name] = svm(small[0], train_labels)
        scores.dimension[name] = int(train.shape[1])
        scores.hits[name] = probe.predict(small[1]) == np.asarray(test_labels)
    return scores


@dataclass(frozen=True)
class Comparison:
    """``a`` minus ``b`` (percent, means over seeds), its 95% interval ``[low, high]`` over objects and seeds, the
    smallest difference the test detects (80% power), the number of test objects and the verdict."""

    a: float
    b: float
    difference: float
    low: float
    high: float
    detectable: float
    objects: int
    verdict: str

    def measured(self) -> str:
        """``"a% vs b%: difference [low, high]"`` with the detectable difference and the objects, for a claims row."""
        return (f"{self.a:.1f}% vs {self.b:.1f}%: {self.difference:+.1f} [{self.low:+.1f}, {self.high:+.1f}] "
                f"(detectable {self.detectable:.1f}; {self.objects} test objects)")


def compare(a: Sequence[np.ndarray], b: Sequence[np.ndarray], objects: np.ndarray, kind: str, resamples: int = 1000,
            seed: int = 0) -> Comparison:
    """Is the mean of ``a`` (per seed, per-image scores ``(N,)`` in [0, 1]) above (``kind="higher"``) or about equal
    to (``"similar"``, within :data:`EQUIVALENCE_MARGIN`) that of ``b``? Seeds pair up (a side of one seed is used
    with every seed of the other); the interval resamples ``objects (N,)`` and seeds
    (:func:`camlib.metrics.bootstrap.cluster_seed_intervals`)."""
    if kind not in ("higher", "similar"):
        raise CamlibError(f"kind is 'higher' or 'similar', got {kind!r}")
    seeds = max(len(a), len(b))
    if not a or not b or {len(a), len(b)} - {1, seeds} or any(len(x) != len(objects) for x in (*a, *b)):
        raise CamlibError(f"need 1 or {seeds} score arrays of {len(objects)} images per side, got {len(a)} and {len(b)}")

    def mean(scores: Sequence[np.ndarray], k: int, rows: np.ndarray) -> float:
        return float(100.0 * np.mean(scores[k % len(scores)][rows]))

    every = np.arange(len(objects))
    mean_a = float(np.mean([mean(a, k, every) for k in range(len(a))]))
    mean_b = float(np.mean([mean(b, k, every) for k in range(len(b))]))
    difference = mean_a - mean_b + 0.0  # + 0.0: no "-0.0"
    gap = lambda k, rows: {"d": mean(a, k, rows) - mean(b, k, rows)}  # noqa: E731
    low, high = cluster_seed_intervals(gap, seeds, objects, resamples, seed=seed)["d"]
    low, high = min(low, difference) + 0.0, max(high, difference) + 0.0  # a percentile interval can miss the point
    verdict = (equivalence_verdict(difference, low, high, EQUIVALENCE_MARGIN) if kind == "similar"
               else interval_verdict(difference, low, high))
    return Comparison(mean_a, mean_b, difference, low, high, minimum_detectable_effect(low, high),
                      len(np.unique(objects)), verdict)


@dataclass(frozen=True)
class Claim:
    """A claim of the chapter: ``a`` and ``b`` name features (one per seed) of ``task``, compared by ``kind``
    (:func:`compare`); ``paper`` is the paper's evidence; ``why[verdict]`` says why the claim fails (or cannot be
    told) here, for each verdict other than "yes" it can get (every "no" needs one)."""

    claim: str
    paper: str
    task: str
    a: tuple[str, ...]
    b: tuple[str, ...]
    kind: str
    why: dict[str, str] = field(default_factory=dict)


def claims_table(claims: Sequence[Claim], scores: dict[str, Scores], objects: dict[str, np.ndarray],
                 resamples: int = 1000) -> pd.DataFrame:
    """One row per claim: claim, paper, measured (:meth:`Comparison.measured`), holds? and why, judged on
    ``scores[claim.task]`` with that task's test ``objects``."""
    rows = []
    for number, claim in enumerate(claims):
        hits = scores[claim.task].hits
        result = compare([hits[n] for n in claim.a], [hits[n] for n in claim.b], objects[claim.task], claim.kind,
                         resamples, seed=number)
        why = claim.why.get(result.verdict, "") if result.verdict != "yes" else ""
        if result.verdict.startswith("no") and not why:
            raise CamlibError(f"{claim.claim!r} gets {result.verdict!r} and has no why for it")
        rows.append({"claim": claim.claim, "paper": claim.paper, "measured": result.measured(), "holds?": result.verdict,
                     "why": why})
    return pd.DataFrame(rows)


def paper_differences() -> dict[str, float]:
    """From the paper's Table 5 (points, over its 8 data sets): the mean of GoogLeNet-GAP's gap minus GoogLeNet's ave
    pool and its largest size on one data set, and the mean of GoogLeNet's ave pool minus AlexNet's fc7."""
    paper = paper_table("table5_deep_features").astype(float)
    googlenet = paper.loc["ave pool from GoogLeNet"]
    gap = paper.loc["gap from GoogLeNet-GAP"] - googlenet
    return {"gap vs original": float(gap.mean()), "largest gap vs original": float(gap.abs().max()),
            "stronger vs weaker": float((googlenet - paper.loc["fc7 from AlexNet"]).mean())}


def table5(scores: dict[str, Scores], rows: dict[str, Sequence[str]], paper_rows: dict[str, str]) -> pd.DataFrame:
    """Our Table 5: per row (its features, one per seed) the paper's counterpart row and that row's mean over the
    paper's 8 data sets, then per task (of ``scores``) the test accuracy (%, mean over seeds) and the seeds' range
    (highest minus lowest; 0 for one network); NaN where a task lacks the row."""
    paper = paper_table("table5_deep_features").astype(float).mean(axis=1)
    out = pd.DataFrame(index=list(rows))
    out["paper's row"] = [paper_rows.get(r, "") for r in rows]
    out["paper: mean of 8 data sets"] = [paper.get(paper_rows.get(r), np.nan) for r in rows]
    for task, score in scores.items():
        values = {r: [score.accuracy(n) for n in names if n in score.hits] for r, names in rows.items()}
        out[task] = [np.mean(v) if v else np.nan for v in values.values()]
        out[f"{task}: seed range"] = [np.ptp(v) if v else np.nan for v in values.values()]
    return out


def show_examples(task: StampTask, title: str, ncols: int = 7, size: float = 1.75):
    """The first test image of each class, with its largest object's box (green)."""
    nrows = -(-len(task.class_names) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + 0.6), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for c, ax in zip(range(len(task.class_names)), axes.flat):
        i = int(np.flatnonzero(task.test_labels == c)[0])
        ax.imshow(task.test_images[i])
        x0, y0, x1, y1 = task.test.boxes[i]
        ax.add_patch(plt.Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, color="lime", linewidth=1.2))
        ax.set_title(task.class_names[c], fontsize=9)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_accuracies(scores: dict[str, Scores], rows: dict[str, Sequence[str]], chance: float):
    """One panel per task: each row's test accuracy (bar: the mean over seeds, dots: each seed where there are
    several), chance dotted."""
    fig, axes = plt.subplots(1, len(scores), figsize=(5.2 * len(scores), 0.42 * len(rows) + 1.2), sharey=True, squeeze=False)
    labels = list(rows)
    for ax, (task, score) in zip(axes[0], scores.items()):
        for y, (label, names) in enumerate(rows.items()):
            values = [score.accuracy(n) for n in names if n in score.hits]
            if not values:
                ax.text(chance + 3, y, "not measured", va="center", fontsize=8, color="grey")
                continue
            colour = "tab:orange" if label == TUNED_ROW else "lightgrey" if label in (CUT_ROW, FLOOR_ROW) else "tab:blue"
            ax.barh(y, np.mean(values), color=colour, height=0.65)
            if len(values) > 1:
                ax.plot(values, [y] * len(values), "k.", markersize=6, label="each seed")
        ax.axvline(chance, color="grey", linestyle=":", label="chance")
        ax.set(xlim=(0, 100), title=task, xlabel="test accuracy (%)")
        ax.legend(fontsize=8, loc="lower right")
    axes[0, 0].set_yticks(range(len(labels)), labels, fontsize=9)
    axes[0, 0].invert_yaxis()
    fig.tight_layout()
    return fig


@dataclass
class GenericLocalization:
    """CAMs of one SVM on test images. ``cams`` (N, h, w) of the predicted class, ``boxes`` (N, 4) from them,
    ``hits`` (N,) whether each box has IoU >= 0.5 with the largest object; accuracy and hit rates in percent."""

    accuracy: float
    hit_rates: dict[str, float]
    predictions: np.ndarray
    cams: torch.Tensor
    boxes: np.ndarray
    hits: np.ndarray


def generic_localization(probe: LinearProbe, pooled: torch.Tensor, maps: torch.Tensor, split: LocalizationSplit,
                         threshold: float = 0.2) -> GenericLocalization:
    """Apply ``probe`` (an SVM on GAP features ``pooled (N, K)`` of ``split``'s images, whose conv maps are
    ``maps (N, K, h, w)``): classify each image, box the CAM of the predicted and of the labelled class
    (paper's rule: 20% of the maximum, largest component) and score the boxes against the ground truth."""
    if len(pooled) != len(split) or len(maps) != len(split):
        raise CamlibError(f"{len(pooled)} feature vectors and {len(maps)} maps for {len(split)} images")
    sizes = np.tile(split.images.shape[1:3], (len(split), 1))
    predictions = probe.predict(pooled)
    cams = probe.cams(maps, torch.stack([probe.rows(predictions), probe.rows(split.labels)], dim=1))
    boxes = cam_boxes(cams[:, 0], sizes, threshold)
    hits = paired_iou(boxes, split.boxes) >= 0.5
    hit_rates = {"CAM box (predicted class)": float(100.0 * hits.mean()),
                 "CAM box (labelled class)": hit_rate(cam_boxes(cams[:, 1], sizes, threshold), split.boxes)}
    accuracy = float(100.0 * np.mean(predictions == split.labels))
    return GenericLocalization(accuracy, hit_rates, predictions, cams[:, 0], boxes, hits)


def chance_hits(split: LocalizationSplit, train_boxes: np.ndarray, train_size: tuple[int, int], draws: int = 100,
                seed: int = 0) -> dict[str, np.ndarray]:
    """Per image ``(N,)``, the share of ``draws`` chance boxes (:func:`camlib.baselines.random_boxes`) with IoU >= 0.5:
    uniformly random boxes, and boxes of a random training box's relative size (``train_boxes`` on ``(H, W)``
    images) at a random place."""
    sizes = np.tile(split.images.shape[1:3], (len(split), 1))
    relative = (train_boxes[:, 2:] - train_boxes[:, :2]) / np.asarray(train_size[::-1], dtype=np.float64)
    return {"chance: random box": (paired_iou(random_boxes(sizes, draws, seed), split.boxes) >= 0.5).mean(axis=1),
            "chance: box of a training size, random place":
                (paired_iou(random_boxes(sizes, draws, seed, relative), split.boxes) >= 0.5).mean(axis=1)}


def show_localization(split: LocalizationSplit, result: GenericLocalization, indices: Sequence[int],
                      ncols: int = 5, size: float = 2.0):
    """The CAM of the predicted class on each chosen image, with its box (red) and the ground truth (green)."""
    indices = list(indices)
    nrows = -(-len(indices) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * 1.25 * nrows), squeeze=False)
    for ax in axes.flat[len(indices):]:
        ax.axis("off")
    for ax, i in zip(axes.flat, indices):
        draw_cam_and_boxes(ax, split.images[i], result.cams[i], split.boxes[i], result.boxes[i],
                           split.class_names[int(split.labels[i])], split.class_names[int(result.predictions[i])])
    fig.tight_layout()
    return fig
