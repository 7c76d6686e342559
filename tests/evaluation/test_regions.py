"""Comparing region maps: ranking a known set, overlap of top regions, stability across models."""
import numpy as np
import pytest

from fmriemo.evaluation.regions import hypergeom_overlap, map_stability, precision_at_k, ranking_auroc


def test_region_map_metrics():
    scores = np.arange(10, dtype=float)  # region 9 highest
    assert precision_at_k(scores, [9, 8, 0], 2) == 1.0 and precision_at_k(scores, [0, 1], 2) == 0.0
    assert ranking_auroc(scores, [8, 9]) == 1.0 and ranking_auroc(scores, [0, 1]) == 0.0
    k, p = hypergeom_overlap([0, 1, 2], [0, 1, 2], 246)
    assert k == 3 and p < 1e-5
    k, p = hypergeom_overlap([0, 1, 2], [100, 101], 246)
    assert k == 0 and p == pytest.approx(1.0)
    s = map_stability(np.stack([scores, scores, -scores]), k=3)
    assert s["pairs"] == 3 and s["spearman"] == pytest.approx(-1 / 3)
    assert s["topk_jaccard"] == pytest.approx(1 / 3)
