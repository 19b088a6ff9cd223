"""The VQA v1 loader on the miniature fixture in the official file format."""
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from camlib.chapters.ch10_vqa.vqa_v1 import ImageFiles, load_vqa_v1
from camlib.utils.errors import CorruptFileError, DatasetNotFoundError
from camlib.data.assets.paths import cache_dir

FIXTURE = Path(__file__).parent / "fixtures" / "vqa_mini"


def test_val_split():
    split = load_vqa_v1("val2014", FIXTURE)
    assert split.split == "val2014"
    np.testing.assert_array_equal(split.image_ids, [42, 73])
    np.testing.assert_array_equal(split.question_ids, [420, 421, 730, 731])
    assert [p.name for p in split.image_paths] == ["COCO_val2014_000000000042.jpg", "COCO_val2014_000000000073.jpg"]
    q = split.questions
    np.testing.assert_array_equal(q.image_index, [0, 0, 1, 1])
    assert q.text[0] == "What color is the square?"
    assert q.answer == ["pink", "1", "blue", "yes"]
    assert q.question_type == ["what color is the", "how many", "what color is the", "is there a"]
    assert q.answer_type == ["other", "number", "other", "yes/no"]
    assert all(len(a) == 10 for a in q.all_answers) and q.all_answers[0].count("red") == 2


def test_test_split_has_no_answers():
    split = load_vqa_v1("test-dev2015", FIXTURE)
    assert split.image_paths[0].parent.name == "test2015"
    assert split.questions.answer == [""] and split.questions.all_answers == [()]


def test_flat_layout(tmp_path):
    for sub in ("Questions", "Annotations"):
        for f in (FIXTURE / sub).glob("*val2014*"):
            shutil.copy(f, tmp_path / f.name)
    shutil.copytree(FIXTURE / "Images" / "mscoco" / "val2014", tmp_path / "val2014")
    assert len(load_vqa_v1("val2014", tmp_path).questions) == 4


def test_missing_and_corrupt_files(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="visualqa.org"):
        load_vqa_v1("val2014", tmp_path)
    root = tmp_path / "vqa"
    shutil.copytree(FIXTURE, root)
    questions = root / "Questions" / "OpenEnded_mscoco_val2014_questions.json"
    annotations = root / "Annotations" / "mscoco_val2014_annotations.json"
    (root / "Images" / "mscoco" / "val2014" / "COCO_val2014_000000000073.jpg").unlink()
    with pytest.raises(DatasetNotFoundError, match="1 of 2"):
        load_vqa_v1("val2014", root)
    assert len(load_vqa_v1("val2014", root, check_images=False).image_paths) == 2
    payload = json.loads(annotations.read_text())
    payload["annotations"] = payload["annotations"][:-1]
    annotations.write_text(json.dumps(payload))
    with pytest.raises(CorruptFileError, match="question 731"):
        load_vqa_v1("val2014", root, check_images=False)
    questions.write_text('{"questions": [')
    with pytest.raises(CorruptFileError, match="not valid JSON"):
        load_vqa_v1("val2014", root, check_images=False)
    questions.write_text('{"questions": [{"image_id": 42, "question_id": 420}]}')
    with pytest.raises(CorruptFileError, match="'question'"):
        load_vqa_v1("val2014", root, check_images=False)


def test_image_files_resize_on_read():
    files = ImageFiles(load_vqa_v1("val2014", FIXTURE).image_paths, 32)
    images = files[0:5]
    assert len(files) == 2 and len(images) == 2 and images[0].size == (32, 32)
    assert np.asarray(images[0])[16, 16, 0] > 180  # the red square's centre


def test_full_scale_path_runs_on_the_fixture(tmp_path, monkeypatch):
    from camlib.chapters.ch10_vqa.vqa_v1 import fit_vqa_v1
    from camlib.models import load_pretrained

    monkeypatch.setenv("CAMLIB_DATA", str(tmp_path))
    baselines, table = fit_vqa_v1(load_pretrained(), FIXTURE, top_answers=3, size=64)
    # training questions: image 9 is held out (index 0 % 10 == 0), leaving blue, 1, green, yes (one each)
    assert baselines.vocabulary.answers == ("1", "blue", "green")
    assert list(table.index) == ["other", "number", "yes/no", "overall"]
    assert list(table.columns) == ["question+image", "question", "image", "questions"]
    assert list(table["questions"]) == [2, 1, 1, 4]
    assert list((cache_dir() / "vqa").glob("efficientnet-lite0-vqa_v1-val2014-64-2.pt"))


def test_annotation_without_a_field_names_the_annotations_file(tmp_path):
    root = tmp_path / "vqa"
    shutil.copytree(FIXTURE, root)
    annotations = root / "Annotations" / "mscoco_val2014_annotations.json"
    payload = json.loads(annotations.read_text())
    del payload["annotations"][0]["answer_type"]
    annotations.write_text(json.dumps(payload))
    with pytest.raises(CorruptFileError, match="mscoco_val2014_annotations.json: an entry has no 'answer_type'"):
        load_vqa_v1("val2014", root)
