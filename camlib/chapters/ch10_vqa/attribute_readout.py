"""Does a GAP feature carry what the questions ask about? Linear probes on the generated scenes."""
from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd

from camlib.chapters.ch10_vqa.bow import AnswerVocabulary
from camlib.chapters.ch10_vqa.dataset import VQASplit
from camlib.chapters.ch10_vqa.model import train_simple_baseline
from camlib.data.vqa_scenes import SceneObject
from camlib.features import Features

#: Probe name -> (which scenes it applies to, the scene's label); colour only where the object has a clear one.
PROBES: dict[str, tuple[Callable[[list[SceneObject]], bool], Callable[[list[SceneObject]], str]]] = {
    "colour of a lone object": (lambda s: len(s) == 1 and s[0].colour is not None, lambda s: s[0].colour),
    "category of a lone object": (lambda s: len(s) == 1, lambda s: s[0].category),
    "number of objects": (lambda s: True, lambda s: str(len(s))),
}


def scene_probes(train: tuple[VQASplit, Features], test: tuple[VQASplit, Features], l2: float = 1e-2) -> pd.DataFrame:
    """Test accuracy (%) of a linear softmax on the pooled GAP feature for each of :data:`PROBES`,
    beside the majority-class rate on the test scenes, with the number of test scenes."""
    rows = {}
    for name, (applies, label) in PROBES.items():
        data = {}
        for part, (split, feats) in (("train", train), ("test", test)):
            keep = np.flatnonzero([applies(s) for s in split.scenes])
            data[part] = (feats.pooled.numpy()[keep], [label(split.scenes[i]) for i in keep])
        vocabulary = AnswerVocabulary.fit(data["train"][1])
        pooled, labels = data["train"]
        model = train_simple_baseline(np.zeros((len(labels), 0)), pooled, np.arange(len(labels)),
                                      vocabulary.encode(labels), vocabulary, inputs="image", l2=l2)
        pooled, labels = data["test"]
        predicted = model.answer(np.zeros((len(labels), 0)), pooled, np.arange(len(labels)))
        majority = pd.Series(labels).value_counts().iloc[0]
        rows[name] = {"accuracy": 100.0 * np.mean(np.array(predicted) == np.array(labels)),
                      "majority class": 100.0 * majority / len(labels), "test scenes": len(labels)}
    return pd.DataFrame(rows).T.astype({"test scenes": int})
