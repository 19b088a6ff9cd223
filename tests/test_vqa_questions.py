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
from camlib.data.generators.vqa_scenes import SceneObject
from camlib.utils.errors import CamlibError

FRUIT = SceneObject("fruit", "red", (0, 0, 10, 10))
FISH1 = SceneObject("fish", "blue", (20, 0, 30, 10))
FISH2 = SceneObject("fish", "orange", (40, 20, 50, 30))
GREY_BIRD = SceneObject("bird", None, (60, 0, 70, 10))  # no clear colour
PAIRS = [("red", "fruit"), ("yellow", "fruit"), ("blue", "fish"), ("orange", "fish"), ("brown", "bird"), ("red", "flower")]


def test_colour_only_for_unique_categories_with_a_clear_colour():
    qs = _colour_questions([FRUIT, FISH1, FISH2, GREY_BIRD])
    assert [(q.text, q.answer, q.evidence, q.answer_type) for q in qs] == [("what colour is the fruit?", "red", (0,), "other")]


def test_left_of_needs_exactly_one_object_entirely_left():
    qs = _left_questions([FRUIT, FISH1])
    assert [(q.text, q.answer, q.evidence) for q in qs] == [("what is left of the fish?", "fruit", (0,))]
    flower = SceneObject("flower", "red", (80, 0, 90, 10))  # fruit and fish are both left of it: ambiguous
    assert [q.text for q in _left_questions([FRUIT, FISH1, flower])] == ["what is left of the fish?"]


def test_counts_and_plurals():
    qs = _count_questions([FRUIT, FISH1, FISH2, GREY_BIRD])
    assert [(q.text, q.answer, q.evidence, q.answer_type) for q in qs] == [
        ("how many fruits are there?", "1", (0,), "number"), ("how many fish are there?", "2", (1, 2), "number"),
        ("how many birds are there?", "1", (3,), "number")]


def test_exists_yes_is_grounded_and_no_is_certain():
    answers = set()
    for seed in range(30):
        (q,) = _exists_questions([FRUIT, FISH1, GREY_BIRD], PAIRS, np.random.default_rng(seed))
        answers.add(q.answer)
        colour, category = q.text[len("is there a "):-1].split()
        present = {("red", "fruit"): (0,), ("blue", "fish"): (1,)}
        assert ((colour, category) in present) == (q.answer == "yes")
        assert q.evidence == present.get((colour, category), ())
        assert category != "bird"  # a bird without a clear colour might be brown: never asked
    assert answers == {"yes", "no"}
    assert _exists_questions([GREY_BIRD], PAIRS, np.random.default_rng(0)) == []  # no "yes" possible
    assert _exists_questions([FRUIT], [("red", "fruit")], np.random.default_rng(0)) == []  # no "no" possible


def test_ask_always_includes_left_of_when_possible_and_kinds_differ():
    for seed in range(10):
        qs = ask([FRUIT, FISH1], PAIRS, np.random.default_rng(seed), count=2)
        kinds = [q.question_type for q in qs]
        assert len(kinds) == 2 and len(set(kinds)) == 2 and "what is left of the" in kinds
    assert len(ask([FRUIT], PAIRS, np.random.default_rng(0), count=10)) == 3  # colour, count, exists
    assert [q.question_type for q in ask([GREY_BIRD], PAIRS, np.random.default_rng(0))] == ["how many"]
    with pytest.raises(CamlibError):
        ask([], PAIRS, np.random.default_rng(0))
