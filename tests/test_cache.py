"""Atomic, checksummed caches: tampering is detected and rebuilt, never used."""
from __future__ import annotations

import pytest
import torch

from camlib import CorruptFileError
from camlib.cache import cached, load_torch, save_torch


def test_round_trip(tmp_path):
    path = tmp_path / "x.pt"
    save_torch({"w": torch.arange(3)}, path)
    assert torch.equal(load_torch(path)["w"], torch.arange(3))
    assert not list(tmp_path.glob(".*.tmp"))


def test_truncated_and_tampered_files_are_detected(tmp_path):
    path = tmp_path / "x.pt"
    save_torch(torch.ones(100), path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptFileError, match="checksum"):
        load_torch(path)
    path.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    with pytest.raises(CorruptFileError):
        load_torch(path)


def test_missing_checksum_is_corrupt(tmp_path):
    path = tmp_path / "x.pt"
    save_torch(1, path)
    path.with_name("x.pt.sha256").unlink()
    with pytest.raises(CorruptFileError, match="no checksum"):
        load_torch(path)


def test_cached_rebuilds_corrupt(tmp_path, capsys):
    path = tmp_path / "c.pt"
    calls = []

    def build():
        calls.append(1)
        return torch.full((2,), 7.0)

    assert torch.equal(cached(path, build), torch.full((2,), 7.0))
    assert torch.equal(cached(path, build), torch.full((2,), 7.0))
    assert len(calls) == 1
    path.write_bytes(b"garbage")
    assert torch.equal(cached(path, build), torch.full((2,), 7.0))
    assert len(calls) == 2 and "rebuilding" in capsys.readouterr().out
