"""The calibration card: cheap statistics of a challenge folder's labelled
training trials, computed the same way on any folder, beside the values
measured on the real challenge data.

The card answers "does this data set look like the real one where it
matters for the book?": how much valence a linear model finds with each
feature recipe, how much of a feature is the participant, and how much a
trial's position in the session gives away (participants who saw the classes
in the same order). ``fmriemo calibrate DATA_DIR`` prints it.

Feature recipes (:func:`fmriemo.data.preprocess.window_features`, each a [trials, 246] matrix):

* ``pct a-b``: percent change of each region from its mean over seconds 0-4
  of the trial, averaged over seconds a..b-1;
* ``subjz a-b``: the raw mean over seconds a..b-1, z-scored per region over
  the participant's own trials;
* ``minmax a-b``: the paper's per-trial min-max, then the mean over a..b-1.

Classifiers are scikit-learn's logistic regression on standardised features
(C = 0.05 unless said).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import LeaveOneGroupOut, StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ..data import preprocess
from ..data.dataset import Dataset
from ..data.splits import identical_order_pairs
from .baselines import baseline_pipeline

__all__ = ["LINEAR_ROWS", "between_share", "card"]

#: the card's rows: key -> (description, value on the real challenge data)
_REFERENCE = {
    "loso_pct_8_21": ("LOSO class accuracy, pct 8-21", 0.506),
    "loso_pct_15_25": ("LOSO class accuracy, pct 15-25", 0.585),
    "loso_subjz_8_21": ("LOSO class accuracy, subjz 8-21", 0.490),
    "loso_subjz_15_25": ("LOSO class accuracy, subjz 15-25", 0.544),
    "loso_minmax_8_21": ("LOSO class accuracy, minmax 8-21", 0.346),
    "trialcv_minmax_8_21": ("10-fold stratified trial split (seed 410), minmax 8-21", 0.244),
    "trialcv_pct_15_25": ("10-fold stratified trial split (seed 410), pct 15-25", 0.560),
    "within_pct_15_25": ("within-participant 5-fold accuracy, pct 15-25 (mean over participants)", 0.440),
    "loso_position": ("LOSO accuracy of a classifier that sees only the trial's position (C = 1)", 0.467),
    "identical_order_pairs": ("pairs of training participants with identical class order", 7),
    "participant_id_minmax": ("participant identified from minmax 8-21 (5-fold, C = 1)", 1.00),
    "between_share_minmax": ("median share of a minmax 8-21 feature's variance that is between participants",
                             0.90),
}
#: rows a linear model computes from the fMRI (the ones a surrogate is tuned to)
LINEAR_ROWS = ("loso_pct_8_21", "loso_pct_15_25", "loso_subjz_8_21", "loso_subjz_15_25", "loso_minmax_8_21",
               "trialcv_pct_15_25", "within_pct_15_25")


def _logreg(C: float = 0.05):
    return make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=5000))


def _accuracy(model, F, y, cv, groups=None) -> float:
    pred = cross_val_predict(model, F, y, cv=cv, groups=groups)
    return float(np.mean(pred == y))


def between_share(F: np.ndarray, groups) -> np.ndarray:
    """The share of each feature's variance that lies between groups (eta squared).

    Parameters
    ----------
    F : ndarray
        Rows x features, or rows x anything (flattened to features).
    groups : array-like
        Each row's group.

    Returns
    -------
    share : ndarray of shape (n_features,)
        The groups' sum of squares over the total.
    """
    F = np.asarray(F, np.float64).reshape(len(F), -1)
    groups = np.asarray(groups)
    mean = F.mean(0)
    total = ((F - mean) ** 2).sum(0)
    between = sum((groups == g).sum() * (F[groups == g].mean(0) - mean) ** 2 for g in np.unique(groups))
    return between / np.maximum(total, 1e-12)


def card(ds: Dataset) -> pd.DataFrame:
    """The calibration card of a data set: its statistics beside the real data's.

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set (its labelled training trials are measured).

    Returns
    -------
    card : pandas.DataFrame
        One row per statistic (index ``key``): the value here, the real data's value and their difference.
    """
    d = ds.subset(ds.labelled_train)
    X, y, g = d.X, d.y_class.astype(int), np.asarray(d.participant)
    logo = LeaveOneGroupOut()
    v: dict[str, float] = {}
    F = {(r, a, b): preprocess.window_features(X, r, (a, b), g) for r, a, b in
         (("pct", 8, 21), ("pct", 15, 25), ("subjz", 8, 21), ("subjz", 15, 25), ("minmax", 8, 21))}
    for r, a, b in F:
        v[f"loso_{r}_{a}_{b}"] = _accuracy(_logreg(), F[(r, a, b)], y, logo, g)
    trialcv = StratifiedKFold(10, shuffle=True, random_state=410)
    v["trialcv_minmax_8_21"] = _accuracy(_logreg(), F[("minmax", 8, 21)], y, trialcv)
    v["trialcv_pct_15_25"] = _accuracy(_logreg(), F[("pct", 15, 25)], y, trialcv)
    within = []
    for p in np.unique(g):
        m = g == p
        within.append(_accuracy(_logreg(), F[("pct", 15, 25)][m], y[m],
                                StratifiedKFold(5, shuffle=True, random_state=0)))
    v["within_pct_15_25"] = float(np.mean(within))
    # the same position-only classifier as chapter 7's baseline
    v["loso_position"] = _accuracy(baseline_pipeline("position"), d.trial.reshape(-1, 1), y, logo, g)
    v["identical_order_pairs"] = len(identical_order_pairs(ds))
    v["participant_id_minmax"] = _accuracy(_logreg(1.0), F[("minmax", 8, 21)], g,
                                           StratifiedKFold(5, shuffle=True, random_state=0))
    v["between_share_minmax"] = float(np.median(between_share(F[("minmax", 8, 21)], g)))
    rows = [{"key": k, "statistic": desc, "here": v[k], "real": real, "difference": v[k] - real}
            for k, (desc, real) in _REFERENCE.items()]
    return pd.DataFrame(rows).set_index("key")
