"""Training: the paper's recipe (Ranger, L2 on main-path kernels, best-checkpoint
selection) and an explicit epoch budget with early stopping. The optimiser is in
:mod:`fmriemo.optim`, the splits in :mod:`fmriemo.splits`, the model store in
:mod:`fmriemo.store`; their names are importable from here too.

The authors trained for up to 10,000 epochs and kept the checkpoint with the
best validation accuracy (class task) or lowest validation loss (level task).
This module keeps that selection rule but, by default, stops when the
monitored value has not improved for ``patience`` epochs (the book's
documented deviation). ``TrainConfig(epochs=10000, patience=None)`` is the
authors' budget exactly.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from torch import nn

from . import preprocess
from .data import Dataset, check_task, decode, encode
from .models import build_model, l2_penalty
from .optim import Lookahead, ranger  # noqa: F401  (the paper's optimiser)
from .profiles import PROFILES as _PROFILES
from .profiles import check_profile  # noqa: F401  (re-exported: callers use train.check_profile)
from .splits import PAPER_SPLIT_SEED, Split, make_paper_split, paper_split  # noqa: F401
from .store import (RESULT_CODE, code_version, default_cache_dir, load_cached_run, run_key,  # noqa: F401
                    store_run)

#: epoch budgets per profile and kind of model, and seeds per profile and task: views of the one
#: table in :mod:`fmriemo.profiles`
PROFILES = {name: p["budget"] for name, p in _PROFILES.items()}
PROFILE_SEEDS = {name: p["seeds"] for name, p in _PROFILES.items()}
PAPER_LR = {"class": 1e-3, "level": 1e-4}


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a training run besides the data and split."""

    method: str = "asb"
    task: str = "class"
    seed: int = 0
    epochs: int = PROFILES["full"]["class"]["epochs"]
    patience: int | None = PROFILES["full"]["class"]["patience"]
    min_epochs: int = 0  # early stopping is armed only after this many epochs (the profiles set it)
    lr: float | None = None          # None: the paper's rate for the task
    batch_size: int = 128
    l2: float = 0.01
    preprocess: str = "minmax"
    monitor: str | None = None       # None: "val_acc" for class, "val_loss" for level (the paper's rule)
    device: str = "auto"

    def __post_init__(self):
        check_task(self.task)
        if self.epochs < 1:
            raise ValueError(f"epochs must be >= 1, got {self.epochs}")
        if self.patience is not None and self.patience < 1:
            raise ValueError(f"patience must be >= 1 or None, got {self.patience}")
        if not 0 <= self.min_epochs <= self.epochs:
            raise ValueError(f"min_epochs must be between 0 and epochs ({self.epochs}), got {self.min_epochs}")
        if self.preprocess not in preprocess.METHODS:
            raise ValueError(f"preprocess must be one of {preprocess.METHODS}, got {self.preprocess!r}")
        if self.monitor not in (None, "val_acc", "val_loss"):
            raise ValueError(f"monitor must be 'val_acc' or 'val_loss', got {self.monitor!r}")

    @property
    def learning_rate(self) -> float:
        return self.lr if self.lr is not None else PAPER_LR[self.task]

    @property
    def monitored(self) -> str:
        return self.monitor or ("val_acc" if self.task == "class" else "val_loss")

    def identity(self) -> dict:
        """The fields that change results (device excluded: CPU and CUDA runs share a cache entry)."""
        d = asdict(self)
        d.pop("device")
        d["lr"], d["monitor"] = self.learning_rate, self.monitored
        return d


def config_for(profile: str = "full", epochs: int | None = None, task: str = "class", **kw) -> TrainConfig:
    """A TrainConfig from a profile name ("quick", "full", "paper"), optionally overriding epochs."""
    from .models import DEFAULT_LR, DEFAULT_PREPROCESS
    method = kw.get("method", "asb")
    kind = check_task(task) if method != "compact" else ("compact" if task == "class" else "compact_level")
    p = dict(PROFILES[check_profile(profile)][kind])
    if kw.get("preprocess") is None:
        kw["preprocess"] = DEFAULT_PREPROCESS.get(method, "minmax")
    if kw.get("lr") is None and method in DEFAULT_LR:
        kw["lr"] = DEFAULT_LR[method][task]
    if epochs is not None:
        p["epochs"] = int(epochs)
        p["min_epochs"] = min(p["min_epochs"], int(epochs))
        if p["patience"] is not None:
            p["patience"] = min(p["patience"], int(epochs))
    return TrainConfig(**{**p, "task": task, **kw})


def resolve_device(device: str = "auto") -> torch.device:
    """The torch device for ``device``: "auto" (CUDA when available, else CPU), "cpu", "cuda" or
    "cuda:N". Anything else, or CUDA on a machine without it, raises one clear ValueError."""
    if device in (None, "", "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        dev = None
    if dev is None or dev.type not in ("cpu", "cuda"):
        raise ValueError(f"device must be auto, cpu, cuda or cuda:N, got {device!r}")
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {device!r} requested but CUDA is not available here; use --device cpu")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(f"device {device!r}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    return dev


# --------------------------------------------------------------------------- fitting

@dataclass
class RunResult:
    """One trained model's record: learning curves, checkpoint, and test predictions."""

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
    def on_plateau(self) -> bool:
        """True when the kept checkpoint precedes the end of the validation plateau (or the curve
        never left it): the model was not trained past the point where the paper's recipe learns."""
        exit_ = self.plateau_exit
        return exit_ is None or self.best_epoch < exit_

    def load_model(self, device: str = "cpu"):
        """The best checkpoint as an eval-mode model."""
        model = build_model(self.method, self.task)
        model.load_state_dict(torch.load(Path(self.path) / "model.pt", map_location=device, weights_only=True))
        return model.eval()


def _progress(total: int, desc: str, enabled: bool):
    """An epoch bar that redraws at most once a second. In a notebook kernel every redraw is a widget
    message that the kernel and the process running it (papermill, Jupyter) both handle: redrawn every
    epoch, the bar made training under papermill three times slower on this 2-core machine
    (``benchmarks/train_speed.py`` measures it)."""
    from tqdm.auto import tqdm
    return tqdm(total=total, desc=desc, disable=not enabled, leave=False, unit="epoch", mininterval=1.0)


@torch.no_grad()
def predict(model: nn.Module, X, device="cpu", batch_size: int = 512):
    """Class probabilities (and ASB input gates, or None) for preprocessed inputs X [n, regions, 25]."""
    model.eval()
    probs, gates = [], []
    X = torch.as_tensor(np.asarray(X, np.float32))
    for i in range(0, len(X), batch_size):
        xb = X[i:i + batch_size].to(device)
        probs.append(torch.softmax(model(xb), dim=1).cpu())
        if getattr(model, "last_gates", None) is not None:
            gates.append(model.last_gates.cpu())
    return torch.cat(probs).numpy(), (torch.cat(gates).numpy() if gates else None)


def on_trials(ds: Dataset, run: RunResult, idx, device: str = "auto") -> RunResult:
    """``run`` with its stored model's predictions (probabilities, classes, ASB input gates) on the
    trials ``idx`` in place of its own test trials, with the run's own preprocessing: e.g. a model of
    the paper's split, or of one held-out fold, predicting the challenge's Test participants."""
    idx = np.asarray(idx, int)
    X = preprocess.apply(run.config.get("preprocess", "minmax"), ds.X, ds.participant)
    dev = resolve_device(device)
    proba, gates = predict(run.load_model().to(dev), X[idx], device=dev)
    sub = ds.subset(idx)
    y_true = sub.labels(run.task) if sub.labelled.all() else np.full(len(idx), -99)
    return replace(run, test_index=idx, y_true=y_true, y_pred=decode(run.task, proba.argmax(1)),
                               proba=proba, gates=gates)


class EarlyStopping:
    """The checkpoint and stopping rule of :func:`fit`, on its own so that it can be replayed on a
    recorded learning curve (``replay``) and tested.

    The kept epoch is the *first* epoch with the best monitored value (a later
    epoch must be strictly better, as Keras' ``save_best_only``). Training stops
    once ``patience`` epochs have passed without improvement, but never before
    ``min_epochs``.
    """

    def __init__(self, maximise: bool, patience: int | None = None, min_epochs: int = 0):
        self.maximise, self.patience, self.min_epochs = maximise, patience, min_epochs
        self.best = -np.inf if maximise else np.inf
        self.best_epoch, self.since = 0, 0

    def update(self, epoch: int, value: float) -> bool:
        """Record ``value`` for ``epoch``; True when it is a new best (keep this checkpoint)."""
        if (value > self.best) if self.maximise else (value < self.best):
            self.best, self.best_epoch, self.since = value, epoch, 0
            return True
        self.since += 1
        return False

    def should_stop(self, epoch: int) -> bool:
        return self.patience is not None and epoch >= self.min_epochs and self.since >= self.patience

    @classmethod
    def replay(cls, values, maximise: bool, epochs: int | None = None, patience: int | None = None,
               min_epochs: int = 0) -> tuple[int, int]:
        """``(epochs_run, kept_epoch)`` that training with this rule and budget ``epochs`` would have
        given, read off a curve of monitored ``values`` recorded without early stopping."""
        rule = cls(maximise, patience, min_epochs)
        values = list(values)[:epochs]
        for epoch, v in enumerate(values, start=1):
            rule.update(epoch, v)
            if rule.should_stop(epoch):
                return epoch, rule.best_epoch
        return len(values), rule.best_epoch


def plateau_exit(history: dict, window: int = 25, margin: float = 0.05) -> int | None:
    """The epoch at which validation accuracy leaves its starting level: the first epoch whose
    ``window``-epoch running mean exceeds the mean of the first ``window`` epochs by ``margin``.
    None when it never does (or the run is shorter than two windows).

    With the paper's recipe the training accuracy reaches ~1 within about 100
    epochs while the validation accuracy stays at its starting value for
    hundreds more: a checkpoint kept before this epoch comes from a model that
    had memorised its training trials but not yet generalised to any other.
    """
    v = np.asarray(history.get("val_acc", []), float)
    if len(v) < 2 * window:
        return None
    start = v[:window].mean()
    running = np.convolve(v, np.ones(window) / window, mode="valid")  # running[i] ends at epoch i + window
    above = np.flatnonzero(running > start + margin)
    return int(above[0] + window) if len(above) else None


class TrainingDiverged(RuntimeError):
    """The training loss became NaN or infinite: nothing was learned and nothing is cached."""


def fit(model: nn.Module, X_train, y_train, X_val, y_val, cfg: TrainConfig, progress: bool = True,
        desc: str = "", keep: str = "best", on_epoch=None):
    """Train ``model`` in place; return the kept state, the history and the kept epoch.

    ``y`` are class indices (0..K-1). The monitored value is computed on the
    validation set after every epoch. ``keep="best"`` restores the checkpoint
    with the best monitored value (the paper's rule); ``keep="last"`` keeps the
    final weights (for fine-tuning without a validation set).

    Early stopping (``cfg.patience``) is armed only after ``cfg.min_epochs``:
    the paper's recipe sits on a plateau for its first 100-200 epochs, and
    patience counted from the start would stop it there. ``on_epoch(epoch,
    model, improved)``, if given, is called after every epoch with the model in
    eval mode; ``improved`` says whether this epoch is a new best of the
    monitored value, the only epochs that any budget or patience could keep
    (:class:`TestTrace` uses it to record test metrics at those epochs only). A non-finite
    training loss raises :class:`TrainingDiverged`.
    """
    if keep not in ("best", "last"):
        raise ValueError(f"keep must be 'best' or 'last', got {keep!r}")
    dev = resolve_device(cfg.device)
    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    model.to(dev)
    Xt = torch.as_tensor(np.asarray(X_train, np.float32), device=dev)
    yt = torch.as_tensor(np.asarray(y_train, np.int64), device=dev)
    Xv = torch.as_tensor(np.asarray(X_val, np.float32), device=dev)
    yv = torch.as_tensor(np.asarray(y_val, np.int64), device=dev)
    opt = ranger(model.parameters(), cfg.learning_rate)
    ce = nn.CrossEntropyLoss()
    hist = {"epoch": [], "train_loss": [], "train_acc": [], "val_loss": [], "val_acc": []}
    rule = EarlyStopping(cfg.monitored == "val_acc", cfg.patience, cfg.min_epochs)
    best_state = None
    n = len(Xt)
    bar = _progress(cfg.epochs, desc or f"{cfg.method}/{cfg.task}", progress)
    for epoch in range(1, cfg.epochs + 1):
        model.train()
        order = torch.randperm(n, generator=gen).to(dev)
        tot, correct = 0.0, 0
        for i in range(0, n, cfg.batch_size):
            b = order[i:i + cfg.batch_size]
            if len(b) < 2:  # BatchNorm cannot train on a single sample
                continue
            logits = model(Xt[b])
            loss = ce(logits, yt[b])
            opt.zero_grad()
            (loss + l2_penalty(model, cfg.l2)).backward()
            opt.step()
            if not torch.isfinite(loss):
                bar.close()
                raise TrainingDiverged(
                    f"{desc or cfg.method}: training loss is {loss.item()} at epoch {epoch}; the inputs or the "
                    f"learning rate ({cfg.learning_rate:g}) make training diverge, so nothing was kept")
            tot += loss.item() * len(b)
            correct += (logits.argmax(1) == yt[b]).sum().item()
        model.eval()
        with torch.no_grad():
            lv = model(Xv)
            vloss = (ce(lv, yv) + l2_penalty(model, cfg.l2)).item()
            vacc = (lv.argmax(1) == yv).float().mean().item()
        for k, v in zip(hist, (epoch, tot / n, correct / n, vloss, vacc)):
            hist[k].append(v)
        improved = rule.update(epoch, vacc if rule.maximise else vloss)
        if improved:
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        if on_epoch is not None:
            on_epoch(epoch, model, improved)
        bar.update(1)
        bar.set_postfix(loss=f"{tot / n:.3f}", val_loss=f"{vloss:.3f}", val_acc=f"{vacc:.3f}", best=rule.best_epoch,
                        refresh=False)  # drawn with the next update that the bar's interval lets through
        if rule.should_stop(epoch):
            break
    bar.close()
    if keep == "last" or best_state is None:  # None: the monitored value was never finite
        return {k: v.detach().clone() for k, v in model.state_dict().items()}, hist, len(hist["epoch"])
    model.load_state_dict(best_state)
    return best_state, hist, rule.best_epoch


class TestTrace:
    """Records test accuracy and macro F1 (``history["test_acc"]``, ``["test_f1"]``, one value
    per epoch). They are reported, never used to select anything: they show what the checkpoint
    that another epoch budget would have kept scores. Such a checkpoint is always an epoch that
    improved on every earlier one (the first epoch of the best value among those run), so only
    those epochs are scored; the others read NaN. That spares a forward pass over the test trials
    at most epochs (6-9% of a paper model's training time) and changes no result."""

    def __init__(self, X_test, y_test: np.ndarray, task: str, device):
        self.X = torch.as_tensor(np.asarray(X_test, np.float32), device=device)
        self.y, self.task = np.asarray(y_test), task
        self.values: dict[str, list] = {"test_acc": [], "test_f1": []}

    @torch.no_grad()
    def __call__(self, epoch: int, model: nn.Module, improved: bool = True) -> None:
        from .evaluate import macro_f1
        if not improved:
            self.values["test_acc"].append(float("nan"))
            self.values["test_f1"].append(float("nan"))
            return
        pred = model(self.X).argmax(1).cpu().numpy()
        self.values["test_acc"].append(float(np.mean(pred == self.y)))
        self.values["test_f1"].append(macro_f1(self.y, pred, self.task))


def test_trace(ds: Dataset, split: Split, task: str, X, device) -> TestTrace | None:
    """A :class:`TestTrace` for ``split``'s test trials, or None when some have no label."""
    if len(split.test) == 0 or not ds.labelled[split.test].all():
        return None
    return TestTrace(X[split.test], encode(task, ds.subset(split.test).labels(task)), task, device)


def train_run(ds: Dataset, split: Split, cfg: TrainConfig, cache_dir=None, progress: bool = True,
              refresh: bool = False) -> RunResult:
    """Train (or load from the cache) one model on ``split`` and predict its test trials."""
    from .files import check_writable_dir
    cache = Path(cache_dir).expanduser() if cache_dir else default_cache_dir()
    key = run_key(ds, split, cfg)
    folder = cache / "runs" / key
    if not refresh:
        res = load_cached_run(folder)
        if res is not None:
            return res
    check_writable_dir(folder.parent, "model cache")  # before training, not after
    resolve_device(cfg.device)
    X = preprocess.apply(cfg.preprocess, ds.X, ds.participant)
    y = encode(cfg.task, {"class": ds.y_class, "level": ds.y_level}[cfg.task][np.r_[split.train, split.val]])
    y_tr, y_va = y[:len(split.train)], y[len(split.train):]
    torch.manual_seed(cfg.seed)
    model = build_model(cfg.method, cfg.task)
    dev = resolve_device(cfg.device)
    trace = test_trace(ds, split, cfg.task, X, dev)
    t0 = time.perf_counter()
    state, hist, best_epoch = fit(model, X[split.train], y_tr, X[split.val], y_va, cfg, progress=progress,
                                  desc=f"{cfg.method}/{cfg.task} seed {cfg.seed}", on_epoch=trace)
    seconds = time.perf_counter() - t0
    if trace is not None:
        hist.update(trace.values)
    proba, gates = predict(model, X[split.test], device=dev)
    te = ds.subset(split.test)
    y_true = te.labels(cfg.task) if te.labelled.all() else np.full(len(te), -99)
    res = RunResult(key=key, config={**cfg.identity(), "device": str(dev)}, split=split.identity(),
                    history=hist, best_epoch=best_epoch, epochs_run=len(hist["epoch"]), seconds=seconds,
                    test_index=np.asarray(split.test), y_true=y_true,
                    y_pred=decode(cfg.task, proba.argmax(1)), proba=proba, gates=gates, path=str(folder))
    store_run(res, state, folder)
    return res


def train_paper(ds: Dataset, method: str, task: str, seed: int = 0, profile: str = "full",
                epochs: int | None = None, split_seed: int = PAPER_SPLIT_SEED, cache_dir=None,
                device: str = "auto", progress: bool = True, **overrides) -> RunResult:
    """One method on the paper's split with the paper's recipe and the profile's budget."""
    cfg = config_for(profile, epochs, method=method, task=task, seed=seed, device=device, **overrides)
    return train_run(ds, make_paper_split(ds, task, split_seed), cfg, cache_dir, progress)



def profile_table() -> str:
    """The README's table of profiles (:func:`fmriemo.profiles.profile_table`)."""
    from .profiles import profile_table as table
    return table()
