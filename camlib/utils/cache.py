"""Atomic, checksummed files: a cache or checkpoint is either the old complete file or the new one.

Every file written here gets a sidecar ``<name>.sha256``; readers verify it and raise
:class:`~camlib.utils.errors.CorruptFileError` (or rebuild, with :func:`cached`) on a mismatch.
:func:`cached` never loses a result: a cache it cannot read is rebuilt and one it cannot write (a
read-only folder) is reported on stderr, and the result is returned all the same.

The checksum only detects damage: anyone who can write a cache can write its sidecar too. So a
cache holds data only (tensors, numpy arrays of numbers, and dicts, lists, tuples, strings and
numbers of them) and is read with ``torch.load(weights_only=True)``, which cannot run code.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import sys
from dataclasses import fields, is_dataclass
from pathlib import Path, PurePath
from typing import Any, Callable

import numpy as np
import torch

from camlib.utils.errors import CamlibError, CorruptFileError, UnwritableFileError
from camlib.utils.outputs import remove_stale_temporaries, written_temporary


def sha256_of(path: str | Path, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def cache_key(**parts: Any) -> str:
    """The one key of anything cached or trained (cache files, training checkpoints, the recipes of shipped
    networks): a short hash (16 hex) of ``parts`` as sorted JSON.

    A part may be a JSON value or a tuple, a ``Path`` (its text), an object with a ``key()`` method (that key:
    the data specs), a dataclass (its fields, recursively), or a numpy array or tensor (its shape, dtype and a
    fingerprint of its values). Anything else is refused, so a key never rests on a ``repr`` that can change."""
    text = json.dumps(parts, sort_keys=True, default=_key_part)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _key_part(part: Any) -> Any:
    if callable(getattr(part, "key", None)):
        return part.key()
    if is_dataclass(part) and not isinstance(part, type):
        return {f.name: getattr(part, f.name) for f in fields(part)}
    if isinstance(part, torch.Tensor):
        part = part.detach().cpu().numpy()
    if isinstance(part, np.ndarray):
        return {"shape": list(part.shape), "dtype": str(part.dtype), "values": array_fingerprint(part)}
    if isinstance(part, PurePath):
        return str(part)
    if isinstance(part, (np.integer, np.floating, np.bool_)):
        return part.item()
    raise CamlibError(f"a cache key cannot hold a {type(part).__name__}; give its fields, its key() or JSON values")


def array_fingerprint(*arrays: Any) -> str:
    """A short hash (12 hex) of the arrays' values, in order (their memory layout does not matter)."""
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()[:12]


def _checksum_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def _replace_atomically(path: Path, data: bytes) -> None:
    if path.is_dir():
        raise UnwritableFileError(f"{path} is a directory; give a file path to write to")
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    tmp = written_temporary(path, data)
    try:
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: str | Path, data: bytes) -> str:
    """Write ``data`` to ``path`` atomically with a checksum sidecar; returns the hex digest.

    The data file is replaced first, then its checksum: a crash in between leaves a file whose
    checksum does not match, which readers treat as corrupt and rebuild.
    """
    path = Path(path)
    digest = hashlib.sha256(data).hexdigest()
    _replace_atomically(path, data)
    _replace_atomically(_checksum_path(path), f"{digest}  {path.name}\n".encode())
    return digest


def read_verified_bytes(path: str | Path) -> bytes:
    """Read a file written by :func:`atomic_write_bytes`, checking its checksum."""
    path = Path(path)
    sidecar = _checksum_path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    if not sidecar.is_file():
        raise CorruptFileError(f"{path}: no checksum file {sidecar.name}; delete it and rebuild")
    data = path.read_bytes()
    words = sidecar.read_bytes().split()
    expected = words[0].decode("ascii", errors="replace") if words else ""  # any bytes, even non-UTF-8: a mismatch
    if hashlib.sha256(data).hexdigest() != expected:
        raise CorruptFileError(f"{path}: checksum mismatch (truncated or modified); delete it and rebuild")
    return data


_NDARRAY = "__camlib_ndarray__"  # marks a numpy array stored as a tensor


def _to_storable(obj: Any, where: str = "obj") -> Any:
    """``obj`` with numpy arrays as tagged tensors; raises ``CamlibError`` on anything but data.

    Subclasses of the plain types (numpy's ``float64``, an ``IntEnum``, a tensor subclass) are stored as
    the plain type: ``torch.load(weights_only=True)`` would refuse them, so the cache would never load.
    """
    if obj is None or type(obj) in (bool, int, float, str, torch.Tensor, torch.nn.Parameter):
        return obj
    if isinstance(obj, torch.Tensor):
        return obj.as_subclass(torch.Tensor)
    if isinstance(obj, np.generic):
        return _to_storable(obj.item(), where)
    for plain in (int, float, str):
        if isinstance(obj, plain):
            return plain.__str__(obj) if plain is str else plain(obj)
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind not in "biuf":
            raise CamlibError(f"{where}: numpy arrays of dtype {obj.dtype} cannot be cached; store numbers or str lists")
        return {_NDARRAY: torch.from_numpy(np.ascontiguousarray(obj).copy())}
    if isinstance(obj, dict):
        return {_to_storable(key, f"{where} key {key!r}"): _to_storable(value, f"{where}[{key!r}]") for key, value in obj.items()}
    if isinstance(obj, (list, tuple)):
        items = [_to_storable(value, f"{where}[{i}]") for i, value in enumerate(obj)]
        return items if isinstance(obj, list) else tuple(items)
    raise CamlibError(f"{where}: a {type(obj).__name__} cannot be cached (only tensors, numpy arrays, dicts, lists, "
                      "tuples, str and numbers load without running code); store its fields instead")


def _from_storable(obj: Any) -> Any:
    """Undo :func:`_to_storable`."""
    if isinstance(obj, dict):
        if set(obj) == {_NDARRAY}:
            return obj[_NDARRAY].numpy()
        return {key: _from_storable(value) for key, value in obj.items()}
    if isinstance(obj, list):
        return [_from_storable(value) for value in obj]
    if isinstance(obj, tuple):
        return tuple(_from_storable(value) for value in obj)
    return obj


def save_torch(obj: Any, path: str | Path) -> str:
    """``torch.save`` of data through :func:`atomic_write_bytes` (checkpoints, tensors, numpy arrays, dicts).

    Raises ``CamlibError`` for objects that would need code to load (classes, dataclasses, ...).
    """
    buffer = io.BytesIO()
    torch.save(_to_storable(obj), buffer)
    return atomic_write_bytes(path, buffer.getvalue())


def load_torch(path: str | Path) -> Any:
    """Load what :func:`save_torch` wrote, after verifying its checksum, without running any code
    (``weights_only=True``); a file that needs more is :class:`CorruptFileError`."""
    data = read_verified_bytes(path)
    try:
        return _from_storable(torch.load(io.BytesIO(data), map_location="cpu", weights_only=True))
    except Exception as err:  # intact bytes torch will not load: a pickled object, another format, ...
        reason = (str(err).strip().splitlines() or [""])[0][:120]
        raise CorruptFileError(f"{path}: checksum matches but it does not load as plain data ({type(err).__name__}: {reason}); delete it and rebuild") from err


def save_tensors(state: dict[str, torch.Tensor], path: str | Path) -> str:
    """Save a dict of tensors (a ``state_dict``) atomically with its checksum; read it with :func:`load_tensors`."""
    return save_torch({name: tensor.detach().cpu().contiguous() for name, tensor in state.items()}, path)


def load_tensors(path: str | Path) -> dict[str, torch.Tensor]:
    """Load what :func:`save_tensors` wrote, after verifying its checksum, with ``weights_only=True``
    (tensors and plain containers only: the file cannot run code)."""
    data = read_verified_bytes(path)
    try:
        state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as err:
        reason = (str(err).strip().splitlines() or [""])[0][:120]
        raise CorruptFileError(f"{path}: checksum matches but it is not a plain dict of tensors ({type(err).__name__}: {reason}); delete it and rebuild") from err
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CorruptFileError(f"{path}: not a dict of tensors; delete it and rebuild")
    return state


def _cached(path: str | Path, build: Callable[[], Any], load: Callable[[Path], Any], save: Callable[[Any, Path], None],
            quiet: bool) -> Any:
    path = Path(path)
    try:
        if path.is_file():
            return load(path)
    except (CorruptFileError, OSError) as err:  # damaged, or unreadable (permissions): never used
        _report(quiet, f"{err}; rebuilding")
    obj = build()
    try:
        save(obj, path)
    except OSError as err:  # a read-only folder, a full disk, a folder in the way: keep the result
        _report(quiet, f"cannot save the cache {path} ({getattr(err, 'strerror', None) or err}); the result is used "
                       "unsaved: make the folder writable, or set CAMLIB_DATA to a writable one")
    return obj


def _report(quiet: bool, message: str) -> None:
    """A cache's diagnostic: one line on stderr (stdout carries only results), unless ``quiet``."""
    if not quiet:
        print(f"camlib: {message}", file=sys.stderr)


def cached_tensors(path: str | Path, build: Callable[[], dict[str, torch.Tensor]], *, quiet: bool = False) -> dict[str, torch.Tensor]:
    """:func:`cached` for dicts of tensors, read with ``weights_only=True`` (:func:`load_tensors`)."""
    return _cached(path, build, load_tensors, save_tensors, quiet)


def cached(path: str | Path, build: Callable[[], Any], *, quiet: bool = False) -> Any:
    """Return the object cached at ``path``; build and save it if missing or corrupt.

    A corrupt cache is never used: it is reported (unless ``quiet``) and rebuilt.
    """
    return _cached(path, build, load_torch, save_torch, quiet)
