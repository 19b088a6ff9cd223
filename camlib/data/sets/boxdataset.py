"""Image files with class labels and ground-truth boxes, as a torch ``Dataset``, and their collate function."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch
from torch.utils.data import Dataset
from torchvision.transforms.functional import to_tensor

from camlib.utils.errors import CamlibError
from camlib.utils.images import load_image


@dataclass(frozen=True)
class BoxRecord:
    """One image: its file, class index and boxes float32 (M, 4) ``[x0, y0, x1, y1]`` in its own pixels."""

    path: Path
    label: int
    boxes: np.ndarray


class BoxImageDataset(Dataset):
    """``(image, label, boxes float32 (M, 4), size int64 (2,) = (H, W))`` per record.

    ``image`` is ``transform(PIL RGB image)``, or a float tensor (3, H, W) in [0, 1] without a
    transform. Boxes stay in the *original* image's pixels (clipped to it), whatever the transform.
    """

    def __init__(self, records: Sequence[BoxRecord], class_names: Sequence[str],
                 transform: Callable[[Any], Any] | None = None):
        self.records = list(records)
        self.class_names = tuple(class_names)
        self.transform = transform

    @property
    def labels(self) -> np.ndarray:
        """Class index of every record, int64 (N,)."""
        return np.array([r.label for r in self.records], dtype=np.int64)

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: int) -> tuple[Any, int, torch.Tensor, torch.Tensor]:
        record = self.records[index]
        image = load_image(record.path)
        size = torch.tensor([image.height, image.width], dtype=torch.int64)
        limits = np.array([image.width, image.height] * 2, dtype=np.float32)
        boxes = torch.from_numpy(np.clip(record.boxes, 0, limits).astype(np.float32))
        image = self.transform(image) if self.transform is not None else to_tensor(image)
        return image, record.label, boxes, size


def collate_boxes(batch: Sequence[tuple[torch.Tensor, int, torch.Tensor, torch.Tensor]]
                  ) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor], torch.Tensor]:
    """Batch items with varying numbers of boxes.

    Returns ``(images (B, 3, h, w), labels int64 (B,), list of B boxes (M_i, 4), sizes int64 (B, 2))``.
    """
    if len(batch) == 0:
        raise CamlibError("collate_boxes got an empty batch; check the dataset and the sampler")
    images, labels, boxes, sizes = zip(*batch)
    shapes = {tuple(image.shape) for image in images}
    if len(shapes) > 1:
        raise CamlibError(f"images in a batch have different shapes {sorted(shapes)}; "
                          "pass a transform that resizes and crops them to one size")
    return torch.stack(images), torch.tensor(labels, dtype=torch.int64), list(boxes), torch.stack(sizes)
