"""Tables 1-3 at full scale: fine-tune a *-GAP network on ILSVRC2012 and evaluate it on val.

    python -m camlib.chapters.ch04_trained_networks.full_scale --backbone googlenet [--pooling max] [--extra-convs 2] \\
        --data data/full/ILSVRC2012 --out runs/wsol [--epochs 3 --batch-size 64 --lr 0.01] [--backprop]
    torchrun --nproc_per_node=8 -m camlib.chapters.ch04_trained_networks.full_scale --backbone vgg16 ...   # many GPUs

The trunk starts from torchvision's ImageNet weights (``--weights DEFAULT``; ``none`` trains from
scratch), the GAP head from scratch. Training images are resized to ``--image-size`` squared
(with random flips); evaluation resizes the whole val image the same way and scales its boxes.
The trained network is cached in ``<out>/<name>.pt``; the numbers go to ``<out>/<name>.json``
and the table rows to ``<out>/<name>.csv``. The evaluation is the CPU-scale chapter's code.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, fields, is_dataclass, replace
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
import pandas as pd
import torch
import torchvision
from torch import nn

from camlib.chapters.ch04_trained_networks.claims_table import Roles
from camlib.chapters.ch04_trained_networks.results import Classification, Examples, Results
from camlib.data.sets.ilsvrc import ImageNetLocalization
from camlib.data.assets.paths import cache_dir, full_dir
from camlib.utils.cache import cache_key
from camlib.utils.errors import CamlibError
from camlib.evaluation.batches import EvalBatch, dataset_batches, resized_input, scale_boxes
from camlib.evaluation.evaluate import Evaluation, evaluate, evaluate_gt_known
from camlib.methods.map_methods import BackpropMaps, CAMMaps, CentreMaps
from camlib.models.gap import gap_network
from camlib.models.preprocess import resize_rgb
from camlib.book.paper_tables import table1, table2, threshold_summary
from camlib.training.train import TrainConfig, TrainResult, init_distributed, train

BACKBONES = {"vgg16": "VGGnet", "googlenet": "GoogLeNet", "alexnet": "AlexNet"}


@dataclass(frozen=True)
class FullScaleRun:
    """One network of Tables 1-3: ``<Backbone>[*]-GAP`` or ``-GMP`` (``*``: extra conv layers)."""

    backbone: str
    pooling: str = "avg"
    extra_convs: int = 0
    weights: str | None = "DEFAULT"
    image_size: int = 224

    def __post_init__(self) -> None:
        if self.backbone not in BACKBONES:
            raise CamlibError(f"unknown backbone {self.backbone!r}; choose one of {', '.join(BACKBONES)}")
        if self.image_size < 32:
            raise CamlibError(f"image_size must be at least 32 pixels, got {self.image_size}")

    @property
    def name(self) -> str:
        """The paper's row name, e.g. ``GoogLeNet-GAP``, ``AlexNet*-GAP``."""
        star = "*" if self.extra_convs else ""
        return f"{BACKBONES[self.backbone]}{star}-{'GMP' if self.pooling == 'max' else 'GAP'}"


def _jsonable(obj):
    """Dataclasses (their shown fields: not an evaluation's per-image record), arrays and numbers as plain JSON values."""
    if is_dataclass(obj):
        return {f.name: _jsonable(getattr(obj, f.name)) for f in fields(obj) if f.repr}
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def rows_frame(evaluations: dict[str, Evaluation]) -> pd.DataFrame:
    """One row per evaluation: Table 1 and 2 columns, Table 3's heuristics top-5 and the threshold summary."""
    heuristics = [e.heuristics.top5_error if e.heuristics is not None else np.nan for e in evaluations.values()]
    parts = [table1(evaluations).add_prefix("cls "), table2(evaluations).add_prefix("loc "),
             pd.DataFrame({"loc top5 heuristics": heuristics}, index=list(evaluations)),
             threshold_summary(evaluations).add_prefix("GT-known ")]
    return pd.concat(parts, axis=1)


@dataclass
class FineTuned:
    """A fine-tuned network, where it is cached, its class count and its training record."""

    model: nn.Module
    checkpoint: Path
    num_classes: int
    training: TrainResult


def fine_tune(run_spec: FullScaleRun, root: str | Path, out: str | Path, config: TrainConfig) -> FineTuned:
    """Fine-tune (or load) ``run_spec``'s network on ILSVRC train."""
    train_set = ImageNetLocalization(root, "train", transform=resized_input(run_spec.image_size),
                                     progress=init_distributed().is_main)
    num_classes = len(train_set.class_names)
    model = gap_network(run_spec.backbone, num_classes, pooling=run_spec.pooling,
                        extra_convs=run_spec.extra_convs, weights=run_spec.weights)
    key = cache_key(run=run_spec, config=config, data=Path(root).resolve(), classes=num_classes)
    checkpoint = Path(out) / f"{run_spec.name}-{key}.pt"
    training = train(model, train_set, config, checkpoint=checkpoint, desc=f"fine-tune {run_spec.name}")
    return FineTuned(model, checkpoint, num_classes, training)


def val_batches(root: str | Path, image_size: int, batch_size: int = 64, workers: int = 0) -> Iterator[EvalBatch]:
    """ILSVRC val, every image resized to ``image_size`` squared, boxes scaled with it."""
    val = ImageNetLocalization(root, "val", transform=resized_input(image_size), progress=False)
    return dataset_batches(val, image_size, batch_size, workers)


def evaluate_on_val(name: str, model: nn.Module, root: str | Path, num_classes: int, image_size: int,
                    cam: bool = True, backprop: bool = False, batch_size: int = 64, workers: int = 0) -> dict[str, Evaluation]:
    """``{name: CAM evaluation, "Backprop on <name>": gradient saliency evaluation}`` (as asked) on ILSVRC val."""
    device = init_distributed().device
    results = {}
    if cam:
        results[name] = evaluate(CAMMaps(model.to(device).eval()), val_batches(root, image_size, batch_size, workers),
                                 num_classes, desc=f"evaluate {name}")
    if backprop:
        results[f"Backprop on {name}"] = evaluate(BackpropMaps(model.to(device).eval()),
                                                  val_batches(root, image_size, batch_size, workers), num_classes,
                                                  released=False, true_class_only=True, desc=f"backprop {name}")
    return results


def run(run_spec: FullScaleRun, root: str | Path, out: str | Path, config: TrainConfig,
        backprop: bool = False, eval_batch_size: int = 64, workers: int = 4) -> dict[str, Evaluation]:
    """The command: fine-tune (or load) ``run_spec``'s network, evaluate it on val and write
    ``<out>/<name>.json`` and ``.csv``; returns ``{row: Evaluation}`` on rank 0, ``{}`` on the others."""
    tuned = fine_tune(run_spec, root, out, config)
    if not init_distributed().is_main:
        return {}
    results = evaluate_on_val(run_spec.name, tuned.model, root, tuned.num_classes, run_spec.image_size, backprop=backprop,
                              batch_size=eval_batch_size, workers=workers)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{run_spec.name}.json").write_text(json.dumps(
        {"run": _jsonable(run_spec), "config": _jsonable(config), "checkpoint": str(tuned.checkpoint),
         "evaluations": _jsonable(results)}, indent=1))
    rows_frame(results).to_csv(out / f"{run_spec.name}.csv")
    return results


#: The fine-tuned networks of the chapter at full scale.
CHAPTER_RUNS = (FullScaleRun("googlenet"), FullScaleRun("googlenet", "max"), FullScaleRun("vgg16"),
                FullScaleRun("alexnet"), FullScaleRun("alexnet", extra_convs=2))
#: The original torchvision classifiers: GoogLeNet (7x7 map, CAM-able) and the backprop baselines.
ORIGINALS = {"GoogLeNet": "googlenet", "VGGnet": "vgg16", "AlexNet": "alexnet"}
_TUNED = [r.name for r in CHAPTER_RUNS]
PAPER_ROWS = {
    "table1": {name: name for name in _TUNED + list(ORIGINALS)},
    "table2": {name: name for name in _TUNED + ["GoogLeNet"] + [f"Backprop on {n}" for n in ORIGINALS]},
    "table3": {"GoogLeNet-GAP (heuristics)": "GoogLeNet-GAP (heuristics)", "GoogLeNet-GAP": "GoogLeNet-GAP",
               "Backprop on GoogLeNet": "Backprop (Simonyan et al.)"},
}
ROLES = Roles(gap="GoogLeNet-GAP", gmp="GoogLeNet-GMP", low_res="GoogLeNet", extra_convs="AlexNet*-GAP",
              extra_base="AlexNet-GAP", fc="AlexNet", fc_base="AlexNet-GAP",
              backprop=tuple(f"Backprop on {n}" for n in ORIGINALS))


def original_network(backbone: str, weights: str | None = "DEFAULT") -> nn.Module:
    """torchvision's original classifier (GoogLeNet without auxiliary heads)."""
    if backbone == "googlenet":
        return torchvision.models.googlenet(weights=weights, aux_logits=False, init_weights=weights is None)
    return getattr(torchvision.models, backbone)(weights=weights)


def _examples(root: str | Path, image_size: int, count: int) -> Examples:
    val = ImageNetLocalization(root, "val", transform=np.asarray, progress=False)
    items = [val[i] for i in range(min(count, len(val)))]
    return Examples(np.stack([resize_rgb(image, image_size, image_size) for image, *_ in items]), np.array([label for _, label, *_ in items]),
                    [scale_boxes(boxes.numpy(), tuple(size.tolist()), image_size) for _, _, boxes, size in items],
                    val.class_names)


def chapter_results(root: str | Path | None = None, out: str | Path | None = None,
                    config: TrainConfig = TrainConfig(epochs=3, batch_size=64, lr=0.01),
                    image_size: int = 224, weights: str | None = "DEFAULT", examples: int = 6,
                    runs: Sequence[FullScaleRun] = CHAPTER_RUNS, originals: dict[str, str] = ORIGINALS) -> Results:
    """The chapter at full scale (``CAMLIB_SCALE=full``): fine-tune (or load) ``runs`` and evaluate
    them and the ``originals`` on ILSVRC val, in the CPU-scale chapter's format (rows the paper
    has; the claims need every default row)."""
    root = Path(root) if root is not None else full_dir() / "ILSVRC2012"
    out = Path(out) if out is not None else cache_dir() / "wsol-full"
    evaluations, methods, training, seconds = {}, {}, {}, 0.0
    for spec in (replace(r, weights=weights, image_size=image_size) for r in runs):
        tuned = fine_tune(spec, root, out, config)
        evaluations.update(evaluate_on_val(spec.name, tuned.model, root, tuned.num_classes, image_size))
        methods[spec.name] = CAMMaps(tuned.model.eval())
        seconds += tuned.training.seconds
        training[spec.name] = tuned.training
    for name, backbone in originals.items():
        model = original_network(backbone, weights).to(init_distributed().device).eval()
        has_cam = name == "GoogLeNet"  # the only original with a GAP head
        evaluations.update(evaluate_on_val(name, model, root, 1000, image_size, cam=has_cam, backprop=True))
        methods[f"Backprop on {name}"] = BackpropMaps(model)
        if has_cam:
            methods[name] = CAMMaps(model)
    classification = {**{r.name: evaluations[r.name] for r in runs},
                      **{n: evaluations[n if n in methods else f"Backprop on {n}"] for n in originals}}
    localization = {row: evaluations[row] for row in PAPER_ROWS["table2"] if row in evaluations}
    return Results({row: [Classification.of(e)] for row, e in classification.items()},  # one seed per network
                   {row: [e] for row, e in localization.items()},
                   evaluate_gt_known(CentreMaps(), val_batches(root, image_size)), PAPER_ROWS, ROLES,
                   {row: methods[row] for row in localization}, _examples(root, image_size, examples), seconds,
                   {row: [fit] for row, fit in training.items()})


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m camlib.chapters.ch04_trained_networks.full_scale", description=__doc__.splitlines()[0])
    p.add_argument("--backbone", choices=sorted(BACKBONES), required=True)
    p.add_argument("--pooling", choices=["avg", "max"], default="avg", help="avg: *-GAP (default); max: *-GMP")
    p.add_argument("--extra-convs", type=int, default=0, help="extra conv layers before GAP (2 gives AlexNet*-GAP)")
    p.add_argument("--data", type=Path, default=full_dir() / "ILSVRC2012", help="ILSVRC2012 root (train/, val/, val_xml/)")
    p.add_argument("--out", type=Path, default=Path("runs/wsol"), help="checkpoints and result tables")
    p.add_argument("--weights", default="DEFAULT", help="torchvision trunk weights, or 'none' to start from scratch")
    p.add_argument("--image-size", type=int, default=224)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=64, help="per process")
    p.add_argument("--optimizer", choices=["sgd", "adam"], default="sgd")
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--max-steps", type=int, default=None, help="stop training after this many steps (smoke tests)")
    p.add_argument("--workers", type=int, default=None, help="DataLoader workers (default: 4 on GPU, 0 on CPU)")
    p.add_argument("--backprop", action="store_true", help="also evaluate gradient saliency on the trained network")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; prints the result rows on rank 0."""
    args = _parser().parse_args(argv)
    try:
        spec = FullScaleRun(args.backbone, args.pooling, args.extra_convs,
                            None if args.weights.lower() == "none" else args.weights, args.image_size)
        config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, optimizer=args.optimizer, lr=args.lr,
                             max_steps=args.max_steps, workers=args.workers)
        workers = args.workers if args.workers is not None else (4 if torch.cuda.is_available() else 0)
        results = run(spec, args.data, args.out, config, backprop=args.backprop, workers=workers)
    except CamlibError as err:
        print(f"camlib: error: {err}", file=sys.stderr)
        return 2
    if results:
        with pd.option_context("display.width", 200, "display.max_columns", 50, "display.precision", 2):
            print(rows_frame(results).T)
    return 0


if __name__ == "__main__":
    sys.exit(main())
