"""The backprop baseline of Tables 2-3: Simonyan et al.'s (2014) gradient saliency.

The saliency of class ``c`` at pixel ``(x, y)`` is ``max_channel |d S_c / d I(channel, x, y)|``,
the magnitude of the class score's gradient with respect to the input image. Boxes come from these
maps by the same threshold rule as from CAMs.
"""
from __future__ import annotations

import torch
from torch import nn

from camlib.cam.compute import select_classes
from camlib.utils.errors import CamlibError


def gradient_saliency(
    model: nn.Module,
    images: torch.Tensor,
    classes: torch.Tensor | None = None,
    topk: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Saliency maps of chosen classes for a batch ``(B, 3, H, W)``.

    ``classes`` ``(B, C)`` (or anything :func:`camlib.cam.select_classes` takes); when ``None``, the
    ``topk`` highest-scoring classes. The model must be in eval mode (so that dropout is off and
    batch norm does not couple the images); its parameters get no gradient. One backward pass per
    mapped class.

    Returns ``(logits (B, N), classes (B, C), maps (B, C, H, W))``, maps >= 0.
    """
    if not isinstance(images, torch.Tensor) or images.ndim != 4 or images.shape[0] == 0:
        got = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise CamlibError(f"images must be a non-empty batch (B, 3, H, W), got {got}")
    if model.training:
        raise CamlibError("gradient_saliency needs the model in eval mode: call model.eval() first")
    inputs = images.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        logits = model(inputs)
        if not isinstance(logits, torch.Tensor) or logits.ndim != 2:
            raise CamlibError("the model must return logits of shape (B, N)")
        chosen = select_classes(logits.detach(), classes, topk)
        maps = []
        for rank in range(chosen.shape[1]):
            score = logits.gather(1, chosen[:, rank:rank + 1]).sum()  # images are independent in eval mode
            (grad,) = torch.autograd.grad(score, inputs, retain_graph=rank + 1 < chosen.shape[1])
            maps.append(grad.abs().amax(dim=1))
    return logits.detach(), chosen, torch.stack(maps, dim=1)
