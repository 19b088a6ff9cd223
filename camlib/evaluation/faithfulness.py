"""Faithfulness: does keeping only what a map highlights keep the network's confidence?

The image is multiplied by its map (scaled to [0, 1]: 0 where the map is lowest, so those pixels become the
normalisation's mean colour) and classified again. Chattopadhay et al. (2018, the Grad-CAM++ paper) report the
**average drop**, the mean of ``max(0, p - p') / p`` in percent (lower: the highlighted part alone carries more of
the evidence), and the **increase in confidence**, the share of images with ``p' > p``; ``p`` and ``p'`` are the
softmax probabilities of the mapped class before and after. The perturbed image and ``p'`` are computed by
pytorch-grad-cam's ``CamMultImageConfidenceChange`` (the metric behind its ``DropInConfidence`` and
``IncreaseInConfidence``, not re-implemented here); this module scales every method's maps the same way, takes ``p``
from logits the caller already has, and makes the drop relative, as the paper defines it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from camlib.cam.compute import unit_maps
from camlib.utils.errors import CamlibError


@dataclass(frozen=True)
class ConfidenceChange:
    """Per image ``(B,)``: ``drop`` ``max(0, p - p') / p`` in percent, ``increase`` whether ``p' > p``, ``confidence`` p,
    and ``kept`` the mean of the [0, 1] map in percent: how much of the image the perturbation keeps (a map of ones
    keeps it all and drops nothing, so compare drops at similar ``kept``)."""

    drop: np.ndarray
    increase: np.ndarray
    confidence: np.ndarray
    kept: np.ndarray

    def subset(self, rows: np.ndarray) -> "ConfidenceChange":
        """The changes of the images ``rows`` (indices, repeats allowed: a bootstrap resample)."""
        return ConfidenceChange(self.drop[rows], self.increase[rows], self.confidence[rows], self.kept[rows])

    @staticmethod
    def concatenate(changes: list["ConfidenceChange"]) -> "ConfidenceChange":
        """The changes of several batches as one."""
        return ConfidenceChange(*(np.concatenate([getattr(c, name) for c in changes])
                                  for name in ("drop", "increase", "confidence", "kept")))


def confidence_change(model: nn.Module, images: torch.Tensor, maps: torch.Tensor, classes: torch.Tensor,
                      logits: torch.Tensor | None = None) -> ConfidenceChange:
    """How ``model``'s softmax probability of ``classes`` ``(B,)`` changes when the normalised ``images``
    ``(B, 3, H, W)`` are multiplied by their ``maps`` ``(B, H, W)`` (any scale: :func:`unit_maps` is applied).
    ``logits`` ``(B, N)``: the model's output on ``images`` when the caller has it (else one more forward pass)."""
    from pytorch_grad_cam.metrics.cam_mult_image import CamMultImageConfidenceChange
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputSoftmaxTarget

    if images.ndim != 4 or maps.shape != (images.shape[0], *images.shape[2:]) or classes.shape != images.shape[:1]:
        raise CamlibError(f"need images (B, 3, H, W), maps (B, H, W) and classes (B,) of one batch; got "
                          f"{tuple(images.shape)}, {tuple(maps.shape)}, {tuple(classes.shape)}")
    if logits is None:
        with torch.no_grad():
            logits = model(images)
    rows = torch.arange(len(classes))
    before = torch.softmax(logits.float(), dim=1)[rows, classes.to(logits.device)].cpu().numpy().astype(np.float64)
    targets = [ClassifierOutputSoftmaxTarget(int(k)) for k in classes]
    scaled = unit_maps(maps).cpu().numpy()
    after = CamMultImageConfidenceChange()(images, scaled, targets, model, return_diff=False)
    after = np.asarray(after, dtype=np.float64).reshape(-1)
    return ConfidenceChange(100.0 * np.maximum(before - after, 0.0) / np.maximum(before, 1e-12), after > before, before,
                            100.0 * scaled.mean(axis=(1, 2)).astype(np.float64))
