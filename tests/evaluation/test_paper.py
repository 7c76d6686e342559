"""The paper's protocol: several seeds on its split, the floors of a macro metric, and what a shorter
budget would have kept, read off the recorded curves."""
import numpy as np
import pandas as pd
import pytest

from fmriemo.evaluation import paper
from fmriemo.training.runs import RunResult


@pytest.mark.conclusions
def test_budget_table_reads_the_checkpoint_each_budget_keeps():
    h = {"val_acc": [0.3, 0.5, 0.4, 0.6, 0.6], "test_acc": [0.1, 0.2, 0.3, 0.4, 0.5],
         "test_f1": [0.11, 0.22, 0.33, 0.44, 0.55]}
    r = RunResult(key="k", config={"monitor": "val_acc"}, split={}, history=h, best_epoch=4, epochs_run=5,
                  seconds=0, test_index=np.arange(2), y_true=np.zeros(2), y_pred=np.zeros(2), proba=np.zeros((2, 3)))
    tab = paper.budget_table({("asb", 0): r}, budgets=(1, 3, 5, 50))
    assert tab["budget"].tolist() == [1, 3, 5]  # a budget longer than the run is left out
    assert tab["kept_epoch"].tolist() == [1, 2, 4] and tab["test_f1"].tolist() == [0.11, 0.22, 0.44]
    table = pd.DataFrame({"method": ["asb"], "seed": [0], "f1": [0.44]})
    f1 = paper.f1_by_budget({("asb", 0): r}, table, "class", budgets=(1, 3))
    assert f1.loc["asb", 3] == 0.22 and f1.loc["asb", "this chapter's rule"] == 0.44
    assert f1.loc["asb", "paper"] == 0.73


def test_random_predictor_matches_the_expected_chance_accuracy():
    rng = np.random.default_rng(0)
    y_train = rng.choice([-1, 0, 1], 600, p=[0.5, 0.3, 0.2])
    y_test = rng.choice([-1, 0, 1], 300, p=[0.5, 0.3, 0.2])
    g = paper.random_predictor(y_test, y_train, "class", n_draws=400, seed=1)
    # expected accuracy of guessing with frequencies q on labels with frequencies p is sum(p * q)
    freq = lambda y: np.array([np.mean(y == k) for k in (-1, 0, 1)])
    assert g["accuracy_mean"] == pytest.approx(float(freq(y_test) @ freq(y_train)), abs=0.01)
    assert g["accuracy_mean"] < g["accuracy_p95"] and g["f1_mean"] < g["f1_p95"]
    assert paper.constant_predictor(y_test, -1, "class")["f1"] < g["f1_mean"]
    assert paper.random_predictor(y_test, y_train, "class", n_draws=50, seed=1) == \
        paper.random_predictor(y_test, y_train, "class", n_draws=50, seed=1)



def test_the_protocol_trains_every_method_and_seed_on_the_papers_split(dataset, tmp_path, quick):
    runs, table = paper.run_paper_protocol(dataset, "class", ["ebr"], quick(tmp_path, n_seeds=2))
    assert sorted(runs) == [("ebr", 0), ("ebr", 1)] and len(table) == 2
    assert (table["n"] == 48).all() and set(table.columns) >= {"f1", "best_epoch", "epochs_run", "on_plateau"}
    summary = paper.seed_summary(table)
    assert summary.loc["ebr", ("f1", "mean")] == pytest.approx(table.f1.mean())
    vs = paper.versus_paper(table, "class", 1)
    assert vs.loc["ebr", ("paper", "f1")] == 0.47 and vs.loc["ebr", ("this book", "f1")] == table.f1.iloc[1]
    ci = paper.interval_table(runs, "class", 0, n_resamples=100)
    assert ci.loc["ebr", "accuracy_lo"] <= ci.loc["ebr", "accuracy"] <= ci.loc["ebr", "accuracy_hi"]
    assert paper.rank_counts(table.assign(method=["a", "b"]), "f1").sum() == 2


def _run(val_acc, test_f1, y_true, y_pred, best_epoch):
    return RunResult(key="k", config={"monitor": "val_acc"}, split={},
                     history={"val_acc": val_acc, "test_acc": [np.nan] * len(val_acc), "test_f1": test_f1},
                     best_epoch=best_epoch, epochs_run=len(val_acc), seconds=0, test_index=np.arange(len(y_true)),
                     y_true=np.asarray(y_true), y_pred=np.asarray(y_pred), proba=np.zeros((len(y_true), 3)))


@pytest.mark.conclusions
def test_chance_of_reaching_is_a_predictive_t_left_blank_below_three_seeds():
    assert paper.chance_of_reaching([0.5, 0.6, 0.7], 0.6) == pytest.approx(0.5)
    # two SD above the mean of three seeds: a normal gave 0.023; the predictive t (2 df, SD x sqrt(4/3)) 0.11
    assert paper.chance_of_reaching([0.5, 0.6, 0.7], 0.8) == pytest.approx(0.1127, abs=1e-3)
    assert paper.chance_of_reaching([0.5, 0.6, 0.7], 0.4) == pytest.approx(1 - 0.1127, abs=1e-3)
    assert np.isnan(paper.chance_of_reaching([0.55, 0.65], 0.73))  # two seeds: blank
    assert np.isnan(paper.chance_of_reaching([0.6, 0.6, 0.6], 0.5))
    assert paper.chance_of_reaching([0.5, np.nan, 0.6, 0.7], 0.6) == pytest.approx(0.5)


@pytest.mark.conclusions
def test_luck_table_counts_seeds_at_each_budget_and_the_rule():
    """Three seeds of ASB: at budget 2 their F1 is 0.5, 0.6, 0.8; with their own rule 0.6, 0.7, 0.8
    (paper's class F1 for ASB: 0.73)."""
    runs = {("asb", s): _run([0.3, 0.5, 0.4], [0.1, f, 0.2], [0, 1], [0, 1], 2) for s, f in enumerate((0.5, 0.6, 0.8))}
    table = pd.DataFrame({"method": ["asb"] * 3, "seed": [0, 1, 2], "f1": [0.6, 0.7, 0.8]})
    luck = paper.luck_table(runs, table, "class", budgets=(2, 50)).set_index("budget")
    assert list(luck.index) == [2, "kept"]  # budget 50 was not reached
    assert luck.loc[2, "seeds"] == 3 and luck.loc[2, "mean F1"] == pytest.approx(0.6333, abs=1e-4)
    assert luck.loc[2, "seeds reaching it"] == 1 and luck.loc["kept", "seeds reaching it"] == 1
    assert (luck.loc[2, "min"], luck.loc[2, "max"]) == (0.5, 0.8)
    assert luck.loc["kept", "paper's F1"] == 0.73
    assert luck.loc["kept", "chance one run reaches it"] == pytest.approx(
        paper.chance_of_reaching([0.6, 0.7, 0.8], 0.73)) and luck.loc["kept", "note"] == ""
    two = {k: v for k, v in runs.items() if k[1] < 2}
    luck2 = paper.luck_table(two, table[table.seed < 2], "class", budgets=(2,)).set_index("budget")
    assert np.isnan(luck2.loc["kept", "chance one run reaches it"]) and "needs 3 seeds" in luck2.loc["kept", "note"]


@pytest.mark.conclusions
def test_selection_optimism_is_measured_on_the_same_validation_trials():
    # kept epoch 3 of 5 at 0.9; its neighbours (one each side) 0.5 and 0.6: optimism 0.35 on the same trials
    r = _run([0.3, 0.5, 0.9, 0.6, 0.4], [0.1] * 5, [0, 1, 2, 2], [0, 1, 1, 1], best_epoch=3)
    opt = paper.selection_optimism({("vanilla", 3): r}, neighbours=1).iloc[0]
    assert opt["validation accuracy"] == 0.9 and opt["neighbouring epochs"] == pytest.approx(0.55)
    assert opt["optimism"] == pytest.approx(0.35) and opt["kept epoch"] == 3 and opt["seed"] == 3
    assert opt["test accuracy"] == 0.5 and opt["validation - test"] == pytest.approx(0.4)
    # at the edge of the run only the epochs that exist count
    first = paper.selection_optimism({("a", 0): _run([0.9, 0.5, 0.7], [0.1] * 3, [0], [0], 1)}, neighbours=2).iloc[0]
    assert first["neighbouring epochs"] == pytest.approx(0.6)


@pytest.mark.conclusions
def test_paper_split_comparisons_resample_seeds_and_participants(dataset):
    test = np.arange(12)
    y = dataset.y_class[test].astype(int)
    runs = {}
    for s in range(3):
        runs[("asb", s)] = _run([0.5], [0.5], y, y, 1)
        runs[("asb", s)].test_index = test
        runs[("ebr", s)] = _run([0.5], [0.5], y, np.roll(y, s + 1), 1)
        runs[("ebr", s)].test_index = test
    c = paper.comparisons(dataset, runs, "class", [("asb", "ebr"), ("asb", "vanilla")])
    assert len(c) == 1 and c[0].a == "asb" and c[0].b == "ebr" and c[0].seeds_a == c[0].seeds_b == 3
    assert c[0].clusters == len(set(dataset.participant[test])) and len(c[0].seed_differences) == 9
    assert c[0].estimate > 0 and c[0].lo <= c[0].estimate <= c[0].hi
    rnd = paper.versus_random(dataset, runs, "class", "asb", y_train=[-1, 0, 1] * 10, n_draws=50, n_resamples=200)
    assert rnd.b == "random guessing" and rnd.seeds_b == 0 and rnd.lo > 0 and rnd.agreeing == 3
