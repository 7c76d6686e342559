import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import balanced_accuracy_score

from fmriemo.data.dataset import Dataset
from fmriemo.evaluation import timeresolved

SIGNAL = range(15, 25)  # the seconds that carry the class in the planted data


def planted(n_participants=8, per_class=4, seed=0, signal=SIGNAL, strength=1.5):
    """Participants whose class is written into 12 regions at the ``signal`` seconds only."""
    rng = np.random.default_rng(seed)
    n = n_participants * 3 * per_class
    y = np.tile(np.repeat([-1.0, 0.0, 1.0], per_class), n_participants)
    X = 1000 + rng.standard_normal((n, 246, 25)).astype(np.float32)
    pattern = rng.standard_normal((3, 12))
    for t in signal:
        X[:, :12, t] += strength * pattern[(y + 1).astype(int)]
    part = np.repeat([f"P{i + 1:02d}" for i in range(n_participants)], 3 * per_class)
    return Dataset(X=X, y_class=y, y_level=y * 2, participant=part, trial=np.tile(np.arange(3 * per_class) + 1,
                   n_participants), split=np.full(n, "train"), label_source=np.full(n, "train"), source="planted")


FOLDS = [["P01", "P02"], ["P03", "P04"], ["P05", "P06"], ["P07", "P08"]]


@pytest.fixture(scope="module")
def ds():
    return planted()


@pytest.fixture(scope="module")
def acc(ds):
    return timeresolved.accuracy_by_second(ds, "zscore", FOLDS)


def test_a_cross_validator_gives_the_same_curve_as_its_folds(ds, acc):
    """The time-resolved decoding takes the book's splitters (and any group splitter) as it takes lists of
    test participants: the same folds, the same accuracies."""
    from sklearn.model_selection import LeaveOneGroupOut

    from fmriemo.data.splits import ParticipantKFold, fold_participants
    cv = ParticipantKFold(4)
    by_cv = timeresolved.accuracy_by_second(ds, "zscore", cv)
    pd.testing.assert_frame_equal(by_cv, timeresolved.accuracy_by_second(ds, "zscore", fold_participants(ds, cv)))
    assert len(timeresolved.fold_inputs(ds, "zscore", LeaveOneGroupOut())[3]) == len(ds.y_class)


def test_fold_labels_name_each_rows_fold():
    got = timeresolved.fold_labels(["P01", "P03", "P09", "P08"], FOLDS)
    assert got.tolist() == [0, 1, -1, 3]


def test_accuracy_by_second_finds_the_planted_seconds(acc):
    assert acc.shape == (8, 25) and list(acc.index) == [f"P{i:02d}" for i in range(1, 9)]
    s = timeresolved.summary(acc)
    assert s.loc[list(SIGNAL), "accuracy"].min() > 0.8
    assert abs(s.loc[:10, "accuracy"].mean() - timeresolved.CHANCE) < 0.1
    assert (s["lo"] <= s["accuracy"]).all() and (s["accuracy"] <= s["hi"]).all()


def test_held_out_labels_never_reach_the_readout(ds):
    """Scrambling the labels of one fold's participants changes nothing about the predictions of their
    trials: every read-out that predicts them was fitted without them."""
    idx, X, y, groups = timeresolved.fold_inputs(ds, "pct", FOLDS)
    before = timeresolved.predictions_by_second(X, y, groups)
    y2 = y.copy()
    held = groups == 2
    y2[held] = np.random.default_rng(1).permutation(y2[held])
    after = timeresolved.predictions_by_second(X, y2, groups)
    assert np.array_equal(before[held], after[held])
    assert not np.array_equal(before[~held], after[~held])  # the same labels do train the other folds


def test_participant_accuracy_is_balanced_over_classes():
    y = np.array([-1, -1, -1, -1, 0, 1])
    pred = np.array([[-1], [-1], [-1], [-1], [-1], [-1]])  # always "negative": plain accuracy 4/6
    got = timeresolved.participant_accuracy(y, pred, ["P01"] * 6)
    assert got.iloc[0, 0] == pytest.approx(1 / 3)


@pytest.mark.filterwarnings("ignore:y_pred contains classes not in y_true")
def test_participant_accuracy_is_scikit_learns_balanced_accuracy_to_the_bit():
    rng = np.random.default_rng(0)
    participants = np.repeat(["P01", "P02", "P10", "P03"], [30, 17, 9, 24])
    y = rng.integers(-1, 2, len(participants))
    y[participants == "P10"] = 1  # one class only: its recall alone
    y[participants == "P03"] = rng.choice([-1, 0], 24)  # a class it never has is still predicted
    pred = rng.integers(-1, 2, (len(participants), 25))
    got = timeresolved.participant_accuracy(y, pred, participants)
    assert list(got.index) == ["P01", "P02", "P03", "P10"]
    want = [[balanced_accuracy_score(y[participants == p], pred[participants == p, t]) for t in range(25)]
            for p in got.index]
    np.testing.assert_array_equal(got.to_numpy(), np.array(want))


def test_cluster_test_spans_the_planted_seconds(acc):
    cl = timeresolved.clusters_over_time(acc, n_permutations=200)
    sig = cl[cl["p"] < 0.05]
    assert len(sig) == 1
    assert sig.iloc[0]["first second"] <= SIGNAL[0] and sig.iloc[0]["last second"] == SIGNAL[-1]
    assert sig.iloc[0]["first second"] >= SIGNAL[0] - 1  # the noise seconds do not join it
    assert timeresolved.decodable_from(cl) == sig.iloc[0]["first second"]
    assert timeresolved.cluster_seconds(cl) == list(range(int(sig.iloc[0]["first second"]), SIGNAL[-1] + 1))


def test_cluster_test_on_noise_finds_nothing():
    rng = np.random.default_rng(3)
    noise = pd.DataFrame(timeresolved.CHANCE + 0.05 * rng.standard_normal((10, 25)))
    cl = timeresolved.clusters_over_time(noise, n_permutations=200)
    assert timeresolved.decodable_from(cl) is None
    assert timeresolved.cluster_seconds(cl) == []


@pytest.mark.conclusions
def test_a_cluster_below_chance_is_not_decodable():
    """The test is one-sided: seconds where every participant is far *below* chance form no cluster (a
    two-sided test would call them decodable)."""
    rng = np.random.default_rng(4)
    acc = timeresolved.CHANCE + 0.02 * rng.standard_normal((12, 25))
    acc[:, 10:16] -= 0.2
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no cluster is an answer (an empty table), not a warning on the page
        cl = timeresolved.clusters_over_time(pd.DataFrame(acc), n_permutations=200)
    assert timeresolved.decodable_from(cl) is None and cl.empty
    acc[:, 10:16] += 0.4  # the same seconds above chance: found
    assert timeresolved.decodable_from(timeresolved.clusters_over_time(pd.DataFrame(acc), n_permutations=200)) == 10


def test_cluster_test_needs_participants():
    with pytest.raises(ValueError, match="at least 3 participants"):
        timeresolved.clusters_over_time(pd.DataFrame(np.ones((2, 25))))


def test_generalisation_diagonal_is_the_sliding_score(ds):
    gen = timeresolved.generalisation(ds, "zscore", FOLDS)
    assert gen.shape == (25, 25)
    idx, X, y, groups = timeresolved.fold_inputs(ds, "zscore", FOLDS)
    pred = timeresolved.predictions_by_second(X, y, groups)
    per_fold = np.array([[balanced_accuracy_score(y[groups == f], pred[groups == f, t])
                          for t in range(25)] for f in range(len(FOLDS))]).mean(0)
    assert np.allclose(np.diag(gen.to_numpy()), per_fold)
    carry = timeresolved.carry_over(gen, SIGNAL)
    assert carry["off_diagonal"] > 0.7  # one planted pattern at every signal second: the code carries over
    assert np.isnan(timeresolved.carry_over(gen, [20])["off_diagonal"])


def test_code_that_changes_over_time_does_not_carry_over():
    ds = planted(signal=())
    rng = np.random.default_rng(5)
    for t in SIGNAL:  # a new pattern every second
        ds.X[:, :12, t] += 1.5 * rng.standard_normal((3, 12))[(ds.y_class + 1).astype(int)]
    gen = timeresolved.generalisation(ds, "zscore", FOLDS)
    carry = timeresolved.carry_over(gen, SIGNAL)
    assert carry["diagonal"] > 0.8 and carry["off_diagonal"] < 0.5


def test_curve_window_covers_the_planted_seconds(ds):
    idx, X, y, groups = timeresolved.fold_inputs(ds, "pct", FOLDS)
    start, stop = timeresolved.curve_window(X, y, ds.participant[idx], FOLDS[:3])
    assert start >= SIGNAL[0] - 1 and stop == SIGNAL[-1] + 1
    # a narrow peak is widened to the minimum
    narrow = planted(signal=(12,), strength=3.0)
    idx, X, y, _ = timeresolved.fold_inputs(narrow, "pct", FOLDS)
    start, stop = timeresolved.curve_window(X, y, narrow.participant[idx], FOLDS, min_seconds=3)
    assert (start, stop) == (11, 14)


def test_unknown_preprocessing_is_refused(ds):
    with pytest.raises(ValueError, match="preprocessing must be one of"):
        timeresolved.accuracy_by_second(ds, "raw", FOLDS)
