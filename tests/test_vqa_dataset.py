"""The generated VQA set (needs the offline Fashion-MNIST asset): determinism and exact ground truth."""
import numpy as np
import pytest

from camlib.chapters.ch10_vqa.dataset import VQASpec, generate_vqa
from camlib.errors import CamlibError

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
        VQASpec(categories=("bag", "hat"))
    with pytest.raises(CamlibError, match="images"):
        VQASpec(images=(10, 0, 5))


def test_answer_masks_cover_the_objects_an_answer_describes(splits):
    split = splits["train"]
    rows = np.arange(len(split.questions))
    first = [split.scenes[split.questions.image_index[r]][0] for r in rows]
    masks = split.answer_masks(rows, [o.colour for o in first])
    for r, mask in zip(rows, masks):
        instances = split.instances[split.questions.image_index[r]]
        assert mask[instances == 0].all()  # object 0 has that colour
    assert not split.answer_masks(rows[:2], ["purple", "7"]).any()
    with pytest.raises(CamlibError):
        split.answer_masks(rows[:2], ["red"])
