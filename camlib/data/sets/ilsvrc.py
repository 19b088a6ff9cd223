"""ILSVRC2012 CLS-LOC in its released layout, with the validation boxes for localization.

Expected under ``root`` (default ``<data root>/full/ILSVRC2012``)::

    LOC_synset_mapping.txt                  "n01440764 tench, Tinca tinca" per line; line i = class i
    train/<wnid>/<wnid>_<n>.JPEG
    val/ILSVRC2012_val_00000001.JPEG ...
    val_xml/ILSVRC2012_val_00000001.xml ... PASCAL-VOC-style boxes, 1-based inclusive pixels

Boxes become ``[xmin - 1, ymin - 1, xmax, ymax]`` (0-based, x1/y1 exclusive). Validation items
carry every box of their class; training items carry none (CAM needs only their labels).
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, Callable, Literal

import numpy as np

from camlib.utils.errors import CamlibError, CorruptFileError, DatasetNotFoundError
from camlib.utils.progress import progress as progress_bar
from camlib.data.sets.boxdataset import BoxImageDataset, BoxRecord
from camlib.data.assets.paths import full_dir

SYNSET_FILE = "LOC_synset_mapping.txt"
IMAGE_SUFFIXES = (".jpeg", ".jpg")


def _how_to_get(root: Path) -> str:
    return ("Download ILSVRC2012 CLS-LOC (https://image-net.org/download-images, or Kaggle's "
            "imagenet-object-localization-challenge which also has LOC_synset_mapping.txt) and arrange it as "
            f"{root}/train/<wnid>/*.JPEG, {root}/val/*.JPEG, {root}/val_xml/*.xml and {root}/{SYNSET_FILE}; "
            "or pass root=")


def read_synsets(path: str | Path) -> tuple[list[str], list[str]]:
    """WordNet ids and human-readable names from a ``LOC_synset_mapping.txt``, in class-index order."""
    wnids, names = [], []
    for number, line in enumerate(Path(path).read_text().splitlines(), start=1):
        if not line.strip():
            continue
        wnid, _, name = line.strip().partition(" ")
        if not (wnid.startswith("n") and wnid[1:].isdigit()):
            raise CorruptFileError(f"{path}:{number}: expected '<wnid> <names>', got {line!r}")
        wnids.append(wnid)
        names.append(name.strip())
    return wnids, names


def read_voc_xml(path: str | Path) -> list[tuple[str, np.ndarray]]:
    """``(name, box float32 (4,))`` per object of a PASCAL-VOC-style file, in camlib's box convention."""
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as err:
        raise CorruptFileError(f"{path}: not valid XML ({err}); re-extract the annotations") from None
    objects = []
    for obj in root.iter("object"):
        box = obj.find("bndbox")
        try:
            xmin, ymin, xmax, ymax = (float(box.find(tag).text) for tag in ("xmin", "ymin", "xmax", "ymax"))
        except (AttributeError, TypeError, ValueError):
            raise CorruptFileError(
                f"{path}: an object lacks numeric bndbox/xmin..ymax; re-extract the annotations") from None
        box = np.array([xmin - 1, ymin - 1, xmax, ymax], dtype=np.float32)
        objects.append((obj.findtext("name", "").strip(), box))
    return objects


def _require(path: Path, root: Path) -> Path:
    if not path.exists():
        raise DatasetNotFoundError("ILSVRC2012", path, _how_to_get(root))
    return path


def _images_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


class ImageNetLocalization(BoxImageDataset):
    """ILSVRC2012 ``train`` or ``val``: ``(image, label, boxes (M, 4), size (H, W))`` as in :class:`BoxImageDataset`."""

    def __init__(self, root: str | Path | None = None, split: Literal["train", "val"] = "val",
                 transform: Callable[[Any], Any] | None = None, progress: bool = True):
        root = Path(root) if root is not None else full_dir() / "ILSVRC2012"
        _require(root, root)
        wnids, names = read_synsets(_require(root / SYNSET_FILE, root))
        index = {wnid: i for i, wnid in enumerate(wnids)}
        if split == "train":
            records = self._train_records(root, wnids)
        elif split == "val":
            records = self._val_records(root, index, progress)
        else:
            raise CamlibError(f"ILSVRC2012 split must be 'train' or 'val', got {split!r}")
        if not records:
            raise DatasetNotFoundError("ILSVRC2012", root / split, _how_to_get(root))
        super().__init__(records, names, transform)
        self.wnids = tuple(wnids)

    @staticmethod
    def _train_records(root: Path, wnids: list[str]) -> list[BoxRecord]:
        train = _require(root / "train", root)
        empty = np.zeros((0, 4), dtype=np.float32)
        return [BoxRecord(path, label, empty)
                for label, wnid in enumerate(wnids) if (train / wnid).is_dir()
                for path in _images_in(train / wnid)]

    @staticmethod
    def _val_records(root: Path, index: dict[str, int], progress: bool) -> list[BoxRecord]:
        val, xml_dir = _require(root / "val", root), _require(root / "val_xml", root)
        records = []
        for path in progress_bar(_images_in(val), desc="ILSVRC2012 val boxes", disable=not progress, leave=False):
            objects = read_voc_xml(_require(xml_dir / f"{path.stem}.xml", root))
            if not objects or objects[0][0] not in index:
                raise CorruptFileError(f"{xml_dir / path.stem}.xml: no object whose name is a wnid of {SYNSET_FILE}")
            wnid = objects[0][0]
            boxes = np.stack([box for name, box in objects if name == wnid])
            records.append(BoxRecord(path, index[wnid], boxes))
        return records
