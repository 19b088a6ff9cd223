"""Linear SVM probes: the folded standardisation, predictions and CAMs from the SVM's weights."""
import numpy as np
import pytest
import torch
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from camlib.utils.errors import CamlibError
from camlib.methods.probe import LinearProbe, choose_c, fit_probe


def blobs(seed: int = 0, n: int = 60, k: int = 5, classes: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Well-separated clusters on very different feature scales (so standardisation matters)."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % classes
    centres = rng.normal(size=(classes, k)) * 4
    scales = np.array([1.0, 100.0, 0.01, 10.0, 1.0])[:k]
    return (centres[labels] + rng.normal(size=(n, k))) * scales, labels


def test_folded_standardisation_matches_sklearn_pipeline():
    x, y = blobs()
    probe = fit_probe(x, y, C=0.5, standardize=True)
    reference = make_pipeline(StandardScaler(), LinearSVC(C=0.5, dual="auto", max_iter=20000, random_state=0)).fit(x, y)
    assert probe.weight.shape == (3, 5) and probe.bias.shape == (3,)
    np.testing.assert_allclose(probe.decision_function(x).numpy(), reference.decision_function(x), rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(probe.predict(x), reference.predict(x))
    assert probe.accuracy(x, y) == 100.0


def test_folding_by_hand():
    # Two features with mean (1, 2) and std (1, 2) over the training set: the folded weights are
    # w / std and the bias absorbs -w . mean / std. Check against the SVM fitted on standardised data.
    x = np.array([[0.0, 0.0], [2.0, 4.0], [0.0, 4.0], [2.0, 0.0]])
    y = np.array([0, 1, 1, 0])
    probe = fit_probe(x, y, standardize=True)
    svm = LinearSVC(dual="auto", max_iter=20000, random_state=0).fit((x - [1.0, 2.0]) / [1.0, 2.0], y)
    np.testing.assert_allclose(probe.weight.numpy()[0], svm.coef_[0] / [1.0, 2.0], rtol=1e-6)
    np.testing.assert_allclose(probe.bias.numpy()[0], svm.intercept_[0] - svm.coef_[0] @ [1.0, 1.0], rtol=1e-6)
    # The label depends on the second feature only.
    assert abs(probe.weight[0, 0]) < 1e-6 < probe.weight[0, 1]


def test_binary_probe_has_one_row_and_string_labels():
    x = np.array([[0.0], [1.0], [3.0], [4.0]])
    probe = fit_probe(x, np.array(["no", "no", "yes", "yes"]), standardize=False)
    assert probe.binary and probe.weight.shape == (1, 1)
    assert list(probe.classes) == ["no", "yes"]
    assert list(probe.predict([[0.5], [3.5]])) == ["no", "yes"]
    assert probe.decision_function([[3.5]]).shape == (1, 1)
    assert probe.rows(["yes", "no"]).tolist() == [0, 0]


def test_cams_localise_the_evidence_and_average_to_the_score():
    # Hand-made probe: class 0 is scored by channel 0, class 1 by channel 1.
    probe = LinearProbe(torch.tensor([[2.0, 0.0], [0.0, 3.0]]), torch.tensor([0.5, -1.0]), np.array([0, 1]))
    maps = torch.zeros(1, 2, 3, 4)
    maps[0, 1, 1, 2] = 12.0  # only channel 1 fires, at row 1, column 2: pooled features (0, 1)
    # Scores: class 0 = 2 * 0 + 0.5 = 0.5, class 1 = 3 * 1 - 1 = 2, so class 1 is predicted.
    torch.testing.assert_close(probe.decision_function(maps.mean(dim=(2, 3))), torch.tensor([[0.5, 2.0]]))
    cams = probe.cams(maps)
    assert cams.shape == (1, 1, 3, 4)
    expected = torch.zeros(3, 4)
    expected[1, 2] = 36.0  # w = 3 times f = 12, nowhere else
    torch.testing.assert_close(cams[0, 0], expected)
    both = probe.cams(maps, classes=[0, 1])
    assert both.shape == (1, 2, 3, 4) and both[0, 0].abs().sum() == 0
    torch.testing.assert_close(both.mean(dim=(2, 3)) + probe.bias, probe.decision_function(maps.mean(dim=(2, 3))))
    torch.testing.assert_close(probe.cams(maps, topk=2), both.flip(1))  # top-2 order: class 1, then 0
    torch.testing.assert_close(probe.cams(maps, classes=torch.tensor([[0]])), both[:, :1])


def test_rows_map_labels_to_weight_rows():
    probe = LinearProbe(torch.zeros(3, 2), torch.zeros(3), np.array([10, 20, 30]))
    assert probe.rows([30, 10]).tolist() == [2, 0]
    with pytest.raises(CamlibError, match="not one of the probe's classes"):
        probe.rows([40])


def test_bad_input_raises_readable_errors():
    x, y = blobs()
    with pytest.raises(CamlibError, match="at least two classes"):
        fit_probe(x, np.zeros(len(x)))
    with pytest.raises(CamlibError, match="labels must be"):
        fit_probe(x, y[:-1])
    with pytest.raises(CamlibError, match=r"\(N, K\)"):
        fit_probe(x[:, :, None], y)
    with pytest.raises(CamlibError, match="NaN"):
        fit_probe(np.full_like(x, np.nan), y)
    probe = fit_probe(x, y)
    with pytest.raises(CamlibError, match="K=4"):
        probe.predict(x[:, :4])
    with pytest.raises(CamlibError, match=r"\(N, K, h, w\)"):
        probe.cams(torch.zeros(2, 5, 3))
    with pytest.raises(CamlibError, match="out of range"):
        probe.cams(torch.zeros(2, 5, 3, 3), classes=[3])


def test_unstandardised_probe_is_the_plain_svm():
    x, y = blobs()
    probe = fit_probe(x, y, C=0.01)
    svm = LinearSVC(C=0.01, dual="auto", max_iter=20000, random_state=0).fit(x, y)
    np.testing.assert_allclose(probe.weight.numpy(), svm.coef_, rtol=1e-5)
    np.testing.assert_allclose(probe.bias.numpy(), svm.intercept_, rtol=1e-5, atol=1e-6)


def test_choose_c_prefers_the_smallest_of_equally_good_values():
    x, y = blobs(n=90)
    best, scores = choose_c(x, y, grid=(10.0, 1.0), standardize=True)
    assert list(scores) == [1.0, 10.0] and scores[1.0] == scores[10.0] == 100.0  # separable at both
    assert best == 1.0
    # Labels that no feature explains: the validation accuracy is about chance, whatever C.
    noise = np.random.default_rng(1).integers(0, 2, len(x))
    _, scores = choose_c(x, noise, grid=(1e-3,))
    assert 20.0 < scores[1e-3] < 80.0
    with pytest.raises(CamlibError, match="per class"):
        choose_c(x[:4], y[:4])
