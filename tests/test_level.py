import numpy as np

from fmriemo.evaluate import smape
from fmriemo.level import class_aware_levels, smape_optimal_levels


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
    from fmriemo.level import fold_rating_tables
    ds = dataset.subset(np.arange(len(dataset)))
    test_p = [f"P{i:02d}" for i in range(1, 11)]  # ten of the sixteen, so a leak would move the rule
    m = np.isin(ds.participant, test_p) & (ds.y_class == 1)
    ds.y_level = ds.y_level.copy()
    ds.y_level[m] = -4  # the held-out participants rate every positive clip -4
    lab = (ds.split == "train") & ds.labelled
    everyone = smape_optimal_levels(ds.y_class[lab], ds.y_level[lab])
    others = lab & ~np.isin(ds.participant, test_p)
    expected = smape_optimal_levels(ds.y_class[others], ds.y_level[others])
    assert everyone != expected  # a table fitted on all trials would differ: the leak is visible
    tables = fold_rating_tables(ds, [test_p, ["P05"]])
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
    import pandas as pd
    import pytest

    from fmriemo.evaluate import challenge_score
    from fmriemo.level import fold_rating_tables, heldout_rating_trials, score_predictors
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
