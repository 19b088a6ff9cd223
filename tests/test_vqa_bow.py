"""Bag of words and answer vocabulary."""
import numpy as np
import pytest

from camlib.chapters.ch10_vqa.bow import AnswerVocabulary, BagOfWords, tokenize
from camlib.utils.errors import CamlibError


def test_tokenize():
    assert tokenize("What's the Colour, of 2 bags?") == ["what's", "the", "colour", "of", "2", "bags"]


def test_bag_of_words_order_and_transform():
    words = BagOfWords.fit(["red bag", "red boot", "a bag"], min_count=1)
    assert words.words == ("bag", "red", "a", "boot")  # by count, then alphabetical
    np.testing.assert_array_equal(words.transform(["bag bag red", "green shoe"]), [[1, 1, 0, 0], [0, 0, 0, 0]])
    assert BagOfWords.fit(["red bag", "red boot", "a bag"], min_count=2).words == ("bag", "red")
    assert len(BagOfWords.fit(["red bag", "red boot"], max_words=1)) == 1
    with pytest.raises(CamlibError):
        BagOfWords.fit(["x"], min_count=2)


def test_answer_vocabulary():
    vocab = AnswerVocabulary.fit(["yes", "no", "yes", "2", "no", "yes"], top=2)
    assert vocab.answers == ("yes", "no")
    np.testing.assert_array_equal(vocab.encode(["no", "2", "yes"]), [1, -1, 0])
    assert vocab.decode([1, 0]) == ["no", "yes"]
    with pytest.raises(CamlibError):
        AnswerVocabulary.fit([])
