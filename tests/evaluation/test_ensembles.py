"""Which ensemble to submit, decided on held-out participants."""
import numpy as np
import pytest

from fmriemo.evaluation import ensembles, heldout


def test_ensemble_comparison_scores_the_three_submissions_on_held_out_participants(dataset, tmp_path, quick):
    s = quick(tmp_path, n_seeds=1, k=2, n_val=2)
    pred = ensembles.ensemble_comparison(dataset, "ebr", "class", s, n_seeds=2, inner_k=2)
    assert list(dict.fromkeys(pred.ensemble)) == list(ensembles.ENSEMBLES)
    runs = heldout.fold_runs(dataset, "ebr", "class", s.replace(seeds=(0, 1)))
    for f in (0, 1):
        rs = [r for _, ff, r in runs if ff == f]
        rows = pred[pred.fold == f]
        single, seeds = rows[rows.ensemble == "single"], rows[rows.ensemble == "seeds"]
        assert np.array_equal(single.y_pred, rs[0].y_pred)
        assert np.array_equal(seeds.y_pred, np.mean([r.proba for r in rs], 0).argmax(1) - 1)
        assert len(rows[rows.ensemble == "folds"]) == len(rs[0].test_index)
    assert ensembles.choose_ensemble(pred) in ensembles.ENSEMBLES
    tie = pred.assign(y_pred=pred.y_true)  # every ensemble perfect: the simplest wins
    assert ensembles.choose_ensemble(tie) == "single"
    better = pred.copy()
    better.loc[better.ensemble == "folds", "y_pred"] = better.y_true
    assert ensembles.choose_ensemble(better) == "folds"
    with pytest.raises(ValueError, match="n_seeds >= 2"):
        ensembles.ensemble_comparison(dataset, "ebr", "class", s, n_seeds=1)


    acc = ensembles.ensemble_accuracies(pred)
    assert list(acc.index.get_level_values("ensemble")) == list(ensembles.ENSEMBLES)
