"""Chapters 1 and 4's fine-tuned GAP network: its CAM-layer units on its test composites, with exact object masks."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from camlib.training import finetune, stamp_groups
from camlib.data.generators.composites import load_composites


@dataclass
class UnitSource:
    """A GAP network's CAM-layer maps on labelled images with exact object masks: ``images`` uint8
    ``(N, H, W, 3)``, ``features`` ``(N, K, h, w)``, classifier ``weight`` ``(C, K)`` and ``bias`` ``(C,)``,
    ``labels`` ``(N,)``, ``masks`` bool ``(N, H, W)`` (all instances) and ``class_names``."""

    images: np.ndarray
    features: torch.Tensor
    weight: torch.Tensor
    bias: torch.Tensor
    labels: np.ndarray
    masks: np.ndarray
    class_names: tuple[str, ...]


def tuned_gap_network(seed: int = 0) -> UnitSource:
    """Chapters 1 and 4's GAP network (Lite0 converted and fine-tuned with ``seed``, shipped as a
    checkpoint, :mod:`camlib.training.finetune`) with its test composites of photographed objects: the units of its
    head conv on each test image."""
    net, _ = finetune.shipped_tuned("gap", 16, seed)
    test = load_composites(finetune.tuned_spec(), progress=False)["test"]
    low = finetune.test_low_maps(net)[0]
    device = next(net.parameters()).device
    with torch.no_grad():
        features = torch.cat([net.upper.head.head_conv(net.upper.tuned(low[i:i + 64].float().to(device))).cpu()
                              for i in range(0, len(low), 64)])
    rendered = [test.render(i) for i in range(len(test))]
    images, masks = np.stack([image for image, _ in rendered]), np.stack([m.any(axis=0) for _, m in rendered])
    head = net.upper.head
    return UnitSource(images, features, head.fc.weight.detach().cpu(), head.fc.bias.detach().cpu(),
                      test.labels.astype(np.int64), masks, stamp_groups.group_names())
