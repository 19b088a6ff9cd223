"""The chapter's entry point: the results of Tables 1-3 at the scale ``camlib.book.notebook.setup`` chose."""
from __future__ import annotations

from camlib.chapters.ch04_trained_networks.results import Results
from camlib.utils.errors import CamlibError


def chapter_results(scale: str = "default") -> Results:
    """``"default"``: the shipped EfficientNet-Lite0 networks converted the paper's way and fine-tuned on
    composites of photographed objects (:mod:`.converted_networks`, minutes on 2 cores); ``"gpu"``: the same
    rows fine-tuned whole on ten times the composites, here (a GPU); ``"full"``: ILSVRC2012 with the paper's
    networks fine-tuned (:func:`camlib.chapters.ch04_trained_networks.full_scale.chapter_results`, needs the
    data set and a GPU)."""
    if scale in ("default", "gpu"):
        from camlib.chapters.ch04_trained_networks.converted_networks import CPU, GPU, run

        return run(CPU if scale == "default" else GPU)
    if scale == "full":
        from camlib.chapters.ch04_trained_networks.full_scale import chapter_results as full_scale_results

        return full_scale_results()
    raise CamlibError(f"scale must be 'default', 'gpu' or 'full', got {scale!r}")
