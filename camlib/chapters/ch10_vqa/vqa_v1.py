"""The real VQA v1 data set (Antol et al. 2015, visualqa.org) in its own file format: the full-scale path.

Layout under the root (the official API's; the JSON files may also lie directly in the root)::

    Questions/OpenEnded_mscoco_<split>_questions.json    {"questions": [{"image_id", "question", "question_id"}]}
    Annotations/mscoco_<split>_annotations.json          {"annotations": [{"question_id", "image_id", "answers": [{"answer"}],
                                                           "multiple_choice_answer", "answer_type", "question_type"}]}
    Images/mscoco/<images>/COCO_<images>_<image_id:012d>.jpg   (or Images/<images>/ or <images>/)

``<split>`` is ``train2014``, ``val2014``, ``test-dev2015`` or ``test2015``; the test splits have no
annotations and their images are in ``test2015``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
import torch
from PIL import Image

from camlib.utils.cache import cached
from camlib.chapters.ch10_vqa.pipeline import Baselines, fit_baselines
from camlib.chapters.ch10_vqa.table import QuestionTable
from camlib.data import cache_dir, full_dir
from camlib.utils.errors import CamlibError, CorruptFileError, DatasetNotFoundError
from camlib.methods.features import extract
from camlib.utils.images import load_image
from camlib.models.pretrained import PretrainedClassifier
from camlib.models.preprocess import resize_image

HOW_TO_GET = ("Download the VQA v1 questions, annotations and COCO images from https://visualqa.org/vqa_v1_download.html "
              "and unpack them there (Questions/, Annotations/, Images/mscoco/<split>/), or pass root=.")


def default_root() -> Path:
    """``<data root>/full/vqa_v1``."""
    return full_dir() / "vqa_v1"


@dataclass
class VQAv1Split:
    """One VQA v1 split: unique images (``image_paths``, ``image_ids`` (N,)) and their questions.

    ``question_ids`` int64 (Q,); ``questions.image_index`` points into ``image_paths``. For test
    splits the answer columns are empty strings and ``all_answers`` empty tuples.
    """

    split: str
    image_paths: list[Path]
    image_ids: np.ndarray
    question_ids: np.ndarray
    questions: QuestionTable


def _first_file(candidates: Sequence[Path], what: str) -> Path:
    for path in candidates:
        if path.is_file():
            return path
    raise DatasetNotFoundError(f"VQA v1 {what}", " or ".join(str(p) for p in candidates), HOW_TO_GET)


def _read_json(path: Path, key: str) -> list[dict]:
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CorruptFileError(f"{path}: not valid JSON ({err}); download it again") from None
    if not isinstance(payload, dict) or not isinstance(payload.get(key), list):
        raise CorruptFileError(f"{path}: expected a JSON object with a {key!r} list")
    return payload[key]


def _field(entry: dict, name: str, path: Path) -> object:
    if name not in entry:
        raise CorruptFileError(f"{path}: an entry has no {name!r} field: {str(entry)[:120]}")
    return entry[name]


def load_vqa_v1(split: str = "val2014", root: str | Path | None = None, check_images: bool = True) -> VQAv1Split:
    """Read a VQA v1 split (open-ended questions) from ``root`` (default :func:`default_root`).

    Raises :class:`DatasetNotFoundError` for a missing file (and, with ``check_images``, a missing
    image), :class:`CorruptFileError` for malformed JSON or questions without an annotation.
    """
    root = Path(root) if root is not None else default_root()
    test = split.startswith("test")
    folder = "test2015" if test else split
    questions_path = _first_file([root / "Questions" / f"OpenEnded_mscoco_{split}_questions.json",
                                  root / f"OpenEnded_mscoco_{split}_questions.json"], f"{split} questions")
    entries = _read_json(questions_path, "questions")
    if not entries:
        raise CorruptFileError(f"{questions_path}: holds no questions")
    annotations: dict[int, dict] = {}
    annotations_path = questions_path
    if not test:
        annotations_path = _first_file([root / "Annotations" / f"mscoco_{split}_annotations.json",
                                        root / f"mscoco_{split}_annotations.json"], f"{split} annotations")
        annotations = {int(_field(a, "question_id", annotations_path)): a for a in _read_json(annotations_path, "annotations")}
    image_dir = next((d for d in (root / "Images" / "mscoco" / folder, root / "Images" / folder, root / folder) if d.is_dir()), None)
    if image_dir is None:
        raise DatasetNotFoundError(f"VQA v1 {folder} images", root / "Images" / "mscoco" / folder, HOW_TO_GET)

    image_ids: dict[int, int] = {}
    rows = {"image_index": [], "text": [], "answer": [], "question_type": [], "answer_type": [], "all_answers": []}
    question_ids = []
    for q in entries:
        qid, image_id = int(_field(q, "question_id", questions_path)), int(_field(q, "image_id", questions_path))
        question_ids.append(qid)
        rows["image_index"].append(image_ids.setdefault(image_id, len(image_ids)))
        rows["text"].append(str(_field(q, "question", questions_path)))
        if test:
            a: dict = {"multiple_choice_answer": "", "question_type": "", "answer_type": "", "answers": []}
        elif qid not in annotations:
            raise CorruptFileError(f"question {qid} of {questions_path.name} has no annotation in mscoco_{split}_annotations.json")
        else:
            a = annotations[qid]
        rows["answer"].append(str(_field(a, "multiple_choice_answer", annotations_path)))
        rows["question_type"].append(str(_field(a, "question_type", annotations_path)))
        rows["answer_type"].append(str(_field(a, "answer_type", annotations_path)))
        rows["all_answers"].append(tuple(str(_field(x, "answer", annotations_path)) for x in _field(a, "answers", annotations_path)))
    paths = [image_dir / f"COCO_{folder}_{image_id:012d}.jpg" for image_id in image_ids]
    if check_images:
        missing = [p for p in paths if not p.is_file()]
        if missing:
            raise DatasetNotFoundError(f"{len(missing)} of {len(paths)} VQA v1 {folder} images", missing[0], HOW_TO_GET)
    return VQAv1Split(split, paths, np.fromiter(image_ids, dtype=np.int64), np.asarray(question_ids, dtype=np.int64),
                      QuestionTable(**rows))


class ImageFiles:
    """A lazy, sliceable sequence of image files, each loaded as RGB and resized to ``size`` x ``size``
    (so :func:`camlib.methods.features.extract` can batch photos of different sizes)."""

    def __init__(self, paths: Sequence[Path], size: int):
        self.paths = list(paths)
        self.size = size

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: slice) -> list[Image.Image]:
        if not isinstance(index, slice):
            raise CamlibError("ImageFiles is read in slices, e.g. files[0:32]")
        return [resize_image(load_image(p), self.size, self.size) for p in self.paths[index]]


def vqa_v1_features(classifier: PretrainedClassifier, split: VQAv1Split, size: int = 224, batch_size: int = 64) -> torch.Tensor:
    """Pooled GAP features (N, K) of a split's images, each resized to ``size`` x ``size``;
    cached in ``cache/vqa/<model>-vqa_v1-<split>-<size>-<N>.pt``."""
    path = cache_dir() / "vqa" / f"{classifier.name}-vqa_v1-{split.split}-{size}-{len(split.image_paths)}.pt"
    build = lambda: extract(classifier, ImageFiles(split.image_paths, size), size=size, batch_size=batch_size,  # noqa: E731
                            keep_maps=False, desc=f"VQA v1 {split.split}").pooled
    return cached(path, build)


def fit_vqa_v1(
    classifier: PretrainedClassifier,
    root: str | Path | None = None,
    top_answers: int = 1000,
    max_words: int = 1000,
    size: int = 224,
    holdout_every: int = 10,
) -> tuple[Baselines, pd.DataFrame]:
    """The simple baseline and its ablations on real VQA v1: trained on ``train2014`` (every
    ``holdout_every``-th image's questions held out to choose ``l2``), scored on ``val2014`` by answer type."""
    train, val = load_vqa_v1("train2014", root), load_vqa_v1("val2014", root)
    train_pooled, val_pooled = vqa_v1_features(classifier, train, size), vqa_v1_features(classifier, val, size)
    held = train.questions.image_index % holdout_every == 0
    baselines = fit_baselines((train.questions.select(~held), train_pooled), (train.questions.select(held), train_pooled),
                              top_answers=top_answers, max_words=max_words)
    return baselines, baselines.compare(val.questions, val_pooled, by="answer_type")
