"""``pytest --nbval notebooks/`` as a reader runs it, with the settings ``make nbval`` uses.

Progress bars are switched off in the chapters' kernels (they inherit this environment), and timings and
memory addresses are sanitized with ``tests/nbval_sanitize.cfg``; a cell may run up to two hours (chapter 4
evaluates fifteen networks in one cell, minutes on two quiet cores, far longer on a slow one), so a reader's
strict run compares what the chapters compute, not how long it took. The chapters' claims go to a temporary folder
(``CAMLIB_CLAIMS_DIR``), so a test run never rewrites the book's committed ``book/claims``.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

os.environ.setdefault("CAMLIB_STATIC_PROGRESS", "1")
os.environ.setdefault("CAMLIB_CLAIMS_DIR", tempfile.mkdtemp(prefix="camlib-claims-"))
SANITIZE = Path(__file__).resolve().parents[1] / "tests" / "nbval_sanitize.cfg"


def pytest_configure(config):
    options = config.option
    if getattr(options, "nbval_sanitize_with", None) is None and not getattr(options, "sanitize_with", None):
        options.nbval_sanitize_with = str(SANITIZE)
    if str(getattr(options, "nbval_cell_timeout", "")) == "2000":  # nbval's default; chapter 4's evaluation runs longer on a slow CPU
        options.nbval_cell_timeout = 7200
