"""Command line: ``camlib cam IMAGE... [--model M | --checkpoint FILE --arch M [--classes FILE]] [--device D] [--topk 5]
[--threshold 0.25] [--method cam|gradcam|...] [--boxes largest|all] [--batch-size 8] [--out DIR [--save-maps]] [--json | --jsonl]``.

Arguments are parsed and checked before torch is imported, so ``--help``, ``--version`` and argument
errors answer at once; ``--out`` is checked before any image is read. Results are printed as each
batch finishes; Ctrl-C (exit 130), SIGTERM (143), SIGHUP (129, unless ignored, as under ``nohup``) or a
closed pipe (exit 141) stop quietly, and what finished is still printed (with ``--json``, as a valid JSON
list). File names are printed as :func:`~camlib.utils.errors.printable` text (one line, any terminal),
stdout carries only results and every diagnostic goes to stderr.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any, Iterator, Sequence

from camlib import __version__
from camlib.app.defaults import (DEFAULT_FLIP, DEFAULT_METHOD, DEFAULT_MODEL, DEFAULT_THRESHOLD, MAP_METHODS,
                                  MAX_OVERLAY_PANELS)
from camlib.utils.errors import CamlibError, printable

EXIT_BROKEN_PIPE = 128 + signal.SIGPIPE  # 141, as shells report a closed pipe; a signal that stops camlib gives 128 + its number


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="camlib", description="Class Activation Mapping on your own images.")
    parser.add_argument("--version", action="version", version=f"camlib {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    cam = sub.add_parser("cam", help="top-k classes, CAMs and boxes for image files")
    cam.add_argument("images", nargs="+", help="image files (JPEG, PNG, ...); a name starting with '-' goes after '--'")
    cam.add_argument("--model", default=DEFAULT_MODEL, help=f"pretrained classifier: efficientnet-lite0, efficientnet-lite1, efficientnet-lite2 or squeezenet1_1 (default: {DEFAULT_MODEL}, chosen in chapter 3)")
    cam.add_argument("--topk", type=int, default=5, help="number of classes per image (default: 5)")
    cam.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD, help=f"box threshold as a fraction of the CAM maximum (default: {DEFAULT_THRESHOLD:g}, chosen in chapter 3; the paper's is 0.2)")
    cam.add_argument("--flip", action=argparse.BooleanOptionalAction, default=DEFAULT_FLIP, help=f"average the CAMs of the image and its mirror (default: {'on' if DEFAULT_FLIP else 'off'}, chosen in chapter 3)")
    cam.add_argument("--method", choices=MAP_METHODS, default=DEFAULT_METHOD, help="the map: cam (the paper's, one forward pass; default) or a successor computed by pytorch-grad-cam (backward passes per class; scorecam: a forward pass per channel, minutes per photo on a CPU)")
    cam.add_argument("--boxes", choices=("largest", "all"), default="largest", help="one box per class (the paper's: the largest region; default) or every instance's box (every region at least a tenth of the largest)")
    cam.add_argument("--checkpoint", default=None, help="your own fine-tuned network: a safetensors state_dict of an --arch model (any number of classes)")
    cam.add_argument("--arch", default=None, help="the architecture --checkpoint was fine-tuned from (a --model name)")
    cam.add_argument("--classes", default=None, help="with --checkpoint: a text file with one class name per line")
    cam.add_argument("--device", default="auto", help="where the network runs: auto (a GPU when there is one; default), cpu, cuda, cuda:1, ...")
    cam.add_argument("--batch-size", type=int, default=8, help="images per forward pass (default: 8)")
    cam.add_argument("--out", default=None, help="write CAM overlays with boxes to this folder (never overwriting a file)")
    cam.add_argument("--save-maps", action="store_true", help="with --out: also save each image's maps as <name>_cam.npy, (topk, H, W) float32 in [0, 1] at the network's input size (the image resized whole)")
    output = cam.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print the results as one JSON list to stdout")
    output.add_argument("--jsonl", action="store_true", help="print one JSON object per image to stdout as it finishes")
    return parser


def check_options(args: argparse.Namespace) -> None:
    """Refuse bad numeric options before any work (the model check needs the model and comes later)."""
    if args.topk < 1:
        raise CamlibError(f"--topk must be at least 1, got {args.topk}")
    if args.batch_size < 1:
        raise CamlibError(f"--batch-size must be at least 1, got {args.batch_size}")
    if not (math.isfinite(args.threshold) and 0.0 < args.threshold < 1.0):
        raise CamlibError(f"--threshold must be a fraction in (0, 1) of the CAM's maximum, got {args.threshold}")
    if args.out == "":
        raise CamlibError("--out is empty (an unset variable?); give the folder for the overlays, or leave --out out")
    if args.out is not None and args.topk > MAX_OVERLAY_PANELS:
        raise CamlibError(f"--topk {args.topk} with --out: an overlay draws at most {MAX_OVERLAY_PANELS} classes; "
                          "ask for fewer, or run without --out")
    if args.save_maps and args.out is None:
        raise CamlibError("--save-maps writes the maps beside the overlays: give --out FOLDER")
    if (args.checkpoint is None) != (args.arch is None):
        raise CamlibError("--checkpoint and --arch go together: the checkpoint's file and the architecture it was fine-tuned from")
    if args.classes is not None and args.checkpoint is None:
        raise CamlibError("--classes names the classes of a --checkpoint; the bundled models know their classes")
    if args.checkpoint is not None and args.model != DEFAULT_MODEL:
        raise CamlibError("give either --model or --checkpoint with --arch, not both")


class Reporter:
    """Prints each image's result (text, JSON lines or, at the end, one JSON list) and remembers failures."""

    def __init__(self, mode: str):
        self.mode = mode
        self.entries: list[dict[str, Any]] = []
        self.failures = 0

    def failed(self, name: str, err: CamlibError) -> None:
        self.failures += 1
        message = printable(str(err))
        print(f"camlib: error: {message}", file=sys.stderr, flush=True)
        self._add({"image": printable(name), "error": message})

    def done(self, entry: dict[str, Any]) -> None:
        if "error" in entry:  # results, but not everything asked for (an overlay)
            self.failures += 1
            print(f"camlib: error: {entry['error']}", file=sys.stderr, flush=True)
        self._add(entry)
        if self.mode == "text":
            print(f"{entry['image']} ({entry['width']}x{entry['height']})")
            for p in entry["predictions"]:
                print(f"  {p['prob']:6.3f}  {p['label']:<30s} box={p['box']}"
                      + (f" instances={p['instances']}" if len(p.get("instances", [])) > 1 else ""))
            if "overlay" in entry:
                print(f"  overlay: {entry['overlay']}")
            if "maps" in entry:
                print(f"  maps: {entry['maps']}")
            sys.stdout.flush()

    def _add(self, entry: dict[str, Any]) -> None:
        self.entries.append(entry)
        if self.mode == "jsonl":
            print(json.dumps(entry), flush=True)

    def finish(self) -> None:
        if self.mode == "json":
            print(json.dumps(self.entries, indent=2), flush=True)


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def run_cam(args: argparse.Namespace, report: Reporter) -> None:
    """Run CAM on every image, a batch at a time; a bad image is reported and the others still run."""
    check_options(args)
    out = None
    if args.out is not None:
        from camlib.utils.outputs import check_output_folder

        out = check_output_folder(Path(args.out))

    from dataclasses import asdict

    from camlib.app.localize import as_rgb_image, localize_batch
    from camlib.utils.outputs import resolved
    from camlib.utils.progress import progress

    classifier = _classifier(args)
    if args.topk > len(classifier.class_names):
        raise CamlibError(f"--topk {args.topk} exceeds the model's {len(classifier.class_names)} classes")
    inputs = {resolved(Path(name)) for name in args.images}  # a link loop among them is reported when it is read
    with progress(total=len(args.images), desc="camlib cam", unit="image", disable=None) as bar:
        for chunk in _chunks(args.images, args.batch_size):
            outcome: list[dict[str, Any] | CamlibError] = []
            loaded = []
            for name in chunk:
                try:
                    loaded.append((len(outcome), name, as_rgb_image(Path(name))))
                    outcome.append({})
                except CamlibError as err:
                    outcome.append(err)
            try:
                found = localize_batch(classifier, [image for _, _, image in loaded], args.topk, args.threshold, args.flip,
                                       args.boxes, args.method)
            except CamlibError as err:
                found = [err] * len(loaded)
            for (i, name, image), loc in zip(loaded, found):
                if isinstance(loc, CamlibError):
                    outcome[i] = loc
                    continue
                predictions = [{k: v for k, v in asdict(p).items() if v is not None} for p in loc.predictions]
                outcome[i] = {"image": printable(name), "width": image.width, "height": image.height,
                              "predictions": predictions}
                if out is not None:
                    try:
                        outcome[i]["overlay"] = printable(_save_overlay(loc, name, out, inputs))
                        if args.save_maps:
                            outcome[i]["maps"] = printable(_save_maps(loc, name, out, inputs))
                    except OSError as err:  # disk full, folder removed, ...: keep the results, report the file
                        outcome[i]["error"] = printable(f"{name}: overlay not written to {out} ({err.strerror or err})")
            for name, result in zip(chunk, outcome):  # in input order
                if isinstance(result, CamlibError):
                    report.failed(name, result)
                else:
                    report.done(result)
            bar.update(len(chunk))


def _classifier(args: argparse.Namespace):
    """The network the command runs, on ``--device``: a bundled one, or ``--checkpoint`` on ``--arch``."""
    import torch

    from camlib.app.own_models import load_checkpoint, read_class_names
    from camlib.models.pretrained import load_pretrained

    device = _device(args.device, torch)
    if args.checkpoint is not None:
        names = read_class_names(args.classes) if args.classes is not None else None
        classifier = load_checkpoint(Path(args.checkpoint), args.arch, names)
    else:
        classifier = load_pretrained(args.model)
    classifier.model.to(device)
    return classifier


def _device(name: str, torch: Any) -> Any:
    """``--device``: ``auto`` is the first GPU when there is one, else the CPU; a GPU that is absent is refused."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError):
        raise CamlibError(f"--device {name!r} is not a device; use auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda" and (not torch.cuda.is_available() or (device.index or 0) >= torch.cuda.device_count()):
        raise CamlibError(f"--device {name}: no such GPU here ({torch.cuda.device_count()} visible); use --device cpu or auto")
    if device.type not in ("cpu", "cuda"):
        raise CamlibError(f"--device {name}: camlib runs on cpu or cuda")
    return device


def _save_maps(loc, name: str, out: Path, inputs: set[Path]) -> Path:
    import io

    import numpy as np

    from camlib.cam.compute import unit_maps
    from camlib.utils.outputs import write_new_file

    buffer = io.BytesIO()
    np.save(buffer, unit_maps(loc.cams).numpy().astype(np.float32), allow_pickle=False)
    return write_new_file(out, Path(name).stem, "_cam.npy", buffer.getvalue(), avoid=inputs)


def _save_overlay(loc, name: str, out: Path, inputs: set[Path]) -> Path:
    from camlib.utils.outputs import write_new_file
    from camlib.app.overlays import overlay_png

    return write_new_file(out, Path(name).stem, "_cam.png", overlay_png(loc, Path(name).name), avoid=inputs)


def _quiet_stdout() -> None:
    """After a closed pipe: send what is left for stdout to /dev/null, so exiting prints no error."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout without a file descriptor (captured in tests)
        pass


class Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP, handled as Ctrl-C is: what finished is printed, then camlib exits ``128 + signal``."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


_STOP_SIGNALS = tuple(s for s in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None)) if s is not None)


def _stop(signum: int, frame: Any) -> None:
    raise Stopped(signum)


def _ignore_stop_signals() -> None:
    """Ignore SIGTERM and SIGHUP until :func:`_stop_signals` puts the handlers before back."""
    if threading.current_thread() is threading.main_thread():
        for s in _STOP_SIGNALS:
            signal.signal(s, signal.SIG_IGN)


@contextlib.contextmanager
def _stop_signals() -> Iterator[None]:
    """Turn SIGTERM and SIGHUP into :class:`Stopped` while the command runs (a signal someone chose to ignore,
    as ``nohup`` does SIGHUP, stays ignored); the handlers before are put back after."""
    if threading.current_thread() is not threading.main_thread():  # signal handlers belong to the main thread
        yield
        return
    before = {s: signal.getsignal(s) for s in _STOP_SIGNALS}
    for s in _STOP_SIGNALS:
        if before[s] is not signal.SIG_IGN:
            signal.signal(s, _stop)
    try:
        yield
    finally:
        for s, handler in before.items():
            signal.signal(s, handler)


def _tolerant_stdout() -> None:
    """Let stdout write any text: a character its encoding lacks (``PYTHONIOENCODING=ascii``) is escaped, not an error."""
    with contextlib.suppress(AttributeError, ValueError, OSError):
        sys.stdout.reconfigure(errors="backslashreplace")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``camlib`` command."""
    args = _parser().parse_args(argv)
    _tolerant_stdout()
    report = Reporter("json" if args.json else "jsonl" if args.jsonl else "text")
    with _stop_signals():
        try:
            try:
                run_cam(args, report)
            except KeyboardInterrupt as stop:
                signum = stop.signum if isinstance(stop, Stopped) else signal.SIGINT
                _ignore_stop_signals()  # a second SIGTERM while the results are printed does not cut them
                report.finish()
                print(f"camlib: {'interrupted' if signum == signal.SIGINT else 'stopped by ' + signal.Signals(signum).name}", file=sys.stderr)
                return 128 + signum
            except CamlibError as err:
                report.finish()
                print(f"camlib: error: {printable(str(err))}", file=sys.stderr)
                return 2
            report.finish()
        except BrokenPipeError:
            _quiet_stdout()
            return EXIT_BROKEN_PIPE
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
