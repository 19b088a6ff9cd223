"""Training a classifier with cross-entropy: seeded, resumable, on one CPU, one GPU or many.

* Reproducible: the same seed gives bitwise the same weights on the same machine (shuffling and
  flips come from generators seeded by ``(seed, epoch)``, not from global state).
* Cached: a finished run is saved atomically (:mod:`camlib.utils.cache`) and loaded instead of retrained;
  a corrupt checkpoint is reported and the run rebuilt. Each epoch also leaves a resumable
  ``<checkpoint>.partial`` that the next call continues from.
* Scales out: under ``torchrun`` (``WORLD_SIZE`` set) it uses ``torch.distributed`` with
  ``DistributedDataParallel`` and a ``DistributedSampler``; on CUDA it uses mixed precision
  (``torch.autocast``) and DataLoader workers.
"""
from __future__ import annotations

import math
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset, DistributedSampler

from camlib.utils.cache import load_torch, save_torch
from camlib.utils.errors import CamlibError, CorruptFileError
from camlib.utils.progress import progress as progress_bar


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters of one run. ``batch_size`` is per process; ``max_steps`` cuts a run short
    (smoke tests); ``workers=None`` means 0 on the CPU and 4 per GPU; ``amp`` only acts on CUDA.

    ``schedule``: cosine decay of the learning rate over ``epochs``, or constant. ``plateau``: stop
    once the training loss fell by less than ``plateau`` times the first epoch's loss over the last
    ``patience`` epochs (the curve has flattened on a linear scale); ``epochs`` is then the most it may take.
    """

    epochs: int = 10
    batch_size: int = 64
    optimizer: Literal["sgd", "adam"] = "sgd"
    lr: float = 0.05
    momentum: float = 0.9
    weight_decay: float = 5e-4
    flip: bool = True
    seed: int = 0
    amp: bool = True
    workers: int | None = None
    max_steps: int | None = None
    schedule: Literal["cosine", "constant"] = "cosine"
    plateau: float | None = None
    patience: int = 3

    def __post_init__(self) -> None:
        if self.schedule not in ("cosine", "constant"):
            raise CamlibError(f"schedule must be 'cosine' or 'constant', got {self.schedule!r}")
        if self.plateau is not None and not (0 < self.plateau < 1 and self.patience >= 1):
            raise CamlibError(f"plateau is a fraction in (0, 1) of the first epoch's loss, with patience >= 1; got {self.plateau}, {self.patience}")
        if self.optimizer not in ("sgd", "adam"):
            raise CamlibError(f"optimizer must be 'sgd' or 'adam', got {self.optimizer!r}")
        if self.epochs < 1 or self.batch_size < 1 or self.lr <= 0:
            raise CamlibError(f"need epochs >= 1, batch_size >= 1 and lr > 0; got {self.epochs}, {self.batch_size}, {self.lr}")
        if self.max_steps is not None and self.max_steps < 1:
            raise CamlibError(f"max_steps must be None or >= 1, got {self.max_steps}")


#: A network counts as converged when its training error (%) is below this: comparisons that rest on a network above
#: it test the training budget, not the design. (A fixed budget leaves a fitted network a few percent of its
#: training images to go; an untrained one is far above.) The error is that of the trained network as it is used, in
#: eval mode (:func:`training_error`): the last epoch's running error counts dropout's noise as error.
CONVERGED_ERROR = 10.0


@dataclass
class TrainResult:
    """``history``: one dict per epoch (``loss``, ``accuracy`` in percent on the training batches, in train mode);
    ``seconds``: training time (of the run that made a loaded checkpoint, when loaded); ``loaded``: whether it
    came from the checkpoint; ``steps``: optimizer steps taken; ``fitted_error``: the trained network's error (%)
    on its training set in eval mode (:func:`training_error`), when it was measured."""

    history: list[dict[str, float]] = field(default_factory=list)
    seconds: float = 0.0
    loaded: bool = False
    steps: int = 0
    fitted_error: float | None = None


# -- distributed context ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Context:
    """Where this process trains: its rank among ``world`` processes and its device."""

    rank: int
    world: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def init_distributed() -> Context:
    """Join the process group when launched by ``torchrun`` (``WORLD_SIZE`` > 1), else a single process.

    NCCL on CUDA, Gloo on the CPU; each process uses GPU ``LOCAL_RANK``.
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    cuda = torch.cuda.is_available()
    if world > 1 and not dist.is_initialized():
        dist.init_process_group(backend="nccl" if cuda else "gloo")
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if cuda:
        torch.cuda.set_device(local)
    device = torch.device(f"cuda:{local}" if cuda else "cpu")
    if dist.is_initialized():
        return Context(dist.get_rank(), dist.get_world_size(), device)
    return Context(0, 1, device)


def _barrier(ctx: Context) -> None:
    if ctx.world > 1:
        dist.barrier()


# -- checkpoints -----------------------------------------------------------------------------------
def _partial_path(checkpoint: Path) -> Path:
    return checkpoint.with_name(checkpoint.name + ".partial")


def _try_load(path: Path | None) -> dict | None:
    """A checkpoint dict, or ``None`` when missing or corrupt (corrupt ones are reported)."""
    if path is None or not path.is_file():
        return None
    try:
        return load_torch(path)
    except CorruptFileError as err:
        print(f"camlib: {err}; retraining", file=sys.stderr)
        return None


def _load_weights(model: nn.Module, state: dict, path: Path) -> None:
    try:
        model.load_state_dict(state)
    except RuntimeError as err:
        raise CamlibError(f"{path} holds weights of another network ({str(err).splitlines()[0]}); "
                          "delete it or give this run another checkpoint path") from None


# -- the loop --------------------------------------------------------------------------------------
def flattened(history: list[dict[str, float]], config: TrainConfig) -> bool:
    """Whether the stopping rule of ``config.plateau`` holds after the epochs of ``history``: over the
    last ``patience`` epochs the loss fell by less than ``plateau`` times the first epoch's loss."""
    if config.plateau is None or len(history) <= config.patience:
        return False
    drop = history[-1 - config.patience]["loss"] - history[-1]["loss"]
    return drop < config.plateau * history[0]["loss"]


def _flip_batch(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Mirror a random half of ``(B, 3, H, W)`` images left-right."""
    flip = torch.rand(images.shape[0], generator=generator) < 0.5
    return torch.where(flip.to(images.device)[:, None, None, None], images.flip(-1), images)


def _optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    if config.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    return torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay)


def _amp_dtype(ctx: Context, config: TrainConfig) -> torch.dtype | None:
    if not (config.amp and ctx.device.type == "cuda"):
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def train(
    model: nn.Module,
    dataset: Dataset,
    config: TrainConfig = TrainConfig(),
    checkpoint: str | Path | None = None,
    desc: str = "train",
    progress: bool = True,
) -> TrainResult:
    """Train ``model`` in place on ``dataset`` (items ``(image (3, H, W), label, ...)``); returns the history.

    With ``checkpoint``, a finished run saved there is loaded instead of retrained, and an
    interrupted one resumes from ``<checkpoint>.partial``. The model ends on this process's device,
    in eval mode. Under ``torchrun`` every process calls this; only rank 0 writes files.
    """
    ctx = init_distributed()
    path = Path(checkpoint) if checkpoint is not None else None
    model.to(ctx.device)
    done = _try_load(path)
    if done is not None:
        _load_weights(model, done["model"], path)
        model.eval()
        return TrainResult(history=done["history"], seconds=float(done.get("seconds", 0.0)), loaded=True,
                           steps=int(done.get("steps", 0)))
    if len(dataset) < ctx.world:
        raise CamlibError(f"the dataset has {len(dataset)} items, fewer than the {ctx.world} processes")

    sampler = DistributedSampler(dataset, num_replicas=ctx.world, rank=ctx.rank, shuffle=True, seed=config.seed)
    workers = config.workers if config.workers is not None else (4 if ctx.device.type == "cuda" else 0)
    per_process = len(sampler)
    drop_last = per_process > config.batch_size
    loader = DataLoader(dataset, batch_size=config.batch_size, sampler=sampler, num_workers=workers,
                        pin_memory=ctx.device.type == "cuda", drop_last=drop_last, persistent_workers=workers > 0)
    steps_per_epoch = len(loader)
    total = steps_per_epoch * config.epochs if config.max_steps is None else min(config.max_steps, steps_per_epoch * config.epochs)

    optimizer = _optimizer(model, config)
    cosine = config.schedule == "cosine"
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: 0.5 * (1 + math.cos(math.pi * min(step, total) / total)) if cosine else 1.0)
    amp_dtype = _amp_dtype(ctx, config)
    scaler = torch.amp.GradScaler("cuda", enabled=amp_dtype == torch.float16)
    net = DistributedDataParallel(model, device_ids=[ctx.device.index] if ctx.device.type == "cuda" else None) if ctx.world > 1 else model

    history: list[dict[str, float]] = []
    start_epoch, step, earlier_seconds = 0, 0, 0.0  # earlier_seconds: training time before a resume
    partial = _try_load(_partial_path(path)) if path is not None else None
    if partial is not None:
        _load_weights(model, partial["model"], _partial_path(path))
        optimizer.load_state_dict(partial["optimizer"])
        scheduler.load_state_dict(partial["scheduler"])
        scaler.load_state_dict(partial["scaler"])
        torch.set_rng_state(partial["rng"])
        history, start_epoch, step = partial["history"], partial["epoch"], partial["step"]
        earlier_seconds = float(partial.get("seconds", 0.0))
    _barrier(ctx)  # every rank has read the partial checkpoint before rank 0 replaces it

    started = time.perf_counter()
    bar = progress_bar(total=total, desc=desc, initial=step, disable=not (progress and ctx.is_main))
    for epoch in range(start_epoch, config.epochs):
        if step >= total or flattened(history, config):
            break
        sampler.set_epoch(epoch)
        flips = torch.Generator().manual_seed(config.seed * 100_003 + epoch)
        net.train()
        sums = torch.zeros(3, dtype=torch.float64, device=ctx.device)  # loss sum, correct, count
        for batch in loader:
            if step >= total:
                break
            images = batch[0].to(ctx.device, non_blocking=True)
            labels = torch.as_tensor(batch[1]).to(ctx.device, non_blocking=True)
            if config.flip:
                images = _flip_batch(images, flips)
            with torch.autocast(ctx.device.type, dtype=amp_dtype or torch.float32, enabled=amp_dtype is not None):
                logits = net(images)
                loss = F.cross_entropy(logits.float(), labels)
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            scheduler.step()
            step += 1
            bar.update(1)
            sums += torch.stack([loss.detach().double() * len(labels),
                                 (logits.argmax(1) == labels).sum().double(),
                                 torch.tensor(float(len(labels)), dtype=torch.float64, device=ctx.device)])
        if ctx.world > 1:
            dist.all_reduce(sums)
        loss_sum, correct, count = sums.tolist()
        history.append({"epoch": epoch + 1, "loss": loss_sum / max(count, 1), "accuracy": 100.0 * correct / max(count, 1)})
        if path is not None and ctx.is_main:
            save_torch({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                        "scheduler": scheduler.state_dict(), "scaler": scaler.state_dict(),
                        "rng": torch.get_rng_state(), "history": history, "epoch": epoch + 1, "step": step,
                        "seconds": earlier_seconds + time.perf_counter() - started},
                       _partial_path(path))
    bar.close()
    seconds = earlier_seconds + time.perf_counter() - started
    model.eval()
    if path is not None and ctx.is_main:
        save_torch({"model": model.state_dict(), "history": history, "config": asdict(config), "seconds": seconds,
                    "steps": step}, path)
        for leftover in (_partial_path(path), _partial_path(path).with_name(_partial_path(path).name + ".sha256")):
            leftover.unlink(missing_ok=True)
    _barrier(ctx)
    return TrainResult(history=history, seconds=seconds, steps=step)


def training_error(model: nn.Module, dataset: Dataset, batch_size: int = 64) -> float:
    """Top-1 error (%) of ``model`` in eval mode (dropout off, batch norm's running statistics) on ``dataset`` (items
    ``(input, label, ...)``), in order and unaugmented: how well the trained network fits the data it learnt from,
    which the running accuracy of :class:`TrainResult`'s history (train mode) understates for a network with dropout."""
    if len(dataset) == 0:
        raise CamlibError("training_error needs a non-empty dataset")
    device = next(model.parameters()).device
    was_training, wrong = model.training, 0
    model.eval()
    with torch.no_grad():
        for batch in DataLoader(dataset, batch_size=batch_size, shuffle=False):
            labels = torch.as_tensor(batch[1]).to(device)
            wrong += int((model(batch[0].to(device)).argmax(1) != labels).sum())
    model.train(was_training)
    return 100.0 * wrong / len(dataset)
