"""Networks trained once by the project's command and shipped with the package, read everywhere.

A reader's CPU changes the kernels, the summation order and with them every number a network trained
at read time gives. So the networks the chapters' claims rest on are trained by one command
(``python -m camlib.commands.retrain``), and each is shipped as a checkpoint of its trained tensors
(floating tensors stored as float16) in ``camlib/resources/networks/<VERSION>/``, described by that
folder's ``manifest.json``: the recipe key, the command, commit, data, seed, steps, wall time, the
training history, final metrics and the file's SHA-256. Chapters load them with :func:`load_network`,
which checks the recipe key (a chapter asking for another recipe than the one trained is refused) and
the SHA-256, and reads the file with ``safetensors`` (tensors only: loading cannot run code).

``CAMLIB_NETWORKS_DIR`` points the store elsewhere (tests, a reduced retrain, a user's own retrain).
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch
from safetensors import SafetensorError
from safetensors.torch import load as safetensors_load
from safetensors.torch import save as safetensors_save

from camlib.utils.cache import _replace_atomically, sha256_of
from camlib.utils.errors import CamlibError, CorruptFileError
from camlib.utils.shipped import PACKAGE_DIR

#: The folder of the networks the chapters read; a new version when the recipes change.
VERSION = "v1"
MANIFEST = "manifest.json"
#: The command that trains every shipped network (``--help`` lists its options).
COMMAND = "python -m camlib.commands.retrain"


@dataclass(frozen=True)
class Recipe:
    """How to train one shipped network: its ``name``, its recipe ``key`` (what a chapter asks for), its
    ``group`` (recipes that differ only by seed share one; their spread is the tolerance of a check), and
    ``train(max_steps)``, which trains it (``max_steps``: a reduced run that stops early, perhaps on less data) and
    returns its tensors and its record (with final metrics computed from the shipped, float16-rounded tensors), and
    ``measure(tensors)``, if given, the metrics that need only the shipped tensors (so that one added later can be
    measured on a network already shipped, ``retrain --add-metrics``)."""

    name: str
    key: str
    group: str
    train: Callable[[int | None], tuple[dict[str, torch.Tensor], "NetworkRecord"]]
    measure: Callable[[dict[str, torch.Tensor]], dict[str, float]] | None = None


def networks_dir() -> Path:
    """Where shipped networks live: ``CAMLIB_NETWORKS_DIR`` if set (non-empty), else the package's own folder."""
    override = os.environ.get("CAMLIB_NETWORKS_DIR")
    if override is not None:
        if not override.strip():
            raise CamlibError("CAMLIB_NETWORKS_DIR is set but empty; unset it or give a folder")
        return Path(override)
    return PACKAGE_DIR / "resources" / "networks" / VERSION


@dataclass
class NetworkRecord:
    """One shipped network: ``name`` (its file stem), ``key`` (hash of its recipe: architecture, data,
    training rule, seed), ``sha256`` of its file, how it was made (``command``, ``commit``, ``data``,
    ``seed``, ``steps``, ``seconds`` of training), its per-epoch ``history`` and its final ``metrics``."""

    name: str
    key: str
    sha256: str
    command: str
    commit: str
    data: str
    seed: int
    steps: int
    seconds: float
    history: list[dict[str, float]] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)

    @property
    def file(self) -> str:
        return f"{self.name}.safetensors"


def _check_name(name: str) -> None:
    if not name or any(c not in "abcdefghijklmnopqrstuvwxyz0123456789-_." for c in name) or name.startswith("."):
        raise CamlibError(f"network names use lowercase letters, digits, '-', '_' and '.', got {name!r}")


def read_manifest(folder: Path | None = None) -> dict[str, NetworkRecord]:
    """The records of ``folder`` (default :func:`networks_dir`), by name; empty when it has no manifest."""
    path = (folder or networks_dir()) / MANIFEST
    if not path.is_file():
        return {}
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
        return {entry["name"]: NetworkRecord(**entry) for entry in entries["networks"]}
    except (ValueError, KeyError, TypeError) as err:
        raise CorruptFileError(f"{path} is not a manifest of shipped networks ({type(err).__name__}: {err}); "
                               f"restore it from git or run `{COMMAND}`") from None


def _write_manifest(records: dict[str, NetworkRecord], folder: Path) -> None:
    entries = [asdict(records[name]) for name in sorted(records)]
    text = json.dumps({"version": VERSION, "command": COMMAND, "networks": entries}, indent=1, sort_keys=True)
    _replace_atomically(folder / MANIFEST, (text + "\n").encode())


def current_commit() -> str:
    """The checkout's commit (with ``+dirty`` when it has uncommitted changes), or ``unknown`` outside git."""
    root = PACKAGE_DIR
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root, capture_output=True,
                               text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    if head.returncode != 0:
        return "unknown"
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def shipped_tensors(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``state`` as it is shipped: floating tensors rounded to float16, others (counters) unchanged, on the CPU."""
    return {name: (t.detach().cpu().to(torch.float16) if t.is_floating_point() else t.detach().cpu()).contiguous()
            for name, t in state.items()}


@contextlib.contextmanager
def _manifest_lock(folder: Path):
    """Hold an exclusive lock on ``folder``'s manifest (several retrain processes may write into one store)."""
    folder.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # no POSIX locks (Windows): one writer at a time is the user's affair
        yield
        return
    with open(folder / ".manifest.lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def save_network(record: NetworkRecord, state: dict[str, torch.Tensor], folder: Path | None = None) -> NetworkRecord:
    """Write ``state`` (rounded by :func:`shipped_tensors`) as ``record.name`` and its record (with the
    file's SHA-256) into the manifest of ``folder``; both atomically. Returns the record written."""
    _check_name(record.name)
    folder = folder or networks_dir()
    data = safetensors_save(shipped_tensors(state), metadata={"name": record.name, "key": record.key})
    _replace_atomically(folder / record.file, data)
    record = NetworkRecord(**{**asdict(record), "sha256": sha256_of(folder / record.file)})
    with _manifest_lock(folder):
        records = read_manifest(folder)
        records[record.name] = record
        _write_manifest(records, folder)
    return record


def add_metrics(name: str, metrics: dict[str, float], folder: Path | None = None) -> NetworkRecord:
    """Add ``metrics`` that shipped network ``name``'s record lacks (its file unchanged); a metric it already has is
    refused, since a record keeps what its training run measured."""
    _check_name(name)
    folder = folder or networks_dir()
    with _manifest_lock(folder):
        records = read_manifest(folder)
        if name not in records:
            raise CamlibError(f"no shipped network {name!r} in {folder}; train it with `{COMMAND} {name}`")
        known = sorted(set(metrics) & set(records[name].metrics))
        if known:
            raise CamlibError(f"the record of {name!r} already has {', '.join(known)}; retrain it to measure them again")
        records[name].metrics = {**records[name].metrics, **metrics}
        _write_manifest(records, folder)
    return records[name]


def remove_network(name: str, folder: Path | None = None) -> None:
    """Delete shipped network ``name`` (its record first, then its file) from ``folder``."""
    _check_name(name)
    folder = folder or networks_dir()
    with _manifest_lock(folder):
        records = read_manifest(folder)
        if name in records:
            del records[name]
            _write_manifest(records, folder)
    (folder / f"{name}.safetensors").unlink(missing_ok=True)


def load_network(name: str, key: str, folder: Path | None = None) -> tuple[dict[str, torch.Tensor], NetworkRecord]:
    """The float32 tensors of shipped network ``name`` and its record, after checking that it was trained
    for the recipe ``key`` and that its file matches the manifest's SHA-256."""
    _check_name(name)
    folder = folder or networks_dir()
    record = read_manifest(folder).get(name)
    if record is None:
        raise CamlibError(f"no shipped network {name!r} in {folder}; train it with `{COMMAND} {name}`")
    if record.key != key:
        raise CamlibError(f"the shipped network {name!r} was trained for another recipe (key {record.key}, asked for {key}); "
                          f"retrain it with `{COMMAND} {name}`")
    path = folder / record.file
    if not path.is_file():
        raise CamlibError(f"{path} is missing although the manifest lists it; restore it from git or run `{COMMAND} {name}`")
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != record.sha256:
        raise CorruptFileError(f"{path} does not match its SHA-256 in the manifest (damaged or replaced); "
                               f"restore it from git or run `{COMMAND} {name}`")
    try:
        state = safetensors_load(data)
    except (SafetensorError, ValueError) as err:
        raise CorruptFileError(f"{path} matches its SHA-256 but is not a safetensors file ({err})") from None
    return {k: (v.float() if v.is_floating_point() else v) for k, v in state.items()}, record


def load_into(model: torch.nn.Module, name: str, key: str, folder: Path | None = None) -> NetworkRecord:
    """Load shipped network ``name`` (recipe ``key``) into ``model`` (same architecture), put it in eval mode."""
    state, record = load_network(name, key, folder)
    try:
        model.load_state_dict(state)
    except RuntimeError as err:
        raise CamlibError(f"the shipped network {name!r} does not fit this architecture ({str(err).splitlines()[0]}); "
                          f"retrain it with `{COMMAND} {name}`") from None
    model.eval()
    return record


def describe(records: dict[str, NetworkRecord]) -> list[dict[str, Any]]:
    """One row per record (name, seed, epochs, steps, seconds, final metrics), for tables."""
    return [{"network": r.name, "seed": r.seed, "epochs": len(r.history), "steps": r.steps, "seconds": r.seconds, **r.metrics}
            for r in records.values()]
