"""CAM for class-convolution heads (Network in Network, SqueezeNet): conv -> [ReLU] -> global pooling.

Such a network has no linear classifier: its last convolution already outputs one map per class,
``A_c = ReLU(conv_c(f))`` ``(B, N, h, w)``, and the logit is the map's global average,
``S_c = mean_xy A_c(x, y)``. The CAM of class c is therefore the class map itself. camlib takes the
map the network pools, i.e. **after** the ReLU (the class conv's output before the ReLU, which the
paper's NIN row shows, differs only where it is negative): with that choice the CAM identity
``mean_xy M_c + b_c = S_c`` holds exactly, with ``b_c = 0`` because the conv bias sits inside the map.

In camlib's CAM engine this is a GAP head whose features are the class maps (the pooling layer's
input) and whose classifier is the identity, :class:`ClassMapReadout`: ``M_c = sum_k I_ck A_k = A_c``.
"""
from __future__ import annotations

import torch
from torch import nn

#: Element-wise layers allowed between the class convolution and the global pooling.
ELEMENTWISE = (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.Identity, nn.Dropout, nn.Dropout2d)


class ClassMapReadout(nn.Linear):
    """The identity "classifier" of a class-convolution head: ``(B, N)`` pooled class maps -> the same ``(B, N)`` logits.

    Its weight is the ``N x N`` identity and it has no bias, so the CAM engine's
    ``maps = W[classes] @ features`` selects the chosen class maps unchanged.
    """

    def __init__(self, num_classes: int):
        super().__init__(num_classes, num_classes, bias=False)
        with torch.no_grad():
            self.weight.copy_(torch.eye(num_classes))
        self.weight.requires_grad_(False)


def class_conv_before(modules: dict[str, nn.Module], pool_name: str) -> nn.Conv2d | None:
    """The class convolution that feeds the global pooling ``pool_name``, or ``None``.

    Looks back from the pooling layer over the leaf modules in registration order, skipping
    :data:`ELEMENTWISE` layers; the first other leaf must be an ``nn.Conv2d`` (its output channels
    are the classes). The forward trace and the logit check of :class:`~camlib.cam.CAM` then verify
    on the first call that the network really computes ``logits = pool(maps)``.
    """
    leaves = [(name, m) for name, m in modules.items() if not list(m.children())]
    names = [name for name, _ in leaves]
    if pool_name not in names:
        return None
    for _, module in reversed(leaves[:names.index(pool_name)]):
        if isinstance(module, ELEMENTWISE):
            continue
        return module if isinstance(module, nn.Conv2d) else None
    return None
