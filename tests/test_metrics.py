"""Metrics of predicted labels and the challenge's official score, on cases worked by hand."""
import numpy as np
import pytest

from fmriemo.metrics import challenge_score, classification_metrics, confusion, macro_f1, smape


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
