"""Object scenes: grid geometry, captions, mined phrases, concept ground truth, scene classes."""
import numpy as np
import pytest

from camlib.data.object_scenes import (
    OBJECT_WORDS,
    CaptionSpec,
    ObjectScenes,
    SceneClassSpec,
    _Layout,
    caption_for,
    clause_tokens,
    concept_negatives,
    concept_objects,
    make_captioned_scenes,
    make_scene_classes,
    mine_phrases,
    neighbours,
    phrase_in,
    side_word,
    with_article,
)
from camlib.errors import CamlibError


@pytest.fixture(scope="module")
def photos():
    return [np.random.default_rng(0).integers(0, 256, (120, 120, 3), dtype=np.uint8)]


def test_grid_neighbours_and_sides():
    # cells 0=(0,0) 1=(0,1) 4=(1,1) 5=(1,2) 8=(2,2): horizontal neighbours are 0-1 and 4-5.
    assert neighbours(np.array([0, 1, 4, 5, 8])) == [(0, 1), (2, 3)]
    assert neighbours(np.array([0, 3, 6])) == []  # vertical neighbours do not count
    assert [side_word(c) for c in (0, 1, 2, 3, 8)] == ["left", None, "right", "left", "right"]
    assert with_article("bag") == "a bag" and with_article("red trousers") == "red trousers"


def test_clauses_and_phrases():
    caption = "A red bag on the left, trousers next to a shirt"
    assert clause_tokens(caption) == [["red", "bag", "on", "the", "left"], ["trousers", "next", "to", "shirt"]]
    assert phrase_in("bag on the left", caption) and phrase_in("trousers next to shirt", caption)
    assert not phrase_in("left trousers", caption)  # phrases never span two clauses


def test_mine_phrases_by_hand():
    captions = ["a red bag on the left", "a red bag", "a blue bag on the left, a red shirt"]
    # "red bag" and "bag on the left" occur in 2 captions; everything else in 1; "bag on the" and
    # "on the left" start or end with a stopword.
    assert mine_phrases(captions, min_count=2) == {"bag on the left": 2, "red bag": 2}
    assert "on the left" not in mine_phrases(captions, min_count=1)


def test_caption_grammar():
    layout = _Layout(np.array([8, 6]), np.array([0, 2]), np.array([0, 1]))  # a red bag (left), a blue shirt beside it
    rng = np.random.default_rng(0)
    colours_only = CaptionSpec(mention_probability=1.0, relation_probability=0.0, position_probability=0.0, colour_probability=1.0)
    assert set(caption_for(layout, colours_only, rng).split(", ")) == {"a red bag", "a blue shirt"}
    related = CaptionSpec(mention_probability=1.0, relation_probability=1.0)
    assert caption_for(layout, related, rng) == "a bag next to a shirt"  # nouns in alphabetical order
    assert caption_for(layout, CaptionSpec(mention_probability=0.0), rng) == ""


def _three_objects() -> ObjectScenes:
    """One 9x9 image: a red bag in cell 0 (left), a blue bag in cell 2 (right), a red shirt in cell 1."""
    instances = np.full((1, 9, 9), -1, np.int16)
    instances[0, 0:2, 0:2], instances[0, 0:2, 6:8], instances[0, 0:3, 3:5] = 0, 1, 2
    objects = {"image": np.zeros(3, np.int64), "category": np.array([8, 8, 6]), "colour": np.array([0, 2, 0]),
               "cell": np.array([0, 2, 1]), "box": np.array([[0, 0, 2, 2], [6, 0, 8, 2], [3, 0, 5, 3]], np.float32)}
    return ObjectScenes(np.zeros((1, 9, 9, 3), np.uint8), instances, objects)


@pytest.mark.parametrize("phrase, rows", [
    ("red bag", [0]), ("bag", [0, 1]), ("bag on the left", [0]), ("bag on the right", [1]), ("red shirt", [2]),
    ("blue shirt", []), ("bag next to shirt", [0, 1, 2]), ("shirt next to shirt", []), ("boot", []),
])
def test_concept_objects_by_hand(phrase, rows):
    np.testing.assert_array_equal(concept_objects(phrase, _three_objects(), 0), rows)


def test_concept_objects_rejects_unknown_phrases():
    with pytest.raises(CamlibError, match="cannot interpret"):
        concept_objects("flying bag", _three_objects(), 0)
    scenes = _three_objects()
    assert scenes.masks_of(0, [2]).sum() == 6 and scenes.objects_of(0).tolist() == [0, 1, 2]


def test_concept_negatives_by_hand():
    captions = ["a red bag", "a blue bag", "a red shirt", "a boot", "a sandal", "a red bag on the left"]
    rng = np.random.default_rng(0)
    positives, negatives = concept_negatives("red bag", captions, rng, hard=True)
    assert positives.tolist() == [0, 5] and negatives.tolist() == [1, 2, 3, 4]  # 2 hard (share a word) + 2 random
    positives, negatives = concept_negatives("red bag", captions, rng, hard=True, per_positive=1.0)
    assert negatives.tolist() == [1, 2]  # hard negatives come first
    _, negatives = concept_negatives("red bag", captions, rng, hard=False)
    assert negatives.tolist() == [3, 4]  # random negatives never share a word of the phrase


def test_captions_only_say_what_is_there(photos):
    spec = CaptionSpec(size=96, object_size=(20, 30), n_train=12, n_test=4, objects=(3, 5))
    scenes = make_captioned_scenes(spec, "train", photos)
    assert scenes.images.shape == (12, 96, 96, 3) and len(scenes.captions) == 12
    for i, caption in enumerate(scenes.captions):
        for clause in clause_tokens(caption):
            assert len(concept_objects(" ".join(clause), scenes, i)) > 0, (caption, clause)
    again = make_captioned_scenes(spec, "train", photos)
    np.testing.assert_array_equal(again.images, scenes.images)
    assert again.captions == scenes.captions


def test_scene_classes(photos):
    spec = SceneClassSpec(size=96, object_size=(20, 30), n_train_per_class=3, n_test_per_class=2)
    table = spec.probabilities()
    assert table.shape == (4, len(OBJECT_WORDS))
    assert table[0, OBJECT_WORDS.index("t-shirt")] == 0.9 and table[0, OBJECT_WORDS.index("sandal")] == 0.7
    assert table[1, OBJECT_WORDS.index("sandal")] == 0.1 and table[0].sum() == pytest.approx(0.9 * 2 + 0.7 * 2 + 0.1 * 6)
    scenes = make_scene_classes(spec, "train", photos)
    assert np.bincount(scenes.labels).tolist() == [3, 3, 3, 3]
    objects = scenes.objects
    np.testing.assert_array_equal(objects["colour"], objects["category"])  # each kind keeps its own colour
    for row in range(len(objects["image"])):
        mask = scenes.masks_of(int(objects["image"][row]), [row])[0]
        ys, xs = np.nonzero(mask)
        np.testing.assert_array_equal(objects["box"][row], [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1])
    for image in range(len(scenes)):
        cells = objects["cell"][scenes.objects_of(image)]
        assert 1 <= len(cells) == len(set(cells.tolist())) <= 9


def test_bad_specs_raise():
    with pytest.raises(CamlibError):
        CaptionSpec(categories=("bag", "hat"))
    with pytest.raises(CamlibError):
        SceneClassSpec(frequent=("bag",), discriminative=(("bag",), ("boot",), ("coat",), ("dress",)))
    with pytest.raises(CamlibError):
        make_captioned_scenes(CaptionSpec(size=60, object_size=(20, 30), n_train=1), "train", [np.zeros((50, 50, 3), np.uint8)])
