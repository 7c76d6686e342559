"""The book's statistics on cases with known answers: the one bootstrap (trials or whole participants),
the Wilson interval, the permutation test against chance and the paired comparisons."""
import json

import numpy as np
import pandas as pd
import pytest

from fmriemo.evaluation import statistics
from fmriemo.metrics import challenge_score, macro_f1, macro_f1_rows

#: every test here guards a function that decides a conclusion (`make mutants` runs them)
pytestmark = pytest.mark.conclusions


@pytest.mark.conclusions
def test_within_participant_permutation_cannot_change_single_class_participants():
    # each participant saw one class only, and is predicted perfectly: shuffling labels *within*
    # a participant changes nothing (null mean = accuracy, p = 1); shuffling across them would.
    parts = np.repeat(["a", "b", "c", "d", "e", "f"], 10)
    y = np.repeat([0, 1, 2, 0, 1, 2], 10)
    r = statistics.permutation_vs_chance(y, y, parts, n_perm=300)
    assert r["accuracy"] == 1.0 and r["null_mean"] == 1.0 and r["p"] == 1.0


@pytest.mark.conclusions
def test_within_participant_permutation_keeps_each_participants_mix():
    # participants with different class mixes; a predictor that always says 0 scores each
    # participant's share of class 0 whatever the shuffle: the null is a point mass at accuracy
    parts = np.repeat(["a", "b", "c"], 10)
    y = np.concatenate([np.zeros(10), np.r_[np.zeros(3), np.ones(7)], np.r_[np.zeros(6), np.full(4, 2)]])
    r = statistics.permutation_vs_chance(y, np.zeros(30), parts, n_perm=300)
    assert r["null_mean"] == pytest.approx(r["accuracy"]) and r["p"] == 1.0


@pytest.mark.conclusions
def test_sign_flip_known_case_is_exact():
    # eight participants, each with the same positive difference: only the all-plus and all-minus
    # patterns reach |mean| >= observed, so p = 2 / 2**8
    parts = np.repeat([f"P{i}" for i in range(8)], 10)
    y = np.zeros(80, int)
    a = y.copy()
    b = np.where(np.tile(np.arange(10), 8) < 3, 1, 0)  # b misses 3 of 10 trials of every participant
    r = statistics.participant_sign_flip(y, a, b, parts, n_perm=10000)
    assert r["exact"] and r["mean_difference"] == pytest.approx(0.3) and r["p"] == pytest.approx(2 / 256)


@pytest.mark.conclusions
def test_sign_flip_is_symmetric_and_random_when_many_participants():
    rng = np.random.default_rng(3)
    parts = np.repeat([f"P{i}" for i in range(20)], 10)
    y = rng.integers(0, 3, 200)
    a, b = np.where(rng.random(200) < 0.6, y, (y + 1) % 3), np.where(rng.random(200) < 0.6, y, (y + 1) % 3)
    ab = statistics.participant_sign_flip(y, a, b, parts, n_perm=2000)
    ba = statistics.participant_sign_flip(y, b, a, parts, n_perm=2000)
    assert not ab["exact"] and ab["p"] == pytest.approx(ba["p"]) and ab["mean_difference"] == -ba["mean_difference"]


@pytest.mark.conclusions
def test_participant_bootstrap_resamples_participants_not_trials():
    # half the participants all right, half all wrong: whole participants vary a lot
    parts = np.repeat([f"P{i}" for i in range(10)], 30)
    y = np.zeros(300, int)
    pred = np.where(np.isin(parts, [f"P{i}" for i in range(5)]), 0, 1)
    lo, hi = statistics.bootstrap(lambda t, p: np.mean(t == p), y, pred, groups=parts, n_resamples=1000)
    assert hi - lo > 0.4
    tlo, thi = statistics.bootstrap(lambda t, p: np.mean(t == p), y, pred, n_resamples=1000)
    assert thi - tlo < 0.15


@pytest.mark.conclusions
def test_paired_aligns_trials_by_index_and_seed():
    rows = []
    for model, offset in (("a", 0), ("b", 1)):
        for seed in (0, 1):
            idx = np.arange(6)
            order = np.random.default_rng(seed + offset).permutation(6)  # rows in different orders
            rows.append(pd.DataFrame({"model": model, "seed": seed, "index": idx[order], "y_true": 0,
                                      "y_pred": 100 * offset + 10 * seed + idx[order], "participant": "P1"}))
    m = statistics.paired(pd.concat(rows), "a", "b")
    assert len(m) == 12
    assert (m.y_pred_a == 10 * m.seed + m["index"]).all() and (m.y_pred_b == 100 + 10 * m.seed + m["index"]).all()
    one = statistics.paired(pd.concat(rows), "a", "b", seed=1)
    assert len(one) == 6 and (one.seed == 1).all()


@pytest.mark.conclusions
# --------------------------------------------------------------------------- known answers for the survivors of
# a first mutation run (sign-flip's random branch, McNemar, p-value formulas, paired keys, the level rule)

def test_sign_flip_random_branch_known_answers():
    parts = np.repeat([f"P{i}" for i in range(12)], 10)  # 2**12 > n_perm: random patterns
    y = np.zeros(120, int)
    b = np.where(np.tile(np.arange(10), 12) < 2, 1, 0)
    r = statistics.participant_sign_flip(y, y, b, parts, n_perm=1000, seed=0)
    assert not r["exact"] and r["participants"] == 12 and r["mean_difference"] == pytest.approx(0.2)
    assert 1 / 1001 <= r["p"] <= 4 / 1001  # only the all-plus / all-minus patterns reach it
    same = statistics.participant_sign_flip(y, b, b, parts, n_perm=1000)
    assert same["p"] == 1.0 and same["mean_difference"] == 0.0
    exact_same = statistics.participant_sign_flip(y[:30], b[:30], b[:30], parts[:30], n_perm=1000)
    assert exact_same["exact"] and exact_same["p"] == 1.0


@pytest.mark.conclusions
def test_mcnemar_known_answers():
    y = np.zeros(10, int)
    a = np.r_[np.zeros(6), np.ones(4)].astype(int)      # right on 6
    b = np.r_[np.ones(5), np.zeros(1), np.ones(4)].astype(int)  # right on 1 (trial 5), wrong elsewhere
    r = statistics.mcnemar_exact(y, a, b)
    assert (r["a_only"], r["b_only"]) == (5, 0) and r["p"] == pytest.approx(2 * 0.5 ** 5)
    r = statistics.mcnemar_exact(y, b, a)
    assert (r["a_only"], r["b_only"]) == (0, 5)
    assert statistics.mcnemar_exact(y, a, a) == {"a_only": 0, "b_only": 0, "p": 1.0}


@pytest.mark.conclusions
def test_permutation_p_value_formula():
    # one participant, two trials, predicted right: half of all shuffles are right too
    parts = np.array(["a", "a"])
    r = statistics.permutation_vs_chance(np.array([0, 1]), np.array([0, 1]), parts, n_perm=4000, seed=1)
    assert r["accuracy"] == 1.0 and r["null_mean"] == pytest.approx(0.5, abs=0.03)
    assert r["p"] == pytest.approx(0.5, abs=0.03)
    wrong = statistics.permutation_vs_chance(np.array([0, 1]), np.array([1, 0]), parts, n_perm=400)
    assert wrong["p"] == 1.0 and wrong["accuracy"] == 0.0


@pytest.mark.conclusions
def test_paired_deep_against_single_seed_baseline():
    deep = pd.DataFrame({"model": "deep", "seed": np.repeat([3, 4], 4), "index": np.tile(np.arange(4), 2),
                         "y_true": 0, "y_pred": np.r_[np.zeros(4), np.ones(4)], "participant": "P1"})
    base = pd.DataFrame({"model": "base", "seed": 0, "index": np.arange(4)[::-1], "y_true": 0,
                         "y_pred": np.arange(4)[::-1] * 10, "participant": "P1"})
    m = statistics.paired(pd.concat([deep, base]), "deep", "base")
    assert len(m) == 4 and (m.y_pred_a == 0).all()  # the deep model's first seed only
    assert (m.y_pred_b == m["index"] * 10).all()
    m4 = statistics.paired(pd.concat([deep, base]), "deep", "base", seed=4)
    assert (m4.y_pred_a == 1).all() and len(m4) == 4


@pytest.mark.conclusions
def test_paired_single_seed_model_on_either_side():
    deep = pd.DataFrame({"model": "deep", "seed": np.repeat([3, 4], 4), "index": np.tile(np.arange(4), 2),
                         "y_true": 0, "y_pred": np.r_[np.zeros(4), np.ones(4)], "participant": "P1"})
    base = pd.DataFrame({"model": "base", "seed": 0, "index": np.arange(4), "y_true": 0, "y_pred": 7,
                         "participant": "P1"})
    pred = pd.concat([deep, base])
    m = statistics.paired(pred, "base", "deep")
    assert len(m) == 4 and (m.y_pred_a == 7).all() and (m.y_pred_b == 0).all()  # deep's first seed
    m4 = statistics.paired(pred, "base", "deep", seed=4)
    assert len(m4) == 4 and (m4.y_pred_a == 7).all() and (m4.y_pred_b == 1).all()  # the seed asked for


@pytest.mark.conclusions
def test_sign_flip_exact_up_to_n_perm_patterns():
    parts = np.repeat([f"P{i}" for i in range(8)], 10)
    y = np.zeros(80, int)
    b = np.where(np.tile(np.arange(10), 8) < 3, 1, 0)
    at_limit = statistics.participant_sign_flip(y, y, b, parts, n_perm=256)  # 2**8 == n_perm: still exact
    assert at_limit["exact"] and at_limit["p"] == pytest.approx(2 / 256)
    assert not statistics.participant_sign_flip(y, y, b, parts, n_perm=255)["exact"]
    parts10 = np.repeat([f"P{i}" for i in range(10)], 10)
    y10, b10 = np.zeros(100, int), np.where(np.tile(np.arange(10), 10) < 3, 1, 0)
    r = statistics.participant_sign_flip(y10, y10, b10, parts10, n_perm=2000)  # 2**10 <= 2000 < 3**10
    assert r["exact"] and r["p"] == pytest.approx(2 / 1024)


@pytest.mark.conclusions
def test_permutation_vs_chance():
    rng = np.random.default_rng(0)
    parts = np.repeat([f"P{i}" for i in range(8)], 30)
    y = np.tile(np.repeat([-1, 0, 1], 10), 8)
    good = statistics.permutation_vs_chance(y, y, parts, n_perm=200)
    assert good["accuracy"] == 1.0 and good["p"] < 0.01 and abs(good["null_mean"] - 1 / 3) < 0.02
    rand = statistics.permutation_vs_chance(y, rng.integers(-1, 2, len(y)), parts, n_perm=200)
    assert rand["p"] > 0.01


@pytest.mark.conclusions
def test_paired_tests():
    y = np.array([1, 1, 1, 1, 0, 0, 0, 0])
    a = np.array([1, 1, 1, 1, 0, 0, 0, 0])
    b = np.array([0, 0, 0, 1, 0, 0, 0, 0])
    mc = statistics.mcnemar_exact(y, a, b)
    assert (mc["a_only"], mc["b_only"]) == (3, 0) and mc["p"] == pytest.approx(0.25)
    same = statistics.participant_sign_flip(y, a, a, np.repeat(["x", "y"], 4), n_perm=200)
    assert same["mean_difference"] == 0 and same["p"] == 1.0


def test_wilson_interval_known_value():
    lo, hi = statistics.wilson_interval(35, 48)
    assert lo == pytest.approx(0.5905, abs=1e-3) and hi == pytest.approx(0.8341, abs=1e-3)


def test_bootstrap_interval_contains_estimate():
    rng = np.random.default_rng(0)
    y = rng.integers(-1, 2, 60)
    p = np.where(rng.random(60) < 0.6, y, rng.integers(-1, 2, 60))
    lo, hi = statistics.bootstrap(lambda a, b: macro_f1(a, b, "class"), y, p, n_resamples=500)
    assert lo < macro_f1(y, p, "class") < hi and hi - lo < 0.5


@pytest.mark.conclusions
def test_one_bootstrap_takes_rows_numpy_or_pandas_and_whole_groups():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 200)
    pred = np.where(rng.random(200) < 0.6, y, rng.integers(0, 3, 200))
    acc = lambda a, b: float(np.mean(np.asarray(a) == np.asarray(b)))
    assert statistics.bootstrap(acc, y, pred, seed=1) == statistics.bootstrap(acc, y, pred, seed=1)
    assert statistics.bootstrap(acc, y, pred, seed=1) != statistics.bootstrap(acc, y, pred, seed=2)
    frame = pd.DataFrame({"participant": np.repeat(np.arange(10), 20), "y_true": y, "y_pred": pred})
    by_frame = statistics.bootstrap(lambda d: acc(d.y_true, d.y_pred), frame, groups=frame.participant, seed=3)
    by_arrays = statistics.bootstrap(acc, y, pred, groups=frame.participant.to_numpy(), seed=3)
    assert by_frame == by_arrays  # a frame's rows move together, as the arrays' do
    assert by_arrays[0] < acc(y, pred) < by_arrays[1]
    # the challenge score's interval over trials brackets the score
    levels = rng.integers(-4, 5, 200)
    lo, hi = statistics.bootstrap(lambda a, b, c, d: challenge_score(a, b, c, d)["score"], y - 1, pred - 1, levels,
                                  levels, seed=3)
    assert lo <= challenge_score(y - 1, pred - 1, levels, levels)["score"] <= hi


def test_metrics_with_intervals():
    y = np.repeat([-1, 0, 1], 20)
    m = statistics.metrics_with_intervals(y, y, "class", n_resamples=200)
    assert m["accuracy"] == 1.0 and m["f1_ci"] == (1.0, 1.0) and m["accuracy_ci"][1] == pytest.approx(1.0)
    assert m["n"] == 60 and m["accuracy_ci"][0] > 0.9


# --------------------------------------------------------------------------- seeds as a random factor

PEOPLE = [f"P{i:02d}" for i in range(12)]
FOLD = {p: i % 3 for i, p in enumerate(PEOPLE)}


def _scores(rows):
    return pd.DataFrame(np.asarray(rows, float), columns=PEOPLE[:np.shape(rows)[1]])


@pytest.mark.conclusions
def test_compare_participants_identical_models_give_zero():
    a = _scores(np.full((3, 12), 0.5))
    c = statistics.compare_participants(a, a.copy(), fold_of=FOLD, n_resamples=200)
    assert c.estimate == 0 and c.lo == 0 and c.hi == 0 and c.seed_differences == (0.0, 0.0, 0.0)
    assert c.seeds_a == c.seeds_b == 3 and c.units == 12 and c.clusters == 12 and c.p == 1.0


@pytest.mark.conclusions
def test_seeds_that_disagree_widen_the_interval_past_zero():
    """Every participant gains +0.3 with seed 0 and loses 0.1 with seed 1: the seed mean is +0.1 for every
    participant, so a bootstrap over participants alone gives a zero-width interval at +0.1; resampling the
    seeds too reaches below zero, and the seeds disagree in sign."""
    a = _scores([[0.6] * 12, [0.2] * 12])
    c = statistics.compare_participants(a, 0.3, a="asb", b="chance", fold_of=FOLD, n_resamples=500)
    assert c.estimate == pytest.approx(0.1) and c.lo < 0 < c.hi and c.seeds_b == 0
    assert c.seed_differences == pytest.approx((0.3, -0.1)) and c.agreeing == 1
    assert np.isnan(c.width_ratio)  # the naive interval has no width


@pytest.mark.conclusions
def test_seeds_are_drawn_again_in_every_fold():
    """Seed 0 is right on fold 0 and wrong on the others, seed 1 the reverse: drawing one seed set for all
    folds keeps every resample's mean near the middle; drawing per fold (each fold's model of a seed is its
    own training run) lets the folds' luck add up, and the interval widens."""
    rows = np.array([[1.0 if FOLD[p] == 0 else 0.0 for p in PEOPLE], [0.0 if FOLD[p] == 0 else 1.0 for p in PEOPLE]])
    c = statistics.compare_participants(_scores(rows), 0.5, fold_of=FOLD, clusters={p: 0 for p in PEOPLE},
                                        n_resamples=400)
    # with one cluster the participants never move: only the seeds do; drawn once for all folds the
    # statistic could take 3 values, drawn per fold it spreads over 0..1
    assert c.hi - c.lo >= 0.6
    one_fold = statistics.compare_participants(_scores(rows), 0.5, clusters={p: 0 for p in PEOPLE},
                                               n_resamples=400)
    assert one_fold.hi - one_fold.lo <= 1 / 3 + 1e-9


@pytest.mark.conclusions
def test_clusters_move_together_and_the_sign_flip_counts_them():
    a = _scores(np.full((2, 4), 0.75))
    b = _scores(np.full((2, 4), 0.25))
    c = statistics.compare_participants(a, b, clusters={"P00": "x", "P01": "x", "P02": "y", "P03": "y"},
                                        n_resamples=100)
    assert c.clusters == 2 and c.units == 4 and c.estimate == 0.5
    assert c.p == 0.5  # two clusters, all positive: 2 of 4 sign patterns are as extreme
    assert statistics.sign_flip_clusters([0.1, 0.2, 0.3], [0, 1, 2]) == 0.25
    assert statistics.sign_flip_clusters([0.1, -0.1], [0, 1]) == 1.0


@pytest.mark.conclusions
def test_seed_differences_pair_seeds_or_take_every_pair():
    a = _scores([[0.6] * 3, [0.5] * 3])
    b = _scores([[0.4] * 3, [0.55] * 3])
    paired = statistics.compare_participants(a, b, n_resamples=50)
    assert paired.seed_differences == pytest.approx((0.2, -0.05))
    every = statistics.compare_participants(a, b, paired_seeds=False, n_resamples=50)
    assert every.seed_differences == pytest.approx((0.2, 0.05, 0.1, -0.05))
    fixed = statistics.compare_participants(a, b.iloc[:1], trained_b=False, n_resamples=50)
    assert fixed.seeds_b == 0 and fixed.seed_differences == pytest.approx((0.2, 0.1))


@pytest.mark.conclusions
def test_compare_trials_known_answers():
    y = np.array([0, 1, -1, 0, 1, -1])
    same = np.stack([y, y])
    c = statistics.compare_trials(y, same, same, lambda t, p: macro_f1_rows(t, p, "class"), n_resamples=100)
    assert c.estimate == 0 and c.lo == 0 and c.hi == 0 and len(c.seed_differences) == 4
    wrong = np.stack([np.roll(y, 1), np.roll(y, 1)])
    c = statistics.compare_trials(y, same, wrong, lambda t, p: macro_f1_rows(t, p, "class"), n_resamples=200,
                                  clusters=[0, 0, 1, 1, 2, 2])
    assert c.estimate == 1.0 and c.lo == 1.0 and c.clusters == 3 and c.agreeing == 4
    lower = statistics.compare_trials(y, same, 0.2, lambda t, p: 1 - macro_f1_rows(t, p, "class"),
                                      higher_is_better=False, n_resamples=50)
    assert lower.estimate == pytest.approx(-0.2) and not lower.higher_is_better and lower.seeds_b == 0


def test_comparison_round_trips_through_a_results_row():
    c = statistics.Comparison("asb", "vanilla", "accuracy", 0.1, 0.01, 0.2, 3, 3, (0.1, 1 / 3, -0.05), p=0.04,
                              units=16, clusters=9, width_ratio=1.4)
    back = statistics.Comparison.from_row(statistics.comparison_table([c]).iloc[0].to_dict())
    assert back == c and back.agreeing == 2
    nan = statistics.Comparison.from_row({**c.row(), "p": None, "seed_differences": ""})
    assert np.isnan(nan.p) and nan.seed_differences == () and nan.agreeing == 0
    lower = statistics.Comparison("asb", "always neutral", "challenge score", -0.2, -0.3, -0.1, 2, 0, (-0.2, -0.1),
                                  higher_is_better=False)
    row = json.loads(json.dumps(lower.row(), default=str).replace("NaN", "null"))  # as a results file holds it
    assert statistics.Comparison.from_row(row).higher_is_better is False
    assert statistics.Comparison.from_row(row).agreeing == 2 and statistics.Comparison.from_row(row).seeds_b == 0
    # a row that lacks the optional fields (or holds them as null) reads with their defaults
    bare = {k: v for k, v in lower.row().items() if k not in ("units", "clusters", "width_ratio", "higher_is_better",
                                                              "p")}
    back = statistics.Comparison.from_row({**bare, "clusters": None})
    assert back.units == 0 and back.clusters == 0 and np.isnan(back.width_ratio) and np.isnan(back.p)
    assert back.higher_is_better is True and back.seed_differences == (-0.2, -0.1)


@pytest.mark.conclusions
def test_predictive_chance_is_a_t_with_few_seeds():
    # seeds at 0.55 and 0.65: a normal with their mean and SD gives 0.033 for 0.73; the predictive t 0.19
    assert statistics.predictive_chance([0.55, 0.65], 0.73, min_values=2) == pytest.approx(0.187, abs=1e-3)
    assert np.isnan(statistics.predictive_chance([0.55, 0.65], 0.73))  # fewer than three: blank
    assert np.isnan(statistics.predictive_chance([0.5, 0.5, 0.5], 0.73))  # no spread
    v = [0.5, 0.6, 0.7]
    assert statistics.predictive_chance(v, 0.6) == pytest.approx(0.5)
    assert statistics.predictive_chance(v, 0.9) == pytest.approx(
        statistics.stats.t.sf((0.9 - 0.6) / (0.1 * np.sqrt(4 / 3)), df=2))
    assert statistics.predictive_chance([*v, np.nan], 0.9) == statistics.predictive_chance(v, 0.9)


@pytest.mark.conclusions
def test_permutation_over_seeds_shuffles_once_for_every_seed():
    parts = np.repeat(["a", "b"], 6)
    y = np.tile([0, 1, 2], 4)
    r = statistics.permutation_vs_chance(y, np.stack([y, y]), parts, n_perm=200)
    one = statistics.permutation_vs_chance(y, y, parts, n_perm=200)
    assert r == one and r["accuracy"] == 1.0
    half = statistics.permutation_vs_chance(y, np.stack([y, (y + 1) % 3]), parts, n_perm=200)
    # the second seed is always wrong: the mean over seeds is 0.5, and the shuffles average a third
    assert half["accuracy"] == 0.5 and abs(half["null_mean"] - 1 / 3) < 0.05


def test_the_group_bootstrap_draws_every_group_and_honours_the_level():
    """Two groups of values 0 and 1: the mean over a draw of two groups is 0, 0.5 or 1 with chances 1/4,
    1/2, 1/4, so the central 40% of resamples is 0.5 alone while the central 95% reaches 0 and 1 (a draw
    that could never pick the first group would never reach 0). The trial bootstrap's level narrows its
    interval the same way."""
    values, groups = np.array([0.0, 0.0, 1.0, 1.0]), np.array(["a", "a", "b", "b"])
    assert statistics.bootstrap(np.mean, values, groups=groups, n_resamples=2000) == (0.0, 1.0)
    assert statistics.bootstrap(np.mean, values, groups=groups, n_resamples=2000, level=0.4) == (0.5, 0.5)
    rows = np.arange(40, dtype=float)
    wide = statistics.bootstrap(np.mean, rows, n_resamples=500)
    narrow = statistics.bootstrap(np.mean, rows, n_resamples=500, level=0.5)
    assert wide[0] < narrow[0] < narrow[1] < wide[1]


def test_every_seed_can_be_drawn_and_the_width_ratio_is_a_ratio():
    """Seed 0 predicts every trial right and seed 1 every trial wrong: resampling the seeds reaches both ends
    (a draw that skipped seed 0 would stay at 0). With one seed per model, every participant its own
    cluster and one fold, the two-level bootstrap is the naive one, so their widths' ratio is near 1."""
    y = np.array([0, 1, -1] * 4)
    pred = np.stack([y, np.roll(y, 1)])
    c = statistics.compare_trials(y, pred, 0.0, lambda t, p: (p == t).mean(-1), n_resamples=400)
    assert c.estimate == 0.5 and c.lo <= 0.1 and c.hi >= 0.9
    rng = np.random.default_rng(3)
    a = _scores(rng.uniform(0.3, 0.7, (1, 12)))
    b = _scores(a.to_numpy() - 0.2 + rng.normal(0, 0.05, (1, 12)))  # a leads by about 0.2
    r = statistics.compare_participants(a, b, n_resamples=2000)
    assert 0.8 < r.width_ratio < 1.25 and 0 < r.hi - r.lo < 0.1, (r.width_ratio, r.lo, r.hi)
