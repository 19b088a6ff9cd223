"""IoU, classification error and the ILSVRC localization rule, with hand-computed answers."""
from __future__ import annotations

import numpy as np
import pytest

from camlib import CamlibError
from camlib.metrics import LocalizationEvaluator, iou, topk_error


def test_iou_by_hand():
    a = np.array([[0, 0, 4, 4]])
    b = np.array([[2, 2, 6, 6], [0, 0, 4, 4], [10, 10, 12, 12]])
    # overlap 2x2=4, union 16+16-4=28
    np.testing.assert_allclose(iou(a, b), [[4 / 28, 1.0, 0.0]])
    assert iou([0, 0, 2, 2], [1, 0, 3, 2])[0, 0] == pytest.approx(2 / 6)


def test_iou_rejects_bad_boxes():
    with pytest.raises(CamlibError, match="x1 < x0"):
        iou([[4, 0, 2, 2]], [[0, 0, 1, 1]])
    with pytest.raises(CamlibError, match=r"\(N, 4\)"):
        iou([[0, 0, 1]], [[0, 0, 1, 1]])


def test_topk_error():
    logits = np.array([[0.9, 0.1, 0.0], [0.1, 0.2, 0.7], [0.3, 0.6, 0.1]])
    labels = np.array([0, 1, 2])
    assert topk_error(logits, labels, 1) == pytest.approx(100 * 2 / 3)
    assert topk_error(logits, labels, 2) == pytest.approx(100 * 1 / 3)
    assert topk_error(logits, labels, 3) == 0.0


def test_localization_rule_class_and_box_must_both_be_right():
    ev = LocalizationEvaluator()
    gt_boxes = [np.array([[0, 0, 10, 10]]), np.array([[0, 0, 10, 10], [20, 20, 30, 30]]), np.array([[0, 0, 10, 10]])]
    gt_labels = [np.array([3]), np.array([5, 5]), np.array([1])]
    good, bad = [0, 0, 10, 10], [50, 50, 60, 60]
    pred_classes = np.array([
        [3, 0, 0, 0, 0],   # right class, right box at guess 1
        [1, 5, 2, 2, 2],   # right class at guess 2, its box matches the SECOND gt box
        [1, 0, 0, 0, 0],   # right class, wrong box: a miss at every k
    ])
    pred_boxes = np.array([
        [good, bad, bad, bad, bad],
        [good, [20, 20, 30, 30], bad, bad, bad],
        [bad, good, good, good, good],
    ], dtype=float)
    known = np.array([good, [21, 21, 30, 30], bad], dtype=float)
    ev.accumulate(pred_classes, pred_boxes, gt_labels, gt_boxes, gt_known_boxes=known)
    result = ev.compute()
    assert result.top1_error == pytest.approx(100 * 2 / 3)
    assert result.top5_error == pytest.approx(100 * 1 / 3)
    assert result.gt_known_accuracy == pytest.approx(100 * 2 / 3)
    assert result.count == 3


def test_localization_strict_inputs():
    ev = LocalizationEvaluator()
    with pytest.raises(CamlibError, match="nothing accumulated"):
        ev.compute()
    with pytest.raises(CamlibError, match="pred_boxes"):
        ev.accumulate(np.zeros((1, 5)), np.zeros((1, 4, 4)), [np.array([0])], [np.zeros((1, 4))])
    with pytest.raises(CamlibError, match="batch sizes"):
        ev.accumulate(np.zeros((2, 1)), np.zeros((2, 1, 4)), [np.array([0])], [np.zeros((1, 4))])


def _feed(evaluator) -> None:
    """One batch of the right kind for each evaluator."""
    from camlib.metrics import PxAP

    maps = np.zeros((1, 6, 6))
    maps[0, 1:4, 1:4] = 1.0
    if isinstance(evaluator, LocalizationEvaluator):
        evaluator.accumulate(np.array([[1]]), np.array([[[1, 1, 4, 4]]]), [np.array([1])], [np.array([[1, 1, 4, 4]])])
    elif isinstance(evaluator, PxAP):
        evaluator.accumulate(maps, maps > 0.5)
    else:
        evaluator.accumulate(maps, [np.array([[1, 1, 4, 4.0]])])


@pytest.mark.parametrize("name", ["LocalizationEvaluator", "MaxBoxAcc", "MaxBoxAccV2", "PxAP"])
def test_every_evaluator_has_accumulate_compute_reset(name):
    import camlib.metrics as metrics

    evaluator = getattr(metrics, name)()
    with pytest.raises(CamlibError):
        evaluator.compute()  # nothing yet
    _feed(evaluator)
    first = evaluator.compute()
    _feed(evaluator)
    evaluator.reset()
    with pytest.raises(CamlibError):
        evaluator.compute()
    _feed(evaluator)
    again = evaluator.compute()
    value = (lambda r: r.top1_error) if name == "LocalizationEvaluator" else (lambda r: r.value)
    assert value(again) == value(first)
    for method in ("accumulate", "compute", "reset"):
        assert getattr(type(evaluator), method).__doc__
