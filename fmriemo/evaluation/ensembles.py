"""Which ensemble to submit: one model, the average of several seeds' probabilities, or the average of
the held-out protocol's fold models, each scored on participants none of them trained on."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..data.dataset import Dataset, decode
from ..profiles import Settings
from .heldout import fold_runs, inner_fold_runs, prediction_rows

__all__ = ["ENSEMBLES", "ensemble_comparison", "ensemble_accuracies", "choose_ensemble"]

#: the ensembles a submission can use, simplest first (the order that breaks ties)
ENSEMBLES = ("single", "seeds", "folds")


def ensemble_comparison(ds: Dataset, method: str, task: str = "class", settings: Settings | None = None,
                        n_seeds: int = 3, inner_k: int = 3) -> pd.DataFrame:
    """The three ways to submit a method, scored on held-out participants.

    One model (first seed); the average of ``n_seeds`` models' probabilities (seeds, each with its own
    validation participants); and the average of the fold models of the protocol one level down
    (:func:`fmriemo.evaluation.heldout.inner_fold_runs`: the fold ensemble that ``fmriemo submit
    --ensemble folds`` builds from all training participants, rebuilt without the outer test
    participants).

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set.
    method : str
        A registered model.
    task : {"class", "level"}, default="class"
        Valence class or 9-level rating.
    settings : fmriemo.profiles.Settings or None, default=None
        The outer folds, budget, cache and device; None: the full profile's.
    n_seeds : int, default=3
        Members of the seed ensemble.
    inner_k : int, default=3
        Inner folds of the fold ensemble.

    Returns
    -------
    pred : pandas.DataFrame
        One row per (ensemble, held-out trial): ``model`` naming it, ``ensemble`` one of
        :data:`ENSEMBLES`.
    """
    s = settings or Settings.resolve()
    if n_seeds < 2:
        raise ValueError(f"a seed ensemble needs n_seeds >= 2, got {n_seeds}")
    seeds = tuple(range(s.seeds[0], s.seeds[0] + int(n_seeds)))
    by_fold: dict[int, list] = {}
    for seed, f, r in fold_runs(ds, method, task, s.replace(seeds=seeds)):
        by_fold.setdefault(f, []).append(r)
    inner = inner_fold_runs(ds, method, task, s, inner_k)
    out = []
    for f, rs in sorted(by_fold.items()):
        idx = rs[0].test_index
        inner_proba = []
        for _, r in inner[f]:
            pos = {i: n for n, i in enumerate(r.test_index.tolist())}
            inner_proba.append(r.proba[[pos[i] for i in idx.tolist()]])
        kinds = {"single": ("single model", rs[0].proba),
                 "seeds": (f"seed ensemble ({len(rs)} seeds)", np.mean([r.proba for r in rs], axis=0)),
                 "folds": (f"fold ensemble ({len(inner_proba)} inner folds)", np.mean(inner_proba, axis=0))}
        for kind, (name, proba) in kinds.items():
            out.append(prediction_rows(ds, idx, decode(task, proba.argmax(1)), task, model=name, ensemble=kind,
                                       seed=0, fold=f))
    return pd.concat(out, ignore_index=True)


def ensemble_accuracies(pred: pd.DataFrame) -> pd.Series:
    """Held-out accuracy of each ensemble.

    Parameters
    ----------
    pred : pandas.DataFrame
        :func:`ensemble_comparison`'s rows.

    Returns
    -------
    accuracy : pandas.Series
        Indexed by (``ensemble``, ``model``) in the order they appear.
    """
    return pred.assign(hit=pred.y_true == pred.y_pred).groupby(["ensemble", "model"], sort=False)["hit"].mean()


def choose_ensemble(pred: pd.DataFrame) -> str:
    """The ensemble with the highest held-out accuracy; ties go to the simpler one.

    Parameters
    ----------
    pred : pandas.DataFrame
        :func:`ensemble_comparison`'s rows.

    Returns
    -------
    ensemble : str
        One of :data:`ENSEMBLES`.
    """
    acc = ensemble_accuracies(pred).droplevel("model")
    return max((k for k in ENSEMBLES if k in acc.index), key=lambda k: (round(float(acc[k]), 12), -ENSEMBLES.index(k)))
