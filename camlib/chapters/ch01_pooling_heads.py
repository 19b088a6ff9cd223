"""Chapter 1's experiment: the same small trunk with a GAP, a GMP or a fully connected head."""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch.utils.data import TensorDataset

from camlib.data.paths import cache_dir
from camlib.inference import predict_logits
from camlib.metrics import topk_error
from camlib.models.gap import count_parameters
from camlib.models.small import small_network
from camlib.train import TrainConfig, run_key, train

#: Head name -> the small network that carries it (:mod:`camlib.models.small`).
HEADS = {"GAP": "gap", "GMP": "gmp", "fully connected": "fc"}


def as_rgb_batch(images: np.ndarray, size: int = 32) -> torch.Tensor:
    """Grayscale uint8 ``(N, h, w)`` -> float ``(N, 3, size, size)`` in [0, 1], zero-padded to ``size``."""
    x = torch.from_numpy(images).float().div_(255.0).unsqueeze(1)
    pad_h, pad_w = size - x.shape[-2], size - x.shape[-1]
    x = F.pad(x, (pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2))
    return x.expand(-1, 3, -1, -1).contiguous()


def compare_heads(
    train_images: np.ndarray,
    train_labels: np.ndarray,
    test_images: np.ndarray,
    test_labels: np.ndarray,
    config: TrainConfig = TrainConfig(epochs=3, batch_size=128, optimizer="adam", lr=0.002, weight_decay=0.0, flip=False),
    seed: int = 0,
) -> pd.DataFrame:
    """Train each head of :data:`HEADS` on the same data from the same initial trunk; report test error.

    Images are grayscale uint8 ``(N, h, w)`` (e.g. Fashion-MNIST). Checkpoints are cached.
    Returns a table with the head's parameters, the whole network's, the training error of the last
    epoch and the top-1 / top-2 test error (%).
    """
    num_classes = int(train_labels.max()) + 1
    x_train, x_test = as_rgb_batch(train_images), as_rgb_batch(test_images)
    dataset = TensorDataset(x_train, torch.from_numpy(train_labels).long())
    key = run_key(data=[len(train_images), int(train_images.sum()), len(test_images)], config=config, seed=seed)
    rows = {}
    for head, name in HEADS.items():
        model = small_network(name, num_classes, input_size=x_train.shape[-1], seed=seed)
        fit = train(model, dataset, config, checkpoint=cache_dir() / "heads" / f"{name}-{key}.pt", desc=f"train {head}")
        logits = predict_logits(model, x_test)
        trunk = count_parameters(model.trunk)
        rows[head] = {
            "head parameters": count_parameters(model) - trunk,
            "all parameters": count_parameters(model),
            "train error, last epoch": 100.0 - fit.history[-1]["accuracy"],
            "top-1 error": topk_error(logits, test_labels, 1),
            "top-2 error": topk_error(logits, test_labels, 2),
        }
    return pd.DataFrame.from_dict(rows, orient="index")
