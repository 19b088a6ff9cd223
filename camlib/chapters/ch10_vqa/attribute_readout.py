"""Does a GAP feature carry what the questions ask about? Linear probes on the generated scenes."""
from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd

from camlib.chapters.ch10_vqa.bow import AnswerVocabulary
from camlib.chapters.ch10_vqa.dataset import VQASplit
from camlib.chapters.ch10_vqa.model import SimpleBaseline, train_simple_baseline
from camlib.data.generators.vqa_scenes import SceneObject
from camlib.methods.features import Features

#: Probe name -> (which scenes it applies to, the scene's label); colour only where the object has a clear one.
PROBES: dict[str, tuple[Callable[[list[SceneObject]], bool], Callable[[list[SceneObject]], str]]] = {
    "colour of a lone object": (lambda s: len(s) == 1 and s[0].colour is not None, lambda s: s[0].colour),
    "category of a lone object": (lambda s: len(s) == 1, lambda s: s[0].category),
    "number of objects": (lambda s: True, lambda s: str(len(s))),
}


#: One probe's data: the pooled GAP features of the scenes it applies to (n, K) and their labels (n strings).
ProbeData = tuple[np.ndarray, list[str]]


def probe_scenes(split: VQASplit) -> dict[str, tuple[np.ndarray, list[str]]]:
    """Per probe of :data:`PROBES`: the indices (n,) of the scenes of ``split`` it applies to and their labels."""
    out = {}
    for name, (applies, label) in PROBES.items():
        keep = np.flatnonzero([applies(s) for s in split.scenes])
        out[name] = (keep, [label(split.scenes[i]) for i in keep])
    return out


def probe_data(split: VQASplit, feats: Features) -> dict[str, ProbeData]:
    """Per probe of :data:`PROBES`: the pooled features (n, K) of the scenes it applies to and their labels."""
    return {name: (feats.pooled.numpy()[keep], labels) for name, (keep, labels) in probe_scenes(split).items()}


def train_probe(data: ProbeData, l2: float = 1e-2, max_iter: int = 100) -> SimpleBaseline:
    """A linear softmax on pooled features (n, K) over the labels seen in ``data`` (at most ``max_iter`` L-BFGS iterations)."""
    pooled, labels = data
    vocabulary = AnswerVocabulary.fit(labels)
    return train_simple_baseline(np.zeros((len(labels), 0)), pooled, np.arange(len(labels)), vocabulary.encode(labels),
                                 vocabulary, inputs="image", l2=l2, max_iter=max_iter)


def probe_row(model: SimpleBaseline, data: ProbeData) -> dict[str, float]:
    """The probe's accuracy (%) on ``data``, the majority-class rate (%) and the number of scenes."""
    pooled, labels = data
    predicted = model.answer(np.zeros((len(labels), 0)), pooled, np.arange(len(labels)))
    majority = pd.Series(labels).value_counts().iloc[0]
    return {"accuracy": 100.0 * np.mean(np.array(predicted) == np.array(labels)),
            "majority class": 100.0 * majority / len(labels), "test scenes": len(labels)}


def probe_table(models: dict[str, SimpleBaseline], test: tuple[VQASplit, Features]) -> pd.DataFrame:
    """:func:`probe_row` of every probe in ``models`` on the ``test`` scenes, one row per probe."""
    data = probe_data(*test)
    rows = {name: probe_row(model, data[name]) for name, model in models.items()}
    return pd.DataFrame(rows).T.astype({"test scenes": int})


def scene_probes(train: tuple[VQASplit, Features], test: tuple[VQASplit, Features], l2: float = 1e-2) -> pd.DataFrame:
    """Test accuracy (%) of a linear softmax on the pooled GAP feature for each of :data:`PROBES`,
    beside the majority-class rate on the test scenes, with the number of test scenes."""
    return probe_table({name: train_probe(data, l2) for name, data in probe_data(*train).items()}, test)
