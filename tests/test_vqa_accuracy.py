"""The VQA accuracy and its answer normalisation."""
import numpy as np
import pytest

from camlib.chapters.ch10_vqa.accuracy import accuracy_table, normalize_answer, vqa_accuracy
from camlib.chapters.ch10_vqa.table import QuestionTable
from camlib.utils.errors import CamlibError


@pytest.mark.parametrize("raw, clean", [("Two dogs.", "2 dogs"), ("the T-shirt", "t shirt"), ("3.5", "3.5"),
                                        ("1,000", "1000"), ("  Yes!\n", "yes"), ("an apple", "apple")])
def test_normalize(raw, clean):
    assert normalize_answer(raw) == clean


def test_leave_one_out_accuracy():
    # 2 of 10 match: 2 subsets keep 1 match (1/3), 8 keep 2 (2/3): (2/3 + 16/3) / 10 = 0.6
    assert vqa_accuracy("red", ["red"] * 2 + ["pink"] * 8) == pytest.approx(0.6)
    # 3 match: 3 subsets keep 2 (2/3), 7 keep 3 (1): (2 + 7) / 10 = 0.9
    assert vqa_accuracy("Red.", ["red"] * 3 + ["pink"] * 7) == pytest.approx(0.9)
    assert vqa_accuracy("two", ["2"] * 4 + ["3"] * 6) == pytest.approx(1.0)
    assert vqa_accuracy("blue", ["red"] * 10) == 0.0
    assert vqa_accuracy("red", ["red"]) == 1.0 and vqa_accuracy("red", ["blue"]) == 0.0
    with pytest.raises(CamlibError):
        vqa_accuracy("red", [])


def test_accuracy_table_by_type():
    table = QuestionTable(np.zeros(3), ["q1", "q2", "q3"], ["red", "2", "blue"], ["colour", "count", "colour"],
                          ["other", "number", "other"], [("red",), ("2",), ("blue",)])
    out = accuracy_table(["red", "3", "red"], table)
    assert list(out.index) == ["colour", "count", "overall"]
    np.testing.assert_allclose(out["accuracy"], [50.0, 0.0, 100.0 / 3])
    assert list(out["questions"]) == [2, 1, 3]
    assert list(accuracy_table(["red", "3", "red"], table, by="answer_type").index) == ["other", "number", "overall"]
    with pytest.raises(CamlibError):
        accuracy_table(["red"], table)
