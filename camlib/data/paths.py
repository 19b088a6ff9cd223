"""Where camlib keeps data: one root with ``assets/``, ``cache/`` and ``full/`` below it.

The root is ``$CAMLIB_DATA`` when set, else ``<checkout>/data`` when camlib runs from a source
checkout (a folder holding ``pyproject.toml`` next to ``camlib/``), else ``~/.cache/camlib``.
"""
from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "CAMLIB_DATA"


def data_root() -> Path:
    """The data root folder (not created here)."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "pyproject.toml").is_file() and (checkout / "camlib").is_dir():
        return checkout / "data"
    return Path.home() / ".cache" / "camlib"


def assets_dir() -> Path:
    """Small offline assets fetched and verified by :mod:`camlib.data.fetch`."""
    return data_root() / "assets"


def cache_dir() -> Path:
    """Generated benchmarks, rebuilt whenever missing or corrupt."""
    return data_root() / "cache"


def full_dir() -> Path:
    """Full-scale data sets that the user downloads and places here (ILSVRC2012, CUB_200_2011)."""
    return data_root() / "full"
