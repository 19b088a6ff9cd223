"""Finding a model's CAM head: the last conv features, the global pooling and the linear classifier."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from camlib.utils.errors import NoGapHeadError, NotLinearClassifierError
from camlib.cam.class_conv import ClassMapReadout, class_conv_before

#: Modules allowed between the global pooling and the classifier (they do not mix channels).
PASSTHROUGH = (nn.Flatten, nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.AlphaDropout, nn.Identity)


@dataclass
class GapHead:
    """Where the CAM features come from and which linear layer weighs them.

    ``capture`` says whether the features are the input of ``feature_name`` (a global pooling
    layer) or its output (a named target layer).
    """

    feature_name: str
    feature_module: nn.Module
    capture: Literal["input", "output"]
    pooling: Literal["avg", "max"]
    classifier_name: str
    classifier: nn.Linear


def _is_global_pool(module: nn.Module) -> str | None:
    if isinstance(module, (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)):
        size = module.output_size
        size = (size, size) if isinstance(size, int) else tuple(size)
        if all(s == 1 for s in size):
            return "avg" if isinstance(module, nn.AdaptiveAvgPool2d) else "max"
    return None


def _describe(modules: dict[str, nn.Module], kind: type | tuple) -> str:
    found = [f"{name} ({type(m).__name__})" for name, m in modules.items() if isinstance(m, kind)]
    return ", ".join(found[-4:]) if found else "none"


def module_name(model: nn.Module, layer: str | nn.Module | None, argument: str) -> str | None:
    """The name in ``model`` of ``layer``, given as a name or as the module itself (the peers' habit: torchcam and
    pytorch-grad-cam take modules); ``None`` stays ``None``. A module that is not part of ``model`` is refused."""
    if layer is None or isinstance(layer, str):
        return layer
    if not isinstance(layer, nn.Module):
        raise NoGapHeadError(f"{argument} must be a module name (str) or a module of the model, got {type(layer).__name__}")
    name = next((n for n, m in model.named_modules() if m is layer), None)
    if name is None:
        raise NoGapHeadError(f"{argument}: this {type(layer).__name__} is not a module of {type(model).__name__} (a module of "
                             "a copy of the model?); pass a module of the model itself, or its name")
    return name


def find_gap_head(model: nn.Module, target_layer: str | nn.Module | None = None,
                  classifier: str | nn.Module | None = None) -> GapHead:
    """Locate the CAM head of ``model``, automatically or by module (or module name).

    Automatic: the last ``AdaptiveAvgPool2d(1)``/``AdaptiveMaxPool2d(1)`` (features = its input) and
    the last ``nn.Linear`` registered after it. With ``target_layer`` the features are that
    module's output instead. Raises :class:`NoGapHeadError` naming what was found otherwise.
    A pooling layer fed by a class convolution and no linear layer (NIN, SqueezeNet) gives a head
    whose CAMs are the pooled class maps (:mod:`camlib.cam.class_conv`).
    """
    target_layer = module_name(model, target_layer, "target_layer")
    classifier = module_name(model, classifier, "classifier")
    modules = dict(model.named_modules())
    names = list(modules)

    if classifier is not None and classifier not in modules:
        raise NoGapHeadError(f"classifier={classifier!r} is not a module of {type(model).__name__}; linear layers: {_describe(modules, nn.Linear)}")
    if target_layer is not None:
        if target_layer not in modules:
            raise NoGapHeadError(f"target_layer={target_layer!r} is not a module of {type(model).__name__}; conv layers: {_describe(modules, nn.Conv2d)}")
        feature_name, capture = target_layer, "output"
        pool = _is_global_pool(modules[target_layer])
        pooling = "avg"
        if pool is not None:  # naming the pooling layer itself means "its input"
            capture, pooling = "input", pool
    else:
        pools = [(name, _is_global_pool(m)) for name, m in modules.items() if _is_global_pool(m)]
        if not pools:
            raise NoGapHeadError(
                f"{type(model).__name__} has no global pooling layer (AdaptiveAvgPool2d(1) or AdaptiveMaxPool2d(1)); "
                f"pooling layers found: {_describe(modules, (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d, nn.AvgPool2d, nn.MaxPool2d))}. "
                "If forward pools with a function call, pass target_layer= the module whose output is pooled, "
                "ending with any function forward applies first (torchvision's DenseNet: "
                "model.features.add_module('relu', nn.ReLU()), then target_layer='features'). "
                "Otherwise convert the model (camlib.models.gap)."
            )
        feature_name, pooling = pools[-1]
        capture = "input"

    if classifier is None:
        after = names[names.index(feature_name) + 1:]
        linears = [n for n in after if isinstance(modules[n], nn.Linear)]
        class_conv = None if linears or capture != "input" else class_conv_before(modules, feature_name)
        if class_conv is not None:  # NIN/SqueezeNet: the pooled class maps are the CAMs (camlib.cam.class_conv)
            readout = ClassMapReadout(class_conv.out_channels).to(class_conv.weight.device)
            return GapHead(feature_name, modules[feature_name], capture, pooling, feature_name, readout)
        if not linears:
            raise NoGapHeadError(
                f"no nn.Linear classifier after {feature_name!r} in {type(model).__name__}; "
                f"linear layers: {_describe(modules, nn.Linear)}; pass classifier=..."
            )
        classifier = linears[-1]
    linear = modules[classifier]
    if not isinstance(linear, nn.Linear):
        raise NoGapHeadError(f"classifier {classifier!r} is a {type(linear).__name__}, not nn.Linear: CAM needs a linear classifier")
    return GapHead(feature_name, modules[feature_name], capture, pooling, classifier, linear)


def check_head_trace(head: GapHead, executed: list[tuple[str, nn.Module]], model_name: str) -> None:
    """Check that only pass-through layers and the classifier ran after the features were taken.

    ``executed`` lists the leaf modules in the order the forward pass called them.
    """
    inside = [i for i, (name, _) in enumerate(executed)
              if name == head.feature_name or name.startswith(head.feature_name + ".")]
    if not inside:
        raise NoGapHeadError(f"{head.feature_name!r} never ran in {model_name}.forward; pass target_layer=...")
    runs = sum(name == head.feature_name for name, _ in executed)
    if runs > 1:
        raise NoGapHeadError(f"{head.feature_name!r} runs {runs} times in {model_name}.forward (one module shared by several "
                             "branches), so its features are ambiguous; give each branch its own module or pass target_layer=...")
    if head.classifier_name not in (name for name, _ in executed):
        raise NoGapHeadError(f"classifier {head.classifier_name!r} never ran in {model_name}.forward; pass classifier=...")
    tail = executed[inside[-1] + 1:]
    mixing = [f"{n} ({type(m).__name__})" for n, m in tail if n != head.classifier_name and not isinstance(m, PASSTHROUGH)]
    if mixing:
        raise NotLinearClassifierError(
            f"{model_name}: after the features ({head.feature_name!r}) these layers run besides the linear classifier: "
            f"{', '.join(mixing)}. CAM needs global pooling -> one linear layer; retrain a GAP head (camlib.models.gap)."
        )


def check_logits(head: GapHead, features: torch.Tensor, logits: torch.Tensor, model_name: str) -> None:
    """Check numerically that logits == classifier(pool(features)) (eval mode)."""
    pooled = features.mean(dim=(2, 3)) if head.pooling == "avg" else features.amax(dim=(2, 3))
    expected = head.classifier(pooled.to(head.classifier.weight.dtype))
    if logits.shape != expected.shape or not torch.allclose(logits.float(), expected.float(), rtol=1e-3, atol=1e-3):
        raise NoGapHeadError(
            f"{model_name}: its output is not {head.classifier_name}({head.pooling}-pool({head.feature_name})); "
            "the head does something CAM cannot express (a second classifier, a softmax output, ...). "
            "Pass target_layer=/classifier= or use a GAP model from camlib.models."
        )
