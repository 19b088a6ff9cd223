"""The book's prose names no removed data set and no earlier version of itself (issue: prose that cannot drift)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: Words of data sets and versions the book no longer has: a sentence naming them describes something a reader cannot see.
STALE = re.compile(r"Fashion-MNIST|silhouette|tinted|earlier version|36-photo", re.IGNORECASE)
PAGES = sorted([*ROOT.glob("notebooks/*.ipynb"), *ROOT.glob("book/*.ipynb"), *ROOT.glob("book/*.md"), ROOT / "README.md"])


def prose(path: Path) -> str:
    """The markdown of a page: a notebook's markdown cells, or the whole file."""
    if path.suffix != ".ipynb":
        return path.read_text(encoding="utf-8")
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return "\n".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "markdown")


@pytest.mark.parametrize("path", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_stale_words(path):
    found = [m.group(0) for m in STALE.finditer(prose(path))]
    assert not found, f"{path.relative_to(ROOT)} still mentions {sorted(set(found))}"


def test_the_scan_finds_a_stale_word():
    assert STALE.search("as the tinted silhouettes of the earlier version showed")
