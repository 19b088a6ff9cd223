"""Linear probes of scene content on hand-made features."""
import numpy as np
import torch

from camlib.chapters.ch10_vqa.attribute_readout import scene_probes
from camlib.chapters.ch10_vqa.dataset import VQASplit
from camlib.chapters.ch10_vqa.table import QuestionTable
from camlib.data.generators.vqa_scenes import COLOURS, SceneObject
from camlib.methods.features import Features

COLOUR_NAMES = list(COLOURS)[:5]


def split_and_features(seed: int):
    """Scenes of one or two objects; the 'feature' is a one-hot colour of the first object + object count.
    Every sixth lone object has no clear colour (colour None): the colour probe leaves it out."""
    rng = np.random.default_rng(seed)
    scenes, rows = [], []
    for i in range(60):
        colour = COLOUR_NAMES[i % 5] if i % 6 else None
        n = 1 + (i // 5) % 2
        scenes.append([SceneObject("fruit", colour, (0, 0, 4, 4))] + [SceneObject("fish", "red", (10, 0, 14, 4))] * (n - 1))
        rows.append(np.concatenate([np.eye(5)[i % 5], [n], rng.normal(size=2) * 0.01]))
    empty = QuestionTable(np.zeros(0), [], [], [], [], [])
    split = VQASplit(np.zeros((60, 2, 2, 3), np.uint8), np.zeros((60, 2, 2), np.int8), scenes, empty, [])
    return split, Features(torch.tensor(np.array(rows), dtype=torch.float32), None)


def test_probes_read_what_the_feature_holds():
    table = scene_probes(split_and_features(0), split_and_features(1))
    assert list(table.index) == ["colour of a lone object", "category of a lone object", "number of objects"]
    assert table.loc["colour of a lone object", "accuracy"] == 100.0
    assert table.loc["number of objects", "accuracy"] == 100.0
    assert table.loc["category of a lone object", "majority class"] == 100.0  # every lone object is a fruit
    lone = [i for i in range(60) if (i // 5) % 2 == 0]
    assert table.loc["category of a lone object", "test scenes"] == len(lone) == 30
    assert table.loc["colour of a lone object", "test scenes"] == sum(1 for i in lone if i % 6) == 24
