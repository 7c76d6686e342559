import numpy as np
import pytest

from fmriemo.evaluate import (challenge_score, classification_metrics, confusion, smape, wilson_interval,
                              bootstrap_interval, macro_f1)


def test_macro_metrics_by_hand():
    y = [-1, -1, 0, 0, 1, 1]
    p = [-1, 0, 0, 0, 1, -1]
    m = classification_metrics(y, p, "class")
    # per class precision: -1: 1/2, 0: 2/3, 1: 1/1 ; recall: 1/2, 1, 1/2
    assert m["precision"] == pytest.approx((0.5 + 2 / 3 + 1) / 3)
    assert m["sensitivity"] == pytest.approx((0.5 + 1 + 0.5) / 3)
    f1 = [2 * .5 * .5 / 1, 2 * (2 / 3) / (5 / 3), 2 * .5 / 1.5]
    assert m["f1"] == pytest.approx(np.mean(f1))
    assert m["accuracy"] == pytest.approx(4 / 6)


def test_macro_is_over_labels_present_like_classification_report():
    from sklearn.metrics import classification_report
    y = [0, 0, 2, -2]
    m = classification_metrics(y, [0, 0, 0, 0], "level")
    assert m["f1"] == pytest.approx((2 * 0.5 * 1 / 1.5) / 3)  # levels -2, 0, 2 only
    rep = classification_report(y, [0, 0, 0, 0], output_dict=True, zero_division=0)["macro avg"]
    assert (m["precision"], m["sensitivity"], m["f1"]) == pytest.approx(
        (rep["precision"], rep["recall"], rep["f1-score"]))
    assert macro_f1(y, [0, 0, 0, 0], "level") == pytest.approx(m["f1"])


def test_confusion_layout():
    cm = confusion([-1, 0, 1, 1], [-1, 1, 1, 0], "class")
    assert cm.loc[1, 0] == 1 and cm.loc[0, 1] == 1 and cm.values.sum() == 4


def test_wilson_interval_known_value():
    lo, hi = wilson_interval(35, 48)
    assert lo == pytest.approx(0.5905, abs=1e-3) and hi == pytest.approx(0.8341, abs=1e-3)


def test_bootstrap_interval_contains_estimate():
    rng = np.random.default_rng(0)
    y = rng.integers(-1, 2, 60)
    p = np.where(rng.random(60) < 0.6, y, rng.integers(-1, 2, 60))
    lo, hi = bootstrap_interval(y, p, lambda a, b: macro_f1(a, b, "class"), n_resamples=500)
    assert lo < macro_f1(y, p, "class") < hi and hi - lo < 0.5


def test_smape_cases():
    assert smape([0, 0], [0, 0]) == 0.0          # 0/0 counts as 0
    assert smape([1], [-1]) == 1.0
    assert smape([2, 0], [1, 3]) == pytest.approx((1 / 3 + 1) / 2)


def test_challenge_score_by_hand():
    s = challenge_score([1, 0, -1, 1], [1, 0, 1, 0], [2, 0, -3, 4], [2, 0, 1, 0])
    # class error 2/4; smape terms 0, 0 (0/0), 4/4, 4/4 -> 0.5
    assert s["class_error"] == 0.5 and s["level_error"] == 0.5
    assert s["score"] == round(0.6 * 0.5 + 0.4 * 0.5, 4) and s["n"] == 4


def test_challenge_score_all_zero_levels():
    s = challenge_score([0, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0])
    assert s["score"] == 0.0 and s["level_error"] == 0.0


def test_challenge_score_rounds_to_4_decimals():
    s = challenge_score([1, 1, 1], [1, 1, 0], [1, 1, 1], [1, 1, 2])
    assert s["score"] == round(0.6 / 3 + 0.4 * (1 / 3) / 3, 4)
    with pytest.raises(ValueError):
        challenge_score([1], [1, 0], [1], [1])


def test_region_map_metrics():
    from fmriemo.evaluate import hypergeom_overlap, map_stability, precision_at_k, ranking_auroc
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


def test_random_predictor_matches_the_expected_chance_accuracy():
    from fmriemo.experiments import constant_predictor, random_predictor
    rng = np.random.default_rng(0)
    y_train = rng.choice([-1, 0, 1], 600, p=[0.5, 0.3, 0.2])
    y_test = rng.choice([-1, 0, 1], 300, p=[0.5, 0.3, 0.2])
    g = random_predictor(y_test, y_train, "class", n_draws=400, seed=1)
    # expected accuracy of guessing with frequencies q on labels with frequencies p is sum(p * q)
    freq = lambda y: np.array([np.mean(y == k) for k in (-1, 0, 1)])
    assert g["accuracy_mean"] == pytest.approx(float(freq(y_test) @ freq(y_train)), abs=0.01)
    assert g["accuracy_mean"] < g["accuracy_p95"] and g["f1_mean"] < g["f1_p95"]
    assert constant_predictor(y_test, -1, "class")["f1"] < g["f1_mean"]
    assert random_predictor(y_test, y_train, "class", n_draws=50, seed=1) == \
        random_predictor(y_test, y_train, "class", n_draws=50, seed=1)
