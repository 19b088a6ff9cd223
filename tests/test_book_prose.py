"""The book's prose names no removed data set and no earlier version of itself (issue: prose that cannot drift), and
the code a reader sees holds no ``assert``: checks live in cells the rendered book hides."""
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


#: Cell tags under which the rendered book hides a cell's code (Jupyter Book).
HIDDEN_TAGS = {"hide-input", "hide-cell", "remove-input", "remove-cell"}
ASSERT_LINE = re.compile(r"^\s*assert\b", re.MULTILINE)


def visible_asserts(path: Path) -> list[int]:
    """Indices of the code cells of a notebook that the book shows and that hold an ``assert`` statement."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [i for i, cell in enumerate(cells) if cell["cell_type"] == "code"
            and not HIDDEN_TAGS & set(cell.get("metadata", {}).get("tags", [])) and ASSERT_LINE.search("".join(cell["source"]))]


@pytest.mark.parametrize("path", [p for p in PAGES if p.suffix == ".ipynb"], ids=lambda p: str(p.relative_to(ROOT)))
def test_no_assert_in_the_code_a_reader_sees(path):
    found = visible_asserts(path)
    assert not found, f"{path.relative_to(ROOT)}: cells {found} show an assert; move it to a cell tagged hide-input"


def test_the_scan_finds_a_visible_assert(tmp_path):
    cells = [{"cell_type": "code", "metadata": {"tags": ["hide-input"]}, "source": ["assert x\n"]},
             {"cell_type": "code", "metadata": {}, "source": ["y = 1\n", "    assert y == 1, y\n"]},
             {"cell_type": "code", "metadata": {}, "source": ["# asserted elsewhere\n", "print(1)"]}]
    path = tmp_path / "page.ipynb"
    path.write_text(json.dumps({"cells": cells}), encoding="utf-8")
    assert visible_asserts(path) == [1]
