"""Benchmark: ``camlib cam`` throughput (images/s) against the plain batched forward pass of its network.

Writes N photos (640x480 JPEGs made from scikit-image's sample pictures) to a temporary folder,
then times, in one process and after a warm-up of each:

- ``cli``: ``camlib cam FILES --batch-size B --jsonl`` (reading, decoding, resizing, the forward pass
  with CAMs, boxes, JSON lines; the model load is timed apart and left out);
- ``forward``: the same images already decoded and resized, ``model(batch)`` in batches of B.

The two alternate ``--repeats`` times (the machine's load drifts less between neighbours); medians are printed.

    python bench/bench_cli.py [--images 64] [--batch-size 16] [--repeats 3] [--out]
"""
from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import tempfile
import time
from pathlib import Path

import torch
from PIL import Image
from skimage import data

from camlib.app.cli import main as camlib_main
from camlib.models.pretrained import load_pretrained
from camlib.models.preprocess import preprocess

SAMPLES = (data.coffee, data.astronaut, data.chelsea, data.rocket)


def write_photos(folder: Path, count: int) -> list[str]:
    names = []
    for i in range(count):
        photo = Image.fromarray(SAMPLES[i % len(SAMPLES)]()).resize((640, 480)).rotate(3 * i)
        path = folder / f"photo{i:03d}.jpg"
        photo.save(path, quality=90)
        names.append(str(path))
    return names


def time_cli(names: list[str], batch_size: int, out: Path | None) -> float:
    argv = ["cam", *names, "--batch-size", str(batch_size), "--jsonl", "--topk", "5"]
    argv += ["--out", str(out)] if out is not None else []
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        code = camlib_main(argv)
    if code != 0:
        raise SystemExit(f"camlib cam failed with exit {code}")
    return time.perf_counter() - start


def time_forward(model: torch.nn.Module, batches: list[torch.Tensor]) -> float:
    start = time.perf_counter()
    with torch.inference_mode():
        for batch in batches:
            model(batch)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", action="store_true", help="also write the overlays")
    args = parser.parse_args()
    torch.set_num_threads(max(1, torch.get_num_threads()))

    start = time.perf_counter()
    classifier = load_pretrained("efficientnet-lite0")
    load_s = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        names = write_photos(folder, args.images)
        inputs = [preprocess(Image.open(n).convert("RGB"), classifier.mean, classifier.std, resize=classifier.crop, crop=None)[0]
                  for n in names]
        batches = [torch.stack(inputs[i:i + args.batch_size]) for i in range(0, len(inputs), args.batch_size)]
        time_forward(classifier.model, batches[:1])  # warm-up
        time_cli(names[: args.batch_size], args.batch_size, None)  # warm-up (loads the model once more)
        forward, cli = [], []
        for _ in range(args.repeats):
            forward.append(time_forward(classifier.model, batches))
            cli.append(time_cli(names, args.batch_size, folder / "overlays" if args.out else None) - load_s)
    forward_s, cli_s = statistics.median(forward), statistics.median(cli)
    print(f"{args.images} photos 640x480, batch size {args.batch_size}, torch threads {torch.get_num_threads()}, median of {args.repeats}")
    print(f"model load (left out of cli): {load_s:.2f} s")
    print(f"{'':<10}{'seconds':>10}{'images/s':>10}")
    print(f"{'forward':<10}{forward_s:>10.2f}{args.images / forward_s:>10.1f}")
    print(f"{'cli':<10}{cli_s:>10.2f}{args.images / cli_s:>10.1f}")
    print(f"cli / forward throughput: {forward_s / cli_s:.2f}")


if __name__ == "__main__":
    main()
