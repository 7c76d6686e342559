"""Many members, one model: the seeds and folds of one method and task trained together, each member with
its own initialisation, its own shuffling, its own validation record, early stopping and kept checkpoint,
as if trained alone by :func:`fmriemo.training.loop.fit` (a test checks that they are, within float
tolerance). On an accelerator they are one batched network: the model's parameters stacked over members
and the forward pass ``torch.func.vmap``-ed over them. On a CPU they train side by side on a pool of
threads, each member by :func:`~fmriemo.training.loop.fit` itself on its share of the cores, which is
both faster there and bit for bit the run alone on that many threads (:func:`default_form`); members of
several models can share that pool (:func:`fit_pool`).

In the vmapped form members may have training and validation sets of different sizes (the folds of a
held-out protocol): a step trains every member that has a batch at that step, grouped by batch size,
and the optimiser (:class:`fmriemo.models.optim.StackedRanger`) keeps each member's own step count. A
member that stops leaves the stack. Data stay on the device; the training loss and accuracy are
accumulated there and the host reads the members' validation record once per epoch, to decide
checkpoints and stopping: no step waits on the device.

Models with dropout are trained one at a time (:func:`batchable`): a dropout mask drawn for a batch of
members, or by members on threads that share torch's global generator, could not reproduce the mask a
member trained alone would draw.
"""
from __future__ import annotations

import collections
import copy
import dataclasses
import math
import threading
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap

from ..metrics import macro_f1
from ..models.optim import StackedRanger
from ..models.registry import build_model, penalised_weights
from .config import TrainConfig, resolve_device
from .loop import EarlyStopping, TestTrace, TrainingDiverged, _progress, denormals_flushed, fit_steps

__all__ = ["Member", "batchable", "default_form", "fit_pool", "fit_members"]


@dataclass
class Member:
    """One model of a batch: its seed and its trials, with their labels as class indices.

    Parameters
    ----------
    seed : int
        Initialisation and shuffling.
    train, y_train : ndarray of int
        Training rows (indices into the preprocessed data) and their class indices.
    val, y_val : ndarray of int
        Validation rows and class indices.
    test, y_test : ndarray of int or None, default=None
        Labelled test rows and class indices, scored at the epochs a checkpoint rule could keep; None:
        no test record (test trials without labels).
    """

    seed: int
    train: np.ndarray
    y_train: np.ndarray
    val: np.ndarray
    y_val: np.ndarray
    test: np.ndarray | None = None
    y_test: np.ndarray | None = None


def batchable(method: str, task: str = "class") -> bool:
    """Whether members of a model can share a batch: a model without dropout (see the module's note).

    Parameters
    ----------
    method : str
        A registered model.
    task : {"class", "level"}, default="class"
        The task its output layer is built for.

    Returns
    -------
    batchable : bool
    """
    return not any(isinstance(m, nn.Dropout) and m.p > 0 for m in build_model(method, task).modules())


def _padded(X: torch.Tensor, rows: list, y: list | None = None):
    """Rows of several members stacked into [members, max rows, ...] (repeating each member's first row
    as padding), with a mask of the real rows and the labels (0 where padded)."""
    n = max(len(r) for r in rows)
    idx = torch.stack([torch.as_tensor(np.r_[r, np.repeat(r[:1], n - len(r))], device=X.device) for r in rows])
    mask = torch.stack([torch.arange(n, device=X.device) < len(r) for r in rows])
    labels = None if y is None else torch.stack([torch.as_tensor(np.r_[v, np.zeros(n - len(v), int)],
                                                                  dtype=torch.int64, device=X.device) for v in y])
    return X[idx], mask, labels


class _Stack:
    """The members still training: their stacked parameters and buffers, and the functional model."""

    def __init__(self, models: list[nn.Module], penalised: list[str]):
        self.params, self.buffers = stack_module_state(models)
        self.base = copy.deepcopy(models[0]).to("meta")
        self.penalised = penalised

    def logits(self, x: torch.Tensor, idx: torch.Tensor | None = None) -> torch.Tensor:
        """Logits of the members at ``idx`` (all when None) for their inputs ``x`` [members, batch, ...]."""
        return self.forward(x, idx)[0]

    def forward(self, x, idx: torch.Tensor | None = None, l2: float | None = None):
        """``(logits, penalty)`` of the members at ``idx`` (all when None) for their inputs ``x``
        [members, batch, ...]; ``penalty`` is each member's L2 penalty (see :meth:`l2`) from the same weights
        when ``l2`` is given, else None. In training mode the running statistics of batch norm are updated
        member by member. ``vmap`` makes one pass of all members (grouped convolutions)."""
        params = self.params if idx is None else {n: p[idx] for n, p in self.params.items()}
        buffers = self.buffers if idx is None else {n: b[idx] for n, b in self.buffers.items()}
        out = vmap(lambda p, b, xx: functional_call(self.base, (p, b), (xx,)))(params, buffers, x)
        penalty = None if l2 is None else self.l2(l2, idx)
        if idx is not None and self.base.training:
            with torch.no_grad():
                for n, b in buffers.items():
                    self.buffers[n].index_copy_(0, idx, b)
        return out, penalty

    def l2(self, coef: float, idx: torch.Tensor | None = None) -> torch.Tensor:
        """The paper's L2 penalty of each member (``coef`` times the sum of squares of its penalised kernels)."""
        terms = [(self.params[n] if idx is None else self.params[n][idx]).pow(2).flatten(1).sum(1)
                 for n in self.penalised]
        return coef * torch.stack(terms).sum(0)

    def state(self, m: int) -> dict:
        """Member ``m``'s weights as a state dict of the model."""
        return {n: t[m].detach().clone() for n, t in {**self.params, **self.buffers}.items()}

    def keep(self, positions: list[int]) -> None:
        sel = torch.as_tensor(positions, device=next(iter(self.params.values())).device)
        self.params = {n: p.detach()[sel].clone().requires_grad_(True) for n, p in self.params.items()}
        self.buffers = {n: b[sel].clone() for n, b in self.buffers.items()}


def default_form(device: torch.device | str) -> str:
    """How the members train by default: ``"threads"`` on the CPU, ``"vmap"`` elsewhere.

    On an accelerator one vmapped pass of all members costs little more than one member's. On a CPU
    the grouped convolutions and vmapped batch norm that ``vmap`` makes are slower than the members'
    own convolutions one after the other (a third form, each member's pass in turn on views of the
    stacks, only matched one member after another and was removed: ``benchmarks/README.md``). What
    pays on a CPU is to give each member fewer cores: one paper model's operations are too small for
    two cores to halve their time, so two members side by side, on one core each, train more
    member-epochs per second than one member on two (:func:`fit_pool`; ``benchmarks/train_speed.py
    --members``, figures in benchmarks/README.md).

    Parameters
    ----------
    device : torch.device or str
        Where the members train.

    Returns
    -------
    form : {"threads", "vmap"}
    """
    return "threads" if torch.device(device).type == "cpu" else "vmap"


def _fit_threads(X, members: list[Member], cfg: TrainConfig, progress: bool, desc: str,
                 threads: int | None = None) -> list:
    """The CPU's form of :func:`fit_members`: :func:`fit_pool` with one recipe."""
    return fit_pool([(X, members, cfg)], progress, desc, threads)[0]


def fit_pool(parts: list[tuple[np.ndarray, list[Member], TrainConfig]], progress: bool = True, desc: str = "",
             threads: int | None = None) -> list[list]:
    """The CPU's form: members of one or several recipes trained on one pool of threads.

    Every member is trained by :func:`fmriemo.training.loop.fit` one epoch at a time
    (:func:`~fmriemo.training.loop.fit_steps`) on threads that share the process, the data and the
    progress bar. Each thread has the same share of the caller's intra-op threads (one each when there
    are fewer cores than members), so a member is bit for bit the run alone on that many threads
    whichever thread runs its epochs. The members take their epochs in turn from one queue, so they
    progress together and the pool stays busy to the end (a pool that trained whole members, or one
    pool per recipe, would leave a core idle while a last member ran). The torch operators release the
    interpreter lock, so the threads compute in parallel; with one core the members take their turns in
    the caller's thread.

    Parameters
    ----------
    parts : list of (ndarray, list of Member, TrainConfig)
        Preprocessed trials, the members that train on them and their recipe: e.g. the paper's three
        models of one chapter in one pool.
    progress : bool, default=True
        Show an epoch bar.
    desc : str, default=""
        The bar's label.
    threads : int or None, default=None
        Intra-op threads per member (the numerics a run's cache key records); None: an equal share.

    Returns
    -------
    results : list of list
        Per part, per member, what :func:`fit_members` gives.
    """
    entries = [(np.asarray(X, np.float32), m, cfg) for X, members, cfg in parts for m in members]
    cores = torch.get_num_threads()
    share = threads or max(1, cores // max(1, min(len(entries), cores)))
    workers = max(1, min(len(entries), cores // share))
    traces, runs = [], []
    for X, m, cfg in entries:
        dev = resolve_device(cfg.device)
        trace = None if m.test is None else TestTrace(X[m.test], m.y_test, cfg.task, dev)
        torch.manual_seed(m.seed)  # the initialisation each would have alone, drawn here, not in a thread
        runs.append(fit_steps(build_model(cfg.method, cfg.task), X[m.train], m.y_train, X[m.val], m.y_val,
                              dataclasses.replace(cfg, seed=m.seed), progress=False, on_epoch=trace))
        traces.append(trace)
    results: list = [None] * len(entries)
    done = [0] * len(entries)  # epochs each member has run
    turns = collections.deque(range(len(entries)))  # the members waiting for their next epoch, in turn
    lock, failed = threading.Lock(), threading.Event()
    first = parts[0][2]
    bar = _progress(sum(cfg.epochs for _, _, cfg in entries),
                    desc or f"{first.method}/{first.task} {len(entries)} members", progress)

    def work() -> None:
        while not failed.is_set():
            with lock:
                if not turns:
                    return
                i = turns.popleft()
            try:
                epoch, finished = next(runs[i]), False
            except StopIteration as end:
                state, hist, kept = end.value
                if traces[i] is not None:
                    hist.update(traces[i].values)
                # early stopping's spare epochs count as done too
                results[i], epoch, finished = (state, hist, kept), entries[i][2].epochs, True
            except BaseException:
                failed.set()  # the other threads stop after their current epoch
                raise
            with lock:
                bar.update(epoch - done[i])
                done[i] = epoch
                if not finished:
                    turns.append(i)

    def per_part() -> list[list]:
        out, n = [], 0
        for _, members, _ in parts:
            out.append(results[n:n + len(members)])
            n += len(members)
        return out

    if workers == 1:
        try:
            torch.set_num_threads(share)
            work()
            return per_part()
        finally:
            torch.set_num_threads(cores)
            bar.close()
    ready = threading.Barrier(workers)

    def start(n: int) -> None:  # each pool thread sets its share before any thread computes
        torch.set_num_threads(n)
        ready.wait(timeout=120)

    pool = ThreadPoolExecutor(workers, thread_name_prefix="fmriemo-members", initializer=start, initargs=(share,))
    try:
        futures = [pool.submit(work) for _ in range(workers)]
        for f in wait(futures, return_when=FIRST_EXCEPTION)[0]:
            f.result()  # raises a thread's error now, while the others finish their epoch
        wait(futures)
        return per_part()
    except BaseException:
        failed.set()  # an error, or Ctrl-C in the caller: every thread stops after its current epoch
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        torch.set_num_threads(cores)  # new threads take the last count set anywhere: set the caller's again
        bar.close()


@denormals_flushed()  # the vmapped form trains on the calling thread: its own setting back after
def fit_members(X, members: list[Member], cfg: TrainConfig, progress: bool = True, desc: str = "",
                form: str | None = None, threads: int | None = None) -> list:
    """Train several members of one recipe on the same preprocessed trials.

    Parameters
    ----------
    X : ndarray of shape (n_trials, n_regions, 25)
        Preprocessed trials; members index into them.
    members : list of Member
        Each with its own seed and rows.
    cfg : TrainConfig
        Recipe and budget (its seed is ignored).
    progress : bool, default=True
        Show an epoch bar.
    desc : str, default=""
        The bar's label.
    form : {"vmap", "threads"} or None, default=None
        How the members share the device; None: :func:`default_form`. Every form trains the same members.
    threads : int or None, default=None
        Intra-op threads of each member in the ``"threads"`` form; None: an equal share of the caller's.

    Returns
    -------
    results : list of (dict, dict, int)
        Per member, ``(kept_state, history, kept_epoch)`` as :func:`fmriemo.training.loop.fit` gives them;
        the history has ``test_acc`` and ``test_f1`` at the epochs a checkpoint rule could keep (NaN
        elsewhere) when the member has labelled test trials.
    """
    dev = resolve_device(cfg.device)
    if form not in (None, "vmap", "threads"):
        raise ValueError(f"form must be 'vmap' or 'threads', not {form!r}")
    form = form or default_form(dev)
    if form == "threads":
        return _fit_threads(X, members, cfg, progress, desc, threads)
    X = torch.as_tensor(np.asarray(X, np.float32), device=dev)
    models = []
    for m in members:
        torch.manual_seed(m.seed)  # the initialisation each would have alone
        models.append(build_model(cfg.method, cfg.task).to(dev))
    named = dict(models[0].named_parameters())
    penalised = [n for n, p in named.items() if any(p is w for w in penalised_weights(models[0]))]
    stack = _Stack(models, penalised)
    opt = StackedRanger(stack.params, cfg.learning_rate)
    gens = [torch.Generator().manual_seed(m.seed) for m in members]
    train_rows = [torch.as_tensor(np.asarray(m.train, np.int64), device=dev) for m in members]
    y_train = [torch.as_tensor(np.asarray(m.y_train, np.int64), device=dev) for m in members]
    rules = [EarlyStopping(cfg.monitored == "val_acc", cfg.patience, cfg.min_epochs, cfg.after_exit) for _ in members]
    hist = [{"epoch": [], "train_loss": [], "train_acc": [], "val_loss": [], "val_acc": []} for _ in members]
    traced = [m.test is not None for m in members]
    for h, t in zip(hist, traced):
        if t:
            h.update(test_acc=[], test_f1=[])
    best = [None] * len(members)
    last: dict[int, dict] = {}  # the final weights of members that never improved (as fit keeps them)
    alive = list(range(len(members)))  # member ids in the stack's order
    bar = _progress(cfg.epochs, desc or f"{cfg.method}/{cfg.task} {len(members)} members", progress)
    for epoch in range(1, cfg.epochs + 1):
        stack.base.train()
        orders = [torch.randperm(len(members[i].train), generator=gens[i]).to(dev) for i in alive]
        loss_sum = torch.zeros(len(alive), device=dev)
        hits = torch.zeros(len(alive), device=dev)
        finite = torch.ones(len(alive), dtype=torch.bool, device=dev)
        for start in range(0, max(len(o) for o in orders), cfg.batch_size):
            groups: dict[int, list[int]] = {}  # batch size -> positions in the stack of the members that step
            for pos, o in enumerate(orders):
                size = len(o[start:start + cfg.batch_size])
                if size >= 2:  # BatchNorm cannot train on a single sample (as fit skips it)
                    groups.setdefault(size, []).append(pos)
            for size, positions in groups.items():
                everyone = len(positions) == len(alive)
                idx = None if everyone else torch.as_tensor(positions, device=dev)
                rows = torch.stack([orders[p][start:start + size] for p in positions])
                members_rows = torch.stack([train_rows[alive[p]][rows[i]] for i, p in enumerate(positions)])
                y = torch.stack([y_train[alive[p]][rows[i]] for i, p in enumerate(positions)])
                logits, penalty = stack.forward(X[members_rows], idx, l2=cfg.l2)
                ce = nn.functional.cross_entropy(logits.flatten(0, 1), y.flatten(), reduction="none")
                ce = ce.view(len(positions), size).mean(1)
                opt.zero_grad()
                (ce + penalty).sum().backward()
                opt.step(positions)
                at = slice(None) if everyone else idx
                with torch.no_grad():
                    loss_sum[at] += ce.detach() * size
                    hits[at] += (logits.argmax(-1) == y).sum(1)
                    finite[at] &= torch.isfinite(ce.detach())
        stack.base.eval()
        with torch.no_grad():
            xv, mask, yv = _padded(X, [members[i].val for i in alive], [members[i].y_val for i in alive])
            lv = stack.logits(xv)
            ce = nn.functional.cross_entropy(lv.flatten(0, 1), yv.flatten(), reduction="none").view(mask.shape)
            val_loss = (ce * mask).sum(1) / mask.sum(1) + stack.l2(cfg.l2)
            val_acc = ((lv.argmax(-1) == yv) & mask).sum(1) / mask.sum(1)
            n_train = torch.as_tensor([len(members[i].train) for i in alive], device=dev, dtype=torch.float32)
            record = torch.stack([loss_sum / n_train, hits / n_train, val_loss, val_acc, finite.float()]).cpu()
        improved, stopped = [], []
        for pos, i in enumerate(alive):  # the one read of the epoch: the members' records
            t_loss, t_acc, v_loss, v_acc, ok = record[:, pos].tolist()
            if not ok:
                bar.close()
                raise TrainingDiverged(f"{desc or cfg.method} seed {members[i].seed}: training loss is not finite at "
                                       f"epoch {epoch}; the inputs or the learning rate ({cfg.learning_rate:g}) make "
                                       "training diverge, so nothing was kept")
            for k, v in zip(("epoch", "train_loss", "train_acc", "val_loss", "val_acc"),
                            (epoch, t_loss, t_acc, v_loss, v_acc)):
                hist[i][k].append(v)
            if rules[i].update(epoch, v_acc if rules[i].maximise else v_loss, v_acc):
                best[i] = stack.state(pos)
                improved.append(pos)
            if rules[i].should_stop(epoch):
                stopped.append(pos)
        _trace(stack, X, members, alive, improved, traced, hist, cfg.task)
        bar.update(1)
        for pos in stopped:
            if best[alive[pos]] is None:
                last[alive[pos]] = stack.state(pos)
        if stopped:
            keep = [pos for pos in range(len(alive)) if pos not in stopped]
            if not keep:
                break
            stack.keep(keep)
            opt.keep(keep, stack.params)
            alive = [alive[pos] for pos in keep]
    bar.close()
    for pos, i in enumerate(alive):
        if best[i] is None:
            last[i] = stack.state(pos)
    return [(best[i], hist[i], rules[i].best_epoch) if best[i] is not None
            else (last[i], hist[i], len(hist[i]["epoch"])) for i in range(len(members))]


@torch.no_grad()
def _trace(stack: _Stack, X, members, alive, improved, traced, hist, task) -> None:
    """The test record: accuracy and macro F1 of the improved members' checkpoints, NaN for the others
    (as :class:`fmriemo.training.loop.TestTrace` records them)."""
    scored = {}
    todo = [pos for pos in improved if traced[alive[pos]]]
    if todo:
        idx = torch.as_tensor(todo, device=X.device)
        xt, mask, _ = _padded(X, [members[alive[p]].test for p in todo])
        pred = stack.logits(xt, idx).argmax(-1).cpu().numpy()
        for k, pos in enumerate(todo):
            m = members[alive[pos]]
            p = pred[k][:len(m.test)]
            scored[alive[pos]] = (float(np.mean(p == m.y_test)), macro_f1(m.y_test, p, task))
    for pos, i in enumerate(alive):
        if traced[i]:
            acc, f1 = scored.get(i, (math.nan, math.nan))
            hist[i]["test_acc"].append(acc)
            hist[i]["test_f1"].append(f1)
