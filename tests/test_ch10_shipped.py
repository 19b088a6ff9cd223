"""Chapter 10's shipped models: the loaders check the recipe, a reduced recipe round-trips through a
checkpoint, and the shipped models answer as retrained ones do (within float16 rounding)."""
import numpy as np
import pytest
import torch

from camlib.chapters.ch10_vqa import shipped
from camlib.chapters.ch10_vqa.attribute_readout import probe_data, train_probe
from camlib.chapters.ch10_vqa.dataset import VQASpec
from camlib.chapters.ch10_vqa.model import train_simple_baseline
from camlib.chapters.ch10_vqa.table import QuestionTable
from camlib.training.checkpoints import load_network, read_manifest, save_network
from camlib.utils.errors import CamlibError

SPEC = VQASpec()


@pytest.fixture(scope="module")
def scenes():
    """The chapter's splits and their Lite0 features (features from the cache under data/cache)."""
    return shipped.scene_data(SPEC)


def tiny_questions() -> QuestionTable:
    return QuestionTable(np.zeros(2), ["how many birds?", "what colour is the fish?"], ["2", "red"], ["how many"] * 2,
                         ["number"] * 2, [("2",), ("red",)])


def test_every_recipe_is_shipped_for_its_key():
    records = read_manifest()
    recipes = shipped.vqa_recipes(SPEC)
    assert [r.name for r in recipes] == ["vqa-baseline-question-image", "vqa-baseline-question", "vqa-baseline-image",
                                         "vqa-probe-colour", "vqa-probe-category", "vqa-probe-count"]
    assert all(records[r.name].key == r.key for r in recipes)
    assert records["vqa-baseline-image"].metrics["l2"] in shipped.GRID


def test_loaders_refuse_another_recipe_or_vocabulary(scenes):
    with pytest.raises(CamlibError, match="another recipe"):
        shipped.shipped_baselines(SPEC, tiny_questions(), max_words=3)
    with pytest.raises(CamlibError, match="does not fit these 2 answers"):
        shipped.shipped_baselines(SPEC, tiny_questions())
    with pytest.raises(CamlibError, match="another recipe"):
        shipped.shipped_probe_models(VQASpec(seed=1), scenes[0]["train"])


@pytest.mark.parametrize("name", ["vqa-baseline-question-image", "vqa-probe-count"])
def test_reduced_recipe_round_trips(scenes, tmp_path, name):
    recipe = next(r for r in shipped.vqa_recipes(SPEC) if r.name == name)
    state, record = recipe.train(3)
    assert set(state) == set(shipped.TENSORS) and all(t.dtype == torch.float16 for t in state.values())
    assert record.steps == 3 and record.history[-1]["loss"] < record.history[0]["loss"]
    saved = save_network(record, state, tmp_path)
    loaded, again = load_network(name, recipe.key, tmp_path)
    assert again == saved and again.metrics == record.metrics
    for t in shipped.TENSORS:
        torch.testing.assert_close(loaded[t], state[t].float(), rtol=0, atol=0)


def test_shipped_baselines_answer_as_retrained(scenes):
    splits, feats = scenes
    tables = {split: (splits[split].questions, feats[split].pooled) for split in ("train", "val", "test")}
    loaded = shipped.shipped_baselines(SPEC, tables["train"][0])
    train, val = ((*loaded.inputs(*tables[s]), loaded.vocabulary.encode(tables[s][0].answer)) for s in ("train", "val"))
    test = loaded.inputs(*tables["test"])
    for kind, model in loaded.models.items():
        l2 = read_manifest()[shipped.baseline_name(kind)].metrics["l2"]  # the l2 the recipe chose on val
        retrained = train_simple_baseline(*train, loaded.vocabulary, kind, l2=l2, max_iter=shipped.MAX_ITER)
        assert np.mean(model.predict(*test) == retrained.predict(*test)) >= 0.99, kind
        assert loaded.l2_scores[kind][l2] == pytest.approx(100.0 * np.mean(retrained.predict(*val[:3]) == val[3]), abs=1.0)


def test_shipped_probes_answer_as_retrained(scenes):
    splits, feats = scenes
    models = shipped.shipped_probe_models(SPEC, splits["train"])
    trained, tested = probe_data(splits["train"], feats["train"]), probe_data(splits["test"], feats["test"])
    same, total = 0, 0
    for probe, (pooled, _) in tested.items():
        inputs = (np.zeros((len(pooled), 0)), pooled, np.arange(len(pooled)))
        same += int((models[probe].predict(*inputs) == train_probe(trained[probe], shipped.PROBE_L2).predict(*inputs)).sum())
        total += len(pooled)
    assert same >= 0.99 * total
