"""Per-trial preprocessing and the label-free window features of the linear read-outs."""
import numpy as np
import pytest

from fmriemo.data import preprocess


@pytest.fixture
def X():
    rng = np.random.default_rng(1)
    base = rng.uniform(2000, 12000, size=(1, 246, 1))
    return (base + 30 * rng.standard_normal((12, 246, 25))).astype(np.float32)


def test_minmax_trial(X):
    Z = preprocess.minmax_trial(X)
    assert np.allclose(Z.min(axis=(1, 2)), 0) and np.allclose(Z.max(axis=(1, 2)), 1)
    # one min and one max per trial: scaling a trial does not depend on others
    assert np.allclose(preprocess.minmax_trial(X[:1]), Z[:1])


def test_percent_change(X):
    P = preprocess.percent_change(X)
    assert np.allclose(P[:, :, :5].mean(2), 0, atol=1e-3)
    Y = X.copy()
    Y[:, :, 10:] *= 1.01
    assert np.allclose(preprocess.percent_change(Y)[:, :, 12], P[:, :, 12] * 1.01 + 1.0, atol=0.02)


def test_subject_zscore_uses_only_own_participant(X):
    part = np.array(["A"] * 6 + ["B"] * 6)
    Z = preprocess.subject_zscore(X, part)
    assert np.allclose(Z[:6].mean(axis=(0, 2)), 0, atol=1e-4)
    assert np.allclose(Z[:6].std(axis=(0, 2)), 1, atol=1e-3)
    X2 = X.copy()
    X2[6:] += 500  # changing participant B leaves A untouched
    assert np.allclose(preprocess.subject_zscore(X2, part)[:6], Z[:6])


def test_apply_by_name(X):
    assert np.allclose(preprocess.apply("minmax", X), preprocess.minmax_trial(X))
    with pytest.raises(ValueError, match="participant"):
        preprocess.apply("zscore", X)
    with pytest.raises(ValueError, match="unknown preprocessing"):
        preprocess.apply("robust", X)



def test_window_features_are_label_free_and_per_participant(dataset):
    F = preprocess.window_features(dataset.X, "subjz", preprocess.BINS, dataset.participant)
    assert F.shape == (len(dataset), 4 * 246)
    m = dataset.participant == "P03"
    assert np.allclose(F[m].mean(0), 0, atol=1e-4) and np.allclose(F[m].std(0), 1, atol=1e-3)
    pct = preprocess.window_features(dataset.X, "pct", (8, 21))
    assert np.array_equal(pct, preprocess.window_mean(preprocess.percent_change(dataset.X), 8, 21))
    both = preprocess.window_features(dataset.X, "pct+subjz", (15, 25), dataset.participant)
    assert both.shape == (len(dataset), 2 * 246)
    assert np.array_equal(both[:, :246], preprocess.window_features(dataset.X, "pct", (15, 25)))
    with pytest.raises(ValueError, match="need the participant"):
        preprocess.window_features(dataset.X, "subjz", (8, 21))
    with pytest.raises(ValueError, match="unknown feature recipe"):
        preprocess.window_features(dataset.X, "raw", (8, 21))


def test_participant_standardise_uses_each_participants_own_rows():
    F = np.arange(12, dtype=float).reshape(6, 2)
    out = preprocess.participant_standardise(F, np.array(list("aaabbb")))
    assert np.allclose(out[:3].mean(0), 0) and np.allclose(out[3:].std(0), 1)
    F2 = F.copy()
    F2[3:] += 100  # participant b moved: a untouched
    assert np.array_equal(preprocess.participant_standardise(F2, np.array(list("aaabbb")))[:3], out[:3])
