"""Table 5 at CPU scale: linear SVMs on the fixed GAP features of packaged ImageNet networks.

The task is the photographed Tux Paint stamps in 14 groups, pasted on real background crops
(:func:`camlib.frozen_heads.group_composites`, split by stamp: every test object is a photo no
training image shows). Each network sees the 224 px composites as they are and gives two vectors in
one pass (:func:`network_features`): its own GAP feature (the last conv maps averaged, what its
classifier receives) and the last map at stride 16 (14x14 for Lite, 13x13 for SqueezeNet, the
resolution the paper cuts its networks at to build GAP networks) averaged. The same linear SVM
(:func:`camlib.probe.fit_probe`, ``C`` by cross-validation on the training images) is scored on test,
on each feature after PCA to a common dimension (fitted on the training features).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import cv2
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from sklearn.decomposition import PCA
from torch import nn

from camlib.baselines import random_boxes
from camlib.cache import cached_tensors, stable_key
from camlib.cam import cam_boxes
from camlib.claims import higher, margin
from camlib.data.composites import CompositeSpec, CompositeSplit, load_composites
from camlib.data.localization_split import LocalizationSplit
from camlib.data.paths import cache_dir
from camlib.errors import CamlibError
from camlib.features import extract
from camlib.frozen_heads import group_composites, group_names
from camlib.metrics.boxes import hit_rate
from camlib.models.pretrained import PretrainedClassifier
from camlib.models.trunks import lite_trunk
from camlib.paper import paper_table
from camlib.plots import draw_cam_and_boxes
from camlib.probe import LinearProbe, choose_c, fit_probe
from camlib.progress import progress

#: The packaged ImageNet networks compared, by their :func:`camlib.models.load_pretrained` name.
NETWORKS = {"efficientnet-lite0": "Lite0", "efficientnet-lite1": "Lite1", "efficientnet-lite2": "Lite2",
            "squeezenet1_1": "SqueezeNet 1.1"}
#: Every network sees the composites at their own size (no resampling).
INPUT_SIZE = 224
#: Composites at the scale of chapters 1 and 4 (same recipe, so the cached recipe is shared); this
#: chapter uses the first :data:`TRAIN_IMAGES` / :data:`TEST_IMAGES` of each split (feature extraction of
#: four networks is its cost).
SPEC_IMAGES = (960, 320)
TRAIN_IMAGES, TEST_IMAGES = 240, 160


@dataclass
class StampTask:
    """The stamp-group task: rendered uint8 images ``(N, 224, 224, 3)``, labels ``(N,)`` and, for
    test, each image's largest box ``(N, 4)`` and its mask ``(N, 224, 224)``; ``spec`` made them."""

    spec: CompositeSpec
    class_names: tuple[str, ...]
    train_images: np.ndarray
    train_labels: np.ndarray
    test: LocalizationSplit

    @property
    def test_images(self) -> np.ndarray:
        return self.test.images

    @property
    def test_labels(self) -> np.ndarray:
        return self.test.labels


def render_split(split: CompositeSplit, count: int, desc: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The first ``count`` images of ``split``: images ``(n, S, S, 3)``, labels ``(n,)``, largest box ``(n, 4)``
    and its mask ``(n, S, S)``."""
    if not 1 <= count <= len(split):
        raise CamlibError(f"the {split.name} split has {len(split)} images; asked for {count}")
    images, masks = [], []
    for i in progress(range(count), desc=desc):
        image, instance_masks = split.render(i)
        images.append(image)
        masks.append(instance_masks[0])  # instances are stored largest first
    boxes = np.stack([split.boxes(i)[0] for i in range(count)]).astype(np.float32)
    return np.stack(images), split.labels[:count].astype(np.int64), boxes, np.stack(masks)


def stamp_task(train_images: int = TRAIN_IMAGES, test_images: int = TEST_IMAGES) -> StampTask:
    """The first ``train_images`` / ``test_images`` composites of ``group_composites(*SPEC_IMAGES)``."""
    spec = group_composites(*SPEC_IMAGES)
    splits = load_composites(spec, progress=False)
    train_x, train_y, _, _ = render_split(splits["train"], train_images, "render train")
    test_x, test_y, boxes, masks = render_split(splits["test"], test_images, "render test")
    names = group_names()
    return StampTask(spec, names, train_x, train_y, LocalizationSplit(test_x, test_y, boxes, masks, names))


def stride16_layer(classifier: PretrainedClassifier) -> nn.Module:
    """The module whose output is the network's last map at stride 16: Lite's last stride-16 block
    (14x14 at 224 px), SqueezeNet's ``features`` (fire9, 13x13)."""
    model = classifier.model
    if hasattr(model, "_blocks"):
        return model._blocks[len(lite_trunk(model, 16)[0].blocks) - 1]
    if classifier.name == "squeezenet1_1":
        return model.features
    raise CamlibError(f"no stride-16 layer known for {classifier.name}; use an EfficientNet-Lite or squeezenet1_1")


def network_features(classifier: PretrainedClassifier, images: np.ndarray, maps_of: int = 0,
                     batch_size: int = 16, desc: str = "features") -> dict[str, torch.Tensor]:
    """One pass of ``classifier`` over uint8 ``images (N, 224, 224, 3)``: ``gap`` ``(N, K)`` its last conv
    maps averaged (its own GAP feature), ``stride16`` ``(N, K')`` the stride-16 map averaged, and ``maps``
    ``(maps_of, K, h, w)`` the last conv maps of the first ``maps_of`` images (for CAMs)."""
    caught: list[torch.Tensor] = []
    hook = stride16_layer(classifier).register_forward_hook(lambda m, i, out: caught.append(out.mean(dim=(2, 3)).cpu()))
    try:
        kept = extract(classifier, images[:maps_of], size=INPUT_SIZE, batch_size=batch_size, desc=f"{desc} with maps") \
            if maps_of else None
        rest = extract(classifier, images[maps_of:], size=INPUT_SIZE, batch_size=batch_size, keep_maps=False, desc=desc)
    finally:
        hook.remove()
    gap = torch.cat([kept.pooled, rest.pooled]) if kept is not None else rest.pooled
    out = {"gap": gap, "stride16": torch.cat(caught)}
    if kept is not None:
        out["maps"] = kept.maps
    return out


def task_features(task: StampTask, classifier: PretrainedClassifier, keep_test_maps: bool = False) -> dict[str, torch.Tensor]:
    """:func:`network_features` of the task's test images then its training images, cached under
    ``<data root>/cache/transfer`` by the composites' recipe, the image counts and the network; keys
    ``train/gap``, ``test/gap``, ``train/stride16``, ``test/stride16`` (and ``test/maps`` if asked)."""
    n_train, n_test = len(task.train_labels), len(task.test_labels)
    key = stable_key({"spec": repr(task.spec), "train": n_train, "test": n_test, "network": classifier.name,
                      "size": INPUT_SIZE, "maps": keep_test_maps, "version": 1})

    def build() -> dict[str, torch.Tensor]:
        images = np.concatenate([task.test_images, task.train_images])
        feats = network_features(classifier, images, maps_of=n_test if keep_test_maps else 0, desc=classifier.name)
        out = {f"{split}/{name}": part for name in ("gap", "stride16")
               for split, part in (("test", feats[name][:n_test]), ("train", feats[name][n_test:]))}
        if keep_test_maps:
            out["test/maps"] = feats["maps"].half()
        return out

    stored = cached_tensors(cache_dir() / "transfer" / f"table5-{classifier.name}-{key}.pt", build)
    return {name: value.float() for name, value in stored.items()}


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


def accuracy_table(features: dict[str, tuple[torch.Tensor, torch.Tensor]], train_labels: np.ndarray,
                   test_labels: np.ndarray, dim: int) -> pd.DataFrame:
    """Test accuracy (percent) of a linear SVM on each feature (rows; ``features[name] = (train, test)``)
    after PCA to ``dim`` dimensions, with each feature's own dimension and the chosen ``C``."""
    rows = {}
    for name, (train, test) in progress(features.items(), desc="SVMs"):
        small = pca_pair(train, test, dim)
        probe, C = svm(small[0], train_labels)
        rows[name] = {"dimension": int(train.shape[1]), f"accuracy at {dim} dims (%)": probe.accuracy(small[1], test_labels),
                      "C": C}
    return pd.DataFrame(rows).T.astype({"dimension": int})


@dataclass
class GenericLocalization:
    """CAMs of one SVM on test images. ``cams`` (N, h, w) of the predicted class, ``boxes`` (N, 4)
    from them; accuracy and hit rates (IoU >= 0.5 with the largest object) in percent."""

    accuracy: float
    hit_rates: dict[str, float]
    predictions: np.ndarray
    cams: torch.Tensor
    boxes: np.ndarray


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
    hit_rates = {"CAM box (predicted class)": hit_rate(boxes, split.boxes),
                 "CAM box (labelled class)": hit_rate(cam_boxes(cams[:, 1], sizes, threshold), split.boxes)}
    accuracy = float(100.0 * np.mean(predictions == split.labels))
    return GenericLocalization(accuracy, hit_rates, predictions, cams[:, 0], boxes)


def chance_hit_rates(split: LocalizationSplit, train_boxes: np.ndarray, train_size: tuple[int, int],
                     draws: int = 100, seed: int = 0) -> dict[str, float]:
    """The two chance baselines of :func:`camlib.baselines.random_boxes` on ``split``: uniformly random boxes, and
    boxes of a random training box's relative size (``train_boxes`` on ``(H, W)`` images) at a random place."""
    sizes = np.tile(split.images.shape[1:3], (len(split), 1))
    relative = (train_boxes[:, 2:] - train_boxes[:, :2]) / np.asarray(train_size[::-1], dtype=np.float64)
    return {"chance: random box": hit_rate(random_boxes(sizes, draws, seed), split.boxes),
            "chance: box of a training size, random place": hit_rate(random_boxes(sizes, draws, seed, relative), split.boxes)}


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


def paper_differences() -> dict[str, float]:
    """The paper's Table 5 mean differences over its 8 data sets (points): GoogLeNet-GAP's gap minus
    GoogLeNet's ave pool, and GoogLeNet's ave pool minus AlexNet's fc7."""
    paper = paper_table("table5_deep_features").astype(float)
    googlenet = paper.loc["ave pool from GoogLeNet"]
    return {"gap vs original": float((paper.loc["gap from GoogLeNet-GAP"] - googlenet).mean()),
            "stronger vs weaker": float((googlenet - paper.loc["fc7 from AlexNet"]).mean())}


def not_worse(a: float, b: float, n: int) -> str:
    """Verdict on "``a`` is not worse than ``b``": "no" only when ``a`` is lower by more than the noise margin."""
    return "no" if a - b < -margin(a, b, n) else "yes"


def _row(claim: str, paper: str, a: float, b: float, n: int, verdict: str, why: str) -> dict[str, str]:
    return {"claim": claim, "paper": paper, "measured": f"{a:.1f}% vs {b:.1f}% ({a - b:+.1f}, margin {margin(a, b, n):.1f})",
            "holds?": verdict, "why": why if verdict == "no" else ""}


def table5_claims(accuracy: pd.Series, n_test: int, networks: Sequence[str], stronger: str, weaker: str,
                  floor: str, why: dict[str, str]) -> pd.DataFrame:
    """The claims behind Table 5, from ``accuracy`` (percent, at equal dimension) indexed by
    ``"<network>: GAP"``, ``"<network>: stride-16 map"`` and ``floor``, over ``n_test`` test images:
    per network, the stride-16 (GAP-network) features are not worse than the network's own GAP feature
    (paper: GoogLeNet-GAP vs GoogLeNet); the ``stronger`` ImageNet network's GAP features beat the
    ``weaker``'s (paper: GoogLeNet vs AlexNet); every network's GAP features beat the raw-pixel floor.
    ``why[kind]`` (kinds ``"cut"``, ``"stronger"``, ``"floor"``) explains a failed claim of that kind."""
    paper = paper_differences()
    rows = []
    for net in networks:
        a, b = accuracy[f"{net}: stride-16 map"], accuracy[f"{net}: GAP"]
        rows.append(_row(f"{net}: stride-16 features not worse than the full network's GAP",
                         f"GoogLeNet-GAP vs GoogLeNet: mean {paper['gap vs original']:+.2f}", a, b, n_test,
                         not_worse(a, b, n_test), why.get("cut", "")))
    a, b = accuracy[f"{stronger}: GAP"], accuracy[f"{weaker}: GAP"]
    rows.append(_row(f"{stronger} (GoogLeNet-level on ImageNet) beats {weaker} (AlexNet-level)",
                     f"GoogLeNet vs AlexNet fc7: mean {paper['stronger vs weaker']:+.2f}", a, b, n_test,
                     higher(a, b, n_test), why.get("stronger", "")))
    for net in networks:
        a, b = accuracy[f"{net}: GAP"], accuracy[floor]
        rows.append(_row(f"{net}: GAP features beat {floor}", "(implied)", a, b, n_test, higher(a, b, n_test),
                         why.get("floor", "")))
    return pd.DataFrame(rows)
