"""Localization map methods behind one interface, so that one evaluation takes any of them.

A method turns normalised images ``(B, 3, H, W)`` and chosen classes ``(B, C)`` into maps
``(B, C, H, W)`` at the input's resolution, larger where the object more likely is. Methods that
classify also give logits ``(B, N)`` through :meth:`MapMethod.predict`; class-agnostic ones give
``None`` and the same map for every class. Use a method as a context manager: whatever it attached
to a network is removed when the block ends::

    with CAMMaps(model) as method:
        logits = method.predict(images)
        maps = method(images, logits.topk(5).indices)  # (B, 5, H, W)

* :class:`CAMMaps`: class activation maps of a network with a global-pooling head;
* :class:`BackpropMaps`: gradient saliency (Simonyan et al. 2014), for any classifier;
* :class:`CentreMaps`: a centred Gaussian that ignores the image (Choe et al.'s centre baseline);
* :class:`SpectralResidualMaps`: saliency of the image alone (Hou and Zhang 2007);
* :class:`FlipAveragedMaps`: any of them averaged with its maps of the mirrored image;
* :class:`SmoothedMaps`: any of them blurred by a Gaussian (gradient saliency needs it before a box rule);
* :class:`RecordedMaps`: any of them computed once per batch and class choice (and its logits once per batch),
  however often it is asked (one costly method scored under several box rules or blurs); what it computed is kept
  until the outermost ``with`` block ends.
"""
from __future__ import annotations

import hashlib
from typing import Sequence

import numpy as np
import torch
from torch import nn
from torchvision.transforms.functional import gaussian_blur

from camlib.methods.baselines import centre_maps, spectral_residual
from camlib.cam import CAM, CAMResult, normalize_maps, unit_maps, upsample
from camlib.utils.errors import CamlibError
from camlib.methods.saliency import gradient_saliency


class MapMethod:
    """The interface: ``method(images (B, 3, H, W), classes (B, C)) -> maps (B, C, H, W)``."""

    #: A short name for tables and figures.
    name = "map method"

    def __enter__(self) -> "MapMethod":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        """Remove whatever the method attached (nothing by default)."""

    def predict(self, images: torch.Tensor) -> torch.Tensor | None:
        """Logits ``(B, N)`` of a method that classifies, else ``None``."""
        self._check(images)
        return None

    def __call__(self, images: torch.Tensor, classes: torch.Tensor) -> torch.Tensor:
        self._check(images, classes)
        return self._maps(images, classes.to(images.device).long())

    def _maps(self, images: torch.Tensor, classes: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    @staticmethod
    def _check(images: torch.Tensor, classes: torch.Tensor | None = None) -> None:
        if not isinstance(images, torch.Tensor) or images.ndim != 4 or images.shape[1] != 3:
            got = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
            raise CamlibError(f"images must be a normalised batch (B, 3, H, W), got {got}")
        if classes is not None and (not isinstance(classes, torch.Tensor) or classes.ndim != 2
                                    or classes.shape[0] != images.shape[0]):
            got = tuple(classes.shape) if isinstance(classes, torch.Tensor) else type(classes).__name__
            raise CamlibError(f"classes must be (B={images.shape[0]}, C) class indices, got {got}")


class _ModelMethod(MapMethod):
    """A method that runs a classifier, which must be in eval mode."""

    def __init__(self, model: nn.Module) -> None:
        if model.training:
            raise CamlibError(f"{type(self).__name__} needs the model in eval mode: call model.eval() first")
        self.model = model


class CAMMaps(_ModelMethod):
    """Class activation maps, upsampled to the input: raw (the paper's scale, what its box rule and wsolevaluation
    score), or with ``peers=True`` in the peers' convention (ReLU per cell, upsampled, min-max:
    :meth:`CAMResult.normalized`, as pytorch-grad-cam and torchcam return maps). :meth:`predict` computes the maps of
    every class in the same forward pass, so the maps of the images just predicted cost no second pass."""

    name = "CAM"

    def __init__(self, model: nn.Module, peers: bool = False) -> None:
        super().__init__(model)
        self._cam = CAM(model)
        self.peers = peers
        if peers:
            self.name = "CAM, peers' convention"
        self._recent: list[tuple[torch.Tensor, CAMResult]] = []  # the last two predicted batches (an image and its mirror)

    def __enter__(self) -> "CAMMaps":
        self._cam.attach()
        return self

    def close(self) -> None:
        self._recent = []
        self._cam.remove()

    def predict(self, images: torch.Tensor) -> torch.Tensor:
        self._check(images)
        every_class = torch.arange(self._cam.head.classifier.out_features)
        result = self._cam(images, classes=every_class)
        self._recent = [*self._recent[-1:], (images, result)]
        return result.logits

    def _maps(self, images: torch.Tensor, classes: torch.Tensor) -> torch.Tensor:
        known = [result for batch, result in self._recent if batch is images]
        if known:
            result = known[0]
            maps = result.maps.gather(1, classes[:, :, None, None].expand(-1, -1, *result.maps.shape[-2:]))
        else:
            result = self._cam(images, classes=classes)
            maps = result.maps
        if self.peers:
            return unit_maps(upsample(maps.clamp_min(0), result.input_size))
        return upsample(maps, result.input_size)


class BackpropMaps(_ModelMethod):
    """Gradient saliency, one backward pass per mapped class (:func:`camlib.methods.saliency.gradient_saliency`)."""

    name = "backprop"

    def predict(self, images: torch.Tensor) -> torch.Tensor:
        self._check(images)
        with torch.no_grad():
            return self.model(images)

    def _maps(self, images: torch.Tensor, classes: torch.Tensor) -> torch.Tensor:
        return gradient_saliency(self.model, images, classes=classes)[2]


class CentreMaps(MapMethod):
    """A centred Gaussian with standard deviation ``sigma`` x side, scaled to [0, 1]: thresholded at every
    level it gives every centred box, which is how wsolevaluation scores its centre baseline."""

    name = "centre baseline"

    def __init__(self, sigma: float = 0.25) -> None:
        self.sigma = sigma

    def _maps(self, images: torch.Tensor, classes: torch.Tensor) -> torch.Tensor:
        prior = torch.from_numpy(centre_maps(1, tuple(images.shape[-2:]), self.sigma))
        return normalize_maps(prior).expand(len(images), classes.shape[1], -1, -1).to(images.device)


class SpectralResidualMaps(MapMethod):
    """Spectral-residual saliency of each image (:func:`camlib.methods.baselines.spectral_residual`); the images
    are un-normalised with ``mean``/``std`` first."""

    name = "spectral residual"

    def __init__(self, mean: Sequence[float], std: Sequence[float]) -> None:
        self.mean = torch.tensor(mean, dtype=torch.float32)[:, None, None]
        self.std = torch.tensor(std, dtype=torch.float32)[:, None, None]

    def _maps(self, images: torch.Tensor, classes: torch.Tensor) -> torch.Tensor:
        rgb = (images.detach().float().cpu() * self.std + self.mean).clamp(0, 1)
        pixels = (rgb.permute(0, 2, 3, 1).numpy() * 255).round().astype(np.uint8)
        saliency = torch.from_numpy(spectral_residual(pixels)).float()  # (B, H, W)
        return saliency[:, None].expand(-1, classes.shape[1], -1, -1).to(images.device)


class FlipAveragedMaps(MapMethod):
    """Test-time flip averaging of another method: logits and maps are the means over the image and
    its left-right mirror (the mirror's maps mirrored back), so a map ignores which way the object faces."""

    def __init__(self, method: MapMethod) -> None:
        self.method = method
        self.name = f"{method.name} + flip"
        self._mirror: tuple[torch.Tensor, torch.Tensor] | None = None  # (images, their mirror) last predicted

    def __enter__(self) -> "FlipAveragedMaps":
        self.method.__enter__()
        return self

    def close(self) -> None:
        self._mirror = None
        self.method.close()

    def predict(self, images: torch.Tensor) -> torch.Tensor | None:
        self._check(images)
        logits = self.method.predict(images)
        if logits is None:
            return None
        mirror = self._mirrored(images)
        return (logits + self.method.predict(mirror)) / 2

    def _maps(self, images: torch.Tensor, classes: torch.Tensor) -> torch.Tensor:
        return (self.method(images, classes) + self.method(self._mirrored(images), classes).flip(-1)) / 2

    def _mirrored(self, images: torch.Tensor) -> torch.Tensor:
        """The mirror of ``images``, the same tensor object for the same batch (so a method's cache of the
        batch it just predicted serves the maps too)."""
        if self._mirror is None or self._mirror[0] is not images:
            self._mirror = (images, images.flip(-1))
        return self._mirror[1]


class SmoothedMaps(MapMethod):
    """Another method's maps blurred by a Gaussian of standard deviation ``sigma`` x the map's longer side
    (0: unchanged): gradient saliency is a scatter of single pixels, and a box rule needs regions."""

    def __init__(self, method: MapMethod, sigma: float) -> None:
        if not 0 <= sigma <= 0.25:
            raise CamlibError(f"sigma is a fraction of the map's side in [0, 0.25], got {sigma}")
        self.method, self.sigma = method, sigma
        self.name = f"{method.name}, smoothed {sigma:g}" if sigma else method.name
        self.model = getattr(method, "model", None)

    def __enter__(self) -> "SmoothedMaps":
        self.method.__enter__()
        return self

    def close(self) -> None:
        self.method.__exit__(None, None, None)

    def predict(self, images: torch.Tensor) -> torch.Tensor | None:
        return self.method.predict(images)

    def _maps(self, images: torch.Tensor, classes: torch.Tensor) -> torch.Tensor:
        maps = self.method(images, classes)
        if not self.sigma:
            return maps
        sigma = self.sigma * max(maps.shape[-2:])
        radius = min(int(3 * sigma + 0.5), min(maps.shape[-2:]) - 1)
        flat = maps.reshape(-1, 1, *maps.shape[-2:]).float()
        return gaussian_blur(flat, [2 * radius + 1] * 2, [sigma, sigma]).reshape(maps.shape).to(maps.dtype)


class RecordedMaps(MapMethod):
    """Another method whose maps are kept for every (images, classes) it was asked for and returned again for the same
    values (compared by content, not identity): scoring one costly method, e.g. gradient saliency with one backward
    pass per class, under several blurs or box rules costs one computation per batch; its logits are kept the same way
    (one forward pass per batch however many evaluations predict). What is kept lives on the CPU (B x C x H x W floats
    per batch) until the outermost ``with`` block ends or the method is closed."""

    def __init__(self, method: MapMethod) -> None:
        self.method, self.name = method, method.name
        self.model = getattr(method, "model", None)
        self._kept: dict[bytes, torch.Tensor | None] = {}  # maps by (images, classes), logits by images
        self._depth = 0  # open blocks: an evaluation's own ``with`` inside the caller's keeps the maps

    def __enter__(self) -> "RecordedMaps":
        if self._depth == 0:
            self.method.__enter__()
        self._depth += 1
        return self

    def __exit__(self, *exc_info) -> None:
        self._depth -= 1
        if self._depth <= 0:
            self.close()

    def close(self) -> None:
        self._depth = 0
        self._kept.clear()
        self.method.__exit__(None, None, None)

    def predict(self, images: torch.Tensor) -> torch.Tensor | None:
        key = self._key(images)
        if key not in self._kept:
            logits = self.method.predict(images)
            self._kept[key] = None if logits is None else logits.cpu()
        logits = self._kept[key]
        return None if logits is None else logits.to(images.device)

    def _maps(self, images: torch.Tensor, classes: torch.Tensor) -> torch.Tensor:
        key = self._key(images, classes)
        if key not in self._kept:
            self._kept[key] = self.method(images, classes).cpu()
        return self._kept[key].to(images.device)

    @staticmethod
    def _key(*tensors: torch.Tensor) -> bytes:
        digest = hashlib.sha256()
        for tensor in tensors:
            digest.update(str((tuple(tensor.shape), tensor.dtype)).encode())
            digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
        return digest.digest()
