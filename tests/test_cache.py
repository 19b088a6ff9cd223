"""Atomic, checksummed caches: tampering is detected and rebuilt, never used."""
from __future__ import annotations

import pytest
import torch

from camlib import CorruptFileError
from camlib.cache import array_fingerprint, cached, load_torch, save_torch, stable_key


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


def test_stable_key_hashes_sorted_json():
    import hashlib

    assert stable_key({"b": 1, "a": [2, 3]}) == stable_key({"a": [2, 3], "b": 1})
    assert stable_key({"a": 1}) == hashlib.sha256(b'{"a": 1}').hexdigest()[:16]
    assert stable_key({"a": 1}) != stable_key({"a": 2})
    assert stable_key({"p": (1, 2)}, default=str) == stable_key({"p": [1, 2]})
    assert stable_key({"s": {1}}, default=lambda o: sorted(o)) == stable_key({"s": [1]})


def test_array_fingerprint_hashes_the_bytes_in_order():
    import hashlib

    import numpy as np

    a = np.arange(12, dtype=np.uint8).reshape(3, 4)
    b = np.array([7, 8], dtype=np.int64)
    expected = hashlib.sha256(a.tobytes() + b.tobytes()).hexdigest()[:12]
    assert array_fingerprint(a, b) == expected
    assert array_fingerprint(b, a) != expected
    assert array_fingerprint(a[:, ::2]) == array_fingerprint(a[:, ::2].copy())  # strides do not matter, values do
    assert array_fingerprint(a.T) != array_fingerprint(a)

