"""Table 4's protocol: fine-grained recognition from CAM crops, with a fixed GAP feature extractor.

1. Extract GAP features of the full images (train, dev, test), fit a linear SVM on the train
   images, its ``C`` chosen on the dev images.
2. CAMs from the SVM's weights (train images: the labelled class; dev/test images: the predicted
   class), boxes by the paper's threshold rule in each image's own pixels, enlarged by a margin.
3. Crop the images to those boxes, re-extract features from the crops, fit a new SVM on the train
   crops and score the dev crops (to choose the margin) and then, once, the test crops. The same with
   the ground-truth boxes (the upper reference), a random box of a training size and a centre box
   (the chance references), and the ground-truth box cut from the image at the network's input
   resolution (what cropping gains from the extra pixels of a larger photo).
4. Localization: the share of test CAM boxes with IoU >= 0.5 against the ground truth, next to
   chance baselines (see :func:`random_boxes`).

Images are loaded on demand (:class:`BoxedImages`), so the same code runs on the generated bird
benchmark (rendered from its recipe) and on CUB-200-2011's 11,788 JPEGs. Features are cached under
``<data root>/cache/features``.
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
from camlib.claims import higher, margin
from camlib.data.boxdataset import BoxImageDataset
from camlib.data.composites import (
    CUB_BOX_HISTOGRAM,
    CompositeSpec,
    CompositeSplit,
    class_names,
    composite_key,
    load_composites,
)
from camlib.data.cub import CUB200
from camlib.data.localization_split import LocalizationSplit
from camlib.data.paths import cache_dir
from camlib.data.stamps import GROUPS_FILE
from camlib.errors import CamlibError
from camlib.features import extract
from camlib.images import load_image
from camlib.metrics.boxes import hit_rate, paired_iou
from camlib.models.pretrained import PretrainedClassifier
from camlib.paper import paper_table
from camlib.plots import draw_cam_and_boxes
from camlib.probe import C_GRID, LinearProbe, fit_probe

#: The three classification rows of Table 4, in the paper's order, then our references.
SETTINGS = ("full image", "CAM crop", "GT box crop")
REFERENCES = ("random box crop", "centre crop", "GT box crop from 224 px")
#: Group 1 of ``stamps_groups.tsv``: 35 photographed birds, each a different species.
BIRD_GROUP = 1
#: The CPU-scale stand-in for CUB-200-2011: each bird stamp its own class, one bird per image with
#: CUB's box sizes (``box_statistics.md``), on real background photos, 448 px images (CUB's photos
#: are about 500 x 360; the network sees 224 px), train / dev / test drawn independently.
CPU_SPEC = CompositeSpec(size=448, splits=(("train", 175), ("dev", 105), ("test", 280)), stamps=GROUPS_FILE,
                         multi_share=0.0, share_histogram=CUB_BOX_HISTOGRAM, classes="stamp", groups=(BIRD_GROUP,), seed=5)
#: CAM-box margins tried on the dev split (each side of the box grows by half of it).
MARGINS = (0.0, 0.25, 0.5)
#: Box-share bins of the object-size analysis.
SIZE_BINS = (0.0, 0.2, 0.4, 1.0)


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
        """A benchmark split held in memory."""
        n, h, w = split.images.shape[:3]
        return cls(lambda i: Image.fromarray(split.images[i]), split.labels.astype(np.int64), split.boxes.astype(np.float32),
                   np.tile([h, w], (n, 1)).astype(np.int64), name, tuple(split.class_names))

    @classmethod
    def from_composites(cls, split: CompositeSplit, name: str, names: tuple[str, ...]) -> "BoxedImages":
        """A composite split with one instance per image, rendered from its recipe on access."""
        first = split.arrays["first"]
        if (np.diff(first) != 1).any():
            raise CamlibError(f"{name}: the cropping protocol needs exactly one object per image (multi_share=0)")
        n = len(split)
        return cls(lambda i: Image.fromarray(split.render(i)[0]), split.labels.astype(np.int64),
                   split.arrays["boxes"][first[:-1]].astype(np.float32), np.tile([split.size, split.size], (n, 1)).astype(np.int64),
                   name, names)

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

    def subset(self, indices: np.ndarray, name: str) -> "BoxedImages":
        """The images at ``indices``, named ``name``."""
        indices = np.asarray(indices, dtype=np.int64)
        return BoxedImages(lambda i: self.load(int(indices[i])), self.labels[indices], self.boxes[indices],
                           self.sizes[indices], name, self.class_names)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self.load(i) for i in range(*index.indices(len(self)))]
        return self.load(int(index))

    def view(self, size: int, boxes: np.ndarray | None = None, source_size: int | None = None) -> "ImageView":
        """The images (cropped to ``boxes (N, 4)`` if given) resized to ``size`` x ``size``, lazily;
        ``source_size``: crop from the image first resized to that square size (fewer pixels)."""
        return ImageView(self, size, boxes, source_size)

    def box_shares(self) -> np.ndarray:
        """``(N,)`` share of each image covered by its ground-truth box."""
        return np.prod(self.boxes[:, 2:] - self.boxes[:, :2], axis=1) / np.prod(self.sizes, axis=1)


@dataclass
class ImageView(Sequence):
    """Item ``i`` is ``images[i]``, cut to ``pixel_box(boxes[i])`` when boxes are given, resized to
    ``size`` x ``size`` (bilinear, antialiased) as the extractor sees it. With ``source_size`` the
    image is first resized to ``source_size`` x ``source_size`` and the box scaled with it."""

    images: BoxedImages
    size: int
    boxes: np.ndarray | None = None
    source_size: int | None = None

    def __post_init__(self) -> None:
        if self.boxes is not None and self.boxes.shape != (len(self.images), 4):
            raise CamlibError(f"need one box per image: {len(self.images)} images, boxes of shape {self.boxes.shape}")

    def __len__(self) -> int:
        return len(self.images)

    def _item(self, i: int) -> Image.Image:
        image, hw = self.images[i], tuple(self.images.sizes[i])
        if self.boxes is None:
            return image.resize((self.size, self.size), Image.BILINEAR, reducing_gap=None)
        box = self.boxes[i]
        if self.source_size is not None:
            image = image.resize((self.source_size, self.source_size), Image.BILINEAR, reducing_gap=None)
            box = box * np.array([self.source_size / hw[1], self.source_size / hw[0]] * 2)
            hw = (self.source_size, self.source_size)
        image = image.crop(tuple(int(v) for v in pixel_box(box, hw)))
        return image.resize((self.size, self.size), Image.BILINEAR, reducing_gap=None)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self._item(i) for i in range(*index.indices(len(self)))]
        return self._item(int(index))


def table4_images(scale: str = "default") -> dict[str, BoxedImages]:
    """Train, dev and test images of Table 4: CUB-200-2011 (``scale="full"``, from ``<data root>/full``;
    dev = every fifth training image) or the generated :data:`CPU_SPEC` bird benchmark (``"default"``)."""
    if scale == "full":
        train, test = (BoxedImages.from_dataset(CUB200(split=split), f"cub-{split}") for split in ("train", "test"))
        index = np.arange(len(train))
        return {"train": train.subset(index[index % 5 != 0], "cub-train-fit"),
                "dev": train.subset(index[index % 5 == 0], "cub-train-dev"), "test": test}
    if scale not in ("default", "gpu"):
        raise CamlibError(f"scale must be 'default', 'gpu' or 'full', got {scale!r}")
    splits, names = load_composites(CPU_SPEC, progress=False), class_names(CPU_SPEC)
    return {name: BoxedImages.from_composites(split, f"birds-{composite_key(CPU_SPEC)}-{name}", names)
            for name, split in splits.items()}


def pixel_box(box: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Whole pixels covering ``box`` (floor/ceil), clipped to an image of ``size`` ``(H, W)``, at least 1 x 1."""
    height, width = size
    x0 = int(np.clip(np.floor(box[0]), 0, width - 1))
    y0 = int(np.clip(np.floor(box[1]), 0, height - 1))
    x1 = int(np.clip(np.ceil(box[2]), x0 + 1, width))
    y1 = int(np.clip(np.ceil(box[3]), y0 + 1, height))
    return np.array([x0, y0, x1, y1], dtype=np.int64)


def enlarge_boxes(boxes: np.ndarray, margin: float, sizes: np.ndarray) -> np.ndarray:
    """``boxes (N, 4)`` with width and height grown by ``margin`` (0.25: +25%, half on each side),
    about the same centre, clipped to images of ``sizes (N, 2)`` ``(H, W)``."""
    if margin < 0:
        raise CamlibError(f"the crop margin is a non-negative fraction of the box, got {margin}")
    grow = (boxes[:, 2:] - boxes[:, :2]) * margin / 2
    limit = sizes[:, ::-1].astype(np.float32)
    low = np.clip(boxes[:, :2] - grow, 0, limit)
    high = np.clip(boxes[:, 2:] + grow, 0, limit)
    return np.concatenate([low, high], axis=1).astype(np.float32)


def centre_boxes(sizes: np.ndarray, relative: np.ndarray) -> np.ndarray:
    """A box of the mean relative ``(width, height)`` of ``relative (M, 2)`` at the centre of each image of ``sizes (N, 2)``."""
    w, h = relative.mean(axis=0)
    hw = sizes.astype(np.float32)
    half = np.stack([hw[:, 1] * w / 2, hw[:, 0] * h / 2], axis=1)
    centre = hw[:, ::-1] / 2
    return np.concatenate([centre - half, centre + half], axis=1).astype(np.float32)


def pooled_features(classifier: PretrainedClassifier, images: Sequence, size: int, key: str, desc: str) -> torch.Tensor:
    """GAP features ``(N, K)`` of ``images``, cached as ``<data root>/cache/features/<key>.pt``."""
    path = cache_dir() / "features" / f"{key}.pt"
    return cached(path, lambda: extract(classifier, images, size=size, keep_maps=False, desc=desc).pooled)


def choose_c_on_dev(train: torch.Tensor, train_labels: np.ndarray, dev: torch.Tensor, dev_labels: np.ndarray,
                    grid: Sequence[float] = C_GRID, seed: int = 0) -> tuple[float, dict[float, float]]:
    """The ``C`` of ``grid`` whose SVM, fit on ``train (N, K)``, is most accurate on ``dev (M, K)`` (the
    smallest among ties); returns it and every ``C``'s dev accuracy (%)."""
    scores = {c: fit_probe(train, train_labels, C=c, seed=seed).accuracy(dev, dev_labels) for c in sorted(grid)}
    best = max(scores.values())
    return min(c for c, s in scores.items() if s == best), scores


def full_image_stage(classifier: PretrainedClassifier, images: dict[str, BoxedImages], size: int, seed: int = 0) -> dict:
    """Steps 1-2 without boxes: pooled features, the SVM (``C`` chosen on dev), its predictions and CAMs (cached).

    Returns ``{"probe", "C", "dev_scores" ({C: dev accuracy}), "<split>_pooled" (N, K), "<split>_cams" (N, h, w):
    train of the labelled class, dev and test of the predicted class, "test_known_cams" (labelled class),
    "<split>_predictions" (N,) for dev and test}``.
    """
    train, dev, test = images["train"], images["dev"], images["test"]
    key = (f"cropping-{classifier.name}-{size}px-{train.name}-{dev.name}-{test.name}-Cdev-seed{seed}-"
           f"{array_fingerprint(train.labels, train.boxes, dev.labels, test.labels, test.boxes)}")

    def build() -> dict:
        feats = {name: extract(classifier, images[name].view(size), size=size, desc=f"{name} images") for name in images}
        chosen, scores = choose_c_on_dev(feats["train"].pooled, train.labels, feats["dev"].pooled, dev.labels, seed=seed)
        probe = fit_probe(feats["train"].pooled, train.labels, C=chosen, seed=seed)
        out = {"probe": dataclasses.asdict(probe), "C": chosen, "dev_scores": scores,
               "train_cams": probe.cams(feats["train"].maps, probe.rows(train.labels)[:, None])[:, 0]}
        for name in ("dev", "test"):
            predictions = probe.predict(feats[name].pooled)
            out[f"{name}_predictions"] = predictions
            out[f"{name}_cams"] = probe.cams(feats[name].maps, probe.rows(predictions)[:, None])[:, 0]
        out["test_known_cams"] = probe.cams(feats["test"].maps, probe.rows(test.labels)[:, None])[:, 0]
        for name in images:
            out[f"{name}_pooled"] = feats[name].pooled
        return out

    stored = cached(cache_dir() / "features" / f"{key}.pt", build)  # caches hold data: the probe as its fields
    return {**stored, "probe": LinearProbe(**stored["probe"])}


@dataclass
class CroppingResult:
    """Everything the protocol measured (accuracies and hit rates in percent)."""

    accuracy: dict[str, float]  # test accuracy of each setting (SETTINGS + REFERENCES)
    localization: dict[str, float]
    C: dict[str, float]  # the SVM regularisation used in each setting
    dev_margins: pd.DataFrame  # dev accuracy of the CAM crop per margin (and of the full image)
    margin: float  # the margin chosen on dev
    threshold: float
    train_boxes: np.ndarray
    test_boxes: np.ndarray  # the CAM boxes cropped (margin included)
    test_iou: np.ndarray  # (N,) IoU of each test CAM box (no margin) with the ground truth
    test_shares: np.ndarray  # (N,) ground-truth box share of each test image
    test_correct: dict[str, np.ndarray] = field(repr=False)  # per setting, (N,) bool
    test_cams: torch.Tensor = field(repr=False)  # (N, h, w) of the predicted class
    test_predictions: np.ndarray = field(repr=False)
    probe: LinearProbe = field(repr=False)

    def accuracy_table(self, model: str, settings: Sequence[str] = SETTINGS) -> pd.DataFrame:
        """Rows ``"<model> on <setting>"`` (Table 4's three by default)."""
        rows = {f"{model} on {setting}": [self.accuracy[setting]] for setting in settings}
        return pd.DataFrame.from_dict(rows, orient="index", columns=["accuracy"])

    def _groups(self, groups: dict[str, np.ndarray]) -> pd.DataFrame:
        rows = {name: {"images": int(mask.sum()),
                       **{s: 100.0 * float(self.test_correct[s][mask].mean()) if mask.any() else float("nan")
                          for s in (*SETTINGS, *REFERENCES)}}
                for name, mask in groups.items()}
        return pd.DataFrame.from_dict(rows, orient="index")

    def accuracy_by_hit(self, iou_threshold: float = 0.5) -> pd.DataFrame:
        """Accuracy of each setting on the test images whose CAM box hit the object and on those it missed."""
        hit = self.test_iou >= iou_threshold
        return self._groups({f"CAM box hit (IoU >= {iou_threshold:g})": hit, "CAM box missed": ~hit})

    def accuracy_by_size(self, bins: Sequence[float] = SIZE_BINS) -> pd.DataFrame:
        """Accuracy of each setting on the test images whose ground-truth box covers each ``bins`` range of the image."""
        groups = {f"box {100 * lo:.0f}-{100 * hi:.0f}% of image": (self.test_shares >= lo) & (self.test_shares < hi)
                  for lo, hi in zip(bins[:-1], bins[1:])}
        return self._groups(groups)

    def localization_table(self) -> pd.DataFrame:
        """Hit rates at IoU >= 0.5: the CAM boxes and the chance baselines."""
        return pd.DataFrame.from_dict({k: [v] for k, v in self.localization.items()}, orient="index", columns=["accuracy"])


def _crop_features(classifier: PretrainedClassifier, images: BoxedImages, boxes: np.ndarray, size: int, what: str,
                   source_size: int | None = None) -> torch.Tensor:
    key = (f"crop-{classifier.name}-{size}px-{images.name}-src{source_size or 'full'}-{array_fingerprint(boxes)}")
    return pooled_features(classifier, images.view(size, boxes, source_size), size, key, f"{images.name[-5:]} {what}")


def _score(train: torch.Tensor, train_labels: np.ndarray, test: torch.Tensor, test_labels: np.ndarray, C: float,
           seed: int) -> np.ndarray:
    return fit_probe(train, train_labels, C=C, seed=seed).predict(test) == test_labels


def run_cropping(
    classifier: PretrainedClassifier,
    images: dict[str, BoxedImages],
    size: int = 224,
    threshold: float = 0.2,
    margins: Sequence[float] = MARGINS,
    chance_draws: int = 100,
    seed: int = 0,
) -> CroppingResult:
    """Run Table 4's protocol (module docstring) with ``classifier`` as the fixed extractor at ``size`` px.

    ``images`` holds ``"train"``, ``"dev"`` and ``"test"``. The full-image SVM's ``C`` is chosen on dev; the
    CAM crop's margin (of ``margins``) and its SVM's ``C`` too, jointly; every other crop setting uses
    the CAM crop's ``C``. The test images are used only to score.
    """
    check_threshold(threshold)
    train, dev, test = (images[name] for name in ("train", "dev", "test"))
    if min(len(train), len(dev), len(test)) == 0:
        raise CamlibError("the cropping protocol needs train, dev and test images")
    stage = full_image_stage(classifier, images, size, seed)
    correct = {"full image": stage["test_predictions"] == test.labels}
    chosen = {"full image": stage["C"]}
    boxes = {"train": cam_boxes(stage["train_cams"], train.sizes, threshold),
             "dev": cam_boxes(stage["dev_cams"], dev.sizes, threshold),
             "test": cam_boxes(stage["test_cams"], test.sizes, threshold)}
    dev_rows, best = {}, None
    for m in margins:
        tr = _crop_features(classifier, train, enlarge_boxes(boxes["train"], m, train.sizes), size, f"CAM crops +{m:g}")
        dv = _crop_features(classifier, dev, enlarge_boxes(boxes["dev"], m, dev.sizes), size, f"CAM crops +{m:g}")
        c, scores = choose_c_on_dev(tr, train.labels, dv, dev.labels, seed=seed)
        dev_rows[f"CAM crop, margin {100 * m:.0f}%"] = {"dev accuracy": scores[c], "C": c}
        if best is None or scores[c] > best[0]:
            best = (scores[c], m, c, tr)
    dev_rows["full image"] = {"dev accuracy": stage["dev_scores"][stage["C"]], "C": stage["C"]}
    _, chosen_margin, crop_c, train_crops = best
    test_boxes = enlarge_boxes(boxes["test"], chosen_margin, test.sizes)
    train_boxes = enlarge_boxes(boxes["train"], chosen_margin, train.sizes)
    te = _crop_features(classifier, test, test_boxes, size, f"CAM crops +{chosen_margin:g}")
    correct["CAM crop"] = _score(train_crops, train.labels, te, test.labels, crop_c, seed)
    train_relative = (train.boxes[:, 2:] - train.boxes[:, :2]) / train.sizes[:, ::-1]
    references = {
        "GT box crop": (train.boxes, test.boxes, None),
        "random box crop": (random_boxes(train.sizes, 1, seed, relative_sizes=train_relative)[:, 0],
                            random_boxes(test.sizes, 1, seed + 1, relative_sizes=train_relative)[:, 0], None),
        "centre crop": (centre_boxes(train.sizes, train_relative), centre_boxes(test.sizes, train_relative), None),
        "GT box crop from 224 px": (train.boxes, test.boxes, size),
    }
    for setting, (tr_boxes, te_boxes, source) in references.items():
        tr = _crop_features(classifier, train, tr_boxes, size, setting, source)
        te = _crop_features(classifier, test, te_boxes, size, setting, source)
        correct[setting] = _score(tr, train.labels, te, test.labels, crop_c, seed)
    chosen.update({setting: crop_c for setting in correct if setting != "full image"})
    accuracy = {setting: 100.0 * float(correct[setting].mean()) for setting in (*SETTINGS, *REFERENCES)}
    known_boxes = cam_boxes(stage["test_known_cams"], test.sizes, threshold)
    test_iou = paired_iou(boxes["test"], test.boxes)
    localization = {
        "CAM box (predicted class)": float(100.0 * np.mean(test_iou >= 0.5)),
        "CAM box (labelled class)": hit_rate(known_boxes, test.boxes),
        "chance: random box": hit_rate(random_boxes(test.sizes, chance_draws, seed), test.boxes),
        "chance: box of a training size, random place": hit_rate(
            random_boxes(test.sizes, chance_draws, seed, relative_sizes=train_relative), test.boxes),
        "centre box of the mean training size": hit_rate(centre_boxes(test.sizes, train_relative), test.boxes),
    }
    return CroppingResult(accuracy, localization, chosen, pd.DataFrame.from_dict(dev_rows, orient="index"), chosen_margin,
                          threshold, train_boxes, test_boxes, test_iou, test.box_shares(), correct, stage["test_cams"],
                          stage["test_predictions"], stage["probe"])


def _row(claim: str, paper: str, a: float, b: float, n: int, verdict: str, why: str) -> dict[str, str]:
    return {"claim": claim, "paper": paper, "measured": f"{a:.1f} vs {b:.1f} (n={n}, margin {margin(a, b, n):.1f})",
            "holds?": verdict, "why": why if verdict == "no" else ""}


def table4_claims(result: CroppingResult) -> pd.DataFrame:
    """The paper's claims about Table 4 and our diagnosis, checked on ``result`` with :mod:`camlib.claims`'s noise rule."""
    paper = paper_table("table4_cub")["accuracy"].astype(float)
    loc = paper_table("cub_localization")["accuracy"].astype(float)
    acc, n = result.accuracy, len(result.test_iou)
    chance = max(v for k, v in result.localization.items() if k != "CAM box (predicted class)" and k != "CAM box (labelled class)")
    cam_hit = result.localization["CAM box (predicted class)"]
    small = result.test_shares < SIZE_BINS[1]
    n_small = int(small.sum())
    small_acc = {s: 100.0 * float(result.test_correct[s][small].mean()) for s in SETTINGS}
    rows = [
        _row("a CAM crop beats the full image", f"{paper['GoogLeNet-GAP on crop']:.1f} vs {paper['GoogLeNet-GAP on full image']:.1f}",
             acc["CAM crop"], acc["full image"], n, higher(acc["CAM crop"], acc["full image"], n),
             "Set-up: the same bird photo is in train and test, so the full-image features already recognise it "
             "and the crop has little left to add."),
        _row("the ground-truth box beats the CAM crop", f"{paper['GoogLeNet-GAP on BBox']:.1f} vs {paper['GoogLeNet-GAP on crop']:.1f}",
             acc["GT box crop"], acc["CAM crop"], n, higher(acc["GT box crop"], acc["CAM crop"], n),
             "Set-up: the CAM box of an instance seen in training is nearly as good a crop as the annotated one."),
        _row("CAM boxes hit the object far more often than chance", f"{loc['CAM box']:.1f} vs {loc['chance']:.1f}",
             cam_hit, chance, n, higher(cam_hit, chance, n),
             "Method: the SVM's CAM does not single out the bird on these backgrounds."),
        _row("the ground-truth crop beats the full image (a crop can help at all)",
             f"{paper['GoogLeNet-GAP on BBox']:.1f} vs {paper['GoogLeNet-GAP on full image']:.1f}",
             acc["GT box crop"], acc["full image"], n, higher(acc["GT box crop"], acc["full image"], n),
             "Set-up: the full image already holds enough of the bird for an instance seen in training."),
        _row("cropping gains from the photo's extra pixels (GT crop from 448 px beats it from 224 px)", "not reported",
             acc["GT box crop"], acc["GT box crop from 224 px"], n, higher(acc["GT box crop"], acc["GT box crop from 224 px"], n),
             "Set-up: the 224 px crop, upsampled, still shows this known photo well enough."),
        _row("on small birds (box < 20% of the image) the ground-truth crop beats the full image", "not reported",
             small_acc["GT box crop"], small_acc["full image"], n_small,
             higher(small_acc["GT box crop"], small_acc["full image"], n_small),
             "Set-up: even small birds are recognised from the full image when the same photo was seen in training."),
        _row("on small birds (box < 20% of the image) a CAM crop beats the full image", "not reported",
             small_acc["CAM crop"], small_acc["full image"], n_small, higher(small_acc["CAM crop"], small_acc["full image"], n_small),
             "Scale: few small birds in CUB's size distribution, so the test has little power there."),
    ]
    return pd.DataFrame(rows).set_index("claim")


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


def plot_diagnosis(result: CroppingResult):
    """Left: dev accuracy of the CAM crop by margin (full image dashed). Right: test accuracy of the
    full image, the CAM crop and the GT crop by object size, with two-standard-error bars. Returns the figure."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.6))
    dev = result.dev_margins
    crops = dev.drop(index="full image")
    left.plot([100 * m for m in MARGINS[:len(crops)]], crops["dev accuracy"], "o-", label="CAM crop")
    left.axhline(dev.loc["full image", "dev accuracy"], color="grey", linestyle="--", label="full image")
    left.set_xlabel("crop margin (% of the CAM box)")
    left.set_ylabel("dev accuracy (%)")
    left.legend(fontsize=8)
    by_size = result.accuracy_by_size()
    x = np.arange(len(by_size))
    for k, setting in enumerate((*SETTINGS, "GT box crop from 224 px")):
        acc = by_size[setting].to_numpy()
        err = 2 * np.sqrt(acc * (100 - acc) / by_size["images"].to_numpy())
        right.bar(x + (k - 1.5) * 0.2, acc, 0.2, yerr=err, capsize=2, label=setting)
    right.set_xticks(x, [f"{name}\n(n={n})" for name, n in zip(by_size.index, by_size["images"])], fontsize=8)
    right.set_ylabel("test accuracy (%)")
    right.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return fig
