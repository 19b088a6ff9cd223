"""The "simple baseline for VQA" (Zhou et al. 2015) on GAP features, as the paper plugs it in (Sec. 4.2).

A question's bag-of-words vector ``q (V,)`` is concatenated with its image's GAP feature ``F (K,)``
and one linear softmax layer scores every answer::

    s_a = sum_v u_{a,v} q_v + sum_k w_{a,k} F_k + b_a

Because ``F_k`` is the spatial mean of the conv map ``f_k(x, y)``, the image part of the score is the
mean of the answer's CAM ``M_a(x, y) = sum_k w_{a,k} f_k(x, y)``: the image region that raised the
chosen answer. The question-only and image-only baselines are the same layer on one of the two parts.

Images are given once each, ``images (N, K)``, with ``image_index (Q,)`` naming each question's image
(several questions share an image, so the image part is computed once per image).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from camlib.chapters.ch10_vqa.bow import AnswerVocabulary
from camlib.utils.errors import CamlibError

Inputs = Literal["question+image", "question", "image"]
INPUTS: tuple[str, ...] = ("question+image", "question", "image")
#: (bag of words (Q, V), GAP features of the images (N, K), image index (Q,), answer labels (Q,)).
Split = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _check(questions: torch.Tensor, images: torch.Tensor, image_index: torch.Tensor) -> None:
    if questions.ndim != 2 or images.ndim != 2 or image_index.ndim != 1 or len(image_index) != len(questions):
        raise CamlibError(f"need questions (Q, V), images (N, K) and image_index (Q,); got {tuple(questions.shape)}, "
                          f"{tuple(images.shape)} and {tuple(image_index.shape)}")
    if len(image_index) and (int(image_index.min()) < 0 or int(image_index.max()) >= len(images)):
        raise CamlibError(f"image_index must lie in 0..{len(images) - 1} (one row of images per image)")


@dataclass
class SimpleBaseline:
    """A trained linear softmax over answers, with the input standardisation folded into its weights.

    question_weight (A, V) and image_weight (A, K) act on the raw inputs (width 0 for a part the
    model does not use); bias (A,).
    """

    question_weight: torch.Tensor
    image_weight: torch.Tensor
    bias: torch.Tensor
    vocabulary: AnswerVocabulary
    inputs: str

    def logits(self, questions: np.ndarray | torch.Tensor, images: np.ndarray | torch.Tensor,
               image_index: np.ndarray | torch.Tensor) -> torch.Tensor:
        """Answer scores (Q, A) from bag-of-words ``questions`` (Q, V), GAP ``images`` (N, K) and ``image_index`` (Q,)."""
        q = torch.as_tensor(questions, dtype=torch.float32)
        f = torch.as_tensor(images, dtype=torch.float32)
        index = torch.as_tensor(image_index, dtype=torch.long)
        _check(q, f, index)
        for name, x, w in (("questions", q, self.question_weight), ("images", f, self.image_weight)):
            if w.shape[1] and x.shape[1] != w.shape[1]:
                raise CamlibError(f"{name} has {x.shape[1]} columns; the model expects {w.shape[1]}")
        image_part = f[:, :self.image_weight.shape[1]] @ self.image_weight.T
        return q[:, :self.question_weight.shape[1]] @ self.question_weight.T + image_part[index] + self.bias

    def predict(self, questions: np.ndarray | torch.Tensor, images: np.ndarray | torch.Tensor,
                image_index: np.ndarray | torch.Tensor) -> np.ndarray:
        """int64 (Q,): the highest-scoring answer of each question."""
        return self.logits(questions, images, image_index).argmax(dim=1).numpy()

    def answer(self, questions: np.ndarray | torch.Tensor, images: np.ndarray | torch.Tensor,
               image_index: np.ndarray | torch.Tensor) -> list[str]:
        """The predicted answer strings."""
        return self.vocabulary.decode(self.predict(questions, images, image_index))


def _standardise(x: torch.Tensor, weights: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and std (clamped at 1e-6) of the rows of ``x`` counted ``weights`` times each."""
    total = weights.sum()
    mean = weights @ x / total
    std = (weights @ (x - mean).pow(2) / (total - 1).clamp_min(1)).sqrt().clamp_min(1e-6)
    return mean, std


def train_simple_baseline(
    questions: np.ndarray,
    images: np.ndarray,
    image_index: np.ndarray,
    labels: np.ndarray,
    vocabulary: AnswerVocabulary,
    inputs: Inputs = "question+image",
    l2: float = 1e-3,
    max_iter: int = 100,
) -> SimpleBaseline:
    """Fit the softmax layer by full-batch L-BFGS (at most ``max_iter`` iterations) on standardised inputs.

    Minimises mean cross-entropy + ``l2 * ||W||^2`` over the questions whose label is not -1 (answers
    outside the vocabulary). ``questions`` (Q, V), ``images`` (N, K), ``image_index`` (Q,), ``labels`` (Q,).
    """
    if inputs not in INPUTS:
        raise CamlibError(f"inputs must be one of {INPUTS}, got {inputs!r}")
    labels = torch.as_tensor(np.asarray(labels), dtype=torch.long)
    keep = labels >= 0
    if len(labels) != len(questions) or not keep.any():
        raise CamlibError(f"need one label per question ({len(questions)}) and at least one in the vocabulary; got {len(labels)} labels")
    q = torch.as_tensor(questions, dtype=torch.float32)[keep] if "question" in inputs else torch.zeros(int(keep.sum()), 0)
    f = torch.as_tensor(images, dtype=torch.float32) if "image" in inputs else torch.zeros(len(images), 0)
    index = torch.as_tensor(np.asarray(image_index), dtype=torch.long)
    _check(torch.zeros(len(labels), 0), f, index)
    index, y = index[keep], labels[keep]
    q_mean, q_std = _standardise(q, torch.ones(len(q)))
    f_mean, f_std = _standardise(f, torch.bincount(index, minlength=len(f)).float())
    zq, zf = (q - q_mean) / q_std, (f - f_mean) / f_std
    wq = torch.zeros(len(vocabulary), q.shape[1], requires_grad=True)
    wf = torch.zeros(len(vocabulary), f.shape[1], requires_grad=True)
    bias = torch.zeros(len(vocabulary), requires_grad=True)
    optimizer = torch.optim.LBFGS([wq, wf, bias], lr=1.0, max_iter=max_iter, history_size=20,
                                  tolerance_grad=1e-7, tolerance_change=1e-10, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        logits = zq @ wq.T + (zf @ wf.T)[index] + bias
        loss = F.cross_entropy(logits, y) + l2 * (wq.pow(2).sum() + wf.pow(2).sum())
        loss.backward()
        return loss

    optimizer.step(closure)
    with torch.no_grad():
        wq, wf = wq / q_std, wf / f_std
        folded_bias = bias - wq @ q_mean - wf @ f_mean
    return SimpleBaseline(wq.detach(), wf.detach(), folded_bias.detach(), vocabulary, inputs)


def select_l2(
    train: Split,
    val: Split,
    vocabulary: AnswerVocabulary,
    inputs: Inputs = "question+image",
    grid: Sequence[float] = (1e-3, 1e-2, 1e-1),
    max_iter: int = 100,
) -> tuple[SimpleBaseline, dict[float, float]]:
    """Train one model per ``l2`` in ``grid`` on ``train`` (see :data:`Split`; at most ``max_iter`` L-BFGS
    iterations each) and keep the one with the best top-1 accuracy on ``val`` (ties: the smaller penalty).
    Returns it and {l2: val accuracy %}.
    """
    if not grid:
        raise CamlibError("the l2 grid is empty")
    best, scores = None, {}
    for l2 in sorted(grid):
        model = train_simple_baseline(*train, vocabulary, inputs=inputs, l2=l2, max_iter=max_iter)
        scores[l2] = 100.0 * float(np.mean(model.predict(*val[:3]) == val[3]))
        if best is None or scores[l2] > best[0]:
            best = (scores[l2], model)
    return best[1], scores
