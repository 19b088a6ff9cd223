"""Run every benchmark and collect the results in one JSON file (default ``bench/results/cpu.json``).

Runs ``bench_cam.py`` (CAM + boxes vs the forward pass and the peers), ``bench_successors.py`` (what CAM's successors
cost against CAM), ``bench_memory.py``
(1000 repeated calls) and, when present, ``bench_maxboxacc.py``, each in its own process, then
``plot_results.py`` to redraw the book's figure from the new file.

    python bench/run_all.py [--quick] [--device cuda] [--out bench/results/cpu.json]
    python bench/run_all.py --only bench_memory     # re-run one, keep the others' results
"""
from __future__ import annotations

import argparse
import datetime
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHES = ("bench_cam", "bench_memory", "bench_maxboxacc", "bench_successors")


def run(script: str, args: list[str]) -> dict:
    """Run ``bench/script`` with ``args``; its JSON results if it writes them, else its console output."""
    path = HERE / script
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        help_text = subprocess.run([sys.executable, str(path), "--help"], capture_output=True, text=True).stdout
        command = [sys.executable, str(path), *args] + (["--json", str(out)] if "--json" in help_text else [])
        print(f"$ {' '.join(command[1:])}", flush=True)
        start = time.perf_counter()
        proc = subprocess.run(command, capture_output=True, text=True)
        print(proc.stdout, proc.stderr[-2000:] if proc.returncode else "", sep="", flush=True)
        entry = {"command": " ".join(["python", *command[1:]]).replace(str(out), "<json>"), "returncode": proc.returncode,
                 "seconds": round(time.perf_counter() - start, 1), "stdout": proc.stdout.splitlines()}
        if out.exists():
            entry["results"] = json.loads(out.read_text())
    return entry


def git_revision() -> str:
    """The commit the benchmarks ran on (``+dirty`` with uncommitted changes)."""
    rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=HERE).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain"], capture_output=True, text=True, cwd=HERE).stdout.strip()
    return (rev or "unknown") + ("+dirty" if dirty else "")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--quick", action="store_true", help="few rounds and calls: a smoke test, not results")
    parser.add_argument("--out", type=Path, default=None, help="default bench/results/<device>.json")
    parser.add_argument("--only", nargs="+", choices=BENCHES, default=None,
                        help="run only these and keep the other entries of the existing results file")
    args = parser.parse_args(argv)

    device = ["--device", args.device]
    arguments = {
        "bench_cam": device + (["--repeats", "2", "--peer-repeats", "1", "--warmup", "0"] if args.quick else []),
        "bench_memory": device + (["--calls", "20", "--every", "10", "--warmup", "2"] if args.quick else []),
        "bench_maxboxacc": ["--repeats", "1"] if args.quick else [],
        "bench_successors": ["--images", "2", "--repeats", "1", "--scorecam-batch", "256"] if args.quick else [],
    }
    out = args.out or HERE / "results" / f"{args.device}.json"
    results = json.loads(out.read_text()) if args.only and out.exists() else {}
    for name in BENCHES:  # entries kept from an earlier run keep that run's date and commit
        if name in results:
            results[name].setdefault("created", results.get("created"))
            results[name].setdefault("revision", results.get("revision"))
    results.update({"created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                    "revision": git_revision(), "quick": args.quick})
    for name in args.only or BENCHES:
        if (HERE / f"{name}.py").exists():
            results[name] = run(f"{name}.py", arguments[name]) | {"created": results["created"], "revision": results["revision"]}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {out}")
    if args.device == "cpu" and args.out is None:  # the book's figure shows the committed CPU results
        subprocess.run([sys.executable, str(HERE / "plot_results.py"), "--results", str(out)], check=True)


if __name__ == "__main__":
    main()
