"""environment.yml, pyproject.toml and constraints.txt stay consistent."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import tomllib
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_installs_the_project_with_the_pins():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    deps = env["dependencies"]
    assert "python=3.11" in deps
    pip = next(d["pip"] for d in deps if isinstance(d, dict))
    assert "-c constraints.txt" in pip and "-e .[book,test,text,bench]" in pip


def test_pyproject_has_no_exact_pins_and_constraints_pin_everything():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = project["dependencies"] + [r for extra in project["optional-dependencies"].values() for r in extra]
    assert not [r for r in requirements if "==" in r], "exact pins belong in constraints.txt"
    pinned = {_name(line) for line in (ROOT / "constraints.txt").read_text().splitlines() if "==" in line}
    missing = {_name(r) for r in requirements} - pinned
    assert not missing, f"constraints.txt lacks pins for {missing}"
    torch_pin = next(line for line in (ROOT / "constraints.txt").read_text().splitlines() if line.startswith("torch=="))
    assert torch_pin == "torch==2.14.1"


def test_pip_dry_run_resolves_environment_yml():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    args = [token for line in pip for token in line.split()]
    out = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--disable-pip-version-check", "-q", *args],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert out.returncode == 0, out.stderr[-2000:]
