"""Strict nbval on a reader's machine, not only on the one that executed the chapters.

No chapter trains what its claims rest on: the networks are shipped (:mod:`camlib.training.checkpoints`), so a
chapter's printed numbers come from the same weights everywhere, and only inference moves with the CPU's
kernels and summation order, in digits the chapters do not print. This test is the check: it re-runs strict
nbval on a copy of the committed chapter in another process state than the one that made its outputs:
another CPU's kernels (``ATEN_CPU_CAPABILITY=avx2``, ``ONEDNN_MAX_CPU_ISA=AVX2``: on an AVX-512 machine they
change float results in the 6th-7th digit), one thread instead of two (for every chapter, below), another hash
seed, other work done first in the kernel, and an empty cache but for the generated composites and the frozen
layers' maps.

By default it checks chapters 11 and 10, one per kind of shipped network and the quickest of each kind (within
``make test``'s budget), on the two threads the chapters were executed with (the kernels still differ), and keeps
chapter 11's pool of the pretrained Lite0's units (inference of a frozen network, minutes to rebuild; the shipped
network's units are recomputed); ``CAMLIB_CHECK_ALL_CHAPTERS=1`` checks every chapter on one thread, rebuilding that
pool too, so that both thread counts are covered, and ``CAMLIB_CPU_CAPABILITY`` picks the simulated kernels
(``avx2`` or ``default``).
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
#: One chapter per kind of shipped network, the quickest: the fine-tuned Lite0 networks (chapter 11, which reads the
#: GAP networks chapter 1 compares) and the VQA model (chapter 10).
CHECKED_CHAPTERS = ["11_class_specific_units", "10_vqa_interpretation"]
OTHER_WORK_FIRST = """\
# reader's-machine check: other work first, so that allocations and kernel choices differ
import numpy as np
import torch
ballast = [np.ones(n) for n in (1031, 4099, 65537)]
ballast.append(torch.randn(257, 263) @ torch.randn(263, 129))
"""


ALL_CHAPTERS = os.environ.get("CAMLIB_CHECK_ALL_CHAPTERS") == "1"
#: Threads of the check: one for every chapter (before a stop), two for ``make test``'s quicker check.
THREADS = "1" if ALL_CHAPTERS else "2"


def chapters() -> list[str]:
    if ALL_CHAPTERS:
        return sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    return CHECKED_CHAPTERS


def perturbed_copy(stem: str, folder: Path) -> Path:
    """The committed chapter with its outputs, plus one first cell that does unrelated work."""
    notebook = nbformat.read(ROOT / "notebooks" / f"{stem}.ipynb", as_version=4)
    notebook.cells.insert(0, nbformat.v4.new_code_cell(OTHER_WORK_FIRST))
    path = folder / f"{stem}.ipynb"
    nbformat.write(notebook, path)
    return path


#: Cache entries of generated data and of the frozen pretrained layers' maps: shared when present (the rest is rebuilt);
#: ``make test``'s quicker check also shares chapter 11's unit pool of the pretrained Lite0.
SHARED_CACHE = ("composites-*", "trunk-maps", "low-maps", *(() if ALL_CHAPTERS else ("units",)))


def fresh_data_root(folder: Path) -> Path:
    """A data root that shares the fetched assets and the :data:`SHARED_CACHE` entries, and nothing else."""
    from camlib.data.assets.paths import assets_dir, cache_dir

    root = folder / "data"
    cache = root / cache_dir().relative_to(cache_dir().parents[1])  # data/cache/v<N>
    cache.mkdir(parents=True)
    (root / "assets").symlink_to(assets_dir().resolve(), target_is_directory=True)
    for pattern in SHARED_CACHE:
        for entry in cache_dir().glob(pattern):
            (cache / entry.name).symlink_to(entry.resolve(), target_is_directory=entry.is_dir())
    return root


def test_chapter_list_names_real_chapters():
    for stem in CHECKED_CHAPTERS:
        assert (ROOT / "notebooks" / f"{stem}.ipynb").is_file(), stem


@pytest.mark.slow
@pytest.mark.parametrize("stem", chapters())
def test_strict_nbval_passes_in_another_process_state(stem, tmp_path):
    path = perturbed_copy(stem, tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    env.update(OMP_NUM_THREADS=THREADS, CAMLIB_THREADS=THREADS, PYTHONHASHSEED="7", CAMLIB_STATIC_PROGRESS="1",
               ATEN_CPU_CAPABILITY=os.environ.get("CAMLIB_CPU_CAPABILITY", "avx2"), ONEDNN_MAX_CPU_ISA="AVX2",
               CAMLIB_DATA=str(fresh_data_root(tmp_path)), CAMLIB_CLAIMS_DIR=str(tmp_path / "claims"))
    command = [sys.executable, "-m", "pytest", "--nbval", str(path), "-p", "no:cacheprovider", "-q", "--nbval-cell-timeout", "7200",
               "--nbval-sanitize-with", str(ROOT / "tests" / "nbval_sanitize.cfg")]
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=7200)
    assert done.returncode == 0, f"strict nbval of {stem} failed in another process state:\n{done.stdout[-6000:]}"
