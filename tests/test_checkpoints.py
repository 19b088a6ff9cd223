"""Shipped networks: written atomically with a manifest, read back only when the recipe key and the
SHA-256 match, never through code-running formats; and every network the chapters read is shipped."""
from __future__ import annotations

import hashlib
import json

from pathlib import Path

import pytest
import torch
from torch import nn

from camlib.training.checkpoints import (NetworkRecord, add_metrics, load_into, load_network, networks_dir, read_manifest,
                                         save_network, shipped_tensors)
from camlib.utils.errors import CamlibError, CorruptFileError


def record(name: str = "toy-s0", key: str = "k1") -> NetworkRecord:
    return NetworkRecord(name, key, sha256="", command="test", commit="abc", data="toy", seed=0, steps=3, seconds=0.5,
                         history=[{"epoch": 1, "loss": 2.0, "accuracy": 10.0}], metrics={"test top-1 error": 12.5})


def toy() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))


def test_round_trip_is_float16_exact_and_keeps_integer_buffers(tmp_path):
    model = toy()
    model[1].num_batches_tracked += 7
    written = save_network(record(), model.state_dict(), tmp_path)
    state, read = load_network("toy-s0", "k1", tmp_path)
    assert read == written and len(read.sha256) == 64
    assert torch.equal(state["0.weight"], model[0].weight.detach().half().float())  # rounded once, to float16
    assert state["0.weight"].dtype == torch.float32
    assert state["1.num_batches_tracked"].dtype == torch.int64 and int(state["1.num_batches_tracked"]) == 7
    assert set(json.loads((tmp_path / "manifest.json").read_text())) == {"version", "command", "networks"}


def test_load_into_puts_the_network_in_eval_mode(tmp_path):
    save_network(record(), toy().state_dict(), tmp_path)
    other = toy().train()
    load_into(other, "toy-s0", "k1", tmp_path)
    assert not other.training


def test_another_recipe_key_is_refused(tmp_path):
    save_network(record(), toy().state_dict(), tmp_path)
    with pytest.raises(CamlibError, match="another recipe.*retrain"):
        load_network("toy-s0", "k2", tmp_path)


def test_a_missing_network_names_the_command(tmp_path):
    with pytest.raises(CamlibError, match="python -m camlib.commands.retrain nothing"):
        load_network("nothing", "k", tmp_path)


def test_a_modified_file_is_refused(tmp_path):
    save_network(record(), toy().state_dict(), tmp_path)
    path = tmp_path / "toy-s0.safetensors"
    data = bytearray(path.read_bytes())
    data[-1] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptFileError, match="SHA-256"):
        load_network("toy-s0", "k1", tmp_path)


def test_a_pickle_with_a_matching_checksum_is_not_loaded(tmp_path):
    """A file whose SHA-256 was updated to match still has to be safetensors: a pickle never runs."""
    save_network(record(), toy().state_dict(), tmp_path)
    path = tmp_path / "toy-s0.safetensors"
    torch.save(toy().state_dict(), path)  # a zip pickle in place of the tensors
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    manifest["networks"][0]["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(CorruptFileError, match="not a safetensors file"):
        load_network("toy-s0", "k1", tmp_path)


def test_a_damaged_manifest_is_reported(tmp_path):
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(CorruptFileError, match="manifest"):
        read_manifest(tmp_path)


def test_an_architecture_that_does_not_fit_is_refused(tmp_path):
    save_network(record(), toy().state_dict(), tmp_path)
    with pytest.raises(CamlibError, match="does not fit"):
        load_into(nn.Linear(3, 4), "toy-s0", "k1", tmp_path)


@pytest.mark.parametrize("name", ["", "../x", "UPPER", ".hidden", "a b"])
def test_unsafe_names_are_refused(tmp_path, name):
    with pytest.raises(CamlibError, match="network names"):
        save_network(record(name=name), toy().state_dict(), tmp_path)


def test_records_accumulate_in_one_manifest(tmp_path):
    save_network(record("a-s0"), toy().state_dict(), tmp_path)
    save_network(record("b-s0"), toy().state_dict(), tmp_path)
    save_network(record("a-s0", key="k9"), toy().state_dict(), tmp_path)
    manifest = read_manifest(tmp_path)
    assert sorted(manifest) == ["a-s0", "b-s0"] and manifest["a-s0"].key == "k9"


def test_metrics_are_added_to_a_record_but_never_replaced(tmp_path):
    saved = save_network(record("a-s0"), toy().state_dict(), tmp_path)
    add_metrics("a-s0", {"train error (eval mode)": 1.5}, tmp_path)
    manifest = read_manifest(tmp_path)
    assert manifest["a-s0"].metrics == {"test top-1 error": 12.5, "train error (eval mode)": 1.5}
    assert manifest["a-s0"].sha256 == saved.sha256
    load_network("a-s0", "k1", tmp_path)  # the file is untouched
    with pytest.raises(CamlibError, match="already has test top-1 error"):
        add_metrics("a-s0", {"test top-1 error": 0.0}, tmp_path)
    with pytest.raises(CamlibError, match="no shipped network 'b-s0'"):
        add_metrics("b-s0", {"x": 1.0}, tmp_path)
    assert read_manifest(tmp_path)["a-s0"].metrics["test top-1 error"] == 12.5


def test_the_environment_variable_moves_the_store(tmp_path, monkeypatch):
    monkeypatch.setenv("CAMLIB_NETWORKS_DIR", str(tmp_path))
    assert networks_dir() == tmp_path
    monkeypatch.setenv("CAMLIB_NETWORKS_DIR", " ")
    with pytest.raises(CamlibError, match="empty"):
        networks_dir()


def test_the_store_ships_inside_the_package(monkeypatch):
    import camlib
    from camlib.training.checkpoints import VERSION

    monkeypatch.delenv("CAMLIB_NETWORKS_DIR", raising=False)
    assert networks_dir() == Path(camlib.__file__).resolve().parent / "resources" / "networks" / VERSION
    assert (networks_dir() / "manifest.json").is_file()


def test_shipped_tensors_round_floats_only():
    state = shipped_tensors({"w": torch.tensor([1 / 3]), "n": torch.tensor(5)})
    assert state["w"].dtype == torch.float16 and state["n"].dtype == torch.int64


def test_every_recipe_the_chapters_read_is_shipped_and_verifies():
    """The committed store holds every network of the retrain command, each for its current recipe."""
    from camlib.commands.retrain import recipes, status

    shipped = read_manifest()
    stale = [r.name for r in recipes() if status(r, shipped) != "shipped"]
    assert not stale, f"not shipped for the current recipe: {stale}; run `python -m camlib.commands.retrain`"
    for recipe in recipes():
        load_network(recipe.name, recipe.key)  # checks the SHA-256
    from camlib.training.finetune import FITTED_ERROR, tuned_recipes
    lacking = [r.name for r in tuned_recipes() if FITTED_ERROR not in shipped[r.name].metrics]
    assert not lacking, f"no {FITTED_ERROR} in their records: {lacking}; run `python -m camlib.commands.retrain --add-metrics`"
    files = sorted(p.name for p in networks_dir().glob("*.safetensors"))
    assert files == sorted(f"{r.name}.safetensors" for r in recipes()), "a shipped file has no recipe (delete it)"
    assert sum(p.stat().st_size for p in networks_dir().iterdir()) < 30e6
