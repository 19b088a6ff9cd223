"""CAM of an answer: ``M_a(x, y) = sum_k w_{a,k} f_k(x, y)`` over the IMAGE part of the softmax weights.

Its spatial mean is the image's share of the answer's score (the question's share has no place
in the image), so the map shows which image regions pushed the model towards that answer.
"""
from __future__ import annotations

import numpy as np
import torch

from camlib.cam import class_activation_maps
from camlib.chapters.ch10_vqa.model import SimpleBaseline
from camlib.utils.errors import CamlibError


def answer_cams(model: SimpleBaseline, maps: torch.Tensor, answers: np.ndarray | torch.Tensor) -> torch.Tensor:
    """CAMs (B, h, w) of one answer per image from conv features ``maps`` (B, K, h, w) and answer indices (B,)."""
    if model.image_weight.shape[1] == 0:
        raise CamlibError(f"a {model.inputs!r} model has no image weights, so its answers have no CAM")
    index = torch.as_tensor(np.asarray(answers), dtype=torch.long).view(-1, 1)
    if index.shape[0] != maps.shape[0]:
        raise CamlibError(f"{index.shape[0]} answers for {maps.shape[0]} feature maps; give one answer per map")
    return class_activation_maps(maps, model.image_weight, index)[:, 0]
