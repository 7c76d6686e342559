"""Nested held-out-participant evaluation, baselines, intervals and tests."""
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from fmriemo import heldout
from fmriemo.profiles import Settings


def test_group_folds(dataset):
    loso = heldout.group_folds(dataset, "loso")
    assert len(loso) == 16 and all(len(f) == 1 for f in loso)
    gk = heldout.group_folds(dataset, "groupkfold", k=4)
    assert len(gk) == 4 and sorted(sum(gk, [])) == heldout.training_participants(dataset)
    assert all(len(f) == 4 for f in gk)
    with pytest.raises(ValueError, match="protocol"):
        heldout.group_folds(dataset, "trials")


def test_nested_split_keeps_participants_apart(dataset):
    s = heldout.nested_split(dataset, ["P03"], n_val=2, seed=1)
    tr, va, te = (set(dataset.participant[i]) for i in (s.train, s.val, s.test))
    assert te == {"P03"} and len(va) == 2 and not (tr & va or tr & te or va & te)
    assert len(tr) == 13 and len(s.test) == 30
    assert heldout.nested_split(dataset, ["P03"], 2, 1).identity() == s.identity()
    assert (dataset.split[np.concatenate([s.train, s.val, s.test])] == "train").all()


def test_baselines(dataset):
    pred = heldout.run_baselines(dataset, "class", Settings.resolve("quick", protocol="groupkfold", k=4))
    assert set(pred.model) == {"majority", "stratified", "logreg"}
    acc = pred.groupby("model").apply(lambda d: np.mean(d.y_true == d.y_pred), include_groups=False)
    assert acc["majority"] == pytest.approx(1 / 3)  # balanced classes, one class always predicted
    assert acc["logreg"] > 0.42  # percent-change features carry signal across participants
    assert (pred.groupby("model").size() == 480).all()


def test_permutation_vs_chance():
    rng = np.random.default_rng(0)
    parts = np.repeat([f"P{i}" for i in range(8)], 30)
    y = np.tile(np.repeat([-1, 0, 1], 10), 8)
    good = heldout.permutation_vs_chance(y, y, parts, n_perm=200)
    assert good["accuracy"] == 1.0 and good["p"] < 0.01 and abs(good["null_mean"] - 1 / 3) < 0.02
    rand = heldout.permutation_vs_chance(y, rng.integers(-1, 2, len(y)), parts, n_perm=200)
    assert rand["p"] > 0.01


def test_paired_tests():
    y = np.array([1, 1, 1, 1, 0, 0, 0, 0])
    a = np.array([1, 1, 1, 1, 0, 0, 0, 0])
    b = np.array([0, 0, 0, 1, 0, 0, 0, 0])
    mc = heldout.mcnemar_exact(y, a, b)
    assert (mc["a_only"], mc["b_only"]) == (3, 0) and mc["p"] == pytest.approx(0.25)
    same = heldout.participant_sign_flip(y, a, a, np.repeat(["x", "y"], 4), n_perm=200)
    assert same["mean_difference"] == 0 and same["p"] == 1.0


def test_participant_bootstrap_contains_estimate():
    rng = np.random.default_rng(1)
    pred = pd.DataFrame({"participant": np.repeat(list("abcdefgh"), 30), "y_true": rng.integers(0, 3, 240)})
    pred["y_pred"] = np.where(rng.random(240) < 0.5, pred.y_true, rng.integers(0, 3, 240))
    lo, hi = heldout.participant_bootstrap(pred, lambda t, p: np.mean(t == p), 300)
    assert lo < np.mean(pred.y_true == pred.y_pred) < hi


def test_run_models_and_summary(dataset, tmp_path):
    settings = Settings.resolve("quick", epochs=2, cache_dir=tmp_path, n_seeds=2, progress=False)
    pred = heldout.run_models(dataset, ["ebr"], "class", settings)
    assert len(pred) == 2 * 480 and set(pred.fold) == {0, 1, 2, 3}
    s = heldout.summarise(pred, "class", n_resamples=100)
    row = s.loc["ebr"]
    assert row.seeds == 2 and row.trials == 480
    assert row.boot_lo <= row.accuracy + 0.1 and row.wilson_lo < row.wilson_hi


def test_cli_train_groupkfold(tmp_path):
    r = subprocess.run([sys.executable, "-m", "fmriemo.cli", "train", "--split", "groupkfold", "--k", "4",
                        "--method", "vanilla", "--epochs", "2", "--profile", "quick", "--cache-dir", str(tmp_path),
                        "--quiet"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert len(out["folds"]) == 4 and sum(f["trials"] for f in out["folds"]) == 480
    assert 0 <= out["summary"]["accuracy"] <= 1


def test_kfold_ignores_order_groups(dataset):
    """"kfold" partitions the participants into k folds of near-equal size regardless of order
    groups (twins end up split for this seed), unlike "groupkfold"."""
    groups = heldout.order_groups(dataset)
    kf = heldout.group_folds(dataset, "kfold", k=3)
    assert sorted(sum(kf, [])) == heldout.training_participants(dataset)
    assert sorted(len(f) for f in kf) == [5, 5, 6]
    split_twins = [p for f in kf for p in f if any(groups[q] == groups[p] and q != p and q not in f
                                                   for q in groups)]
    assert split_twins  # the point of the protocol: some twin pairs are separated
    for f in heldout.group_folds(dataset, "groupkfold", k=3):
        assert not any(groups[q] == groups[p] and q not in f for p in f for q in groups)
    with pytest.raises(ValueError, match="k must be between 2 and 16"):
        heldout.group_folds(dataset, "kfold", k=17)


def test_order_check_models(dataset, tmp_path):
    settings = Settings.resolve("quick", epochs=2, cache_dir=tmp_path, k=3, n_seeds=2, progress=False)
    out = heldout.order_check_models(dataset, ["compact"], "class", settings)
    assert list(out.columns) == ["kfold", "groupkfold", "twin_in_training", "difference"]
    row = out.loc["compact"]
    assert 0 <= row["kfold"] <= 1 and 0 <= row["groupkfold"] <= 1 and 0 <= row["twin_in_training"] <= 1
    assert row["difference"] == pytest.approx(row["kfold"] - row["groupkfold"])
    # the groupkfold column is the chapter's own protocol: the same runs as run_models
    pred = heldout.run_models(dataset, ["compact"], "class", settings.replace(seeds=(0,)))
    assert row["groupkfold"] == pytest.approx(np.mean(pred.y_true == pred.y_pred))


def test_settings_resolve_from_a_parameters_cell():
    s = Settings.resolve("full", seed=3, cache_dir="")
    assert (s.protocol, s.seeds, s.k, s.cache_dir, s.n_val) == ("groupkfold", (3,), 3, None, 2)
    assert Settings.resolve("quick", n_seeds=2, protocol="order", k=5).seeds == (0, 1)
    q = Settings.resolve("quick", n_seeds=2, seed=4)
    assert (q.protocol, q.seeds, q.k) == ("groupkfold", (4, 5), 4)  # the quick profile's held-out row
    assert s.replace(protocol="kfold").protocol == "kfold" and s.protocol == "groupkfold"  # frozen
    for bad, match in (({"protocol": "trials"}, "protocol must be one of"), ({"n_seeds": 0}, "n_seeds must be"),
                       ({"profile": "fast"}, "profile must be one of")):
        with pytest.raises(ValueError, match=match):
            Settings.resolve(**{"profile": "quick", **bad})


def test_kept_epochs_text_names_every_kept_epoch_and_the_plateau_count():
    from types import SimpleNamespace

    from fmriemo.heldout import kept_epochs_text
    runs = [SimpleNamespace(best_epoch=e, epochs_run=n, on_plateau=p)
            for e, n, p in ((212, 300, False), (40, 300, True), (260, 300, False))]
    assert kept_epochs_text(runs) == "212, 40 and 260 after 300 epochs (1 of 3 on the plateau)"
    assert kept_epochs_text(runs[:1]) == "212 after 300 epochs (none on the plateau)"
    runs[1].epochs_run = 120
    assert "after 120-300 epochs" in kept_epochs_text(runs)
    assert kept_epochs_text([]) == "none (no runs)"


def _tiny_settings(tmp_path, **kw):
    return Settings.resolve("quick", epochs=2, cache_dir=tmp_path, n_seeds=1, k=2, n_val=2, progress=False, **kw)


def test_inner_fold_models_never_see_their_outer_test_or_inner_fold(dataset, tmp_path):
    s = _tiny_settings(tmp_path)
    inner = heldout.inner_fold_runs(dataset, "ebr", "class", s, inner_k=3)
    outer = heldout.group_folds(dataset, s.protocol, s.k)
    lab = (dataset.split == "train") & dataset.labelled
    assert sorted(inner) == [0, 1]
    for f, runs in inner.items():
        rest = set(dataset.participant[lab]) - set(outer[f])
        assert sorted(p for fold, _ in runs for p in fold) == sorted(rest)  # the inner folds partition them
        for fold, r in runs:
            tested = set(dataset.participant[r.test_index])
            assert tested == set(fold) | set(outer[f])
            assert "nested-" in r.split["name"]
    # the same runs give the search its extra candidate, with the outer fold models' predictions
    predict = heldout.search_candidate(dataset, "ebr", s, inner_k=3)
    tr = np.flatnonzero(lab & ~np.isin(dataset.participant, outer[0]))
    inner_pred, outer_pred = predict(0, outer[0], [fold for fold, _ in inner[0]])
    assert inner_pred.shape == tr.shape and set(np.unique(inner_pred)) <= {0, 1, 2}
    (_, _, r0), = [x for x in heldout.fold_runs(dataset, "ebr", "class", s) if x[1] == 0]
    assert np.array_equal(outer_pred, np.asarray(r0.y_pred)[np.argsort(r0.test_index)])
    with pytest.raises(ValueError, match="inner folds"):
        predict(0, outer[0], [sorted(tested)])


def test_ensemble_comparison_scores_the_three_submissions_on_held_out_participants(dataset, tmp_path):
    s = _tiny_settings(tmp_path)
    pred = heldout.ensemble_comparison(dataset, "ebr", "class", s, n_seeds=2, inner_k=2)
    assert list(dict.fromkeys(pred.ensemble)) == list(heldout.ENSEMBLES)
    runs = heldout.fold_runs(dataset, "ebr", "class", s.replace(seeds=(0, 1)))
    for f in (0, 1):
        rs = [r for _, ff, r in runs if ff == f]
        rows = pred[pred.fold == f]
        single, seeds = rows[rows.ensemble == "single"], rows[rows.ensemble == "seeds"]
        assert np.array_equal(single.y_pred, rs[0].y_pred)
        assert np.array_equal(seeds.y_pred, np.mean([r.proba for r in rs], 0).argmax(1) - 1)
        assert len(rows[rows.ensemble == "folds"]) == len(rs[0].test_index)
    assert heldout.choose_ensemble(pred) in heldout.ENSEMBLES
    tie = pred.assign(y_pred=pred.y_true)  # every ensemble perfect: the simplest wins
    assert heldout.choose_ensemble(tie) == "single"
    better = pred.copy()
    better.loc[better.ensemble == "folds", "y_pred"] = better.y_true
    assert heldout.choose_ensemble(better) == "folds"
    with pytest.raises(ValueError, match="n_seeds >= 2"):
        heldout.ensemble_comparison(dataset, "ebr", "class", s, n_seeds=1)

