"""Your own networks in camlib's pipeline: any GAP classifier with its preprocessing, or a fine-tuned checkpoint.

* :func:`as_classifier`: wrap any ``nn.Module`` whose head CAM understands (:func:`camlib.cam.head.find_gap_head`)
  with its preprocessing and class names, so that :func:`camlib.localize` and ``camlib cam`` take it;
* :func:`load_checkpoint`: one of the bundled architectures with the weights of a checkpoint fine-tuned from it
  (``camlib cam --checkpoint FILE --arch NAME``); its classifier may have any number of classes.

Checkpoints are read with ``safetensors`` only (tensors, no code: a pickled ``.pt`` can run code when loaded). Turn
a PyTorch checkpoint into one with ``safetensors.torch.save_file(model.state_dict(), "model.safetensors")``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import torch
from torch import nn

from camlib.cam.head import find_gap_head
from camlib.models.preprocess import IMAGENET_MEAN, IMAGENET_STD
from camlib.models.pretrained import PRETRAINED, PretrainedClassifier, load_pretrained
from camlib.utils.errors import CamlibError, CorruptFileError


def as_classifier(model: nn.Module, class_names: Sequence[str], mean: Sequence[float] = IMAGENET_MEAN,
                  std: Sequence[float] = IMAGENET_STD, size: int = 224, name: str = "own model") -> PretrainedClassifier:
    """``model`` (in eval mode, its head found by :func:`~camlib.cam.head.find_gap_head`) with the preprocessing it
    was trained with: ``mean``/``std`` per RGB channel on [0, 1] pixels and its input side ``size`` (images are
    resized whole, shorter side to ``size``); ``class_names`` one per output."""
    if not isinstance(model, nn.Module):
        raise CamlibError(f"as_classifier needs a torch.nn.Module, got {type(model).__name__}")
    find_gap_head(model)  # a readable error now rather than at the first image
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise CamlibError(f"size must be the network's input side in pixels (an int >= 1), got {size!r}")
    return PretrainedClassifier(name=name, model=model.eval(), mean=tuple(float(v) for v in mean),
                                std=tuple(float(v) for v in std), resize=size, crop=size, class_names=list(class_names))


def read_class_names(path: str | Path) -> list[str]:
    """One class name per line of a UTF-8 text file (blank lines skipped)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CamlibError(f"class names file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as err:
        raise CamlibError(f"cannot read class names from {path} ({getattr(err, 'strerror', None) or err}); give a UTF-8 "
                          "text file with one class name per line") from None
    names = [line.strip() for line in text.splitlines() if line.strip()]
    if not names:
        raise CamlibError(f"{path} names no classes; give one class name per line")
    return names


def _read_tensors(path: Path) -> dict[str, torch.Tensor]:
    from safetensors import SafetensorError
    from safetensors.torch import load as safetensors_load

    if path.suffix in (".pt", ".pth", ".ckpt", ".bin", ".pkl"):
        raise CamlibError(f"{path}: camlib reads checkpoints as safetensors only (a pickled {path.suffix} can run code when "
                          "loaded); convert it once: safetensors.torch.save_file(model.state_dict(), 'model.safetensors')")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CamlibError(f"checkpoint {path} does not exist") from None
    except OSError as err:
        raise CamlibError(f"cannot read checkpoint {path} ({err.strerror or err})") from None
    try:
        return safetensors_load(data)
    except (SafetensorError, ValueError, RuntimeError) as err:
        raise CorruptFileError(f"{path} is not a safetensors file ({str(err).splitlines()[0] if str(err) else 'unreadable'}); "
                               "save it with safetensors.torch.save_file(model.state_dict(), ...)") from None


def _resize_classifier(model: nn.Module, name: str, classes: int) -> None:
    """Replace the classifier module ``name`` (a linear layer or a 1x1 class convolution) by one with ``classes`` outputs."""
    old = model.get_submodule(name)
    if isinstance(old, nn.Linear):
        new: nn.Module = nn.Linear(old.in_features, classes, bias=old.bias is not None)
    elif isinstance(old, nn.Conv2d) and old.kernel_size == (1, 1):
        new = nn.Conv2d(old.in_channels, classes, 1, bias=old.bias is not None)
    else:
        raise CamlibError(f"cannot give {name} ({type(old).__name__}) another number of classes")
    parent, _, leaf = name.rpartition(".")
    setattr(model.get_submodule(parent) if parent else model, leaf, new)


def load_checkpoint(path: str | Path, arch: str, class_names: Sequence[str] | None = None) -> PretrainedClassifier:
    """The bundled architecture ``arch`` (a name of :data:`~camlib.models.pretrained.PRETRAINED`) with the weights of
    the safetensors checkpoint ``path`` (its ``state_dict``, fine-tuned from ``arch``), in eval mode, with ``arch``'s
    preprocessing. A classifier of another number of classes is rebuilt to the checkpoint's; ``class_names`` (default:
    ImageNet's for 1000 classes, else ``class 0``, ``class 1``, ...) must name each."""
    if arch not in PRETRAINED:
        raise CamlibError(f"unknown --arch {arch!r}; a checkpoint must be fine-tuned from one of: {', '.join(PRETRAINED)}")
    path = Path(path)
    tensors = _read_tensors(path)
    base = load_pretrained(arch)
    model = base.model
    own = model.state_dict()
    missing, unexpected = sorted(set(own) - set(tensors)), sorted(set(tensors) - set(own))
    if missing or unexpected:
        detail = f"missing {', '.join(missing[:3])}" if missing else f"unexpected {', '.join(unexpected[:3])}"
        raise CamlibError(f"{path} is not a {arch} checkpoint ({detail}{', ...' if len(missing or unexpected) > 3 else ''}); "
                          "check --arch, or save the whole model's state_dict")
    head = find_gap_head(model)
    classifier_module = head.classifier_name if f"{head.classifier_name}.weight" in own else _class_conv_name(model)
    weight = tensors.get(f"{classifier_module}.weight")
    classes = int(weight.shape[0]) if weight is not None else len(base.class_names)
    if classes != own[f"{classifier_module}.weight"].shape[0]:
        _resize_classifier(model, classifier_module, classes)
        own = model.state_dict()
    wrong = [f"{k} {tuple(tensors[k].shape)} vs {tuple(v.shape)}" for k, v in own.items() if tensors[k].shape != v.shape]
    if wrong:
        raise CamlibError(f"{path} does not fit {arch}: {wrong[0]}{' (and more)' if len(wrong) > 1 else ''}; check --arch")
    model.load_state_dict({k: tensors[k].to(v.dtype) for k, v in own.items()})
    if class_names is None:
        class_names = base.class_names if classes == len(base.class_names) else [f"class {i}" for i in range(classes)]
    if len(class_names) != classes:
        raise CamlibError(f"{path} has {classes} classes but {len(class_names)} class names were given; give one per class")
    return PretrainedClassifier(name=f"{arch} ({path.name})", model=model.eval(), mean=base.mean, std=base.std,
                                resize=base.resize, crop=base.crop, class_names=list(class_names))


def _class_conv_name(model: nn.Module) -> str:
    """The class convolution of a NIN/SqueezeNet head (the last 1x1 conv before its pooling)."""
    convs = [name for name, m in model.named_modules() if isinstance(m, nn.Conv2d) and m.kernel_size == (1, 1)]
    if not convs:
        raise CamlibError(f"{type(model).__name__}: no class convolution found")
    return convs[-1]
