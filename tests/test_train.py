import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from fmriemo.train import (Lookahead, TrainConfig, config_for, make_paper_split, paper_split, ranger,
                           resolve_device, train_paper, train_run)


def test_lookahead_interpolates_every_k_steps():
    p = torch.nn.Parameter(torch.zeros(1))
    opt = Lookahead(torch.optim.SGD([p], lr=1.0), k=6, alpha=0.5)
    for step in range(1, 7):
        opt.zero_grad()
        (p * 1.0).sum().backward()  # gradient 1: each fast step moves -1
        opt.step()
        if step < 6:
            assert p.item() == pytest.approx(-step)
    assert p.item() == pytest.approx(-3.0)  # slow 0 moved half way to fast -6
    assert isinstance(ranger([p], 1e-3).base, torch.optim.RAdam)


def test_paper_split_sizes_and_stratification(dataset):
    for task in ("class", "level"):
        s = make_paper_split(dataset, task)
        assert (len(s.train), len(s.val), len(s.test)) == (384, 48, 48)
        all_idx = np.concatenate([s.train, s.val, s.test])
        assert len(set(all_idx)) == 480 and (dataset.split[all_idx] == "train").all()
        assert s.identity() == make_paper_split(dataset, task).identity()  # seed 410 by default
    s = make_paper_split(dataset, "class")
    counts = np.unique(dataset.y_class[s.test], return_counts=True)[1]
    assert counts.tolist() == [16, 16, 16]
    # trials of the same participant on both sides, as the authors did
    assert set(dataset.participant[s.train]) & set(dataset.participant[s.test])
    assert make_paper_split(dataset, "class", 1).identity() != s.identity()


def test_paper_split_reports_impossible_stratification():
    from fmriemo.data import DataError
    with pytest.raises(DataError, match="stratified split"):
        paper_split(np.array([0] * 30 + [1]))


def test_config_validation_and_profiles():
    assert config_for("paper", task="class").epochs == 10000 and config_for("paper").patience is None
    assert config_for("quick", epochs=5).patience <= 5
    assert TrainConfig(task="level").learning_rate == 1e-4 and TrainConfig().learning_rate == 1e-3
    assert TrainConfig(task="level").monitored == "val_loss" and TrainConfig().monitored == "val_acc"
    for bad in ({"epochs": 0}, {"patience": 0}, {"preprocess": "x"}, {"task": "valence"}):
        with pytest.raises(ValueError):
            TrainConfig(**bad)
    with pytest.raises(ValueError, match="profile"):
        config_for("fast")
    assert resolve_device("auto").type in ("cpu", "cuda")


def _small(dataset, task="class"):
    return make_paper_split(dataset, task)


def test_training_is_deterministic_and_cached(dataset, tmp_path):
    split = _small(dataset)
    cfg = TrainConfig(method="asb", seed=3, epochs=3, patience=None, device="cpu")  # CUDA is not bitwise repeatable
    a = train_run(dataset, split, cfg, tmp_path / "a", progress=False)
    b = train_run(dataset, split, cfg, tmp_path / "b", progress=False)
    assert not a.cached and not b.cached
    assert a.history.keys() == b.history.keys() and np.array_equal(a.proba, b.proba)
    assert all(np.array_equal(a.history[k], b.history[k], equal_nan=True) for k in a.history)
    c = train_run(dataset, split, cfg, tmp_path / "a", progress=False)
    assert c.cached and c.key == a.key and np.allclose(c.proba, a.proba)
    assert c.gates.shape == (48, 246)
    d = train_run(dataset, split, TrainConfig(method="asb", seed=4, epochs=3, patience=None, device="cpu"), tmp_path / "a",
                  progress=False)
    assert d.key != a.key and not d.cached
    # the cached checkpoint reproduces the stored predictions
    from fmriemo import preprocess
    from fmriemo.train import predict
    proba, gates = predict(c.load_model(), preprocess.minmax_trial(dataset.X[c.test_index]))
    assert np.allclose(proba, c.proba, atol=1e-5) and np.allclose(gates, c.gates, atol=1e-6)


def test_test_trace_scores_every_epoch_a_budget_can_keep(dataset, tmp_path):
    from fmriemo import preprocess
    from fmriemo.data import encode
    from fmriemo.experiments import kept_at_budget
    from fmriemo.models import build_model
    from fmriemo.train import TestTrace, fit
    split = _small(dataset)
    cfg = TrainConfig(method="ebr", seed=1, epochs=40, patience=None, device="cpu")
    r = train_run(dataset, split, cfg, tmp_path, progress=False)
    acc, val = np.asarray(r.history["test_acc"]), r.history["val_acc"]
    running_best = [e for e in range(1, 41) if val[e - 1] > max(val[:e - 1], default=-np.inf)]
    assert np.flatnonzero(np.isfinite(acc)).tolist() == [e - 1 for e in running_best]
    assert all(np.isfinite(acc[kept_at_budget(r, b) - 1]) for b in range(1, 41))
    # the scored epochs carry the values a trace of every epoch gives: the trace changes no training
    X = preprocess.apply(cfg.preprocess, dataset.X, dataset.participant)
    y = {part: encode("class", dataset.y_class[idx]) for part, idx in
         (("train", split.train), ("val", split.val), ("test", split.test))}
    every = TestTrace(X[split.test], y["test"], "class", torch.device("cpu"))
    torch.manual_seed(cfg.seed)
    fit(build_model("ebr", "class"), X[split.train], y["train"], X[split.val], y["val"], cfg,
        progress=False, on_epoch=lambda e, m, improved: every(e, m))
    full = np.asarray(every.values["test_acc"])
    assert np.isfinite(full).all() and np.allclose(acc[np.isfinite(acc)], full[np.isfinite(acc)])


def test_early_stopping_and_checkpoint(dataset, tmp_path):
    r = train_run(dataset, _small(dataset, "level"), TrainConfig(method="ebr", task="level", seed=0, epochs=200,
                                                                   patience=3, lr=0.05), tmp_path, progress=False)
    assert r.epochs_run < 200 and r.epochs_run - r.best_epoch == 3
    best = min(r.history["val_loss"])
    assert r.history["val_loss"][r.best_epoch - 1] == best
    assert set(np.unique(r.y_pred)) <= set(range(-4, 5))


def test_train_paper_uses_profile(dataset, tmp_path):
    r = train_paper(dataset, "vanilla", "class", profile="quick", epochs=2, cache_dir=tmp_path, progress=False)
    assert r.epochs_run <= 2 and r.config["epochs"] == 2 and r.split["name"] == "paper-class-410"


def test_cli_train_prints_json_and_reuses_cache(tmp_path):
    cmd = [sys.executable, "-m", "fmriemo.cli", "train", "--method", "ebr", "--task", "level", "--epochs", "2",
           "--profile", "quick", "--cache-dir", str(tmp_path), "--quiet"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["test_trials"] == 48 and 0 <= out["metrics"]["f1"] <= 1 and out["from_cache"] is False
    assert len(out["metrics"]["accuracy_ci"]) == 2
    again = json.loads(subprocess.run(cmd, capture_output=True, text=True).stdout)
    assert again["from_cache"] is True and again["metrics"] == out["metrics"]


def test_cli_train_bad_data_dir(tmp_path):
    r = subprocess.run([sys.executable, "-m", "fmriemo.cli", "train", "--data-dir", str(tmp_path / "missing")],
                       capture_output=True, text=True)
    assert r.returncode == 1 and "does not exist" in r.stderr and "Traceback" not in r.stderr


def test_compact_level_models_get_their_own_budget():
    from fmriemo.profiles import PROFILES
    from fmriemo.train import config_for
    for profile, p in PROFILES.items():
        level, cls = (config_for(profile, method="compact", task=t) for t in ("level", "class"))
        assert (level.epochs, level.min_epochs, level.patience) == tuple(p["budget"]["compact_level"][k] for k in
                                                                         ("epochs", "min_epochs", "patience"))
        assert (cls.epochs, cls.min_epochs, cls.patience) == tuple(p["budget"]["compact"][k] for k in
                                                                   ("epochs", "min_epochs", "patience"))
    assert config_for("full", method="compact", task="level").min_epochs == 200  # past its ~60-epoch plateau
    # Compact's level checkpoint is chosen on validation accuracy; the paper's level models keep the paper's rule
    assert config_for("full", method="compact", task="level").monitored == "val_acc"
    assert config_for("full", method="asb", task="level").monitored == "val_loss"
    assert config_for("full", 50, method="compact", task="level").min_epochs == 50  # an epochs override caps it
