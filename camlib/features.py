"""Deep features of a pretrained GAP network as a fixed extractor (Sec. 4 of the paper).

``extract`` runs the network once per batch and returns both the conv feature maps (for CAMs) and
their global average (the GAP feature a linear SVM is trained on).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
from PIL import Image
from torchvision.transforms import functional as TF

from .cam import CAM
from .errors import CamlibError
from .models.pretrained import PretrainedClassifier
from .progress import progress


@dataclass
class Features:
    """GAP features ``pooled (N, K)`` and, if kept, conv maps ``maps (N, K, h, w)`` (float32, CPU)."""

    pooled: torch.Tensor
    maps: torch.Tensor | None


def to_batch(images: np.ndarray | Sequence[Image.Image], size: int, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """Resize images (uint8 ``(N, H, W, 3)`` or PIL list) to ``size`` x ``size`` and normalise -> ``(N, 3, size, size)``."""
    if isinstance(images, np.ndarray):
        if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8:
            raise CamlibError(f"images must be uint8 (N, H, W, 3), got {images.dtype} {images.shape}")
        batch = torch.from_numpy(images).permute(0, 3, 1, 2).float().div_(255.0)
        if batch.shape[-2:] != (size, size):
            batch = torch.nn.functional.interpolate(batch, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
    else:
        batch = torch.stack([TF.to_tensor(img.convert("RGB").resize((size, size), Image.BILINEAR)) for img in images])
    return TF.normalize(batch, mean, std)


def extract(
    classifier: PretrainedClassifier,
    images: np.ndarray | Sequence[Image.Image],
    size: int = 224,
    batch_size: int = 32,
    keep_maps: bool = True,
    desc: str = "features",
) -> Features:
    """Run ``classifier`` over ``images`` and collect its last conv features (see :class:`Features`)."""
    if len(images) == 0:
        raise CamlibError("no images given to extract features from")
    device = next(classifier.model.parameters()).device
    pooled, maps = [], []
    with CAM(classifier.model) as cam:
        for start in progress(range(0, len(images), batch_size), desc=desc):
            batch = to_batch(images[start:start + batch_size], size, classifier.mean, classifier.std).to(device)
            feats = cam.features(batch)
            pooled.append(feats.mean(dim=(2, 3)).cpu())
            if keep_maps:
                maps.append(feats.cpu())
    return Features(torch.cat(pooled), torch.cat(maps) if keep_maps else None)
