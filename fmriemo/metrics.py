"""Metrics of predicted labels: the paper's macro precision / sensitivity / F1, accuracy, confusion
matrices, and the challenge's official score. Plain functions of label vectors, used by the training
loop's test record as much as by evaluation and the challenge."""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

from .data.dataset import CLASS_NAMES, CLASS_VALUES, LEVEL_VALUES, check_task

__all__ = [
    "classification_metrics", "per_class_report", "confusion", "macro_f1", "smape", "challenge_score_rows",
    "challenge_score", "macro_f1_rows",
]


def _task_labels(task: str) -> list[int]:
    return list(CLASS_VALUES if check_task(task) == "class" else LEVEL_VALUES)


def _present_labels(y_true, y_pred) -> list[int]:
    """Labels that occur in the truth or the predictions: what sklearn's classification_report
    macro-averages over, and so what the paper's macro numbers are over."""
    return sorted(set(np.asarray(y_true).tolist()) | set(np.asarray(y_pred).tolist()))


def classification_metrics(y_true, y_pred, task: str) -> dict:
    """Macro precision, sensitivity and F1 as the paper reports them, with accuracy.

    The macro averages are scikit-learn's ``classification_report`` "macro avg": over the labels that
    occur in the truth or the predictions.

    Parameters
    ----------
    y_true : array-like of int, shape (n_trials,)
        The true labels (CLASS -1..1, or LEVEL -4..4).
    y_pred : array-like of int, shape (n_trials,)
        The predicted labels.
    task : {"class", "level"}
        Which labels these are.

    Returns
    -------
    metrics : dict
        ``precision``, ``sensitivity``, ``f1``, ``accuracy`` (floats) and ``n`` (the number of trials).
    """
    check_task(task)
    p, r, f, _ = precision_recall_fscore_support(y_true, y_pred, labels=_present_labels(y_true, y_pred),
                                                 average="macro", zero_division=0)
    return {"precision": float(p), "sensitivity": float(r), "f1": float(f),
            "accuracy": float(accuracy_score(y_true, y_pred)), "n": int(len(y_true))}


def per_class_report(y_true, y_pred, task: str) -> pd.DataFrame:
    """Precision, sensitivity, F1 and support of each label of the task.

    Parameters
    ----------
    y_true : array-like of int, shape (n_trials,)
        The true labels (CLASS -1..1, or LEVEL -4..4).
    y_pred : array-like of int, shape (n_trials,)
        The predicted labels.
    task : {"class", "level"}
        Which labels these are; every label of the task gets a row, present or not.

    Returns
    -------
    report : pandas.DataFrame
        One row per label (named "-1 negative" ... for CLASS), columns ``precision``, ``sensitivity``,
        ``f1`` and ``support``.
    """
    labels = _task_labels(task)
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    idx = [f"{v} {CLASS_NAMES[i]}" for i, v in enumerate(labels)] if task == "class" else labels
    return pd.DataFrame({"precision": p, "sensitivity": r, "f1": f, "support": s}, index=idx)


def confusion(y_true, y_pred, task: str) -> pd.DataFrame:
    """The confusion matrix over every label of the task.

    Parameters
    ----------
    y_true : array-like of int, shape (n_trials,)
        The true labels (CLASS -1..1, or LEVEL -4..4).
    y_pred : array-like of int, shape (n_trials,)
        The predicted labels.
    task : {"class", "level"}
        Which labels these are.

    Returns
    -------
    matrix : pandas.DataFrame
        Trial counts, rows the true label ("true"), columns the predicted one ("predicted").
    """
    labels = _task_labels(task)
    cm = confusion_matrix(y_true, y_pred, labels=labels)
    return pd.DataFrame(cm, index=pd.Index(labels, name="true"), columns=pd.Index(labels, name="predicted"))


def macro_f1(y_true, y_pred, task: str) -> float:
    """Macro F1 over the labels present, as in :func:`classification_metrics`.

    Parameters
    ----------
    y_true : array-like of int, shape (n_trials,)
        The true labels (CLASS -1..1, or LEVEL -4..4).
    y_pred : array-like of int, shape (n_trials,)
        The predicted labels.
    task : {"class", "level"}
        Which labels these are.

    Returns
    -------
    f1 : float
    """
    check_task(task)
    return float(f1_score(y_true, y_pred, labels=_present_labels(y_true, y_pred), average="macro",
                          zero_division=0))


# --------------------------------------------------------------------------- the challenge's score

def smape(level_true, level_pred) -> float:
    """The challenge's LEVEL error: the mean of ``|p - t| / (|p| + |t|)``, a term counted as 0 when p = t = 0.

    Parameters
    ----------
    level_true : array-like of float, shape (n_trials,)
        The true ratings.
    level_pred : array-like of float, shape (n_trials,)
        The predicted ratings.

    Returns
    -------
    smape : float
        Between 0 and 1; NaN for no trials.
    """
    t = np.asarray(level_true, float)
    p = np.asarray(level_pred, float)
    if len(t) == 0:
        return float("nan")
    den = np.abs(p) + np.abs(t)
    terms = np.divide(np.abs(p - t), den, out=np.zeros_like(den), where=den > 0)
    return float(terms.mean())


def challenge_score_rows(class_true, level_true, class_pred, level_pred) -> np.ndarray:
    """The challenge's score, unrounded, of many rows of predictions at once (for bootstraps).

    Parameters
    ----------
    class_true : array-like of int, shape (n_trials,)
        The true CLASS labels.
    level_true : array-like of float, shape (n_trials,)
        The true LEVEL ratings.
    class_pred : array-like of int, shape (n_rows, n_trials) or (n_trials,)
        Predicted CLASS labels, one row per set of predictions.
    level_pred : array-like of float, shape (n_rows, n_trials) or (n_trials,)
        Predicted ratings, in the same rows.

    Returns
    -------
    scores : numpy.ndarray, shape (n_rows,)
        ``0.6 * CLASS error + 0.4 * LEVEL SMAPE`` of each row.
    """
    ct, lt = np.asarray(class_true), np.asarray(level_true, float)
    cp, lp = np.atleast_2d(class_pred), np.atleast_2d(np.asarray(level_pred, float))
    den = np.abs(lp) + np.abs(lt)
    terms = np.divide(np.abs(lp - lt), den, out=np.zeros(np.broadcast(lp, lt).shape), where=den > 0)
    return 0.6 * (1.0 - (cp == ct).mean(-1)) + 0.4 * terms.mean(-1)


def challenge_score(class_true, class_pred, level_true, level_pred) -> dict:
    """The challenge's official score (lower is better): 0.6 * CLASS error + 0.4 * LEVEL SMAPE.

    Parameters
    ----------
    class_true : array-like of int, shape (n_trials,)
        The true CLASS labels.
    class_pred : array-like of int, shape (n_trials,)
        The predicted CLASS labels.
    level_true : array-like of float, shape (n_trials,)
        The true LEVEL ratings.
    level_pred : array-like of float, shape (n_trials,)
        The predicted ratings.

    Returns
    -------
    score : dict
        ``class_error``, ``level_error`` (:func:`smape`), ``score`` (rounded to 4 decimals, as the
        challenge reports it) and ``n``.

    Raises
    ------
    ValueError
        When the four arrays differ in length.
    """
    class_true, class_pred = np.asarray(class_true), np.asarray(class_pred)
    if not (len(class_true) == len(class_pred) == len(level_true) == len(level_pred)):
        raise ValueError("challenge_score needs four arrays of the same length")
    class_error = float(1.0 - np.mean(class_true == class_pred)) if len(class_true) else float("nan")
    level_error = smape(level_true, level_pred)
    return {"class_error": class_error, "level_error": level_error,
            "score": round(0.6 * class_error + 0.4 * level_error, 4), "n": int(len(class_true))}


def macro_f1_rows(y_true, y_pred, task: str) -> np.ndarray:
    """:func:`macro_f1` of many rows at once, equal to it row by row (for bootstraps, where the rows are resamples).

    Parameters
    ----------
    y_true : array-like of int, shape (n_rows, n_trials) or (n_trials,)
        The true labels; one row is compared with every row of ``y_pred``.
    y_pred : array-like of int, shape (n_rows, n_trials) or (n_trials,)
        The predicted labels.
    task : {"class", "level"}
        Which labels these are; every label must be one of the task's.

    Returns
    -------
    f1 : numpy.ndarray, shape (n_rows,)
        Each row's F1 averaged over the labels present in its truth or predictions.
    """
    labels = np.asarray(_task_labels(task))
    t, p = np.atleast_2d(np.asarray(y_true)), np.atleast_2d(np.asarray(y_pred))
    t, p = np.broadcast_arrays(t, p)
    k = len(labels)
    ti, pi = np.searchsorted(labels, t), np.searchsorted(labels, p)
    if not (np.array_equal(labels[np.clip(ti, 0, k - 1)], t) and np.array_equal(labels[np.clip(pi, 0, k - 1)], p)):
        raise ValueError(f"labels must be among {labels.tolist()} for the {task} task")
    rows = len(t)
    codes = (np.arange(rows)[:, None] * k + ti) * k + pi
    cm = np.bincount(codes.ravel(), minlength=rows * k * k).reshape(rows, k, k)
    truth, said = cm.sum(2), cm.sum(1)
    present = (truth + said) > 0
    f1 = np.divide(2 * np.diagonal(cm, axis1=1, axis2=2), truth + said, out=np.zeros((rows, k)), where=present)
    return f1.sum(1) / present.sum(1)
