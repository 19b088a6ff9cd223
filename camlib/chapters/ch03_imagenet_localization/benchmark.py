"""Tables 2 and 3 measured on the composites: every row is one :func:`camlib.evaluation.evaluate.evaluate` pass.

Rows: the four ImageNet networks' CAMs at their own input size, Lite0's CAM at twice its input
(448 px: 14x14 maps instead of 7x7), backprop saliency on Lite0 (raw at the paper's 20%, and blurred at its
own threshold, both chosen on dev: :mod:`.backprop_rule`), and the centre baseline. Each
network sees the whole composite resized to its input (as wsolevaluation evaluates), normalised
its own way. The CPU scale scores a fixed random subset of the test split; rows that cost more
(448 px, backprop) score a prefix of it, so every comparison is paired on the same images.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from camlib.data.generators.composites import CompositeSplit, largest_box_shares
from camlib.data.sets.real_photos import RealPhoto
from camlib.utils.errors import CamlibError
from camlib.evaluation.batches import composite_batches, real_photo_batches
from camlib.evaluation.evaluate import Evaluation, GtKnownScores, evaluate, evaluate_gt_known
from camlib.cam.box_rules import PAPER_THRESHOLD
from camlib.methods.map_methods import BackpropMaps, CAMMaps, CentreMaps, RecordedMaps, SmoothedMaps
from camlib.models.pretrained import SHORT_NAMES, PretrainedClassifier
from camlib.book.paper_tables import size_bins
from camlib.metrics.bootstrap import RESAMPLES

#: The packaged ImageNet networks, by camlib name -> row name.
NETWORKS = SHORT_NAMES
#: Our rows -> the paper's Table 2 row of the same design: a GAP network with a linear classifier
#: (GoogLeNet-GAP), a class-convolution head (NIN), gradient saliency on a GAP network.
PAPER_ROWS = {"Lite0": "GoogLeNet-GAP", "Lite1": "GoogLeNet-GAP", "Lite2": "GoogLeNet-GAP", "SqueezeNet 1.1": "NIN",
              "Lite0 at 448": "GoogLeNet-GAP",
              **{name: "Backprop on GoogLeNet" for row in NETWORKS.values() for name in (f"Backprop on {row}", f"Backprop on {row}, blurred")}}


@dataclass(frozen=True)
class Scale:
    """How many composites each row scores. ``test_images`` (of the 3,000) for the four networks and
    the centre baseline; the first ``high_res_images`` / ``backprop_images`` of them for Lite0 at
    ``high_res`` px and for backprop on the networks ``backprop_on``; ``dev_images`` (of the 500) for
    choosing defaults, the first ``backprop_dev_images`` of them for choosing backprop's blur and threshold."""

    test_images: int = 250
    high_res_images: int = 150
    backprop_images: int = 80
    dev_images: int = 200
    backprop_dev_images: int = 40
    backprop_on: tuple[str, ...] = ("Lite0",)
    high_res: int = 448
    resamples: int = RESAMPLES
    batch_size: int = 25
    seed: int = 0

    def __post_init__(self):
        if min(self.test_images, self.dev_images, self.high_res_images, self.backprop_images, self.backprop_dev_images) < 2:
            raise CamlibError("every row needs at least 2 images (bootstrap intervals)")
        if max(self.high_res_images, self.backprop_images) > self.test_images or self.backprop_dev_images > self.dev_images:
            raise CamlibError("the 448 px and backprop rows score a prefix of the test (and dev) images: use at most "
                              "test_images (and dev_images)")
        unknown = set(self.backprop_on) - set(NETWORKS.values())
        if unknown or "Lite0" not in self.backprop_on:
            raise CamlibError(f"backprop_on names rows of NETWORKS and includes Lite0 (the claims use it); got {self.backprop_on}")


#: What the chapter runs on 2 CPU cores; :data:`FULL` scores every composite (a GPU helps).
CPU = Scale()
FULL = Scale(test_images=3000, high_res_images=3000, backprop_images=3000, dev_images=500, backprop_dev_images=500,
             backprop_on=tuple(NETWORKS.values()))


def size_bin_rows(split: CompositeSplit, rows: np.ndarray) -> dict[str, np.ndarray]:
    """Positions in ``rows`` (not image indices) of the images whose largest box falls in each of
    :data:`camlib.book.paper_tables.SIZE_BINS`, named like ``"10-30%"``."""
    return size_bins(largest_box_shares(split)[rows])


def evaluate_cam(classifier: PretrainedClassifier, split: CompositeSplit, rows: np.ndarray, size: int | None = None,
                 batch_size: int = 25, desc: str | None = None) -> Evaluation:
    """Every Table 2-3 number of ``classifier``'s CAMs on the composites ``rows``, at ``size`` px
    (default: the network's own input)."""
    batches = composite_batches(split, rows, size or classifier.crop, classifier.mean, classifier.std, batch_size)
    return evaluate(CAMMaps(classifier.model), batches, num_classes=len(classifier.class_names), desc=desc)


#: Backprop's raw rule: no blur, boxed at the paper's 20% (its rule in the paper's Table 2).
RAW_BACKPROP = (0.0, PAPER_THRESHOLD)


def evaluate_backprop(classifier: PretrainedClassifier, split: CompositeSplit, rows: np.ndarray, batch_size: int = 25,
                      desc: str = "backprop", rules: dict[str, tuple[float, float]] | None = None) -> dict[str, Evaluation]:
    """Gradient saliency on ``classifier`` under each of ``rules`` (``{name: (sigma, threshold)}``: a blur by
    ``sigma``, a fraction of the image side, and a box ``threshold``; default ``{"": RAW_BACKPROP}``), the saliency computed once for all of them,
    of the labelled class alone (the same localization errors at a sixth of the backward passes). No released rule or
    heuristics: they are CAM post-processing."""
    rules = rules or {"": RAW_BACKPROP}
    evaluations = {}
    with RecordedMaps(BackpropMaps(classifier.model)) as saliency:
        for name, (sigma, threshold) in rules.items():
            batches = composite_batches(split, rows, classifier.crop, classifier.mean, classifier.std, batch_size)
            evaluations[name] = evaluate(SmoothedMaps(saliency, sigma), batches, num_classes=len(classifier.class_names),
                                         released=False, true_class_only=True, desc=f"{desc}{name}", threshold=threshold)
    return evaluations


def evaluate_centre(split: CompositeSplit, rows: np.ndarray, size: int = 224, batch_size: int = 50) -> GtKnownScores:
    """The centre baseline's GT-known scores (MaxBoxAccV2, PxAP) on the composites ``rows``."""
    batches = composite_batches(split, rows, size, (0.0, 0.0, 0.0), (1.0, 1.0, 1.0), batch_size)
    return evaluate_gt_known(CentreMaps(), batches)


def evaluate_photos(classifier: PretrainedClassifier, photos: list[RealPhoto], backprop: bool = False,
                    size: int | None = None, sigma: float = 0.0, threshold: float = PAPER_THRESHOLD) -> Evaluation:
    """Every Table 2-3 number of ``classifier``'s CAMs (or gradient saliency, blurred by ``sigma``) on the real
    photos, each resized whole to ``size`` px (default: the network's input), boxed at ``threshold``; no PxAP (no masks)."""
    batches = real_photo_batches(photos, size or classifier.crop, classifier.mean, classifier.std)
    method = SmoothedMaps(BackpropMaps(classifier.model), sigma) if backprop else CAMMaps(classifier.model)
    return evaluate(method, batches, num_classes=len(classifier.class_names), released=not backprop, threshold=threshold,
                    true_class_only=backprop)
