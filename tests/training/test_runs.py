"""A trained run, its store entry and its cache key: deterministic training, one entry per run reused,
a key that changes with everything that decides the result and nothing else, damage found and healed."""
import dataclasses
import json

import numpy as np
import pytest
import torch

from fmriemo.data import preprocess
from fmriemo.data.splits import Split, make_paper_split
from fmriemo.training.config import TrainConfig
from fmriemo.training.loop import predict
from fmriemo.training.runs import (RESULT_SOURCES, RUN_THREADS, code_version, cpu_kernels, numerics, on_trials, run_key,
                                   train_paper, train_run, train_runs)


def test_training_is_deterministic_and_cached(dataset, tmp_path):
    split = make_paper_split(dataset, "class")
    cfg = TrainConfig(method="asb", task="class", seed=3, epochs=3, device="cpu")  # CUDA is not bitwise repeatable
    a = train_run(dataset, split, cfg, tmp_path / "a", progress=False)
    b = train_run(dataset, split, cfg, tmp_path / "b", progress=False)
    assert not a.cached and not b.cached
    assert a.history.keys() == b.history.keys() and np.array_equal(a.proba, b.proba)
    assert all(np.array_equal(a.history[k], b.history[k], equal_nan=True) for k in a.history)
    c = train_run(dataset, split, cfg, tmp_path / "a", progress=False)
    assert c.cached and c.key == a.key and np.allclose(c.proba, a.proba)
    assert c.gates.shape == (48, 246)
    d = train_run(dataset, split, TrainConfig(method="asb", task="class", seed=4, epochs=3, device="cpu"),
                  tmp_path / "a", progress=False)
    assert d.key != a.key and not d.cached
    # the cached checkpoint reproduces the stored predictions
    proba, gates = predict(c.load_model(), preprocess.minmax_trial(dataset.X[c.test_index]))
    assert np.allclose(proba, c.proba, atol=1e-5) and np.allclose(gates, c.gates, atol=1e-6)


def test_train_paper_uses_profile(dataset, tmp_path, quick):
    r = train_paper(dataset, "vanilla", "class", quick(tmp_path))
    assert r.epochs_run <= 2 and r.config["epochs"] == 2 and r.split["name"] == "paper-class-410"


CHANGES = {"method": "vanilla", "task": "level", "seed": 1, "epochs": 7, "patience": 3, "min_epochs": 2, "after_exit": 1,
           "lr": 0.5, "batch_size": 64, "l2": 0.1, "preprocess": "pct", "monitor": "val_loss"}


@pytest.mark.conclusions
def test_every_config_field_is_in_the_key_or_deliberately_not(dataset):
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    assert fields == set(CHANGES) | {"device"}, "a new TrainConfig field needs a case here"


@pytest.mark.conclusions
@pytest.mark.parametrize("field", sorted(CHANGES))
def test_cache_key_changes_with_each_setting(dataset, field):
    split = make_paper_split(dataset, "class")
    base = TrainConfig(method="asb", task="class", seed=0, epochs=5)
    other = dataclasses.replace(base, **{field: CHANGES[field]})
    assert run_key(dataset, split, other) != run_key(dataset, split, base)


@pytest.mark.conclusions
def test_cache_key_follows_the_numerics_data_and_split(dataset):
    split = make_paper_split(dataset, "class")
    cfg = TrainConfig(method="asb", task="class", epochs=5)
    # "auto" on a machine without an accelerator is the CPU: the same numerics, the same entry
    assert run_key(dataset, split, cfg) == run_key(dataset, split, dataclasses.replace(cfg, device="cpu"))
    # what rounds a run otherwise is in the key: one intra-op thread and the kernels on the CPU, the batch
    # form elsewhere
    assert numerics("cpu", "asb") == {"device": "cpu", "threads": RUN_THREADS, "kernels": cpu_kernels()}
    changed = dataset.subset(np.arange(len(dataset)))
    changed.X = changed.X.copy()
    changed.X[5, 10, 3] += 1.0
    assert run_key(changed, split, cfg) != run_key(dataset, split, cfg)
    other = Split(split.name, split.train[1:], np.r_[split.val, split.train[:1]], split.test)
    assert run_key(dataset, other, cfg) != run_key(dataset, split, cfg)


@pytest.mark.conclusions
def test_the_key_hashes_every_module_of_the_packages_that_decide_a_result():
    """Every package module that training imports, directly or not, is in a hashed folder (profiles only set
    the configuration, which is in the key itself); an edit to any of them is a new version of the code."""
    import grimp
    graph = grimp.build_graph("fmriemo")
    imported = {m for m in graph.find_upstream_modules("fmriemo.training") if m.startswith("fmriemo.")}
    hashed = {"fmriemo." + s.removesuffix(".py") for s in RESULT_SOURCES}
    unhashed = {m for m in imported if not any(m == h or m.startswith(h + ".") for h in hashed)}
    assert unhashed <= {"fmriemo.profiles", "fmriemo"}, unhashed
    assert code_version() == code_version() and len(code_version()) == 16


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
    cfg = TrainConfig(method="ebr", task="class", seed=0, epochs=2)
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


def test_a_stored_model_predicts_other_trials_as_it_predicted_its_own(dataset, tmp_path, quick):
    run = train_paper(dataset, "asb", "class", quick(tmp_path))
    again = on_trials(dataset, run, run.test_index)
    assert np.allclose(again.proba, run.proba, atol=1e-6) and np.array_equal(again.y_true, run.y_true)
    test = np.flatnonzero(dataset.split == "test")
    other = on_trials(dataset, run, test)
    assert np.array_equal(other.test_index, test) and other.gates.shape == (len(test), 246)
    assert (other.y_true == -99).all() and other.key == run.key  # unlabelled trials: no truth to report


@pytest.mark.conclusions
def test_the_numerics_in_the_key(monkeypatch):
    from fmriemo.training import runs
    assert numerics("cpu", "compact") == numerics("cpu", "asb") == {"device": "cpu", "threads": 1,
                                                                     "kernels": cpu_kernels()}
    with pytest.raises(ValueError):
        numerics("tpu")
    # on an accelerator the batch form is part of the numbers: a batchable model always trains vmapped
    monkeypatch.setattr(runs, "resolve_device", lambda device: torch.device("cuda"))
    assert numerics("cuda", "asb") == {"device": "cuda", "form": "vmap"}
    assert numerics("cuda", "compact") == {"device": "cuda", "form": "single"}  # dropout: never batched


@pytest.mark.conclusions
def test_the_cpu_kernels_are_in_the_key(dataset, monkeypatch):
    """Another instruction set (torch's, or oneDNN's or MKL's held below the processor's) or another vendor's
    processor rounds a run otherwise, so it keys another entry."""
    from fmriemo.training import runs
    split = make_paper_split(dataset, "class")
    cfg = TrainConfig(method="asb", task="class", epochs=5, device="cpu")
    here = run_key(dataset, split, cfg)
    assert cpu_kernels()["vector"] == torch.backends.cpu.get_cpu_capability()
    assert cpu_kernels()["vendor"]
    for name in runs.KERNEL_ENVIRONMENT:
        monkeypatch.setenv(name, "AVX2")
        assert cpu_kernels()[name] == "AVX2" and run_key(dataset, split, cfg) != here
        monkeypatch.delenv(name)
    assert run_key(dataset, split, cfg) == here
    monkeypatch.setattr(runs.torch.backends.cpu, "get_cpu_capability", lambda: "AVX512-or-other")
    assert run_key(dataset, split, cfg) != here
    monkeypatch.undo()
    monkeypatch.setattr(runs, "_cpu_vendor", lambda: "another vendor")
    assert run_key(dataset, split, cfg) != here


def test_a_worker_that_would_key_a_run_otherwise_refuses_to_train_it(dataset, tmp_path, monkeypatch):
    """A worker whose kernels differ from the caller's (another machine of a dask cluster) would store runs
    that round otherwise under the caller's keys: it says so instead, and stores nothing."""
    from fmriemo.training import runs
    split = make_paper_split(dataset, "class")
    jobs = [(split, TrainConfig(method="ebr", task="class", seed=s, epochs=1, device="cpu")) for s in (0, 1)]
    folders = [tmp_path / "runs" / run_key(dataset, *job) for job in jobs]
    monkeypatch.setattr(runs, "_cpu_vendor", lambda: "another vendor")
    with pytest.raises(RuntimeError, match="as the caller keyed it.*another vendor"):
        runs._train_unit_as_keyed(dataset, jobs, folders)
    assert not any(f.exists() for f in folders)
    monkeypatch.undo()
    trained = runs._train_unit_as_keyed(dataset, jobs, folders)  # the same worker as the caller trains them
    assert [r.key for r in trained] == [f.name for f in folders]


def test_a_run_alone_and_in_a_batch_is_one_store_entry_computed_on_one_thread(dataset, tmp_path):
    split = make_paper_split(dataset, "class")
    jobs = [(split, TrainConfig(method="ebr", task="class", seed=s, epochs=2, device="cpu")) for s in (0, 1)]
    before = torch.get_num_threads()
    batch = train_runs(dataset, jobs, tmp_path, progress=False)
    assert torch.get_num_threads() == before
    alone = train_run(dataset, *jobs[1], tmp_path, progress=False)
    assert alone.cached and alone.key == batch[1].key


def test_dropout_runs_train_side_by_side_in_processes_as_they_would_alone(dataset, tmp_path, monkeypatch):
    """The package's model with dropout (Compact) is never batched; its runs of one call train in worker
    processes on the CPU's cores, each bit for bit the run trained alone in this process."""
    from fmriemo.training import runs
    split = make_paper_split(dataset, "class")
    jobs = [(split, TrainConfig(method="compact", task="class", seed=s, epochs=3, device="cpu", preprocess="pct"))
            for s in (0, 1, 2)]
    calls = []
    real = runs._train_in_processes
    monkeypatch.setattr(runs, "available_cores", lambda: 2)
    monkeypatch.setattr(runs, "_train_in_processes", lambda *a: calls.append(a[4]) or real(*a))
    side = train_runs(dataset, jobs, tmp_path / "side", progress=False)
    assert calls == [2]  # two workers for three runs
    alone = [train_run(dataset, split, cfg, tmp_path / "alone", progress=False) for _, cfg in jobs]
    assert calls == [2]  # one run at a time: in this process
    for a, b in zip(side, alone):
        assert not a.cached and a.key == b.key and np.array_equal(a.proba, b.proba)
        assert all(np.array_equal(a.history[k], b.history[k], equal_nan=True) for k in a.history)
    assert len({r.proba.tobytes() for r in side}) == 3  # three runs, each with its own seed
    one_core = train_runs(dataset, jobs, tmp_path / "one", progress=False, batch=False)  # one after the other
    assert calls == [2] and all(np.array_equal(a.proba, b.proba) for a, b in zip(side, one_core))
