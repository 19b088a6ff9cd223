"""The GPU scale's check (``python -m camlib.commands.gpu_check``): chapter 4's rows fine-tuned whole, one seed.

At :data:`camlib.chapters.ch04_trained_networks.converted_networks.GPU` every block of Lite0 but the stem is
fine-tuned on ten times the composites of the shipped networks, here instead of loaded. This check trains the
five rows with one seed (``--seeds`` for more), evaluates them like the chapter, and prints Table 1's top-1
errors and the GAP row's margins over the centre baseline as CSV. Checkpoints go to the cache, so a stopped
run resumes.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import replace

import pandas as pd

from camlib.chapters.ch04_trained_networks.claims_table import centre_margins
from camlib.chapters.ch04_trained_networks.converted_networks import GPU, run
from camlib.commands import exit_code
from camlib.book.paper_tables import over_seeds, table1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--train-images", type=int, default=GPU.train_images)
    args = parser.parse_args(argv)
    return exit_code("camlib gpu_check", lambda: _run(args))


def _run(args: argparse.Namespace) -> int | None:
    results = run(replace(GPU, seeds=tuple(args.seeds), train_images=args.train_images))
    classification = over_seeds([table1(results.seed(k)[0]) for k in range(results.seeds)])
    print(classification.to_csv(float_format="%.2f"), end="")
    margins = centre_margins(results)
    print(pd.DataFrame(margins).to_csv(float_format="%.2f"), end="")
    print(f"# training time: {results.seconds:.0f} s")


if __name__ == "__main__":
    sys.exit(main())
