"""Table 5 at CPU scale: linear SVMs on fixed deep features across the labelled data sets at hand.

A feature extractor maps uint8 images ``(N, H, W, 3)`` to vectors ``(N, K)``; the same probe
(:func:`camlib.probe.fit_probe`) is trained on each data set's training images and scored on its
test images. Features come from the vector a network's final linear layer receives
(:func:`camlib.features.classifier_inputs`) or from its conv maps average-pooled by hand (:func:`camlib.features.extract`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import cv2
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from sklearn.datasets import load_digits
from torch import nn
from torch.utils.data import TensorDataset

from camlib.baselines import random_boxes
from camlib.cache import array_fingerprint, cached
from camlib.cam import cam_boxes
from camlib.claims import higher, margin
from camlib.data.fashion_mnist import FASHION_MNIST_CLASSES, load_fashion_mnist
from camlib.data.localization_split import LocalizationSplit
from camlib.data.opencv_digits import load_opencv_digits
from camlib.data.paths import cache_dir
from camlib.errors import CamlibError
from camlib.features import classifier_inputs, extract, to_batch
from camlib.metrics.boxes import hit_rate
from camlib.models.pretrained import PretrainedClassifier
from camlib.models.small import small_network
from camlib.paper import paper_table
from camlib.plots import draw_cam_and_boxes
from camlib.probe import LinearProbe, choose_c, fit_probe
from camlib.train import TrainConfig, run_key, train

DIGIT_NAMES = tuple(str(d) for d in range(10))


@dataclass
class LabelledImages:
    """A classification data set: uint8 images ``(N, H, W, 3)`` and int64 labels ``(N,)`` per split."""

    name: str
    class_names: tuple[str, ...]
    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray

    def __post_init__(self) -> None:
        for split, images, labels in (("train", self.train_images, self.train_labels),
                                      ("test", self.test_images, self.test_labels)):
            if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8 or len(images) != len(labels):
                raise CamlibError(f"{self.name} {split}: need uint8 images (N, H, W, 3) and labels (N,), "
                                  f"got {images.dtype} {images.shape} and {labels.shape}")


def to_rgb(images: np.ndarray) -> np.ndarray:
    """Grey uint8 images ``(N, H, W)`` -> ``(N, H, W, 3)``; RGB passes through."""
    images = np.asarray(images)
    return np.repeat(images[..., None], 3, axis=-1) if images.ndim == 3 else images


def balanced_indices(labels: np.ndarray, per_class: int, seed: int = 0, exclude: np.ndarray | None = None) -> np.ndarray:
    """``per_class`` random indices of each class (fewer if a class is smaller), sorted; ``exclude`` is left out."""
    rng = np.random.default_rng(seed)
    allowed = np.ones(len(labels), dtype=bool)
    if exclude is not None:
        allowed[exclude] = False
    picks = [rng.permutation(np.flatnonzero((labels == c) & allowed))[:per_class] for c in np.unique(labels)]
    return np.sort(np.concatenate(picks))


def _split(name: str, images: np.ndarray, labels: np.ndarray, per_class: tuple[int, int], seed: int,
           class_names: Sequence[str]) -> LabelledImages:
    """A balanced random train/test split of one pool of images."""
    train = balanced_indices(labels, per_class[0], seed)
    test = balanced_indices(labels, per_class[1], seed + 1, exclude=train)
    images = to_rgb(images)
    return LabelledImages(name, tuple(class_names), images[train], labels[train], images[test], labels[test])


def fashion_mnist(per_class: tuple[int, int] = (100, 50), seed: int = 0) -> LabelledImages:
    """Fashion-MNIST 28x28, a balanced subsample of its official train and test splits."""
    (train_x, train_y), (test_x, test_y) = load_fashion_mnist("train"), load_fashion_mnist("test")
    train, test = balanced_indices(train_y, per_class[0], seed), balanced_indices(test_y, per_class[1], seed)
    return LabelledImages("Fashion-MNIST", FASHION_MNIST_CLASSES, to_rgb(train_x[train]), train_y[train],
                          to_rgb(test_x[test]), test_y[test])


def opencv_digits(per_class: tuple[int, int] = (100, 50), seed: int = 0) -> LabelledImages:
    """OpenCV's 20x20 handwritten digits (``digits.png``), split at random (balanced)."""
    images, labels = load_opencv_digits()
    return _split("OpenCV digits", images, labels, per_class, seed, DIGIT_NAMES)


def sklearn_digits(per_class: tuple[int, int] = (100, 50), seed: int = 0) -> LabelledImages:
    """scikit-learn's 8x8 digits (values 0..16, scaled to 0..255), split at random (balanced)."""
    digits = load_digits()
    images = np.rint(digits.images * (255.0 / 16.0)).astype(np.uint8)
    return _split("scikit-learn digits", images, digits.target.astype(np.int64), per_class, seed, DIGIT_NAMES)


#: The offline data sets of Table 5 at CPU scale, by name.
DATASETS: dict[str, Callable[..., LabelledImages]] = {
    "Fashion-MNIST": fashion_mnist,
    "OpenCV digits": opencv_digits,
    "scikit-learn digits": sklearn_digits,
}


def raw_pixels(images: np.ndarray, side: int = 16) -> torch.Tensor:
    """The floor: grey pixels resized to ``side`` x ``side`` and flattened, ``(N, side * side)`` in [0, 1]."""
    grey = images.mean(axis=-1).astype(np.float32) if images.ndim == 4 else images.astype(np.float32)
    resized = np.stack([cv2.resize(g, (side, side), interpolation=cv2.INTER_AREA) for g in grey])
    return torch.from_numpy(resized.reshape(len(images), -1) / 255.0)


#: Input normalisation of the small networks (grey-level images in [0, 1] -> [-1, 1]).
SMALL_MEAN = SMALL_STD = (0.5, 0.5, 0.5)
#: Training of the small feature networks on Fashion-MNIST thumbnails (32 px).
SMALL_TRAINING = TrainConfig(epochs=3, batch_size=128, optimizer="adam", lr=0.002, weight_decay=0.0, flip=True)


@dataclass
class Extractor:
    """A feature extractor: ``fn(images uint8 (N, H, W, 3)) -> (N, K)``; ``key`` names its
    configuration in cache file names (change it whenever ``fn`` changes)."""

    name: str
    key: str
    fn: Callable[[np.ndarray], torch.Tensor]


def lite0_extractor(classifier: PretrainedClassifier, size: int) -> Extractor:
    """Lite0's conv maps average-pooled by hand at ``size`` px (:func:`camlib.features.extract`)."""
    return Extractor(f"Lite0 GAP ({size} px)", f"{classifier.name}-{size}px",
                     lambda images: extract(classifier, images, size=size, keep_maps=False, desc=classifier.name).pooled)


def small_extractor(name: str, model: nn.Module, key: str, size: int = 32) -> Extractor:
    """What a small network's classifier receives (:func:`camlib.features.classifier_inputs`) at ``size`` px."""
    return Extractor(name, key, lambda images: classifier_inputs(model, images, size, SMALL_MEAN, SMALL_STD, desc=name))


def pixel_extractor(side: int = 16) -> Extractor:
    """The raw-pixel floor (:func:`raw_pixels`)."""
    return Extractor("raw pixels", f"pixels{side}", lambda images: raw_pixels(images, side))


def train_small_networks(images: np.ndarray, labels: np.ndarray, config: TrainConfig = SMALL_TRAINING,
                         size: int = 32, seed: int = 0) -> dict[str, Extractor]:
    """Train (or load) the small GAP network and the fc-head network of :mod:`camlib.models.small`
    on the same grey images ``(N, h, w)``, from the same initial trunk; returns their extractors:
    the GAP vector and the last hidden fc layer (the analogue of AlexNet's fc7)."""
    x = to_batch(to_rgb(images), size, SMALL_MEAN, SMALL_STD)
    dataset = TensorDataset(x, torch.from_numpy(np.asarray(labels)).long())
    num_classes = int(np.max(labels)) + 1
    data_key = array_fingerprint(images, np.asarray(labels))
    extractors = {}
    for title, name in (("small GAP net: GAP", "gap"), ("small fc net: fc", "fc")):
        model = small_network(name, num_classes, input_size=size, seed=seed)
        layout = [(k, tuple(v.shape)) for k, v in model.state_dict().items()]  # a changed architecture retrains
        key = run_key(network=name, layout=layout, config=config, data=data_key, size=size, seed=seed)
        train(model, dataset, config, checkpoint=cache_dir() / "transfer" / f"{name}-{key}.pt", desc=f"train {name}")
        extractors[title] = small_extractor(title, model, f"small-{name}-{key}", size)
    return extractors


def image_features(images: np.ndarray, extractor: Extractor, name: str) -> torch.Tensor:
    """``extractor``'s features ``(N, K)`` of uint8 ``images (N, H, W, 3)``, cached under
    ``<data root>/cache/features`` by ``name``, the extractor's key and a hash of the pixels."""
    slug = name.lower().replace(" ", "-")
    path = cache_dir() / "features" / f"table5-{slug}-{extractor.key}-{array_fingerprint(images)}.pt"
    return cached(path, lambda: extractor.fn(images))


def dataset_features(dataset: LabelledImages, extractor: Extractor) -> tuple[torch.Tensor, torch.Tensor]:
    """Train and test features of ``dataset`` in one extraction pass (cached, see :func:`image_features`)."""
    features = image_features(np.concatenate([dataset.train_images, dataset.test_images]), extractor, dataset.name)
    return features[:len(dataset.train_images)], features[len(dataset.train_images):]


def accuracy_table(datasets: Sequence[LabelledImages], extractors: Sequence[Extractor], seed: int = 0) -> pd.DataFrame:
    """Test accuracy (percent) of a linear SVM per feature (rows) and data set (columns); each
    SVM's ``C`` is chosen by cross-validation on its own training features."""
    table = pd.DataFrame(index=[e.name for e in extractors], columns=[d.name for d in datasets], dtype=float)
    for dataset in datasets:
        for extractor in extractors:
            train_x, test_x = dataset_features(dataset, extractor)
            C, _ = choose_c(train_x, dataset.train_labels, seed=seed)
            probe = fit_probe(train_x, dataset.train_labels, C=C, seed=seed)
            table.loc[extractor.name, dataset.name] = probe.accuracy(test_x, dataset.test_labels)
    return table


@dataclass
class GenericLocalization:
    """CAMs of one SVM on images it never saw. ``cams`` (N, h, w) of the predicted class, ``boxes``
    (N, 4) from them; accuracy and hit rates (IoU >= 0.5) in percent."""

    accuracy: float
    hit_rates: dict[str, float]
    predictions: np.ndarray
    cams: torch.Tensor
    boxes: np.ndarray


def generic_localization(probes: dict[str, LinearProbe], classifier: PretrainedClassifier, split: LocalizationSplit,
                         size: int = 224, threshold: float = 0.2) -> dict[str, GenericLocalization]:
    """Apply each probe (trained on ``classifier``'s GAP features of other images, with the labels
    of ``split.class_names``) to ``split``: classify each image, box the CAM of the predicted and
    of the labelled class (paper's rule) and score the boxes against the ground truth."""
    feats = extract(classifier, split.images, size=size, desc="test canvases")
    sizes = np.tile(split.images.shape[1:3], (len(split), 1))
    results = {}
    for name, probe in probes.items():
        predictions = probe.predict(feats.pooled)
        cams = probe.cams(feats.maps, torch.stack([probe.rows(predictions), probe.rows(split.labels)], dim=1))
        boxes = cam_boxes(cams[:, 0], sizes, threshold)
        hit_rates = {"CAM box (predicted class)": hit_rate(boxes, split.boxes),
                     "CAM box (labelled class)": hit_rate(cam_boxes(cams[:, 1], sizes, threshold), split.boxes)}
        accuracy = float(100.0 * np.mean(predictions == split.labels))
        results[name] = GenericLocalization(accuracy, hit_rates, predictions, cams[:, 0], boxes)
    return results


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


def table5_claims(table: pd.DataFrame, n_test: dict[str, int], gap: str, original: str, deep: str, floor: str) -> pd.DataFrame:
    """The claims behind Table 5 on each data set (columns of ``table``, with ``n_test`` test images):
    the ``gap`` features are not worse than the ``original`` network's (the paper: GoogLeNet-GAP vs
    GoogLeNet's average pool, whose mean difference over its 8 data sets is printed), and ``deep``
    features beat the raw-pixel ``floor``. ``ours`` is the accuracy difference in points and ``margin``
    the book's noise margin for it (two standard errors, :func:`camlib.claims.margin`). "Not worse"
    holds unless ``gap`` is worse by more than the margin; "beats" is judged by :func:`camlib.claims.higher`."""
    paper = paper_table("table5_deep_features").astype(float)
    paper_diff = (paper.loc["gap from GoogLeNet-GAP"] - paper.loc["ave pool from GoogLeNet"]).mean()
    rows = []
    for name in table.columns:
        acc = table[name]
        n = n_test[name]
        difference, noise = acc[gap] - acc[original], margin(acc[gap], acc[original], n)
        rows.append({"data set": name, "claim": f"{gap} not worse than {original}",
                     "paper": f"mean difference {paper_diff:+.2f}", "ours": f"{difference:+.1f}",
                     "margin (2 SE)": f"{noise:.1f}", "holds?": "no" if difference < -noise else "yes"})
        rows.append({"data set": name, "claim": f"{deep} beats {floor}", "paper": "(implied)",
                     "ours": f"{acc[deep] - acc[floor]:+.1f}", "margin (2 SE)": f"{margin(acc[deep], acc[floor], n):.1f}",
                     "holds?": higher(acc[deep], acc[floor], n)})
    return pd.DataFrame(rows).set_index(["claim", "data set"]).sort_index(level=0, sort_remaining=False)
