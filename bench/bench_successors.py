"""Benchmark: what each of CAM's successors costs against CAM, measured side by side in one run.

Every method maps the top-``--classes`` classes of the same batch of real photos (the ImageNet samples, 224 px,
EfficientNet-Lite0) through :class:`camlib.methods.map_methods.CAMMaps` or
:class:`camlib.methods.successors.SuccessorMaps` (pytorch-grad-cam); calls are interleaved round-robin
(:func:`common.interleaved`) so a shared machine's drift hits all alike. Printed per method: seconds per image,
the ratio to CAM, and the passes through the network per image and class that the method's design needs (CAM one
forward pass for all classes; gradient methods a forward and a backward pass per class; Score-CAM a forward pass per
channel, in batches of ``--scorecam-batch``; Eigen-CAM one forward pass). Score-CAM runs on ``--scorecam-images``
images only (minutes per image on a CPU) and once.

    python bench/bench_successors.py [--images 8] [--classes 1] [--repeats 3] [--json out.json]
"""
from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import describe, interleaved, machine, photo_batch, synchronizer, write_json  # noqa: E402

from camlib.methods.map_methods import CAMMaps  # noqa: E402
from camlib.methods.successors import SUCCESSORS, SuccessorMaps  # noqa: E402
from camlib.models.pretrained import load_pretrained  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=8)
    parser.add_argument("--classes", type=int, default=1, help="classes mapped per image (top-k)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--scorecam-images", type=int, default=1)
    parser.add_argument("--scorecam-batch", type=int, default=64)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    device = torch.device("cpu")
    classifier = load_pretrained("efficientnet-lite0")
    images = photo_batch(classifier, args.images)
    with torch.no_grad():
        classes = classifier.model(images).topk(args.classes, dim=1).indices
    channels = classifier.model._fc.in_features
    stack = contextlib.ExitStack()
    methods = {"cam": stack.enter_context(CAMMaps(classifier.model)),
               **{name: stack.enter_context(SuccessorMaps(classifier.model, name, batch_size=args.scorecam_batch))
                  for name in SUCCESSORS}}
    few = slice(0, args.scorecam_images)
    calls = {name: (lambda m=m, few=(few if name == "scorecam" else slice(None)): m(images[few], classes[few]))
             for name, m in methods.items()}
    for name, call in calls.items():
        if name != "scorecam":
            call()  # warm-up
    repeats = {name: 1 if name == "scorecam" else args.repeats for name in calls}
    times = interleaved(calls, repeats, synchronizer(device))
    per_image = {name: statistics.median(t["wall"]) / (args.scorecam_images if name == "scorecam" else args.images)
                 for name, t in times.items()}
    passes = {"cam": "1 forward (all classes)", "gradcam": "1 forward + 1 backward per class",
              "gradcam++": "1 forward + 1 backward per class", "xgradcam": "1 forward + 1 backward per class",
              "layercam": "1 forward + 1 backward per class", "eigencam": "1 forward + an SVD",
              "scorecam": f"1 + {channels} forwards per class ({channels // args.scorecam_batch} batches)"}
    info = machine(device)
    print(describe(info))
    print(f"{args.images} photos at 224 px (Score-CAM: {args.scorecam_images}), {args.classes} class(es) each, "
          f"median of {args.repeats} (Score-CAM: 1)")
    print(f"{'method':<11}{'s / image':>11}{'x CAM':>9}  passes per image")
    for name, seconds in per_image.items():
        print(f"{name:<11}{seconds:>11.3f}{seconds / per_image['cam']:>9.1f}  {passes[name]}")
    stack.close()
    write_json(args.json, {"machine": info, "images": args.images, "classes": args.classes,
                           "seconds_per_image": per_image, "ratio_to_cam": {k: v / per_image["cam"] for k, v in per_image.items()}})


if __name__ == "__main__":
    main()
