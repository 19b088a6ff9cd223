"""Every chapter opens on Colab and runs locally: the badge links to the chapter's own file, the
install cell acts only on Colab, and ``camlib.book.notebook.setup()`` picks the GPU when there is one."""
from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import matplotlib
import nbformat
import pandas as pd
import pytest
import torch
import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
BADGE = re.compile(r"\[!\[Open In Colab\]\((?P<svg>[^)]+)\)\]\((?P<url>[^)]+)\)")


def colab_url(name: str) -> str:
    """The Colab address of ``notebooks/<name>`` in the repository of ``_config.yml``."""
    repository = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
    owner_repo = repository["url"].removeprefix("https://github.com/").rstrip("/")
    return f"https://colab.research.google.com/github/{owner_repo}/blob/{repository['branch']}/notebooks/{name}"


def run_install_cell(source: str, on_colab: bool, monkeypatch) -> list[str]:
    """Execute the install cell (IPython syntax) with a stand-in shell; returns the shell commands it ran."""
    from IPython.core.inputtransformer2 import TransformerManager

    commands: list[str] = []
    shell = types.SimpleNamespace(system=commands.append)
    if on_colab:
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    exec(TransformerManager().transform_cell(source), {"get_ipython": lambda: shell})
    return commands


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_title_and_badge_link_to_the_chapter_itself(path):
    first = nbformat.read(path, as_version=4).cells[0]
    assert first.cell_type == "markdown"
    number = int(path.name.split("_")[0])
    assert first.source.startswith(f"# {number}. "), f"the title must read '# {number}. ...'"
    badge = BADGE.search(first.source)
    assert badge, "no Open In Colab badge in the first cell"
    assert badge["url"] == colab_url(path.name)
    svg = (path.parent / badge["svg"]).resolve()
    assert svg == ROOT / "book" / "images" / "colab-badge.svg" and svg.is_file(), "the badge must be the local SVG (CI is offline)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_install_cell_acts_only_on_colab(path, monkeypatch):
    cell = nbformat.read(path, as_version=4).cells[1]
    assert cell.cell_type == "code" and 'if "google.colab" in sys.modules:' in cell.source
    assert run_install_cell(cell.source, on_colab=False, monkeypatch=monkeypatch) == []
    (command,) = run_install_cell(cell.source, on_colab=True, monkeypatch=monkeypatch)
    assert re.search(r"pip -q install .*camlib", command) and "python -m camlib.data.fetch" in command


@pytest.fixture()
def restore_global_state(monkeypatch):
    """``setup()`` changes process-wide settings; put them back after the test."""
    monkeypatch.delenv("PYTHONHASHSEED", raising=False)
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    monkeypatch.delenv("CAMLIB_SCALE", raising=False)
    threads = torch.get_num_threads()
    deterministic = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    with matplotlib.rc_context(), pd.option_context("display.precision", 6, "display.width", 80):
        yield
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(deterministic, warn_only=warn_only)


@pytest.mark.parametrize("cuda, device", [(True, "cuda"), (False, "cpu")])
def test_setup_uses_the_gpu_when_present(monkeypatch, restore_global_state, cuda, device):
    import camlib.book.notebook

    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    for name in ("CAMLIB_THREADS", "OMP_NUM_THREADS"):  # the default thread count, whatever the shell sets
        monkeypatch.delenv(name, raising=False)
    run = camlib.book.notebook.setup()
    assert run["device"] == device and run["scale"] == "default" and torch.get_num_threads() == 2
