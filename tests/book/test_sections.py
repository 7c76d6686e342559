"""Sections several chapters show, and the numbers chapter 9 reports of its search."""
import numpy as np
import pandas as pd
import pytest

from fmriemo.book import results, sections
from fmriemo.profiles import PROFILES, Settings


def test_glue_budget_records_the_profiles_budget_and_seeds(tmp_path):
    results.start("03_class_task", tmp_path / "results", {"profile": "full"})
    try:
        seeds = sections.glue_budget(Settings.resolve("full", seed=4, paper_task="class"), "class")
    finally:
        results.stop()
    r = results.load(tmp_path / "results", "03_class_task")
    budget = PROFILES["full"]["budget"]["class"]
    assert (r["max_epochs"], r["min_epochs"], r["patience"]) == (budget["epochs"], budget["min_epochs"],
                                                                 budget["patience"])
    n = PROFILES["full"]["seeds"]["class"]
    assert seeds == list(range(4, 4 + n)) and r["n_seeds"] == n
    assert r["arming_text"] == (f"after {budget['min_epochs']:,} epochs, or {budget['after_exit']} epochs after the "
                                "run's own plateau exit once its best checkpoint is past that exit, whichever comes "
                                "first")



def test_search_findings_read_the_search_and_the_trials():
    trials = pd.DataFrame({"participant": np.repeat(["P01", "P02", "P03"], 4), "class": np.tile([1, 1, 0, -1], 3),
                           "search_class": np.tile([1, 1, 0, 0], 3), "compact_class": np.tile([1, 0, 0, 0], 3),
                           "logreg_class": np.tile([0, 0, 0, 0], 3)})
    grid = pd.DataFrame({"read-out": ["linear", "linear", "extra"], "regions": ["all", "top 64", ""],
                         "inner accuracy": [0.5, 0.55, 0.6], "held-out accuracy": [0.45, 0.5, 0.48]},
                        index=["a", "a top 64", "conv"])
    nested = pd.DataFrame({"fold": [0, 0, 1], "chosen": ["conv", "conv", "a"]})
    scores = pd.DataFrame({"score": [0.4], "score_lo": [0.3], "score_hi": [0.5]},
                          index=["nested search + class-aware rating"])
    f = sections.search_findings(trials, grid, nested, scores, "conv", n_resamples=50)
    assert f["search_acc"] == 0.75 and f["search_compact_acc"] == 0.5 and f["search_logreg_acc"] == 0.25
    assert f["search_acc_lo"] <= 0.75 <= f["search_acc_hi"] and f["search_score"] == 0.4
    assert f["search_chosen"] == "fold 1: conv; fold 2: a" and f["conv_inner"] == 0.6
    assert f["best_linear_inner_name"] == "a top 64" and f["selected_gain"] == pytest.approx(0.05)
    assert f["search_best_after"] == "a top 64" and 0 <= f["search_vs_compact_p"] <= 1


def test_curve_findings_compare_the_two_searches_on_the_same_trials():
    rng = np.random.default_rng(0)
    n = 120
    trials = pd.DataFrame({"participant": np.repeat([f"P{i:02d}" for i in range(1, 7)], 20),
                           "class": rng.integers(-1, 2, n)})
    trials["search_class"] = np.where(rng.random(n) < 0.5, trials["class"], 0)
    trials["curve_class"] = np.where(rng.random(n) < 0.7, trials["class"], 0)
    scores = pd.DataFrame({"score": [0.30, 0.35], "score_lo": [0.25, 0.3], "score_hi": [0.35, 0.4]},
                          index=["nested search with curve windows + class-aware rating",
                                 "nested search + class-aware rating"])
    nested = pd.DataFrame({"fold": [0, 0, 1], "chosen": ["pct curve C=0.05", "pct curve C=0.05", "pct 8-21 C=0.05"],
                           "seconds": ["16-25", "16-25", "8-21"]})
    f = sections.curve_findings(trials, nested, scores, n_resamples=200)
    acc = float(np.mean(trials.curve_class == trials["class"]))
    assert f["curve_acc"] == pytest.approx(acc)
    assert f["curve_gain"] == pytest.approx(acc - float(np.mean(trials.search_class == trials["class"])))
    assert f["curve_acc_lo"] <= f["curve_acc"] <= f["curve_acc_hi"] and 0 <= f["curve_p"] <= 1
    assert f["curve_score_change"] == pytest.approx(-0.05)
    assert f["curve_n_chosen"] == 1 and f["curve_n_folds"] == 2
    assert f["curve_chosen"] == "fold 1: pct curve C=0.05 (seconds 16-25); fold 2: pct 8-21 C=0.05 (seconds 8-21)"
