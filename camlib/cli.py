"""Command line: ``camlib cam IMAGE... [--model efficientnet-lite0|efficientnet-lite1|efficientnet-lite2|squeezenet1_1] [--topk 5] [--threshold 0.2] [--out DIR] [--json]``."""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Sequence

from .errors import BadImageError, CamlibError

#: Longest side over shortest side beyond which an image is refused: ``localize`` resizes the shorter
#: side to the network's input size, so a 1x10000 strip would become a 224x2,240,000 input.
MAX_ASPECT = 20


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="camlib", description="Class Activation Mapping on your own images.")
    sub = parser.add_subparsers(dest="command", required=True)
    cam = sub.add_parser("cam", help="top-k classes, CAMs and boxes for image files")
    cam.add_argument("images", nargs="+", help="image files (JPEG, PNG, ...)")
    cam.add_argument("--model", default="efficientnet-lite0", help="pretrained classifier: efficientnet-lite0 (default), efficientnet-lite1, efficientnet-lite2 or squeezenet1_1")
    cam.add_argument("--topk", type=int, default=5, help="number of classes per image (default: 5)")
    cam.add_argument("--threshold", type=float, default=0.2, help="box threshold as a fraction of the CAM maximum (default: 0.2)")
    cam.add_argument("--out", type=Path, default=None, help="write CAM overlays with boxes to this folder")
    cam.add_argument("--json", action="store_true", help="print results as JSON to stdout")
    return parser


def _save_overlay(loc, path: Path, threshold: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .localize import boxes_in_input
    from .plots import show_cams

    titles = [f"{p.label} {p.prob:.2f}" for p in loc.predictions]
    fig = show_cams(loc.input_image, loc.cams, titles, boxes=boxes_in_input(loc, threshold)[:, None, :])
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def check_aspect(path: str | Path, width: int, height: int) -> None:
    """Refuse images more than :data:`MAX_ASPECT` times longer than wide (or the reverse)."""
    if max(width, height) > MAX_ASPECT * min(width, height):
        raise BadImageError(path, f"image is {width}x{height}, more elongated than {MAX_ASPECT}:1; crop it to the object first")


def _overlay_path(out: Path, name: str, taken: set[Path]) -> Path:
    """``out/<stem>_cam.png``, numbered when two inputs share a file name so none is overwritten."""
    stem, number = Path(name).stem, 1
    path = out / f"{stem}_cam.png"
    while path in taken:
        number += 1
        path = out / f"{stem}_{number}_cam.png"
    taken.add(path)
    return path


def run_cam(args: argparse.Namespace) -> int:
    """Run CAM on each image; a bad image is reported on stderr and the others still run."""
    from .boxes import check_threshold
    from .images import load_image
    from .localize import localize
    from .models.pretrained import load_pretrained

    check_threshold(args.threshold)
    if args.topk < 1:
        raise CamlibError(f"--topk must be at least 1, got {args.topk}")
    if args.out is not None and args.out.exists() and not args.out.is_dir():
        raise CamlibError(f"--out {args.out} is a file; give a folder for the overlays")
    classifier = load_pretrained(args.model)
    if args.topk > len(classifier.class_names):
        raise CamlibError(f"--topk {args.topk} exceeds the model's {len(classifier.class_names)} classes")
    results, failures, overlays = [], 0, set()
    for name in args.images:
        try:
            image = load_image(name)
            check_aspect(name, image.width, image.height)
            loc = localize(classifier, image, topk=args.topk, threshold=args.threshold)
        except CamlibError as err:
            print(f"camlib: error: {err}", file=sys.stderr)
            failures += 1
            continue
        if args.out is not None:
            _save_overlay(loc, _overlay_path(args.out, name, overlays), args.threshold)
        results.append({"image": str(name), "width": image.width, "height": image.height,
                        "predictions": [asdict(p) for p in loc.predictions]})
        if not args.json:
            print(f"{name} ({image.width}x{image.height})")
            for p in loc.predictions:
                print(f"  {p.prob:6.3f}  {p.label:<30s} box={p.box}")
    if args.json:
        print(json.dumps(results, indent=2))
    return 1 if failures else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``camlib`` command."""
    args = _parser().parse_args(argv)
    try:
        return run_cam(args)
    except CamlibError as err:
        print(f"camlib: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
