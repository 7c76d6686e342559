"""What ``fmriemo submit`` does, as package functions: train on the training participants (or load
from the store), predict every Test trial, and build the submission table, with one model, a seed
ensemble or the held-out protocol's fold ensemble (or the best of the three on held-out training
participants), or with chapter 9's linear read-out search."""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ..data.dataset import Dataset
from ..evaluation.ensembles import choose_ensemble, ensemble_accuracies, ensemble_comparison
from ..evaluation.heldout import fold_model_runs
from ..evaluation.search import choose_and_fit
from ..profiles import Settings
from .phases import train_phase1
from .ratings import ensemble_submission
from .submission import SUBMIT_ENSEMBLES

__all__ = ["AUTO_SEEDS", "Submission", "submit", "auto_seeds", "submit_search"]

#: seeds of the seed ensemble that ``auto`` compares when the settings have only one
AUTO_SEEDS = 3


@dataclass
class Submission:
    """A submission table and how it was made.

    Parameters
    ----------
    table : pandas.DataFrame
        Participant, Trial, CLASS, LEVEL.
    what : str
        How it was made, in words.
    kept : list, default=[]
        The models behind it: task, name and run of each (for their kept epochs).
    comparison : pandas.Series or None, default=None
        When the ensemble was chosen on held-out participants, the accuracies it was chosen by.
    chosen : str or None, default=None
        The ensemble chosen.
    """

    table: pd.DataFrame
    what: str
    kept: list = field(default_factory=list)
    comparison: pd.Series | None = None
    chosen: str | None = None


def submit(ds: Dataset, method: str, settings: Settings, *, ensemble: str = "seeds", ratings: str = "class-aware",
           split: str = "auto") -> Submission:
    """The submission of a method.

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set.
    method : str
        A registered model.
    settings : fmriemo.profiles.Settings
        Profile, budget, seeds, protocol, cache and device.
    ensemble : {"seeds", "folds", "auto"}, default="seeds"
        ``"seeds"`` averages the class probabilities of one Phase I model per seed of ``settings``
        (:func:`fmriemo.challenge.phases.train_phase1` with ``split``); ``"folds"`` averages the fold
        models of the held-out protocol of ``settings`` (chapter 7's, each trained on one fold's training
        participants); ``"auto"`` first scores one model, a seed ensemble and a fold ensemble on held-out
        training participants and submits the best.
    ratings : {"class-aware", "level-model"}, default="class-aware"
        Ratings from the class-aware rule or a 9-way level model.
    split : {"auto", "paper", "participants"}, default="auto"
        The Phase I models' split (:func:`fmriemo.challenge.phases.train_phase1`).

    Returns
    -------
    submission : Submission
    """
    if ensemble not in SUBMIT_ENSEMBLES:
        raise ValueError(f"ensemble must be one of {', '.join(SUBMIT_ENSEMBLES)}, got {ensemble!r}")
    comparison = chosen = None
    if ensemble == "auto":  # chosen on held-out training participants, never on the test set
        comparison, chosen = _choose_submission_ensemble(ds, method, settings)
        n = auto_seeds(settings)
        ensemble = "folds" if chosen == "folds" else "seeds"
        settings = settings.replace(seeds=settings.seeds[:1] if chosen != "seeds" else
                                    tuple(range(settings.seeds[0], settings.seeds[0] + n)))
    tasks = ("class", "level") if ratings == "level-model" else ("class",)
    runs = {task: [] for task in tasks}
    if ensemble == "folds":
        for task in tasks:
            runs[task] = [(f"seed {seed} fold {f}", r) for seed, f, r in fold_model_runs(ds, method, task, settings)]
        what = f"{len(runs['class'])} fold models ({settings.protocol}, k = {settings.k})"
    else:  # each seed also draws its own validation participants
        for s in settings.seeds:
            for task, run in train_phase1(ds, method, settings.replace(seeds=(s,)), tasks, split).items():
                runs[task].append((f"seed {s}", run))
        what = f"{len(settings.seeds)} seed(s)"
    table = ensemble_submission(ds, [r for _, r in runs["class"]], [r for _, r in runs.get("level", [])] or None,
                                ratings)
    kept = [(task, name, r) for task, named in runs.items() for name, r in named]
    return Submission(table, f"{method}, {what}, ratings {ratings}", kept, comparison, chosen)


def auto_seeds(settings: Settings) -> int:
    """The size of the seed ensemble that ``ensemble="auto"`` compares.

    Parameters
    ----------
    settings : fmriemo.profiles.Settings
        Its seeds.

    Returns
    -------
    n : int
        The number of seeds of ``settings``, or :data:`AUTO_SEEDS` when there is only one.
    """
    return len(settings.seeds) if len(settings.seeds) > 1 else AUTO_SEEDS


def _choose_submission_ensemble(ds: Dataset, method: str, settings: Settings) -> tuple[pd.Series, str]:
    """Score one model, a seed ensemble (:func:`auto_seeds` seeds) and a fold ensemble of ``method`` on
    held-out training participants (chapter 9's comparison, the outer folds of ``settings``) and return
    their accuracies and the best (one of :data:`fmriemo.evaluation.ensembles.ENSEMBLES`; ties go to the
    simpler)."""
    pred = ensemble_comparison(ds, method, "class", settings.replace(seeds=settings.seeds[:1]),
                               n_seeds=auto_seeds(settings))
    return ensemble_accuracies(pred), choose_ensemble(pred)


def submit_search(ds: Dataset) -> tuple[Submission, dict, pd.Series]:
    """Chapter 9's search run once over all training participants, as a submission.

    The linear read-out with the best cross-validated accuracy predicts every test trial, with
    class-aware ratings (:func:`fmriemo.evaluation.search.choose_and_fit`).

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set.

    Returns
    -------
    submission : Submission
    chosen : dict
        The chosen candidate.
    scores : pandas.Series
        Every candidate's cross-validated accuracy.
    """
    chosen, scores, run = choose_and_fit(ds)
    table = ensemble_submission(ds, [run], None, "class-aware")
    what = (f"search: {chosen['name']}, cross-validated accuracy {scores[chosen['name']]:.3f} over {len(scores)} "
            "linear read-outs, ratings class-aware")
    return Submission(table, what), chosen, scores
