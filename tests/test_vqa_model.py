"""The simple baseline: what each input kind can learn, folded standardisation, answer CAMs."""
import numpy as np
import pytest
import torch

from camlib.chapters.ch10_vqa.answer_cam import answer_cams
from camlib.chapters.ch10_vqa.bow import AnswerVocabulary
from camlib.chapters.ch10_vqa.model import select_l2, train_simple_baseline
from camlib.utils.errors import CamlibError

VOCAB = AnswerVocabulary(("a", "b", "c"))


def toy(seed: int = 0):
    """Questions pick the answer group; the image decides inside it.

    q = [1, 0]: answer "a"; q = [0, 1]: answer "b" if image feature 0 > 0 else "c".
    """
    rng = np.random.default_rng(seed)
    n = 300
    images = rng.normal(size=(n, 4)).astype(np.float32)
    kind = rng.integers(0, 2, n)
    questions = np.eye(2, dtype=np.float32)[kind]
    labels = np.where(kind == 0, 0, np.where(images[:, 0] > 0, 1, 2))
    return questions, images, np.arange(n), labels


def accuracy(model, data):
    return float(np.mean(model.predict(*data[:3]) == data[3]))


def test_each_input_kind_learns_what_it_can():
    data = toy()
    assert accuracy(train_simple_baseline(*data, VOCAB, "question+image", l2=1e-3), data) > 0.97
    # question only: "a" right, then the majority of b/c (about half of the other half)
    assert 0.6 < accuracy(train_simple_baseline(*data, VOCAB, "question", l2=1e-3), data) < 0.8
    image_only = train_simple_baseline(*data, VOCAB, "image", l2=1e-3)
    assert image_only.question_weight.shape == (3, 0) and image_only.image_weight.shape == (3, 4)
    assert accuracy(image_only, data) < 0.7


def test_standardisation_is_folded_into_the_weights():
    questions, images, index, labels = toy()
    scale = np.array([1000.0, 0.001, 1.0, 50.0], dtype=np.float32)
    plain = train_simple_baseline(questions, images, index, labels, VOCAB, l2=1e-2)
    scaled = train_simple_baseline(questions, images * scale, index, labels, VOCAB, l2=1e-2)
    torch.testing.assert_close(scaled.image_weight * torch.from_numpy(scale), plain.image_weight, rtol=1e-2, atol=2e-3)
    np.testing.assert_array_equal(scaled.predict(questions, images * scale, index), plain.predict(questions, images, index))


def test_shared_images_and_out_of_vocabulary_labels():
    questions, images, _, labels = toy()
    # every image asked twice: the same data duplicated must give the same model
    once = train_simple_baseline(questions, images, np.arange(300), labels, VOCAB, l2=1e-2)
    twice = train_simple_baseline(np.concatenate([questions, questions]), images, np.tile(np.arange(300), 2),
                                  np.concatenate([labels, labels]), VOCAB, l2=1e-2)
    torch.testing.assert_close(once.image_weight, twice.image_weight, rtol=1e-3, atol=1e-4)
    ignored = train_simple_baseline(np.concatenate([questions, questions[:5]]), images, np.concatenate([np.arange(300), np.arange(5)]),
                                    np.concatenate([labels, -np.ones(5, dtype=int)]), VOCAB, l2=1e-2)
    torch.testing.assert_close(once.bias, ignored.bias, rtol=1e-3, atol=1e-4)
    with pytest.raises(CamlibError, match="image_index"):
        once.predict(questions[:2], images[:3], np.array([0, 5]))
    with pytest.raises(CamlibError):
        train_simple_baseline(questions, images, np.arange(300), -np.ones(300, dtype=int), VOCAB)
    with pytest.raises(CamlibError, match="inputs"):
        train_simple_baseline(questions, images, np.arange(300), labels, VOCAB, inputs="pixels")


def test_select_l2_keeps_the_best_on_val():
    train, val = toy(0), toy(1)
    model, scores = select_l2(train, val, VOCAB, grid=(10.0, 1e-3))
    assert list(scores) == [1e-3, 10.0] and scores[1e-3] > scores[10.0]
    assert accuracy(model, val) == pytest.approx(scores[1e-3] / 100)


def test_answer_cam_mean_is_the_image_part_of_the_score():
    questions, images, index, labels = toy()
    model = train_simple_baseline(questions, images, index, labels, VOCAB, l2=1e-2)
    maps = torch.randn(5, 4, 3, 3)
    answers = np.array([0, 1, 2, 1, 0])
    cams = answer_cams(model, maps, answers)
    assert cams.shape == (5, 3, 3)
    image_part = (maps.mean(dim=(2, 3)) @ model.image_weight.T)[torch.arange(5), torch.from_numpy(answers)]
    torch.testing.assert_close(cams.mean(dim=(1, 2)), image_part, rtol=1e-5, atol=1e-5)
    question_only = train_simple_baseline(questions, images, index, labels, VOCAB, "question")
    with pytest.raises(CamlibError, match="no image weights"):
        answer_cams(question_only, maps, answers)
