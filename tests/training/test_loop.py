"""The fitting loop: the checkpoint rule (kept epoch, early stopping, replay on a recorded curve), the
plateau, the test record, and training that diverges."""
import numpy as np
import pytest
import torch

from fmriemo.data import preprocess
from fmriemo.data.dataset import encode
from fmriemo.data.splits import make_paper_split
from fmriemo.models.registry import build_model, l2_penalty
from fmriemo.training.config import TrainConfig, config_for
from fmriemo.training import loop
from fmriemo.training.loop import EarlyStopping, PlateauWatch, TrainingDiverged, fit, plateau_exit
from fmriemo.training.runs import RUN_THREADS, RunResult, intra_op_threads, train_run


# --------------------------------------------------------------------------- the checkpoint rule

@pytest.mark.conclusions
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


@pytest.mark.conclusions
def test_early_stopping_arms_after_the_runs_own_plateau_exit():
    # 30 epochs at 0.3, then 0.6: the 25-epoch running mean clears 0.3 + 0.05 at epoch 35 (5 of 25 at 0.6);
    # the best epoch, 36, is the first at 0.65, past the exit
    acc = [0.3] * 30 + [0.6] * 5 + [0.65] * 5 + [0.5] * 60
    assert plateau_exit({"val_acc": acc}) == 35
    # patience 10: without after_exit the rule waits for min_epochs 90; armed 20 epochs after the exit it
    # stops at the first epoch both hold (epoch 55: the exit + 20, and 19 epochs since the best)
    assert EarlyStopping.replay(acc, maximise=True, patience=10, min_epochs=90) == (90, 36)
    assert EarlyStopping.replay(acc, maximise=True, patience=10, min_epochs=90, after_exit=20) == (55, 36)
    assert EarlyStopping.replay(acc, maximise=True, patience=10, min_epochs=90, after_exit=0) == (46, 36)
    # a best epoch before the exit is read as a fluctuation on the plateau: that run waits for min_epochs
    early_best = [0.3] * 30 + [0.6] * 10 + [0.5] * 60
    assert plateau_exit({"val_acc": early_best}) == 35
    assert EarlyStopping.replay(early_best, maximise=True, patience=10, min_epochs=90, after_exit=0) == (90, 31)
    # a run that never leaves its plateau waits for min_epochs as before
    flat = [0.3, 0.32] * 50
    assert EarlyStopping.replay(flat, maximise=True, patience=10, min_epochs=90, after_exit=0) == (90, 2)
    # a loss-monitored run reads its plateau off the validation accuracy given beside it
    loss = list(np.linspace(2.0, 1.0, 100))
    assert EarlyStopping.replay(loss, maximise=False, patience=1, min_epochs=90, after_exit=0, val_acc=acc) == (100, 100)
    assert EarlyStopping.replay(loss[:60] + [2.0] * 40, maximise=False, patience=5, min_epochs=90, after_exit=0,
                                val_acc=acc) == (65, 60)


@pytest.mark.conclusions
def test_the_online_plateau_watch_finds_the_epoch_plateau_exit_finds():
    rng = np.random.default_rng(0)
    for _ in range(50):
        n, jump = rng.integers(50, 200), rng.integers(0, 150)
        acc = 0.33 + 0.03 * rng.standard_normal(n) + 0.15 * (np.arange(n) >= jump)
        watch = PlateauWatch()
        for e, v in enumerate(acc, start=1):
            watch.update(e, v)
        assert watch.exit == plateau_exit({"val_acc": acc})


@pytest.mark.conclusions
def test_replay_budget_cuts_the_curve():
    assert EarlyStopping.replay([0.1, 0.2, 0.3], maximise=True, epochs=None) == (3, 3)
    assert EarlyStopping.replay([0.1, 0.2, 0.3], maximise=True, epochs=2) == (2, 2)
    assert EarlyStopping.replay([0.3, 0.2, 0.1], maximise=True, patience=1) == (2, 1)
    assert EarlyStopping.replay([0.3, 0.2, 0.1], maximise=True, patience=1, min_epochs=3) == (3, 1)


@pytest.mark.conclusions
@pytest.mark.parametrize("task", ["class", "level"])
def test_fit_returns_the_kept_checkpoint(dataset, task):
    # On the plateau of the paper's recipe (small learning rate, 30 epochs) validation accuracy is
    # mostly flat: tied maxima, the first one early, so a model that kept the last weights or a later
    # tie would not reproduce the recorded validation values of the kept epoch. Which seeds leave the
    # plateau within 30 epochs depends on the machine's rounding (seed 1 did on one thread here on
    # 2026-12-02, not before), so the class task takes the first of a few seeds whose curve has a tie.
    split = make_paper_split(dataset, task)
    X = preprocess.minmax_trial(dataset.X)
    y = encode(task, np.nan_to_num({"class": dataset.y_class, "level": dataset.y_level}[task]))
    for seed in (1, 2, 3, 4, 5):
        cfg = TrainConfig(method="ebr", task=task, seed=seed, epochs=30, patience=None, min_epochs=0, lr=0.003,
                          monitor="val_acc", device="cpu")
        torch.manual_seed(cfg.seed)
        model = build_model("ebr", task)
        _, hist, kept = fit(model, X[split.train], y[split.train], X[split.val], y[split.val], cfg, progress=False)
        assert kept == 1 + int(np.argmax(hist["val_acc"]))  # the first maximum
        if task == "level" or hist["val_acc"].count(max(hist["val_acc"])) > 1:
            break  # the 9-level plateau is not flat: any seed tests the restored checkpoint
    if task == "class":
        assert hist["val_acc"].count(max(hist["val_acc"])) > 1, "no tie in 5 seeds: the '>=' mutant would pass"
        assert kept < len(hist["epoch"]), "kept the last epoch: the 'keep last' mutant would pass"
    model.eval()
    with torch.no_grad():
        logits = model(torch.as_tensor(X[split.val]))
        yv = torch.as_tensor(y[split.val])
        vloss = (torch.nn.functional.cross_entropy(logits, yv) + l2_penalty(model, cfg.l2)).item()
        vacc = (logits.argmax(1) == yv).float().mean().item()
    assert vloss == pytest.approx(hist["val_loss"][kept - 1], rel=1e-5)
    assert vacc == pytest.approx(hist["val_acc"][kept - 1])


@pytest.mark.conclusions
def test_plateau_exit_and_flag():
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


@pytest.mark.conclusions
def test_still_improving_flags_runs_the_cap_cut_off():
    """The cap ended the run and the rule had not yet waited ``patience`` epochs since the kept one (or,
    without early stopping, the kept epoch is in the last 5% of the budget)."""
    from fmriemo.training.loop import still_improving
    assert still_improving(best_epoch=1450, epochs_run=1500, epochs=1500, patience=300)
    assert not still_improving(best_epoch=1100, epochs_run=1400, epochs=1500, patience=300)  # the rule stopped it
    assert not still_improving(best_epoch=1200, epochs_run=1500, epochs=1500, patience=300)  # patience ran out
    # with patience the window is the patience, not 5% of the budget (75 epochs here)
    assert still_improving(best_epoch=1300, epochs_run=1500, epochs=1500, patience=300)
    assert not still_improving(best_epoch=1440, epochs_run=1500, epochs=1500, patience=50)
    assert still_improving(best_epoch=9990, epochs_run=10000, epochs=10000, patience=None)
    assert still_improving(best_epoch=9501, epochs_run=10000, epochs=10000, patience=None)
    assert not still_improving(best_epoch=9500, epochs_run=10000, epochs=10000, patience=None)
    assert still_improving(best_epoch=2, epochs_run=2, epochs=2, patience=None)  # a tiny budget: the last epoch
    r = RunResult(key="k", config={"epochs": 1000, "patience": None}, split={}, history={}, best_epoch=990,
                  epochs_run=1000, seconds=0, test_index=np.arange(1), y_true=np.zeros(1), y_pred=np.zeros(1),
                  proba=np.zeros((1, 3)))
    assert r.still_improving  # every level-task run of the real data's full profile looked like this
    r.best_epoch = 600
    assert not r.still_improving


# --------------------------------------------------------------------------- the thread's denormal flag

@pytest.mark.parametrize("form", ["fit", "vmap", "threads"])
@pytest.mark.parametrize("before", [False, True])
def test_training_flushes_denormals_in_its_epochs_and_gives_the_thread_its_setting_back(form, before):
    from fmriemo.training.batched import Member, fit_members
    rng = np.random.default_rng(0)
    X = rng.random((24, 246, 25)).astype(np.float32)  # EBR reads its 32 regions from the 246
    y = np.arange(24) % 3
    cfg = TrainConfig(method="ebr", task="class", epochs=3, device="cpu")
    seen = []
    torch.set_flush_denormal(before)
    try:
        assert loop.flushing_denormals() is before  # the probe reads the flag as set
        if form == "fit":
            fit(build_model("ebr", "class"), X[:16], y[:16], X[16:], y[16:], cfg, progress=False,
                on_epoch=lambda e, m, improved: seen.append(loop.flushing_denormals()))
            assert seen == [True] * 3  # every epoch, the test record included, runs flushed
        else:  # on one core the threads form trains its members on the calling thread too
            cores = torch.get_num_threads()
            torch.set_num_threads(1)
            try:
                fit_members(X, [Member(s, np.arange(16), y[:16], np.arange(16, 24), y[16:]) for s in (0, 1)],
                            cfg, progress=False, form=form)
            finally:
                torch.set_num_threads(cores)
        assert loop.flushing_denormals() is before
    finally:
        torch.set_flush_denormal(False)


def test_a_run_that_diverges_gives_the_thread_its_setting_back():
    X = np.random.default_rng(0).random((20, 246, 25)).astype(np.float32)
    X[3, 4, 5] = np.nan
    torch.set_flush_denormal(False)
    with pytest.raises(TrainingDiverged):
        fit(build_model("vanilla", "class"), X, np.arange(20) % 3, X[:6], np.arange(6) % 3,
            TrainConfig(method="vanilla", task="class", epochs=2, device="cpu"), progress=False)
    assert not loop.flushing_denormals()


# --------------------------------------------------------------------------- training that goes wrong

def test_non_finite_loss_stops_training():
    X = np.random.default_rng(0).random((20, 246, 25)).astype(np.float32)
    X[3, 4, 5] = np.nan
    y = np.arange(20) % 3
    with pytest.raises(TrainingDiverged, match="epoch 1"):
        fit(build_model("vanilla", "class"), X, y, X[:6], y[:6], config_for("quick", method="vanilla", task="class"),
            progress=False)


def test_test_trace_scores_every_epoch_a_budget_can_keep(dataset, tmp_path):
    from fmriemo.evaluation.paper import kept_at_budget
    split = make_paper_split(dataset, "class")
    cfg = TrainConfig(method="ebr", task="class", seed=1, epochs=40, device="cpu")
    r = train_run(dataset, split, cfg, tmp_path, progress=False)
    acc, val = np.asarray(r.history["test_acc"]), r.history["val_acc"]
    running_best = [e for e in range(1, 41) if val[e - 1] > max(val[:e - 1], default=-np.inf)]
    assert np.flatnonzero(np.isfinite(acc)).tolist() == [e - 1 for e in running_best]
    assert all(np.isfinite(acc[kept_at_budget(r, b) - 1]) for b in range(1, 41))
    # the scored epochs carry the values a trace of every epoch gives: the trace changes no training
    X = preprocess.apply(cfg.preprocess, dataset.X, dataset.participant)
    y = {part: encode("class", dataset.y_class[idx]) for part, idx in
         (("train", split.train), ("val", split.val), ("test", split.test))}
    every = loop.TestTrace(X[split.test], y["test"], "class", torch.device("cpu"))
    torch.manual_seed(cfg.seed)
    with intra_op_threads(RUN_THREADS):  # the threads a run trains on (rounding differs on two)
        fit(build_model("ebr", "class"), X[split.train], y["train"], X[split.val], y["val"], cfg,
            progress=False, on_epoch=lambda e, m, improved: every(e, m))
    full = np.asarray(every.values["test_acc"])
    assert np.isfinite(full).all() and np.allclose(acc[np.isfinite(acc)], full[np.isfinite(acc)])


def test_early_stopping_and_checkpoint(dataset, tmp_path):
    r = train_run(dataset, make_paper_split(dataset, "level"),
                  TrainConfig(method="ebr", task="level", seed=0, epochs=200, patience=3, lr=0.05), tmp_path,
                  progress=False)
    assert r.epochs_run < 200 and r.epochs_run - r.best_epoch == 3
    best = min(r.history["val_loss"])
    assert r.history["val_loss"][r.best_epoch - 1] == best
    assert set(np.unique(r.y_pred)) <= set(range(-4, 5))
