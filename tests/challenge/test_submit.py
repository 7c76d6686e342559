"""What ``fmriemo submit`` does, as package functions: seed and fold ensembles, the ensemble chosen on
held-out participants, and the linear read-out search, none of them reading a Test participant's label."""
import numpy as np
import pytest

from fmriemo.challenge import submit
from fmriemo.challenge.ratings import training_level_table
from fmriemo.evaluation.search import choose_and_fit


def test_a_seed_ensemble_with_class_aware_ratings(dataset, tmp_path, quick):
    sub = submit.submit(dataset, "ebr", quick(tmp_path, n_seeds=2))
    assert len(sub.table) == 120 and sub.what == "ebr, 2 seed(s), ratings class-aware"
    assert [(task, name) for task, name, _ in sub.kept] == [("class", "seed 0"), ("class", "seed 1")]
    assert (sub.table["LEVEL"] == sub.table["CLASS"].map(training_level_table(dataset))).all()
    assert sub.comparison is None and len(list((tmp_path / "runs").iterdir())) == 2  # no level model trained
    nine = submit.submit(dataset, "ebr", quick(tmp_path, n_seeds=1), ratings="level-model")
    assert [task for task, _, _ in nine.kept] == ["class", "level"]
    assert len(list((tmp_path / "runs").iterdir())) == 3  # seed 0's class model reused


def test_a_fold_ensemble_uses_the_held_out_protocols_models(dataset, tmp_path, quick):
    sub = submit.submit(dataset, "ebr", quick(tmp_path, k=2, n_seeds=1), ensemble="folds")
    assert sub.what == "ebr, 2 fold models (groupkfold, k = 2), ratings class-aware"
    assert [name for _, name, _ in sub.kept] == ["seed 0 fold 0", "seed 0 fold 1"]
    runs = [r for _, _, r in sub.kept]
    assert np.array_equal(sub.table["CLASS"], np.mean([r.proba for r in runs], axis=0).argmax(1) - 1)
    with pytest.raises(ValueError, match="ensemble must be one of"):
        submit.submit(dataset, "ebr", quick(tmp_path), ensemble="bagging")


def test_auto_chooses_on_held_out_participants_and_submits_the_winner(dataset, tmp_path, quick):
    settings = quick(tmp_path, k=2, n_seeds=2, n_val=2)
    sub = submit.submit(dataset, "ebr", settings, ensemble="auto")
    assert sub.chosen in ("single", "seeds", "folds")
    kinds = list(sub.comparison.index.get_level_values("ensemble"))
    assert kinds == ["single", "seeds", "folds"]
    best = sub.comparison.droplevel("model").max()
    assert sub.comparison.droplevel("model")[sub.chosen] == best
    expect = {"single": "1 seed(s)", "seeds": "2 seed(s)", "folds": "fold models"}[sub.chosen]
    assert expect in sub.what and submit.auto_seeds(settings) == 2 and submit.auto_seeds(quick(tmp_path, n_seeds=1)) == 3


def test_the_search_submission_never_reads_test_labels(dataset):
    sub, chosen, scores = submit.submit_search(dataset)
    assert len(sub.table) == 120 and f"search: {chosen['name']}" in sub.what
    assert scores[chosen["name"]] == scores.max()
    hidden = dataset.subset(np.arange(len(dataset)))
    hidden.y_class = np.where(hidden.split == "test", np.nan, hidden.y_class)
    assert np.array_equal(choose_and_fit(hidden)[2].proba, choose_and_fit(dataset)[2].proba)
    assert (sub.table["LEVEL"] == sub.table["CLASS"].map(training_level_table(dataset))).all()
