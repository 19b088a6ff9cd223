"""The command that trains the shipped networks still works: a reduced retrain (one network, a few
dozen steps) lowers the loss and writes a checkpoint that reads back; bad requests get one-line errors."""
from __future__ import annotations

import subprocess
import sys

import pytest

from camlib.book.retrain import main, recipes, tolerance
from camlib.checkpoints import NetworkRecord


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "camlib.book.retrain", *args], capture_output=True, text=True, timeout=1800, env=env)


@pytest.mark.slow
def test_a_reduced_retrain_lowers_the_loss_and_ships_a_checkpoint_that_reads_back(tmp_path):
    done = run("--reduced", "lite0-tuned-gap-14-s0", "--max-steps", "44", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr[-3000:]
    assert "fell" in done.stdout and "checkpoint verified" in done.stdout
    assert (tmp_path / "lite0-tuned-gap-14-s0.safetensors").is_file() and (tmp_path / "manifest.json").is_file()


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
