"""The paper's protocol (its 8:1:1 split of pooled trials) over several seeds, tidy tables of the
runs' metrics, the paper's own numbers beside them, the floors a macro metric must clear, and what
a shorter epoch budget would have kept, read off the recorded curves."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..data.dataset import Dataset
from ..data.splits import PAPER_SPLIT_SEED, make_paper_split
from ..metrics import classification_metrics, macro_f1, macro_f1_rows
from ..profiles import Settings
from ..training.config import config_for
from ..training.loop import EarlyStopping
from ..training.runs import RunResult, train_runs
from .statistics import Comparison, bootstrap, compare_trials, predictive_chance, wilson_interval

__all__ = [
    "PAPER_TABLES", "PAPER_CHALLENGE_SCORES", "run_paper_protocol", "seed_summary", "versus_paper",
    "interval_table", "rank_counts", "constant_predictor", "random_predictor", "kept_at_budget",
    "budget_table", "f1_by_budget", "MIN_SEEDS_FOR_CHANCE", "chance_of_reaching", "f1_by_seed", "luck_table",
    "NEIGHBOURS", "selection_optimism", "comparisons", "RANDOM_DRAWS", "versus_random",
]

#: The seed paper's inner-test results (Tables 1-3 of the poster).
PAPER_TABLES = {
    "class": pd.DataFrame({"precision": [0.73, 0.59, 0.49], "sensitivity": [0.73, 0.54, 0.48],
                           "f1": [0.73, 0.52, 0.47]}, index=["asb", "vanilla", "ebr"]),
    "level": pd.DataFrame({"precision": [0.23, 0.19, 0.04], "sensitivity": [0.32, 0.25, 0.07],
                           "f1": [0.26, 0.21, 0.05]}, index=["asb", "vanilla", "ebr"]),
}
PAPER_CHALLENGE_SCORES = {"phase1": 0.5132, "phase2": 0.4213}


_METRICS = ("precision", "sensitivity", "f1", "accuracy")


def run_paper_protocol(ds: Dataset, task: str, methods, settings: Settings | None = None,
                       split_seed: int = PAPER_SPLIT_SEED):
    """Train every method with every seed on the paper's split.

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set.
    task : {"class", "level"}
        Valence class or 9-level rating.
    methods : list of str
        Registered models.
    settings : fmriemo.profiles.Settings or None, default=None
        Seeds, epoch budget, cache and device. None: the full profile's.
    split_seed : int, default=PAPER_SPLIT_SEED
        Seed of the paper's 8:1:1 split (:func:`fmriemo.data.splits.make_paper_split`).

    Returns
    -------
    runs : dict of (str, int) to fmriemo.training.runs.RunResult
        Keyed by (method, seed).
    table : pandas.DataFrame
        One row per run: its test metrics, kept epoch, epochs run, plateau exit, the ``on_plateau`` and
        ``still_improving`` flags, training seconds and whether it came from the cache.
    """
    st = settings or Settings.resolve()
    split = make_paper_split(ds, task, split_seed)
    runs: dict[tuple[str, int], RunResult] = {}
    rows = []
    keys = [(method, s) for method in methods for s in st.seeds]
    jobs = [(split, config_for(st.profile, st.epochs, method=method, task=task, seed=s, device=st.device))
            for method, s in keys]
    # every method's seeds train together: one batched network per method, all in one pool on the CPU
    trained = dict(zip(keys, train_runs(ds, jobs, st.cache_dir, st.progress, n_jobs=st.jobs)))
    for method in methods:
        for s in st.seeds:
            runs[(method, s)] = r = trained[(method, s)]
            m = classification_metrics(r.y_true, r.y_pred, task)
            rows.append({"method": method, "seed": s, "split": r.split["name"], **{k: m[k] for k in _METRICS},
                         "n": m["n"],
                         "best_epoch": r.best_epoch, "epochs_run": r.epochs_run,
                         "plateau_exit": r.plateau_exit, "on_plateau": r.on_plateau,
                         "still_improving": r.still_improving,
                         "train_seconds": r.seconds, "cached": r.cached})
    return runs, pd.DataFrame(rows)


def seed_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Mean, SD, lowest and highest value of each metric over seeds.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per run (:func:`run_paper_protocol`'s table).

    Returns
    -------
    summary : pandas.DataFrame
        One row per method; columns (metric, statistic).
    """
    g = table.groupby("method", sort=False)[list(_METRICS)]
    out = pd.concat({"mean": g.mean(), "sd": g.std(ddof=1), "min": g.min(), "max": g.max()}, axis=1)
    return out.swaplevel(axis=1).sort_index(axis=1, level=0, sort_remaining=False)


def versus_paper(table: pd.DataFrame, task: str, seed: int) -> pd.DataFrame:
    """This book's precision, sensitivity and F1 for one seed beside the paper's table.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per run (:func:`run_paper_protocol`'s table).
    task : {"class", "level"}
        Valence class or 9-level rating.
    seed : int
        The seed whose runs are shown.

    Returns
    -------
    table : pandas.DataFrame
        One row per method; columns ("paper" | "this book", metric).
    """
    ours = table[table.seed == seed].set_index("method")[["precision", "sensitivity", "f1"]]
    paper = PAPER_TABLES[task].reindex(ours.index)
    return pd.concat({"paper": paper, "this book": ours}, axis=1)


def interval_table(runs: dict, task: str, seed: int, n_resamples: int = 2000) -> pd.DataFrame:
    """For one seed: accuracy with its Wilson 95% interval and macro F1 with a bootstrap interval over
    the test trials.

    Parameters
    ----------
    runs : dict of (str, int) to fmriemo.training.runs.RunResult
        The runs of :func:`run_paper_protocol`, keyed by (method, seed).
    task : {"class", "level"}
        Valence class or 9-level rating.
    seed : int
        The seed whose runs are shown.
    n_resamples : int, default=2000
        Bootstrap resamples.

    Returns
    -------
    table : pandas.DataFrame
        One row per method: ``accuracy``, ``accuracy_lo``, ``accuracy_hi``, ``f1``, ``f1_lo``, ``f1_hi``, ``n``.
    """
    rows = {}
    for (method, s), r in runs.items():
        if s != seed:
            continue
        k = int(np.sum(r.y_true == r.y_pred))
        lo, hi = wilson_interval(k, len(r.y_true))
        flo, fhi = bootstrap(lambda a, b: macro_f1(a, b, task), r.y_true, r.y_pred, n_resamples=n_resamples)
        rows[method] = {"accuracy": k / len(r.y_true), "accuracy_lo": lo, "accuracy_hi": hi,
                        "f1": macro_f1(r.y_true, r.y_pred, task), "f1_lo": flo, "f1_hi": fhi,
                        "n": len(r.y_true)}
    return pd.DataFrame(rows).T


def rank_counts(table: pd.DataFrame, metric: str = "f1") -> pd.Series:
    """How many seeds each method ranks first on a metric (ties share the win).

    Parameters
    ----------
    table : pandas.DataFrame
        One row per run (:func:`run_paper_protocol`'s table).
    metric : str, default="f1"
        A metric column of ``table``.

    Returns
    -------
    wins : pandas.Series
        Indexed by method.
    """
    wins = pd.Series(0.0, index=table["method"].unique())
    for _, g in table.groupby("seed"):
        best = g[g[metric] == g[metric].max()]["method"]
        wins[best] += 1.0 / len(best)
    return wins


def constant_predictor(y_true, value: int, task: str) -> dict:
    """Metrics of always predicting one label.

    Parameters
    ----------
    y_true : array-like of int
        True labels.
    value : int
        The label always predicted.
    task : {"class", "level"}
        Valence class or 9-level rating.

    Returns
    -------
    metrics : dict
        :func:`fmriemo.metrics.classification_metrics`.
    """
    return classification_metrics(y_true, np.full(len(y_true), value), task)


def random_predictor(y_true, y_train, task: str, n_draws: int = 1000, seed: int = 0) -> dict:
    """Chance for a macro metric: every test label guessed at random with the training labels' frequencies.

    Always predicting the commonest label is a lower floor for macro F1, since it scores zero on every
    other label; random guessing is the floor a model must clear.

    Parameters
    ----------
    y_true : array-like of int
        True test labels.
    y_train : array-like of int
        Training labels (their frequencies are the guesses').
    task : {"class", "level"}
        Valence class or 9-level rating.
    n_draws : int, default=1000
        Guesses of every test label.
    seed : int, default=0
        Seed of the guesses.

    Returns
    -------
    floors : dict
        ``f1_mean``, ``f1_p95``, ``accuracy_mean``, ``accuracy_p95``: mean and 95th percentile over the draws.
    """
    rng = np.random.default_rng(seed)
    values, counts = np.unique(np.asarray(y_train), return_counts=True)
    draws = pd.DataFrame([classification_metrics(y_true, rng.choice(values, len(y_true), p=counts / counts.sum()),
                                                 task) for _ in range(n_draws)])
    return {"f1_mean": float(draws["f1"].mean()), "f1_p95": float(draws["f1"].quantile(0.95)),
            "accuracy_mean": float(draws["accuracy"].mean()),
            "accuracy_p95": float(draws["accuracy"].quantile(0.95))}


def kept_at_budget(run: RunResult, budget: int) -> int | None:
    """The epoch the run's checkpoint rule would have kept had training stopped after ``budget`` epochs.

    Parameters
    ----------
    run : fmriemo.training.runs.RunResult
        A run with its per-epoch history.
    budget : int
        Epochs.

    Returns
    -------
    epoch : int or None
        1-based; None when the run stopped before ``budget`` (that budget was not observed).
    """
    if budget > run.epochs_run:
        return None
    h = run.history
    maximise = run.config["monitor"] == "val_acc"
    return EarlyStopping.replay(h[run.config["monitor"]], maximise, epochs=budget)[1]


def budget_table(runs: dict, budgets=(50, 100, 300, 1000)) -> pd.DataFrame:
    """What a shorter training would have reported, read off the recorded curves.

    Parameters
    ----------
    runs : dict of (str, int) to fmriemo.training.runs.RunResult
        The runs of :func:`run_paper_protocol`, keyed by (method, seed).
    budgets : tuple of int, default=(50, 100, 300, 1000)
        Epoch budgets.

    Returns
    -------
    table : pandas.DataFrame
        One row per (method, seed, budget) the run reached: the kept epoch, its validation value and its
        test accuracy and macro F1 (from the run's per-epoch test record).
    """
    rows = []
    for (method, seed), r in runs.items():
        h = r.history
        if "test_f1" not in h:
            continue
        for b in budgets:
            kept = kept_at_budget(r, b)
            if kept is None:
                continue
            rows.append({"method": method, "seed": seed, "budget": int(b), "kept_epoch": kept,
                         "val": h[r.config["monitor"]][kept - 1], "test_acc": h["test_acc"][kept - 1],
                         "test_f1": h["test_f1"][kept - 1]})
    return pd.DataFrame(rows, columns=["method", "seed", "budget", "kept_epoch", "val", "test_acc", "test_f1"])


def f1_by_budget(runs: dict, table: pd.DataFrame, task: str, budgets=(50, 100, 300, 1000)) -> pd.DataFrame:
    """Mean test macro F1 over seeds of the checkpoint each budget would have kept.

    Parameters
    ----------
    runs : dict of (str, int) to fmriemo.training.runs.RunResult
        The runs of :func:`run_paper_protocol`, keyed by (method, seed).
    table : pandas.DataFrame
        One row per run (:func:`run_paper_protocol`'s table).
    task : {"class", "level"}
        Valence class or 9-level rating.
    budgets : tuple of int, default=(50, 100, 300, 1000)
        Epoch budgets.

    Returns
    -------
    table : pandas.DataFrame
        One row per method: one column per budget (:func:`budget_table`), the F1 with the runs' own rule
        and the paper's F1.
    """
    out = budget_table(runs, budgets).groupby(["method", "budget"])["test_f1"].mean().unstack("budget")
    out = out.reindex(list(dict.fromkeys(table["method"])))
    out["this chapter's rule"] = table.groupby("method")["f1"].mean()
    out["paper"] = PAPER_TABLES[task]["f1"].reindex(out.index)
    return out


#: below this many seeds the luck table leaves the chance of reaching the paper's number blank
MIN_SEEDS_FOR_CHANCE = 3


def chance_of_reaching(values, target: float) -> float:
    """The chance that one more run scores at least ``target`` if runs' scores spread like ``values``.

    The predictive t distribution of :func:`fmriemo.evaluation.statistics.predictive_chance`, which
    widens with few seeds.

    Parameters
    ----------
    values : array-like of float
        One score per seed.
    target : float
        The score to reach.

    Returns
    -------
    chance : float
        NaN below :data:`MIN_SEEDS_FOR_CHANCE` values or without spread.
    """
    return predictive_chance(values, target, MIN_SEEDS_FOR_CHANCE)


def f1_by_seed(runs: dict, table: pd.DataFrame, budgets=(50, 100, 300, 1000)) -> pd.DataFrame:
    """Every run's test macro F1 at every budget it reached and with its own rule.

    Parameters
    ----------
    runs : dict of (str, int) to fmriemo.training.runs.RunResult
        The runs of :func:`run_paper_protocol`, keyed by (method, seed).
    table : pandas.DataFrame
        One row per run (:func:`run_paper_protocol`'s table).
    budgets : tuple of int, default=(50, 100, 300, 1000)
        Epoch budgets.

    Returns
    -------
    table : pandas.DataFrame
        Columns ``method``, ``seed``, ``budget`` (an int, or ``"kept"`` for the run's own rule), ``test_f1``.
    """
    rows = budget_table(runs, budgets)[["method", "seed", "budget", "test_f1"]].astype({"budget": object})
    kept = table[["method", "seed", "f1"]].rename(columns={"f1": "test_f1"}).assign(budget="kept")
    return pd.concat([rows, kept], ignore_index=True)


def luck_table(runs: dict, table: pd.DataFrame, task: str, budgets=(50, 100, 300, 1000)) -> pd.DataFrame:
    """How much one run depends on its seed, budget by budget.

    Parameters
    ----------
    runs : dict of (str, int) to fmriemo.training.runs.RunResult
        The runs of :func:`run_paper_protocol`, keyed by (method, seed).
    table : pandas.DataFrame
        One row per run (:func:`run_paper_protocol`'s table).
    task : {"class", "level"}
        Valence class or 9-level rating.
    budgets : tuple of int, default=(50, 100, 300, 1000)
        Epoch budgets.

    Returns
    -------
    table : pandas.DataFrame
        One row per method and budget (and the runs' own rule, budget ``"kept"``): the test macro F1 of the
        kept checkpoint over seeds (number, mean, SD, min, max), the paper's F1, how many seeds reached
        it, and the chance that one more run would (:func:`chance_of_reaching`; blank below
        :data:`MIN_SEEDS_FOR_CHANCE` seeds, the reason in ``note``).
    """
    target = PAPER_TABLES[task]["f1"]
    out = []
    for (method, budget), g in f1_by_seed(runs, table, budgets).groupby(["method", "budget"], sort=False):
        f1 = g["test_f1"].to_numpy(float)
        goal = float(target.get(method, np.nan))
        few = len(f1) < MIN_SEEDS_FOR_CHANCE
        out.append({"method": method, "budget": budget, "seeds": len(f1), "mean F1": f1.mean(),
                    "SD": f1.std(ddof=1) if len(f1) > 1 else np.nan, "min": f1.min(), "max": f1.max(),
                    "paper's F1": goal, "seeds reaching it": int((f1 >= goal).sum()),
                    "chance one run reaches it": chance_of_reaching(f1, goal),
                    "note": f"blank: needs {MIN_SEEDS_FOR_CHANCE} seeds" if few else ""})
    return pd.DataFrame(out)


#: epochs on each side of the kept one whose validation accuracy is the kept checkpoint's typical level
NEIGHBOURS = 12


def selection_optimism(runs: dict, neighbours: int = NEIGHBOURS) -> pd.DataFrame:
    """The optimism of choosing the checkpoint on the validation trials, measured on those trials.

    The kept epoch's validation accuracy is compared with the mean validation accuracy of the epochs
    around it (the same model a few epochs apart, on the same trials), so the trials' difficulty cancels.
    Validation minus test accuracy is given too; it mixes in how much harder the test trials are than
    the validation trials, which one split cannot separate.

    Parameters
    ----------
    runs : dict of (str, int) to fmriemo.training.runs.RunResult
        The runs of :func:`run_paper_protocol`, keyed by (method, seed).
    neighbours : int, default=NEIGHBOURS
        Epochs on each side of the kept one.

    Returns
    -------
    table : pandas.DataFrame
        One row per run: kept epoch, validation accuracy, neighbouring epochs' mean, ``optimism``, test
        accuracy, validation - test.
    """
    rows = []
    for (method, seed), r in runs.items():
        val = np.asarray(r.history["val_acc"], float)
        k = r.best_epoch - 1
        around = np.r_[val[max(0, k - neighbours):k], val[k + 1:k + 1 + neighbours]]
        test = float(np.mean(np.asarray(r.y_true) == np.asarray(r.y_pred)))
        typical = float(around.mean()) if len(around) else np.nan
        rows.append({"method": method, "seed": seed, "kept epoch": r.best_epoch, "validation accuracy": float(val[k]),
                     "neighbouring epochs": typical, "optimism": float(val[k]) - typical, "test accuracy": test,
                     "validation - test": float(val[k]) - test})
    return pd.DataFrame(rows)


def _seed_predictions(runs: dict, method: str) -> np.ndarray:
    """``method``'s test predictions, one row per seed, in the order of the seeds."""
    return np.stack([r.y_pred for (m, _), r in sorted(runs.items(), key=lambda kv: kv[0][1]) if m == method])


def comparisons(ds: Dataset, runs: dict, task: str, pairs, n_resamples: int = 2000) -> list[Comparison]:
    """Pairs of methods on the paper's split: test macro F1 with the seeds of both as a random factor.

    :func:`fmriemo.evaluation.statistics.compare_trials` resamples the 48 test trials in whole
    participants (a participant's trials are not independent) and each method's seeds.

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set.
    runs : dict of (str, int) to fmriemo.training.runs.RunResult
        The runs of :func:`run_paper_protocol`, keyed by (method, seed).
    task : {"class", "level"}
        Valence class or 9-level rating.
    pairs : list of (str, str)
        ``(a, b)``; a pair whose methods do not both have runs is skipped.
    n_resamples : int, default=2000
        Bootstrap resamples.

    Returns
    -------
    comparisons : list of fmriemo.evaluation.statistics.Comparison
    """
    have = {m for m, _ in runs}
    first = next(iter(runs.values()))
    out = []
    for a, b in pairs:
        if a in have and b in have:
            out.append(compare_trials(first.y_true, _seed_predictions(runs, a), _seed_predictions(runs, b),
                                      lambda t, p: macro_f1_rows(t, p, task), a=a, b=b,
                                      clusters=ds.participant[first.test_index], n_resamples=n_resamples))
    return out


#: guesses of every test trial that stand for random guessing in :func:`versus_random`
RANDOM_DRAWS = 200


def versus_random(ds: Dataset, runs: dict, task: str, method: str, y_train, n_draws: int = RANDOM_DRAWS,
                  seed: int = 0, n_resamples: int = 2000) -> Comparison:
    """A method's test macro F1 on the paper's split against random guessing.

    Random guessing uses the training labels' frequencies (``n_draws`` guesses of every test label,
    resampled as a model without training seeds); the seeds of ``method`` and the test trials (in
    participants) are resampled.

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set.
    runs : dict of (str, int) to fmriemo.training.runs.RunResult
        The runs of :func:`run_paper_protocol`, keyed by (method, seed).
    task : {"class", "level"}
        Valence class or 9-level rating.
    method : str
        The method compared.
    y_train : array-like of int
        Training labels.
    n_draws : int, default=RANDOM_DRAWS
        Guesses of every test label.
    seed : int, default=0
        Seed of the guesses.
    n_resamples : int, default=2000
        Bootstrap resamples.

    Returns
    -------
    comparison : fmriemo.evaluation.statistics.Comparison
    """
    first = next(r for (m, _), r in runs.items() if m == method)
    values, counts = np.unique(np.asarray(y_train), return_counts=True)
    guesses = np.random.default_rng(seed).choice(values, (n_draws, len(first.y_true)), p=counts / counts.sum())
    return compare_trials(first.y_true, _seed_predictions(runs, method), guesses,
                          lambda t, p: macro_f1_rows(t, p, task), a=method, b="random guessing", trained_b=False,
                          clusters=ds.participant[first.test_index], n_resamples=n_resamples)
