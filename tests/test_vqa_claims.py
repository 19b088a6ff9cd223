"""The VQA chapter's claims table and per-question-type image gain, judged by the book's noise rule."""
import numpy as np
import pandas as pd

from camlib.chapters.ch10_vqa.verdicts import vqa_claims


def _questions(rates: dict[str, float], n: int, per_scene: int = 3) -> pd.DataFrame:
    """``n`` questions, ``per_scene`` to a scene and scored alike within it: each column right on ``rate`` % of the
    scenes, drawn independently of the other columns."""
    rng, scenes = np.random.default_rng(0), n // per_scene
    columns = {name: np.repeat(rng.permutation(np.arange(scenes) < round(rate * scenes / 100)), per_scene).astype(float)
               for name, rate in rates.items()}
    return pd.DataFrame({**columns, "scene": np.arange(n) // per_scene})


def test_claims_table_resamples_the_scenes():
    scores = _questions({"question+image": 63.0, "question": 50.0, "image": 62.0}, 900)
    pointed = _questions({"CAM peak": 40.0, "centre": 38.0, "random": 10.0}, 900)
    table = vqa_claims(scores, pointed)
    assert list(table["holds?"]) == ["yes", "undecided, leans yes", "yes", "undecided, leans yes"]
    assert table["measured"][0].startswith("accuracy 63.0 vs 50.0; gain 13.0 [") and "(n=900 of 300 scenes; " in table["measured"][0]
    described = _questions({"CAM peak": 20.0, "centre": 30.0, "random": 25.0}, 300)
    assert list(vqa_claims(scores, pointed, described)["holds?"])[-1] == "undecided, leans no"
    # the same questions, one scene each (independent), give a narrower interval than three to a scene
    def width(frame):
        low, high = table_interval(vqa_claims(scores, frame)["measured"][2])
        return high - low

    gap = {"CAM peak": 40.0, "centre": 38.0, "random": 30.0}
    assert width(_questions(gap, 900, per_scene=1)) < width(_questions(gap, 900, per_scene=3))


def table_interval(measured: str) -> tuple[float, float]:
    low, high = measured.split("[")[1].split("]")[0].split(", ")
    return float(low), float(high)


def test_image_gain_per_type_resamples_the_scenes():
    from camlib.chapters.ch10_vqa.verdicts import image_gain

    colour = _questions({"question+image": 70.0, "question": 20.0}, 300).assign(type="colour")
    yes_no = _questions({"question+image": 50.0, "question": 55.0}, 300).assign(type="yes/no")
    out = image_gain(pd.concat([colour, yes_no], ignore_index=True))
    assert list(out.index) == ["colour", "yes/no", "overall"]
    np.testing.assert_allclose(out["gain from the image (points)"], [50.0, -5.0, 22.5])
    assert list(out["image helps?"]) == ["yes", "undecided, leans no", "yes"]
    assert (out["low"] <= out["gain from the image (points)"]).all() and (out["detectable"] > 0).all()


def test_a_failed_claim_says_why_and_every_row_cites_the_paper():
    scores = _questions({"question+image": 45.0, "question": 60.0, "image": 20.0}, 900)
    pointed = _questions({"CAM peak": 40.0, "centre": 38.0, "random": 10.0}, 900)
    table = vqa_claims(scores, pointed)
    assert list(table["holds?"]) == ["no", "yes", "yes", "undecided, leans yes"]
    assert table["why"][0].startswith("Set-up") and (table["why"][1:] == "").all()
    assert table["paper"][0].startswith("Sec. 4.2") and table["paper"][2].startswith("Fig. 12")
