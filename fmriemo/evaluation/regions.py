"""Comparing per-region maps (SE weights, attributions, coefficients): how well a map ranks a known
set of regions, the overlap of its top regions with another set, and its stability across models."""
from __future__ import annotations

import numpy as np
from scipy import stats
from sklearn.metrics import roc_auc_score

__all__ = ["precision_at_k", "ranking_auroc", "top_k", "hypergeom_overlap", "map_stability"]


def precision_at_k(scores, relevant, k: int) -> float:
    """The share of the ``k`` highest-scoring regions that are relevant.

    Parameters
    ----------
    scores : array-like of float
        One score per region.
    relevant : array-like of int
        Indices of the relevant regions.
    k : int
        Regions taken from the top.

    Returns
    -------
    precision : float
    """
    top = np.argsort(-np.asarray(scores, float), kind="stable")[:k]
    return float(np.isin(top, np.asarray(relevant)).mean())


def ranking_auroc(scores, relevant) -> float:
    """How well a map's scores tell relevant regions from the others.

    Parameters
    ----------
    scores : array-like of float
        One score per region.
    relevant : array-like of int
        Indices of the relevant regions.

    Returns
    -------
    auroc : float
        0.5: no better than chance.
    """
    scores = np.asarray(scores, float)
    y = np.isin(np.arange(len(scores)), np.asarray(relevant))
    return float(roc_auc_score(y, scores))


def top_k(scores, k: int) -> np.ndarray:
    """The ``k`` highest-scoring regions, highest first (ties in index order).

    Parameters
    ----------
    scores : array-like of float
        One score per region.
    k : int
        Regions taken.

    Returns
    -------
    indices : ndarray of int
    """
    return np.argsort(-np.asarray(scores, float), kind="stable")[:k]


def hypergeom_overlap(top, chosen, n_total: int) -> tuple[int, float]:
    """The overlap of two region sets and its hypergeometric p-value.

    Parameters
    ----------
    top : array-like of int
        Regions drawn (e.g. a map's top regions).
    chosen : array-like of int
        The other set (e.g. the EBR regions).
    n_total : int
        Regions in all.

    Returns
    -------
    overlap : int
        Regions in both.
    p : float
        The chance of an overlap at least that large when ``len(top)`` regions are drawn at random.
    """
    top, chosen = set(np.asarray(top).tolist()), set(np.asarray(chosen).tolist())
    k = len(top & chosen)
    p = stats.hypergeom.sf(k - 1, n_total, len(chosen), len(top))
    return k, float(p)


def map_stability(maps, k: int = 20) -> dict:
    """Agreement between region maps, e.g. one per seed.

    Parameters
    ----------
    maps : array-like of shape (n_maps, n_regions)
        The maps.
    k : int, default=20
        Top regions of each map compared by Jaccard overlap.

    Returns
    -------
    stability : dict
        ``spearman``: mean pairwise Spearman correlation; ``topk_jaccard``: mean pairwise Jaccard overlap
        of the top-``k`` sets; ``pairs``: pairs of maps (NaN and 0 with fewer than two maps).
    """
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
