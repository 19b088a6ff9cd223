"""The chapter's entry point: the results of Tables 1-3 at the scale ``camlib.notebook.setup`` chose."""
from __future__ import annotations

from camlib.chapters.ch04_trained_networks.results import Results
from camlib.errors import CamlibError


def chapter_results(scale: str = "default") -> Results:
    """``"default"``: the paper's heads on a frozen EfficientNet-Lite0 trunk, trained on composites of
    photographed objects (:mod:`.pretrained_heads`, minutes on 2 cores); ``"full"``: ILSVRC2012 with the
    paper's networks fine-tuned (:func:`camlib.chapters.ch04_trained_networks.full_scale.chapter_results`,
    needs the data set and a GPU)."""
    if scale == "default":
        from camlib.chapters.ch04_trained_networks.pretrained_heads import run

        return run()
    if scale == "full":
        from camlib.chapters.ch04_trained_networks.full_scale import chapter_results as full_scale_results

        return full_scale_results()
    raise CamlibError(f"scale must be 'default' or 'full', got {scale!r}")
