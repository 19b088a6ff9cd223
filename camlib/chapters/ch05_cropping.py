"""Table 4's protocol: fine-grained recognition from CAM crops, with a fixed GAP feature extractor.

1. Extract GAP features of the full images (train and test) and fit a linear SVM on them.
2. CAMs from the SVM's weights (train images: the labelled class; test images: the predicted
   class), boxes by the paper's threshold rule, in each image's own pixels.
3. Crop the images to those boxes (and, as the upper reference, to the ground-truth boxes),
   re-extract features from the crops, fit a new SVM on the train crops, score the test crops.
4. Localization: the share of test CAM boxes with IoU >= 0.5 against the ground truth, next to
   chance baselines (see :func:`random_boxes`).

Images are loaded on demand (:class:`BoxedImages`), so the same code runs on a generated benchmark
in memory and on CUB-200-2011's 11,788 JPEGs. Features are cached under ``<data root>/cache/features``.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Callable, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from PIL import Image

from camlib.baselines import random_boxes
from camlib.box_rules import check_threshold
from camlib.cache import array_fingerprint, cached
from camlib.cam import cam_boxes
from camlib.claims import lower
from camlib.data.boxdataset import BoxImageDataset
from camlib.data.cub import CUB200
from camlib.data.localization_split import LocalizationSplit
from camlib.data.paths import cache_dir
from camlib.data.synthetic import FINE_GRAINED_SPEC, load_benchmark
from camlib.errors import CamlibError
from camlib.features import extract
from camlib.images import load_image
from camlib.metrics.boxes import hit_rate, paired_iou
from camlib.models.pretrained import PretrainedClassifier
from camlib.paper import paper_table
from camlib.plots import draw_cam_and_boxes
from camlib.probe import LinearProbe, choose_c, fit_probe

#: The three classification rows of Table 4, in the paper's order.
SETTINGS = ("full image", "CAM crop", "GT box crop")

#: The CPU-scale stand-in for CUB-200-2011: the four look-alike upper-body classes of the fine-grained
#: benchmark, with objects large enough (box ~1/4 of the canvas on average) for the full-image SVM
#: to recognise them at all, among four distractor fragments on a photo background.
CPU_SPEC = dataclasses.replace(FINE_GRAINED_SPEC, object_size=(48, 96), n_distractors=4, n_train=600, n_val=0, n_test=400)


@dataclass
class BoxedImages(Sequence):
    """``N`` images with one label and one ground-truth box each; indexing loads PIL images.

    Attributes:
        load: ``load(i)`` -> the ``i``-th image as RGB PIL.
        labels: int64 ``(N,)``.
        boxes: float32 ``(N, 4)`` ``[x0, y0, x1, y1]`` in the image's own pixels.
        sizes: int64 ``(N, 2)`` each image's ``(H, W)``.
        name: identifies the images in cache file names (a data set, split and seed).
        class_names: names of the labels.
    """

    load: Callable[[int], Image.Image]
    labels: np.ndarray
    boxes: np.ndarray
    sizes: np.ndarray
    name: str
    class_names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        n = len(self.labels)
        if self.boxes.shape != (n, 4) or self.sizes.shape != (n, 2):
            raise CamlibError(f"{self.name}: need labels (N,), boxes (N, 4), sizes (N, 2); got "
                              f"{self.labels.shape}, {self.boxes.shape}, {self.sizes.shape}")

    @classmethod
    def from_split(cls, split: LocalizationSplit, name: str) -> "BoxedImages":
        """A generated benchmark split (images in memory)."""
        n, h, w = split.images.shape[:3]
        return cls(lambda i: Image.fromarray(split.images[i]), split.labels.astype(np.int64), split.boxes.astype(np.float32),
                   np.tile([h, w], (n, 1)).astype(np.int64), name, tuple(split.class_names))

    @classmethod
    def from_dataset(cls, dataset: BoxImageDataset, name: str) -> "BoxedImages":
        """A data set of image files with one box each (e.g. :class:`camlib.data.cub.CUB200`); sizes come from the file headers."""
        records = dataset.records
        if any(len(r.boxes) != 1 for r in records):
            raise CamlibError(f"{name}: the cropping protocol needs exactly one ground-truth box per image")
        sizes = []
        for record in records:
            with Image.open(record.path) as img:
                sizes.append((img.height, img.width))
        return cls(lambda i: load_image(records[i].path), dataset.labels, np.stack([r.boxes[0] for r in records]).astype(np.float32),
                   np.asarray(sizes, dtype=np.int64).reshape(-1, 2), name, tuple(dataset.class_names))

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self.load(i) for i in range(*index.indices(len(self)))]
        return self.load(int(index))

    def view(self, size: int, boxes: np.ndarray | None = None) -> "ImageView":
        """The images (cropped to ``boxes (N, 4)`` if given) resized to ``size`` x ``size``, lazily."""
        return ImageView(self, size, boxes)


@dataclass
class ImageView(Sequence):
    """Item ``i`` is ``images[i]``, cut to ``pixel_box(boxes[i])`` when boxes are given, resized to
    ``size`` x ``size`` (bilinear, antialiased) as the extractor sees it."""

    images: BoxedImages
    size: int
    boxes: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.boxes is not None and self.boxes.shape != (len(self.images), 4):
            raise CamlibError(f"need one box per image: {len(self.images)} images, boxes of shape {self.boxes.shape}")

    def __len__(self) -> int:
        return len(self.images)

    def _item(self, i: int) -> Image.Image:
        image = self.images[i]
        if self.boxes is not None:
            image = image.crop(tuple(int(v) for v in pixel_box(self.boxes[i], tuple(self.images.sizes[i]))))
        return image.resize((self.size, self.size), Image.BILINEAR, reducing_gap=None)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self._item(i) for i in range(*index.indices(len(self)))]
        return self._item(int(index))


def table4_images(scale: str = "default") -> tuple[BoxedImages, BoxedImages]:
    """Train and test images of Table 4: CUB-200-2011 (``scale="full"``, from ``<data root>/full``)
    or the generated :data:`CPU_SPEC` benchmark (``"default"``)."""
    if scale == "full":
        return tuple(BoxedImages.from_dataset(CUB200(split=split), f"cub-{split}") for split in ("train", "test"))
    if scale != "default":
        raise CamlibError(f"scale must be 'default' or 'full', got {scale!r}")
    splits = load_benchmark(CPU_SPEC, progress=False)
    return tuple(BoxedImages.from_split(splits[split], f"fashion-loc-{CPU_SPEC.key()}-{split}") for split in ("train", "test"))


def pixel_box(box: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Whole pixels covering ``box`` (floor/ceil), clipped to an image of ``size`` ``(H, W)``, at least 1 x 1."""
    height, width = size
    x0 = int(np.clip(np.floor(box[0]), 0, width - 1))
    y0 = int(np.clip(np.floor(box[1]), 0, height - 1))
    x1 = int(np.clip(np.ceil(box[2]), x0 + 1, width))
    y1 = int(np.clip(np.ceil(box[3]), y0 + 1, height))
    return np.array([x0, y0, x1, y1], dtype=np.int64)


def pooled_features(classifier: PretrainedClassifier, images: Sequence, size: int, key: str, desc: str) -> torch.Tensor:
    """GAP features ``(N, K)`` of ``images``, cached as ``<data root>/cache/features/<key>.pt``."""
    path = cache_dir() / "features" / f"{key}.pt"
    return cached(path, lambda: extract(classifier, images, size=size, keep_maps=False, desc=desc).pooled)


@dataclass
class CroppingResult:
    """Everything the protocol measured (accuracies and hit rates in percent)."""

    accuracy: dict[str, float]
    localization: dict[str, float]
    C: dict[str, float]  # the SVM regularisation used in each setting
    train_boxes: np.ndarray
    test_boxes: np.ndarray
    test_iou: np.ndarray  # (N,) IoU of each test CAM box with the ground truth
    test_correct: dict[str, np.ndarray] = field(repr=False)  # per setting, (N,) bool
    test_cams: torch.Tensor = field(repr=False)  # (N, h, w) of the predicted class
    test_predictions: np.ndarray = field(repr=False)
    probe: LinearProbe = field(repr=False)

    def accuracy_table(self, model: str) -> pd.DataFrame:
        """Table 4's three rows, e.g. ``"<model> on CAM crop"``."""
        rows = {f"{model} on {setting}": [self.accuracy[setting]] for setting in SETTINGS}
        return pd.DataFrame.from_dict(rows, orient="index", columns=["accuracy"])

    def accuracy_by_hit(self, iou_threshold: float = 0.5) -> pd.DataFrame:
        """Accuracy of each setting on the test images whose CAM box hit the object and on those it missed."""
        hit = self.test_iou >= iou_threshold
        groups = {f"CAM box hit (IoU >= {iou_threshold:g})": hit, "CAM box missed": ~hit}
        rows = {name: {"images": int(mask.sum()),
                       **{s: 100.0 * float(self.test_correct[s][mask].mean()) if mask.any() else float("nan") for s in SETTINGS}}
                for name, mask in groups.items()}
        return pd.DataFrame.from_dict(rows, orient="index")

    def localization_table(self) -> pd.DataFrame:
        """Hit rates at IoU >= 0.5: the CAM boxes and the chance baselines."""
        return pd.DataFrame.from_dict({k: [v] for k, v in self.localization.items()}, orient="index", columns=["accuracy"])


def fit_chosen(features: torch.Tensor, labels: np.ndarray, C: float | None, standardize: bool, seed: int) -> tuple[LinearProbe, float]:
    """A probe with the given ``C``, or with ``C`` chosen by cross-validation on these features when ``None``."""
    if C is None:
        C = choose_c(features, labels, standardize=standardize, seed=seed)[0]
    return fit_probe(features, labels, C=C, standardize=standardize, seed=seed), C


def full_image_stage(classifier: PretrainedClassifier, train: BoxedImages, test: BoxedImages, size: int,
                     C: float | None, standardize: bool, seed: int = 0) -> dict:
    """Step 1-2 without boxes: pooled features, the probe's predictions and the CAMs it needs (cached).

    Returns ``{"probe", "C", "train_pooled", "test_pooled" (N, K), "train_cams" (labelled class), "test_cams"
    (predicted class), "test_known_cams" (labelled class) (N, h, w), "test_predictions" (N,)}``.
    """
    key = (f"cropping-{classifier.name}-{size}px-{train.name}-{test.name}-C{'cv' if C is None else f'{C:g}'}-"
           f"std{int(standardize)}-seed{seed}-"
           f"{array_fingerprint(train.labels, train.boxes, test.labels, test.boxes)}")

    def build() -> dict:
        train_feats = extract(classifier, train.view(size), size=size, desc="train images")
        probe, chosen = fit_chosen(train_feats.pooled, train.labels, C, standardize, seed)
        train_cams = probe.cams(train_feats.maps, probe.rows(train.labels)[:, None])[:, 0]
        train_pooled = train_feats.pooled
        del train_feats  # free the maps before extracting the test set
        test_feats = extract(classifier, test.view(size), size=size, desc="test images")
        predictions = probe.predict(test_feats.pooled)
        rows = torch.stack([probe.rows(predictions), probe.rows(test.labels)], dim=1)
        test_cams = probe.cams(test_feats.maps, rows)
        return {"probe": dataclasses.asdict(probe), "C": chosen, "train_pooled": train_pooled, "test_pooled": test_feats.pooled, "train_cams": train_cams,
                "test_cams": test_cams[:, 0], "test_known_cams": test_cams[:, 1], "test_predictions": predictions}

    stored = cached(cache_dir() / "features" / f"{key}.pt", build)  # caches hold data: the probe as its fields
    return {**stored, "probe": LinearProbe(**stored["probe"])}


def run_cropping(
    classifier: PretrainedClassifier,
    train: BoxedImages,
    test: BoxedImages,
    size: int = 224,
    threshold: float = 0.2,
    C: float | None = None,
    standardize: bool = False,
    chance_draws: int = 100,
    seed: int = 0,
) -> CroppingResult:
    """Run Table 4's protocol (module docstring) with ``classifier`` as the fixed extractor at ``size`` px.

    ``C=None`` chooses each SVM's ``C`` by cross-validation on its own training features
    (:func:`camlib.probe.choose_c`); the test images are used only to score.
    """
    check_threshold(threshold)
    if len(train) == 0 or len(test) == 0:
        raise CamlibError("the cropping protocol needs at least one train and one test image")
    stage = full_image_stage(classifier, train, test, size, C, standardize, seed)
    probe = stage["probe"]
    correct = {"full image": stage["test_predictions"] == test.labels}
    chosen = {"full image": stage["C"]}
    train_boxes = cam_boxes(stage["train_cams"], train.sizes, threshold)
    test_boxes = cam_boxes(stage["test_cams"], test.sizes, threshold)
    prefix = f"crop-{classifier.name}-{size}px"
    for setting, tr_boxes, te_boxes in (("CAM crop", train_boxes, test_boxes), ("GT box crop", train.boxes, test.boxes)):
        tr = pooled_features(classifier, train.view(size, tr_boxes), size, f"{prefix}-{train.name}-{array_fingerprint(tr_boxes)}", f"train {setting}s")
        te = pooled_features(classifier, test.view(size, te_boxes), size, f"{prefix}-{test.name}-{array_fingerprint(te_boxes)}", f"test {setting}s")
        crop_probe, chosen[setting] = fit_chosen(tr, train.labels, C, standardize, seed)
        correct[setting] = crop_probe.predict(te) == test.labels
    accuracy = {setting: 100.0 * float(correct[setting].mean()) for setting in SETTINGS}
    known_boxes = cam_boxes(stage["test_known_cams"], test.sizes, threshold)
    train_relative = (train.boxes[:, 2:] - train.boxes[:, :2]) / train.sizes[:, ::-1]
    test_iou = paired_iou(test_boxes, test.boxes)
    localization = {
        "CAM box (predicted class)": float(100.0 * np.mean(test_iou >= 0.5)),
        "CAM box (labelled class)": hit_rate(known_boxes, test.boxes),
        "chance: random box": hit_rate(random_boxes(test.sizes, chance_draws, seed), test.boxes),
        "chance: box of a training size, random place": hit_rate(
            random_boxes(test.sizes, chance_draws, seed, relative_sizes=train_relative), test.boxes),
    }
    return CroppingResult(accuracy, localization, chosen, train_boxes, test_boxes, test_iou, correct, stage["test_cams"],
                          stage["test_predictions"], probe)


def table4_claims(result: CroppingResult, n_test: int) -> pd.DataFrame:
    """The paper's claims about Table 4, checked on ``result`` (``n_test`` test images) with the
    two-standard-error margin of :mod:`camlib.chapters.ch04_trained_networks.claims_table`."""
    paper = paper_table("table4_cub")["accuracy"].astype(float)
    loc = paper_table("cub_localization")["accuracy"].astype(float)
    acc = result.accuracy
    chance = max(v for k, v in result.localization.items() if k.startswith("chance"))
    cam_hit = result.localization["CAM box (predicted class)"]
    rows = [
        ("a CAM crop beats the full image", paper["GoogLeNet-GAP on crop"], paper["GoogLeNet-GAP on full image"],
         acc["CAM crop"], acc["full image"]),
        ("the ground-truth box beats the CAM crop", paper["GoogLeNet-GAP on BBox"], paper["GoogLeNet-GAP on crop"],
         acc["GT box crop"], acc["CAM crop"]),
        ("CAM boxes hit the object far more often than chance", loc["CAM box"], loc["chance"], cam_hit, chance),
    ]
    return pd.DataFrame(
        [{"claim": claim, "paper": f"{p1:.1f} vs {p2:.1f}", "ours": f"{o1:.1f} vs {o2:.1f}",
          "holds?": lower(100.0 - o1, 100.0 - o2, n_test)} for claim, p1, p2, o1, o2 in rows]
    ).set_index("claim")


def show_examples(test: BoxedImages, result: CroppingResult, indices: Sequence[int], size: float = 2.0):
    """Per test image (columns): the CAM of the predicted class with the ground-truth box (green) and
    the CAM box (red), then the two crops the second SVMs see. Returns the figure."""
    names = test.class_names or tuple(str(c) for c in np.unique(test.labels))
    fig, axes = plt.subplots(3, len(indices), figsize=(size * len(indices), size * 3.2), squeeze=False)
    for col, i in enumerate(indices):
        draw_cam_and_boxes(axes[0, col], np.asarray(test[i]), result.test_cams[i], test.boxes[i], result.test_boxes[i],
                           names[int(test.labels[i])], names[int(result.test_predictions[i])])
        for row, boxes in ((1, result.test_boxes), (2, test.boxes)):
            axes[row, col].imshow(test.view(96, boxes)[i])
            axes[row, col].set_xticks([])
            axes[row, col].set_yticks([])
    for row, label in enumerate(("CAM, GT box, CAM box", "CAM crop", "GT box crop")):
        axes[row, 0].set_ylabel(label, fontsize=8)
    fig.tight_layout()
    return fig
