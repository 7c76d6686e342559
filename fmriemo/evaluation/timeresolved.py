"""Time-resolved decoding of the valence class (chapter 7): at which second of the 25 does the class
become decodable in participants the read-out never saw, and does a code learned at one second carry
over to another?

Every second is decoded on its own by a linear read-out of the 246 regions' values at that second
(standardised, L2 logistic regression), fitted inside the held-out protocol's outer folds (whole
order groups held out together, :func:`fmriemo.data.splits.group_folds`):

* :func:`accuracy_by_second`: MNE's :class:`~mne.decoding.SlidingEstimator`, cross-validated by
  scikit-learn with the folds as groups; every held-out trial is predicted at every second, and the
  score is each held-out participant's accuracy per second (balanced over the three classes, so that
  chance is exactly one in three for any read-out that ignores the fMRI, whatever a participant's
  class counts; with as many trials of each class per participant, it equals plain accuracy);
* :func:`generalisation`: MNE's :class:`~mne.decoding.GeneralizingEstimator` through
  :func:`mne.decoding.cross_val_multiscore` (trained at second t, tested at every second t'), the
  mean over the outer folds;
* :func:`clusters_over_time`: MNE's cluster-based permutation test
  (:func:`mne.stats.permutation_cluster_1samp_test`) of the participants' accuracies against chance,
  the sign of each held-out participant's difference flipped at random, one-sided.

Preprocessing (:func:`fmriemo.data.preprocess.apply`) is label-free and per trial or per
participant, so it is computed once; everything that learns from labels (the scaler and the read-out)
is fitted inside each fold on its training participants only.

:func:`curve_window` is what a decoder may take from the curve honestly: the seconds where an
*inner* curve, computed over the training participants of one outer fold, is highest; chapter 9's
nested search calls it inside every outer fold (:mod:`fmriemo.evaluation.search`).
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from mne.decoding import GeneralizingEstimator, SlidingEstimator, cross_val_multiscore
from mne.stats import permutation_cluster_1samp_test
from scipy import stats
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import LeaveOneGroupOut, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ..data import preprocess
from ..data.dataset import Dataset, participant_key
from ..data.splits import fold_participants
from .statistics import bootstrap

__all__ = [
    "PREPROCESSINGS", "C", "CHANCE", "BOOK_WINDOWS", "readout", "fold_labels", "fold_inputs",
    "predictions_by_second", "participant_accuracy", "accuracy_by_second", "generalisation", "summary",
    "clusters_over_time", "decodable_from", "curve_window", "carry_over", "cluster_seconds",
]

#: the preprocessings the book's decoders use, by :func:`fmriemo.data.preprocess.apply` name
PREPROCESSINGS = {"minmax": "min-max per trial (the paper's)", "pct": "percent change from fixation",
                  "zscore": "z-scores over the participant's trials"}
#: the read-out's inverse L2 strength: chapter 7's linear baseline's
C = 0.05
CHANCE = 1 / 3
#: the seconds the book's decoders read, drawn on the time axis: (who, first second, stop)
BOOK_WINDOWS = (("the paper's models (chapters 2-7)", 0, 25),
                ("linear baseline; search (8-21 s)", 8, 21),
                ("search: after the video (15-25 s)", 15, 25),
                ("search: video and after (8-25 s)", 8, 25),
                ("search: four 5-second bins (5-25 s)", 5, 25))


def readout(c: float = C):
    """The linear read-out fitted at each second: standardised regions, L2 logistic regression.

    Parameters
    ----------
    c : float, default=C
        Inverse L2 strength of each second's logistic regression.

    Returns
    -------
    pipeline : sklearn.pipeline.Pipeline
    """
    return make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=3000, tol=1e-4))


def fold_labels(participants, folds) -> np.ndarray:
    """The outer fold of each row's participant: the groups a cross-validation holds out together.

    Parameters
    ----------
    participants : array-like of str
        Each row's participant.
    folds : list of lists of str
        Test participants, fold by fold.

    Returns
    -------
    labels : ndarray of int
        The fold of each row, ``-1`` for a participant in no fold.
    """
    participants = np.asarray(participants)
    out = np.full(len(participants), -1)
    for f, test_p in enumerate(folds):
        out[np.isin(participants, list(test_p))] = f
    return out


def fold_inputs(ds: Dataset, preprocessing: str, cv):
    """What every time-resolved analysis reads: the labelled training trials tested by a fold of ``cv``.

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set.
    preprocessing : str
        Per-trial or per-participant input scaling, label-free (:mod:`fmriemo.data.preprocess`).
    cv : cross-validator or list of lists of str
        Folds of whole participants: a splitter such as :class:`fmriemo.data.splits.OrderGroupKFold`, or
        lists of test participants (:func:`fmriemo.data.splits.fold_participants`).

    Returns
    -------
    idx : ndarray of int
        Row indices of the trials in ``ds``.
    X : ndarray of shape (n_trials, n_regions, n_seconds)
        Their preprocessed fMRI.
    y : ndarray of int
        Class labels.
    groups : ndarray of int
        The fold of each trial (the groups held out together).
    """
    if preprocessing not in PREPROCESSINGS:
        raise ValueError(f"preprocessing must be one of {', '.join(PREPROCESSINGS)}, got {preprocessing!r}")
    idx = np.flatnonzero(ds.labelled_train)
    groups = fold_labels(ds.participant[idx], fold_participants(ds, cv))
    keep = groups >= 0
    if len(np.unique(groups[keep])) < 2:
        raise ValueError("time-resolved decoding needs at least two folds of participants")
    idx, groups = idx[keep], groups[keep]
    X = preprocess.apply(preprocessing, ds.X[idx], ds.participant[idx])  # label-free: no fold can leak
    return idx, X, ds.labels("class", idx), groups


def predictions_by_second(X: np.ndarray, y: np.ndarray, groups, c: float = C, n_jobs: int = 1) -> np.ndarray:
    """Each trial's class predicted at every second by read-outs fitted without its group.

    scikit-learn's ``cross_val_predict`` over MNE's ``SlidingEstimator``, one group held out at a time.

    Parameters
    ----------
    X : ndarray of shape (n_trials, n_regions, n_seconds)
        Preprocessed fMRI.
    y : ndarray of int
        Class labels.
    groups : array-like of int
        The group (outer fold) of each trial.
    c : float, default=C
        Inverse L2 strength of each second's logistic regression.
    n_jobs : int, default=1
        Parallel fits (scikit-learn's ``n_jobs``).

    Returns
    -------
    pred : ndarray of shape (n_trials, n_seconds)
    """
    est = SlidingEstimator(readout(c), n_jobs=n_jobs, verbose=False)
    return cross_val_predict(est, X, y, groups=groups, cv=LeaveOneGroupOut())


def participant_accuracy(y: np.ndarray, pred: np.ndarray, participants) -> pd.DataFrame:
    """Balanced accuracy of each participant at each second.

    scikit-learn's ``balanced_accuracy_score`` (the mean, over the classes the participant's trials
    have, of the share of that class's trials predicted as it) computed for every second at once; a
    test checks it equals scikit-learn's to the last bit (one call per participant and second took
    13 s of chapter 9's 130-s search).

    Parameters
    ----------
    y : ndarray of int
        Class labels.
    pred : ndarray of shape (n_trials, n_seconds)
        Predictions at every second.
    participants : array-like of str
        Each trial's participant.

    Returns
    -------
    acc : pandas.DataFrame
        Rows: participants; columns: seconds.
    """
    participants, y, pred = np.asarray(participants), np.asarray(y), np.asarray(pred)
    names = sorted(set(participants), key=participant_key)
    rows = {}
    for p in names:
        mine = participants == p
        yp, pp = y[mine], pred[mine]
        rows[p] = np.stack([(pp[yp == k] == k).sum(0) / np.sum(yp == k) for k in np.unique(yp)]).mean(0)
    out = pd.DataFrame.from_dict(rows, orient="index", columns=range(pred.shape[1]))
    out.index.name, out.columns.name = "participant", "second"
    return out


def accuracy_by_second(ds: Dataset, preprocessing: str, cv, c: float = C, n_jobs: int = 1) -> pd.DataFrame:
    """Each held-out participant's accuracy at every second, from read-outs fitted on the other folds.

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set.
    preprocessing : str
        Per-trial or per-participant input scaling, label-free (:mod:`fmriemo.data.preprocess`).
    cv : cross-validator or list of lists of str
        Folds of whole participants: a splitter such as :class:`fmriemo.data.splits.OrderGroupKFold`, or
        lists of test participants (:func:`fmriemo.data.splits.fold_participants`).
    c : float, default=C
        Inverse L2 strength of each second's logistic regression.
    n_jobs : int, default=1
        Parallel fits (scikit-learn's ``n_jobs``).

    Returns
    -------
    acc : pandas.DataFrame
        Rows: participants; columns: seconds 0-24.
    """
    idx, X, y, groups = fold_inputs(ds, preprocessing, cv)
    return participant_accuracy(y, predictions_by_second(X, y, groups, c, n_jobs), ds.participant[idx])


def generalisation(ds: Dataset, preprocessing: str, cv, c: float = C, n_jobs: int = 1) -> pd.DataFrame:
    """The temporal generalisation matrix on held-out participants.

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set.
    preprocessing : str
        Per-trial or per-participant input scaling, label-free (:mod:`fmriemo.data.preprocess`).
    cv : cross-validator or list of lists of str
        Folds of whole participants: a splitter such as :class:`fmriemo.data.splits.OrderGroupKFold`, or
        lists of test participants (:func:`fmriemo.data.splits.fold_participants`).
    c : float, default=C
        Inverse L2 strength of each second's logistic regression.
    n_jobs : int, default=1
        Parallel fits (scikit-learn's ``n_jobs``).

    Returns
    -------
    matrix : pandas.DataFrame
        Balanced accuracy of the read-out trained at second t (rows) and tested at second t' (columns),
        the mean over the outer folds.
    """
    _, X, y, groups = fold_inputs(ds, preprocessing, cv)
    est = GeneralizingEstimator(readout(c), scoring="balanced_accuracy", n_jobs=n_jobs, verbose=False)
    scores = cross_val_multiscore(est, X, y, groups=groups, cv=LeaveOneGroupOut(), verbose=False)
    out = pd.DataFrame(scores.mean(0), index=range(X.shape[2]), columns=range(X.shape[2]))
    out.index.name, out.columns.name = "trained at", "tested at"
    return out


def summary(acc: pd.DataFrame, n_resamples: int = 2000, seed: int = 0, level: float = 0.95) -> pd.DataFrame:
    """Per second: the mean accuracy over participants with an interval from resampling participants.

    Parameters
    ----------
    acc : pandas.DataFrame
        Accuracy of each participant (rows) at each second (columns) (:func:`accuracy_by_second`).
    n_resamples : int, default=2000
        Bootstrap resamples (:func:`fmriemo.evaluation.statistics.bootstrap`).
    seed : int, default=0
        Seed of the resamples.
    level : float, default=0.95
        Coverage of the percentile interval.

    Returns
    -------
    table : pandas.DataFrame
        Indexed by second: ``accuracy``, ``lo``, ``hi`` and the number of ``participants``.
    """
    people = np.arange(len(acc))
    bands = [bootstrap(np.mean, acc[t].to_numpy(), groups=people, n_resamples=n_resamples, seed=seed, level=level)
             for t in acc.columns]
    return pd.DataFrame({"accuracy": acc.mean(axis=0).to_numpy(), "lo": [b[0] for b in bands],
                         "hi": [b[1] for b in bands], "participants": len(acc)},
                        index=pd.Index(acc.columns, name="second"))


def clusters_over_time(acc: pd.DataFrame, n_permutations: int = 1000, seed: int = 0, alpha: float = 0.05,
                       chance: float = CHANCE) -> pd.DataFrame:
    """Clusters of consecutive seconds where the participants' accuracy exceeds chance.

    MNE's one-sample cluster permutation test: t over participants, cluster-forming threshold the
    one-sided t quantile at ``alpha``, the participants' signs flipped ``n_permutations`` times (the
    exact test when that exceeds the number of sign patterns). One-sided: a cluster below chance is
    not a cluster here.

    Parameters
    ----------
    acc : pandas.DataFrame
        Accuracy of each participant (rows) at each second (columns) (:func:`accuracy_by_second`).
    n_permutations : int, default=1000
        Sign flips.
    seed : int, default=0
        Seed of the flips.
    alpha : float, default=0.05
        Cluster-forming threshold's level.
    chance : float, default=CHANCE
        The level accuracy is tested against.

    Returns
    -------
    clusters : pandas.DataFrame
        One row per cluster, sorted by time: first and last second, mass (sum of t) and p-value.
    """
    d = acc.to_numpy() - chance
    n = len(d)
    if n < 3:
        raise ValueError(f"the cluster test needs at least 3 participants, got {n}")
    threshold = float(stats.t.ppf(1 - alpha, n - 1))
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        # np.errstate: a second where every participant scores the same; MNE warns when no second clears the
        # threshold, which is an answer here (an empty table), not a fault
        warnings.filterwarnings("ignore", message="No clusters found", category=RuntimeWarning)
        t_obs, clusters, p, _ = permutation_cluster_1samp_test(
            d, threshold=threshold, n_permutations=int(n_permutations), tail=1, rng=seed, out_type="mask",
            verbose=False)
    seconds = np.asarray(acc.columns)
    rows = []
    for where, pv in zip(clusters, p):
        mask = np.zeros(d.shape[1], bool)
        mask[where] = True  # a tuple of one slice for data with one dimension besides participants
        hit = np.flatnonzero(mask)
        rows.append({"first second": int(seconds[hit[0]]), "last second": int(seconds[hit[-1]]),
                     "seconds": len(hit), "mass": float(t_obs[hit].sum()), "p": float(pv)})
    out = pd.DataFrame(rows, columns=["first second", "last second", "seconds", "mass", "p"])
    return out.sort_values("first second", ignore_index=True)


def decodable_from(clusters: pd.DataFrame, alpha: float = 0.05):
    """The first second of the earliest significant cluster.

    Parameters
    ----------
    clusters : pandas.DataFrame
        :func:`clusters_over_time`'s table.
    alpha : float, default=0.05
        Significance level of a cluster.

    Returns
    -------
    second : int or None
        None when no cluster has p < ``alpha``.
    """
    sig = clusters[clusters["p"] < alpha]
    return None if sig.empty else int(sig["first second"].min())


def curve_window(X: np.ndarray, y: np.ndarray, participants, inner, c: float = C, min_seconds: int = 3,
                 ) -> tuple[int, int]:
    """The window a decoder may take from a time-resolved curve without seeing its test participants.

    The curve is computed over the rows given (one outer fold's training participants, in their own
    folds ``inner``); the window is the run of consecutive seconds around the curve's peak whose
    accuracy is at least halfway from chance to the peak, widened symmetrically to ``min_seconds``.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_regions, n_seconds)
        fMRI preprocessed label-free.
    y : ndarray of int
        Class labels.
    participants : array-like of str
        Each row's participant.
    inner : list of lists of str
        The rows' participants in folds.
    c : float, default=C
        Inverse L2 strength of each second's logistic regression.
    min_seconds : int, default=3
        The shortest window.

    Returns
    -------
    start, stop : int
        The window's first second and the second after its last.
    """
    participants = np.asarray(participants)
    groups = fold_labels(participants, inner)
    keep = groups >= 0
    pred = predictions_by_second(X[keep], y[keep], groups[keep], c)
    curve = participant_accuracy(y[keep], pred, participants[keep]).to_numpy().mean(0)
    peak = int(np.argmax(curve))
    level = CHANCE + (curve[peak] - CHANCE) / 2
    start, stop = peak, peak + 1
    while start > 0 and curve[start - 1] >= level:
        start -= 1
    while stop < len(curve) and curve[stop] >= level:
        stop += 1
    while stop - start < min(min_seconds, len(curve)):
        if start > 0:
            start -= 1
        if stop - start < min_seconds and stop < len(curve):
            stop += 1
    return int(start), int(stop)



def carry_over(matrix: pd.DataFrame, seconds) -> dict:
    """Whether a code learned at one second carries over to others.

    Parameters
    ----------
    matrix : pandas.DataFrame
        The generalisation matrix (:func:`generalisation`).
    seconds : iterable of int
        The seconds considered (e.g. a significant cluster's).

    Returns
    -------
    carry : dict
        ``diagonal``: mean accuracy trained and tested at the same second; ``off_diagonal``: trained at
        one of ``seconds`` and tested at another (NaN without seconds, or with one second for
        ``off_diagonal``).
    """
    s = [int(t) for t in seconds]
    sub = matrix.loc[s, s].to_numpy()
    off = ~np.eye(len(s), dtype=bool)
    return {"diagonal": float(np.diag(sub).mean()) if s else float("nan"),
            "off_diagonal": float(sub[off].mean()) if len(s) > 1 else float("nan")}


def cluster_seconds(clusters: pd.DataFrame, alpha: float = 0.05) -> list[int]:
    """Every second inside a significant cluster.

    Parameters
    ----------
    clusters : pandas.DataFrame
        :func:`clusters_over_time`'s table.
    alpha : float, default=0.05
        Significance level of a cluster.

    Returns
    -------
    seconds : list of int
        Sorted.
    """
    sig = clusters[clusters["p"] < alpha]
    return sorted({t for _, r in sig.iterrows() for t in range(int(r["first second"]), int(r["last second"]) + 1)})
