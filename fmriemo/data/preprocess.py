"""Per-trial preprocessing of [trials, 246, 25] fMRI arrays.

Every method here is computed from the fMRI of one trial, or of one
participant's trials, and never looks at labels, so none can leak label
information from a test split into training:

* ``minmax`` (the paper's): each trial scaled to [0, 1] with its own global
  minimum and maximum over all regions and seconds.
* ``pct``: percent signal change of each region from its own mean over the
  trial's first 5 seconds (the fixation before the video), the usual way
  raw BOLD intensities are made comparable across regions and sessions.
* ``zscore``: each region z-scored over all trials and seconds of the same
  participant. This uses the participant's unlabelled fMRI only; for a
  held-out participant it uses that participant's own test fMRI, which is
  available at prediction time in the challenge (transductive, label-free).
* ``none``: the inputs as they are (scaled by the user already, e.g. by an earlier step of a
  scikit-learn pipeline).
"""
from __future__ import annotations

import numpy as np

__all__ = [
    "METHODS", "BASELINE", "minmax_trial", "percent_change", "subject_zscore", "apply", "window_mean", "BINS",
    "participant_standardise", "window_features",
]

METHODS = ("minmax", "pct", "zscore", "none")
BASELINE = slice(0, 5)


def minmax_trial(X: np.ndarray) -> np.ndarray:
    """Scale each trial to [0, 1] by its own minimum and maximum (the paper's preprocessing).

    Parameters
    ----------
    X : numpy.ndarray, shape (n_trials, n_regions, n_seconds)
        fMRI trials.

    Returns
    -------
    scaled : numpy.ndarray of float32, the same shape
    """
    X = np.asarray(X, dtype=np.float32)
    lo = X.min(axis=(1, 2), keepdims=True)
    hi = X.max(axis=(1, 2), keepdims=True)
    return (X - lo) / np.maximum(hi - lo, np.finfo(np.float32).tiny)


def percent_change(X: np.ndarray, baseline: slice = BASELINE) -> np.ndarray:
    """Percent change of each region from its mean over the trial's baseline seconds.

    Parameters
    ----------
    X : numpy.ndarray, shape (n_trials, n_regions, n_seconds)
        fMRI trials.
    baseline : slice, default=slice(0, 5)
        The baseline seconds.

    Returns
    -------
    change : numpy.ndarray of float32, the same shape
    """
    X = np.asarray(X, dtype=np.float32)
    b = X[:, :, baseline].mean(axis=2, keepdims=True)
    return 100.0 * (X - b) / np.where(np.abs(b) > 0, b, 1.0)


def subject_zscore(X: np.ndarray, participant) -> np.ndarray:
    """Z-score each region over all trials and seconds of the same participant.

    Label-free: a new participant is scaled by their own trials, which exist at prediction time.

    Parameters
    ----------
    X : numpy.ndarray, shape (n_trials, n_regions, n_seconds)
        fMRI trials.
    participant : array-like of str, shape (n_trials,)
        Each trial's participant.

    Returns
    -------
    scored : numpy.ndarray of float32, the same shape
    """
    X = np.asarray(X, dtype=np.float32)
    participant = np.asarray(participant)
    out = np.empty_like(X)
    for p in np.unique(participant):
        m = participant == p
        mu = X[m].mean(axis=(0, 2), keepdims=True)
        sd = X[m].std(axis=(0, 2), keepdims=True)
        out[m] = (X[m] - mu) / np.maximum(sd, 1e-6)
    return out


def apply(method: str, X: np.ndarray, participant=None) -> np.ndarray:
    """Apply a preprocessing method by name.

    Parameters
    ----------
    method : {"minmax", "pct", "zscore", "none"}
        One of :data:`METHODS`.
    X : numpy.ndarray, shape (n_trials, n_regions, n_seconds)
        fMRI trials.
    participant : array-like of str, default=None
        Each trial's participant; needed by "zscore".

    Returns
    -------
    X : numpy.ndarray of float32, the same shape

    Raises
    ------
    ValueError
        For an unknown method, or "zscore" without ``participant``.
    """
    if method == "minmax":
        return minmax_trial(X)
    if method == "none":
        return np.asarray(X, dtype=np.float32)
    if method == "pct":
        return percent_change(X)
    if method == "zscore":
        if participant is None:
            raise ValueError("preprocess 'zscore' needs the participant of each trial")
        return subject_zscore(X, participant)
    raise ValueError(f"unknown preprocessing {method!r}; expected one of {', '.join(METHODS)}")


def window_mean(X: np.ndarray, start: int = 8, stop: int = 21) -> np.ndarray:
    """Mean of each region over seconds ``start`` to ``stop - 1``.

    Parameters
    ----------
    X : numpy.ndarray, shape (n_trials, n_regions, n_seconds)
        fMRI trials.
    start : int, default=8
    stop : int, default=21

    Returns
    -------
    features : numpy.ndarray, shape (n_trials, n_regions)
    """
    return np.asarray(X)[:, :, start:stop].mean(axis=2)


#: per-trial feature recipes of the linear read-outs (:func:`window_features`)
_FEATURE_RECIPES = ("pct", "subjz", "minmax", "pct+subjz")
#: four 5-second means from second 5 on: a crude temporal filter that keeps the response's shape
BINS = ((5, 10), (10, 15), (15, 20), (20, 25))


def participant_standardise(F: np.ndarray, participant, floor: float = 1e-6) -> np.ndarray:
    """Each column z-scored over the rows of the same participant.

    Label-free: for a new participant it uses that participant's own trials, which exist at prediction
    time.

    Parameters
    ----------
    F : numpy.ndarray, shape (n_trials, n_features)
        Features.
    participant : array-like of str, shape (n_trials,)
        Each row's participant.
    floor : float, default=1e-6
        The smallest standard deviation divided by (a constant column stays finite).

    Returns
    -------
    standardised : numpy.ndarray, the same shape
    """
    participant = np.asarray(participant)
    out = np.empty_like(F)
    for p in np.unique(participant):
        m = participant == p
        out[m] = (F[m] - F[m].mean(0)) / np.maximum(F[m].std(0), floor)
    return out


def window_features(X: np.ndarray, recipe: str = "pct", window=(8, 21), participant=None) -> np.ndarray:
    """Label-free features of each trial: one block of 246 regions per window.

    * ``"pct"``: percent change from the trial's first 5 seconds, averaged over the window;
    * ``"minmax"``: the paper's per-trial min-max, then the window mean;
    * ``"subjz"``: the raw window mean, z-scored per region over the participant's own trials;
    * ``"pct+subjz"``: both side by side.

    Parameters
    ----------
    X : numpy.ndarray, shape (n_trials, n_regions, n_seconds)
        fMRI trials.
    recipe : {"pct", "minmax", "subjz", "pct+subjz"}, default="pct"
    window : tuple of int or sequence of tuples, default=(8, 21)
        ``(start, stop)`` (seconds ``start`` to ``stop - 1``), or several such pairs (e.g. :data:`BINS`),
        whose means are laid side by side.
    participant : array-like of str, default=None
        Each trial's participant; needed by the "subjz" recipes.

    Returns
    -------
    features : numpy.ndarray, shape (n_trials, n_features)
    """
    windows = [window] if np.ndim(window[0]) == 0 else list(window)

    def windowed(Z):
        return np.concatenate([window_mean(Z, a, b) for a, b in windows], axis=1)

    if recipe == "pct":
        return windowed(percent_change(X))
    if recipe == "minmax":
        return windowed(minmax_trial(X))
    if recipe == "subjz":
        if participant is None:
            raise ValueError("features 'subjz' need the participant of each trial")
        return participant_standardise(windowed(np.asarray(X, np.float32)), participant)
    if recipe == "pct+subjz":
        return np.concatenate([window_features(X, "pct", window), window_features(X, "subjz", window, participant)],
                              axis=1)
    raise ValueError(f"unknown feature recipe {recipe!r}; expected one of {', '.join(_FEATURE_RECIPES)}")
