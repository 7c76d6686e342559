"""Metrics of predicted labels: the paper's macro precision / sensitivity / F1, accuracy, confusion
matrices, and the challenge's official score. Plain functions of label vectors, used by the training
loop's test record as much as by evaluation and the challenge."""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

from .data.dataset import CLASS_NAMES, CLASS_VALUES, LEVEL_VALUES, check_task

def task_labels(task: str) -> list[int]:
    return list(CLASS_VALUES if check_task(task) == "class" else LEVEL_VALUES)


def present_labels(y_true, y_pred) -> list[int]:
    """Labels that occur in the truth or the predictions: what sklearn's classification_report
    macro-averages over, and so what the paper's macro numbers are over."""
    return sorted(set(np.asarray(y_true).tolist()) | set(np.asarray(y_pred).tolist()))


def classification_metrics(y_true, y_pred, task: str) -> dict:
    """Macro precision, sensitivity (recall) and F1 as the paper reports them (sklearn's
    classification_report "macro avg": over the labels present), plus accuracy and n."""
    check_task(task)
    p, r, f, _ = precision_recall_fscore_support(y_true, y_pred, labels=present_labels(y_true, y_pred),
                                                 average="macro", zero_division=0)
    return {"precision": float(p), "sensitivity": float(r), "f1": float(f),
            "accuracy": float(accuracy_score(y_true, y_pred)), "n": int(len(y_true))}


def per_class_report(y_true, y_pred, task: str) -> pd.DataFrame:
    labels = task_labels(task)
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    idx = [f"{v} {CLASS_NAMES[i]}" for i, v in enumerate(labels)] if task == "class" else labels
    return pd.DataFrame({"precision": p, "sensitivity": r, "f1": f, "support": s}, index=idx)


def confusion(y_true, y_pred, task: str) -> pd.DataFrame:
    labels = task_labels(task)
    cm = confusion_matrix(y_true, y_pred, labels=labels)
    return pd.DataFrame(cm, index=pd.Index(labels, name="true"), columns=pd.Index(labels, name="predicted"))


def macro_f1(y_true, y_pred, task: str) -> float:
    """Macro F1 over the labels present, as in :func:`classification_metrics`."""
    check_task(task)
    return float(f1_score(y_true, y_pred, labels=present_labels(y_true, y_pred), average="macro",
                          zero_division=0))


# --------------------------------------------------------------------------- the challenge's score

def smape(level_true, level_pred) -> float:
    """The challenge's LEVEL error: mean of ``|p - t| / (|p| + |t|)``, a term counted as 0 when p = t = 0."""
    t = np.asarray(level_true, float)
    p = np.asarray(level_pred, float)
    if len(t) == 0:
        return float("nan")
    den = np.abs(p) + np.abs(t)
    terms = np.divide(np.abs(p - t), den, out=np.zeros_like(den), where=den > 0)
    return float(terms.mean())


def challenge_score_rows(class_true, level_true, class_pred, level_pred) -> np.ndarray:
    """The challenge's score, unrounded, of every row of predictions at once (``class_pred`` and
    ``level_pred``: arrays [rows, trials], or one row; the truth: one row of trials): for bootstraps."""
    ct, lt = np.asarray(class_true), np.asarray(level_true, float)
    cp, lp = np.atleast_2d(class_pred), np.atleast_2d(np.asarray(level_pred, float))
    den = np.abs(lp) + np.abs(lt)
    terms = np.divide(np.abs(lp - lt), den, out=np.zeros(np.broadcast(lp, lt).shape), where=den > 0)
    return 0.6 * (1.0 - (cp == ct).mean(-1)) + 0.4 * terms.mean(-1)


def challenge_score(class_true, class_pred, level_true, level_pred) -> dict:
    """The official score (lower is better): 0.6 * CLASS error + 0.4 * LEVEL SMAPE, rounded to 4 decimals."""
    class_true, class_pred = np.asarray(class_true), np.asarray(class_pred)
    if not (len(class_true) == len(class_pred) == len(level_true) == len(level_pred)):
        raise ValueError("challenge_score needs four arrays of the same length")
    class_error = float(1.0 - np.mean(class_true == class_pred)) if len(class_true) else float("nan")
    level_error = smape(level_true, level_pred)
    return {"class_error": class_error, "level_error": level_error,
            "score": round(0.6 * class_error + 0.4 * level_error, 4), "n": int(len(class_true))}


def macro_f1_rows(y_true, y_pred, task: str) -> np.ndarray:
    """:func:`macro_f1` of every row of ``y_true`` and ``y_pred`` (arrays [rows, trials], or one row of
    truth for many rows of predictions) at once, equal to it row by row: the F1 of each label present in
    the row's truth or predictions, averaged. For bootstraps, where the rows are resamples."""
    labels = np.asarray(task_labels(task))
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
