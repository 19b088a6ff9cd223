"""Real photographs that load offline, used as cluttered backgrounds for generated benchmarks.

scikit-image's bundled sample images (colour and grey) plus the 20 foolbox ImageNet JPEGs.
"""
from __future__ import annotations

import numpy as np
from skimage import data as skdata

from camlib.utils.images import load_image
from camlib.data.assets.packages import imagenet_samples

#: scikit-image sample images bundled with the package (no download needed).
SKIMAGE_PHOTOS = (
    "astronaut", "chelsea", "coffee", "rocket", "immunohistochemistry", "hubble_deep_field",
    "camera", "coins", "brick", "grass", "gravel", "moon", "clock", "page", "text", "cell",
)


def _as_rgb(image: np.ndarray) -> np.ndarray:
    return np.repeat(image[:, :, None], 3, axis=2) if image.ndim == 2 else image[:, :, :3]


def background_photos() -> list[np.ndarray]:
    """The photo pool, each uint8 (H, W, 3): :data:`SKIMAGE_PHOTOS`, then the ImageNet samples."""
    photos = [_as_rgb(getattr(skdata, name)()) for name in SKIMAGE_PHOTOS]
    photos += [np.asarray(load_image(path)) for path, _ in imagenet_samples()]
    return [np.ascontiguousarray(p, dtype=np.uint8) for p in photos]
