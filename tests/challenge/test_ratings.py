"""The rating rules: the SMAPE-optimal rating of each class, fitted on training participants only, the
ensemble submission table, and the held-out comparison of rating predictors."""
import numpy as np
import pandas as pd
import pytest

from fmriemo.challenge.ratings import (class_aware_levels, ensemble_submission, fold_rating_tables,
                                       heldout_rating_trials, score_predictors, smape_optimal_levels,
                                       with_class_predictions)
from fmriemo.metrics import challenge_score, smape
from fmriemo.training.runs import RunResult


def test_smape_optimal_level_per_class_beats_every_other_constant():
    rng = np.random.default_rng(0)
    cls = np.repeat([-1, 0, 1], 50)
    lev = np.concatenate([rng.choice([-4, -3, -2], 50), rng.choice([0, 0, 0, 1], 50), rng.choice([2, 3, 4], 50)])
    table = smape_optimal_levels(cls, lev)
    assert table[0] == 0 and table[-1] < 0 < table[1]
    for c in (-1, 0, 1):
        t = lev[cls == c]
        best = smape(t, np.full(len(t), table[c]))
        assert all(best <= smape(t, np.full(len(t), v)) + 1e-12 for v in range(-4, 5))


def test_class_aware_levels_maps_predicted_classes():
    table = {-1: -3, 0: 0, 1: 2}
    assert class_aware_levels([1, -1, 0, 1], table).tolist() == [2, -3, 0, 2]
    assert smape_optimal_levels([0, 0], [0, 0])[1] == 1  # a class without trials keeps its own sign


def test_fold_rating_tables_use_only_the_folds_training_participants(dataset):
    ds = dataset.subset(np.arange(len(dataset)))
    test_p = [f"P{i:02d}" for i in range(1, 11)]  # ten of the sixteen, so a leak would move the rule
    m = np.isin(ds.participant, test_p) & (ds.y_class == 1)
    ds.y_level = ds.y_level.copy()
    ds.y_level[m] = -4  # the held-out participants rate every positive clip -4
    lab = ds.labelled_train
    everyone = smape_optimal_levels(ds.y_class[lab], ds.y_level[lab])
    others = lab & ~np.isin(ds.participant, test_p)
    expected = smape_optimal_levels(ds.y_class[others], ds.y_level[others])
    assert everyone != expected  # a table fitted on all trials would differ: the leak is visible
    tables = fold_rating_tables(ds, [test_p, ["P11"]])
    assert tables[0] == expected and len(tables) == 2


def _fake_fold_runs(ds, folds, predict):
    """Stand-ins of heldout.fold_runs: one run per fold predicting its test participants' trials."""
    from types import SimpleNamespace
    out = []
    for f, test_p in enumerate(folds):
        idx = np.flatnonzero(np.isin(ds.participant, test_p) & (ds.split == "train"))
        out.append((0, f, SimpleNamespace(test_index=idx, y_pred=predict(idx))))
    return out


def test_heldout_rating_trials_and_predictor_scores(dataset):
    ds = dataset
    folds = [[f"P{i:02d}" for i in range(1, 9)], [f"P{i:02d}" for i in range(9, 17)]]
    level_runs = _fake_fold_runs(ds, folds, lambda idx: ds.y_level[idx].astype(int))  # a perfect rating model
    wrong = _fake_fold_runs(ds, folds, lambda idx: -ds.y_class[idx].astype(int))  # every sign flipped
    base = pd.concat([pd.DataFrame({"fold": f, "index": r.test_index, "y_pred": ds.y_class[r.test_index]})
                      for _, f, r in level_runs])  # a perfect class baseline
    trials = heldout_rating_trials(ds, folds, level_runs, {"wrong": wrong}, base)
    assert len(trials) == 16 * 30 and set(trials.fold) == {0, 1}
    tables = fold_rating_tables(ds, folds)
    first = trials[trials.fold == 0]
    assert (first.wrong_aware_level == first.wrong_class.map(tables[0])).all()  # the fold's own table
    assert (trials.logreg_class == trials["class"]).all()
    scores = score_predictors(trials, {"perfect": ("class", "level_model_level"), "wrong": ("wrong_class",
                                       "wrong_aware_level"), "neutral": (None, None), "absent": ("x", "y")},
                              n_resamples=100)
    assert list(scores.index) == ["perfect", "wrong", "neutral"]  # missing columns are left out
    assert scores.loc["perfect", "score"] == 0 and scores.loc["perfect", "class error"] == 0
    n = (trials["class"] != 0).sum() / len(trials)
    assert scores.loc["wrong", "class error"] == pytest.approx(n)  # neutral trials stay right when flipped
    z = challenge_score(trials["class"], np.zeros(len(trials), int), trials["level"], np.zeros(len(trials), int))
    assert scores.loc["neutral", "score"] == pytest.approx(z["score"])
    assert scores.loc["wrong", "score_lo"] <= scores.loc["wrong", "score"] <= scores.loc["wrong", "score_hi"]
    # a class model predicting other trials than the level model is refused
    shifted = [(s, f, type(r)(test_index=r.test_index[::-1], y_pred=r.y_pred)) for s, f, r in wrong]
    with pytest.raises(ValueError, match="other trials"):
        heldout_rating_trials(ds, folds, level_runs, {"wrong": shifted})


@pytest.mark.conclusions
def test_smape_optimal_levels_known_answers():
    cls = np.array([-1, -1, -1, 0, 0, 0, 1, 1])
    lev = np.array([-4, -4, -2, 0, 0, 3, 2, 2])
    table = smape_optimal_levels(cls, lev)
    assert table == {-1: -4, 0: 0, 1: 2}
    # ties between ratings are broken towards the smaller magnitude; a class with no trials maps to itself
    assert smape_optimal_levels(np.array([1, 1]), np.array([2, 4]))[1] in (2, 4)
    assert smape_optimal_levels(np.array([1, 1]), np.array([2, 4]))[-1] == -1
    assert smape_optimal_levels(np.array([0, 0]), np.array([1, -1]))[0] == -1  # 0 costs 1.0, +-1 cost 0.5
    out = class_aware_levels([1, -1, 0, 1], table)
    assert out.tolist() == [2, -4, 0, 2] and out.dtype.kind == "i"


def test_ensemble_submission_averages_probabilities(dataset):
    idx = np.flatnonzero(dataset.split == "test")[:3]

    def run(proba):
        return RunResult(key="k", config={}, split={}, history={}, best_epoch=1, epochs_run=1, seconds=0,
                         test_index=idx, y_true=np.zeros(3), y_pred=np.zeros(3), proba=np.asarray(proba, float))
    a = run([[0.6, 0.3, 0.1], [0.1, 0.2, 0.7], [0.4, 0.5, 0.1]])
    b = run([[0.0, 0.1, 0.9], [0.1, 0.7, 0.2], [0.5, 0.4, 0.1]])
    t = ensemble_submission(dataset, [a, b])
    assert t["CLASS"].tolist() == [1, 0, -1]  # argmax of the means, not of either run
    with pytest.raises(ValueError, match="level runs"):
        ensemble_submission(dataset, [a], ratings="level-model")
    with pytest.raises(ValueError, match="same trials"):
        other = run(a.proba)
        other.test_index = idx[::-1]
        ensemble_submission(dataset, [a, other])



def test_the_level_model_rule_takes_the_nine_way_models_ratings(dataset):
    idx = np.flatnonzero(dataset.split == "test")[:2]

    def run(proba):
        return RunResult(key="k", config={}, split={}, history={}, best_epoch=1, epochs_run=1, seconds=0,
                         test_index=idx, y_true=np.zeros(2), y_pred=np.zeros(2), proba=np.asarray(proba, float))
    cls = run([[0.1, 0.2, 0.7], [0.8, 0.1, 0.1]])
    level = run(np.eye(9)[[8, 0]])  # ratings +4 and -4
    t = ensemble_submission(dataset, [cls], [level], "level-model")
    assert t["CLASS"].tolist() == [1, -1] and t["LEVEL"].tolist() == [4, -4]
    assert list(t.columns) == ["Participant", "Trial", "CLASS", "LEVEL"] and t.dtypes["LEVEL"].kind == "i"


def test_another_decoders_classes_are_rated_by_each_folds_table(dataset):
    folds = [[f"P{i:02d}" for i in range(1, 9)], [f"P{i:02d}" for i in range(9, 17)]]
    level_runs = _fake_fold_runs(dataset, folds, lambda idx: dataset.y_level[idx].astype(int))
    trials = heldout_rating_trials(dataset, folds, level_runs, {})
    pred = pd.DataFrame({"index": trials["index"][::-1], "y_pred": np.ones(len(trials), int)})
    tables = fold_rating_tables(dataset, folds)
    out = with_class_predictions(trials, tables, pred, "other")
    assert (out["other_class"] == 1).all() and "other_class" not in trials
    assert out["other_aware_level"].tolist() == [tables[f][1] for f in out["fold"]]


@pytest.mark.conclusions
def test_submission_rows_follow_the_runs_trials(dataset):
    idx = np.random.default_rng(0).permutation(np.flatnonzero(dataset.split == "test"))
    proba = np.eye(3)[idx % 3]  # trial i predicted class (i % 3) - 1
    run = RunResult(key="k", config={}, split={}, history={}, best_epoch=1, epochs_run=1, seconds=0, test_index=idx,
                    y_true=np.zeros(len(idx)), y_pred=np.zeros(len(idx)), proba=proba)
    table = ensemble_submission(dataset, [run])
    for row in table.itertuples():
        i = np.flatnonzero((dataset.participant == row.Participant) & (dataset.trial == row.Trial))[0]
        assert row.CLASS == i % 3 - 1

