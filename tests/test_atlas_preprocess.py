import numpy as np
import pytest

from fmriemo import atlas, preprocess


def test_region_table():
    t = atlas.regions()
    assert len(t) == 246 and t["name"].iloc[0] == "A8m_L" and t["name"].iloc[-1] == "lPFtha_R"
    xyz = atlas.coordinates()
    assert xyz.shape == (246, 3)
    # left-hemisphere regions have negative x
    left = np.array([n.endswith("_L") for n in atlas.region_names()])
    assert (xyz[left, 0] < 0).mean() > 0.95 and (xyz[~left, 0] > 0).mean() > 0.95
    assert set(atlas.lobes()) >= {"Frontal Lobe", "Occipital Lobe", "Subcortical Nuclei"}
    assert atlas.gyri()[0] == "SFG"


def test_ebr_indices_as_published():
    idx = atlas.ebr_indices()
    assert len(idx) == 32 and len(set(idx)) == 32
    names = [atlas.region_names()[i] for i in idx]
    assert names[:4] == ["A8m_R", "A9m_L", "A9/46d_L", "IFJ_R"]
    assert atlas.ebr_unpaired() == ["A8m_R", "A9m_L", "A9/46d_L", "IFJ_R"]


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
