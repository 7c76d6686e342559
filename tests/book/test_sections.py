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
