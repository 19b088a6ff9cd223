"""Execute chapter notebooks in place (the book is built from their stored outputs).

Usage: python scripts/execute_notebooks.py notebooks/*.ipynb
Prints each notebook's wall time; stops at the first failing notebook.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def execute(path: Path, timeout: int = 1800) -> float:
    """Run every cell of ``path`` with the notebook's folder as working directory; returns seconds."""
    notebook = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(notebook, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    nbformat.write(notebook, path)
    return time.perf_counter() - start


def main(paths: list[str]) -> int:
    total = 0.0
    for name in paths:
        seconds = execute(Path(name))
        total += seconds
        print(f"{name}: {seconds:.1f} s", flush=True)
    print(f"all notebooks: {total:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
