"""The chapter's two tasks: rendered composites of Tux Paint stamps, split by object (the stamp groups, and
ImageNet classes on stamps the fine-tuned network never saw); and the hand-boxed real photos of the stamp groups."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from camlib.utils.cache import cache_key
from camlib.data.generators.composites import CompositeSpec, CompositeSplit, load_composites
from camlib.data.sets.localization_split import LocalizationSplit
from camlib.data.generators.stamps import MAPPING_FILE, stamp_mapping
from camlib.utils.errors import CamlibError
from camlib.training.finetune import tuned_spec
from camlib.utils.progress import progress
from camlib.training.stamp_groups import group_composites, group_names
from camlib.data.sets.real_photos import grouped_photos
from camlib.evaluation.batches import resized_photo, scale_boxes
from camlib.metrics.boxes import box_area

#: Every network sees the composites at their own size (no resampling).
INPUT_SIZE = 224
#: The group composites at the scale of chapters 1 and 4 (the same recipe, so its cache is shared); this chapter
#: uses the first :data:`TRAIN_IMAGES` / :data:`TEST_IMAGES` of each split.
SPEC_IMAGES = (960, 320)
TRAIN_IMAGES, TEST_IMAGES = 240, 160
#: Composites per stamp of the ImageNet-class task.
IMAGES_PER_STAMP = 12


@dataclass
class StampTask:
    """A task: rendered uint8 images ``(N, 224, 224, 3)``, labels ``(N,)`` and the stamp file of each image's
    largest object ``(N,)`` (the unit of independence), for training and test; test also holds each image's
    largest box ``(N, 4)`` and its mask ``(N, 224, 224)``; ``spec`` made them."""

    spec: CompositeSpec
    class_names: tuple[str, ...]
    train_images: np.ndarray
    train_labels: np.ndarray
    train_objects: np.ndarray
    test: LocalizationSplit
    test_objects: np.ndarray

    @property
    def test_images(self) -> np.ndarray:
        return self.test.images

    @property
    def test_labels(self) -> np.ndarray:
        return self.test.labels

    def key(self) -> str:
        """The key of the images and labels (names the cached features)."""
        return cache_key(train=[self.train_images, self.train_labels], test=[self.test_images, self.test_labels])


def object_paths(split: CompositeSplit) -> np.ndarray:
    """``(N,)`` the stamp file of each image's largest object (the same name in every stamp mapping)."""
    mapping = stamp_mapping(split.stamps)
    return np.array([mapping[i].path for i in split.objects()])


def instance_paths(split: CompositeSplit) -> set[str]:
    """The stamp file of every instance in ``split`` (extra instances included)."""
    mapping = stamp_mapping(split.stamps)
    return {mapping[i].path for i in np.unique(split.arrays["stamp"])}


def tuned_training_objects() -> set[str]:
    """The stamp files the shipped fine-tuned networks trained on (every instance of :func:`camlib.training.finetune.tuned_spec`'s
    training split)."""
    return instance_paths(load_composites(tuned_spec(), progress=False)["train"])


def render_rows(split: CompositeSplit, rows: np.ndarray, desc: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Images ``rows`` of ``split``: images ``(n, S, S, 3)``, the largest object's box ``(n, 4)`` and its mask
    ``(n, S, S)``."""
    rows = np.asarray(rows)
    if rows.size == 0 or rows.min() < 0 or rows.max() >= len(split):
        raise CamlibError(f"rows must be a non-empty selection of the {len(split)} {split.name} images")
    images, masks = [], []
    for i in progress(rows.tolist(), desc=desc):
        image, instance_masks = split.render(i)
        images.append(image)
        masks.append(instance_masks[0])  # instances are stored largest first
    boxes = np.stack([split.boxes(i)[0] for i in rows]).astype(np.float32)
    return np.stack(images), boxes, np.stack(masks)


def rendered_task(spec: CompositeSpec, class_names: tuple[str, ...], train: tuple[CompositeSplit, np.ndarray, np.ndarray],
                  test: tuple[CompositeSplit, np.ndarray, np.ndarray]) -> StampTask:
    """The task whose training and test images are ``(split, rows, labels)``: those rows rendered, with their labels."""
    train_images, _, _ = render_rows(train[0], train[1], "render train")
    test_images, boxes, masks = render_rows(test[0], test[1], "render test")
    split = LocalizationSplit(test_images, test[2].astype(np.int64), boxes, masks, class_names)
    return StampTask(spec, class_names, train_images, train[2].astype(np.int64), object_paths(train[0])[train[1]], split,
                     object_paths(test[0])[test[1]])


def stamp_task(train_images: int = TRAIN_IMAGES, test_images: int = TEST_IMAGES) -> StampTask:
    """The first ``train_images`` / ``test_images`` composites of ``group_composites(*SPEC_IMAGES)``."""
    spec = group_composites(*SPEC_IMAGES)
    splits = load_composites(spec, progress=False)
    train, test = np.arange(train_images), np.arange(test_images)
    return rendered_task(spec, group_names(), (splits["train"], train, splits["train"].labels[train]),
                         (splits["test"], test, splits["test"].labels[test]))


def held_out_stamps(stamps_by_class: dict[int, list[str]], seen: set[str]) -> dict[int, tuple[list[str], list[str]]]:
    """Per class, its ``(training, test)`` stamps: test = its stamps not in ``seen``, but the first stays in training
    when none would; classes of one stamp, or with every stamp in ``seen``, are left out."""
    out = {}
    for label, stamps in stamps_by_class.items():
        test = [s for s in stamps if s not in seen]
        if len(stamps) < 2 or not test:
            continue
        test = test[1:] if len(test) == len(stamps) else test
        out[label] = ([s for s in stamps if s not in test], test)
    return out


def imagenet_task(seen: set[str], images_per_stamp: int = IMAGES_PER_STAMP) -> StampTask:
    """ImageNet classes of :data:`~camlib.data.generators.stamps.MAPPING_FILE` split by :func:`held_out_stamps` (test objects
    outside ``seen``): about ``images_per_stamp`` composites of each stamp, labelled with its class. Each stamp is a
    class of the composites' recipe (``classes="stamp"``), so every instance in an image is its largest object's stamp."""
    by_class: dict[int, list[str]] = {}
    names: dict[int, str] = {}
    for entry in stamp_mapping(MAPPING_FILE):
        by_class.setdefault(entry.class_index, []).append(entry.path)
        names[entry.class_index] = entry.class_name
    chosen = held_out_stamps(by_class, seen)
    if len(chosen) < 2:
        raise CamlibError(f"only {len(chosen)} ImageNet class(es) have a stamp outside the seen ones; a task needs 2")
    classes = sorted(chosen)
    stamps = sum(len(train) + len(test) for train, test in chosen.values())
    spec = CompositeSpec(size=INPUT_SIZE, splits=(("all", images_per_stamp * stamps),), stamps=MAPPING_FILE,
                         classes="stamp", groups=tuple(classes))
    split = load_composites(spec, progress=False)["all"]
    objects = object_paths(split)
    label_of = {path: k for k, c in enumerate(classes) for path in chosen[c][0] + chosen[c][1]}
    labels = np.array([label_of[path] for path in objects])
    is_test = np.isin(objects, [path for _, test in chosen.values() for path in test])
    train, test = np.flatnonzero(~is_test), np.flatnonzero(is_test)
    return rendered_task(spec, tuple(names[c] for c in classes), (split, train, labels[train]), (split, test, labels[test]))


@dataclass(frozen=True)
class PhotoSet:
    """Real photos resized whole to :data:`INPUT_SIZE`: ``images`` uint8 ``(N, S, S, 3)``, ``labels`` ``(N,)``,
    ``boxes`` float32 ``(N, 4)`` (each photo's largest box, as the composites are scored) and ``class_names``; no
    pixel masks (the photos are boxed by hand)."""

    images: np.ndarray
    labels: np.ndarray
    boxes: np.ndarray
    class_names: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.labels)


def group_photos() -> PhotoSet:
    """The hand-boxed real photos whose objects fall in a stamp group (:func:`camlib.data.sets.real_photos.grouped_photos`)."""
    names = group_names()
    photos = grouped_photos(names)
    images = np.stack([resized_photo(p, INPUT_SIZE) for p in photos])
    largest = [scale_boxes(p.boxes, p.size, INPUT_SIZE)[int(np.argmax(box_area(p.boxes)))] for p in photos]
    return PhotoSet(images, np.array([int(p.labels[0]) for p in photos]), np.stack(largest).astype(np.float32), names)
