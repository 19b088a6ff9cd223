"""The paper's claims about Table 4 and our diagnosis, checked with the book's noise rule."""
from __future__ import annotations

import pandas as pd

from camlib.book.claims import higher, margin
from camlib.book.paper import paper_table
from camlib.chapters.ch05_cropping.result import BIRD_SIZE_BINS, SETTINGS, CroppingResult


def _row(claim: str, paper: str, a: float, b: float, n: int, verdict: str, why: str) -> dict[str, str]:
    return {"claim": claim, "paper": paper, "measured": f"{a:.1f} vs {b:.1f} (n={n}, margin {margin(a, b, n):.1f})",
            "holds?": verdict, "why": why if verdict == "no" else ""}


def table4_claims(result: CroppingResult) -> pd.DataFrame:
    """The paper's claims about Table 4 and our diagnosis, checked on ``result`` with :mod:`camlib.book.claims`'s noise rule."""
    paper = paper_table("table4_cub")["accuracy"].astype(float)
    loc = paper_table("cub_localization")["accuracy"].astype(float)
    acc, n = result.accuracy, len(result.test_iou)
    chance = max(v for k, v in result.localization.items() if k != "CAM box (predicted class)" and k != "CAM box (labelled class)")
    cam_hit = result.localization["CAM box (predicted class)"]
    small = result.test_shares < BIRD_SIZE_BINS[0][1]
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
