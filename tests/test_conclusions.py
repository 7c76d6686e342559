"""Tests of the code that decides the book's conclusions, written so that a plausible wrong
version of each ("mutant") fails: statistics with known answers, the checkpoint rule, every
field of the cache key, damaged cache entries, fine-tuning and the submission table."""
from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
import torch

from fmriemo import evaluate, heldout
from fmriemo.train import (EarlyStopping, RunResult, Split, TrainConfig, fit, make_paper_split, run_key,
                           train_run)

# --------------------------------------------------------------------------- statistics


def test_within_participant_permutation_cannot_change_single_class_participants():
    # each participant saw one class only, and is predicted perfectly: shuffling labels *within*
    # a participant changes nothing (null mean = accuracy, p = 1); shuffling across them would.
    parts = np.repeat(["a", "b", "c", "d", "e", "f"], 10)
    y = np.repeat([0, 1, 2, 0, 1, 2], 10)
    r = heldout.permutation_vs_chance(y, y, parts, n_perm=300)
    assert r["accuracy"] == 1.0 and r["null_mean"] == 1.0 and r["p"] == 1.0


def test_within_participant_permutation_keeps_each_participants_mix():
    # participants with different class mixes; a predictor that always says 0 scores each
    # participant's share of class 0 whatever the shuffle: the null is a point mass at accuracy
    parts = np.repeat(["a", "b", "c"], 10)
    y = np.concatenate([np.zeros(10), np.r_[np.zeros(3), np.ones(7)], np.r_[np.zeros(6), np.full(4, 2)]])
    r = heldout.permutation_vs_chance(y, np.zeros(30), parts, n_perm=300)
    assert r["null_mean"] == pytest.approx(r["accuracy"]) and r["p"] == 1.0


def test_sign_flip_known_case_is_exact():
    # eight participants, each with the same positive difference: only the all-plus and all-minus
    # patterns reach |mean| >= observed, so p = 2 / 2**8
    parts = np.repeat([f"P{i}" for i in range(8)], 10)
    y = np.zeros(80, int)
    a = y.copy()
    b = np.where(np.tile(np.arange(10), 8) < 3, 1, 0)  # b misses 3 of 10 trials of every participant
    r = heldout.participant_sign_flip(y, a, b, parts, n_perm=10000)
    assert r["exact"] and r["mean_difference"] == pytest.approx(0.3) and r["p"] == pytest.approx(2 / 256)


def test_sign_flip_is_symmetric_and_random_when_many_participants():
    rng = np.random.default_rng(3)
    parts = np.repeat([f"P{i}" for i in range(20)], 10)
    y = rng.integers(0, 3, 200)
    a, b = np.where(rng.random(200) < 0.6, y, (y + 1) % 3), np.where(rng.random(200) < 0.6, y, (y + 1) % 3)
    ab = heldout.participant_sign_flip(y, a, b, parts, n_perm=2000)
    ba = heldout.participant_sign_flip(y, b, a, parts, n_perm=2000)
    assert not ab["exact"] and ab["p"] == pytest.approx(ba["p"]) and ab["mean_difference"] == -ba["mean_difference"]


def test_participant_bootstrap_resamples_participants_not_trials():
    # half the participants all right, half all wrong: whole participants vary a lot
    parts = np.repeat([f"P{i}" for i in range(10)], 30)
    y = np.zeros(300, int)
    pred = np.where(np.isin(parts, [f"P{i}" for i in range(5)]), 0, 1)
    frame = pd.DataFrame({"participant": parts, "y_true": y, "y_pred": pred})
    lo, hi = heldout.participant_bootstrap(frame, lambda t, p: np.mean(t == p), 1000)
    assert hi - lo > 0.4
    tlo, thi = evaluate.bootstrap_interval(y, pred, lambda t, p: np.mean(t == p), 1000)
    assert thi - tlo < 0.15


def test_paired_aligns_trials_by_index_and_seed():
    rows = []
    for model, offset in (("a", 0), ("b", 1)):
        for seed in (0, 1):
            idx = np.arange(6)
            order = np.random.default_rng(seed + offset).permutation(6)  # rows in different orders
            rows.append(pd.DataFrame({"model": model, "seed": seed, "index": idx[order], "y_true": 0,
                                      "y_pred": 100 * offset + 10 * seed + idx[order], "participant": "P1"}))
    m = heldout.paired(pd.concat(rows), "a", "b")
    assert len(m) == 12
    assert (m.y_pred_a == 10 * m.seed + m["index"]).all() and (m.y_pred_b == 100 + 10 * m.seed + m["index"]).all()
    one = heldout.paired(pd.concat(rows), "a", "b", seed=1)
    assert len(one) == 6 and (one.seed == 1).all()


# --------------------------------------------------------------------------- the checkpoint rule

def test_early_stopping_keeps_the_first_best_and_waits_for_min_epochs():
    acc = [0.3, 0.5, 0.5, 0.4, 0.5, 0.45, 0.45, 0.45, 0.45, 0.45, 0.6]
    assert EarlyStopping.replay(acc, maximise=True) == (11, 11)
    assert EarlyStopping.replay(acc, maximise=True, epochs=10) == (10, 2)  # first of the tied maxima
    assert EarlyStopping.replay(acc, maximise=True, patience=3) == (5, 2)
    assert EarlyStopping.replay(acc, maximise=True, patience=3, min_epochs=8) == (8, 2)
    assert EarlyStopping.replay(acc, maximise=True, patience=3, min_epochs=11) == (11, 11)
    loss = [3.0, 2.0, 2.0, 2.5, 1.0]
    assert EarlyStopping.replay(loss, maximise=False) == (5, 5)
    assert EarlyStopping.replay(loss, maximise=False, patience=2) == (4, 2)
    assert EarlyStopping.replay([np.nan, np.nan], maximise=False) == (2, 0)  # never finite: nothing kept


@pytest.mark.parametrize("task", ["class", "level"])
def test_fit_returns_the_kept_checkpoint(dataset, task):
    # On the plateau of the paper's recipe (small learning rate, 30 epochs) validation accuracy is
    # flat on any machine: many tied maxima, the first one early, so a model that kept the last
    # weights or a later tie would not reproduce the recorded validation values of the kept epoch.
    from fmriemo import preprocess
    from fmriemo.data import encode
    from fmriemo.models import build_model, l2_penalty
    split = make_paper_split(dataset, task)
    X = preprocess.minmax_trial(dataset.X)
    y = encode(task, np.nan_to_num({"class": dataset.y_class, "level": dataset.y_level}[task]))
    cfg = TrainConfig(method="ebr", task=task, seed=1, epochs=30, patience=None, min_epochs=0, lr=0.003,
                      monitor="val_acc", device="cpu")
    torch.manual_seed(cfg.seed)
    model = build_model("ebr", task)
    _, hist, kept = fit(model, X[split.train], y[split.train], X[split.val], y[split.val], cfg, progress=False)
    assert kept == 1 + int(np.argmax(hist["val_acc"]))  # the first maximum
    if task == "class":  # the 3-class plateau is flat on every machine tried; the 9-level one is not
        assert hist["val_acc"].count(max(hist["val_acc"])) > 1, "no tie: the '>=' mutant would pass"
        assert kept < len(hist["epoch"]), "kept the last epoch: the 'keep last' mutant would pass"
    model.eval()
    with torch.no_grad():
        logits = model(torch.as_tensor(X[split.val]))
        yv = torch.as_tensor(y[split.val])
        vloss = (torch.nn.functional.cross_entropy(logits, yv) + l2_penalty(model, cfg.l2)).item()
        vacc = (logits.argmax(1) == yv).float().mean().item()
    assert vloss == pytest.approx(hist["val_loss"][kept - 1], rel=1e-5)
    assert vacc == pytest.approx(hist["val_acc"][kept - 1])


def test_plateau_exit_and_flag():
    from fmriemo.train import plateau_exit
    flat = [0.33] * 100
    assert plateau_exit({"val_acc": flat}) is None
    rising = [0.33] * 60 + [0.5] * 60
    exit_ = plateau_exit({"val_acc": rising})
    assert 60 < exit_ < 85
    r = RunResult(key="k", config={}, split={}, history={"val_acc": rising}, best_epoch=10, epochs_run=120,
                  seconds=0, test_index=np.arange(1), y_true=np.zeros(1), y_pred=np.zeros(1), proba=np.zeros((1, 3)))
    assert r.on_plateau
    r.best_epoch = 100
    assert not r.on_plateau


# --------------------------------------------------------------------------- the cache key

CHANGES = {"method": "vanilla", "task": "level", "seed": 1, "epochs": 7, "patience": 3, "min_epochs": 2,
           "lr": 0.5, "batch_size": 64, "l2": 0.1, "preprocess": "pct", "monitor": "val_loss"}


def test_every_config_field_is_in_the_key_or_deliberately_not(dataset):
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    assert fields == set(CHANGES) | {"device"}, "a new TrainConfig field needs a case here"


@pytest.mark.parametrize("field", sorted(CHANGES))
def test_cache_key_changes_with_each_setting(dataset, field):
    split = make_paper_split(dataset, "class")
    base = TrainConfig(method="asb", task="class", seed=0, epochs=5, patience=None, min_epochs=0)
    other = dataclasses.replace(base, **{field: CHANGES[field]})
    assert run_key(dataset, split, other) != run_key(dataset, split, base)


def test_cache_key_ignores_device_and_follows_data_and_split(dataset):
    split = make_paper_split(dataset, "class")
    cfg = TrainConfig(epochs=5, patience=None, min_epochs=0)
    assert run_key(dataset, split, cfg) == run_key(dataset, split, dataclasses.replace(cfg, device="cpu"))
    changed = dataset.subset(np.arange(len(dataset)))
    changed.X = changed.X.copy()
    changed.X[5, 10, 3] += 1.0
    assert run_key(changed, split, cfg) != run_key(dataset, split, cfg)
    other = Split(split.name, split.train[1:], np.r_[split.val, split.train[:1]], split.test)
    assert run_key(dataset, other, cfg) != run_key(dataset, split, cfg)


def test_code_that_decides_results_is_hashed():
    """Every package module that the training and fine-tuning code imports is in the cache key
    (profiles only set the configuration, which is itself in the key; calibrate only decides order
    groups, and a split's row indices are in the key; files only writes)."""
    import re
    from pathlib import Path

    from fmriemo.store import RESULT_CODE
    pkg = Path(__file__).resolve().parent.parent / "fmriemo"
    assert {"models.py", "train.py", "optim.py", "splits.py", "store.py", "preprocess.py", "data.py", "atlas.py",
            "challenge.py", "evaluate.py"} <= set(RESULT_CODE)
    for name in RESULT_CODE:
        imported = set(re.findall(r"from \.(\w+) import", (pkg / name).read_text()))
        assert {f"{m}.py" for m in imported} - {"profiles.py", "files.py", "calibrate.py"} <= set(RESULT_CODE), name


# --------------------------------------------------------------------------- damaged cache entries

def _damage(folder, how):
    if how == "truncated json":
        f = folder / "result.json"
        f.write_text(f.read_text()[:50])
    elif how == "empty json":
        (folder / "result.json").write_text("")
    elif how == "garbage json":
        (folder / "result.json").write_bytes(b"\x00\xff garbage")
    elif how == "missing model":
        (folder / "model.pt").unlink()
    elif how == "altered model":
        f = folder / "model.pt"
        data = bytearray(f.read_bytes())
        data[len(data) // 2] ^= 0xFF
        f.write_bytes(bytes(data))
    elif how == "json without keys":
        (folder / "result.json").write_text(json.dumps({"key": "x"}))
    elif how == "missing manifest":
        (folder / ".manifest.json").unlink()
    elif how == "garbage manifest":
        (folder / ".manifest.json").write_text("[1, 2")


@pytest.mark.parametrize("how", ["truncated json", "empty json", "garbage json", "missing model", "altered model",
                                 "json without keys", "missing manifest", "garbage manifest"])
def test_damaged_cache_entry_is_reported_and_retrained(dataset, tmp_path, capsys, how):
    split = make_paper_split(dataset, "class")
    cfg = TrainConfig(method="ebr", seed=0, epochs=2, patience=None, min_epochs=0)
    first = train_run(dataset, split, cfg, tmp_path, progress=False)
    _damage(tmp_path / "runs" / first.key, how)
    capsys.readouterr()
    again = train_run(dataset, split, cfg, tmp_path, progress=False)
    err = capsys.readouterr().err
    assert not again.cached and again.history.keys() == first.history.keys()
    assert all(np.array_equal(again.history[k], first.history[k], equal_nan=True) for k in first.history)
    assert err.count("\n") == 1 and "damaged" in err and first.key in err
    assert train_run(dataset, split, cfg, tmp_path, progress=False).cached
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == [first.key]  # no temporary folders left


# --------------------------------------------------------------------------- challenge: fine-tuning, submissions

def test_fine_tuning_changes_the_model_and_its_key(dataset, tmp_path):
    from fmriemo import challenge
    split = challenge.participant_split(dataset, n_val=3, seed=0)
    base = train_run(dataset, split, TrainConfig(method="ebr", seed=0, epochs=3, patience=None, min_epochs=0),
                     tmp_path, progress=False)
    rel = np.flatnonzero((dataset.split == "test") & dataset.labelled)
    rest = np.flatnonzero((dataset.split == "test") & ~dataset.labelled)
    tuned = challenge.fine_tune(dataset, base, rel, rest, epochs=5, cache_dir=tmp_path)
    assert not tuned["cached"]
    base_proba = dict(zip(base.test_index.tolist(), base.proba))
    assert not np.allclose(tuned["proba"], np.array([base_proba[i] for i in rest]), atol=1e-4)
    key = challenge.fine_tune_key(dataset, base, rel, rest, 5, 0.1, 2)
    assert key != challenge.fine_tune_key(dataset, base, rel, rest, 6, 0.1, 2)
    assert key != challenge.fine_tune_key(dataset, base, rel, rest, 5, 0.2, 2)
    assert key != challenge.fine_tune_key(dataset, base, rel, rest, 5, 0.1, 3)
    again = challenge.fine_tune(dataset, base, rel, rest, epochs=5, cache_dir=tmp_path)
    assert again["cached"] and np.allclose(again["proba"], tuned["proba"])


def test_predictions_table_rows_follow_the_runs_trials(dataset):
    from fmriemo.challenge import predictions_table
    idx = np.random.default_rng(0).permutation(np.flatnonzero(dataset.split == "test"))

    def fake(values):
        return RunResult(key="k", config={}, split={}, history={}, best_epoch=1, epochs_run=1, seconds=0,
                         test_index=idx, y_true=np.zeros(len(idx)), y_pred=values, proba=np.zeros((len(idx), 3)))
    cls = np.array([(-1, 0, 1)[i % 3] for i in idx])
    lev = np.array([(i % 9) - 4 for i in idx])
    table = predictions_table(dataset, fake(cls), fake(lev))
    for row in table.itertuples():
        i = np.flatnonzero((dataset.participant == row.Participant) & (dataset.trial == row.Trial))[0]
        assert row.CLASS == (-1, 0, 1)[i % 3] and row.LEVEL == (i % 9) - 4


# --------------------------------------------------------------------------- known answers for the survivors of
# a first mutation run (sign-flip's random branch, McNemar, p-value formulas, paired keys, the level rule)

def test_sign_flip_random_branch_known_answers():
    parts = np.repeat([f"P{i}" for i in range(12)], 10)  # 2**12 > n_perm: random patterns
    y = np.zeros(120, int)
    b = np.where(np.tile(np.arange(10), 12) < 2, 1, 0)
    r = heldout.participant_sign_flip(y, y, b, parts, n_perm=1000, seed=0)
    assert not r["exact"] and r["participants"] == 12 and r["mean_difference"] == pytest.approx(0.2)
    assert 1 / 1001 <= r["p"] <= 4 / 1001  # only the all-plus / all-minus patterns reach it
    same = heldout.participant_sign_flip(y, b, b, parts, n_perm=1000)
    assert same["p"] == 1.0 and same["mean_difference"] == 0.0
    exact_same = heldout.participant_sign_flip(y[:30], b[:30], b[:30], parts[:30], n_perm=1000)
    assert exact_same["exact"] and exact_same["p"] == 1.0


def test_mcnemar_known_answers():
    y = np.zeros(10, int)
    a = np.r_[np.zeros(6), np.ones(4)].astype(int)      # right on 6
    b = np.r_[np.ones(5), np.zeros(1), np.ones(4)].astype(int)  # right on 1 (trial 5), wrong elsewhere
    r = heldout.mcnemar_exact(y, a, b)
    assert (r["a_only"], r["b_only"]) == (5, 0) and r["p"] == pytest.approx(2 * 0.5 ** 5)
    r = heldout.mcnemar_exact(y, b, a)
    assert (r["a_only"], r["b_only"]) == (0, 5)
    assert heldout.mcnemar_exact(y, a, a) == {"a_only": 0, "b_only": 0, "p": 1.0}


def test_permutation_p_value_formula():
    # one participant, two trials, predicted right: half of all shuffles are right too
    parts = np.array(["a", "a"])
    r = heldout.permutation_vs_chance(np.array([0, 1]), np.array([0, 1]), parts, n_perm=4000, seed=1)
    assert r["accuracy"] == 1.0 and r["null_mean"] == pytest.approx(0.5, abs=0.03)
    assert r["p"] == pytest.approx(0.5, abs=0.03)
    wrong = heldout.permutation_vs_chance(np.array([0, 1]), np.array([1, 0]), parts, n_perm=400)
    assert wrong["p"] == 1.0 and wrong["accuracy"] == 0.0


def test_paired_deep_against_single_seed_baseline():
    deep = pd.DataFrame({"model": "deep", "seed": np.repeat([3, 4], 4), "index": np.tile(np.arange(4), 2),
                         "y_true": 0, "y_pred": np.r_[np.zeros(4), np.ones(4)], "participant": "P1"})
    base = pd.DataFrame({"model": "base", "seed": 0, "index": np.arange(4)[::-1], "y_true": 0,
                         "y_pred": np.arange(4)[::-1] * 10, "participant": "P1"})
    m = heldout.paired(pd.concat([deep, base]), "deep", "base")
    assert len(m) == 4 and (m.y_pred_a == 0).all()  # the deep model's first seed only
    assert (m.y_pred_b == m["index"] * 10).all()
    m4 = heldout.paired(pd.concat([deep, base]), "deep", "base", seed=4)
    assert (m4.y_pred_a == 1).all() and len(m4) == 4


def test_smape_optimal_levels_known_answers():
    from fmriemo.level import class_aware_levels, smape_optimal_levels
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


def test_predictions_table_refuses_runs_on_other_trials(dataset):
    from fmriemo.challenge import predictions_table
    idx = np.flatnonzero(dataset.split == "test")

    def fake(index):
        return RunResult(key="k", config={}, split={}, history={}, best_epoch=1, epochs_run=1, seconds=0,
                         test_index=index, y_true=np.zeros(len(index)), y_pred=np.zeros(len(index)),
                         proba=np.zeros((len(index), 3)))
    with pytest.raises(ValueError, match="same trials"):
        predictions_table(dataset, fake(idx), fake(idx[::-1]))
    t = predictions_table(dataset, fake(idx), fake(idx))
    assert list(t.columns) == ["Participant", "Trial", "CLASS", "LEVEL"] and len(t) == len(idx)
    assert t.dtypes["CLASS"].kind == "i" and t.dtypes["LEVEL"].kind == "i"


def test_replay_budget_cuts_the_curve():
    assert EarlyStopping.replay([0.1, 0.2, 0.3], maximise=True, epochs=None) == (3, 3)
    assert EarlyStopping.replay([0.1, 0.2, 0.3], maximise=True, epochs=2) == (2, 2)
    assert EarlyStopping.replay([0.3, 0.2, 0.1], maximise=True, patience=1) == (2, 1)
    assert EarlyStopping.replay([0.3, 0.2, 0.1], maximise=True, patience=1, min_epochs=3) == (3, 1)


def test_budget_table_reads_the_checkpoint_each_budget_keeps():
    from fmriemo import experiments
    h = {"val_acc": [0.3, 0.5, 0.4, 0.6, 0.6], "test_acc": [0.1, 0.2, 0.3, 0.4, 0.5],
         "test_f1": [0.11, 0.22, 0.33, 0.44, 0.55]}
    r = RunResult(key="k", config={"monitor": "val_acc"}, split={}, history=h, best_epoch=4, epochs_run=5,
                  seconds=0, test_index=np.arange(2), y_true=np.zeros(2), y_pred=np.zeros(2), proba=np.zeros((2, 3)))
    tab = experiments.budget_table({("asb", 0): r}, budgets=(1, 3, 5, 50))
    assert tab["budget"].tolist() == [1, 3, 5]  # a budget longer than the run is left out
    assert tab["kept_epoch"].tolist() == [1, 2, 4] and tab["test_f1"].tolist() == [0.11, 0.22, 0.44]
    table = pd.DataFrame({"method": ["asb"], "seed": [0], "f1": [0.44]})
    f1 = experiments.f1_by_budget({("asb", 0): r}, table, "class", budgets=(1, 3))
    assert f1.loc["asb", 3] == 0.22 and f1.loc["asb", "this chapter's rule"] == 0.44
    assert f1.loc["asb", "paper"] == 0.73


def test_paired_single_seed_model_on_either_side():
    deep = pd.DataFrame({"model": "deep", "seed": np.repeat([3, 4], 4), "index": np.tile(np.arange(4), 2),
                         "y_true": 0, "y_pred": np.r_[np.zeros(4), np.ones(4)], "participant": "P1"})
    base = pd.DataFrame({"model": "base", "seed": 0, "index": np.arange(4), "y_true": 0, "y_pred": 7,
                         "participant": "P1"})
    pred = pd.concat([deep, base])
    m = heldout.paired(pred, "base", "deep")
    assert len(m) == 4 and (m.y_pred_a == 7).all() and (m.y_pred_b == 0).all()  # deep's first seed
    m4 = heldout.paired(pred, "base", "deep", seed=4)
    assert len(m4) == 4 and (m4.y_pred_a == 7).all() and (m4.y_pred_b == 1).all()  # the seed asked for


def test_sign_flip_exact_up_to_n_perm_patterns():
    parts = np.repeat([f"P{i}" for i in range(8)], 10)
    y = np.zeros(80, int)
    b = np.where(np.tile(np.arange(10), 8) < 3, 1, 0)
    at_limit = heldout.participant_sign_flip(y, y, b, parts, n_perm=256)  # 2**8 == n_perm: still exact
    assert at_limit["exact"] and at_limit["p"] == pytest.approx(2 / 256)
    assert not heldout.participant_sign_flip(y, y, b, parts, n_perm=255)["exact"]
    parts10 = np.repeat([f"P{i}" for i in range(10)], 10)
    y10, b10 = np.zeros(100, int), np.where(np.tile(np.arange(10), 10) < 3, 1, 0)
    r = heldout.participant_sign_flip(y10, y10, b10, parts10, n_perm=2000)  # 2**10 <= 2000 < 3**10
    assert r["exact"] and r["p"] == pytest.approx(2 / 1024)


def test_predictions_table_error_message_is_exact(dataset):
    from fmriemo.challenge import predictions_table
    idx = np.flatnonzero(dataset.split == "test")
    runs = [RunResult(key="k", config={}, split={}, history={}, best_epoch=1, epochs_run=1, seconds=0,
                      test_index=i, y_true=np.zeros(len(i)), y_pred=np.zeros(len(i)), proba=np.zeros((len(i), 3)))
            for i in (idx, idx[::-1])]
    with pytest.raises(ValueError, match=r"^class and level runs must predict the same trials$"):
        predictions_table(dataset, *runs)
