"""Comparing per-region maps (SE weights, attributions, coefficients): how well a map ranks a known
set of regions, the overlap of its top regions with another set, and its stability across models."""
from __future__ import annotations

import numpy as np
from scipy import stats
from sklearn.metrics import roc_auc_score

__all__ = ["precision_at_k", "ranking_auroc", "top_k", "hypergeom_overlap", "map_stability"]


def precision_at_k(scores, relevant, k: int) -> float:
    """Share of the ``k`` highest-scoring regions that are in ``relevant``."""
    top = np.argsort(-np.asarray(scores, float), kind="stable")[:k]
    return float(np.isin(top, np.asarray(relevant)).mean())


def ranking_auroc(scores, relevant) -> float:
    """AUROC of ``scores`` for telling ``relevant`` regions from the others (0.5: no better than chance)."""
    scores = np.asarray(scores, float)
    y = np.isin(np.arange(len(scores)), np.asarray(relevant))
    return float(roc_auc_score(y, scores))


def top_k(scores, k: int) -> np.ndarray:
    """Indices of the ``k`` highest ``scores``, highest first (ties in index order)."""
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
