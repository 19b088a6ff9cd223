"""One call at the top of every chapter: seeds, threads, plotting and table display settings."""
from __future__ import annotations

import os
import warnings

import matplotlib
import pandas as pd
import torch

from camlib.utils.repro import DEFAULT_SEED, DEFAULT_THREADS, default_device, seed_everything

#: From CAMLIB_SCALE: "default" (CPU, offline, minutes; trained networks loaded from their checkpoints), "gpu"
#: (the default benchmarks, but chapter 4's networks fine-tuned whole on ten times the composites; a GPU) or
#: "full" (real data sets on a GPU).
SCALES = ("default", "gpu", "full")


def default_threads() -> int:
    """CPU threads for a default-scale run: ``CAMLIB_THREADS``, else ``OMP_NUM_THREADS``, else
    :data:`camlib.utils.repro.DEFAULT_THREADS`."""
    for name in ("CAMLIB_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(name, "").strip()
        if value:
            if not value.isdigit() or int(value) < 1:
                raise ValueError(f"{name} must be a positive whole number of threads, got {value!r}")
            return int(value)
    return DEFAULT_THREADS


def setup(seed: int = DEFAULT_SEED) -> dict:
    """Prepare a chapter run; returns ``{"scale", "device", "seed"}`` for the chapter to print.

    Determinism: seeds everything and pins the CPU thread count at the default scale (see
    :func:`default_threads`). Trained numbers still move with the machine's summation order; chapters
    print them in cells that nbval does not compare (see CONTRIBUTING.md).
    """
    scale = os.environ.get("CAMLIB_SCALE", "default")
    if scale not in SCALES:
        raise ValueError(f"CAMLIB_SCALE must be one of {SCALES}, got {scale!r}")
    device = default_device()
    seed_everything(seed, threads=default_threads() if scale == "default" else None)
    warnings.filterwarnings("ignore", category=UserWarning)
    matplotlib.rcParams.update({"figure.dpi": 90, "savefig.dpi": 90, "figure.max_open_warning": 0})
    pd.set_option("display.precision", 1)
    pd.set_option("display.width", 120)
    return {"scale": scale, "device": str(device), "seed": seed, "torch": torch.__version__.split("+")[0]}


def show_whole(frame: pd.DataFrame) -> None:
    """Display a table with no cell cut short (claims tables hold whole sentences; pandas cuts cells
    at 50 characters by default)."""
    from IPython.display import display

    with pd.option_context("display.max_colwidth", None):
        display(frame)


def show_claims(table: pd.DataFrame, why: str = "why", hide: tuple[str, ...] = ()) -> None:
    """Display a claims table to scan: every column but ``why`` and ``hide``, no cell cut short; then, below it,
    each row's ``why`` that is not empty as a numbered note (the table's rows carry the note's number). The
    scorecard keeps every column."""
    if why not in table.columns:
        show_whole(table.drop(columns=list(hide)))
        return
    reasons = table[why].fillna("").astype(str)
    numbered = {index: k + 1 for k, index in enumerate(reasons.index[reasons != ""])}
    shown = table.drop(columns=[why, *hide]).copy()
    if numbered:
        shown["note"] = [f"({numbered[i]})" if i in numbered else "" for i in shown.index]
    show_whole(shown)
    for index, number in numbered.items():
        print(f"({number}) {reasons[index]}")
