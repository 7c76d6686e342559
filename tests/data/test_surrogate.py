"""The built-in surrogate: layout, reproducibility, calibration, difficulty and trial-order structure."""
import hashlib
import json

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import LeaveOneGroupOut, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from fmriemo.data import atlas, preprocess
from fmriemo.data.loader import read_labels_csv
from fmriemo.data.splits import group_folds, identical_order_pairs
from fmriemo.data.surrogate import CLASS_LEVEL_COUNTS, ensure_surrogate, planted_regions, write_surrogate


def _digest(folder):
    h = hashlib.sha256()
    for f in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(str(f.relative_to(folder)).encode() + f.read_bytes())
    return h.hexdigest()


def test_layout(surrogate_dir):
    for p in range(1, 17):
        assert (surrogate_dir / "Train" / f"P{p:02d}" / "labels.npz").is_file()
    for p in range(17, 21):
        d = surrogate_dir / "Test" / f"P{p:02d}"
        assert (d / "fMRI_data.npz").is_file() and not (d / "labels.npz").exists()
    bn = (surrogate_dir / "Supplementary" / "BN_atlas.txt").read_text().splitlines()
    assert bn[0] == "Index\tROI Name" and bn[1] == "0\tA8m_L" and bn[-1] == "245\tlPFtha_R"
    tmpl = pd.read_csv(surrogate_dir / "Supplementary" / "submission.csv")
    assert list(tmpl.columns) == ["Participant", "Trial", "CLASS", "LEVEL"] and len(tmpl) == 120
    truth = json.loads((surrogate_dir / "ground_truth.json").read_text())
    assert truth["planted_regions"] == planted_regions().tolist()


def test_released_and_full_test_labels(surrogate_dir):
    released = read_labels_csv(surrogate_dir / "released_labels.csv")
    full = read_labels_csv(surrogate_dir / "test_labels.csv", require_complete=True)
    assert len(full) == 120 and len(released) == 36
    assert (released.groupby(["Participant", "CLASS"]).size() == 3).all()
    merged = released.merge(full, on=["Participant", "Trial"], suffixes=("", "_full"))
    assert (merged.CLASS == merged.CLASS_full).all() and (merged.LEVEL == merged.LEVEL_full).all()


def test_same_seed_same_bytes(tmp_path):
    a = write_surrogate(tmp_path / "a", seed=5)
    b = write_surrogate(tmp_path / "b", seed=5)
    c = write_surrogate(tmp_path / "c", seed=6)
    assert _digest(a) == _digest(b) != _digest(c)


def test_ensure_surrogate_is_cached(tmp_path):
    a = ensure_surrogate(tmp_path, seed=3)
    stamp = (a / "Train" / "P01" / "fMRI_data.npz").stat().st_mtime_ns
    assert ensure_surrogate(tmp_path, seed=3) == a
    assert (a / "Train" / "P01" / "fMRI_data.npz").stat().st_mtime_ns == stamp


@pytest.mark.parametrize("how", ["truncated", "missing", "no manifest"])
def test_damaged_surrogate_is_reported_and_generated_again(tmp_path, capsys, how):
    """The surrogate is an entry of the same store as trained models: a damaged file is found by its
    checksum, reported in one line and the data set generated again, identical to the first."""
    a = ensure_surrogate(tmp_path, seed=3)
    f = a / "Train" / "P01" / "fMRI_data.npz"
    before = f.read_bytes()
    if how == "truncated":
        f.write_bytes(before[: len(before) // 3])
    elif how == "missing":
        f.unlink()
    else:
        (a / ".manifest.json").unlink()
    capsys.readouterr()
    assert ensure_surrogate(tmp_path, seed=3) == a
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "surrogate data set" in err and "generating it again" in err
    assert f.read_bytes() == before
    assert ensure_surrogate(tmp_path, seed=3) == a and capsys.readouterr().err == ""  # intact now: no message
    assert sorted(p.name for p in tmp_path.iterdir()) == [a.name]  # no temporary folders left


def test_labels_balanced_and_joint_distribution(dataset):
    tr = dataset.subset(dataset.split == "train")
    for p in tr.participants:
        c = tr.y_class[tr.participant == p]
        assert [(c == v).sum() for v in (-1, 0, 1)] == [10, 10, 10]
    # levels follow the real CLASS x LEVEL table: compare row-wise level means
    real = CLASS_LEVEL_COUNTS / CLASS_LEVEL_COUNTS.sum(1, keepdims=True)
    for c in (-1, 0, 1):
        lev = tr.y_level[tr.y_class == c]
        assert abs(lev.mean() - (real[c + 1] * np.arange(-4, 5)).sum()) < 0.45


def test_calibrated_to_real_statistics(dataset):
    st = atlas.signal_stats()
    x = dataset.X[dataset.split == "train"]
    # region means track the real means
    assert np.corrcoef(x.mean(axis=(0, 2)), st["mean"])[0, 1] > 0.99
    # within-trial SD about 36 units, as in the real data (median of regions)
    assert 0.8 < np.median(x.std(axis=2)) / st["within_trial_temporal_sd"].median() < 1.3
    # lag-1 autocorrelation within a trial
    d = x - x.mean(axis=2, keepdims=True)
    lag1 = (d[:, :, 1:] * d[:, :, :-1]).sum(2) / (d ** 2).sum(2)
    assert 0.45 < np.median(lag1) < 0.8
    # regions positively correlated within a trial (global signal)
    c = np.mean([np.corrcoef(t)[np.triu_indices(246, 1)].mean() for t in x[:60]])
    assert 0.1 < c < 0.4
    # raw intensities, roughly as in the real data
    assert 500 < x.min() and x.max() < 20000


def _loso_accuracy(F, y, groups):
    clf = make_pipeline(StandardScaler(), LogisticRegression(C=0.05, max_iter=3000))
    pred = cross_val_predict(clf, F, y, groups=groups, cv=LeaveOneGroupOut())
    return float(np.mean(pred == y))


def test_difficulty_like_real_data(dataset):
    """Leave-one-participant-out logistic regression on percent-change features
    (as in the calibration note): clearly above chance, clearly below perfect."""
    tr = dataset.subset(dataset.split == "train")
    F = preprocess.window_mean(preprocess.percent_change(tr.X))
    acc = _loso_accuracy(F, tr.y_class.astype(int), tr.participant)
    assert 0.42 < acc < 0.70, acc


def test_planted_set_differs_from_ebr_but_overlaps():
    planted, ebr = set(planted_regions()), set(atlas.EBR_INDICES)
    assert 0 < len(planted & ebr) < min(len(planted), len(ebr))


def test_surrogate_reproduces_the_real_trial_order_structure(dataset, surrogate_dir):
    pairs = identical_order_pairs(dataset)
    assert sorted(pairs) == [(f"P{a:02d}", f"P{a + 9:02d}") for a in range(1, 8)]
    test = pd.read_csv(surrogate_dir / "test_labels.csv")
    p18 = test[test.Participant == "P18"].sort_values("Trial")["CLASS"].tolist()
    assert p18 == dataset.y_class[dataset.participant == "P02"].astype(int).tolist()  # shares P02/P11's order
    folds = group_folds(dataset, "order")
    assert len(folds) == 9 and ["P01", "P10"] in folds and ["P08"] in folds
    for fold in group_folds(dataset, "groupkfold", k=3):  # twins never split across folds
        for a, b in pairs:
            assert (a in fold) == (b in fold)

