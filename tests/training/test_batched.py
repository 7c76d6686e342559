"""Many members, one model: each member of a batched run is the run its seed and split would give alone
(same kept epoch, predictions and metrics within float tolerance), and the store cannot tell them apart."""
import dataclasses

import numpy as np
import pytest

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
@pytest.mark.parametrize("form", ["vmap", "loop"])
@pytest.mark.parametrize("method,task,patience,epochs", [("ebr", "class", 1, 6), ("asb", "level", None, 3)])
def test_batched_member_matches_the_same_run_alone(dataset, tmp_path, monkeypatch, method, task, patience, epochs,
                                                   form):
    """Two seeds x two folds of different sizes trained as one batch against each trained alone: the
    same kept epoch and epochs run (early stopping included), the same predictions, and test
    probabilities and learning curves equal within float tolerance. (The tolerance is that of float32
    rounding amplified by training: convolutions under ``vmap`` round differently, a last batch of a few
    trials makes batch norm's statistics sensitive to it, and RAdam's adaptive steps carry it on; a
    member given another member's shuffle or optimiser state differs by orders of magnitude more.) Both
    forms of the batch are checked: one vmapped pass of all members, and the members' passes in a loop
    (the CPU's default)."""
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
        for k, rows in (("train_acc", split.train), ("val_acc", split.val), ("test_acc", split.test)):
            # an accuracy may differ by one trial whose two largest logits are within rounding of each other
            np.testing.assert_allclose(b.history[k], alone.history[k], atol=1.01 / len(rows), err_msg=k)
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


def test_runs_are_batched_on_an_accelerator_only_unless_asked(dataset, tmp_path):
    """On the CPU the default trains the runs one after the other (batched members were measured no faster
    there); ``batch=True`` batches them anyway."""
    split = make_paper_split(dataset, "class")
    jobs = [(split, TrainConfig(method="ebr", task="class", seed=s, epochs=1, device="cpu")) for s in (0, 1)]
    assert all("batch" not in r.extra for r in train_runs(dataset, jobs, tmp_path / "a", progress=False))
    assert all(r.extra["batch"] == 2 for r in train_runs(dataset, jobs, tmp_path / "b", progress=False, batch=True))


def test_the_batch_form_is_vmap_or_loop(dataset):
    from fmriemo.training.batched import Member, default_form, fit_members
    assert default_form("cpu") == "loop" and default_form("cuda") == "vmap"
    split = make_paper_split(dataset, "class")
    with pytest.raises(ValueError, match="'vmap' or 'loop'"):
        fit_members(np.zeros((len(dataset), 32, 25)), [Member(0, split.train, split.train * 0, split.val,
                                                              split.val * 0)], TrainConfig(method="ebr", task="class", epochs=1),
                    form="grouped")


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
