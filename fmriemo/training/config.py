"""What determines a training run besides the data and the split: :class:`TrainConfig`, built from a
profile's budget row and the model's registered defaults by :func:`config_for`, and the device it
runs on.

The authors trained for up to 10,000 epochs and kept the checkpoint with the best validation
accuracy (class task) or lowest validation loss (level task). A ``TrainConfig`` keeps that selection
rule; the profiles add an epoch budget and early stopping armed after ``min_epochs``
(``fmriemo.profiles``). ``TrainConfig(method=..., task=..., seed=..., epochs=10000)`` is the
authors' recipe exactly.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

from ..data import preprocess
from ..data.dataset import check_task
from ..models import registry
from ..profiles import profile_row

__all__ = ["PAPER_LR", "TrainConfig", "config_for", "budget_row", "resolve_device"]

#: the paper's learning rates (Ranger) per task; a registered model may set its own
PAPER_LR = {"class": 1e-3, "level": 1e-4}


@dataclass(frozen=True, kw_only=True)
class TrainConfig:
    """Everything that determines a training run besides the data and the split.

    Parameters
    ----------
    method : str
        A registered model.
    task : {"class", "level"}
        Valence class or 9-level rating.
    seed : int, default=0
        Initialisation and shuffling.
    epochs : int
        The epoch budget (the cap).
    patience : int or None, default=None
        Epochs without improvement that stop a run once the rule is armed; None: no early stopping, the
        paper's recipe at a budget of ``epochs``.
    min_epochs : int, default=0
        Early stopping is armed only after this many epochs (the profiles set it) ...
    after_exit : int or None, default=None
        ... or this many epochs after the run's own plateau exit, if that is sooner.
    lr : float or None, default=None
        Ranger's learning rate; None: the paper's for the task.
    batch_size : int, default=128
    l2 : float, default=0.01
        Coefficient of the L2 penalty.
    preprocess : str, default="minmax"
        Input scaling (:mod:`fmriemo.data.preprocess`).
    monitor : {"val_acc", "val_loss"} or None, default=None
        The checkpoint's value; None: ``"val_acc"`` for the class task, ``"val_loss"`` for the level task
        (the paper's rule).
    device : str, default="auto"
        "auto", "cpu", "cuda" or "cuda:N".
    """

    method: str
    task: str
    seed: int = 0
    epochs: int
    patience: int | None = None
    min_epochs: int = 0  # early stopping is armed only after this many epochs (the profiles set it)
    after_exit: int | None = None  # ... or this many epochs after the run's own plateau exit, if that is sooner
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
        if self.after_exit is not None and self.after_exit < 0:
            raise ValueError(f"after_exit must be >= 0 or None, got {self.after_exit}")
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


def config_for(profile: str, epochs: int | None = None, *, method: str, task: str, seed: int = 0,
               device: str = "auto", preprocess: str | None = None) -> TrainConfig:
    """The recipe of a model for a task under a profile.

    Parameters
    ----------
    profile : {"quick", "full", "paper"}
        Whose budget table.
    epochs : int or None, default=None
        Replaces the budget's maximum and caps its other numbers.
    method : str
        A registered model: its budget row (its registered ``budget``), preprocessing and learning rate.
    task : {"class", "level"}
        Valence class or 9-level rating.
    seed : int, default=0
        Initialisation and shuffling.
    device : str, default="auto"
        "auto", "cpu", "cuda" or "cuda:N".
    preprocess : str or None, default=None
        Replaces the model's own input scaling.

    Returns
    -------
    config : TrainConfig
    """
    spec = registry.spec(method)
    row = budget_row(profile, spec.budget[check_task(task)], epochs)
    return TrainConfig(method=method, task=task, seed=seed, device=device, preprocess=preprocess or spec.preprocess,
                       lr=spec.lr.get(task), **row)


def budget_row(profile: str, name: str, epochs: int | None = None) -> dict:
    """A copy of one row of a profile's budget table.

    Parameters
    ----------
    profile : {"quick", "full", "paper"}
        The profile.
    name : str
        The row (a model's registered ``budget``).
    epochs : int or None, default=None
        Replaces the row's maximum and caps its other numbers (early stopping armed, patience, the
        plateau-exit allowance).

    Returns
    -------
    row : dict
    """
    row = dict(profile_row(profile)["budget"][name])
    if epochs is not None:
        cap = int(epochs)
        row["epochs"], row["min_epochs"] = cap, min(row["min_epochs"], cap)
        for k in ("patience", "after_exit"):
            if row.get(k) is not None:
                row[k] = min(row[k], cap)
    return row


def resolve_device(device: str = "auto") -> torch.device:
    """The torch device for a device name.

    Parameters
    ----------
    device : str, default="auto"
        "auto" (CUDA when available, else CPU), "cpu", "cuda" or "cuda:N". Anything else, or CUDA on a
        machine without it, raises one clear ValueError.

    Returns
    -------
    device : torch.device
    """
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
