"""Linear SVMs on each feature after PCA to a common dimension, their test hits, and our Table 5 beside the paper's."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd
import torch
from sklearn.decomposition import PCA

from camlib.utils.errors import CamlibError
from camlib.book.paper import paper_table
from camlib.methods.probe import LinearProbe, choose_c, fit_probe
from camlib.utils.progress import progress

#: The SVM's ``C`` grid, one value per decade; a larger ``C`` takes LIBLINEAR minutes to converge on raw pixels.
SVM_C_GRID = (1e-4, 1e-3, 1e-2, 0.1)


def pca_pair(train: torch.Tensor, test: torch.Tensor, dim: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Train and test features projected on the first ``dim`` principal components of ``train`` (fitted on
    train only); features with ``dim`` or fewer columns pass through."""
    if train.shape[1] <= dim:
        return train, test
    if dim > len(train):
        raise CamlibError(f"PCA to {dim} dimensions needs at least {dim} training images, got {len(train)}")
    pca = PCA(dim, svd_solver="full").fit(train.double().numpy())
    return (torch.from_numpy(pca.transform(train.double().numpy())).float(),
            torch.from_numpy(pca.transform(test.double().numpy())).float())


def svm(train: torch.Tensor, labels: np.ndarray, seed: int = 0) -> tuple[LinearProbe, float]:
    """A linear SVM on ``train (N, K)`` and its ``C`` (of :data:`SVM_C_GRID`), chosen by 3-fold
    cross-validation on these features."""
    C = choose_c(train, labels, grid=SVM_C_GRID, seed=seed)[0]
    return fit_probe(train, labels, C=C, seed=seed), C


@dataclass
class Scores:
    """Per feature (by name): its dimension, the SVM's ``C`` and which test images it classifies right ``(N,)`` bool."""

    dimension: dict[str, int]
    C: dict[str, float]
    hits: dict[str, np.ndarray]

    def accuracy(self, name: str) -> float:
        """Test accuracy (%) of the SVM on feature ``name``."""
        return float(100.0 * self.hits[name].mean())

    def table(self) -> pd.DataFrame:
        """Dimension, test accuracy (%) and ``C`` of every feature."""
        return pd.DataFrame({"dimension": self.dimension, "test accuracy (%)": {n: self.accuracy(n) for n in self.hits},
                             "C": self.C})


def score_features(features: dict[str, tuple[torch.Tensor, torch.Tensor]], train_labels: np.ndarray,
                   test_labels: np.ndarray, dim: int) -> Scores:
    """A linear SVM (:func:`svm`) on each feature ``features[name] = (train (N, K), test (M, K))`` after PCA to ``dim``
    dimensions (fitted on train, :func:`pca_pair`), scored on the test images."""
    scores = Scores({}, {}, {})
    for name, (train, test) in progress(features.items(), desc="SVMs"):
        small = pca_pair(train, test, dim)
        probe, scores.C[name] = svm(small[0], train_labels)
        scores.dimension[name] = int(train.shape[1])
        scores.hits[name] = probe.predict(small[1]) == np.asarray(test_labels)
    return scores


def table5(scores: dict[str, Scores], rows: dict[str, Sequence[str]], paper_rows: dict[str, str]) -> pd.DataFrame:
    """Our Table 5: per row (its features, one per seed) the paper's counterpart row and that row's mean over the
    paper's 8 data sets, then per task (of ``scores``) the test accuracy (%, mean over seeds) and the seeds' range
    (highest minus lowest; 0 for one network); NaN where a task lacks the row."""
    paper = paper_table("table5_deep_features").astype(float).mean(axis=1)
    out = pd.DataFrame(index=list(rows))
    out["paper's row"] = [paper_rows.get(r, "") for r in rows]
    out["paper: mean of 8 data sets"] = [paper.get(paper_rows.get(r), np.nan) for r in rows]
    for task, score in scores.items():
        values = {r: [score.accuracy(n) for n in names if n in score.hits] for r, names in rows.items()}
        out[task] = [np.mean(v) if v else np.nan for v in values.values()]
        out[f"{task}: seed range"] = [np.ptp(v) if v else np.nan for v in values.values()]
    return out
