"""A run killed (SIGKILL) while camlib.utils.cache writes a large file leaves the old complete file or a new
complete file, never a mix; a data file whose checksum was not yet replaced is detected and rebuilt,
and the killed writer's temporary file is removed by the next write."""
from __future__ import annotations

import io
import multiprocessing
import os
import signal
import time
from pathlib import Path

import pytest
import torch

from camlib import CorruptFileError
from camlib.utils.cache import atomic_write_bytes, cached, load_torch, save_torch

NUMBERS = 16 * 1024 * 1024  # float32: a 64 MiB cache file
OLD, NEW = 1.0, (2.0, 3.0)


def serialized(value: float) -> bytes:
    """What ``save_torch(torch.full((NUMBERS,), value), path)`` writes."""
    buffer = io.BytesIO()
    torch.save(torch.full((NUMBERS,), value), buffer)
    return buffer.getvalue()


def write_forever(path: Path, versions: list[bytes]) -> None:
    """The writer process: new versions of the same cache file, back to back (no torch work, so the
    forked process needs none of torch's threads)."""
    for i in range(10_000):
        atomic_write_bytes(path, versions[i % len(versions)])


def uniform_value(tensor: torch.Tensor) -> float:
    """The single value of a complete cache tensor (a mix of versions fails here)."""
    assert tensor.shape == (NUMBERS,)
    value = float(tensor[0])
    assert bool((tensor == value).all()), "the file mixes two versions"
    return value


def data_temporaries(path: Path) -> list[Path]:
    """Temporary files of the data file being written (not of its checksum sidecar)."""
    return sorted(path.parent.glob(f".{path.name}.[0-9]*.tmp"))


def kill_while_writing(path: Path, versions: list[bytes], delay: float) -> bool:
    """SIGKILL a writer ``delay`` s after its first temporary file appears; returns whether a
    temporary file was still there, i.e. the kill landed in the middle of a write."""
    writer = multiprocessing.get_context("fork").Process(target=write_forever, args=(path, versions))
    writer.start()
    deadline = time.monotonic() + 60
    while not data_temporaries(path):
        assert writer.is_alive() and time.monotonic() < deadline, "the writer never started writing"
        time.sleep(0.0005)
    time.sleep(delay)
    mid_write = bool(data_temporaries(path))
    os.kill(writer.pid, signal.SIGKILL)
    writer.join()
    return mid_write


@pytest.mark.slow
def test_sigkill_during_cache_writes(tmp_path):
    path = tmp_path / "features.pt"
    versions = [serialized(v) for v in NEW]
    save_torch(torch.full((NUMBERS,), OLD), path)
    interrupted = 0
    for delay in (0.0, 0.002, 0.01, 0.03, 0.1, 0.3):
        interrupted += kill_while_writing(path, versions, delay)
        on_disk = uniform_value(torch.load(path, weights_only=True))  # complete, whichever version
        assert on_disk in (OLD, *NEW)
        try:
            assert uniform_value(load_torch(path)) == on_disk  # the checksum agrees with the data ...
        except CorruptFileError:
            assert on_disk in NEW  # ... or lags behind a new data file: detected, never used
        assert uniform_value(cached(path, lambda: torch.full((NUMBERS,), -1.0), quiet=True)) in (on_disk, -1.0)
        save_torch(torch.full((NUMBERS,), OLD), path)  # the next write removes the killed writer's leftovers
        assert data_temporaries(path) == [] and uniform_value(load_torch(path)) == OLD
    assert interrupted >= 1, "no kill landed in the middle of a write"
