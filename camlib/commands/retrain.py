"""Train the networks the chapters read, once, and ship them (``python -m camlib.commands.retrain``).

Chapters never train what their claims rest on: they load the checkpoints this command wrote
(:mod:`camlib.training.checkpoints`). By default it trains every network that is missing from the manifest or was
trained for another recipe, and ships it. ``--check`` retrains into a scratch folder and compares every
final metric with the shipped one, within the spread of the shipped seeds of the same recipe (``make
retrain``). ``--reduced`` trains one network for a few steps into a scratch folder and checks that its loss
fell and that the checkpoint reads back (the guard in ``make test``). ``--add-metrics`` measures, from the shipped
tensors and without training, the metrics a recipe now records but a shipped record lacks.
"""
from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from camlib.chapters.ch10_vqa.shipped import vqa_recipes
from camlib.training.checkpoints import (NetworkRecord, Recipe, add_metrics, current_commit, load_network, networks_dir,
                                         read_manifest, remove_network, save_network)
from camlib.commands import exit_code
from camlib.utils.errors import CamlibError
from camlib.training.finetune import tuned_recipes
from camlib.utils.repro import seed_everything

#: Each metric's least tolerance in ``--check`` (the seeds' spread may be smaller than run-to-run noise).
FLOOR = {"final train loss": 0.05}
DEFAULT_FLOOR = 1.0


def recipes() -> list[Recipe]:
    """Every network the chapters read."""
    return [*tuned_recipes(), *vqa_recipes()]


def _select(all_recipes: list[Recipe], names: list[str]) -> list[Recipe]:
    if not names:
        return all_recipes
    known = {r.name: r for r in all_recipes}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise CamlibError(f"no recipe named {', '.join(unknown)}; `--list` shows them")
    return [known[n] for n in names]


def status(recipe: Recipe, shipped: dict[str, NetworkRecord]) -> str:
    """``shipped``, ``stale`` (trained for another recipe) or ``missing``."""
    record = shipped.get(recipe.name)
    return "missing" if record is None else "shipped" if record.key == recipe.key else "stale"


def train_and_ship(recipe: Recipe, folder: Path, command: str, max_steps: int | None = None, threads: int = 2) -> NetworkRecord:
    """Train ``recipe`` (on ``threads`` CPU threads) and write it with its record into ``folder``."""
    seed_everything(threads=threads)
    state, record = recipe.train(max_steps)
    return save_network(replace(record, command=command, commit=current_commit()), state, folder)


def tolerance(group: list[NetworkRecord], metric: str) -> float:
    """The spread (max - min) of ``metric`` over the shipped seeds of one recipe, at least its floor."""
    values = [r.metrics[metric] for r in group if metric in r.metrics]
    return max(max(values) - min(values) if values else 0.0, FLOOR.get(metric, DEFAULT_FLOOR))


def check(selected: list[Recipe], every: list[Recipe], shipped: dict[str, NetworkRecord], folder: Path, command: str,
          threads: int = 2) -> bool:
    """Retrain ``selected`` into ``folder`` and print each metric beside the shipped one, within the spread of the
    shipped seeds of its group among ``every`` recipe; whether all agree."""
    groups: dict[str, list[NetworkRecord]] = {}
    for r in every:
        if r.name in shipped:
            groups.setdefault(r.group, []).append(shipped[r.name])
    agree = True
    for recipe in selected:
        if recipe.name not in shipped:
            print(f"{recipe.name}: not shipped, nothing to compare", file=sys.stderr)
            agree = False
            continue
        new = train_and_ship(recipe, folder, command, threads=threads)
        for metric, value in new.metrics.items():
            old = shipped[recipe.name].metrics.get(metric)
            limit = tolerance(groups[recipe.group], metric)
            ok = old is not None and abs(value - old) <= limit
            agree &= ok
            print(f"{recipe.name}\t{metric}\tshipped {old:.3f}\tretrained {value:.3f}\ttolerance {limit:.3f}\t{'ok' if ok else 'DIFFERS'}")
    return agree


def reduced(recipe: Recipe, folder: Path, command: str, max_steps: int, threads: int = 2) -> bool:
    """Train ``recipe`` for ``max_steps`` into ``folder``; whether the loss fell and the checkpoint reads back."""
    record = train_and_ship(recipe, folder, command, max_steps, threads)
    load_network(record.name, record.key, folder)
    losses = [epoch["loss"] for epoch in record.history]
    fell = len(losses) >= 2 and losses[-1] < losses[0]
    print(f"{record.name}: {record.steps} steps, loss {losses[0]:.4f} -> {losses[-1]:.4f} ({'fell' if fell else 'did not fall'}); "
          f"checkpoint verified in {folder}")
    return fell


def measure_missing(selected: list[Recipe], shipped: dict[str, NetworkRecord]) -> int:
    """Add to each shipped record of ``selected`` the metrics its recipe's ``measure`` gives that the record lacks,
    printing each; how many records changed."""
    changed = 0
    for recipe in selected:
        if recipe.measure is None or recipe.name not in shipped:
            continue
        state, record = load_network(recipe.name, recipe.key)
        new = {m: v for m, v in recipe.measure(state).items() if m not in record.metrics}
        if new:
            add_metrics(recipe.name, new)
            changed += 1
            print(f"{recipe.name}: " + ", ".join(f"{m} {v:.3f}" for m, v in new.items()))
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m camlib.commands.retrain", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="networks to train (default: every missing or stale one; --list shows them)")
    parser.add_argument("--list", action="store_true", help="list the networks and whether each is shipped")
    parser.add_argument("--all", action="store_true", help="retrain and ship even the networks that are up to date")
    parser.add_argument("--check", action="store_true", help="retrain into a scratch folder and compare with the shipped metrics")
    parser.add_argument("--reduced", action="store_true", help="train the first selected network for --max-steps and check its loss falls")
    parser.add_argument("--prune", action="store_true", help="delete shipped networks that no recipe names any more")
    parser.add_argument("--add-metrics", action="store_true",
                        help="measure the metrics a shipped record lacks from its shipped tensors (no training)")
    parser.add_argument("--max-steps", type=int, default=60, help="steps of a --reduced run (default 60)")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads (default 2; 1 when several retrains share the cores)")
    parser.add_argument("--out", type=Path, help="folder for --check/--reduced outputs (default: a temporary folder)")
    args = parser.parse_args(argv)
    command = shlex.join(["python", "-m", "camlib.commands.retrain", *(argv if argv is not None else sys.argv[1:])])
    return exit_code("camlib retrain", lambda: _run(args, command),
                     "interrupted; finished networks are shipped, a rerun resumes the one in progress")


def _run(args: argparse.Namespace, command: str) -> int:
    every = recipes()
    selected = _select(every, args.names)
    shipped = read_manifest()
    if args.list:
        for recipe in selected:
            print(f"{recipe.name}\t{status(recipe, shipped)}")
        return 0
    if args.prune:
        orphans = sorted({*shipped, *(p.stem for p in networks_dir().glob("*.safetensors"))} - {r.name for r in every})
        for name in orphans:
            remove_network(name)
            print(f"removed {name}")
        return 0
    if args.add_metrics:
        seed_everything(threads=args.threads)
        if not measure_missing(selected, shipped):
            print("every shipped record has every metric its recipe measures", file=sys.stderr)
        return 0
    if args.check or args.reduced:
        with tempfile.TemporaryDirectory(prefix="camlib-retrain-") as scratch:
            folder = args.out or Path(scratch)
            folder.mkdir(parents=True, exist_ok=True)
            if args.reduced:
                return 0 if reduced(selected[0], folder, command, args.max_steps, args.threads) else 1
            return 0 if check(selected, every, shipped, folder, command, args.threads) else 1
    todo = [r for r in selected if args.all or status(r, shipped) != "shipped"]
    for k, recipe in enumerate(todo, start=1):
        record = train_and_ship(recipe, networks_dir(), command, threads=args.threads)
        print(f"[{k}/{len(todo)}] {record.name}: {record.steps} steps, {record.seconds:.0f} s, "
              + ", ".join(f"{m} {v:.3f}" for m, v in record.metrics.items()))
    if not todo:
        print("every network is shipped and up to date", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
