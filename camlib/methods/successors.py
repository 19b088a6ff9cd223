"""CAM's successors behind camlib's map-method interface, computed by pytorch-grad-cam (not re-implemented here).

``SuccessorMaps(model, "gradcam++")`` is a :class:`~camlib.methods.map_methods.MapMethod`: the same evaluation,
boxes and metrics score it as they score CAM. The maps come from pytorch-grad-cam's classes
(:data:`SUCCESSORS`), on the features CAM itself uses: the input of the network's global pooling (or the named
``target_layer``). pytorch-grad-cam hooks a module's *output*, and many networks apply their last activation as a
function or through a module they also use elsewhere (EfficientNet-Lite's ``_swish`` runs after the stem and the
head), so the method works on a copy of the model with an ``nn.Identity`` placed in front of the pooling layer: its
output is exactly the pooled features. Every map is ReLU'd, min-max scaled and resized to the input by
pytorch-grad-cam (its convention and torchcam's), in [0, 1].

On a network whose head is global average pooling and one linear layer, Grad-CAM's channel weights are the
classifier's weights over the map's area, so Grad-CAM is ReLU(CAM) up to a positive scale (tested), and so is
XGrad-CAM (its cell weights sum to one); the others weigh the channels otherwise (Grad-CAM++, LayerCAM: other
functions of the gradients; Score-CAM: one forward pass per channel; Eigen-CAM: the first principal component of the
features, the same for every class).
"""
from __future__ import annotations

import contextlib
import copy
import io

import numpy as np
import torch
from torch import nn

from camlib.cam.head import find_gap_head, module_name
from camlib.methods.map_methods import MapMethod
from camlib.utils.errors import CamlibError

#: The methods, by the name the CLI and :func:`camlib.localize` take, with pytorch-grad-cam's class name.
SUCCESSORS = {"gradcam": "GradCAM", "gradcam++": "GradCAMPlusPlus", "xgradcam": "XGradCAM", "layercam": "LayerCAM",
              "scorecam": "ScoreCAM", "eigencam": "EigenCAM"}
#: Methods whose maps do not depend on the class asked for.
CLASS_AGNOSTIC = ("eigencam",)


def hookable_copy(model: nn.Module, target_layer: str | nn.Module | None = None) -> tuple[nn.Module, nn.Module]:
    """A deep copy of ``model`` and the module of the copy whose output the maps are made of ``(B, K, h, w)``: the
    ``target_layer`` (a name or a module of ``model``; any layer, as in pytorch-grad-cam), or by default CAM's features:
    an ``nn.Identity`` put in front of the global pooling layer :func:`find_gap_head` finds."""
    name = module_name(model, target_layer, "target_layer")
    twin = copy.deepcopy(model).eval()
    if name is not None:
        try:
            return twin, twin.get_submodule(name)
        except AttributeError:
            layers = ", ".join(n for n, _ in model.named_children())
            raise CamlibError(f"target_layer {name!r} is not a module of {type(model).__name__} (its top layers: {layers})") from None
    head = find_gap_head(model)
    if head.capture == "output":
        return twin, twin.get_submodule(head.feature_name)
    parent_name, _, leaf = head.feature_name.rpartition(".")
    parent = twin.get_submodule(parent_name) if parent_name else twin
    features = nn.Identity()
    setattr(parent, leaf, nn.Sequential(features, getattr(parent, leaf)))
    return twin, features


class SuccessorMaps(MapMethod):
    """One of :data:`SUCCESSORS` on ``model`` (eval mode), on the features CAM uses or on ``target_layer``'s output:
    maps ``(B, C, H, W)`` in [0, 1] at the input size, one
    backward pass per mapped class (Grad-CAM, Grad-CAM++, XGrad-CAM, LayerCAM), one forward pass per channel and
    class (Score-CAM, ``batch_size`` at a time) or none beyond the forward pass (Eigen-CAM)."""

    def __init__(self, model: nn.Module, method: str = "gradcam", target_layer: str | nn.Module | None = None,
                 batch_size: int = 64) -> None:
        if method not in SUCCESSORS:
            raise CamlibError(f"unknown method {method!r}; camlib runs {', '.join(['cam', *SUCCESSORS])}")
        if model.training:
            raise CamlibError(f"{method} needs the model in eval mode: call model.eval() first")
        try:
            import pytorch_grad_cam
        except ImportError:
            raise CamlibError(f"{method} is computed by pytorch-grad-cam: pip install --no-deps grad-cam ttach "
                              "(make env installs it)") from None
        self.name = self.method = method
        self.model, features = hookable_copy(model, target_layer)
        self._cam = getattr(pytorch_grad_cam, SUCCESSORS[method])(model=self.model, target_layers=[features])
        if method == "scorecam":
            self._cam.batch_size = batch_size

    def close(self) -> None:
        self._cam.activations_and_grads.release()

    def predict(self, images: torch.Tensor) -> torch.Tensor:
        self._check(images)
        with torch.no_grad():
            return self.model(images)

    def _maps(self, images: torch.Tensor, classes: torch.Tensor) -> torch.Tensor:
        from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

        maps = []
        quiet = contextlib.redirect_stderr(io.StringIO()) if self.method == "scorecam" else contextlib.nullcontext()
        columns = classes.T[:1] if self.method in CLASS_AGNOSTIC else classes.T
        with torch.enable_grad(), quiet:  # Score-CAM draws a progress bar per image
            for column in columns:
                targets = [ClassifierOutputTarget(int(k)) for k in column]
                maps.append(torch.from_numpy(np.ascontiguousarray(self._cam(input_tensor=images, targets=targets))))
        stacked = torch.stack(maps, dim=1)
        return stacked.expand(-1, classes.shape[1], -1, -1).to(images.device)
