"""Facts the chapters build on that follow from the code's constants and the paper's numbers alone (no measured
or trained number): checked here once, so that the chapters' check cells hold only what they measure."""
from __future__ import annotations

import numpy as np
import pandas as pd

from camlib.book.paper import paper_table


def test_chapter4_paper_gains_the_claims_quote():
    localization = paper_table("table2_localization_error").astype({"top1": float})
    heuristics = paper_table("table3_localization_test")["top5"].astype(float)
    assert round(localization.loc["GoogLeNet-GMP", "top1"] - localization.loc["GoogLeNet-GAP", "top1"], 1) == 1.4
    assert round(heuristics["GoogLeNet-GAP"] - heuristics["GoogLeNet-GAP (heuristics)"], 1) == 5.8


def test_chapter6_margin_is_stated_from_the_papers_gaps():
    from camlib.chapters.ch06_transfer import EQUIVALENCE_MARGIN, paper_differences

    gaps = paper_differences()
    assert -0.5 < gaps["gap vs original"] < 0 and 1 < gaps["largest gap vs original"] < 1.5
    assert 2 * gaps["largest gap vs original"] <= EQUIVALENCE_MARGIN < 2.5 * gaps["largest gap vs original"]


def test_chapter6_splits_hold_out_a_third_of_each_group():
    from camlib.chapters.ch06_transfer import IMAGES_PER_STAMP
    from camlib.training.finetune import tuned_spec

    assert tuned_spec().stamp_cycle == ("train", "test", "train") and IMAGES_PER_STAMP == 12


def test_chapter9_scene_design():
    from camlib.data.generators.object_scenes import CLASS_NAMES, CONCEPTS, SceneSpec

    design = pd.DataFrame(np.asarray(SceneSpec().probabilities), index=CLASS_NAMES, columns=CONCEPTS)
    common = design[["flower", "plant"]]
    assert common.drop(index=["garden", "cemetery"]).stack().between(0.40, 0.55).all()
    assert common.loc[["garden", "cemetery"]].stack().between(0.65, 0.75).all()
    assert round(design["flower"].drop("garden").mean(), 2) == 0.49
