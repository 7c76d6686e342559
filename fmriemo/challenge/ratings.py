"""Predicting the rating (LEVEL) from the class: the rating is mostly implied by
the valence class, so a level predictor can be built on a class predictor.

``smape_optimal_levels`` picks, for each class, the single rating that
minimises the challenge's SMAPE over the training trials of that class;
``class_aware_levels`` maps predicted classes to those ratings. Compared with
a 9-way classifier of the rating (the paper's level task), this spends no
model capacity on distinctions the score barely rewards.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..data.dataset import CLASS_VALUES, LEVEL_VALUES, decode
from ..data.splits import fold_participants
from ..evaluation.statistics import bootstrap
from ..metrics import challenge_score, smape

__all__ = [
    "smape_optimal_levels", "class_aware_levels", "RATING_RULES", "training_level_table",
    "ensemble_submission", "fold_rating_tables", "heldout_rating_trials", "score_predictors",
    "with_class_predictions",
]


def smape_optimal_levels(y_class, y_level) -> dict[int, int]:
    """For each class, the rating minimising SMAPE against that class's training ratings.

    Parameters
    ----------
    y_class : array-like of int
        Training classes (-1, 0, 1).
    y_level : array-like of int
        Training ratings (-4..4).

    Returns
    -------
    table : dict of int to int
        Class -> rating.
    """
    y_class, y_level = np.asarray(y_class, int), np.asarray(y_level, int)
    out = {}
    for c in CLASS_VALUES:
        t = y_level[y_class == c]
        if len(t) == 0:
            out[c] = int(c)
            continue
        costs = {lv: smape(t, np.full(len(t), lv)) for lv in LEVEL_VALUES}
        out[c] = int(min(costs, key=lambda lv: (costs[lv], abs(lv))))
    return out


def class_aware_levels(pred_class, table: dict[int, int]) -> np.ndarray:
    """Ratings for predicted classes, by a per-class table.

    Parameters
    ----------
    pred_class : array-like of int
        Predicted classes.
    table : dict of int to int
        :func:`smape_optimal_levels`.

    Returns
    -------
    levels : ndarray of int
    """
    return np.array([table[int(c)] for c in np.asarray(pred_class)], dtype=int)


RATING_RULES = ("class-aware", "level-model")


def training_level_table(ds) -> dict[int, int]:
    """The class-aware rating table fitted on the labelled trials of the training participants only
    (never on test labels, released or not).

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set.

    Returns
    -------
    table : dict of int to int
        Class -> rating.
    """
    lab = ds.labelled_train
    return smape_optimal_levels(ds.y_class[lab], ds.y_level[lab])


def ensemble_submission(ds, class_runs, level_runs=None, ratings: str = "class-aware"):
    """A submission table from one or more class runs on the same trials.

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set.
    class_runs : list of fmriemo.training.runs.RunResult
        Class runs on the same trials; their probabilities are averaged (an ensemble over seeds or fold
        models).
    level_runs : list of fmriemo.training.runs.RunResult or None, default=None
        9-way level runs on the same trials, for ``ratings="level-model"``.
    ratings : {"class-aware", "level-model"}, default="class-aware"
        Ratings from the class-aware rule on the predicted classes, or the argmax of the level runs'
        averaged probabilities.

    Returns
    -------
    table : pandas.DataFrame
        Participant, Trial, CLASS, LEVEL.
    """
    if ratings not in RATING_RULES:
        raise ValueError(f"ratings must be one of {', '.join(RATING_RULES)}, got {ratings!r}")
    idx = class_runs[0].test_index
    for r in list(class_runs) + list(level_runs or []):
        if not np.array_equal(r.test_index, idx):
            raise ValueError("every run of an ensemble must predict the same trials in the same order")
    cls = decode("class", np.mean([r.proba for r in class_runs], axis=0).argmax(1))
    if ratings == "class-aware":
        lev = class_aware_levels(cls, training_level_table(ds))
    else:
        if not level_runs:
            raise ValueError("ratings='level-model' needs level runs")
        lev = decode("level", np.mean([r.proba for r in level_runs], axis=0).argmax(1))
    return pd.DataFrame({"Participant": ds.participant[idx], "Trial": ds.trial[idx], "CLASS": cls, "LEVEL": lev})


def fold_rating_tables(ds, cv) -> list[dict[int, int]]:
    """For each outer fold, the class-aware rating table fitted without its test participants.

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set.
    cv : cross-validator or list of lists of str
        Folds of participants (:func:`fmriemo.data.splits.fold_participants`).

    Returns
    -------
    tables : list of dict of int to int
        Each fitted on the labelled training trials of the *other* training participants: the held-out
        participants' ratings never inform the rule that rates them.
    """
    lab = ds.labelled_train
    tables = []
    for test_p in fold_participants(ds, cv):
        keep = lab & ~np.isin(ds.participant, list(test_p))
        tables.append(smape_optimal_levels(ds.y_class[keep], ds.y_level[keep]))
    return tables


def heldout_rating_trials(ds, cv, level_runs, class_runs: dict, baseline=None):
    """One row per held-out trial of the outer folds, with every rating rule's rating (chapter 9).

    Each fold's rating table is fitted on its training participants only (:func:`fold_rating_tables`).

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set.
    cv : cross-validator or list of lists of str
        Folds of participants.
    level_runs : list
        :func:`fmriemo.evaluation.heldout.fold_runs` of a 9-way level model.
    class_runs : dict of str to list
        Class model name -> its fold runs.
    baseline : pandas.DataFrame or None, default=None
        :func:`fmriemo.evaluation.heldout.run_baselines` rows named ``"logreg"``.

    Returns
    -------
    trials : pandas.DataFrame
        The true class and rating, the level model's rating, each class model's (and the baseline's)
        predicted class and the class-aware rating of that class, and ``oracle_aware_level`` (the true
        class rated the same way).
    """
    rows = []
    for f, rating_table in enumerate(fold_rating_tables(ds, cv)):
        idx = level_runs[f][2].test_index
        d = pd.DataFrame({"participant": ds.participant[idx], "index": idx, "fold": f,
                          "class": ds.y_class[idx].astype(int), "level": ds.y_level[idx].astype(int)})
        d["level_model_level"] = level_runs[f][2].y_pred
        predicted = {m: runs[f][2] for m, runs in class_runs.items()}
        for m, r in predicted.items():
            if not np.array_equal(r.test_index, idx):
                raise ValueError(f"{m}'s fold {f} predicts other trials than the level model's")
        columns = {m: r.y_pred for m, r in predicted.items()}
        if baseline is not None:
            columns["logreg"] = baseline[baseline.fold == f].set_index("index").loc[idx, "y_pred"].to_numpy()
        for m, pred in columns.items():
            d[f"{m}_class"] = pred
            d[f"{m}_aware_level"] = class_aware_levels(pred, rating_table)
        d["oracle_aware_level"] = class_aware_levels(d["class"], rating_table)
        rows.append(d)
    return pd.concat(rows, ignore_index=True)


def score_predictors(trials, predictors: dict, n_resamples: int = 1000):
    """The challenge score of each predictor with its 95% bootstrap interval over participants.

    Parameters
    ----------
    trials : pandas.DataFrame
        :func:`heldout_rating_trials`.
    predictors : dict of str to (str or None, str or None)
        Name -> (class column, rating column); ``(None, None)``: "neutral, 0" everywhere. Predictors whose
        columns are missing are left out.
    n_resamples : int, default=1000
        Bootstrap resamples.

    Returns
    -------
    scores : pandas.DataFrame
        Indexed by predictor: class error, rating SMAPE, score, score_lo, score_hi.
    """
    def scored(cls_col, lvl_col, frame):
        c = frame[cls_col] if cls_col else np.zeros(len(frame), int)
        lv = frame[lvl_col] if lvl_col else np.zeros(len(frame), int)
        return challenge_score(frame["class"], c, frame["level"], lv)

    res = []
    for name, (c, lv) in predictors.items():
        if c is not None and (c not in trials or lv not in trials):
            continue
        s = scored(c, lv, trials)
        lo, hi = bootstrap(lambda d: scored(c, lv, d)["score"], trials, groups=trials["participant"].to_numpy(),
                           n_resamples=n_resamples)
        res.append({"predictor": name, "class error": s["class_error"], "rating SMAPE": s["level_error"],
                    "score": s["score"], "score_lo": lo, "score_hi": hi})
    return pd.DataFrame(res).set_index("predictor")


def with_class_predictions(trials: pd.DataFrame, folds_tables: list, pred: pd.DataFrame, name: str) -> pd.DataFrame:
    """Held-out trials with another decoder's class predictions and their class-aware ratings.

    Parameters
    ----------
    trials : pandas.DataFrame
        :func:`heldout_rating_trials`.
    folds_tables : list of dict
        :func:`fold_rating_tables`.
    pred : pandas.DataFrame
        Rows with ``index`` and ``y_pred`` for the same trials.
    name : str
        Prefix of the new columns.

    Returns
    -------
    trials : pandas.DataFrame
        With ``{name}_class`` and ``{name}_aware_level``.
    """
    aligned = pred.set_index("index").loc[trials["index"], "y_pred"].to_numpy()  # the same trials, same order
    out = trials.copy()
    out[f"{name}_class"] = aligned
    out[f"{name}_aware_level"] = [folds_tables[f][int(c)] for f, c in zip(out["fold"], aligned)]
    return out

