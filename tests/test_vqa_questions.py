"""Question templates: answers and evidence on hand-built scenes."""
import numpy as np
import pytest

from camlib.chapters.ch10_vqa.questions import (
    _colour_questions,
    _count_questions,
    _exists_questions,
    _left_questions,
    ask,
)
from camlib.data.vqa_scenes import SceneObject
from camlib.errors import CamlibError

BAG = SceneObject("bag", "red", (0, 0, 10, 10))
BOOT1 = SceneObject("boot", "blue", (20, 0, 30, 10))
BOOT2 = SceneObject("boot", "green", (40, 20, 50, 30))
CATS = ("bag", "boot", "trouser")


def test_colour_only_for_unique_categories():
    qs = _colour_questions([BAG, BOOT1, BOOT2])
    assert [(q.text, q.answer, q.evidence, q.answer_type) for q in qs] == [("what colour is the bag?", "red", (0,), "other")]


def test_left_of_needs_exactly_one_object_entirely_left():
    qs = _left_questions([BAG, BOOT1])
    assert [(q.text, q.answer, q.evidence) for q in qs] == [("what is left of the boot?", "bag", (0,))]
    trouser = SceneObject("trouser", "white", (60, 0, 70, 10))  # bag and boots are all left of it: ambiguous
    assert [q.text for q in _left_questions([BAG, BOOT1, trouser])] == ["what is left of the boot?"]


def test_counts_and_plurals():
    qs = _count_questions([BAG, BOOT1, BOOT2])
    assert [(q.text, q.answer, q.evidence, q.answer_type) for q in qs] == [
        ("how many bags are there?", "1", (0,), "number"), ("how many boots are there?", "2", (1, 2), "number")]


def test_exists_yes_is_grounded_and_no_is_absent():
    answers = set()
    for seed in range(20):
        (q,) = _exists_questions([BAG, BOOT1], CATS, np.random.default_rng(seed))
        answers.add(q.answer)
        colour, category = q.text[len("is there a "):-1].split()
        present = (colour, category) in {("red", "bag"), ("blue", "boot")}
        assert present == (q.answer == "yes")
        assert q.evidence == ({("red", "bag"): (0,), ("blue", "boot"): (1,)}[colour, category] if present else ())
    assert answers == {"yes", "no"}


def test_ask_always_includes_left_of_when_possible_and_kinds_differ():
    for seed in range(10):
        qs = ask([BAG, BOOT1], CATS, np.random.default_rng(seed), count=2)
        kinds = [q.question_type for q in qs]
        assert len(kinds) == 2 and len(set(kinds)) == 2 and "what is left of the" in kinds
    assert len(ask([BAG], CATS, np.random.default_rng(0), count=10)) == 3  # colour, count, exists
    with pytest.raises(CamlibError):
        ask([], CATS, np.random.default_rng(0))
