"""The book's statistics: the one bootstrap (over trials, or over whole participants), the Wilson
interval, a group-aware permutation test against chance, and the paired comparisons of two models on
the same trials (exact McNemar, a sign-flip permutation over participants)."""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..metrics import classification_metrics, macro_f1


def wilson_interval(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion k/n (scipy's binomtest)."""
    if n <= 0:
        return (float("nan"), float("nan"))
    ci = stats.binomtest(int(k), int(n)).proportion_ci(confidence_level=level, method="wilson")
    return float(ci.low), float(ci.high)


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


def metrics_with_intervals(y_true, y_pred, task: str, n_resamples: int = 2000, seed: int = 0) -> dict:
    """Macro metrics plus a Wilson interval for accuracy and a bootstrap interval for macro F1."""
    m = classification_metrics(y_true, y_pred, task)
    k = int(np.sum(np.asarray(y_true) == np.asarray(y_pred)))
    m["accuracy_ci"] = wilson_interval(k, len(y_true))
    m["f1_ci"] = bootstrap(lambda a, b: macro_f1(a, b, task), y_true, y_pred, n_resamples=n_resamples, seed=seed)
    return m


def paired(pred: pd.DataFrame, a: str, b: str, seed=None) -> pd.DataFrame:
    """Predictions of models ``a`` and ``b`` on the same trials (and seed, for two deep models)."""
    pa, pb = pred[pred.model == a], pred[pred.model == b]
    keys = ["index"] + (["seed"] if pa.seed.nunique() > 1 and pb.seed.nunique() > 1 else [])
    if seed is not None:  # picks the seed of models trained with several; a single-seed model stays
        pa = pa[pa.seed == seed] if pa.seed.nunique() > 1 else pa
        pb = pb[pb.seed == seed] if pb.seed.nunique() > 1 else pb
    if "seed" not in keys:
        pa, pb = pa[pa.seed == pa.seed.min()], pb[pb.seed == pb.seed.min()]
    m = pa.merge(pb[keys + ["y_pred"]], on=keys, suffixes=("_a", "_b"))
    return m


def mcnemar_exact(y_true, pred_a, pred_b) -> dict:
    """Exact McNemar test: a two-sided binomial test on the trials exactly one model gets right."""
    ra, rb = np.asarray(pred_a) == np.asarray(y_true), np.asarray(pred_b) == np.asarray(y_true)
    n01, n10 = int(np.sum(ra & ~rb)), int(np.sum(~ra & rb))
    p = stats.binomtest(n01, n01 + n10, 0.5).pvalue if n01 + n10 else 1.0
    return {"a_only": n01, "b_only": n10, "p": float(p)}


def participant_sign_flip(y_true, pred_a, pred_b, participants, n_perm: int = 10000, seed: int = 0) -> dict:
    """Paired permutation test over participants: flip the sign of each participant's accuracy
    difference (a - b); p is two-sided. With few participants (2**n <= ``n_perm``) every sign
    pattern is enumerated and p is exact; otherwise ``n_perm`` random patterns are drawn."""
    d = pd.DataFrame({"p": participants, "ra": np.asarray(pred_a) == np.asarray(y_true),
                      "rb": np.asarray(pred_b) == np.asarray(y_true)})
    diff = d.groupby("p").apply(lambda g: g.ra.mean() - g.rb.mean(), include_groups=False).to_numpy()
    obs = diff.mean()
    n = len(diff)
    if 2 ** n <= n_perm:
        flips = 1.0 - 2.0 * ((np.arange(2 ** n)[:, None] >> np.arange(n)) & 1)
        null = (flips * diff).mean(1)
        p = np.mean(np.abs(null) >= abs(obs) - 1e-12)
    else:
        flips = np.random.default_rng(seed).choice([-1.0, 1.0], size=(n_perm, n))
        null = (flips * diff).mean(1)
        p = (np.sum(np.abs(null) >= abs(obs) - 1e-12) + 1) / (n_perm + 1)
    return {"mean_difference": float(obs), "p": float(p), "participants": n, "exact": bool(2 ** n <= n_perm)}


def permutation_vs_chance(y_true, y_pred, participants, n_perm: int = 2000, seed: int = 0) -> dict:
    """Group-aware permutation test of accuracy against chance: labels are shuffled *within*
    each participant (keeping each participant's label counts), the predictions held fixed."""
    y_true, y_pred, participants = map(np.asarray, (y_true, y_pred, participants))
    obs = float(np.mean(y_true == y_pred))
    rng = np.random.default_rng(seed)
    groups = [np.flatnonzero(participants == p) for p in np.unique(participants)]
    null = np.empty(n_perm)
    for i in range(n_perm):
        yp = y_true.copy()
        for g in groups:
            yp[g] = rng.permutation(y_true[g])
        null[i] = np.mean(yp == y_pred)
    p = (np.sum(null >= obs - 1e-12) + 1) / (n_perm + 1)
    return {"accuracy": obs, "null_mean": float(null.mean()), "p": float(p)}
