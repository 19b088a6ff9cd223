"""The paper's claims about Table 4 and our diagnosis, judged by paired bootstraps over the birds.

Each test image shows one of the birds (one photo per species, pasted many times), so images of one bird are
not independent: every interval resamples the birds, each with all its images
(:func:`camlib.metrics.bootstrap_intervals` with ``clusters``), and a verdict comes from
:func:`camlib.book.claims.interval_verdict` on the paired gain.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from camlib.book.claims import VERDICT_COLUMN, paired_gain_claim
from camlib.book.paper import paper_table
from camlib.chapters.ch05_cropping.result import BIRD_SIZE_BINS, CroppingResult
from camlib.metrics.bootstrap import RESAMPLES


def paired_row(claim: str, paper: str, better: np.ndarray, worse: np.ndarray | float, birds: np.ndarray, why: str,
               resamples: int = RESAMPLES, seed: int = 0) -> dict[str, str]:
    """A claims row "``better`` beats ``worse``" (:func:`camlib.book.claims.paired_gain_claim` over the ``birds (N,)``):
    per-image hits ``(N,)`` against per-image hits of the same images or a fixed rate (%); ``why`` is kept only for a
    "no"."""
    other = (lambda rows: 100.0 * float(worse[rows].mean())) if isinstance(worse, np.ndarray) else (lambda rows: float(worse))
    row = paired_gain_claim(claim, paper, lambda rows: 100.0 * float(better[rows].mean()), other, len(better),
                            units=np.asarray(birds), unit_name="birds", resamples=resamples, seed=seed)
    return {**row, "why": why if row[VERDICT_COLUMN] == "no" else ""}


def table4_claims(result: CroppingResult, birds: np.ndarray, resamples: int = RESAMPLES) -> pd.DataFrame:
    """The paper's claims about Table 4 and our diagnosis, checked on ``result``; ``birds (N,)`` names the bird each
    test image shows (its label: one photo per species)."""
    paper = paper_table("table4_cub")["accuracy"].astype(float)
    loc = paper_table("cub_localization")["accuracy"].astype(float)
    correct, birds = result.test_correct, np.asarray(birds)
    if len(birds) != len(result.test_iou):
        raise ValueError(f"birds names {len(birds)} images but the result has {len(result.test_iou)}")
    chance = max(v for k, v in result.localization.items() if k not in ("CAM box (predicted class)", "CAM box (labelled class)"))
    cam_hit = result.test_iou >= 0.5  # the predicted class's CAM box, as the localization table scores it
    small = result.test_shares < BIRD_SIZE_BINS[0][1]

    def row(claim, paper_text, better, worse, why, rows=slice(None)):
        worse = worse[rows] if isinstance(worse, np.ndarray) else worse
        return paired_row(claim, paper_text, better[rows], worse, birds[rows], why, resamples)

    rows = [
        row("a CAM crop beats the full image", f"{paper['GoogLeNet-GAP on crop']:.1f} vs {paper['GoogLeNet-GAP on full image']:.1f}",
            correct["CAM crop"], correct["full image"],
            "Set-up: the same bird photo is in train and test, so the full-image features already recognise it "
            "and the crop has little left to add."),
        row("the ground-truth box beats the CAM crop", f"{paper['GoogLeNet-GAP on BBox']:.1f} vs {paper['GoogLeNet-GAP on crop']:.1f}",
            correct["GT box crop"], correct["CAM crop"],
            "Set-up: the CAM box of an instance seen in training is nearly as good a crop as the annotated one."),
        row("CAM boxes hit the object far more often than chance", f"{loc['CAM box']:.1f} vs {loc['chance']:.1f}",
            cam_hit, chance, "Method: the SVM's CAM does not single out the bird on these backgrounds."),
        row("the ground-truth crop beats the full image (a crop can help at all)",
            f"{paper['GoogLeNet-GAP on BBox']:.1f} vs {paper['GoogLeNet-GAP on full image']:.1f}",
            correct["GT box crop"], correct["full image"],
            "Set-up: the full image already holds enough of the bird for an instance seen in training."),
        row("cropping gains from the photo's extra pixels (GT crop from 448 px beats it from 224 px)", "not reported",
            correct["GT box crop"], correct["GT box crop from 224 px"],
            "Set-up: the 224 px crop, upsampled, still shows this known photo well enough."),
        row("on small birds (box < 20% of the image) the ground-truth crop beats the full image", "not reported",
            correct["GT box crop"], correct["full image"],
            "Set-up: even small birds are recognised from the full image when the same photo was seen in training.", small),
        row("on small birds (box < 20% of the image) a CAM crop beats the full image", "not reported",
            correct["CAM crop"], correct["full image"],
            "Method: small birds are where the 7x7 CAM box misses most, so its crop loses the bird.", small),
    ]
    return pd.DataFrame(rows).set_index("claim")
