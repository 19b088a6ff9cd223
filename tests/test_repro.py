"""``camlib.seed_everything``: the same seed gives the same draws from Python, NumPy and torch; another
seed gives other draws; the thread count and deterministic kernels are set as documented."""
from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from camlib import seed_everything
from camlib.utils.repro import DEFAULT_SEED, DEFAULT_THREADS


@pytest.fixture(autouse=True)
def restore_global_state(monkeypatch):
    """seed_everything changes process-wide settings: put them back for the other tests."""
    for var in ("PYTHONHASHSEED", "CUBLAS_WORKSPACE_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    saved = (random.getstate(), np.random.get_state(), torch.get_rng_state(), torch.get_num_threads(),
             torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled(),
             torch.backends.cudnn.benchmark)
    yield
    py, npy, rng, threads, deterministic, warn_only, benchmark = saved
    random.setstate(py)
    np.random.set_state(npy)
    torch.set_rng_state(rng)
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(deterministic, warn_only=warn_only)
    torch.backends.cudnn.benchmark = benchmark


def draws(seed: int | None = None, **kwargs) -> tuple[list[float], list[float], list[float]]:
    if seed is None:
        seed_everything(**kwargs)
    else:
        seed_everything(seed, **kwargs)
    return [random.random() for _ in range(3)], np.random.rand(3).tolist(), torch.rand(3).tolist()


def test_same_seed_same_draws_other_seed_other_draws():
    first, again, other = draws(7), draws(7), draws(8)
    assert first == again
    for a, b in zip(first, other):  # each of the three generators is seeded, not just one
        assert a != b
    assert draws() == draws(DEFAULT_SEED)
    # the known answers of the three generators for seed 0
    random.seed(0), np.random.seed(0), torch.manual_seed(0)
    expected = [random.random() for _ in range(3)], np.random.rand(3).tolist(), torch.rand(3).tolist()
    assert draws(0) == expected


def test_thread_count_and_deterministic_kernels():
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(False)
    seed_everything(3)
    assert torch.get_num_threads() == DEFAULT_THREADS == 2
    assert torch.are_deterministic_algorithms_enabled() and torch.is_deterministic_algorithms_warn_only_enabled()
    assert torch.backends.cudnn.benchmark is False
    seed_everything(3, threads=1)
    assert torch.get_num_threads() == 1
    seed_everything(3, threads=None)  # keeps whatever was set
    assert torch.get_num_threads() == 1


def test_environment_is_set_only_where_unset(monkeypatch):
    import os

    seed_everything(5)
    assert os.environ["PYTHONHASHSEED"] == "5" and os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":4096:8"
    monkeypatch.setenv("PYTHONHASHSEED", "1")
    seed_everything(6)
    assert os.environ["PYTHONHASHSEED"] == "1"
