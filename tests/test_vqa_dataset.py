"""The generated VQA set (needs the offline Tux Paint stamps): determinism, disjoint stamps and exact ground truth."""
import numpy as np
import pytest

from camlib.chapters.ch10_vqa.dataset import VQASpec, generate_vqa, stamp_pools
from camlib.metrics.boxes import mask_box
from camlib.data.generators.vqa_scenes import stamp_colour
from camlib.utils.errors import CamlibError

SPEC = VQASpec(canvas=96, object_size=(24, 40), images=(8, 3, 4), questions_per_image=3, seed=1)


@pytest.fixture(scope="module")
def splits():
    return generate_vqa(SPEC)


def test_deterministic(splits):
    again = generate_vqa(SPEC)
    for name in ("train", "val", "test"):
        np.testing.assert_array_equal(splits[name].images, again[name].images)
        assert splits[name].questions.text == again[name].questions.text
    other = generate_vqa(VQASpec(canvas=96, object_size=(24, 40), images=(8, 3, 4), seed=2))
    assert not np.array_equal(other["train"].images, splits["train"].images)
    assert SPEC.key() != VQASpec(seed=2).key()


def test_answers_match_the_scene(splits):
    for split in splits.values():
        q = split.questions
        assert len(split.images) == len(split.scenes) and len(q) == len(split.evidence) >= len(split.images)
        masks = split.evidence_masks()
        for image, objects in zip(range(len(split.images)), split.scenes):
            for j, o in enumerate(objects):  # exact masks, tight boxes
                assert tuple(mask_box(split.instances[image] == j).astype(int)) == o.box
        for i in range(len(q)):
            objects, evidence = split.scenes[q.image_index[i]], split.evidence[i]
            assert masks[i].any() == bool(evidence)
            if q.question_type[i] == "what colour is the":
                assert objects[evidence[0]].colour == q.answer[i]
            elif q.question_type[i] == "what is left of the":
                ref = [o for o in objects if q.text[i].endswith(f" {o.category}?")]
                assert len(ref) == 1 and objects[evidence[0]].box[2] <= ref[0].box[0]
                assert objects[evidence[0]].category == q.answer[i]
            elif q.question_type[i] == "how many":
                assert len(evidence) == int(q.answer[i])
            else:
                assert (q.answer[i] == "yes") == bool(evidence)


def test_bad_spec():
    with pytest.raises(CamlibError, match="categories"):
        VQASpec(categories=("fruit", "hat"))
    with pytest.raises(CamlibError, match="images"):
        VQASpec(images=(10, 0, 5))


def test_answer_masks_cover_the_objects_an_answer_describes(splits):
    split = splits["train"]
    rows = np.arange(len(split.questions))
    first = [split.scenes[split.questions.image_index[r]][0] for r in rows]
    masks = split.answer_masks(rows, [o.category for o in first])
    for r, mask in zip(rows, masks):
        instances = split.instances[split.questions.image_index[r]]
        assert mask[instances == 0].all()  # object 0 is of that category
    assert not split.answer_masks(rows[:2], ["hat", "7"]).any()
    with pytest.raises(CamlibError):
        split.answer_masks(rows[:2], ["red"])


def test_splits_hold_disjoint_stamps_with_their_own_colours(splits):
    pools = stamp_pools(SPEC.categories)
    paths = {name: {p.stamp.path for members in pool.values() for p in members} for name, pool in pools.items()}
    assert not paths["train"] & paths["val"] and not paths["train"] & paths["test"] and not paths["val"] & paths["test"]
    assert len(paths["train"]) > 2 * len(paths["test"]) > 0
    for name, split in splits.items():
        for objects in split.scenes:
            assert {o.stamp for o in objects} <= paths[name]
    fruit = {p.stamp.path: p.colour for p in pools["train"]["fruit"]}
    assert any(c is not None for c in fruit.values()) and any(c is None for c in fruit.values())
    lemon = [p for p in pools["train"]["fruit"] + pools["val"]["fruit"] + pools["test"]["fruit"] if p.stamp.path.endswith("/lemon.png")]
    assert [p.colour for p in lemon] == ["yellow"] == [stamp_colour(lemon[0].stamp)]
