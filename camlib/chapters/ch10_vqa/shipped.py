"""The chapter's trained models as shipped networks (:mod:`camlib.training.checkpoints`): trained once by
``python -m camlib.commands.retrain``, loaded by the notebook.

Six linear softmax layers on EfficientNet-Lite0's pooled GAP features of the generated scenes: the
simple baseline on each input kind of :data:`INPUTS` (its ``l2`` chosen on val inside the recipe) and
the three scene probes of :data:`PROBES`. Each ships its tensors ``question_weight (A, V)``,
``image_weight (A, K)`` and ``bias (A,)`` (width 0 for a part a model does not use). The word list and
the answer vocabularies are not shipped: they are counts over the training split, refit on loading.

A model's record: ``steps`` is the L-BFGS iteration cap of its fit; ``history`` is the zero-weight start
(epoch 0) and the shipped model (epoch 1), each with its train ``loss`` and ``accuracy`` (%).
"""
from __future__ import annotations

import time
from dataclasses import replace
from functools import lru_cache
from typing import Sequence

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from camlib.utils.cache import cache_key
from camlib.chapters.ch10_vqa.accuracy import accuracy_table
from camlib.chapters.ch10_vqa.attribute_readout import PROBES, probe_data, probe_row, probe_scenes, probe_table, train_probe
from camlib.chapters.ch10_vqa.bow import AnswerVocabulary
from camlib.chapters.ch10_vqa.dataset import VQASpec, VQASplit, generate_vqa
from camlib.chapters.ch10_vqa.model import INPUTS, SimpleBaseline
from camlib.chapters.ch10_vqa.pipeline import Baselines, fit_baselines, fit_encoders
from camlib.chapters.ch10_vqa.scene_features import scene_features
from camlib.chapters.ch10_vqa.table import QuestionTable
from camlib.training.checkpoints import COMMAND, NetworkRecord, Recipe, load_network, shipped_tensors
from camlib.utils.errors import CamlibError
from camlib.methods.features import Features
from camlib.models.pretrained import load_pretrained

#: The pretrained network whose pooled GAP features every model reads.
NETWORK = "efficientnet-lite0"
#: The baselines' l2 grid (chosen on val), the probes' l2, and the L-BFGS iteration cap of every fit.
GRID: tuple[float, ...] = (1e-3, 1e-2, 1e-1)
PROBE_L2 = 1e-2
MAX_ITER = 100
#: Bump when a recipe changes in a way its key does not see.
RECIPE_VERSION = 1
#: The shipped tensors of every model.
TENSORS = ("question_weight", "image_weight", "bias")
#: Each probe's shipped name.
PROBE_NAMES = {"colour of a lone object": "vqa-probe-colour", "category of a lone object": "vqa-probe-category",
               "number of objects": "vqa-probe-count"}


def baseline_name(kind: str) -> str:
    """The shipped name of the baseline on input ``kind``: ``vqa-baseline-question-image``."""
    return f"vqa-baseline-{kind.replace('+', '-')}"


def _key(spec: VQASpec, **recipe: object) -> str:
    """A recipe key: the scenes of ``spec`` seen through :data:`NETWORK`, the fit's cap, and ``recipe``."""
    return cache_key(data=spec, network=NETWORK, max_iter=MAX_ITER, version=RECIPE_VERSION, **recipe)


def baseline_key(spec: VQASpec, kind: str, top_answers: int | None = None, max_words: int | None = None,
                 grid: Sequence[float] = GRID) -> str:
    """The recipe key of the baseline on input ``kind`` trained on the scenes of ``spec``."""
    return _key(spec, inputs=kind, top_answers=top_answers, max_words=max_words, grid=sorted(grid))


def probe_key(spec: VQASpec, probe: str) -> str:
    """The recipe key of probe ``probe`` (a key of :data:`PROBES`) trained on the scenes of ``spec``."""
    return _key(spec, probe=probe, l2=PROBE_L2)


def val_metric(l2: float) -> str:
    """The name of the metric holding a baseline's val accuracy (%) when trained with ``l2``."""
    return f"val accuracy (l2 {l2:g})"


@lru_cache(maxsize=1)
def scene_data(spec: VQASpec) -> tuple[dict[str, VQASplit], dict[str, Features]]:
    """The generated splits of ``spec`` and their :data:`NETWORK` features (once per process; features cached on disk)."""
    splits = generate_vqa(spec)
    return splits, scene_features(load_pretrained(NETWORK), splits, spec)


def _model(state: dict[str, torch.Tensor], vocabulary: AnswerVocabulary, inputs: str, name: str) -> SimpleBaseline:
    """The model of shipped ``state`` over ``vocabulary``; refused when it scores another number of answers."""
    if set(state) != set(TENSORS) or any(state[t].shape[0] != len(vocabulary) for t in TENSORS):
        raise CamlibError(f"the shipped network {name!r} does not fit these {len(vocabulary)} answers "
                          f"(other training questions?); retrain it with `{COMMAND} {name}`")
    return SimpleBaseline(state["question_weight"], state["image_weight"], state["bias"], vocabulary, inputs)


def _shipped(model: SimpleBaseline, name: str) -> tuple[dict[str, torch.Tensor], SimpleBaseline]:
    """The tensors of ``model`` as shipped (float16) and the model they make (float32)."""
    state = shipped_tensors({t: getattr(model, t) for t in TENSORS})
    return state, _model({t: v.float() for t, v in state.items()}, model.vocabulary, model.inputs, name)


def _fit_stats(model: SimpleBaseline, inputs: tuple[np.ndarray, np.ndarray, np.ndarray], labels: np.ndarray) -> dict[str, float]:
    """Mean cross-entropy and top-1 accuracy (%) of ``model`` on ``inputs`` (questions, images, image index)
    over the ``labels`` (Q,) in its vocabulary."""
    keep = torch.as_tensor(labels >= 0)
    with torch.no_grad():
        logits = model.logits(*inputs)[keep]
    y = torch.as_tensor(labels)[keep]
    return {"loss": float(F.cross_entropy(logits, y)), "accuracy": 100.0 * float((logits.argmax(1) == y).double().mean())}


def _history(model: SimpleBaseline, inputs: tuple[np.ndarray, np.ndarray, np.ndarray],
             labels: np.ndarray) -> list[dict[str, float]]:
    """The train loss and accuracy of the zero-weight start (epoch 0) and of ``model`` (epoch 1)."""
    zero = replace(model, **{t: torch.zeros_like(getattr(model, t)) for t in TENSORS})
    return [{"epoch": epoch, **_fit_stats(m, inputs, labels)} for epoch, m in enumerate((zero, model))]


def _record(name: str, key: str, spec: VQASpec, steps: int, seconds: float, history: list[dict[str, float]],
            metrics: dict[str, float]) -> NetworkRecord:
    """The record of a model trained on the scenes of ``spec``; its final train loss and accuracy lead ``metrics``."""
    final = {"final train loss": history[-1]["loss"], "final train accuracy": history[-1]["accuracy"]}
    return NetworkRecord(name, key, sha256="", command="", commit="", data=f"{NETWORK} GAP features of {spec!r}",
                         seed=spec.seed, steps=steps, seconds=seconds, history=history, metrics={**final, **metrics})


def baseline_recipe(spec: VQASpec, kind: str, top_answers: int | None = None, max_words: int | None = None,
                    grid: Sequence[float] = GRID) -> Recipe:
    """The baseline on input ``kind``: :func:`fit_baselines` on the train split, its ``l2`` chosen on val;
    metrics: the chosen ``l2``, val accuracy per ``l2``, and the shipped model's val and test accuracy (%)."""
    name, key = baseline_name(kind), baseline_key(spec, kind, top_answers, max_words, grid)

    def fit(max_steps: int | None) -> tuple[dict[str, torch.Tensor], NetworkRecord]:
        splits, feats = scene_data(spec)
        tables = {split: (splits[split].questions, feats[split].pooled) for split in splits}
        steps, start = max_steps or MAX_ITER, time.perf_counter()
        fitted = fit_baselines(tables["train"], tables["val"], top_answers, max_words, grid, kinds=(kind,), max_iter=steps)
        seconds = time.perf_counter() - start
        state, model = _shipped(fitted.models[kind], name)
        scores = fitted.l2_scores[kind]
        encoded = {split: (fitted.inputs(*tables[split]), fitted.vocabulary.encode(tables[split][0].answer)) for split in splits}
        test = accuracy_table(model.answer(*encoded["test"][0]), tables["test"][0]).loc["overall", "accuracy"]
        metrics = {"l2": min(l2 for l2, score in scores.items() if score == max(scores.values())),
                   **{val_metric(l2): score for l2, score in scores.items()},
                   "val accuracy": _fit_stats(model, *encoded["val"])["accuracy"], "test accuracy": float(test)}
        return state, _record(name, key, spec, steps, seconds, _history(model, *encoded["train"]), metrics)

    return Recipe(name, key, name, fit)


def probe_recipe(spec: VQASpec, probe: str) -> Recipe:
    """Probe ``probe`` (a key of :data:`PROBES`): a linear softmax on the pooled features of the train
    scenes it applies to; metrics: the shipped model's test accuracy and the test majority-class rate (%)."""
    name, key = PROBE_NAMES[probe], probe_key(spec, probe)

    def fit(max_steps: int | None) -> tuple[dict[str, torch.Tensor], NetworkRecord]:
        splits, feats = scene_data(spec)
        pooled, labels = probe_data(splits["train"], feats["train"])[probe]
        steps, start = max_steps or MAX_ITER, time.perf_counter()
        trained = train_probe((pooled, labels), PROBE_L2, steps)
        seconds = time.perf_counter() - start
        state, model = _shipped(trained, name)
        inputs = (np.zeros((len(labels), 0)), pooled, np.arange(len(labels)))
        row = probe_row(model, probe_data(splits["test"], feats["test"])[probe])
        metrics = {"test accuracy": float(row["accuracy"]), "test majority class": float(row["majority class"])}
        return state, _record(name, key, spec, steps, seconds, _history(model, inputs, model.vocabulary.encode(labels)), metrics)

    return Recipe(name, key, name, fit)


def vqa_recipes(spec: VQASpec = VQASpec()) -> list[Recipe]:
    """The recipes of every model chapter 10 reads: the three baselines and the three probes."""
    return [*(baseline_recipe(spec, kind) for kind in INPUTS), *(probe_recipe(spec, probe) for probe in PROBES)]


def shipped_baselines(spec: VQASpec, questions: QuestionTable, top_answers: int | None = None,
                      max_words: int | None = None, grid: Sequence[float] = GRID) -> Baselines:
    """The shipped baselines trained on the scenes of ``spec``, with the word list and answer vocabulary
    refit on its training ``questions`` and each model's val accuracy (%) per ``l2`` from its record."""
    words, vocabulary = fit_encoders(questions, top_answers, max_words)
    fitted = Baselines(words, vocabulary, {}, {})
    for kind in INPUTS:
        name = baseline_name(kind)
        state, record = load_network(name, baseline_key(spec, kind, top_answers, max_words, grid))
        fitted.models[kind] = _model(state, vocabulary, kind, name)
        fitted.l2_scores[kind] = {l2: record.metrics[val_metric(l2)] for l2 in sorted(grid)}
    return fitted


def shipped_probe_models(spec: VQASpec, train: VQASplit) -> dict[str, SimpleBaseline]:
    """The shipped probes trained on the scenes of ``spec``, by :data:`PROBES` name, each over the labels
    of the ``train`` scenes it applies to."""
    models = {}
    for probe, (_, labels) in probe_scenes(train).items():
        state, _ = load_network(PROBE_NAMES[probe], probe_key(spec, probe))
        models[probe] = _model(state, AnswerVocabulary.fit(labels), "image", PROBE_NAMES[probe])
    return models


def shipped_probes(spec: VQASpec, train: VQASplit, test: tuple[VQASplit, Features]) -> pd.DataFrame:
    """The table of :func:`~camlib.chapters.ch10_vqa.attribute_readout.scene_probes` (test accuracy and
    majority-class rate (%), test scenes) for the shipped probes, whose labels come from the ``train`` scenes."""
    return probe_table(shipped_probe_models(spec, train), test)
