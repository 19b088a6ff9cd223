"""CUB-200-2011 (Caltech-UCSD Birds) in its released layout: 200 bird species, one box per image.

Expected under ``root`` (default ``<data root>/full/CUB_200_2011``): ``images.txt``,
``image_class_labels.txt``, ``train_test_split.txt``, ``bounding_boxes.txt`` (``id x y width
height``, floats), ``classes.txt`` and ``images/<class folder>/<file>.jpg``.
Boxes become ``[x, y, x + width, y + height]``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Literal

import numpy as np

from camlib.utils.errors import CamlibError, CorruptFileError, DatasetNotFoundError
from camlib.data.sets.boxdataset import BoxImageDataset, BoxRecord
from camlib.data.assets.paths import full_dir

HOW_TO_GET = ("Download CUB_200_2011.tgz from https://www.vision.caltech.edu/datasets/cub_200_2011/ "
              "(data.caltech.edu/records/65de6-vp158) and extract it so that {root}/images.txt exists; or pass root=")
_FILES = ("images.txt", "image_class_labels.txt", "train_test_split.txt", "bounding_boxes.txt", "classes.txt")


def _read_table(path: Path, n_values: int) -> dict[int, list[str]]:
    """``{id: [values]}`` from a CUB text file whose lines are ``id value...``."""
    table = {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split(maxsplit=n_values)
        if len(parts) != n_values + 1 or not parts[0].isdigit():
            raise CorruptFileError(f"{path}:{number}: expected an id and {n_values} value(s), got {line!r}")
        table[int(parts[0])] = parts[1:]
    return table


class CUB200(BoxImageDataset):
    """CUB-200-2011 ``train`` or ``test`` (per ``train_test_split.txt``).

    Items are ``(image, label, boxes (1, 4), size (H, W))`` as in :class:`BoxImageDataset`.
    """

    def __init__(self, root: str | Path | None = None, split: Literal["train", "test"] = "test",
                 transform: Callable[[Any], Any] | None = None):
        if split not in ("train", "test"):
            raise CamlibError(f"CUB-200-2011 split must be 'train' or 'test', got {split!r}")
        root = Path(root) if root is not None else full_dir() / "CUB_200_2011"
        for name in _FILES:
            if not (root / name).is_file():
                raise DatasetNotFoundError("CUB-200-2011", root / name, HOW_TO_GET.format(root=root))
        images = _read_table(root / "images.txt", 1)
        labels = _read_table(root / "image_class_labels.txt", 1)
        is_train = _read_table(root / "train_test_split.txt", 1)
        boxes = _read_table(root / "bounding_boxes.txt", 4)
        classes = _read_table(root / "classes.txt", 1)
        class_ids = sorted(classes)
        try:
            records = [
                BoxRecord(root / "images" / images[i][0], int(labels[i][0]) - 1, self._box(boxes[i]))
                for i in sorted(images) if (is_train[i][0] == "1") == (split == "train")
            ]
        except (KeyError, ValueError) as err:
            raise CorruptFileError(
                f"{root}: the CUB text files disagree or hold non-numbers ({err!r}); re-extract them") from None
        super().__init__(records, [classes[c][0].split(".", 1)[-1].replace("_", " ") for c in class_ids], transform)

    @staticmethod
    def _box(values: list[str]) -> np.ndarray:
        x, y, width, height = (float(v) for v in values)
        return np.array([[x, y, x + width, y + height]], dtype=np.float32)
