import numpy as np

from fmriemo.evaluate import smape
from fmriemo.level import class_aware_levels, smape_optimal_levels


def test_smape_optimal_level_per_class_beats_every_other_constant():
    rng = np.random.default_rng(0)
    cls = np.repeat([-1, 0, 1], 50)
    lev = np.concatenate([rng.choice([-4, -3, -2], 50), rng.choice([0, 0, 0, 1], 50), rng.choice([2, 3, 4], 50)])
    table = smape_optimal_levels(cls, lev)
    assert table[0] == 0 and table[-1] < 0 < table[1]
    for c in (-1, 0, 1):
        t = lev[cls == c]
        best = smape(t, np.full(len(t), table[c]))
        assert all(best <= smape(t, np.full(len(t), v)) + 1e-12 for v in range(-4, 5))


def test_class_aware_levels_maps_predicted_classes():
    table = {-1: -3, 0: 0, 1: 2}
    assert class_aware_levels([1, -1, 0, 1], table).tolist() == [2, -3, 0, 2]
    assert smape_optimal_levels([0, 0], [0, 0])[1] == 1  # a class without trials keeps its own sign
