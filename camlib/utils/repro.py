"""Determinism in one place: seeds, thread counts and the device choice."""
from __future__ import annotations

import os
import random

import numpy as np
import torch

DEFAULT_SEED = 0
DEFAULT_THREADS = 2


def seed_everything(seed: int = DEFAULT_SEED, threads: int | None = DEFAULT_THREADS) -> None:
    """Seed Python, NumPy and torch, fix the CPU thread count and ask for deterministic kernels.

    ``threads=None`` keeps torch's own choice (useful on big GPU machines).
    """
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    os.environ.setdefault("PYTHONHASHSEED", str(seed))
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    if threads is not None:
        torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = False


def default_device() -> torch.device:
    """CUDA when present (Colab, GPU boxes), else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
