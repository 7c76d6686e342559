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

from .data import CLASS_VALUES, LEVEL_VALUES
from .evaluate import smape


def smape_optimal_levels(y_class, y_level) -> dict[int, int]:
    """For each class, the rating minimising SMAPE against that class's training ratings."""
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
    """Ratings for predicted classes, by the per-class table of :func:`smape_optimal_levels`."""
    return np.array([table[int(c)] for c in np.asarray(pred_class)], dtype=int)
