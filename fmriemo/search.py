"""A nested search for a better class decoder of new participants (chapter 9).

Every candidate is a linear read-out of label-free features of one trial, so that the whole
search costs about a minute and can be repeated on several data sets:

``input``
    ``"pct"``: percent signal change of each region from the trial's first 5 seconds;
    ``"subjz"``: each region's value z-scored over the same participant's trials (label-free:
    for a new participant it uses that participant's own fMRI, which exists at prediction time);
    ``"pct+subjz"``: both side by side.
``window``
    the seconds averaged: ``"8-21"`` (the video), ``"15-25"`` (the seconds after it, where the
    haemodynamic response of a clip peaks), ``"8-25"``, or ``"bins"`` (four 5-second means from
    second 5 on, side by side: a crude temporal filter that keeps the shape of the response).
``C``
    the inverse L2 strength of the logistic regression (shrinkage of the region weights).

The selection is nested: in each outer fold of the held-out protocol, every candidate is scored
by an inner group cross-validation over the outer fold's *training* participants only (order
groups kept together), the best is refitted on all of them and predicts the outer fold's test
participants. The outer test participants never inform the choice, so the nested accuracy is an
honest estimate of the whole procedure, search included. The outer accuracy of every candidate
is also reported, for the reader to see the landscape; choosing the best of those afterwards
would be optimistic.
"""
from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from . import preprocess
from .data import Dataset
from .splits import group_folds

INPUTS = ("pct", "subjz", "pct+subjz")
WINDOWS = {"8-21": (8, 21), "15-25": (15, 25), "8-25": (8, 25), "bins": None}
CS = (0.01, 0.05, 0.2)


def candidates(inputs=INPUTS, windows=tuple(WINDOWS), cs=CS) -> list[dict]:
    """Every combination of input, window and C, each a dict with a readable ``name``."""
    for w in windows:
        if w not in WINDOWS:
            raise ValueError(f"window must be one of {', '.join(WINDOWS)}, got {w!r}")
    for i in inputs:
        if i not in INPUTS:
            raise ValueError(f"input must be one of {', '.join(INPUTS)}, got {i!r}")
    return [{"name": f"{i} {w} C={c:g}", "input": i, "window": w, "C": float(c)}
            for i, w, c in itertools.product(inputs, windows, cs)]


def _windowed(X: np.ndarray, window: str) -> np.ndarray:
    if WINDOWS[window] is not None:
        return preprocess.window_mean(X, *WINDOWS[window])
    return np.concatenate([preprocess.window_mean(X, a, a + 5) for a in (5, 10, 15, 20)], axis=1)


def features(ds: Dataset, inp: str, window: str) -> np.ndarray:
    """[trials, features] for every trial of ``ds``, computed without labels."""
    if inp == "pct":
        return _windowed(preprocess.percent_change(ds.X), window)
    if inp == "pct+subjz":
        return np.concatenate([features(ds, "pct", window), features(ds, "subjz", window)], axis=1)
    if inp == "subjz":
        F = _windowed(np.asarray(ds.X, np.float32), window)
        out = np.empty_like(F)
        for p in np.unique(ds.participant):
            m = ds.participant == p
            out[m] = (F[m] - F[m].mean(0)) / np.maximum(F[m].std(0), 1e-6)
        return out
    raise ValueError(f"input must be one of {', '.join(INPUTS)}, got {inp!r}")


def _model(C: float):
    return make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=3000, tol=1e-3))


def _inner_groups(orders: dict, participants) -> np.ndarray:
    """Order groups among ``participants`` only: each distinct class order named after its first
    participant *in this set*, so that nothing outside it (an outer test participant's labels)
    changes the inner folds."""
    first: dict = {}
    for p in sorted(set(participants), key=lambda p: (len(p), p)):
        first.setdefault(orders[p], p)
    return np.array([first[orders[p]] for p in participants])


def _inner_accuracy(F, y, participants, orders, C: float, k: int) -> float:
    g = _inner_groups(orders, participants)
    n = min(k, len(set(g)))
    hits = []
    for tr, te in GroupKFold(n_splits=n).split(F, y, groups=g):
        hits.append(_model(C).fit(F[tr], y[tr]).predict(F[te]) == y[te])
    return float(np.concatenate(hits).mean())


def nested_search(ds: Dataset, protocol: str = "groupkfold", k: int = 3, inner_k: int = 3,
                  grid: list[dict] | None = None, folds: list | None = None,
                  progress: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run the nested search on the labelled training participants of ``ds``.

    Returns ``(candidates_table, nested_predictions)``: per candidate, its mean inner accuracy over
    the outer folds, its outer (held-out) accuracy and in how many outer folds it was chosen; and
    one row per held-out trial (``participant``, ``index``, ``fold``, ``y_true``, ``y_pred``,
    ``chosen`` and its ``inner accuracy``) of the procedure that chooses inside each fold.
    ``folds`` (lists of test participants) replaces the protocol's outer folds."""
    from .calibrate import class_orders
    grid = grid or candidates()
    lab = (ds.split == "train") & ds.labelled
    orders = class_orders(ds)
    y_all = np.where(lab, np.nan_to_num(ds.y_class), 0).astype(int)
    feats = {}
    for c in grid:
        key = (c["input"], c["window"])
        if key not in feats:
            feats[key] = features(ds, *key)
    folds = folds if folds is not None else group_folds(ds, protocol, k)
    inner = np.zeros((len(folds), len(grid)))
    outer_hits = [[] for _ in grid]
    rows = []
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=len(folds) * len(grid), desc="nested search", leave=False)
    for f, test_p in enumerate(folds):
        te = np.flatnonzero(lab & np.isin(ds.participant, test_p))
        tr = np.flatnonzero(lab & ~np.isin(ds.participant, test_p))
        preds = []
        for j, c in enumerate(grid):
            F = feats[(c["input"], c["window"])]
            inner[f, j] = _inner_accuracy(F[tr], y_all[tr], ds.participant[tr], orders, c["C"], inner_k)
            pred = _model(c["C"]).fit(F[tr], y_all[tr]).predict(F[te])
            preds.append(pred)
            outer_hits[j].append(pred == y_all[te])
            if bar is not None:
                bar.update(1)
        best = int(np.argmax(inner[f]))  # ties: the first in the grid's order
        rows.append(pd.DataFrame({"participant": ds.participant[te], "index": te, "fold": f, "y_true": y_all[te],
                                  "y_pred": preds[best], "chosen": grid[best]["name"],
                                  "inner accuracy": inner[f, best]}))
    if bar is not None:
        bar.close()
    chosen = [r["chosen"].iloc[0] for r in rows]
    table = pd.DataFrame({"candidate": [c["name"] for c in grid], "input": [c["input"] for c in grid],
                          "window": [c["window"] for c in grid], "C": [c["C"] for c in grid],
                          "inner accuracy": inner.mean(0),
                          "held-out accuracy": [float(np.concatenate(h).mean()) for h in outer_hits],
                          "chosen in folds": [chosen.count(c["name"]) for c in grid]}).set_index("candidate")
    return table, pd.concat(rows, ignore_index=True)
