"""Data files that ship inside the package, under ``camlib/resources/`` (paper numbers, annotations)."""
from __future__ import annotations

from importlib import resources
from pathlib import Path

from camlib.utils.errors import CorruptFileError

#: The package's own folder (``camlib/``); in a source checkout its parent is the checkout.
PACKAGE_DIR = Path(__file__).resolve().parents[1]


def shipped_text(name: str) -> str:
    """The text of ``camlib/resources/<name>``."""
    return resources.files("camlib").joinpath("resources", name).read_text(encoding="utf-8")


def tsv_rows(text: str, columns: list[str], source: str) -> list[list[str]]:
    """The data rows of a shipped TSV: ``#`` lines are comments, the first other row must be ``columns``."""
    rows = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    if not rows or rows[0].split("\t") != columns:
        raise CorruptFileError(f"{source}: the first row after the comments must be the header {columns}")
    return [row.split("\t") for row in rows[1:]]
