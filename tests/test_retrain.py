"""The command that trains the shipped networks still works: a reduced retrain (one network, a few
dozen steps) lowers the loss and writes a checkpoint that reads back; bad requests get one-line errors."""
from __future__ import annotations

import subprocess
import sys

import pytest

from camlib.commands.retrain import main, recipes, tolerance
from camlib.training.checkpoints import NetworkRecord, read_manifest
from camlib.training.finetune import FITTED_ERROR


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "camlib.commands.retrain", *args], capture_output=True, text=True, timeout=1800, env=env)


@pytest.mark.slow
def test_a_reduced_retrain_lowers_the_loss_and_ships_a_checkpoint_that_reads_back(tmp_path):
    done = run("--reduced", "lite0-tuned-gap-14-s0", "--max-steps", "12", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr[-3000:]
    assert "fell" in done.stdout and "checkpoint verified" in done.stdout
    assert (tmp_path / "lite0-tuned-gap-14-s0.safetensors").is_file() and (tmp_path / "manifest.json").is_file()
    metrics = read_manifest(tmp_path)["lite0-tuned-gap-14-s0"].metrics
    assert 0 <= metrics[FITTED_ERROR] <= 100 and 0 <= metrics["test top-1 error"] <= 100


def test_add_metrics_measures_nothing_for_a_network_that_is_not_shipped(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("CAMLIB_NETWORKS_DIR", str(tmp_path))  # an empty store: nothing to measure, nothing loaded
    assert main(["--add-metrics", "lite0-tuned-fc-14-s1"]) == 0
    assert "every shipped record has every metric" in capsys.readouterr().err and not (tmp_path / "manifest.json").exists()


def test_every_recipe_has_a_unique_name_and_key():
    names = [r.name for r in recipes()]
    keys = [r.key for r in recipes()]
    assert len(set(names)) == len(names) and len(set(keys)) == len(keys)


def test_an_unknown_network_is_a_one_line_error(capsys):
    assert main(["no-such-network"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("camlib retrain: no recipe named no-such-network") and err.count("\n") == 1


def test_list_prints_every_network_with_its_status(capsys):
    assert main(["--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(recipes()) and all(line.split("\t")[1] in ("shipped", "stale", "missing") for line in lines)


def test_the_check_tolerance_is_the_seed_spread_with_a_floor():
    def rec(error: float) -> NetworkRecord:
        return NetworkRecord("x", "k", "", "", "", "", 0, 1, 0.0, metrics={"test top-1 error": error, "final train loss": 0.1})

    assert tolerance([rec(30.0), rec(34.5), rec(31.0)], "test top-1 error") == pytest.approx(4.5)
    assert tolerance([rec(30.0), rec(30.2)], "test top-1 error") == 1.0
    assert tolerance([rec(30.0)], "final train loss") == 0.05


def test_the_recipe_chooser_picks_the_best_rule_under_which_every_head_converged():
    import pandas as pd
    import pytest

    from camlib.commands.choose_recipe import CONVERGED, dev_spec, winner
    from camlib.utils.errors import CamlibError

    table = pd.DataFrame([
        {"rule": "a", "head": "gap", "final train error": 5.0, "dev top-1 error": 20.0},
        {"rule": "a", "head": "gmp", "final train error": CONVERGED + 1, "dev top-1 error": 10.0},  # best dev, GMP diverged
        {"rule": "b", "head": "gap", "final train error": 4.0, "dev top-1 error": 30.0},
        {"rule": "b", "head": "gmp", "final train error": 6.0, "dev top-1 error": 34.0},
        {"rule": "c", "head": "gap", "final train error": 3.0, "dev top-1 error": 28.0},
        {"rule": "c", "head": "gmp", "final train error": 2.0, "dev top-1 error": 30.0},
    ])
    assert winner(table) == "c"
    with pytest.raises(CamlibError, match="no candidate rule"):
        winner(table[table["rule"] == "a"])
    # the development split never shows the shipped networks' test objects: their train objects, split in two
    from camlib.data.generators.composites import split_stamps
    from camlib.data.generators.stamps import load_stamps
    from camlib.training.finetune import tuned_spec

    stamps = load_stamps(tuned_spec().stamps)
    shipped, dev = split_stamps(stamps, tuned_spec().stamp_cycle), split_stamps(stamps, dev_spec().stamp_cycle)
    assert dev["test"] == shipped["test"] and sorted(dev["train"] + dev["dev"]) == shipped["train"]
    assert not set(dev["train"]) & set(dev["dev"])


def test_the_shipped_rule_is_the_one_the_development_runs_chose():
    from camlib.commands.choose_recipe import CANDIDATES, recorded_choice, winner
    from camlib.training.finetune import TUNED_TRAINING

    runs = recorded_choice()
    assert set(runs["rule"]) == set(CANDIDATES) and set(runs["head"]) == {"gap", "gmp"}
    assert CANDIDATES[winner(runs)] == TUNED_TRAINING


def test_the_fc_networks_rule_is_the_one_its_development_runs_chose():
    from camlib.commands.choose_recipe import FC_CANDIDATES, recorded_choice, winner
    from camlib.training.finetune import FC_TRAINING, TUNED_SEEDS

    runs = recorded_choice("fc_recipe_choice.csv")
    assert set(runs["head"]) == {"fc"} and set(runs["rule"]) <= set(FC_CANDIDATES)
    assert not runs.duplicated(["rule", "seed"]).any()
    chosen = winner(runs)
    assert FC_CANDIDATES[chosen] == FC_TRAINING
    assert set(runs.loc[runs["rule"] == chosen, "seed"]) >= set(TUNED_SEEDS)  # judged on every shipped seed (and more)


def test_commands_turn_errors_and_ctrl_c_into_one_line_and_an_exit_code(capsys):
    from camlib.commands import exit_code
    from camlib.utils.errors import CamlibError

    def fails():
        raise CamlibError("no such network")

    def interrupted():
        raise KeyboardInterrupt

    assert exit_code("camlib x", fails) == 2 and capsys.readouterr().err == "camlib x: no such network\n"
    assert exit_code("camlib x", interrupted, "stopped; rerun resumes") == 130
    assert capsys.readouterr().err == "camlib x: stopped; rerun resumes\n"
    assert exit_code("camlib x", lambda: None) == 0 and exit_code("camlib x", lambda: 1) == 1


def test_the_recipe_chooser_appends_each_run_and_skips_the_finished_ones(tmp_path, monkeypatch, capsys):
    import pandas as pd

    import camlib.commands.choose_recipe as chooser

    calls = []

    def fake_score(rule, kind, seed=0, resumable=False):
        calls.append((rule, kind, seed, resumable))
        return {"rule": rule, "head": kind, "seed": seed, "final train error": 5.0, "dev top-1 error": 40.0 + seed}

    monkeypatch.setattr(chooser, "score", fake_score)
    monkeypatch.setattr(chooser, "seed_everything", lambda threads: None)
    out = tmp_path / "runs.csv"
    args = ["--rules", "fc-adam-3e-4", "--heads", "fc", "--out", str(out), "--seeds"]
    assert chooser.main([*args, "1", "0"]) == 0
    assert calls == [("fc-adam-3e-4", "fc", 1, True), ("fc-adam-3e-4", "fc", 0, True)]  # resumable: it has --out
    calls.clear()
    assert chooser.main([*args, "1", "0", "2"]) == 0  # a second session: only the run not yet in the file
    assert calls == [("fc-adam-3e-4", "fc", 2, True)]
    assert pd.read_csv(out)["seed"].tolist() == [1, 0, 2]
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    capsys.readouterr()
    assert chooser.main(["--rules", "fc-adam-3e-4", "--heads", "fc", "--out", str(bad)]) == 2
    assert "no rule, head and seed columns" in capsys.readouterr().err
