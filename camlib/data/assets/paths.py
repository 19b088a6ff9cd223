"""Where camlib keeps data: one root with ``assets/``, ``cache/`` and ``full/`` below it.

The root is ``$CAMLIB_DATA`` when set, else ``<checkout>/data`` when camlib runs from a source
checkout (a folder holding ``pyproject.toml`` next to ``camlib/``), else ``~/.cache/camlib``. A
``CAMLIB_DATA`` set to an empty string is refused (a script's unset variable, most likely): camlib does
not guess which folder was meant.
"""
from __future__ import annotations

import os
from pathlib import Path

from camlib.utils.errors import CamlibError
from camlib.utils.shipped import PACKAGE_DIR

ENV_VAR = "CAMLIB_DATA"


def data_root() -> Path:
    """The data root folder (not created here)."""
    env = os.environ.get(ENV_VAR)
    if env is not None:
        if not env.strip():
            raise CamlibError(f"{ENV_VAR} is set but empty; give it a folder, or unset it to use the default data folder")
        return Path(env).expanduser()
    checkout = PACKAGE_DIR.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / "camlib").is_dir():
        return checkout / "data"
    return Path.home() / ".cache" / "camlib"


def assets_dir() -> Path:
    """Small offline assets fetched and verified by :mod:`camlib.data.fetch`."""
    return data_root() / "assets"


#: The format of everything under the cache folder: bumped whenever camlib changes what a cached file holds for the same
#: key (2: one resampling rule and one normalisation for every network input), so that no stale file is read again.
CACHE_VERSION = 2


def cache_dir() -> Path:
    """Generated benchmarks, features and maps (``<data root>/cache/v<CACHE_VERSION>``), rebuilt whenever missing or corrupt."""
    return data_root() / "cache" / f"v{CACHE_VERSION}"


def full_dir() -> Path:
    """Full-scale data sets that the user downloads and places here (ILSVRC2012, CUB_200_2011)."""
    return data_root() / "full"
