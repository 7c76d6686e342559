"""Metrics: the paper's macro precision / sensitivity / F1, accuracy, confusion
matrices, intervals, and the challenge's official score."""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

from .data import CLASS_NAMES, CLASS_VALUES, LEVEL_VALUES, check_task

#: The seed paper's inner-test results (Tables 1-3 of the poster).
PAPER_TABLES = {
    "class": pd.DataFrame({"precision": [0.73, 0.59, 0.49], "sensitivity": [0.73, 0.54, 0.48],
                           "f1": [0.73, 0.52, 0.47]}, index=["asb", "vanilla", "ebr"]),
    "level": pd.DataFrame({"precision": [0.23, 0.19, 0.04], "sensitivity": [0.32, 0.25, 0.07],
                           "f1": [0.26, 0.21, 0.05]}, index=["asb", "vanilla", "ebr"]),
}
PAPER_CHALLENGE_SCORES = {"phase1": 0.5132, "phase2": 0.4213}


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


def wilson_interval(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion k/n (scipy's binomtest)."""
    if n <= 0:
        return (float("nan"), float("nan"))
    ci = stats.binomtest(int(k), int(n)).proportion_ci(confidence_level=level, method="wilson")
    return float(ci.low), float(ci.high)


def macro_f1(y_true, y_pred, task: str) -> float:
    """Macro F1 over the labels present, as in :func:`classification_metrics`."""
    check_task(task)
    return float(f1_score(y_true, y_pred, labels=present_labels(y_true, y_pred), average="macro",
                          zero_division=0))


def bootstrap(statistic, *arrays, groups=None, n_resamples: int = 2000, seed: int = 0,
              level: float = 0.95) -> tuple[float, float]:
    """The book's one bootstrap: percentile interval of ``statistic(*arrays)``.

    Without ``groups``, rows (trials) are resampled with replacement (scipy's paired bootstrap).
    With ``groups`` (one label per row, e.g. the participant), whole groups are resampled, so
    that trials of one person move together: the interval for new participants. ``arrays`` are
    numpy arrays or pandas objects of equal length (rows taken with ``.iloc``)."""
    if groups is None:
        arrays = tuple(np.asarray(a) for a in arrays)
        res = stats.bootstrap(arrays, statistic, paired=True, vectorized=False, n_resamples=n_resamples,
                              confidence_level=level, method="percentile",
                              random_state=np.random.default_rng(seed))
        return float(res.confidence_interval.low), float(res.confidence_interval.high)
    labels = np.asarray(groups)
    members = [np.flatnonzero(labels == g) for g in np.unique(labels)]  # groups in sorted order
    rng = np.random.default_rng(seed)

    def take(a, idx):
        return a.iloc[idx] if hasattr(a, "iloc") else np.asarray(a)[idx]

    vals = []
    for _ in range(n_resamples):
        idx = np.concatenate([members[i] for i in rng.integers(0, len(members), len(members))])
        vals.append(statistic(*(take(a, idx) for a in arrays)))
    a = (1 - level) / 2
    return float(np.quantile(vals, a)), float(np.quantile(vals, 1 - a))


def bootstrap_interval(y_true, y_pred, statistic, n_resamples: int = 2000, seed: int = 0,
                       level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval over trials for ``statistic(y_true, y_pred)`` (:func:`bootstrap`)."""
    return bootstrap(statistic, y_true, y_pred, n_resamples=n_resamples, seed=seed, level=level)


def metrics_with_intervals(y_true, y_pred, task: str, n_resamples: int = 2000, seed: int = 0) -> dict:
    """Macro metrics plus a Wilson interval for accuracy and a bootstrap interval for macro F1."""
    m = classification_metrics(y_true, y_pred, task)
    k = int(np.sum(np.asarray(y_true) == np.asarray(y_pred)))
    m["accuracy_ci"] = wilson_interval(k, len(y_true))
    m["f1_ci"] = bootstrap_interval(y_true, y_pred, lambda a, b: macro_f1(a, b, task), n_resamples, seed)
    return m


# --------------------------------------------------------------------------- challenge score

def smape(level_true, level_pred) -> float:
    """The challenge's LEVEL error: mean of ``|p - t| / (|p| + |t|)``, a term counted as 0 when p = t = 0."""
    t = np.asarray(level_true, float)
    p = np.asarray(level_pred, float)
    if len(t) == 0:
        return float("nan")
    den = np.abs(p) + np.abs(t)
    terms = np.divide(np.abs(p - t), den, out=np.zeros_like(den), where=den > 0)
    return float(terms.mean())


def challenge_score(class_true, class_pred, level_true, level_pred) -> dict:
    """The official score (lower is better): 0.6 * CLASS error + 0.4 * LEVEL SMAPE, rounded to 4 decimals."""
    class_true, class_pred = np.asarray(class_true), np.asarray(class_pred)
    if not (len(class_true) == len(class_pred) == len(level_true) == len(level_pred)):
        raise ValueError("challenge_score needs four arrays of the same length")
    class_error = float(1.0 - np.mean(class_true == class_pred)) if len(class_true) else float("nan")
    level_error = smape(level_true, level_pred)
    return {"class_error": class_error, "level_error": level_error,
            "score": round(0.6 * class_error + 0.4 * level_error, 4), "n": int(len(class_true))}


# --------------------------------------------------------------------------- region maps

def precision_at_k(scores, relevant, k: int) -> float:
    """Share of the ``k`` highest-scoring regions that are in ``relevant``."""
    top = np.argsort(-np.asarray(scores, float), kind="stable")[:k]
    return float(np.isin(top, np.asarray(relevant)).mean())


def ranking_auroc(scores, relevant) -> float:
    """AUROC of ``scores`` for telling ``relevant`` regions from the others (0.5: no better than chance)."""
    from sklearn.metrics import roc_auc_score
    scores = np.asarray(scores, float)
    y = np.isin(np.arange(len(scores)), np.asarray(relevant))
    return float(roc_auc_score(y, scores))


def top_k(scores, k: int) -> np.ndarray:
    return np.argsort(-np.asarray(scores, float), kind="stable")[:k]


def hypergeom_overlap(top, chosen, n_total: int) -> tuple[int, float]:
    """Overlap of two region sets and the hypergeometric p-value of an overlap at least that large
    when ``len(top)`` regions are drawn at random from ``n_total``."""
    top, chosen = set(np.asarray(top).tolist()), set(np.asarray(chosen).tolist())
    k = len(top & chosen)
    p = stats.hypergeom.sf(k - 1, n_total, len(chosen), len(top))
    return k, float(p)


def map_stability(maps, k: int = 20) -> dict:
    """Agreement between region maps (rows of ``maps``, e.g. one per seed): mean pairwise Spearman
    correlation and mean pairwise Jaccard overlap of their top-``k`` sets."""
    maps = np.asarray(maps, float)
    if len(maps) < 2:
        return {"spearman": float("nan"), "topk_jaccard": float("nan"), "pairs": 0}
    rhos, jac = [], []
    for i in range(len(maps)):
        for j in range(i + 1, len(maps)):
            rhos.append(stats.spearmanr(maps[i], maps[j]).statistic)
            a, b = set(top_k(maps[i], k)), set(top_k(maps[j], k))
            jac.append(len(a & b) / len(a | b))
    return {"spearman": float(np.mean(rhos)), "topk_jaccard": float(np.mean(jac)), "pairs": len(rhos)}
