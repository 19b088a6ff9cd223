"""Errors camlib raises on bad input: each message says what was wrong and what to do."""
from __future__ import annotations

import re
from pathlib import Path

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(text: str | Path) -> str:
    """``text`` (a file name, say) safe to print on one line of any terminal: bytes that are not UTF-8
    (kept by Python as surrogates) become ``\\xNN`` and control characters (newline, escape) ``\\n``,
    ``\\x1b``...; ordinary text is returned unchanged."""
    text = str(text).encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


class CamlibError(Exception):
    """Base class: a problem with the user's input or environment, not a bug."""


class BadImageError(CamlibError, ValueError):
    """An image file that is missing, empty, truncated or not an image."""

    def __init__(self, path: str | Path, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{printable(self.path)}: {reason}")


class NoGapHeadError(CamlibError, ValueError):
    """A model whose head is not last conv -> global pooling -> linear."""


class NotLinearClassifierError(NoGapHeadError):
    """A model whose layers after global pooling are not one linear layer."""


class DatasetNotFoundError(CamlibError, FileNotFoundError):
    """A data set that is not where camlib looked for it."""

    def __init__(self, name: str, searched: str | Path, how_to_get: str):
        self.name = name
        self.searched = str(searched)
        self.how_to_get = how_to_get
        super().__init__(f"{name} not found at {self.searched}. {how_to_get}")


class CorruptFileError(CamlibError, OSError):
    """A cache or checkpoint whose checksum does not match what was written."""


class UnsafeFileError(CorruptFileError):
    """A file that would run code or build objects other than plain arrays when loaded."""


class UnwritableFileError(CamlibError, OSError):
    """A file camlib cannot write where it was asked to (a folder in its place, ...)."""
