"""The baselines every decoder is compared with, as scikit-learn pipelines fitted inside each fold:
constant and random dummies, a logistic regression on each region's mean percent signal change
during the video, and a classifier that sees only the trial's position in the session. Nothing here
imports torch (the calibration card uses the position baseline)."""
from __future__ import annotations

import numpy as np
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from ..data import preprocess
from ..data.atlas import N_REGIONS
from ..data.dataset import Dataset

__all__ = ["baseline_pipeline", "BASELINES", "baseline_inputs"]


def baseline_pipeline(kind: str, seed: int = 0):
    """A baseline as a scikit-learn pipeline on per-trial features, fitted inside each fold.

    Parameters
    ----------
    kind : {"majority", "stratified", "logreg", "position"}
        ``"majority"`` and ``"stratified"``: scikit-learn's dummies; ``"logreg"``: L2 logistic regression
        on each region's window means (:func:`fmriemo.data.preprocess.window_features`); ``"position"``:
        logistic regression on the trial's number (1..30) alone, one-hot, which it expects as its one
        input column (:func:`baseline_inputs`).
    seed : int, default=0
        Seed of the stratified dummy.

    Returns
    -------
    pipeline : sklearn.pipeline.Pipeline
    """
    if kind == "position":
        return make_pipeline(OneHotEncoder(categories=[np.arange(1, 31)], handle_unknown="ignore"),
                             LogisticRegression(C=1.0, max_iter=3000))
    feats = FunctionTransformer(lambda X: preprocess.window_features(X.reshape(len(X), N_REGIONS, -1)))
    if kind == "majority":
        return make_pipeline(feats, DummyClassifier(strategy="most_frequent"))
    if kind == "stratified":
        return make_pipeline(feats, DummyClassifier(strategy="stratified", random_state=seed))
    if kind == "logreg":
        return make_pipeline(feats, StandardScaler(), LogisticRegression(C=0.05, max_iter=3000))
    raise ValueError(f"unknown baseline {kind!r}; expected one of {', '.join(BASELINES)}")


BASELINES = ("majority", "stratified", "logreg", "position")


def baseline_inputs(ds: Dataset, kind: str) -> np.ndarray:
    """What a baseline sees.

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set.
    kind : str
        A baseline of :data:`BASELINES`.

    Returns
    -------
    X : ndarray
        The trial number, shape (n_trials, 1), for ``"position"``; else the flattened fMRI, shape
        (n_trials, n_regions * n_seconds).
    """
    return ds.trial.reshape(-1, 1) if kind == "position" else ds.X.reshape(len(ds), -1)
