"""The nested decoder search of chapter 9: what it predicts, what it chooses, and that the outer
test participants never inform the choice."""
import numpy as np
import pandas as pd
import pytest

from fmriemo.data.splits import group_folds
from fmriemo.evaluation import heldout, search

GRID = search.candidates(inputs=("pct", "subjz"), windows=("15-25",), cs=(0.05,))


def test_candidates_grid_and_errors():
    grid = search.candidates()
    assert len(grid) == len(search.INPUTS) * len(search.WINDOWS) * len(search.CS) * len(search.REGIONS)
    assert len({c["name"] for c in grid}) == len(grid)
    with pytest.raises(ValueError, match="window must be one of"):
        search.candidates(windows=("0-5",))
    with pytest.raises(ValueError, match="input must be one of"):
        search.candidates(inputs=("raw",))
    with pytest.raises(ValueError, match="regions must be one of"):
        search.candidates(regions=("top 10",))
    assert len(search.candidates(windows=(*search.WINDOWS, search.CURVE))) == len(grid) // len(search.WINDOWS) * 5


def test_region_selection_keeps_whole_regions_chosen_on_the_training_rows():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 40)
    F = rng.normal(size=(120, 2 * 246))  # two features per region, in blocks of 246
    informative = [5, 100, 200]
    for r in informative:
        F[:, r] += y
        F[:, 246 + r] += y
    sel = search.RegionSelect(n=3).fit(F, y)
    assert sorted(sel.columns_.tolist()) == sorted(informative + [246 + r for r in informative])
    assert sel.transform(F).shape == (120, 6)
    # fitted inside the pipeline: what it keeps depends on the rows it is fitted on only

def test_features_are_label_free_and_per_participant(dataset):
    F = search.features(dataset, "subjz", "bins")
    assert F.shape == (len(dataset), 4 * 246)
    m = dataset.participant == "P03"
    assert np.allclose(F[m].mean(0), 0, atol=1e-4) and np.allclose(F[m].std(0), 1, atol=1e-3)
    with pytest.raises(ValueError, match="input must be one of"):
        search.features(dataset, "raw", "8-21")
    flipped = dataset.subset(np.arange(len(dataset)))
    flipped.y_class = -flipped.y_class
    assert np.array_equal(search.features(flipped, "pct", "8-21"), search.features(dataset, "pct", "8-21"))


def test_nested_search_predicts_each_training_trial_once_and_chooses_by_inner_accuracy(dataset):
    table, pred = search.nested_search(dataset, "groupkfold", k=3, grid=GRID)
    lab = np.flatnonzero(dataset.labelled_train)
    assert sorted(pred["index"]) == lab.tolist()
    assert list(table.index) == [c["name"] for c in GRID] and table["chosen in folds"].sum() == 3
    for f, rows in pred.groupby("fold"):
        assert rows["chosen"].nunique() == 1
    # a candidate's held-out accuracy is that of a standardised logistic regression fitted on each fold's
    # training participants (scikit-learn's own, outside the search)
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    c = GRID[0]
    F = search.features(dataset, c["input"], c["window"])
    hits = []
    for test_p in group_folds(dataset, "groupkfold", 3):
        te = lab[np.isin(dataset.participant[lab], test_p)]
        tr = lab[~np.isin(dataset.participant[lab], test_p)]
        model = make_pipeline(StandardScaler(), LogisticRegression(C=c["C"], max_iter=3000, tol=1e-3))
        hits.append(model.fit(F[tr], dataset.labels("class", tr)).predict(F[te]) == dataset.y_class[te])
    assert table.loc[c["name"], "held-out accuracy"] == pytest.approx(np.concatenate(hits).mean())


@pytest.mark.conclusions
def test_outer_test_labels_never_inform_the_choice(dataset):
    """Scrambling the labels of one outer fold's test participants leaves that fold's choice and its
    inner accuracy exactly as they were: only its training participants are used to choose."""
    folds = group_folds(dataset, "groupkfold", 3)  # the same outer folds for both runs
    _, pred = search.nested_search(dataset, grid=GRID, cv=folds)
    test_p = folds[0]
    scrambled = dataset.subset(np.arange(len(dataset)))
    scrambled.y_class = scrambled.y_class.copy()
    m = np.isin(scrambled.participant, test_p)
    scrambled.y_class[m] = np.random.default_rng(0).permutation(scrambled.y_class[m])
    _, again = search.nested_search(scrambled, grid=GRID, cv=folds)
    a, b = pred[pred.fold == 0], again[again.fold == 0]
    assert a["chosen"].iloc[0] == b["chosen"].iloc[0]
    assert a["inner accuracy"].iloc[0] == b["inner accuracy"].iloc[0]
    assert np.array_equal(a["y_pred"].to_numpy(), b["y_pred"].to_numpy())


def test_extra_candidates_are_scored_on_the_same_inner_folds_and_chosen_by_inner_accuracy(dataset):
    lab = np.flatnonzero(dataset.labelled_train)
    y = dataset.y_class.astype(float)
    seen = []

    def knows_the_training_labels(f, test_p, inner):
        seen.append((f, [sorted(fold) for fold in inner]))
        tr = lab[~np.isin(dataset.participant[lab], test_p)]
        te = lab[np.isin(dataset.participant[lab], test_p)]
        return y[tr].astype(int), np.zeros(len(te), int)  # perfect inside, "class 0" outside

    table, pred = search.nested_search(dataset, "groupkfold", k=3, grid=GRID,
                                       extra={"oracle inside": knows_the_training_labels})
    assert table.loc["oracle inside", "inner accuracy"] == 1.0 and table.loc["oracle inside", "read-out"] == "extra"
    assert table.loc["oracle inside", "chosen in folds"] == 3 and (pred["y_pred"] == 0).all()
    assert table.loc["oracle inside", "held-out accuracy"] == pytest.approx(np.mean(pred.y_true == 0))
    # the inner folds handed over partition each outer fold's training participants into order groups
    folds = group_folds(dataset, "groupkfold", 3)
    for f, inner in seen:
        rest = sorted(set(dataset.participant[lab]) - set(folds[f]))
        assert sorted(p for fold in inner for p in fold) == rest and len(inner) == 3
    with pytest.raises(ValueError, match="must predict"):
        search.nested_search(dataset, grid=GRID, extra={"short": lambda f, t, i: (np.zeros(3), np.zeros(3))})


def test_a_deep_model_joins_the_search_with_the_held_out_protocols_models(dataset, tmp_path, quick):
    s = quick(tmp_path, n_seeds=1, k=2, n_val=2)
    lab = dataset.labelled_train
    outer = group_folds(dataset, s.protocol, s.k)
    inner = heldout.inner_fold_runs(dataset, "ebr", "class", s, inner_k=3)
    predict = search.search_candidate(dataset, "ebr", s, inner_k=3)
    tr = np.flatnonzero(lab & ~np.isin(dataset.participant, outer[0]))
    inner_pred, outer_pred = predict(0, outer[0], [fold for fold, _ in inner[0]])
    assert inner_pred.shape == tr.shape and set(np.unique(inner_pred)) <= {-1, 0, 1}
    (_, _, r0), = [x for x in heldout.fold_runs(dataset, "ebr", "class", s) if x[1] == 0]
    assert np.array_equal(outer_pred, np.asarray(r0.y_pred)[np.argsort(r0.test_index)])
    with pytest.raises(ValueError, match="inner folds"):
        predict(0, outer[0], [sorted(outer[1])])


def test_a_draw_in_one_row():
    grid = pd.DataFrame({"held-out accuracy": [0.40, 0.55]}, index=[search.BASELINE, "other"])
    nested = pd.DataFrame({"fold": [0, 0, 1, 1], "chosen": ["other", "other", search.BASELINE, search.BASELINE],
                           "y_true": [1, 1, 0, 0], "y_pred": [1, 0, 0, 0]})
    row = search.draw_row(grid, nested)
    assert row["nested search accuracy"] == 0.75 and row["gain over baseline"] == pytest.approx(0.35)
    assert row["chosen read-outs"] == f"other; {search.BASELINE}" and row["best candidate after the fact"] == 0.55



CURVE_GRID = [c for c in search.candidates(inputs=("pct",), windows=("8-21", search.CURVE), cs=(0.05,))
              if c["regions"] == "all"]


def test_curve_windows_are_read_off_the_rows_given_only(dataset):
    """A curve window depends on the labels of the rows it is computed over and on nothing else."""
    curves = search.CurveWindows(dataset)
    folds = group_folds(dataset, "groupkfold", 3)
    rows = np.flatnonzero(dataset.labelled_train & ~np.isin(dataset.participant, folds[0]))
    start, stop = curves.window(rows)
    assert 0 <= start < stop <= 25 and stop - start >= 3
    scrambled = dataset.subset(np.arange(len(dataset)))
    scrambled.y_class = scrambled.y_class.copy()
    m = np.isin(scrambled.participant, folds[0])
    scrambled.y_class[m] = np.random.default_rng(0).permutation(scrambled.y_class[m])
    assert search.CurveWindows(scrambled).window(rows) == (start, stop)
    F = curves.features("pct", (start, stop))
    assert F.shape == (len(dataset), 246) and curves.features("pct", (start, stop)) is F  # computed once


@pytest.mark.conclusions
def test_nested_search_with_curve_windows_records_each_folds_seconds_and_ignores_outer_labels(dataset):
    folds = group_folds(dataset, "groupkfold", 3)
    table, pred = search.nested_search(dataset, grid=CURVE_GRID, cv=folds)
    assert set(table.index) == {"pct 8-21 C=0.05", "pct curve C=0.05"}
    curves = search.CurveWindows(dataset)
    for f, test_p in enumerate(folds):
        mine = pred[pred.fold == f]
        if mine["chosen"].iloc[0] == "pct curve C=0.05":  # the window of the fold's own training participants
            tr = np.flatnonzero(dataset.labelled_train & ~np.isin(dataset.participant, test_p))
            assert mine["seconds"].iloc[0] == "{}-{}".format(*curves.window(tr))
        else:
            assert mine["seconds"].iloc[0] == "8-21"
    scrambled = dataset.subset(np.arange(len(dataset)))
    scrambled.y_class = scrambled.y_class.copy()
    m = np.isin(scrambled.participant, folds[1])
    scrambled.y_class[m] = np.random.default_rng(0).permutation(scrambled.y_class[m])
    _, again = search.nested_search(scrambled, grid=CURVE_GRID, cv=folds)
    a, b = pred[pred.fold == 1], again[again.fold == 1]
    assert a["chosen"].iloc[0] == b["chosen"].iloc[0] and a["seconds"].iloc[0] == b["seconds"].iloc[0]
    assert np.array_equal(a["y_pred"].to_numpy(), b["y_pred"].to_numpy())


def test_choose_and_fit_takes_a_curve_window(dataset):
    chosen, scores, run = search.choose_and_fit(dataset, grid=CURVE_GRID)
    assert set(scores.index) == {"pct 8-21 C=0.05", "pct curve C=0.05"}
    assert chosen["name"] == scores.idxmax() and run.proba.shape[1] == 3
    assert np.allclose(run.proba.sum(1), 1)


@pytest.mark.conclusions
def test_choices_from_one_scoring_equal_separate_searches(dataset):
    """Chapter 9 scores every candidate once and chooses twice; each choice must be what a search over its
    own candidates alone gives, ties included."""
    grid = [c for c in search.candidates(inputs=("pct", "subjz"), windows=("8-21", "15-25", search.CURVE),
                                          cs=(0.05,)) if c["regions"] == "all"]
    fixed = [c for c in grid if c["window"] != search.CURVE]
    folds = group_folds(dataset, "groupkfold", 3)
    table, chosen = search.nested_choices(dataset, grid=grid, cv=folds,
                                          choices={"fixed": [c["name"] for c in fixed],
                                                   "all": [c["name"] for c in grid]})
    alone_fixed = search.nested_search(dataset, grid=fixed, cv=folds)
    alone_all = search.nested_search(dataset, grid=grid, cv=folds)
    pd.testing.assert_frame_equal(chosen["fixed"].drop(columns="seconds"), alone_fixed[1])
    pd.testing.assert_frame_equal(chosen["all"], alone_all[1])
    pd.testing.assert_frame_equal(table.loc[alone_fixed[0].index].drop(columns="chosen in folds"),
                                  alone_fixed[0].drop(columns="chosen in folds"))
    assert table.loc[alone_fixed[0].index, "chosen in folds"].tolist() == alone_fixed[0]["chosen in folds"].tolist()
    with pytest.raises(ValueError, match="unknown"):
        search.nested_choices(dataset, grid=fixed, cv=folds, choices={"x": ["no such read-out"]})


@pytest.mark.conclusions
def test_each_inner_fold_is_scored_with_a_window_read_without_it(dataset, monkeypatch):
    """The curve window that scores an inner fold must come from the curve of the other inner folds only: a
    window read off all the outer fold's training participants would have seen the inner fold it is scored
    on. With a fake curve that names the participants it was computed from, each inner fold's features are
    those of its own window."""
    from fmriemo.data.splits import class_orders, inner_folds

    def fake_window(X, y, participants, inner, **kw):  # a different window for every set of participants
        h = sum(int(p[1:]) for p in set(participants))
        return h % 10, h % 10 + 5

    monkeypatch.setattr(search.timeresolved, "curve_window", fake_window)
    grid = [c for c in CURVE_GRID if c["window"] == search.CURVE]
    curves = search.CurveWindows(dataset)
    rows = np.flatnonzero(dataset.labelled_train & ~np.isin(dataset.participant, group_folds(dataset, "groupkfold", 3)[0]))
    folds = inner_folds(class_orders(dataset), dataset.participant[rows], 3)
    scored, final, window = search._scored_features(grid[0], {}, curves, rows, folds)
    parts = dataset.participant[rows]
    for fold, F in zip(folds, scored):
        own = curves.window(rows[~np.isin(parts, fold)])
        assert own != curves.window(rows)  # the fake makes every set's window its own
        np.testing.assert_array_equal(F, curves.features("pct", own)[rows])
    assert window == "{}-{}".format(*curves.window(rows))
