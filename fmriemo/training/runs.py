"""One trained model, its record and its place in the store: :func:`train_run` trains a model on a
split (or loads it: every run is a store entry keyed by :func:`run_key`), :class:`RunResult` holds
its learning curves, kept epoch and test predictions, :func:`on_trials` lets a stored model predict
other trials."""
from __future__ import annotations

import functools
import hashlib
import json
import os
import platform
import time
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from joblib import Parallel, delayed
from tqdm.auto import tqdm

from ..core.files import check_writable_dir
from ..core.threads import available_cores
from ..core.store import StoreWriteError, cache_root, read_entry, source_hash, write_entry
from ..data import preprocess
from ..data.dataset import Dataset, decode, encode
from ..data.splits import PAPER_SPLIT_SEED, Split, make_paper_split
from ..models import registry
from ..profiles import Settings
from .batched import Member, batchable, default_form, fit_members, fit_pool
from .config import TrainConfig, config_for, resolve_device
from .loop import TestTrace, fit, plateau_exit, predict, still_improving

__all__ = [
    "RESULT_SOURCES", "code_version", "RUN_THREADS", "KERNEL_ENVIRONMENT", "cpu_kernels", "numerics", "run_key",
    "RunResult", "NotCached", "on_trials", "train_run", "train_runs", "intra_op_threads", "train_paper",
]

#: the parts of the package whose code decides a trained model's result: every module of them is
#: hashed into the cache key (a registered model defined elsewhere adds its own file)
RESULT_SOURCES = ("core", "data", "models", "training", "metrics.py")
_PACKAGE = Path(__file__).resolve().parent.parent


def code_version(*extra: Path) -> str:
    """A hash of the code a run's numbers depend on.

    Parameters
    ----------
    *extra : pathlib.Path
        Further files to hash (e.g. a user's model file).

    Returns
    -------
    version : str
        16 hex digits over every module of :data:`RESULT_SOURCES`, the resources they read, ``extra`` and
        the torch version.
    """
    h = hashlib.sha256(source_hash(*(_PACKAGE / p for p in RESULT_SOURCES), *extra).encode())
    for table in sorted((_PACKAGE / "resources").glob("*.csv")):
        h.update(table.read_bytes())
    h.update(torch.__version__.encode())
    return h.hexdigest()[:16]


def _model_files(method: str) -> tuple[Path, ...]:
    """The file of a model registered from outside the package, whose code is then part of the key."""
    f = registry.spec(method).source_file.resolve()
    return () if _PACKAGE in f.parents else (f,)


#: intra-op threads of every run on the CPU: one, wherever and however a run is trained, so that its numbers
#: (a reduction split over two threads rounds otherwise than over one) depend neither on the machine's
#: cores nor on which runs trained beside it; independent runs fill the cores side by side instead
#: (:func:`fmriemo.training.batched.fit_members`)
RUN_THREADS = 1


#: environment variables that hold oneDNN's and MKL's kernels (torch's convolutions and matrix products on
#: the CPU) below what the processor offers, or fix MKL's code path; torch's own vector kernels follow
#: ``ATEN_CPU_CAPABILITY``, which :func:`torch.backends.cpu.get_cpu_capability` already reports
KERNEL_ENVIRONMENT = ("ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA", "MKL_ENABLE_INSTRUCTIONS", "MKL_CBWR")


@functools.lru_cache(maxsize=1)
def _cpu_vendor() -> str:
    """The processor's vendor (``vendor_id`` of /proc/cpuinfo where there is one), else its architecture."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("vendor_id"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def cpu_kernels() -> dict:
    """Which CPU kernels compute a run here, and so decide its rounding.

    Torch, oneDNN and MKL each pick the widest vector instructions the processor has (AVX2 or AVX-512 on
    x86), and MKL's matrix products also take other paths on another vendor's processors; the same run
    trained with other kernels rounds otherwise and, over hundreds of epochs, ends elsewhere. A run is
    therefore found in the cache only on a machine that computes it with the same kernels.

    Returns
    -------
    kernels : dict
        ``vector``: torch's instruction set (:func:`torch.backends.cpu.get_cpu_capability`, e.g. "AVX2",
        "AVX512", "DEFAULT"); ``vendor``: the processor's vendor ("AuthenticAMD", "GenuineIntel"), or the
        architecture where it is not known; and each variable of :data:`KERNEL_ENVIRONMENT` that is set.
    """
    return {"vector": torch.backends.cpu.get_cpu_capability(), "vendor": _cpu_vendor(),
            **{k: os.environ[k] for k in KERNEL_ENVIRONMENT if os.environ.get(k)}}


def numerics(device: str = "auto", method: str | None = None, task: str = "class") -> dict:
    """What decides a run's rounding besides its configuration and code, and so belongs in its cache key.

    The device type; on the CPU the intra-op threads every run computes with (:data:`RUN_THREADS`) and the
    kernels that compute it (:func:`cpu_kernels`); on
    an accelerator whether ``method`` trains in a vmapped batch (every batchable model does, even alone)
    or alone. A run is trained, stored and found under the same numerics whatever else the call trains.

    Parameters
    ----------
    device : str, default="auto"
        "auto", "cpu", "cuda" or "cuda:N".
    method : str or None, default=None
        The registered model (whether it is batchable); None: a batchable one.
    task : {"class", "level"}, default="class"
        The task its output layer is built for.

    Returns
    -------
    numerics : dict
    """
    dev = resolve_device(device)
    if dev.type == "cpu":
        return {"device": "cpu", "threads": RUN_THREADS, "kernels": cpu_kernels()}
    return {"device": dev.type, "form": default_form(dev) if method is None or batchable(method, task) else "single"}


def run_key(ds: Dataset, split: Split, cfg: TrainConfig) -> str:
    """The cache key of a trained model.

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set (its fingerprint).
    split : fmriemo.data.splits.Split
        Training, validation and test rows.
    cfg : TrainConfig
        Recipe, budget and seed.

    Returns
    -------
    key : str
        24 hex digits over the data, the split, the configuration, the code (:func:`code_version`) and
        the numerics (:func:`numerics`).
    """
    ident = {"data": ds.fingerprint, "split": split.identity(), "config": cfg.identity(),
             "code": code_version(*_model_files(cfg.method)), "numerics": numerics(cfg.device, cfg.method, cfg.task)}
    return hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:24]


@dataclass
class RunResult:
    """One trained model's record: learning curves, checkpoint and test predictions.

    Parameters
    ----------
    key : str
        Its cache key (:func:`run_key`).
    config : dict
        The :class:`~fmriemo.training.config.TrainConfig` as a dict.
    split : dict
        The split's name and rows.
    history : dict of str to list
        Per epoch: losses and accuracies (and test metrics at the epochs a rule could keep).
    best_epoch : int
        The kept epoch, 1-based.
    epochs_run : int
        Epochs trained.
    seconds : float
        Training time.
    test_index : ndarray of int
        Rows of the test trials in the data set.
    y_true : ndarray
        Their labels; -99 for every trial when any of them is unlabelled.
    y_pred : ndarray
        Predicted labels.
    proba : ndarray of shape (n_test, n_classes)
        Class probabilities.
    gates : ndarray of shape (n_test, n_regions) or None, default=None
        ASB's input gates per test trial.
    path : str, default=""
        The cache folder it was read from or written to.
    extra : dict, default={}
        Anything else a caller records with it.
    cached : bool, default=False
        True when loaded from the cache rather than trained now.
    state : dict or None, default=None
        The weights, when the cache could not keep them.
    """

    key: str
    config: dict
    split: dict
    history: dict
    best_epoch: int
    epochs_run: int
    seconds: float
    test_index: np.ndarray
    y_true: np.ndarray
    y_pred: np.ndarray
    proba: np.ndarray
    gates: np.ndarray | None = None
    path: str = ""
    extra: dict = field(default_factory=dict)
    cached: bool = False  # True when loaded from the cache rather than trained now
    state: dict | None = field(default=None, repr=False)  # the weights, when the cache could not keep them

    @property
    def method(self) -> str:
        return self.config["method"]

    @property
    def task(self) -> str:
        return self.config["task"]

    def to_json(self) -> dict:
        d = {k: getattr(self, k) for k in ("key", "config", "split", "history", "best_epoch",
                                             "epochs_run", "seconds", "extra")}
        for k in ("test_index", "y_true", "y_pred", "proba", "gates"):
            v = getattr(self, k)
            d[k] = None if v is None else np.asarray(v).tolist()
        return d

    @classmethod
    def from_json(cls, d: dict, path: str = "") -> "RunResult":
        arr = {k: (None if d.get(k) is None else np.asarray(d[k])) for k in
               ("test_index", "y_true", "y_pred", "proba", "gates")}
        return cls(key=d["key"], config=d["config"], split=d["split"], history=d["history"],
                   best_epoch=d["best_epoch"], epochs_run=d["epochs_run"], seconds=d["seconds"],
                   extra=d.get("extra", {}), path=path, **arr)

    @property
    def plateau_exit(self) -> int | None:
        """See :func:`plateau_exit`."""
        return plateau_exit(self.history)

    @property
    def still_improving(self) -> bool:
        """See :func:`fmriemo.training.loop.still_improving`: the epoch cap ended this run while its
        monitored value was still improving."""
        return still_improving(self.best_epoch, self.epochs_run, self.config["epochs"], self.config["patience"])

    @property
    def on_plateau(self) -> bool:
        """True when the kept checkpoint precedes the end of the validation plateau (or the curve
        never left it): the model was not trained past the point where the paper's recipe learns."""
        exit_ = self.plateau_exit
        return exit_ is None or self.best_epoch < exit_

    def load_model(self, device: str = "cpu"):
        """The best checkpoint as an eval-mode model."""
        model = registry.build_model(self.method, self.task)
        state = self.state if self.state is not None else torch.load(Path(self.path) / "model.pt",
                                                                       map_location=device, weights_only=True)
        model.load_state_dict(state)
        return model.eval()


def _load_cached_run(folder: Path) -> RunResult | None:
    """The run stored in ``folder``, or None when there is none (a damaged entry is reported, removed
    and None returned: :func:`fmriemo.core.store.read_entry`), so that the caller trains it again."""
    def read(f: Path):
        res = RunResult.from_json(json.loads((f / "result.json").read_text()), str(f))
        res.cached = True
        return res
    return read_entry(folder, read, again="training it again")


class NotCached(UserWarning):
    """A trained run could not be stored in the cache (a full disk): it is used as it is, in memory, and
    will be trained again the next time it is asked for."""


def _store_run(res: RunResult, state: dict, folder: Path) -> None:
    """Write a trained run (its model and its result) into the store entry ``folder``. When the cache cannot
    take it (a full disk), the run is not lost: it keeps its weights in memory (``res.state``), and one
    :class:`NotCached` warning names the folder and says what to do."""
    def fill(tmp: Path) -> None:
        torch.save({k: v.cpu() for k, v in state.items()}, tmp / "model.pt")
        (tmp / "result.json").write_text(json.dumps(res.to_json()))

    try:
        write_entry(folder, fill)
    except StoreWriteError as exc:
        res.state, res.path = {k: v.detach().cpu().clone() for k, v in state.items()}, ""
        warnings.warn(NotCached(f"{exc}; the trained model is used now but not kept: it will be trained again next "
                                "time (free space in the cache, or choose another with --cache-dir or "
                                "$FMRIEMO_CACHE)"), stacklevel=2)


def on_trials(ds: Dataset, run: RunResult, idx, device: str = "auto") -> RunResult:
    """A run with its stored model's predictions on other trials in place of its own test trials.

    E.g. a model of the paper's split, or of one held-out fold, predicting the challenge's test
    participants; the run's own preprocessing is applied.

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set.
    run : RunResult
        A stored run.
    idx : array-like of int
        Rows of the trials to predict.
    device : str, default="auto"
        Where the forward passes run.

    Returns
    -------
    run : RunResult
        Probabilities, classes and ASB input gates on ``idx``.
    """
    idx = np.asarray(idx, int)
    X = preprocess.apply(run.config.get("preprocess", "minmax"), ds.X, ds.participant)
    dev = resolve_device(device)
    with intra_op_threads(RUN_THREADS):
        proba, gates = predict(run.load_model().to(dev), X[idx], device=dev)
    y_true = ds.labels(run.task, idx) if ds.labelled[idx].all() else np.full(len(idx), -99)
    return replace(run, test_index=idx, y_true=y_true, y_pred=decode(run.task, proba.argmax(1)),
                   proba=proba, gates=gates)


def _test_trace(ds: Dataset, split: Split, task: str, X, device) -> TestTrace | None:
    """A :class:`TestTrace` for ``split``'s test trials, or None when some have no label."""
    if len(split.test) == 0 or not ds.labelled[split.test].all():
        return None
    return TestTrace(X[split.test], encode(task, ds.labels(task, split.test)), task, device)


def _finish(ds: Dataset, split: Split, cfg: TrainConfig, X, state: dict, hist: dict, best_epoch: int,
            seconds: float, folder: Path, extra: dict | None = None) -> RunResult:
    """A trained model's record: its kept checkpoint's predictions on the split's test trials, its
    curves and kept epoch; written into the store entry ``folder``."""
    dev = resolve_device(cfg.device)
    model = registry.build_model(cfg.method, cfg.task)
    model.load_state_dict(state)
    proba, gates = predict(model.to(dev), X[split.test], device=dev)
    y_true = ds.labels(cfg.task, split.test) if ds.labelled[split.test].all() else np.full(len(split.test), -99)
    config = {**cfg.identity(), "device": str(dev), "numerics": numerics(cfg.device, cfg.method, cfg.task)}
    res = RunResult(key=folder.name, config=config, split=split.identity(),  # config: its key's numerics too
                    history=hist, best_epoch=best_epoch, epochs_run=len(hist["epoch"]), seconds=seconds,
                    test_index=np.asarray(split.test), y_true=y_true, y_pred=decode(cfg.task, proba.argmax(1)),
                    proba=proba, gates=gates, path=str(folder), extra=extra or {})
    _store_run(res, state, folder)
    return res


def train_run(ds: Dataset, split: Split, cfg: TrainConfig, cache_dir=None, progress: bool = True,
              refresh: bool = False) -> RunResult:
    """Train (or load from the cache) one model on a split and predict its test trials.

    :func:`train_runs` with one job: the same numerics, so the same store entry, as the run trained in a
    batch.

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set.
    split : fmriemo.data.splits.Split
        Training, validation and test rows.
    cfg : TrainConfig
        Recipe, budget and seed.
    cache_dir : str, path or None, default=None
        The store's folder; None: the default (:func:`fmriemo.core.store.cache_root`).
    progress : bool, default=True
        Show an epoch bar.
    refresh : bool, default=False
        Train again whatever the cache holds.

    Returns
    -------
    run : RunResult
    """
    return train_runs(ds, [(split, cfg)], cache_dir, progress, refresh=refresh)[0]


def _train_alone(ds: Dataset, split: Split, cfg: TrainConfig, folder: Path, progress: bool) -> RunResult:
    dev = resolve_device(cfg.device)
    X = preprocess.apply(cfg.preprocess, ds.X, ds.participant)
    y_tr, y_va = (encode(cfg.task, ds.labels(cfg.task, rows)) for rows in (split.train, split.val))
    torch.manual_seed(cfg.seed)
    model = registry.build_model(cfg.method, cfg.task)
    trace = _test_trace(ds, split, cfg.task, X, dev)
    t0 = time.perf_counter()
    state, hist, best_epoch = fit(model, X[split.train], y_tr, X[split.val], y_va, cfg, progress=progress,
                                  desc=f"{cfg.method}/{cfg.task} seed {cfg.seed}", on_epoch=trace)
    if trace is not None:
        hist.update(trace.values)
    return _finish(ds, split, cfg, X, state, hist, best_epoch, time.perf_counter() - t0, folder)


def _member(ds: Dataset, split: Split, cfg: TrainConfig) -> Member:
    labelled_test = len(split.test) > 0 and ds.labelled[split.test].all()
    return Member(cfg.seed, np.asarray(split.train), encode(cfg.task, ds.labels(cfg.task, split.train)),
                  np.asarray(split.val), encode(cfg.task, ds.labels(cfg.task, split.val)),
                  np.asarray(split.test) if labelled_test else None,
                  encode(cfg.task, ds.labels(cfg.task, split.test)) if labelled_test else None)


def train_runs(ds: Dataset, jobs: list[tuple[Split, TrainConfig]], cache_dir=None, progress: bool = True,
               batch: bool = True, n_jobs: int = 1, refresh: bool = False) -> list[RunResult]:
    """Train (or load from the cache) one model per ``(split, config)``.

    The runs not in the cache that differ only in their seed and split can train together as the
    members of one batched network (:func:`fmriemo.training.batched.fit_members`), each stored as its
    own entry, as if trained alone: on an accelerator as one vmapped network, where one step of many
    members costs little more than one step of one; on the CPU side by side on threads, each member on
    one intra-op thread (:data:`RUN_THREADS`), bit for bit the run alone, and together faster per
    member-epoch than one after the other (``benchmarks/train_speed.py --members``; figures in
    ``benchmarks/README.md``). Models with dropout are never batched
    (:func:`~fmriemo.training.batched.batchable`). Every run's numerics are fixed (:func:`numerics`), so
    a run trained in a batch and the same run asked for alone are one store entry.

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set.
    jobs : list of (fmriemo.data.splits.Split, TrainConfig)
        The runs.
    cache_dir : str, path or None, default=None
        The store's folder; None: the default.
    progress : bool, default=True
        Show an epoch bar.
    batch : bool, default=True
        Batch the runs that can be; False: one after the other.
    n_jobs : int, default=1
        Above 1, the work (a batch cut into ``n_jobs`` parts, or single runs) is spread over joblib's
        workers: processes on this machine, or, inside ``joblib.parallel_config(backend="dask")``, the
        workers of a dask cluster that shares the cache folder. Every worker writes its runs into the
        store, and the results are read from it. At 1, the runs of the package's models that are never
        batched (dropout: Compact) still train side by side on the CPU, in as many processes as there are
        cores, each run on one core as if alone.
    refresh : bool, default=False
        Train every job again.

    Returns
    -------
    runs : list of RunResult
        In the order of ``jobs``.
    """
    folders = [cache_root(cache_dir) / "runs" / run_key(ds, split, cfg) for split, cfg in jobs]
    out: list[RunResult | None] = [None if refresh else _load_cached_run(f) for f in folders]
    todo: dict[str, list[int]] = {}
    for n, ((split, cfg), res) in enumerate(zip(jobs, out)):
        if res is None:
            recipe = {k: v for k, v in cfg.identity().items() if k != "seed"}
            todo.setdefault(json.dumps(recipe, sort_keys=True), []).append(n)
    if not todo:
        return out
    check_writable_dir(folders[0].parent, "model cache")  # before training, not after
    units = []  # the runs each worker trains together
    for group in todo.values():
        cfg = jobs[group[0]][1]
        if batch and batchable(cfg.method, cfg.task):
            units += [list(part) for part in np.array_split(group, min(n_jobs, len(group)))]
        else:
            units += [[n] for n in group]
    if n_jobs == 1 or len(units) == 1:
        # on the CPU every batch of this call shares one pool of threads, so that no core idles while one
        # model's last member trains (fit_pool); elsewhere (vmap) a batch is one network of one recipe
        pooled = [u for u in units if _pools(jobs[u[0]][1])] if batch else []
        if len(pooled) > 1:
            for unit, results in zip(pooled, _train_pool(ds, [[jobs[n] for n in u] for u in pooled],
                                                         [[folders[n] for n in u] for u in pooled], progress)):
                for n, res in zip(unit, results):
                    out[n] = res
            units = [u for u in units if u not in pooled]
        # a model with dropout trains alone (its dropout draws from its process's generator); the package's
        # own such models (Compact) train side by side in processes of their own on the CPU, one core each,
        # each run bit for bit the run trained alone (its numerics: one intra-op thread, its own seed)
        alone = [u for u in units if batch and _alone_in_a_process(jobs[u[0]][1])]
        workers = min(available_cores(), len(alone))
        if workers > 1:
            _train_in_processes(ds, jobs, folders, alone, workers, out, progress)
            units = [u for u in units if u not in alone]
        for unit in units:
            for n, res in zip(unit, _train_unit(ds, [jobs[n] for n in unit], [folders[n] for n in unit], progress)):
                out[n] = res
        return out
    _train_in_processes(ds, jobs, folders, units, n_jobs, out, False)
    return out


def _alone_in_a_process(cfg: TrainConfig) -> bool:
    """Whether a run of ``cfg`` may train in a worker process beside others: a model that is never batched
    (dropout), registered by the package itself (a worker finds it by name; a user's model registered in
    the caller's session would not be there), on the CPU."""
    return (not batchable(cfg.method, cfg.task) and not _model_files(cfg.method)
            and resolve_device(cfg.device).type == "cpu")


def _train_in_processes(ds: Dataset, jobs: list, folders: list[Path], units: list[list[int]], n_jobs: int,
                        out: list, progress: bool) -> None:
    """Train ``units`` on joblib's workers (processes on this machine, or those of a dask cluster that shares
    the cache folder), each storing its runs, and read them into ``out`` from the store."""
    names = " + ".join(sorted({f"{jobs[u[0]][1].method}/{jobs[u[0]][1].task}" for u in units}))
    done = Parallel(n_jobs=n_jobs, return_as="generator_unordered" if progress else "list")(  # a bar: as each ends
        delayed(_train_unit_as_keyed)(ds, [jobs[n] for n in unit], [folders[n] for n in unit]) for unit in units)
    for _ in tqdm(done, total=len(units), desc=f"{names} on {n_jobs} workers", unit="unit", leave=False,
                  disable=not progress, mininterval=1.0):
        pass
    for unit in units:
        for n in unit:
            out[n] = _load_cached_run(folders[n])
            if out[n] is None:
                raise RuntimeError(f"a parallel worker did not store its run in {folders[n]}; is the cache folder "
                                   "shared with the workers?")
            out[n].cached = False  # trained now, by a worker


class intra_op_threads:
    """Torch's intra-op threads set to ``n`` for a block, the caller's count restored after it.

    Runs and their predictions compute under :data:`RUN_THREADS`.

    Parameters
    ----------
    n : int
        Threads inside the block.
    """

    def __init__(self, n: int):
        self.n = n

    def __enter__(self):
        self.before = torch.get_num_threads()
        torch.set_num_threads(self.n)

    def __exit__(self, *exc):
        torch.set_num_threads(self.before)


def _train_unit_as_keyed(ds: Dataset, jobs: list[tuple[Split, TrainConfig]], folders: list[Path]) -> list[RunResult]:
    """:func:`_train_unit` on a worker (a process here, or a machine of a dask cluster), once the worker has
    found that it would key each run as the caller did: a worker with other CPU kernels (or other code)
    would store runs that round otherwise under keys that say they do not."""
    for (split, cfg), folder in zip(jobs, folders):
        if run_key(ds, split, cfg) != folder.name:
            raise RuntimeError(
                f"this worker would not train {cfg.method}/{cfg.task} seed {cfg.seed} as the caller keyed it "
                f"(the worker's numerics: {numerics(cfg.device, cfg.method, cfg.task)}, code {code_version()}): "
                "a run it trained would round otherwise than its cache key says. Use workers with the caller's "
                "processor and package version, or train on the caller's machine (n_jobs=1)")
    return _train_unit(ds, jobs, folders, False)


def _train_unit(ds: Dataset, jobs: list[tuple[Split, TrainConfig]], folders: list[Path],
                progress: bool) -> list[RunResult]:
    """Train ``jobs`` (the members of one batch, or one run of a model that is never batched) with the
    numerics of their keys (:func:`numerics`) and store each in its folder; a worker's unit of work."""
    cfg = jobs[0][1]
    if not batchable(cfg.method, cfg.task):
        with intra_op_threads(RUN_THREADS):
            return [_train_alone(ds, *jobs[0], folders[0], progress)]
    if _pools(cfg):
        return _train_pool(ds, [jobs], [folders], progress)[0]
    X = preprocess.apply(cfg.preprocess, ds.X, ds.participant)
    t0 = time.perf_counter()
    fitted = fit_members(X, [_member(ds, split, c) for split, c in jobs], cfg, progress,
                         desc=f"{cfg.method}/{cfg.task} {len(jobs)} member{'s' * (len(jobs) > 1)}",
                         threads=RUN_THREADS)
    share = (time.perf_counter() - t0) / len(jobs)  # each member's share of the batch's time
    with intra_op_threads(RUN_THREADS):  # its predictions too, on its own threads (a forward pass on two rounds otherwise)
        return [_finish(ds, split, c, X, state, hist, best_epoch, share, folder, {"batch": len(jobs)})
                for (split, c), folder, (state, hist, best_epoch) in zip(jobs, folders, fitted)]


def _pools(cfg: TrainConfig) -> bool:
    """Whether runs of ``cfg``'s recipe train in the CPU's pool of threads (:func:`fit_pool`): a batchable
    model on a device whose batch form is threads."""
    return default_form(resolve_device(cfg.device)) == "threads" and batchable(cfg.method, cfg.task)


def _train_pool(ds: Dataset, batches: list[list[tuple[Split, TrainConfig]]], folders: list[list[Path]],
                progress: bool) -> list[list[RunResult]]:
    """Train the runs of several batches (each one recipe: a model, a task, a preprocessing) in one pool of
    threads on the CPU, each run on :data:`RUN_THREADS` intra-op threads (:func:`fit_pool`), and store each
    in its folder; the results per batch."""
    inputs: dict[str, np.ndarray] = {}  # preprocessed trials, once per preprocessing
    parts = []
    for jobs in batches:
        cfg = jobs[0][1]
        if cfg.preprocess not in inputs:
            inputs[cfg.preprocess] = preprocess.apply(cfg.preprocess, ds.X, ds.participant)
        parts.append((inputs[cfg.preprocess], [_member(ds, split, c) for split, c in jobs], cfg))
    n = sum(len(jobs) for jobs in batches)
    names = sorted({f"{jobs[0][1].method}/{jobs[0][1].task}" for jobs in batches})
    t0 = time.perf_counter()
    fitted = fit_pool(parts, progress, desc=f"{' + '.join(names)} {n} member{'s' * (n > 1)}", threads=RUN_THREADS)
    share = (time.perf_counter() - t0) / n  # each member's share of the pool's time
    with intra_op_threads(RUN_THREADS):  # its predictions too, on its own threads (a forward pass on two rounds otherwise)
        return [[_finish(ds, split, c, X, state, hist, best_epoch, share, folder, {"batch": len(jobs)})
                 for (split, c), folder, (state, hist, best_epoch) in zip(jobs, fs, results)]
                for jobs, fs, (X, _, _), results in zip(batches, folders, parts, fitted)]


def train_paper(ds: Dataset, method: str, task: str, settings: Settings, seed: int | None = None,
                split_seed: int = PAPER_SPLIT_SEED) -> RunResult:
    """One method on the paper's split with the paper's recipe and a profile's budget.

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set.
    method : str
        A registered model.
    task : {"class", "level"}
        Valence class or 9-level rating.
    settings : fmriemo.profiles.Settings
        Profile, budget, seeds, cache and device.
    seed : int or None, default=None
        The training seed; None: the first of ``settings.seeds``.
    split_seed : int, default=PAPER_SPLIT_SEED
        Seed of the paper's split.

    Returns
    -------
    run : RunResult
    """
    seed = settings.seeds[0] if seed is None else seed
    cfg = config_for(settings.profile, settings.epochs, method=method, task=task, seed=seed, device=settings.device)
    return train_run(ds, make_paper_split(ds, task, split_seed), cfg, settings.cache_dir, settings.progress)
