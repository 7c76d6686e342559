"""Held-out participants: nested folds, baselines inside them, the order-group check, and the tables of
tests and per-participant accuracy the chapters show."""
import numpy as np
import pandas as pd
import pytest

from fmriemo.challenge.ratings import ensemble_submission
from fmriemo.data.splits import group_folds
from fmriemo.evaluation import heldout
from fmriemo.profiles import Settings


def test_baselines(dataset):
    settings = Settings.resolve("quick", protocol="groupkfold", k=4)
    pred = heldout.run_baselines(dataset, "class", settings)
    assert set(pred.model) == {"majority", "stratified", "logreg"}
    acc = pred.groupby("model").apply(lambda d: np.mean(d.y_true == d.y_pred), include_groups=False)
    assert acc["majority"] == pytest.approx(1 / 3)  # balanced classes, one class always predicted
    assert acc["logreg"] > 0.42  # percent-change features carry signal across participants
    size = pred.groupby("model").size()  # every labelled trial once; the stratified dummy once per seed
    assert size["majority"] == size["logreg"] == 480 and size["stratified"] == 480 * len(settings.seeds)


def test_run_models_and_summary(dataset, tmp_path):
    settings = Settings.resolve("quick", epochs=2, cache_dir=tmp_path, n_seeds=2, progress=False)
    pred = heldout.run_models(dataset, ["ebr"], "class", settings)
    assert len(pred) == 2 * 480 and set(pred.fold) == {0, 1, 2, 3}
    s = heldout.summarise(pred, "class", n_resamples=100)
    row = s.loc["ebr"]
    assert row.seeds == 2 and row.trials == 480
    assert row.boot_lo <= row.accuracy + 0.1 and row.wilson_lo < row.wilson_hi


def test_order_check_models(dataset, tmp_path):
    settings = Settings.resolve("quick", epochs=2, cache_dir=tmp_path, k=3, n_seeds=2, progress=False)
    out = heldout.order_check_models(dataset, ["compact"], "class", settings)
    assert list(out.columns) == ["kfold", "groupkfold", "twin_in_training", "difference"]
    row = out.loc["compact"]
    assert 0 <= row["kfold"] <= 1 and 0 <= row["groupkfold"] <= 1 and 0 <= row["twin_in_training"] <= 1
    assert row["difference"] == pytest.approx(row["kfold"] - row["groupkfold"])
    # the groupkfold column is the chapter's own protocol: the same runs as run_models, every seed
    pred = heldout.run_models(dataset, ["compact"], "class", settings)
    assert row["groupkfold"] == pytest.approx(np.mean(pred.y_true == pred.y_pred))


def _tiny_settings(tmp_path, **kw):
    return Settings.resolve("quick", epochs=2, cache_dir=tmp_path, n_seeds=1, k=2, n_val=2, progress=False, **kw)


def test_inner_fold_models_never_see_their_outer_test_or_inner_fold(dataset, tmp_path):
    s = _tiny_settings(tmp_path)
    inner = heldout.inner_fold_runs(dataset, "ebr", "class", s, inner_k=3)
    outer = group_folds(dataset, s.protocol, s.k)
    lab = dataset.labelled_train
    assert sorted(inner) == [0, 1]
    for f, runs in inner.items():
        rest = set(dataset.participant[lab]) - set(outer[f])
        assert sorted(p for fold, _ in runs for p in fold) == sorted(rest)  # the inner folds partition them
        for fold, r in runs:
            tested = set(dataset.participant[r.test_index])
            assert tested == set(fold) | set(outer[f])
            assert "nested-" in r.split["name"]


def test_fold_models_predict_every_test_trial(dataset, tmp_path, quick):
    settings = quick(tmp_path, k=2)
    folds = [r for _, _, r in heldout.fold_model_runs(dataset, "ebr", "class", settings)]
    test = np.flatnonzero(dataset.split == "test")
    runs = heldout.fold_runs(dataset, "ebr", "class", settings)  # the same stored models
    assert len(folds) == len(runs) == 2 * len(settings.seeds)  # every fold, every seed
    for stand_in, (_, _, r) in zip(folds, runs):
        assert np.array_equal(stand_in.test_index, test) and stand_in.proba.shape == (len(test), 3)
        assert stand_in.key == r.key and stand_in.best_epoch == r.best_epoch  # the fold's own model
        assert not np.array_equal(r.test_index, test)  # a fold model's own test trials are training participants
    t = ensemble_submission(dataset, folds)
    expected = np.mean([f.proba for f in folds], axis=0).argmax(1) - 1
    assert np.array_equal(t["CLASS"].to_numpy(), expected) and len(t) == len(test)


def _fake_predictions():
    """Two deep models (two seeds each) and a baseline on 3 participants x 4 trials with known hits."""
    rows = []
    for model, hits, seeds in (("a", [1, 1, 1, 1], (0, 1)), ("b", [1, 0, 0, 0], (0, 1)), ("logreg", [1, 1, 0, 0], (0,))):
        for seed in seeds:
            for f, p in enumerate(("P01", "P02", "P03")):
                for t in range(4):
                    rows.append({"model": model, "seed": seed, "fold": f, "participant": p, "index": 4 * int(p[2:]) + t,
                                 "y_true": 1, "y_pred": 1 if hits[t] else 0,
                                 "kept_epoch": 5 if model != "logreg" else np.nan})
    return pd.DataFrame(rows)


def test_tables_of_tests_and_per_participant_accuracy():
    pred = _fake_predictions()
    perm = heldout.permutation_table(pred, n_perm=50)
    assert list(perm.index) == ["a", "b", "logreg"] and perm.loc["a", "accuracy"] == 1.0
    assert perm.loc["a", "seeds"] == 2 and perm.loc["logreg", "seeds"] == 1
    table = heldout.comparisons_table(pred, [("a", "b"), ("a", "missing"), ("logreg", "b"), ("a", "chance")],
                                      chance=1 / 3, n_resamples=100)
    assert [tuple(r) for r in table[["a", "b"]].to_numpy()] == [("a", "b"), ("logreg", "b"), ("a", "chance")]
    ab = table.iloc[0]
    assert ab["estimate"] == pytest.approx(0.75) and ab["lo"] == pytest.approx(0.75) and ab["seeds_b"] == 2
    assert ab["agreeing"] == 2 and ab["units"] == 3
    assert table.iloc[1]["seeds_a"] == 1 and table.iloc[2]["seeds_b"] == 0  # a baseline has one run; chance none
    assert table.iloc[2]["estimate"] == pytest.approx(2 / 3)
    per_p = heldout.per_participant_accuracy(pred)
    assert len(per_p) == 9 and per_p.loc[per_p.model == "logreg", "accuracy"].tolist() == [0.5, 0.5, 0.5]
    assert per_p.loc[per_p.model == "a", "seeds"].tolist() == [2, 2, 2]
    scores = heldout.participant_scores(pred, "b")
    assert scores.shape == (2, 3) and (scores.to_numpy() == 0.25).all()


def test_summary_intervals_resample_seeds_and_participants():
    pred = _fake_predictions()
    s = heldout.summarise(pred, "class", n_resamples=100)
    assert s.loc["a", "accuracy"] == 1.0 and s.loc["a", "boot_lo"] == 1.0 and s.loc["a", "seeds"] == 2
    assert s.loc["b", "accuracy_min_seed"] == s.loc["b", "accuracy_max_seed"] == 0.25
    assert s.loc["logreg", "boot_lo"] <= 0.5 <= s.loc["logreg", "boot_hi"]


def test_no_methods_no_order_check():
    assert heldout.order_check_models(None, [], "class").empty
