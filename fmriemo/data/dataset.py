"""A challenge data set in memory: every trial's fMRI, labels, participant, trial number and split,
and the vocabulary of labels (classes, levels, tasks) that every layer above uses."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..core.errors import DataError
from .atlas import region_names

__all__ = [
    "N_SECONDS", "CLASS_VALUES", "CLASS_NAMES", "LEVEL_VALUES", "SPLITS", "TASKS", "PARTICIPANT", "Dataset",
    "check_task", "class_level_table", "encode", "decode", "n_outputs", "normalise_participant",
    "participant_key",
]

N_SECONDS = 25
CLASS_VALUES = (-1, 0, 1)
CLASS_NAMES = ("negative", "neutral", "positive")
LEVEL_VALUES = tuple(range(-4, 5))
SPLITS = ("train", "test")
TASKS = ("class", "level")
PARTICIPANT = re.compile(r"^p(\d+)$", re.IGNORECASE)


@dataclass
class Dataset:
    """All trials of a challenge folder, training and test, in participant and trial order.

    Made by :func:`fmriemo.data.loader.load_challenge`; the arrays share their first axis (one row per
    trial).

    Parameters
    ----------
    X : numpy.ndarray, shape (n_trials, 246, 25)
        Each trial's regions by seconds, float32.
    y_class : numpy.ndarray, shape (n_trials,)
        CLASS (-1, 0, 1) as floats, NaN where the trial has no label (test trials whose labels were not
        released).
    y_level : numpy.ndarray, shape (n_trials,)
        LEVEL (-4..4) as floats, NaN likewise.
    participant : numpy.ndarray of str, shape (n_trials,)
        ``P01``, ``P02``, ...
    trial : numpy.ndarray of int, shape (n_trials,)
        The trial's number in its participant's session, from 1.
    split : numpy.ndarray of str, shape (n_trials,)
        ``"train"`` or ``"test"``: the folder it came from.
    label_source : numpy.ndarray of str, shape (n_trials,)
        ``"train"`` (labels.npz), ``"released"`` (a labels CSV) or ``""`` (no label).
    source : str, default=""
        The folder read.
    region_names : list of str, default=the atlas's
        The 246 regions' names.
    ignored : list of str, default=[]
        Hidden entries of the folder that were skipped.
    """

    X: np.ndarray
    y_class: np.ndarray
    y_level: np.ndarray
    participant: np.ndarray
    trial: np.ndarray
    split: np.ndarray
    label_source: np.ndarray
    source: str = ""
    region_names: list[str] = field(default_factory=region_names)
    ignored: list[str] = field(default_factory=list)  # hidden entries the loader passed over
    _fingerprint: str | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.X)

    @property
    def labelled(self) -> np.ndarray:
        return ~np.isnan(self.y_class)

    @property
    def labelled_train(self) -> np.ndarray:
        """Mask of the labelled trials of the training participants: what every model may learn from."""
        return (self.split == "train") & self.labelled

    @property
    def participants(self) -> list[str]:
        return sorted(set(self.participant.tolist()), key=participant_key)

    def labels(self, task: str, rows=None) -> np.ndarray:
        """Integer labels of the task (``"class"`` or ``"level"``) of the trials ``rows`` (indices or a
        mask; default: all); every one of them must be labelled."""
        y = {"class": self.y_class, "level": self.y_level}[check_task(task)]
        if rows is not None:
            y = y[np.asarray(rows)]
        if np.isnan(y).any():
            raise DataError("some selected trials have no label; select labelled trials first")
        return y.astype(int)

    def subset(self, mask) -> "Dataset":
        idx = np.flatnonzero(np.asarray(mask)) if np.asarray(mask).dtype == bool else np.asarray(mask)
        return Dataset(
            X=self.X[idx], y_class=self.y_class[idx], y_level=self.y_level[idx],
            participant=self.participant[idx], trial=self.trial[idx], split=self.split[idx],
            label_source=self.label_source[idx], source=self.source,
            region_names=list(self.region_names),
        )

    def table(self) -> pd.DataFrame:
        """One row per trial: participant, trial, split, CLASS, LEVEL, label_source."""
        return pd.DataFrame({
            "participant": self.participant, "trial": self.trial, "split": self.split,
            "CLASS": pd.array(np.where(self.labelled, self.y_class, np.nan), dtype="Int64"),
            "LEVEL": pd.array(np.where(self.labelled, self.y_level, np.nan), dtype="Int64"),
            "label_source": self.label_source,
        })

    @property
    def fingerprint(self) -> str:
        """SHA-256 over the signal and every label: identifies the data for caches."""
        if self._fingerprint is None:
            h = hashlib.sha256()
            h.update(np.ascontiguousarray(self.X, dtype=np.float32).tobytes())
            for arr in (self.y_class, self.y_level, self.trial):
                h.update(np.ascontiguousarray(arr, dtype=np.float64).tobytes())
            for arr in (self.participant, self.split, self.label_source):
                h.update("\n".join(map(str, arr)).encode())
            self._fingerprint = h.hexdigest()
        return self._fingerprint

    def summary(self) -> dict:
        tab = self.table()
        lab = tab[tab["CLASS"].notna()]
        return {
            "source": self.source,
            "participants": {s: sorted(set(tab.loc[tab.split == s, "participant"]), key=participant_key)
                             for s in SPLITS},
            "trials": {s: int((tab.split == s).sum()) for s in SPLITS},
            "labelled_trials": {s: int((lab.split == s).sum()) for s in SPLITS},
            "class_by_level": class_level_table(lab["CLASS"].astype(int), lab["LEVEL"].astype(int)),
        }


def check_task(task: str) -> str:
    """Check a task's name.

    Parameters
    ----------
    task : str

    Returns
    -------
    task : str
        ``task`` itself when it is "class" or "level".

    Raises
    ------
    ValueError
        Naming it otherwise.
    """
    if task not in TASKS:
        raise ValueError(f"task must be 'class' or 'level', got {task!r}")
    return task


def class_level_table(y_class, y_level) -> pd.DataFrame:
    """Counts of trials by CLASS (rows -1, 0, 1) and LEVEL (columns -4..4).

    Parameters
    ----------
    y_class : array-like
        CLASS labels.
    y_level : array-like
        LEVEL labels of the same trials.

    Returns
    -------
    table : pandas.DataFrame
    """
    tab = pd.crosstab(pd.Categorical(np.asarray(y_class, int), categories=CLASS_VALUES),
                      pd.Categorical(np.asarray(y_level, int), categories=LEVEL_VALUES),
                      dropna=False)
    tab.index.name, tab.columns.name = "CLASS", "LEVEL"
    return tab


def encode(task: str, values) -> np.ndarray:
    """Labels to class indices 0..K-1 (CLASS -1..1 to 0..2, LEVEL -4..4 to 0..8).

    Parameters
    ----------
    task : {"class", "level"}
        The task.
    values : array-like of int
        Labels of the task.

    Returns
    -------
    indices : numpy.ndarray of int
    """
    offset = 1 if check_task(task) == "class" else 4
    return np.asarray(values, dtype=int) + offset


def decode(task: str, indices) -> np.ndarray:
    """Class indices 0..K-1 back to the task's labels (the inverse of :func:`encode`).

    Parameters
    ----------
    task : {"class", "level"}
        The task.
    indices : array-like of int

    Returns
    -------
    labels : numpy.ndarray of int
    """
    offset = 1 if check_task(task) == "class" else 4
    return np.asarray(indices, dtype=int) - offset


def n_outputs(task: str) -> int:
    """How many classes a task has: 3 for "class", 9 for "level".

    Parameters
    ----------
    task : {"class", "level"}
        The task.

    Returns
    -------
    n : int
    """
    return 3 if check_task(task) == "class" else 9


def normalise_participant(pid: str) -> str:
    """A participant id with a capital P (``p01`` to ``P01``), whatever the folder or CSV says.

    Parameters
    ----------
    pid : str

    Returns
    -------
    pid : str
    """
    pid = str(pid).strip()
    return "P" + pid[1:] if pid[:1].lower() == "p" else pid


def participant_key(pid: str):
    """The one order of participants in the package: by number (P2 before P10), other names last.

    Parameters
    ----------
    pid : str

    Returns
    -------
    key : tuple
        A sort key (``sorted(ids, key=participant_key)``).
    """
    m = PARTICIPANT.match(pid)
    return (int(m.group(1)) if m else 10**9, pid)
