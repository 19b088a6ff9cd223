"""Progress bars for long work, kept out of executed notebooks.

Bars are plain-text tqdm bars on stderr. With ``CAMLIB_STATIC_PROGRESS=1`` (set by ``make`` for the
book build and the nbval run) they are switched off, so a stored notebook output is the same whether
the work ran or came from a cache; interactive runs show live bars as usual.
"""
from __future__ import annotations

import os
from typing import Iterable, TypeVar

from tqdm.std import tqdm

T = TypeVar("T")


def progress(iterable: Iterable[T] | None = None, desc: str | None = None, total: int | None = None, **kwargs) -> tqdm:
    """``tqdm`` with camlib's defaults (see the module docstring)."""
    if os.environ.get("CAMLIB_STATIC_PROGRESS") == "1":
        kwargs["disable"] = True
    return tqdm(iterable, desc=desc, total=total, **kwargs)
