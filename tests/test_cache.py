"""Atomic, checksummed caches: tampering is detected and rebuilt, never used."""
from __future__ import annotations

import pytest
import torch

from camlib import CamlibError, CorruptFileError
from camlib.utils.cache import array_fingerprint, cache_key, cached, load_torch, save_torch


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
    assert len(calls) == 2 and "rebuilding" in capsys.readouterr().err


def test_cache_key_hashes_sorted_json_of_its_parts():
    import hashlib

    assert cache_key(b=1, a=[2, 3]) == cache_key(a=[2, 3], b=1)
    assert cache_key(a=1) == hashlib.sha256(b'{"a": 1}').hexdigest()[:16]
    assert cache_key(a=1) != cache_key(a=2)
    assert cache_key(p=(1, 2)) == cache_key(p=[1, 2])


def test_cache_key_reads_specs_dataclasses_arrays_and_paths_and_refuses_the_rest():
    from dataclasses import dataclass
    from pathlib import Path

    import numpy as np

    @dataclass
    class Rule:
        lr: float
        epochs: int

    class Spec:
        def __init__(self, seed: int) -> None:
            self.seed = seed

        def key(self) -> str:
            return f"spec-{self.seed}"

    assert cache_key(rule=Rule(0.1, 2)) == cache_key(rule={"lr": 0.1, "epochs": 2})
    assert cache_key(rule=[Rule(0.1, 2)]) != cache_key(rule=[Rule(0.1, 3)])  # nested, every field counts
    assert cache_key(data=Spec(1)) == cache_key(data="spec-1") != cache_key(data=Spec(2))
    assert cache_key(root=Path("/a/b")) == cache_key(root="/a/b")
    a = np.arange(6, dtype=np.int64)
    assert cache_key(x=a) == cache_key(x=a.copy()) == cache_key(x=torch.arange(6))
    assert cache_key(x=a) != cache_key(x=a.reshape(2, 3)) != cache_key(x=a.astype(np.int32))  # shape and dtype count
    assert cache_key(n=np.int64(3)) == cache_key(n=3)
    with pytest.raises(CamlibError, match="cannot hold a set"):
        cache_key(s={1, 2})
    with pytest.raises(CamlibError, match="cannot hold a object"):
        cache_key(o=object())


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



class _RunsCode:
    """Pickles into a call of ``Path.touch``: what a crafted cache would do."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (type(self.marker).touch, (self.marker,))


def test_crafted_cache_with_recomputed_checksum_does_not_run_code(tmp_path, capsys):
    import io

    from camlib.utils.cache import atomic_write_bytes

    marker, path = tmp_path / "ran", tmp_path / "evil.pt"
    buffer = io.BytesIO()
    torch.save({"w": _RunsCode(marker)}, buffer)
    atomic_write_bytes(path, buffer.getvalue())  # a valid sha256 sidecar: the checksum is no authentication
    with pytest.raises(CorruptFileError, match="plain data"):
        load_torch(path)
    assert torch.equal(cached(path, lambda: torch.ones(1), quiet=True), torch.ones(1))
    assert not marker.exists()


def test_numpy_arrays_nested_containers_and_scalars_round_trip(tmp_path):
    import numpy as np

    obj = {"a": np.arange(6, dtype=np.uint8).reshape(2, 3), "b": [np.float32(1.5), ("x", None, True)],
           "c": {"m": np.zeros((2, 2), dtype=bool), "t": torch.ones(2)}}
    save_torch(obj, tmp_path / "n.pt")
    back = load_torch(tmp_path / "n.pt")
    assert isinstance(back["a"], np.ndarray) and back["a"].dtype == np.uint8
    np.testing.assert_array_equal(back["a"], obj["a"])
    assert back["b"] == [1.5, ("x", None, True)] and back["c"]["m"].dtype == bool
    assert torch.equal(back["c"]["t"], torch.ones(2))


@pytest.mark.parametrize("obj, message", [({"p": _RunsCode(None)}, r"obj\['p'\]: a _RunsCode cannot be cached"),
                                          ([object()], "cannot be cached"),
                                          ({"s": __import__("numpy").array(["a"])}, "dtype <U1 cannot be cached")])
def test_objects_that_need_code_to_load_are_refused_when_saving(tmp_path, obj, message):
    from camlib import CamlibError

    with pytest.raises(CamlibError, match=message):
        save_torch(obj, tmp_path / "o.pt")
    assert not (tmp_path / "o.pt").exists()


def test_non_utf8_checksum_file_is_corrupt_and_rebuilt(tmp_path, capsys):
    path = tmp_path / "x.pt"
    save_torch(torch.ones(2), path)
    path.with_name("x.pt.sha256").write_bytes(b"\xff\xfe\x80 garbage\n")
    with pytest.raises(CorruptFileError, match="checksum mismatch"):
        load_torch(path)
    assert torch.equal(cached(path, lambda: torch.zeros(2)), torch.zeros(2))
    assert "rebuilding" in capsys.readouterr().err


def test_lite0_weights_load_without_unpickling_code(monkeypatch):
    import camlib.models.pretrained as pretrained

    calls = []
    real_load = torch.load

    def spy(*args, **kwargs):
        calls.append(kwargs.get("weights_only"))
        return real_load(*args, **kwargs)

    monkeypatch.setattr(torch, "load", spy)
    model = pretrained.efficientnet_lite0().model
    assert calls == [True]
    assert model._fc.weight.shape == (1000, 1280) and not model.training
