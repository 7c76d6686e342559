"""The fitting loop: the paper's recipe (Ranger, L2 on the penalised kernels, the checkpoint with the
best monitored validation value), an explicit epoch budget with early stopping armed late, the
rule on its own (:class:`EarlyStopping`, replayable on a recorded curve) and the plateau that the
recipe crosses before it learns (:func:`plateau_exit`)."""
from __future__ import annotations

import contextlib
import math

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from ..metrics import macro_f1
from ..models.optim import ranger
from ..models.registry import l2_penalty
from .config import TrainConfig, resolve_device

__all__ = [
    "flush_denormals", "flushing_denormals", "denormals_flushed", "predict", "EarlyStopping", "PlateauWatch",
    "plateau_exit", "CAP_WINDOW_SHARE", "still_improving", "TrainingDiverged", "fit", "fit_steps", "TestTrace",
]


def _progress(total: int, desc: str, enabled: bool):
    """An epoch bar that redraws at most once a second. In a notebook kernel every redraw is a widget
    message that the kernel and the process running it (papermill, Jupyter) both handle: redrawn every
    epoch, the bar made training under papermill three times slower on this 2-core machine
    (``benchmarks/train_speed.py`` measures it)."""
    return tqdm(total=total, desc=desc, disable=not enabled, leave=False, unit="epoch", mininterval=1.0)


def flush_denormals() -> None:
    """Flush denormal floats to zero on the calling thread and the intra-op threads it uses
    (``torch.set_flush_denormal``). The paper's recipe shrinks weights and optimiser moments towards zero
    with its L2 penalty over hundreds of epochs; once values underflow into the denormal range the CPU
    computes with them many times more slowly: an ASB epoch on one thread took 0.20 s at epoch 300 and
    0.39 s at epoch 700 with denormals, 0.20 s at both without (``benchmarks/train_speed.py
    --denormals``). Values that small (below 1.2e-38) change no prediction. Training turns it on for each
    epoch on the thread that runs the epoch, and gives the thread its own setting back after it
    (:func:`denormals_flushed`)."""
    torch.set_flush_denormal(True)


def flushing_denormals() -> bool:
    """Whether the calling thread flushes denormal floats to zero now.

    Torch can set the flag but not read it, so a product tells: a normal float32 scaled into the denormal
    range reads zero only when denormals are flushed.

    Returns
    -------
    flushing : bool
    """
    return float(torch.tensor(2e-38, dtype=torch.float32) * 0.25) == 0.0


@contextlib.contextmanager
def denormals_flushed():
    """Flush denormal floats to zero on the calling thread (:func:`flush_denormals`) for the ``with``
    block, then give the thread back the setting it had.

    The flag belongs to the thread, and whatever runs on it later (numpy, scikit-learn, the caller's own
    statistics) computes under it: a trainer that left it on would change how the caller's code treats
    the smallest floats (hypothesis, for one, then refuses to draw subnormal floats).

    Yields
    ------
    None
        The block runs with denormals flushed.
    """
    before = flushing_denormals()
    flush_denormals()
    try:
        yield
    finally:
        if not before:
            torch.set_flush_denormal(False)


@torch.no_grad()
def predict(model: nn.Module, X, device="cpu", batch_size: int = 512):
    """Class probabilities and input gates of a model for preprocessed trials.

    Parameters
    ----------
    model : torch.nn.Module
        A trained model.
    X : array-like of shape (n_trials, n_regions, 25)
        Preprocessed trials.
    device : str or torch.device, default="cpu"
        Where the forward passes run.
    batch_size : int, default=512
        Trials per pass.

    Returns
    -------
    proba : ndarray of shape (n_trials, n_classes)
    gates : ndarray of shape (n_trials, n_regions) or None
        The model's ``input_gates(x)`` (ASB's weight of each region per trial); None for a model without them.
    """
    model.eval()
    probs, gates = [], []
    X = torch.as_tensor(np.asarray(X, np.float32))
    read_gates = getattr(model, "input_gates", None)
    for i in range(0, len(X), batch_size):
        xb = X[i:i + batch_size].to(device)
        probs.append(torch.softmax(model(xb), dim=1).cpu())
        g = read_gates(xb) if read_gates is not None else None
        if g is not None:
            gates.append(g.cpu())
    return torch.cat(probs).numpy(), (torch.cat(gates).numpy() if gates else None)


class EarlyStopping:
    """The checkpoint and stopping rule of :func:`fit`, on its own so that it can be replayed on a
    recorded learning curve (:meth:`replay`) and tested.

    The kept epoch is the *first* epoch with the best monitored value (a later epoch must be strictly
    better, as Keras' ``save_best_only``). Training stops once ``patience`` epochs have passed without
    improvement, but only once the rule is armed: after ``min_epochs``, or, with ``after_exit``, that many
    epochs after the run's own plateau exit (:func:`plateau_exit`, followed epoch by epoch on the
    validation accuracy), whichever comes first. A run that leaves its plateau early can stop early;
    one that has not left it keeps going until ``min_epochs``.

    Parameters
    ----------
    maximise : bool
        True for accuracy, False for a loss.
    patience : int or None, default=None
        Epochs without improvement that stop the run; None: never stop early.
    min_epochs : int, default=0
        The rule is armed after this many epochs ...
    after_exit : int or None, default=None
        ... or this many after the plateau exit, if sooner.
    """

    def __init__(self, maximise: bool, patience: int | None = None, min_epochs: int = 0,
                 after_exit: int | None = None):
        self.maximise, self.patience, self.min_epochs, self.after_exit = maximise, patience, min_epochs, after_exit
        self.best = -np.inf if maximise else np.inf
        self.best_epoch, self.since = 0, 0
        self.watch = PlateauWatch()

    def update(self, epoch: int, value: float, val_acc: float | None = None) -> bool:
        """Record ``value`` for ``epoch`` (and the validation accuracy, which the plateau is read from; the
        monitored value when it is omitted); True when it is a new best (keep this checkpoint)."""
        self.watch.update(epoch, value if val_acc is None else val_acc)
        if (value > self.best) if self.maximise else (value < self.best):
            self.best, self.best_epoch, self.since = value, epoch, 0
            return True
        self.since += 1
        return False

    def armed(self, epoch: int) -> bool:
        """Whether the rule may stop the run at ``epoch``: after ``min_epochs``, or ``after_exit`` epochs after the
        plateau exit once the best checkpoint is past it (a best epoch still on the plateau is a fluctuation
        of a model that has not learned yet: such a run waits for ``min_epochs``)."""
        if epoch >= self.min_epochs:
            return True
        exit_ = self.watch.exit
        return (self.after_exit is not None and exit_ is not None and epoch >= exit_ + self.after_exit
                and self.best_epoch >= exit_)

    def should_stop(self, epoch: int) -> bool:
        return self.patience is not None and self.since >= self.patience and self.armed(epoch)

    @classmethod
    def replay(cls, values, maximise: bool, epochs: int | None = None, patience: int | None = None,
               min_epochs: int = 0, after_exit: int | None = None, val_acc=None) -> tuple[int, int]:
        """``(epochs_run, kept_epoch)`` that training with this rule and budget ``epochs`` would have
        given, read off a curve of monitored ``values`` recorded without early stopping (``val_acc``: the
        validation accuracy, for the plateau, when the monitored value is another)."""
        rule = cls(maximise, patience, min_epochs, after_exit)
        values = list(values)[:epochs]
        accs = values if val_acc is None else list(val_acc)
        for epoch, (v, acc) in enumerate(zip(values, accs), start=1):
            rule.update(epoch, v, acc)
            if rule.should_stop(epoch):
                return epoch, rule.best_epoch
        return len(values), rule.best_epoch


class PlateauWatch:
    """:func:`plateau_exit` followed epoch by epoch.

    ``exit`` is the first epoch whose ``window``-epoch running mean of validation accuracy exceeds the
    mean of the first ``window`` epochs by ``margin`` (None until then). On a run of at least two windows
    it is the epoch :func:`plateau_exit` finds afterwards.

    Parameters
    ----------
    window : int, default=25
        Epochs of the running mean.
    margin : float, default=0.05
        How far above its start the running mean must rise.
    """

    def __init__(self, window: int = 25, margin: float = 0.05):
        self.window, self.margin = window, margin
        self.values: list[float] = []
        self.exit: int | None = None

    def update(self, epoch: int, val_acc: float) -> None:
        self.values.append(float(val_acc))
        w = self.window
        if self.exit is None and len(self.values) > w:
            start = sum(self.values[:w]) / w
            if sum(self.values[-w:]) / w > start + self.margin:
                self.exit = epoch


def plateau_exit(history: dict, window: int = 25, margin: float = 0.05) -> int | None:
    """The epoch at which validation accuracy leaves its starting level.

    With the paper's recipe the training accuracy reaches ~1 within about 100 epochs while the
    validation accuracy stays at its starting value for hundreds more: a checkpoint kept before this
    epoch comes from a model that had memorised its training trials but not yet generalised to any
    other.

    Parameters
    ----------
    history : dict
        A run's history, with ``val_acc`` per epoch.
    window : int, default=25
        Epochs of the running mean.
    margin : float, default=0.05
        How far above the first window's mean the running mean must rise.

    Returns
    -------
    epoch : int or None
        The first epoch whose running mean exceeds the first window's mean by ``margin``; None when it
        never does, or the run is shorter than two windows.
    """
    v = np.asarray(history.get("val_acc", []), float)
    if len(v) < 2 * window:
        return None
    start = v[:window].mean()
    running = np.convolve(v, np.ones(window) / window, mode="valid")  # running[i] ends at epoch i + window
    above = np.flatnonzero(running > start + margin)
    return int(above[0] + window) if len(above) else None


#: without early stopping, a run is still improving at its cap when it kept an epoch in the last 5% of it
CAP_WINDOW_SHARE = 0.05


def still_improving(best_epoch: int, epochs_run: int, epochs: int, patience: int | None) -> bool:
    """Whether the epoch cap, not the stopping rule, ended a run while its monitored value was still
    improving.

    The run used its whole budget and kept an epoch within the last ``patience`` epochs (the rule would
    not have stopped it yet), or, without early stopping, within the last :data:`CAP_WINDOW_SHARE` of the
    budget (on the real data every level-task run of the full profile kept an epoch in the last 2% of
    its 1,000). Such a model was cut off while learning: it has not been tested at the recipe, and a
    longer budget could change its numbers.

    Parameters
    ----------
    best_epoch : int
        The kept epoch.
    epochs_run : int
        Epochs the run trained.
    epochs : int
        Its budget.
    patience : int or None
        Its early-stopping patience.

    Returns
    -------
    still_improving : bool
    """
    if epochs_run < epochs:
        return False
    window = patience if patience is not None else max(1, math.ceil(CAP_WINDOW_SHARE * epochs))
    return epochs_run - best_epoch < window


class TrainingDiverged(RuntimeError):
    """The training loss became NaN or infinite: nothing was learned and nothing is cached."""


def fit(model: nn.Module, X_train, y_train, X_val, y_val, cfg: TrainConfig, progress: bool = True,
        desc: str = "", keep: str = "best", on_epoch=None):
    """Train a model in place with the paper's recipe and a checkpoint rule.

    Early stopping (``cfg.patience``) is armed only after ``cfg.min_epochs`` (or ``cfg.after_exit``
    epochs after the plateau exit; :class:`EarlyStopping`): the paper's recipe sits on a plateau for its
    first 100-200 epochs, and patience counted from the start would stop it there.

    Parameters
    ----------
    model : torch.nn.Module
        The model, trained in place.
    X_train, y_train : array-like
        Preprocessed training trials (n, regions, seconds) and their class indices (0..K-1).
    X_val, y_val : array-like
        Validation trials and class indices; the monitored value is computed on them after every epoch.
    cfg : TrainConfig
        Recipe and budget.
    progress : bool, default=True
        Show an epoch bar.
    desc : str, default=""
        The bar's label.
    keep : {"best", "last"}, default="best"
        ``"best"`` restores the checkpoint with the best monitored value (the paper's rule); ``"last"``
        keeps the final weights (fine-tuning without a validation set).
    on_epoch : callable or None, default=None
        ``on_epoch(epoch, model, improved)`` after every epoch, the model in eval mode; ``improved`` says
        whether the epoch is a new best of the monitored value, the only epochs any budget or patience
        could keep (:class:`TestTrace` records test metrics at those epochs only).

    Returns
    -------
    state : dict
        The kept weights.
    history : dict of str to list
        Per epoch: ``epoch``, training and validation loss and accuracy.
    kept_epoch : int
        1-based.

    Raises
    ------
    TrainingDiverged
        When the training loss is not finite.
    """
    steps = fit_steps(model, X_train, y_train, X_val, y_val, cfg, progress, desc, keep, on_epoch)
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value


def fit_steps(model: nn.Module, X_train, y_train, X_val, y_val, cfg: TrainConfig, progress: bool = True,
              desc: str = "", keep: str = "best", on_epoch=None):
    """:func:`fit` one epoch at a time: a generator that yields each epoch's number when the epoch is done
    and returns what :func:`fit` returns.

    Whoever advances it decides when the next epoch runs, and on which thread
    (:func:`fmriemo.training.batched.fit_pool` interleaves members' epochs this way).

    Parameters
    ----------
    model : torch.nn.Module
        The model, trained in place.
    X_train, y_train : array-like
        Preprocessed training trials (n, regions, seconds) and their class indices (0..K-1).
    X_val, y_val : array-like
        Validation trials and class indices; the monitored value is computed on them after every epoch.
    cfg : TrainConfig
        Recipe and budget.
    progress : bool, default=True
        Show an epoch bar.
    desc : str, default=""
        The bar's label.
    keep : {"best", "last"}, default="best"
        ``"best"`` restores the checkpoint with the best monitored value (the paper's rule); ``"last"``
        keeps the final weights (fine-tuning without a validation set).
    on_epoch : callable or None, default=None
        ``on_epoch(epoch, model, improved)`` after every epoch, the model in eval mode; ``improved`` says
        whether the epoch is a new best of the monitored value, the only epochs any budget or patience
        could keep (:class:`TestTrace` records test metrics at those epochs only).

    Yields
    ------
    epoch : int

    Returns
    -------
    state : dict
        The kept weights.
    history : dict of str to list
        Per epoch: ``epoch``, training and validation loss and accuracy.
    kept_epoch : int
        1-based.
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
    rule = EarlyStopping(cfg.monitored == "val_acc", cfg.patience, cfg.min_epochs, cfg.after_exit)
    best_state = None
    n = len(Xt)
    bar = _progress(cfg.epochs, desc or f"{cfg.method}/{cfg.task}", progress)
    for epoch in range(1, cfg.epochs + 1):
        with denormals_flushed():  # on the thread that runs this epoch (a batch's members move between threads)
            model.train()
            order = torch.randperm(n, generator=gen).to(dev)
            tot = torch.zeros((), device=dev)  # the epoch's sums stay on the device: no step waits on it
            correct = torch.zeros((), device=dev)
            finite = torch.ones((), dtype=torch.bool, device=dev)
            for i in range(0, n, cfg.batch_size):
                b = order[i:i + cfg.batch_size]
                if len(b) < 2:  # BatchNorm cannot train on a single sample
                    continue
                logits = model(Xt[b])
                loss = ce(logits, yt[b])
                opt.zero_grad()
                (loss + l2_penalty(model, cfg.l2)).backward()
                opt.step()
                with torch.no_grad():
                    tot += loss.detach() * len(b)
                    correct += (logits.argmax(1) == yt[b]).sum()
                    finite &= torch.isfinite(loss.detach())
            model.eval()
            with torch.no_grad():
                lv = model(Xv)
                record = torch.stack([tot / n, correct / n, ce(lv, yv) + l2_penalty(model, cfg.l2),
                                      (lv.argmax(1) == yv).float().mean(), finite.float()])
            t_loss, t_acc, vloss, vacc, ok = record.tolist()  # the one read of the epoch
            if not ok:
                bar.close()
                raise TrainingDiverged(
                    f"{desc or cfg.method}: training loss is not finite at epoch {epoch}; the inputs or the "
                    f"learning rate ({cfg.learning_rate:g}) make training diverge, so nothing was kept")
            for k, v in zip(hist, (epoch, t_loss, t_acc, vloss, vacc)):
                hist[k].append(v)
            improved = rule.update(epoch, vacc if rule.maximise else vloss, vacc)
            if improved:
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            if on_epoch is not None:
                on_epoch(epoch, model, improved)
        bar.update(1)
        bar.set_postfix(loss=f"{t_loss:.3f}", val_loss=f"{vloss:.3f}", val_acc=f"{vacc:.3f}", best=rule.best_epoch,
                        refresh=False)  # drawn with the next update that the bar's interval lets through
        if rule.should_stop(epoch):
            break
        yield epoch
    bar.close()
    if keep == "last" or best_state is None:  # None: the monitored value was never finite
        return {k: v.detach().clone() for k, v in model.state_dict().items()}, hist, len(hist["epoch"])
    model.load_state_dict(best_state)
    return best_state, hist, rule.best_epoch


class TestTrace:
    """Records test accuracy and macro F1 per epoch (``history["test_acc"]``, ``["test_f1"]``).

    They are reported, never used to select anything: they show what the checkpoint that another epoch
    budget would have kept scores. Such a checkpoint is always an epoch that improved on every earlier
    one, so only those epochs are scored; the others read NaN. That spares a forward pass over the test
    trials at most epochs (6-9% of a paper model's training time) and changes no result.

    Parameters
    ----------
    X_test : array-like of shape (n_trials, n_regions, 25)
        Preprocessed test trials.
    y_test : ndarray of int
        Their class indices.
    task : {"class", "level"}
        Which macro F1.
    device : str or torch.device
        Where the model is.
    """

    def __init__(self, X_test, y_test: np.ndarray, task: str, device):
        self.X = torch.as_tensor(np.asarray(X_test, np.float32), device=device)
        self.y, self.task = np.asarray(y_test), task
        self.values: dict[str, list] = {"test_acc": [], "test_f1": []}

    @torch.no_grad()
    def __call__(self, epoch: int, model: nn.Module, improved: bool = True) -> None:
        if not improved:
            self.values["test_acc"].append(float("nan"))
            self.values["test_f1"].append(float("nan"))
            return
        pred = model(self.X).argmax(1).cpu().numpy()
        self.values["test_acc"].append(float(np.mean(pred == self.y)))
        self.values["test_f1"].append(macro_f1(self.y, pred, self.task))
