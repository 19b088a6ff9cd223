"""Linear SVM probes on GAP features, and their CAMs (Sec. 4 of the paper).

A pretrained GAP network is a fixed feature extractor: a linear SVM (LIBLINEAR, one-vs-all, as
in the paper) is trained on the globally pooled features ``F_k = mean_xy f_k(x, y)`` and its
weights give CAMs exactly like a softmax layer's do: ``M_c(x, y) = sum_k w_k^c f_k(x, y)``.

Standardisation: features are scaled to zero mean, unit variance on the training set only, and
the scaling is folded back into the weights (``w_k / sigma_k``, bias ``b - sum_k w_k mu_k / sigma_k``).
The probe therefore acts on raw features, and ``mean_xy M_c + b_c`` is exactly its decision value:
a CAM shows the evidence of the very classifier that was scored, not of a rescaled stand-in.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from camlib.cam.compute import class_activation_maps, select_classes
from camlib.utils.errors import CamlibError


def _as_tensor(features: np.ndarray | torch.Tensor, ndim: int, name: str, shape: str) -> torch.Tensor:
    tensor = features.detach().cpu() if isinstance(features, torch.Tensor) else torch.from_numpy(np.asarray(features))
    if tensor.ndim != ndim:
        raise CamlibError(f"{name} must be {shape}, got shape {tuple(tensor.shape)}")
    if not tensor.is_floating_point():
        tensor = tensor.float()
    if not torch.isfinite(tensor).all():
        raise CamlibError(f"{name} contains NaN or infinite values")
    return tensor


@dataclass
class LinearProbe:
    """A linear classifier on raw GAP features.

    Attributes:
        weight: ``(C, K)`` one row per one-vs-all classifier; a binary probe has a single row
            scoring ``classes[1]`` (positive) against ``classes[0]``.
        bias: ``(C,)``.
        classes: the label values, ``(C,)`` (binary: ``(2,)``); row ``i`` scores ``classes[i]``.
    """

    weight: torch.Tensor
    bias: torch.Tensor
    classes: np.ndarray

    @property
    def binary(self) -> bool:
        """Whether this is a two-class probe with one weight row."""
        return len(self.classes) == 2 and self.weight.shape[0] == 1

    def _check(self, features: np.ndarray | torch.Tensor) -> torch.Tensor:
        x = _as_tensor(features, 2, "features", "(N, K)")
        if x.shape[1] != self.weight.shape[1]:
            raise CamlibError(f"features have K={x.shape[1]} channels but the probe was fit on K={self.weight.shape[1]}")
        return x

    def decision_function(self, features: np.ndarray | torch.Tensor) -> torch.Tensor:
        """Scores ``(N, C)`` of features ``(N, K)`` (binary: ``(N, 1)``, > 0 means the positive class)."""
        x = self._check(features).to(torch.float64)
        return (x @ self.weight.to(torch.float64).T + self.bias.to(torch.float64)).float()

    def predict(self, features: np.ndarray | torch.Tensor) -> np.ndarray:
        """Predicted labels ``(N,)`` (values from :attr:`classes`)."""
        scores = self.decision_function(features)
        index = (scores[:, 0] > 0).long() if self.binary else scores.argmax(dim=1)
        return self.classes[index.numpy()]

    def accuracy(self, features: np.ndarray | torch.Tensor, labels: Sequence | np.ndarray) -> float:
        """Accuracy in percent of :meth:`predict` against ``labels`` ``(N,)``."""
        labels = np.asarray(labels)
        predicted = self.predict(features)
        if labels.shape != predicted.shape:
            raise CamlibError(f"labels have shape {labels.shape}; expected ({len(predicted)},) to match the features")
        return float(100.0 * np.mean(predicted == labels))

    def rows(self, labels: Sequence | np.ndarray) -> torch.Tensor:
        """The weight row ``(N,)`` that scores each label (binary: row 0 for either label)."""
        labels = np.asarray(labels)
        if self.binary:
            return torch.zeros(len(labels), dtype=torch.long)
        lookup = {label: i for i, label in enumerate(self.classes.tolist())}
        unknown = [lab for lab in labels.tolist() if lab not in lookup]
        if unknown:
            raise CamlibError(f"label {unknown[0]!r} is not one of the probe's classes {self.classes.tolist()}")
        return torch.tensor([lookup[lab] for lab in labels.tolist()], dtype=torch.long)

    def cams(
        self,
        maps: np.ndarray | torch.Tensor,
        classes: torch.Tensor | Sequence[int] | int | None = None,
        topk: int | None = None,
    ) -> torch.Tensor:
        """CAMs ``(N, C', h, w)`` of conv features ``(N, K, h, w)`` from the probe's weights.

        ``classes`` are weight rows (see :meth:`rows`): one index, a list shared by the batch or an
        ``(N, C')`` tensor; ``None`` takes each image's ``topk`` (default 1) highest-scoring rows.
        ``cams(...).mean((2, 3)) + bias[row]`` equals :meth:`decision_function` of the pooled maps.
        """
        maps = _as_tensor(maps, 4, "maps", "(N, K, h, w)")
        if maps.shape[1] != self.weight.shape[1]:
            raise CamlibError(f"maps have K={maps.shape[1]} channels but the probe was fit on K={self.weight.shape[1]}")
        if classes is None:
            chosen = select_classes(self.decision_function(maps.mean(dim=(2, 3))), None, topk)
        else:
            chosen = select_classes(torch.zeros(len(maps), self.weight.shape[0]), classes)
        return class_activation_maps(maps.float(), self.weight.float(), chosen)


#: Regularisation strengths tried by :func:`choose_c` (LIBLINEAR's ``C``).
C_GRID = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0)
#: A coarser grid, one value per decade (the pattern-discovery chapters use it with 5 folds).
DECADE_C_GRID = (1e-3, 1e-2, 0.1, 1.0)


def fit_probe(
    features: np.ndarray | torch.Tensor,
    labels: Sequence | np.ndarray,
    C: float = 1.0,
    standardize: bool = False,
    max_iter: int = 20000,
    seed: int = 0,
) -> LinearProbe:
    """Fit a one-vs-all linear SVM (scikit-learn's ``LinearSVC``, i.e. LIBLINEAR) on ``features (N, K)``.

    Like the paper (LIBLINEAR on GAP features), features are used as they are by default;
    ``standardize`` scales each feature on these training features only and folds the scaling
    into the returned weights (see the module docstring). Choose ``C`` with :func:`choose_c`.
    """
    x = _as_tensor(features, 2, "features", "(N, K)").to(torch.float64).numpy()
    y = np.asarray(labels)
    if y.shape != (len(x),):
        raise CamlibError(f"labels must be ({len(x)},) to match the features, got shape {y.shape}")
    if len(np.unique(y)) < 2:
        raise CamlibError(f"a probe needs at least two classes; the labels hold only {np.unique(y).tolist()}")
    if C <= 0:
        raise CamlibError(f"C must be positive, got {C}")
    mean, scale = np.zeros(x.shape[1]), np.ones(x.shape[1])
    if standardize:
        scaler = StandardScaler().fit(x)
        mean, scale = scaler.mean_, scaler.scale_
    svm = LinearSVC(C=C, dual="auto", max_iter=max_iter, random_state=seed)
    svm.fit((x - mean) / scale, y)
    weight = svm.coef_ / scale
    bias = svm.intercept_ - (svm.coef_ * (mean / scale)).sum(axis=1)
    return LinearProbe(torch.from_numpy(weight).float(), torch.from_numpy(bias).float(), svm.classes_)


def choose_c(
    features: np.ndarray | torch.Tensor,
    labels: Sequence | np.ndarray,
    grid: Sequence[float] = C_GRID,
    folds: int = 3,
    standardize: bool = False,
    seed: int = 0,
) -> tuple[float, dict[float, float]]:
    """Pick ``C`` by stratified ``folds``-fold cross-validation on the training features only.

    Returns the best ``C`` (the smallest among ties) and the mean validation accuracy (percent) of each.
    """
    x = _as_tensor(features, 2, "features", "(N, K)")
    y = np.asarray(labels)
    if y.shape != (len(x),):
        raise CamlibError(f"labels must be ({len(x)},) to match the features, got shape {y.shape}")
    if not grid:
        raise CamlibError("choose_c needs at least one value of C in grid")
    smallest = int(np.unique(y, return_counts=True)[1].min())
    if smallest < folds:
        raise CamlibError(f"{folds}-fold cross-validation needs at least {folds} examples per class; the rarest has {smallest}")
    splits = list(StratifiedKFold(folds, shuffle=True, random_state=seed).split(np.zeros(len(y)), y))
    scores = {}
    for c in sorted(grid):
        accuracies = [fit_probe(x[fit], y[fit], C=c, standardize=standardize, seed=seed).accuracy(x[held], y[held])
                      for fit, held in splits]
        scores[float(c)] = float(np.mean(accuracies))
    best = max(scores.values())
    return next(c for c, v in scores.items() if v == best), scores
