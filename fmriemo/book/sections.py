"""Sections that more than one chapter shows, or whose numbers decide a chapter's conclusion: the
paper's protocol over seeds with its learning curves and budget table (chapters 3 and 4), and what
chapter 9's nested search found."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..data.dataset import Dataset
from ..data.splits import PAPER_SPLIT_SEED
from ..evaluation.paper import f1_by_budget, run_paper_protocol
from ..evaluation.statistics import bootstrap, participant_sign_flip
from ..profiles import Settings
from ..training.config import config_for
from ..models.registry import paper_methods
from . import plots
from .chapter import glue, glue_table, table

__all__ = ["glue_budget", "paper_protocol", "budget_section", "search_findings", "curve_findings"]


def glue_budget(settings: Settings, task: str, method: str = "asb") -> list:
    """Chapters 3 and 4: glue the epoch budget and the number of seeds for the prose.

    Glues ``max_epochs``, ``min_epochs``, ``patience``, ``arming_text`` (when early stopping is armed)
    and ``n_seeds``.

    Parameters
    ----------
    settings : fmriemo.profiles.Settings
        The chapter's settings.
    task : {"class", "level"}
        The task.
    method : str, default="asb"
        The model whose budget is stated.

    Returns
    -------
    seeds : list of int
        The seeds of ``settings``.
    """
    cfg = config_for(settings.profile, settings.epochs, method=method, task=task)
    glue("max_epochs", cfg.epochs)
    glue("min_epochs", cfg.min_epochs)
    glue("patience", cfg.patience if cfg.patience is not None else "never (no early stopping)")
    glue("arming_text", f"after {cfg.min_epochs:,} epochs, or {cfg.after_exit} epochs after the run's own plateau "
                        "exit once its best checkpoint is past that exit, whichever comes first"
         if cfg.after_exit is not None else f"after {cfg.min_epochs:,} epochs")
    glue("n_seeds", len(settings.seeds))
    return list(settings.seeds)


def paper_protocol(ds: Dataset, task: str, methods, settings, split_seed: int | None = None):
    """Chapters 3 and 4: every method with every seed on the paper's split, and how many runs trained.

    Trains with :func:`fmriemo.evaluation.paper.run_paper_protocol`, glues how many runs kept a
    checkpoint on their plateau (``n_on_plateau`` of ``n_runs``) and how many the epoch cap ended while
    still improving (``n_still_improving``, and per paper method ``<m>_still_improving`` of
    ``<m>_n_runs``), and records the run table as ``runs`` (the verdict's gates count it).

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set.
    task : {"class", "level"}
        The task.
    methods : list of str
        Registered models.
    settings : fmriemo.profiles.Settings
        Seeds, budget, cache and device.
    split_seed : int or None, default=None
        Seed of the paper's split; None: :data:`fmriemo.data.splits.PAPER_SPLIT_SEED`.

    Returns
    -------
    runs : dict of (str, int) to fmriemo.training.runs.RunResult
    table : pandas.DataFrame
        One row per run.
    """
    runs, run_table = run_paper_protocol(ds, task, methods, settings,
                                         PAPER_SPLIT_SEED if split_seed is None else split_seed)
    glue("n_on_plateau", int(run_table["on_plateau"].sum()))
    glue("n_runs", len(run_table))
    glue("n_still_improving", int(run_table["still_improving"].sum()))
    per_method = run_table.groupby("method").agg(improving=("still_improving", "sum"), runs=("seed", "size"))
    glue_table(per_method.astype(int), {"improving": "{row}_still_improving", "runs": "{row}_n_runs"},
               rows=paper_methods())
    return runs, table("runs", run_table)


def budget_section(runs: dict, run_table, task: str):
    """Chapters 3 and 4: the learning curves with kept epochs, and the test F1 by epoch budget.

    Parameters
    ----------
    runs : dict of (str, int) to fmriemo.training.runs.RunResult
        The chapter's runs.
    run_table : pandas.DataFrame
        One row per run.
    task : {"class", "level"}
        The task.

    Returns
    -------
    table : pandas.DataFrame
        Test macro F1 (mean over seeds) by budget, recorded as ``f1_by_budget``.
    styled : pandas.io.formats.style.Styler
        The same, styled for display.
    """
    plots.budget_curves(runs)
    plt.show()
    by_budget = table("f1_by_budget", f1_by_budget(runs, run_table, task))
    return by_budget, by_budget.style.format("{:.2f}", na_rep="-").set_caption(
        "test macro F1 (mean over seeds) by epoch budget")


def search_findings(trials: pd.DataFrame, grid: pd.DataFrame, nested: pd.DataFrame, scores: pd.DataFrame,
                    conv: str, n_resamples: int = 1000) -> dict:
    """What chapter 9 reports of its nested search, by name.

    Its held-out accuracy with a participant-bootstrap interval, its challenge score with the class-aware
    rating, the accuracy of Compact and of the linear baseline on the same trials and the paired sign-flip
    p against Compact, the read-out each fold chose, the inner accuracy of the convolutional candidate
    against the best linear read-out, the gain of region selection, and the optimistic after-the-fact
    pick.

    Parameters
    ----------
    trials : pandas.DataFrame
        Held-out trials with the column ``search_class`` (and ``class``, the truth).
    grid : pandas.DataFrame
        The search's candidates table.
    nested : pandas.DataFrame
        Its nested predictions.
    scores : pandas.DataFrame
        Challenge scores by predictor (row "nested search + class-aware rating").
    conv : str
        The convolutional candidate's name.
    n_resamples : int, default=1000
        Bootstrap resamples.

    Returns
    -------
    findings : dict
        Name -> number or text, for the prose.
    """
    hit = {c: float(np.mean(trials[f"{c}_class"] == trials["class"])) if f"{c}_class" in trials else np.nan
           for c in ("search", "compact", "logreg")}
    lo, hi = bootstrap(lambda d: float(np.mean(d["search_class"] == d["class"])), trials,
                       groups=trials["participant"].to_numpy(), n_resamples=n_resamples)
    row = scores.loc["nested search + class-aware rating"]
    linear = grid[grid["read-out"] == "linear"]
    best_after = grid["held-out accuracy"].idxmax()
    flip = (participant_sign_flip(trials["class"], trials["search_class"], trials["compact_class"],
                                  trials["participant"])["p"] if "compact_class" in trials else np.nan)
    chosen = nested.drop_duplicates("fold")["chosen"].tolist()
    return {"search_acc": hit["search"], "search_acc_lo": lo, "search_acc_hi": hi,
            "search_score": float(row["score"]), "search_score_lo": float(row["score_lo"]),
            "search_score_hi": float(row["score_hi"]), "search_compact_acc": hit["compact"],
            "search_logreg_acc": hit["logreg"],
            "search_chosen": "; ".join(f"fold {f + 1}: {c}" for f, c in enumerate(chosen)),
            "conv_inner": float(grid.loc[conv, "inner accuracy"]),
            "best_linear_inner": float(linear["inner accuracy"].max()),
            "best_linear_inner_name": linear["inner accuracy"].idxmax(),
            "selected_gain": float(linear.loc[linear.regions != "all", "inner accuracy"].max()
                                   - linear.loc[linear.regions == "all", "inner accuracy"].max()),
            "search_best_after": best_after,
            "search_best_after_acc": float(grid.loc[best_after, "held-out accuracy"]),
            "search_vs_compact_p": float(flip)}


def curve_findings(trials: pd.DataFrame, nested: pd.DataFrame, scores: pd.DataFrame, n_resamples: int = 1000,
                   ) -> dict:
    """What chapter 9 reports of the nested search that may also read a window off a time-resolved curve
    inside each fold, against the search without.

    Parameters
    ----------
    trials : pandas.DataFrame
        Held-out trials with the columns ``curve_class`` and ``search_class``.
    nested : pandas.DataFrame
        The curve search's nested predictions (what each fold chose, with its seconds).
    scores : pandas.DataFrame
        Challenge scores by predictor (rows "nested search with curve windows + class-aware rating" and
        "nested search + class-aware rating").
    n_resamples : int, default=1000
        Bootstrap resamples.

    Returns
    -------
    findings : dict
        Name -> number or text: a participant-bootstrap interval, the score's interval and the paired
        sign-flip p over participants.
    """
    acc = float(np.mean(trials["curve_class"] == trials["class"]))
    lo, hi = bootstrap(lambda d: float(np.mean(d["curve_class"] == d["class"])), trials,
                       groups=trials["participant"].to_numpy(), n_resamples=n_resamples)
    flip = participant_sign_flip(trials["class"], trials["curve_class"], trials["search_class"],
                                 trials["participant"])
    row = scores.loc["nested search with curve windows + class-aware rating"]
    base = scores.loc["nested search + class-aware rating"]
    folds = nested.drop_duplicates("fold")
    chosen = "; ".join(f"fold {int(r['fold']) + 1}: {r['chosen']} (seconds {r['seconds']})"
                       for _, r in folds.iterrows())
    n_curve = int(sum("curve" in c for c in folds["chosen"]))
    return {"curve_acc": acc, "curve_acc_lo": lo, "curve_acc_hi": hi,
            "curve_gain": acc - float(np.mean(trials["search_class"] == trials["class"])),
            "curve_p": float(flip["p"]), "curve_score": float(row["score"]), "curve_score_lo": float(row["score_lo"]),
            "curve_score_hi": float(row["score_hi"]), "curve_score_change": float(row["score"] - base["score"]),
            "curve_chosen": chosen, "curve_n_chosen": n_curve, "curve_n_folds": len(folds)}
