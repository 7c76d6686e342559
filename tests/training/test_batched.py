"""Many members, one model: each member of a batched run is the run its seed and split would give alone
(same kept epoch, predictions and metrics within float tolerance), and the store cannot tell them apart."""
import contextlib
import dataclasses
import threading
import time

import numpy as np
import pytest
import torch

from fmriemo.data import preprocess
from fmriemo.data.dataset import encode
from fmriemo.data.splits import make_paper_split, nested_split
from fmriemo.training.batched import batchable
from fmriemo.training.config import TrainConfig
from fmriemo.training.runs import train_run, train_runs


def _splits(ds):
    """Two held-out folds whose training sets differ in size (members that step at different times)."""
    people = sorted(set(ds.participant[ds.labelled_train]))
    a = nested_split(ds, people[:1], n_val=2, seed=0)
    b = nested_split(ds, people[1:4], n_val=2, seed=0)
    assert len(a.train) != len(b.train)
    return [a, b]


@pytest.mark.conclusions
@pytest.mark.parametrize("form", ["vmap", "threads"])
@pytest.mark.parametrize("method,task,patience,epochs", [("ebr", "class", 1, 6), ("asb", "level", None, 3)])
def test_batched_member_matches_the_same_run_alone(dataset, tmp_path, monkeypatch, method, task, patience, epochs,
                                                   form):
    """Two seeds x two folds of different sizes trained as one batch against each trained alone: the
    same kept epoch and epochs run (early stopping included), the same predictions, and test
    probabilities and learning curves equal within float tolerance. (The tolerance is that of float32
    rounding amplified by training: convolutions under ``vmap`` round differently, a last batch of a few
    trials makes batch norm's statistics sensitive to it, and RAdam's adaptive steps carry it on; a
    member given another member's shuffle or optimiser state differs by orders of magnitude more.) Every
    form of the batch is checked: one vmapped pass of all members (an accelerator's default), and the
    members trained alone side by side on threads (the CPU's)."""
    from fmriemo.training import batched as batched_module
    monkeypatch.setattr(batched_module, "default_form", lambda device: form)
    base = TrainConfig(method=method, task=task, epochs=epochs, patience=patience, min_epochs=1 if patience else 0,
                       monitor="val_loss", device="cpu")
    jobs = [(split, dataclasses.replace(base, seed=seed)) for seed in (0, 7) for split in _splits(dataset)]
    batched = train_runs(dataset, jobs, tmp_path / "batched", progress=False, batch=True)
    assert all(r.extra.get("batch") == 4 for r in batched), "the four runs did not train as one batch"
    if patience:  # some members stop early and leave the batch while the others train on
        assert len({r.epochs_run for r in batched}) > 1
    for (split, cfg), b in zip(jobs, batched):
        alone = train_run(dataset, split, cfg, tmp_path / "alone", progress=False)
        assert (b.best_epoch, b.epochs_run) == (alone.best_epoch, alone.epochs_run)
        np.testing.assert_array_equal(b.y_pred, alone.y_pred)
        np.testing.assert_allclose(b.proba, alone.proba, atol=2e-3)
        for k in ("train_loss", "val_loss"):
            np.testing.assert_allclose(b.history[k], alone.history[k], rtol=2e-3, err_msg=k)
        for k, rows, trials in (("train_acc", split.train, 2), ("val_acc", split.val, 1), ("test_acc", split.test, 1)):
            # an accuracy may differ by a trial whose two largest logits are within rounding of each other (in
            # training, counted over three steps whose weights carry the rounding, by two under vmap on two threads)
            np.testing.assert_allclose(b.history[k], alone.history[k], atol=(trials + 0.01) / len(rows), err_msg=k)
        kept = b.best_epoch - 1
        assert b.history["test_f1"][kept] == pytest.approx(alone.history["test_f1"][kept])
        if method == "asb":
            np.testing.assert_allclose(b.gates, alone.gates, atol=2e-3)


def test_batched_members_are_stored_as_runs_trained_alone(dataset, tmp_path):
    """The store keeps one entry per member under the key of the run alone: a later train_run (or a
    sequential train_runs) of any member finds it in the cache."""
    split = make_paper_split(dataset, "class")
    jobs = [(split, TrainConfig(method="ebr", task="class", seed=s, epochs=2, device="cpu")) for s in (1, 2, 3)]
    first = train_runs(dataset, jobs, tmp_path, progress=False, batch=True)
    assert all(r.extra.get("batch") == 3 for r in first)
    assert not any(r.cached for r in first)
    again = [train_run(dataset, split, cfg, tmp_path, progress=False) for split, cfg in jobs]
    assert all(r.cached for r in again) and [r.key for r in again] == [r.key for r in first]
    assert [r.config["seed"] for r in again] == [1, 2, 3]
    seq = train_runs(dataset, jobs, tmp_path, progress=False, batch=False)
    assert all(r.cached for r in seq)


def test_runs_are_batched_by_default_unless_asked_not_to(dataset, tmp_path):
    """The default trains the runs that differ only in seed and split as one batch (on the CPU, side by
    side on threads); ``batch=False`` trains them one after the other."""
    split = make_paper_split(dataset, "class")
    jobs = [(split, TrainConfig(method="ebr", task="class", seed=s, epochs=1, device="cpu")) for s in (0, 1)]
    assert all(r.extra["batch"] == 2 for r in train_runs(dataset, jobs, tmp_path / "a", progress=False))
    assert all(r.extra["batch"] == 1 for r in train_runs(dataset, jobs, tmp_path / "b", progress=False, batch=False))


def test_the_batch_form_is_vmap_or_threads(dataset):
    from fmriemo.training.batched import Member, default_form, fit_members
    assert default_form("cpu") == "threads" and default_form("cuda") == "vmap"
    split = make_paper_split(dataset, "class")
    with pytest.raises(ValueError, match="'vmap' or 'threads'"):
        fit_members(np.zeros((len(dataset), 32, 25)), [Member(0, split.train, split.train * 0, split.val,
                                                              split.val * 0)], TrainConfig(method="ebr", task="class", epochs=1),
                    form="grouped")


@contextlib.contextmanager
def _torch_threads(n: int):
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def test_on_the_cpu_members_train_side_by_side_each_exactly_as_alone(dataset, tmp_path, monkeypatch):
    """With two cores the CPU's form trains the members on two threads of one intra-op thread each, and
    every member is bit for bit the run trained alone with one thread (its learning curves, kept
    epoch, probabilities and gates); the caller's thread count is restored."""
    from fmriemo.training import batched as batched_module
    seen = set()  # (thread, its intra-op threads) of every epoch
    real = batched_module.fit_steps

    def spy(*args, **kwargs):
        steps = real(*args, **kwargs)

        def epochs():
            while True:
                seen.add((threading.get_ident(), torch.get_num_threads()))
                try:
                    epoch = next(steps)
                except StopIteration as end:
                    return end.value
                yield epoch
        return epochs()

    monkeypatch.setattr(batched_module, "fit_steps", spy)
    base = TrainConfig(method="asb", task="class", epochs=4, patience=1, min_epochs=1, monitor="val_loss",
                       device="cpu")
    jobs = [(split, dataclasses.replace(base, seed=seed)) for seed in (0, 7) for split in _splits(dataset)]
    with _torch_threads(2):
        batched = train_runs(dataset, jobs, tmp_path / "batched", progress=False)
        assert torch.get_num_threads() == 2
    assert all(r.extra.get("batch") == 4 for r in batched)
    assert len({ident for ident, _ in seen}) == 2 and {n for _, n in seen} == {1}, seen
    with _torch_threads(1):
        alone = [train_run(dataset, split, cfg, tmp_path / "alone", progress=False) for split, cfg in jobs]
    for b, a in zip(batched, alone):
        assert (b.best_epoch, b.epochs_run) == (a.best_epoch, a.epochs_run)
        np.testing.assert_array_equal(b.proba, a.proba)
        np.testing.assert_array_equal(b.gates, a.gates)
        for k in ("train_loss", "val_loss", "val_acc", "test_acc", "test_f1"):
            np.testing.assert_array_equal(b.history[k], a.history[k], err_msg=k)


def test_several_models_share_one_pool_each_exactly_as_alone(dataset, tmp_path, monkeypatch):
    """On the CPU the batches of one call (here ASB and EBR, two seeds, one stopping early) train in one pool
    of threads, so that no core waits while one model's last member trains; every run is still bit for bit
    the run alone, stored under its own key, and keeps its own model's batch size in its record."""
    from fmriemo.training import batched as batched_module
    calls = []
    real = batched_module.fit_pool

    def spy(parts, *args, **kwargs):
        calls.append([(cfg.method, len(members)) for _, members, cfg in parts])
        return real(parts, *args, **kwargs)

    from fmriemo.training import runs as runs_module
    monkeypatch.setattr(runs_module, "fit_pool", spy)
    split = make_paper_split(dataset, "class")
    jobs = [(split, TrainConfig(method=m, task="class", seed=s, epochs=3, patience=1, min_epochs=1,
                                monitor="val_loss", device="cpu")) for m in ("asb", "ebr") for s in (0, 5)]
    with _torch_threads(2):
        pooled = train_runs(dataset, jobs, tmp_path / "pooled", progress=False)
    assert calls == [[("asb", 2), ("ebr", 2)]]
    assert [r.method for r in pooled] == ["asb", "asb", "ebr", "ebr"]
    assert all(r.extra["batch"] == 2 for r in pooled)
    with _torch_threads(1):
        alone = [train_run(dataset, split, cfg, tmp_path / "alone", progress=False) for split, cfg in jobs]
    for p, a in zip(pooled, alone):
        assert p.key == a.key and (p.best_epoch, p.epochs_run) == (a.best_epoch, a.epochs_run)
        np.testing.assert_array_equal(p.proba, a.proba)
        for k in ("train_loss", "val_loss", "val_acc", "test_acc", "test_f1"):
            np.testing.assert_array_equal(p.history[k], a.history[k], err_msg=k)


@pytest.mark.parametrize("error", ["diverged", "ctrl-c"])
def test_a_member_that_fails_ends_the_whole_batch_at_once(dataset, monkeypatch, error):
    """When one member's training diverges (or is interrupted) the others stop at their next epoch, not
    at the end of their budget, the error reaches the caller and the caller keeps its thread count."""
    from fmriemo.training import batched as batched_module
    from fmriemo.training.batched import Member, fit_members
    from fmriemo.training.loop import TrainingDiverged
    raised = {"diverged": TrainingDiverged("seed 1 diverged"), "ctrl-c": KeyboardInterrupt("seed 1")}[error]
    epochs_run = {}
    real = batched_module.fit_steps

    def fit_steps(model, *args, on_epoch=None, **kwargs):
        cfg = args[4]
        if cfg.seed == 1:
            def diverging():
                time.sleep(0.5)  # the others are training by now
                raise raised
                yield  # never reached: it makes this a generator, as fit_steps is
            return diverging()

        def count(epoch, *rest):
            epochs_run[cfg.seed] = epoch
        return real(model, *args, on_epoch=count, **kwargs)

    monkeypatch.setattr(batched_module, "fit_steps", fit_steps)
    split = make_paper_split(dataset, "class")
    y_tr, y_va = (encode("class", dataset.labels("class", rows)) for rows in (split.train, split.val))
    members = [Member(s, split.train, y_tr, split.val, y_va) for s in (0, 1, 2)]
    X = preprocess.minmax_trial(dataset.X)
    with _torch_threads(2):
        with pytest.raises(type(raised), match="seed 1"):
            fit_members(X, members, TrainConfig(method="ebr", task="class", epochs=500, device="cpu"), progress=False)
        assert torch.get_num_threads() == 2
    assert epochs_run and max(epochs_run.values()) < 100, epochs_run


def test_only_models_without_dropout_are_batched():
    assert batchable("asb") and batchable("ebr") and batchable("vanilla")
    import torch.nn as nn

    from fmriemo.models import registry
    dropout = [m for m in registry.names() if not batchable(m)]
    for m in dropout:
        assert any(isinstance(x, nn.Dropout) and x.p > 0 for x in registry.build_model(m, "class").modules())


@pytest.mark.parametrize("n_jobs", [2])
def test_parallel_workers_give_the_sequential_results(dataset, tmp_path, n_jobs):
    """``n_jobs`` joblib workers train parts of the batch and store them; the results read back are those
    of one process."""
    split = make_paper_split(dataset, "class")
    jobs = [(split, TrainConfig(method="ebr", task="class", seed=s, epochs=2, device="cpu")) for s in range(4)]
    one = train_runs(dataset, jobs, tmp_path / "one", progress=False)
    many = train_runs(dataset, jobs, tmp_path / "many", progress=False, batch=True, n_jobs=n_jobs)
    assert [r.key for r in many] == [r.key for r in one]
    assert {r.extra.get("batch") for r in many} == {2}, "each worker should have trained half of the batch"
    assert not any(r.cached for r in many)
    for a, b in zip(one, many):
        assert a.best_epoch == b.best_epoch
        np.testing.assert_allclose(a.proba, b.proba, atol=1e-4)


def test_dask_backend_spreads_the_runs_over_a_cluster_sharing_the_cache(dataset, tmp_path):
    """joblib's dask backend (the `cluster` extra): two worker processes of a local cluster train the two
    halves of a batch into the shared cache folder; the results are those of one process."""
    import joblib
    from distributed import Client, LocalCluster
    split = make_paper_split(dataset, "class")
    jobs = [(split, TrainConfig(method="ebr", task="class", seed=s, epochs=2, device="cpu")) for s in range(4)]
    one = train_runs(dataset, jobs, tmp_path / "one", progress=False)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client, joblib.parallel_config(backend="dask"):
        spread = train_runs(dataset, jobs, tmp_path / "shared", progress=False, batch=True, n_jobs=2)
        workers = len(client.scheduler_info()["workers"])
    assert workers == 2
    assert {r.extra.get("batch") for r in spread} == {2} and not any(r.cached for r in spread)
    for a, b in zip(one, spread):
        assert a.key == b.key and a.best_epoch == b.best_epoch
        np.testing.assert_allclose(a.proba, b.proba, atol=1e-4)
