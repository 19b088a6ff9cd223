"""Maps that know nothing about the class, to put CAM numbers in context.

* centre prior: a Gaussian centred on the image (its peak is the centre pixel) and the centred box
  covering a fixed fraction of each side (the "centre baseline" of Choe et al. 2020);
* spectral residual saliency (Hou and Zhang, CVPR 2007): what stands out of an image's average
  spectrum, a classic model of bottom-up visual attention with no learning at all.

Every function returns float32 maps ``(N, H, W)`` or boxes ``(N, 4)`` ``[x0, y0, x1, y1]``.
"""
from __future__ import annotations

import cv2
import numpy as np

from camlib.utils.errors import CamlibError


def centre_maps(count: int, shape: tuple[int, int], sigma: float = 0.25) -> np.ndarray:
    """``count`` copies of a centred Gaussian ``(H, W)`` with standard deviation ``sigma`` x side."""
    if count < 0 or sigma <= 0:
        raise CamlibError(f"need count >= 0 and sigma > 0, got {count}, {sigma}")
    height, width = shape
    ys = (np.arange(height) + 0.5 - height / 2) / (sigma * height)
    xs = (np.arange(width) + 0.5 - width / 2) / (sigma * width)
    prior = np.exp(-0.5 * (ys[:, None] ** 2 + xs[None, :] ** 2)).astype(np.float32)
    return np.broadcast_to(prior, (count, height, width)).copy()


def centre_boxes(sizes: np.ndarray, width: float = 0.5, height: float | None = None) -> np.ndarray:
    """float32 ``(N, 4)``: for each image of ``sizes (N, 2)`` ``(H, W)``, the box at its centre that covers ``width`` of its
    width and ``height`` (default: ``width``) of its height, both fractions in (0, 1]."""
    height = width if height is None else height
    if not (0.0 < width <= 1.0 and 0.0 < height <= 1.0):
        raise CamlibError(f"the box's width and height are fractions in (0, 1], got {width} and {height}")
    hw = np.asarray(sizes, dtype=np.float64).reshape(-1, 2)
    half = np.stack([hw[:, 1] * width / 2, hw[:, 0] * height / 2], axis=1)
    centre = hw[:, ::-1] / 2
    return np.concatenate([centre - half, centre + half], axis=1).astype(np.float32)


def spectral_residual(images: np.ndarray, work_size: int = 64, blur: float = 3.0) -> np.ndarray:
    """Spectral-residual saliency of uint8 images ``(N, H, W, 3)`` -> float32 ``(N, H, W)`` >= 0.

    Per image: grey, resized to ``work_size``; log amplitude ``L`` and phase ``P`` of its Fourier
    transform; residual ``R = L - mean3x3(L)``; saliency ``|IFFT(exp(R + iP))|^2`` smoothed by a
    Gaussian of ``blur`` px (at ``work_size``) and resized back to ``(H, W)``.
    """
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8:
        raise CamlibError(f"images must be uint8 (N, H, W, 3), got {images.dtype} {images.shape}")
    height, width = images.shape[1:3]
    out = np.empty(images.shape[:3], dtype=np.float32)
    for i, image in enumerate(images):
        grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        small = cv2.resize(grey, (work_size, work_size), interpolation=cv2.INTER_AREA).astype(np.float64)
        spectrum = np.fft.fft2(small)
        log_amplitude = np.log(np.abs(spectrum) + 1e-9)
        residual = log_amplitude - cv2.blur(log_amplitude, (3, 3), borderType=cv2.BORDER_REFLECT)
        saliency = np.abs(np.fft.ifft2(np.exp(residual + 1j * np.angle(spectrum)))) ** 2
        saliency = cv2.GaussianBlur(saliency, (0, 0), blur)
        out[i] = cv2.resize(saliency.astype(np.float32), (width, height), interpolation=cv2.INTER_LINEAR)
    return out


def random_boxes(sizes: np.ndarray, draws: int, seed: int = 0, relative_sizes: np.ndarray | None = None) -> np.ndarray:
    """Chance guesses ``(N, draws, 4)`` for images of ``sizes (N, 2)`` ``(H, W)``.

    Without ``relative_sizes``: uniformly random boxes (two uniform x's and two uniform y's, sorted).
    With ``relative_sizes (M, 2)`` (width/W, height/H, e.g. of the training boxes): a size drawn from
    them, placed uniformly inside the image (chance that knows the object size distribution).
    """
    rng = np.random.default_rng(seed)
    h = sizes[:, 0, None].astype(np.float64)
    w = sizes[:, 1, None].astype(np.float64)
    n = len(sizes)
    if relative_sizes is None:
        xs = np.sort(rng.random((n, draws, 2)), axis=-1) * w[..., None]
        ys = np.sort(rng.random((n, draws, 2)), axis=-1) * h[..., None]
        return np.stack([xs[..., 0], ys[..., 0], xs[..., 1], ys[..., 1]], axis=-1)
    pick = np.asarray(relative_sizes, dtype=np.float64)[rng.integers(0, len(relative_sizes), (n, draws))]
    bw, bh = np.minimum(pick[..., 0], 1.0) * w, np.minimum(pick[..., 1], 1.0) * h
    x0, y0 = rng.random((n, draws)) * (w - bw), rng.random((n, draws)) * (h - bh)
    return np.stack([x0, y0, x0 + bw, y0 + bh], axis=-1)
