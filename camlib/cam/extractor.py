"""``CAM``: class activation maps from a single forward pass, with hooks that are always removed.

The feature hook is a global module hook that fires only for the hooked module itself, so the model
carries no hook of camlib's: it can be copied, pickled or saved with ``torch.save`` while a ``CAM`` is
attached, and its copies are never hooked.
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import torch
from torch import nn
from torch.nn.modules.batchnorm import _NormBase
from torch.nn.modules.dropout import _DropoutNd
from torch.nn.modules.module import register_module_forward_hook, register_module_forward_pre_hook

from camlib.utils.errors import CamlibError, NoGapHeadError
from camlib.cam.box_rules import PAPER_THRESHOLD
from camlib.cam.compute import cam_boxes, class_activation_maps, select_classes, unit_maps, upsample
from camlib.cam.head import GapHead, check_head_trace, check_logits, find_gap_head


@dataclass
class CAMResult:
    """What one CAM call returns. Maps and scores are tensors on the model's device; boxes are numpy arrays of
    ``[x0, y0, x1, y1]`` floats in input pixels (``x1``/``y1`` exclusive), the convention of every box in camlib.

    Attributes:
        logits: ``(B, N)`` model outputs.
        classes: ``(B, C)`` the mapped class indices (top-k order when chosen by score).
        maps: ``(B, C, h, w)`` CAMs at the feature resolution, without bias.
        bias: ``(B, C)`` the classifier bias of each mapped class (zeros if it has none).
        input_size: ``(H, W)`` of the input batch.
    """

    logits: torch.Tensor
    classes: torch.Tensor
    maps: torch.Tensor
    bias: torch.Tensor
    input_size: tuple[int, int]

    @property
    def scores(self) -> torch.Tensor:
        """``(B, C)`` logits of the mapped classes."""
        return self.logits.gather(1, self.classes)

    @property
    def probs(self) -> torch.Tensor:
        """``(B, C)`` softmax probabilities of the mapped classes."""
        return self.logits.softmax(dim=1).gather(1, self.classes)

    def upsampled(self, size: tuple[int, int] | None = None) -> torch.Tensor:
        """``(B, C, H, W)`` maps resized to ``size`` (default: the input size)."""
        return upsample(self.maps, size or self.input_size)

    def normalized(self, size: tuple[int, int] | None = None) -> torch.Tensor:
        """``(B, C, H, W)`` maps in [0, 1] at ``size`` (default: the input size), the peers' convention (torchcam,
        pytorch-grad-cam): negative evidence cut (ReLU), upsampled bilinearly, each map then scaled by its minimum and
        maximum (as pytorch-grad-cam's ``scale_cam_image``). A map with no positive evidence is all zeros. The raw
        :attr:`maps` keep the paper's scale (their mean plus :attr:`bias` is the logit); boxes come from the raw maps."""
        return unit_maps(upsample(self.maps.clamp_min(0), size or self.input_size))

    def boxes(self, threshold: float = PAPER_THRESHOLD, size: tuple[int, int] | None = None) -> np.ndarray:
        """``(B, C, 4)`` boxes of the paper's rule on the maps upsampled to ``size`` (default: the
        input size); equal to ``boxes_from_cams(self.upsampled(size), threshold)``, only faster."""
        return cam_boxes(self.maps, size or self.input_size, threshold)


@dataclass
class _HookHandle:
    """Removes the feature hook once, when called or when its ``CAM`` is garbage-collected."""

    finalizer: weakref.finalize


def _store(cam: "weakref.ref[CAM]", module: nn.Module, features: torch.Tensor) -> None:
    """The hook's body: keep ``features`` on the CAM object if it still exists and ``module`` is the one it hooks."""
    target = cam()
    if target is not None and module is target.head.feature_module:
        target._features = features


def _mode_matters(module: nn.Module) -> bool:
    """Whether ``module``'s output can depend on its training mode: batch and instance norm, dropout, recurrent and
    attention layers (their dropout), and any module not from ``torch.nn`` (its forward may read ``self.training``)."""
    if isinstance(module, (_NormBase, _DropoutNd, nn.RNNBase, nn.MultiheadAttention)):
        return True
    return not type(module).__module__.startswith("torch.nn.")


class CAM:
    """Class Activation Mapping for a model whose head is last conv -> global pooling -> linear.

    Use it as a context manager so the hook is always removed::

        with CAM(model) as cam:
            result = cam(images, topk=5)        # maps of each image's top-5 classes
            boxes = result.boxes()              # (B, 5, 4): the paper's 20% boxes at the input size
            result = cam(images, classes=[281])  # or chosen classes, shared by the batch

    The head is found automatically (or give ``target_layer``/``classifier``, as modules or module names) and
    checked on the first call: anything but pass-through layers between pooling and the linear
    classifier raises a readable :class:`~camlib.utils.errors.NoGapHeadError`.

    A model in training mode, or any of whose modules is in training mode where that changes its
    output (:func:`_mode_matters`), is refused with a ``CamlibError`` rather than put in eval mode for you: batch norm in training mode would update its running statistics and make
    each image's map depend on the rest of the batch, and switching modes behind the caller's back
    would change their model. Call ``model.eval()`` first. A ``CAM`` itself cannot be copied or
    pickled (it is tied to one attached model); make a new one for a copy of the model.
    """

    def __init__(self, model: nn.Module, target_layer: str | nn.Module | None = None, classifier: str | nn.Module | None = None):
        self._handle: _HookHandle | None = None
        self._features: torch.Tensor | None = None
        self._verified = False
        if not isinstance(model, nn.Module):
            raise CamlibError(f"CAM needs a torch.nn.Module, got {type(model).__name__}")
        self.model = model
        self.head: GapHead = find_gap_head(model, target_layer, classifier)

    # -- hook management -------------------------------------------------------------------
    def attach(self) -> "CAM":
        """Register the feature hook (done by ``with``). The hook holds only a weak reference to
        this object, and is removed when it is garbage-collected, if :meth:`remove` was not called."""
        if self._handle is None:
            me = weakref.ref(self)
            if self.head.capture == "input":
                handle = register_module_forward_pre_hook(lambda mod, args: _store(me, mod, args[0]))
            else:
                handle = register_module_forward_hook(lambda mod, args, output: _store(me, mod, output))
            self._handle = _HookHandle(weakref.finalize(self, handle.remove))
        return self

    def remove(self) -> None:
        """Remove the hook and drop the stored features."""
        if self._handle is not None:
            self._handle.finalizer()
            self._handle = None
        self._features = None

    def __enter__(self) -> "CAM":
        return self.attach()

    def __exit__(self, *exc) -> None:
        self.remove()

    def __reduce__(self) -> Any:  # what pickle, copy.copy and copy.deepcopy call
        raise CamlibError("a CAM cannot be pickled or copied: copy or pickle the model, and make a new CAM(model) for it")

    # -- computing ---------------------------------------------------------------------------
    def _forward_traced(self, images: torch.Tensor) -> torch.Tensor:
        """Run the model once while recording leaf-module order, then validate the head."""
        executed: list[tuple[str, nn.Module]] = []
        handles = [
            m.register_forward_hook(lambda mod, a, o, name=name: executed.append((name, mod)))
            for name, m in self.model.named_modules()
            if not list(m.children())
        ]
        try:
            logits = self.model(images)
        finally:
            for h in handles:
                h.remove()
        name = type(self.model).__name__
        check_head_trace(self.head, executed, name)
        return logits

    def _run(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One forward pass without gradients: ``(logits (B, N), features (B, K, h, w))``."""
        if self._handle is None:
            raise CamlibError("CAM hooks are not attached: use `with CAM(model) as cam:` (or call cam.attach())")
        if not isinstance(images, torch.Tensor):
            raise CamlibError(f"images must be a torch.Tensor (B, 3, H, W), got {type(images).__name__}")
        if images.ndim == 3:
            images = images.unsqueeze(0)
        if images.ndim != 4 or images.shape[0] == 0:
            raise CamlibError(f"images must be a non-empty batch (B, C, H, W), got shape {tuple(images.shape)}")
        if images.numel() == 0:
            raise CamlibError(f"images must have pixels: got shape {tuple(images.shape)}; pass images at least 1x1 (the model's input size)")
        self._check_input(images)
        try:
            with torch.no_grad():
                try:
                    logits = self._forward_traced(images) if not self._verified else self.model(images)
                except RuntimeError as err:
                    first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
                    raise CamlibError(f"{type(self.model).__name__} failed on images {tuple(images.shape)} {images.dtype}: {first}; pass images of the shape, dtype and device it was trained with") from err
                features = self._features
                if features is None or features.ndim != 4:
                    got = "nothing" if features is None else f"shape {tuple(features.shape)}"
                    raise CamlibError(f"the hooked layer {self.head.feature_name!r} gave {got}; expected (B, K, h, w)")
                if not isinstance(logits, torch.Tensor) or logits.ndim != 2:
                    raise CamlibError("the model must return logits of shape (B, N); wrap it to return a tensor")
                if not torch.isfinite(logits).all():
                    raise CamlibError("the model returned NaN or infinite logits; check its weights (a diverged training run?)")
                if not self._verified:
                    try:
                        check_logits(self.head, features, logits, type(self.model).__name__)
                    except RuntimeError as err:  # the features do not even fit the classifier
                        raise NoGapHeadError(f"{type(self.model).__name__}: features {tuple(features.shape)} of {self.head.feature_name!r} "
                                             f"do not fit the classifier {self.head.classifier_name!r}; pass target_layer=/classifier=") from err
                    self._verified = True
        finally:
            self._features = None
        return logits, features

    def _check_input(self, images: torch.Tensor) -> None:
        """Refuse what would fail deep inside torch or silently give wrong maps."""
        training = "" if self.model.training else next(
            (name for name, module in self.model.named_modules() if module.training and _mode_matters(module)), None)
        if training is not None:
            which = "the model is" if training == "" else f"its module {training!r} ({type(self.model.get_submodule(training)).__name__}) is"
            raise CamlibError(f"{which} in training mode (dropout and batch-norm would change the maps "
                              "and batch-norm statistics would be updated): call model.eval() first")
        if not images.is_floating_point():
            raise CamlibError(f"images must be a float tensor normalised for the model (camlib.models.preprocess.preprocess), got {images.dtype}")
        first = next(self.model.parameters(), None)
        if first is not None and first.device.type == "meta":
            raise CamlibError("the model's weights are on the meta device (shapes only, no values): load its weights "
                              "(model.to_empty(device='cpu') then load_state_dict) first")
        if first is not None and images.device != first.device:
            raise CamlibError(f"images are on {images.device} but the model is on {first.device}: move them with images.to({str(first.device)!r})")
        if not bool(images.amax().isfinite() & images.amin().isfinite()):  # NaN propagates; 8x faster than isfinite().all()
            raise CamlibError("images contain NaN or infinite values; check how they were loaded and normalised")

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """The CAM features ``(B, K, h, w)`` of a batch (for linear probes and SVM CAMs)."""
        return self._run(images)[1]

    def __call__(
        self,
        images: torch.Tensor,
        classes: torch.Tensor | Sequence[int] | int | None = None,
        topk: int | None = None,
    ) -> CAMResult:
        """CAMs for a batch ``(B, 3, H, W)`` (a single ``(3, H, W)`` image is batched for you)."""
        logits, features = self._run(images)
        with torch.no_grad():
            chosen = select_classes(logits, classes, topk)
            maps = class_activation_maps(features, self.head.classifier.weight, chosen)
            bias = self.head.classifier.bias
            chosen_bias = bias[chosen] if bias is not None else torch.zeros_like(chosen, dtype=maps.dtype)
        return CAMResult(logits, chosen, maps, chosen_bias, (images.shape[-2], images.shape[-1]))
