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


def test_fold_rating_tables_use_only_the_folds_training_participants(dataset):
    from fmriemo.level import fold_rating_tables
    ds = dataset.subset(np.arange(len(dataset)))
    test_p = [f"P{i:02d}" for i in range(1, 11)]  # ten of the sixteen, so a leak would move the rule
    m = np.isin(ds.participant, test_p) & (ds.y_class == 1)
    ds.y_level = ds.y_level.copy()
    ds.y_level[m] = -4  # the held-out participants rate every positive clip -4
    lab = (ds.split == "train") & ds.labelled
    everyone = smape_optimal_levels(ds.y_class[lab], ds.y_level[lab])
    others = lab & ~np.isin(ds.participant, test_p)
    expected = smape_optimal_levels(ds.y_class[others], ds.y_level[others])
    assert everyone != expected  # a table fitted on all trials would differ: the leak is visible
    tables = fold_rating_tables(ds, [test_p, ["P05"]])
    assert tables[0] == expected and len(tables) == 2
