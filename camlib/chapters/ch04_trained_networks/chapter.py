"""The chapter's entry point: the results of Tables 1-3 at the scale ``camlib.notebook.setup`` chose."""
from __future__ import annotations

from camlib.chapters.ch04_trained_networks.results import Results
from camlib.errors import CamlibError


def chapter_results(scale: str = "default") -> Results:
    """``"default"``: the CPU-scale benchmark (minutes); ``"full"``: ILSVRC2012 with the paper's
    networks (:func:`camlib.chapters.ch04_trained_networks.full_scale.chapter_results`, needs the data set and a GPU)."""
    if scale == "default":
        from camlib.chapters.ch04_trained_networks.cpu_scale import run

        return run()
    if scale == "full":
        from camlib.chapters.ch04_trained_networks.full_scale import chapter_results as full_scale_results

        return full_scale_results()
    raise CamlibError(f"scale must be 'default' or 'full', got {scale!r}")
