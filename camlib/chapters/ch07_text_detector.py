"""Chapter 7 (Sec. 4.2, text detector): a linear SVM on GAP features learns "text", and its CAM
finds the words.

* :func:`photo_cam`: the probe's score and CAM on a photo of any size (aspect kept), and its
  :func:`agreement` with a reference detector's boxes; :func:`svt_scores` on the SVT data set;
* :class:`SupervisedTextDetector`: PP-OCRv4's fully supervised text detector, the reference;
* :func:`text_detector_claims`: the chapter's claims, judged over the background photos (the unit of independence).

The reference detector is PP-OCRv4's (a DBNet trained with box annotations; Apache-2.0), as ONNX weights
inside the ``rapidocr-onnxruntime`` wheel. Only its detector runs here (no recognition). Install:
``pip install --no-deps rapidocr-onnxruntime==1.4.4 onnxruntime pyclipper shapely six flatbuffers
protobuf`` (``--no-deps`` because the wheel asks for ``opencv-python``, which would clash with
camlib's ``opencv-python-headless``; the detector works with either).
"""
from __future__ import annotations

import contextlib
import io
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd
from PIL import Image

from camlib.cam.box_rules import PAPER_THRESHOLD, box_from_cam
from camlib.cam import CAM, upsample
from camlib.book.claims import VERDICT_COLUMN, higher, paired_gain_claim, why_for
from camlib.data.sets.opencv_text import load_svt
from camlib.data.generators.text_scenes import scenes_from_photos
from camlib.utils.errors import CamlibError
from camlib.methods.features import extract
from camlib.utils.images import load_image
from camlib.metrics import iou
from camlib.models.pretrained import PretrainedClassifier
from camlib.evaluation.pointing import localization_scores, peaks, points_in_boxes
from camlib.models.preprocess import preprocess
from camlib.methods.probe import LinearProbe


@dataclass
class PhotoCAM:
    """A probe on one photo: decision ``score`` (> 0: positive), ``cam`` float32 (H, W) at the
    photo's own size, and the paper's ``box`` (4,) from it in the photo's pixels."""

    score: float
    cam: np.ndarray
    box: np.ndarray


def photo_cam(classifier: PretrainedClassifier, probe: LinearProbe, image: Image.Image, short_side: int = 448,
              row: int = 0, threshold: float = PAPER_THRESHOLD) -> PhotoCAM:
    """Resize ``image`` so its shorter side is ``short_side`` (no crop), score it with weight row
    ``row`` of ``probe`` and upsample the CAM back to the photo's size."""
    tensor, _ = preprocess(image, classifier.mean, classifier.std, resize=short_side, crop=None)
    device = next(classifier.model.parameters()).device
    with CAM(classifier.model) as cam:
        maps = cam.features(tensor[None].to(device)).cpu()
    score = float(probe.decision_function(maps.mean(dim=(2, 3)))[0, row])
    full = upsample(probe.cams(maps, row), (image.height, image.width))[0, 0].numpy()
    return PhotoCAM(score, full, box_from_cam(full, threshold))


def agreement(ours: PhotoCAM, reference: np.ndarray) -> dict[str, float | bool | int]:
    """How a CAM on a photo agrees with a reference detector's boxes ``(M, 4)`` on it: whether the
    CAM's peak lies in a reference box; the IoU of the CAM box with the best single reference box
    and with the reference's text region (the box around all its boxes); ``agree`` when either
    IoU is >= 0.5 (a CAM box may cover one word, a line, or a whole sign)."""
    reference = np.asarray(reference, dtype=np.float32).reshape(-1, 4)
    if len(reference) == 0:
        return {"reference boxes": 0, "peak in a reference box": False, "best IoU with a box": 0.0,
                "IoU with text region": 0.0, "agree": False}
    region = np.r_[reference[:, :2].min(axis=0), reference[:, 2:].max(axis=0)]
    best, whole = float(iou(ours.box, reference).max()), float(iou(ours.box, region)[0, 0])
    return {
        "reference boxes": len(reference),
        "peak in a reference box": bool(points_in_boxes(peaks(ours.cam[None]), [reference])[0]),
        "best IoU with a box": best,
        "IoU with text region": whole,
        "agree": max(best, whole) >= 0.5,
    }


def svt_scores(classifier: PretrainedClassifier, probe: LinearProbe, split: str = "test", root: str | Path | None = None,
               canvas: int = 224, size: int = 448) -> dict[str, float]:
    """The text probe on SVT (the paper's text data set, full scale): every image resized to
    ``canvas`` px (boxes scaled, box masks), features at ``size`` px; returns the percentage the
    probe calls text and :func:`camlib.evaluation.pointing.localization_scores` of its CAMs."""
    records = load_svt(split, root)
    scenes = scenes_from_photos([np.asarray(load_image(r.path)) for r in records], [r.boxes for r in records], canvas)
    keep = np.flatnonzero(scenes.has_text)
    feats = extract(classifier, scenes.images[keep], size=size, desc="SVT features")
    cams = upsample(probe.cams(feats.maps, 0), (canvas, canvas))[:, 0].numpy()
    scores = localization_scores(cams, [scenes.boxes[i] for i in keep], scenes.masks[keep])
    return {"images": len(keep), "called text": float(100.0 * (probe.decision_function(feats.pooled)[:, 0] > 0).float().mean()),
            **scores}


INSTALL = ("pip install --no-deps rapidocr-onnxruntime==1.4.4 onnxruntime pyclipper shapely six flatbuffers protobuf")


class SupervisedTextDetector:
    """``detector(image)`` -> word/line boxes float32 (M, 4) ``[x0, y0, x1, y1]`` (axis-aligned
    hulls of the detector's quadrilaterals) for an RGB uint8 image (H, W, 3)."""

    def __init__(self, threads: int = 2):
        try:
            from rapidocr_onnxruntime import RapidOCR
        except ImportError as err:
            raise CamlibError(f"the reference text detector needs rapidocr-onnxruntime: `{INSTALL}` ({err})") from None
        logging.getLogger("RapidOCR").setLevel(logging.ERROR)
        with contextlib.redirect_stdout(io.StringIO()):
            engine = RapidOCR(intra_op_num_threads=threads, inter_op_num_threads=1)
        self._detect = engine.text_det

    def quads(self, image: np.ndarray) -> np.ndarray:
        """The detector's quadrilaterals float32 (M, 4, 2) of ``(x, y)`` corners."""
        image = np.asarray(image)
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise CamlibError(f"image must be RGB uint8 (H, W, 3), got {image.dtype} {image.shape}")
        quads, _ = self._detect(np.ascontiguousarray(image[:, :, ::-1]))  # the detector expects BGR
        return np.zeros((0, 4, 2), np.float32) if quads is None or len(quads) == 0 else np.asarray(quads, np.float32)

    def __call__(self, image: np.ndarray) -> np.ndarray:
        quads = self.quads(image)
        return np.concatenate([quads.min(axis=1), quads.max(axis=1) + 1], axis=1).astype(np.float32)


def text_detector_claims(correct: np.ndarray, photos: np.ndarray, scorers: dict[str, dict[str, Callable]],
                         text_photos: np.ndarray, real: pd.DataFrame) -> pd.DataFrame:
    """The chapter's claims (claim / measured / holds?).

    ``correct (N,)``: whether the SVM classed each test image right, ``photos (N,)`` the background photo each is cut
    from; ``scorers``: :func:`camlib.evaluation.pointing.localization_scorers` of each map method (``"CAM of the text
    SVM"`` and the text-blind baselines) on the test images with text, whose photos are ``text_photos``; ``real``: one
    row per real photo with :func:`agreement`'s columns. Images cut from one photo are not independent, so the
    synthetic claims are paired bootstraps over the photos (:func:`camlib.book.claims.paired_gain_claim`); against the
    baselines the CAM must beat the best of them in every resample. The real photos are independent, one per claim
    trial (:func:`camlib.book.claims.higher`)."""
    cam = scorers["CAM of the text SVM"]
    baselines = [s for name, s in scorers.items() if name != "CAM of the text SVM"]

    def over_photos(claim: str, better: Callable, worse: Callable, units: np.ndarray) -> tuple[str, str, str]:
        row = paired_gain_claim(claim, "", better, worse, len(units), units=units, unit_name="photos")
        return claim, row["measured"], row[VERDICT_COLUMN]

    def best_baseline(metric: str) -> Callable:
        return lambda rows: max(s[metric](rows) for s in baselines)

    photos_real = len(real)
    peak_share = 100.0 * real["peak in a reference box"].sum() / photos_real
    agree_share = 100.0 * real["agree"].sum() / photos_real
    rows = [
        over_photos("A linear SVM on GAP features tells images with text from images without (accuracy above 75%)",
                    lambda r: 100.0 * float(np.mean(correct[r])), lambda r: 75.0, np.asarray(photos)),
        over_photos("Its CAM points at the words more often than the text-blind baselines (the best of them)",
                    cam["pointing"], best_baseline("pointing"), np.asarray(text_photos)),
        over_photos("Its CAM ranks word pixels better than the baselines (PxAP, the best of them)",
                    cam["PxAP"], best_baseline("PxAP"), np.asarray(text_photos)),
        over_photos("The paper's 20% box matches a word (IoU >= 0.5) in most images with text",
                    cam["box IoU>=0.5"], lambda r: 50.0, np.asarray(text_photos)),
        (f"On real photos the CAM's maximum falls on text found by a supervised detector (most of {photos_real} photos)",
         f"{int(real['peak in a reference box'].sum())} of {photos_real}", higher(peak_share, 50.0, photos_real)),
        (f"On real photos the CAM box agrees with the supervised detector (most of {photos_real} photos)",
         f"{int(real['agree'].sum())} of {photos_real}", higher(agree_share, 50.0, photos_real)),
    ]
    return pd.DataFrame(rows, columns=["claim", "measured", VERDICT_COLUMN]).set_index("claim")


def text_detector_why(claims: Sequence[str], verdicts: Sequence[str]) -> list[str]:
    """One sentence per claim of :func:`text_detector_claims` on why it does not hold ("" where it holds)."""
    reasons = {
        "The paper's 20% box": "Metric: the 20% rule keeps one smooth 14x14 region that covers several words and the space "
                               "between them, while a word box is tight (MaxBoxAccV2, at the best threshold, does better).",
        "Its CAM ranks word pixels": "Metric: a 14x14 map cannot rank the pixels of thin strokes above their surroundings.",
    }
    return [why_for(claim, verdict, reasons) for claim, verdict in zip(claims, verdicts)]
