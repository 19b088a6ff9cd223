"""The VQA chapter's claims table and per-question-type image gain, judged by the book's noise rule."""
import pandas as pd

from camlib.chapters.ch10_vqa.verdicts import vqa_claims


def test_claims_table():
    accuracy = pd.DataFrame({"question+image": [63.0], "question": [50.0], "image": [62.0], "questions": [900]}, index=["overall"])
    pointing = pd.DataFrame({"CAM peak": [40.0], "centre": [38.0], "random": [10.0], "maps": [800]}, index=["all"])
    table = vqa_claims(accuracy, pointing)
    assert list(table["holds?"]) == ["yes", "yes, within noise", "yes", "yes, within noise"]
    assert table["measured"][0] == "accuracy 63.0% vs 50.0% (n=900)"
    described = pd.DataFrame({"CAM peak": [20.0], "centre": [30.0], "random": [25.0], "maps": [300]}, index=["all"])
    assert list(vqa_claims(accuracy, pointing, described)["holds?"])[-1] == "no, within noise"


def test_image_gain_per_type():
    from camlib.chapters.ch10_vqa.verdicts import image_gain

    accuracy = pd.DataFrame({"question+image": [70.0, 50.0], "question": [20.0, 55.0], "image": [10.0, 10.0],
                             "questions": [300, 300]}, index=["colour", "yes/no"])
    out = image_gain(accuracy)
    assert list(out["gain from the image (points)"]) == [50.0, -5.0]
    assert list(out["image helps?"]) == ["yes", "no, within noise"]  # margin for 50 vs 55 at n=300: 8.1


def test_a_failed_claim_says_why_and_every_row_cites_the_paper():
    accuracy = pd.DataFrame({"question+image": [50.0], "question": [60.0], "image": [20.0], "questions": [900]}, index=["overall"])
    pointing = pd.DataFrame({"CAM peak": [40.0], "centre": [38.0], "random": [10.0], "maps": [800]}, index=["all"])
    table = vqa_claims(accuracy, pointing)
    assert list(table["holds?"]) == ["no", "yes", "yes", "yes, within noise"]
    assert table["why"][0].startswith("Set-up") and (table["why"][1:] == "").all()
    assert table["paper"][0].startswith("Sec. 4.2") and table["paper"][2].startswith("Fig. 12")
