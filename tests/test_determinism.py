"""A chapter executed twice gives the same outputs: every text output identical (after the nbval
sanitizers: timings and addresses) and every figure identical byte for byte.

The two runs use different ``PYTHONHASHSEED`` values, so output that depends on set or dict-of-str
ordering fails here; seeds and thread counts come only from ``camlib.book.notebook.setup()``
(``camlib/utils/repro.py``), which every chapter calls in its third cell.
"""
from __future__ import annotations

import base64
import configparser
import copy
import os
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "02_class_activation_mapping.ipynb"
SEEDING = re.compile(r"\b(manual_seed|np\.random\.seed|random\.seed|set_num_threads|seed_everything|use_deterministic_algorithms)\(")


def sanitizers() -> list[tuple[re.Pattern, str]]:
    """The regex replacements of ``tests/nbval_sanitize.cfg``."""
    config = configparser.ConfigParser(interpolation=None)
    config.read(ROOT / "tests" / "nbval_sanitize.cfg")
    return [(re.compile(config[s]["regex"]), config[s]["replace"]) for s in config.sections()]


def outputs(notebook: nbformat.NotebookNode) -> list[list[tuple]]:
    """Per code cell, its outputs as comparable tuples: consecutive stream outputs joined, text
    sanitized, PNGs as raw bytes."""
    rules = sanitizers()

    def clean(text: str | list[str]) -> str:
        text = "".join(text)
        for pattern, replacement in rules:
            text = pattern.sub(replacement, text)
        return text

    cells = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        found = []
        for out in cell.outputs:
            if out.output_type == "stream" and found and found[-1][:2] == ("stream", out.name):
                # the kernel may send consecutive prints as one message or several (timing); nbval joins them too
                found[-1] = ("stream", out.name, found[-1][2] + clean(out.text))
            elif out.output_type == "stream":
                found.append(("stream", out.name, clean(out.text)))
            elif out.output_type == "error":
                found.append(("error", out.ename, clean(out.evalue)))
            else:
                for mime, data in sorted(out.data.items()):
                    value = base64.b64decode(data) if mime.startswith("image/") and mime != "image/svg+xml" else clean(data)
                    found.append((out.output_type, mime, value))
        cells.append(found)
    return cells


def execute(path: Path, hash_seed: str) -> nbformat.NotebookNode:
    """Run a copy of the notebook in a fresh kernel, as ``make notebooks`` does."""
    from nbclient import NotebookClient

    notebook = copy.deepcopy(nbformat.read(path, as_version=4))
    # MPLBACKEND=Agg would replace the kernel's inline backend and drop every figure
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    env.update(PYTHONHASHSEED=hash_seed, CAMLIB_STATIC_PROGRESS="1")
    client = NotebookClient(notebook, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    client.execute(env=env)
    return notebook


@pytest.mark.slow
def test_chapter_outputs_are_identical_on_two_runs():
    first, second = (outputs(execute(NOTEBOOK, seed)) for seed in ("1", "2"))
    assert len(first) == len(second)
    for index, (a, b) in enumerate(zip(first, second)):
        assert [kind[:2] for kind in a] == [kind[:2] for kind in b], f"code cell {index}: different outputs"
        for (kind, name, x), (_, _, y) in zip(a, b):
            assert x == y, f"code cell {index}: {kind} {name} differs between two runs"
    assert any(name == "image/png" for cell in first for _, name, _ in cell), "the chapter should show figures"


@pytest.mark.parametrize("path", sorted((ROOT / "notebooks").glob("*.ipynb")), ids=lambda p: p.stem)
def test_seeds_and_threads_are_set_only_by_camlib(path):
    notebook = nbformat.read(path, as_version=4)
    code = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    assert "camlib.book.notebook.setup()" in code[1], "the third cell must call camlib.book.notebook.setup()"
    offenders = [line for source in code for line in source.splitlines() if SEEDING.search(line)]
    assert not offenders, f"seed or thread settings outside camlib/utils/repro.py: {offenders}"


def test_thread_count_follows_camlib_threads_then_omp(monkeypatch):
    from camlib.book.notebook import default_threads

    monkeypatch.delenv("CAMLIB_THREADS", raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert default_threads() == 2
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert default_threads() == 1
    monkeypatch.setenv("CAMLIB_THREADS", "3")
    assert default_threads() == 3
    monkeypatch.setenv("CAMLIB_THREADS", "two")
    with pytest.raises(ValueError, match="CAMLIB_THREADS must be a positive whole number"):
        default_threads()


def test_show_whole_prints_every_cell_in_full(capsys):
    import pandas as pd

    from camlib.book.notebook import show_whole

    sentence = "GAP head: a class's top 5 units' receptive fields lie on the object, far more than chance"
    frame = pd.DataFrame({"claim": [sentence], "holds?": ["yes"]})
    show_whole(frame)
    assert sentence in capsys.readouterr().out
    assert sentence not in repr(frame) and pd.get_option("display.max_colwidth") == 50  # the default is left alone
