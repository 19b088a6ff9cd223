"""The training loop: learning, bitwise determinism, checkpoints (load, corrupt, resume), torchrun."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

import camlib.training.train as train_module
from camlib.utils.cache import cache_key, load_torch
from camlib.utils.errors import CamlibError
from camlib.training.train import TrainConfig, train, training_error


def top_or_bottom(n: int = 96, seed: int = 0) -> TensorDataset:
    """Class 1: a bright patch in the top half; class 0: in the bottom half (left-right flips keep the label)."""
    g = torch.Generator().manual_seed(seed)
    images = 0.1 * torch.randn(n, 3, 8, 8, generator=g)
    labels = torch.arange(n) % 2
    for i in range(n):
        row = 1 if labels[i] == 1 else 5
        col = int(torch.randint(0, 6, (1,), generator=g))
        images[i, :, row:row + 2, col:col + 2] += 1.0
    return TensorDataset(images, labels)


def tiny_net(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Dropout(0.2),
                         nn.Flatten(), nn.Linear(4 * 8 * 8, 2))


CONFIG = TrainConfig(epochs=3, batch_size=16, lr=0.05)


def weights(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_it_learns_and_reports_history():
    model = tiny_net()
    result = train(model, top_or_bottom(), TrainConfig(epochs=6, batch_size=16, lr=0.05), progress=False)
    assert [h["epoch"] for h in result.history] == [1, 2, 3, 4, 5, 6]
    assert result.history[-1]["loss"] < result.history[0]["loss"]
    assert result.history[-1]["accuracy"] >= 95.0
    assert not model.training and not result.loaded and result.seconds > 0
    test = top_or_bottom(seed=1)
    with torch.no_grad():
        accuracy = (model(test.tensors[0]).argmax(1) == test.tensors[1]).float().mean()
    assert accuracy >= 0.95


def test_same_seed_gives_bitwise_same_weights_and_another_seed_does_not():
    runs = []
    for seed in (0, 0, 1):
        model = tiny_net()
        train(model, top_or_bottom(), TrainConfig(epochs=2, batch_size=16, seed=seed), progress=False)
        runs.append(weights(model))
    assert same(runs[0], runs[1])
    assert not same(runs[0], runs[2])


def test_max_steps_stops_early():
    result = train(tiny_net(), top_or_bottom(), TrainConfig(epochs=5, batch_size=16, max_steps=2), progress=False)
    assert len(result.history) == 1


def test_checkpoint_is_loaded_not_retrained(tmp_path):
    path = tmp_path / "net.pt"
    first = tiny_net()
    trained = train(first, top_or_bottom(), CONFIG, checkpoint=path, progress=False)
    assert path.is_file() and not Path(str(path) + ".partial").exists()
    again = tiny_net(seed=9)  # other initial weights: they must be replaced by the checkpoint's
    loaded = train(again, top_or_bottom(), CONFIG, checkpoint=path, progress=False)
    assert loaded.loaded and loaded.history == trained.history
    assert loaded.seconds == trained.seconds and loaded.steps == trained.steps  # the record of the run that made it
    assert same(weights(first), weights(again)) and not again.training


def test_corrupt_checkpoint_is_rebuilt(tmp_path, capsys):
    path = tmp_path / "net.pt"
    reference = tiny_net()
    train(reference, top_or_bottom(), CONFIG, checkpoint=path, progress=False)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    rebuilt = tiny_net()
    result = train(rebuilt, top_or_bottom(), CONFIG, checkpoint=path, progress=False)
    assert "checksum mismatch" in capsys.readouterr().err  # diagnostics on stderr
    assert not result.loaded and same(weights(reference), weights(rebuilt))
    assert train(tiny_net(), top_or_bottom(), CONFIG, checkpoint=path, progress=False).loaded


def test_interrupted_run_resumes_to_the_same_weights(tmp_path, monkeypatch):
    uninterrupted = tiny_net()
    train(uninterrupted, top_or_bottom(), CONFIG, progress=False)

    path = tmp_path / "net.pt"
    real_save, saves = train_module.save_torch, []

    def save_then_crash(obj, target):
        saves.append(target)
        if len(saves) == 2:  # the second epoch's partial checkpoint: "power cut"
            raise KeyboardInterrupt
        return real_save(obj, target)

    monkeypatch.setattr(train_module, "save_torch", save_then_crash)
    with pytest.raises(KeyboardInterrupt):
        train(tiny_net(), top_or_bottom(), CONFIG, checkpoint=path, progress=False)
    monkeypatch.setattr(train_module, "save_torch", real_save)
    assert Path(str(path) + ".partial").is_file() and not path.exists()

    before = load_torch(Path(str(path) + ".partial"))["seconds"]
    resumed = tiny_net()
    result = train(resumed, top_or_bottom(), CONFIG, checkpoint=path, progress=False)
    assert [h["epoch"] for h in result.history] == [1, 2, 3]
    assert same(weights(uninterrupted), weights(resumed))
    assert 0 < before < result.seconds  # the time before the interruption counts


class Constant(nn.Module):
    """Always answers ``label``, through a dropout layer that would zero everything in train mode."""

    def __init__(self, label: int) -> None:
        super().__init__()
        self.logits = nn.Parameter(torch.nn.functional.one_hot(torch.tensor(label), 2).float())
        self.drop = nn.Dropout(1.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop(self.logits.expand(len(x), 2) + 1.0)


def test_training_error_is_the_eval_mode_error_and_leaves_the_mode_alone():
    data = TensorDataset(torch.zeros(8, 3), torch.tensor([0, 0, 0, 1, 1, 1, 1, 1]))
    model = Constant(0).train()
    assert training_error(model, data, batch_size=3) == pytest.approx(62.5)  # 5 of 8 wrong; dropout off
    assert model.training
    assert training_error(Constant(1).eval(), data) == pytest.approx(37.5)
    with pytest.raises(CamlibError, match="non-empty"):
        training_error(model, TensorDataset(torch.zeros(0, 3), torch.zeros(0, dtype=torch.long)))


def test_checkpoint_of_another_network_is_refused(tmp_path):
    path = tmp_path / "net.pt"
    train(tiny_net(), top_or_bottom(), CONFIG, checkpoint=path, progress=False)
    other = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 2))
    with pytest.raises(CamlibError, match="another network"):
        train(other, top_or_bottom(), CONFIG, checkpoint=path, progress=False)


def test_config_validation_and_run_keys():
    with pytest.raises(CamlibError, match="optimizer"):
        TrainConfig(optimizer="rmsprop")
    with pytest.raises(CamlibError, match="epochs"):
        TrainConfig(epochs=0)
    with pytest.raises(CamlibError, match="max_steps"):
        TrainConfig(max_steps=0)
    assert cache_key(net="gap", config=CONFIG) == cache_key(config=CONFIG, net="gap")
    assert cache_key(net="gap", config=CONFIG) != cache_key(net="gap", config=TrainConfig(epochs=4))


def test_adam_trains_too():
    result = train(tiny_net(), top_or_bottom(), TrainConfig(epochs=4, batch_size=16, optimizer="adam", lr=0.01), progress=False)
    assert result.history[-1]["accuracy"] >= 90.0


@pytest.mark.slow
def test_torchrun_two_processes_keep_one_model(tmp_path):
    script = tmp_path / "ddp.py"
    script.write_text(textwrap.dedent(f"""
        import sys, torch
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_train import tiny_net, top_or_bottom
        from camlib.training.train import TrainConfig, train, init_distributed
        torch.set_num_threads(1)
        model = tiny_net()
        result = train(model, top_or_bottom(), TrainConfig(epochs=2, batch_size=8), checkpoint={str(tmp_path / "ddp.pt")!r}, progress=False)
        ctx = init_distributed()
        torch.save(model.state_dict(), {str(tmp_path)!r} + f"/rank{{ctx.rank}}.pt")
        with open({str(tmp_path)!r} + f"/rank{{ctx.rank}}.txt", "w") as out:  # one file per rank: prints interleave
            out.write(f"world {{ctx.world}} steps {{len(result.history)}}")
    """))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_port=29517", str(script)],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert [(tmp_path / f"rank{r}.txt").read_text() for r in (0, 1)] == ["world 2 steps 2"] * 2
    rank0, rank1 = (torch.load(tmp_path / f"rank{r}.pt") for r in (0, 1))
    params = {name for name, _ in tiny_net().named_parameters()}  # BN running stats stay per process
    assert same({k: rank0[k] for k in params}, {k: rank1[k] for k in params})  # DDP keeps the replicas in sync
    assert same(load_torch(tmp_path / "ddp.pt")["model"], rank0)  # rank 0 wrote the checkpoint
