"""Progress bars that stay reproducible in executed notebooks.

Bars are plain-text tqdm bars (stderr). With ``CAMLIB_STATIC_PROGRESS=1`` (set by the book build and
the nbval run) a bar is drawn only at its start and end, so a stored notebook output is the same on
every run once its timing fields are sanitized; otherwise bars refresh live as usual.
"""
from __future__ import annotations

import os
from typing import Iterable, TypeVar

from tqdm.std import tqdm

T = TypeVar("T")


def progress(iterable: Iterable[T] | None = None, desc: str | None = None, total: int | None = None, **kwargs) -> tqdm:
    """``tqdm`` with camlib's defaults (see the module docstring)."""
    if os.environ.get("CAMLIB_STATIC_PROGRESS") == "1":
        kwargs.setdefault("mininterval", float("inf"))
        kwargs.setdefault("ascii", True)
    return tqdm(iterable, desc=desc, total=total, **kwargs)
