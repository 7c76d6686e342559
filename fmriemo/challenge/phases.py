"""The challenge's two phases. Phase I: models trained on the training participants predict every trial
of the Test participants (:func:`train_phase1`). Phase II: the same models fine-tuned on the released
labels (:func:`fine_tune`), scored as the challenge scored it (test trials whose labels were not
released) and estimated from the released trials alone by cross-fitting. Also the score tables of
chapter 5 and the two reference predictions beside them."""
from __future__ import annotations

import hashlib
import json
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.errors import DataError
from ..core.files import check_writable_dir
from ..core.store import StoreWriteError, cache_root, read_entry, write_entry
from ..data import preprocess
from ..data.dataset import Dataset, decode, encode
from ..data.splits import PHASE1_SPLITS, participant_split
from ..evaluation.paper import PAPER_CHALLENGE_SCORES
from ..evaluation.statistics import Comparison, bootstrap, compare_trials
from ..metrics import challenge_score, challenge_score_rows
from ..models import registry
from ..training.config import TrainConfig, config_for, resolve_device
from ..training.loop import fit, predict
from ..training.runs import (RUN_THREADS, NotCached, RunResult, code_version, intra_op_threads, numerics,
                              on_trials, train_paper, train_run)
from .ratings import RATING_RULES, class_aware_levels, ensemble_submission, training_level_table
from .submission import REFERENCES, reference_predictions, score_tables

__all__ = [
    "phase1_split_of", "train_phase1", "fine_tune_key", "fine_tune", "phase1_table", "phase1_over_seeds",
    "score_table", "labels_of", "rows_of", "released_index", "phase2_scores", "crossfit_folds",
    "crossfit_parts", "phase2_crossfit", "table3",
]


def phase1_split_of(method: str, split: str = "auto") -> str:
    """The split :func:`train_phase1` trains a method on.

    Parameters
    ----------
    method : str
        A registered model.
    split : {"auto", "paper", "participants"}, default="auto"
        Returned as it is, except ``"auto"``: the paper's split for the paper's models, held-out
        participants for any other (Compact).

    Returns
    -------
    split : {"paper", "participants"}
    """
    if split not in PHASE1_SPLITS:
        raise ValueError(f"split must be one of {', '.join(PHASE1_SPLITS)}, got {split!r}")
    return split if split != "auto" else ("paper" if registry.spec(method).paper else "participants")


def train_phase1(ds: Dataset, method: str, settings, tasks=("class", "level"), split: str = "auto") -> dict:
    """Phase I models of a method, predicting every trial of the test participants.

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set.
    method : str
        A registered model.
    settings : fmriemo.profiles.Settings
        Profile, budget, seeds, cache and device. Its first seed is used.
    tasks : tuple of str, default=("class", "level")
        The tasks trained.
    split : {"auto", "paper", "participants"}, default="auto"
        ``"paper"``: the paper's split of the training participants' trials, the model of chapters 3 and
        4 (the authors submitted the model of their tables; chapters 3-6 then share it);
        ``"participants"``: every training participant, checkpoints chosen on
        ``settings.phase1_n_val`` others (drawn with the seed), as for new participants; ``"auto"``:
        :func:`phase1_split_of`.

    Returns
    -------
    runs : dict of str to fmriemo.training.runs.RunResult
        ``{task: run}``.
    """
    split = phase1_split_of(method, split)
    seed = settings.seeds[0]
    if split == "paper":
        test = np.flatnonzero(ds.split == "test")
        if len(test) == 0:
            raise DataError(f"{ds.source}: no Test participants to predict")
        return {task: on_trials(ds, train_paper(ds, method, task, settings, seed=seed), test, settings.device)
                for task in tasks}
    participants = participant_split(ds, settings.phase1_n_val, seed)
    return {task: train_run(ds, participants, config_for(settings.profile, settings.epochs, task=task,
                                                         method=method, seed=seed, device=settings.device),
                            settings.cache_dir, settings.progress)
            for task in tasks}


def _score_interval(class_true, class_pred, level_true, level_pred, n_resamples: int = 2000, seed: int = 0,
                   level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of the challenge score over trials
    (:func:`fmriemo.evaluation.statistics.bootstrap`)."""
    def stat(ct, cp, lt, lp):
        return challenge_score(ct, cp, lt, lp)["score"]

    return bootstrap(stat, class_true, class_pred, level_true, level_pred, n_resamples=n_resamples, seed=seed,
                     level=level)


# --------------------------------------------------------------------------- Phase II

def fine_tune_key(ds: Dataset, run: RunResult, tune_idx, predict_idx, epochs: int, lr_factor: float,
                  replay: int, device: str = "auto") -> str:
    """The cache key of a fine-tuning.

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set.
    run : fmriemo.training.runs.RunResult
        The base run.
    tune_idx : array-like of int
        Trials fine-tuned on.
    predict_idx : array-like of int
        Trials predicted.
    epochs : int
        Fine-tuning epochs.
    lr_factor : float
        Share of the paper's learning rate.
    replay : int
        Training trials mixed in per tuned trial.
    device : str, default="auto"
        Where it runs (its numerics are keyed: :func:`fmriemo.training.runs.numerics`).

    Returns
    -------
    key : str
        24 hex digits over the base run, the trials, every setting, the data, the code (the training
        code's version and this module's) and the numerics.
    """
    src = json.dumps({"base": run.key, "tune": np.asarray(tune_idx).tolist(),
                      "predict": np.asarray(predict_idx).tolist(), "epochs": epochs, "lr_factor": lr_factor,
                      "replay": replay, "labels": ds.fingerprint, "code": code_version(Path(__file__)),
                      "numerics": numerics(device)}, sort_keys=True)
    return hashlib.sha256(src.encode()).hexdigest()[:24]


def fine_tune(ds: Dataset, run: RunResult, tune_idx, predict_idx, epochs: int = 30, lr_factor: float = 0.1,
              replay: int = 2, cache_dir=None, device: str = "auto") -> dict:
    """Continue training a run's checkpoint on the released labels, for a fixed number of epochs.

    The tuned trials are mixed with ``replay`` times as many training trials so that the model does not
    forget them; the rate is ``lr_factor`` of the paper's; there is no validation set to select on.

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set.
    run : fmriemo.training.runs.RunResult
        The base run.
    tune_idx : array-like of int
        Trials fine-tuned on (the released labels).
    predict_idx : array-like of int
        Trials predicted afterwards.
    epochs : int, default=30
        Fine-tuning epochs.
    lr_factor : float, default=0.1
        Share of the paper's learning rate.
    replay : int, default=2
        Training trials mixed in per tuned trial.
    cache_dir : str, path or None, default=None
        The store's folder; None: the default.
    device : str, default="auto"
        Where it runs.

    Returns
    -------
    prediction : dict
        ``y_pred``, ``proba``, ``index`` (``predict_idx``) and ``cached``.
    """
    cfg0 = TrainConfig(**{k: v for k, v in run.config.items() if k in TrainConfig.__dataclass_fields__})
    tune_idx, predict_idx = np.asarray(tune_idx), np.asarray(predict_idx)
    key = fine_tune_key(ds, run, tune_idx, predict_idx, epochs, lr_factor, replay, device)
    entry = cache_root(cache_dir) / "finetune" / key  # a store entry like a trained model's
    def read(folder: Path) -> dict:
        d = json.loads((folder / "predictions.json").read_text())
        y_pred, proba = np.asarray(d["y_pred"]), np.asarray(d["proba"])
        if len(y_pred) != len(predict_idx) or len(proba) != len(predict_idx):
            raise ValueError("wrong number of predictions")
        return {"y_pred": y_pred, "proba": proba, "index": predict_idx, "cached": True}

    cached = read_entry(entry, read, "fine-tuning", "fine-tuning again")
    if cached is not None:
        return cached
    check_writable_dir(entry.parent, "model cache")
    task = cfg0.task
    rng = np.random.default_rng(cfg0.seed)
    pool = np.flatnonzero(ds.labelled_train)
    mix = np.concatenate([tune_idx, rng.choice(pool, min(len(pool), replay * len(tune_idx)), replace=False)])
    X = preprocess.apply(cfg0.preprocess, ds.X, ds.participant)
    y = encode(task, ds.labels(task, mix))
    model = run.load_model()
    cfg = replace(cfg0, epochs=epochs, patience=None, min_epochs=0, lr=cfg0.learning_rate * lr_factor, device=device,
                  monitor="val_loss")
    # no validation set: a fixed budget, and the last epoch is kept; on the threads of every run (its numerics)
    with intra_op_threads(RUN_THREADS):
        fit(model, X[mix], y, X[tune_idx], y[:len(tune_idx)], cfg, progress=False, keep="last")
        proba, _ = predict(model, X[predict_idx], device=resolve_device(device))
    y_pred = decode(task, proba.argmax(1))
    try:
        write_entry(entry, lambda tmp: (tmp / "predictions.json").write_text(
            json.dumps({"y_pred": y_pred.tolist(), "proba": proba.tolist()})))
    except StoreWriteError as exc:  # the fine-tuning is used now, not kept
        warnings.warn(NotCached(f"{exc}; the fine-tuning is used now but not kept (free space in the cache, or "
                                "choose another with --cache-dir)"), stacklevel=2)
    return {"y_pred": y_pred, "proba": proba, "index": predict_idx, "cached": False}


# --------------------------------------------------------------------------- chapter 5's tables

def phase1_table(ds: Dataset, runs: dict, ratings: str = "class-aware") -> pd.DataFrame:
    """The submission table of one method's Phase I runs.

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set.
    runs : dict of str to fmriemo.training.runs.RunResult
        :func:`train_phase1`'s runs.
    ratings : {"class-aware", "level-model"}, default="class-aware"
        Ratings from the class-aware rule on the predicted classes, or from the 9-way level model
        (:data:`fmriemo.challenge.ratings.RATING_RULES`).

    Returns
    -------
    table : pandas.DataFrame
        Participant, Trial, CLASS, LEVEL.
    """
    return ensemble_submission(ds, [runs["class"]], [runs["level"]] if "level" in runs else None, ratings)


def phase1_over_seeds(ds: Dataset, method: str, settings, labels: pd.DataFrame, ratings: str = "class-aware",
                      split: str = "auto", n_resamples: int = 2000) -> tuple[Comparison | None, pd.DataFrame]:
    """Phase I with the training seed as a random factor.

    A method's Phase I models for every seed (:func:`train_phase1`; with the paper's split, the runs of
    chapters 3 and 4), each submission scored on ``labels``, and the comparison with always "neutral, 0"
    on the same trials (:func:`fmriemo.evaluation.statistics.compare_trials`: the trials resampled in
    participants, the seeds resampled; lower is better).

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set.
    method : str
        A registered model.
    settings : fmriemo.profiles.Settings
        Profile, budget, seeds, cache and device.
    labels : pandas.DataFrame
        The labels scored against (Participant, Trial, CLASS, LEVEL).
    ratings : {"class-aware", "level-model"}, default="class-aware"
        Ratings from the class-aware rule on the predicted classes, or from the 9-way level model
        (:data:`fmriemo.challenge.ratings.RATING_RULES`).
    split : {"auto", "paper", "participants"}, default="auto"
        See :func:`train_phase1`.
    n_resamples : int, default=2000
        Bootstrap resamples.

    Returns
    -------
    comparison : fmriemo.evaluation.statistics.Comparison or None
        None when there are no labels to score against.
    scores : pandas.DataFrame
        One row per seed.
    """
    tasks = ("class",) if ratings == "class-aware" else ("class", "level")
    tables = {s: phase1_table(ds, train_phase1(ds, method, settings.replace(seeds=(s,)), tasks, split), ratings)
              for s in settings.seeds}
    scores = pd.DataFrame([{**_score_row(t, labels, f"seed {s}"), "seed": s} for s, t in tables.items()])
    if len(labels) == 0:
        return None, scores
    keys = ["Participant", "Trial"]
    truth = labels[keys + ["CLASS", "LEVEL"]].reset_index(drop=True)
    preds = np.stack([truth[keys].merge(t, on=keys, how="left")[["CLASS", "LEVEL"]].to_numpy().T
                      for t in tables.values()])  # [seeds, 2, trials]
    neutral = reference_predictions(ds, truth, "neutral")[["CLASS", "LEVEL"]].to_numpy().T[None]

    def score(y, p):
        return challenge_score_rows(y[0], y[1], p[:, 0], p[:, 1])

    comparison = compare_trials(truth[["CLASS", "LEVEL"]].to_numpy().T, preds, neutral, score, a=method,
                                b="always neutral", measure="challenge score", clusters=truth["Participant"].to_numpy(),
                                higher_is_better=False, trained_b=False, n_resamples=n_resamples)
    return comparison, scores


def _score_row(table: pd.DataFrame, labels: pd.DataFrame, name: str) -> dict:
    """One row of a score table: class and level error, score, its 95% bootstrap interval over trials
    and the number of trials scored (the trials of ``labels``; NaN and N = 0 when there are none)."""
    if len(labels) == 0:
        return {"model": name, "class error": np.nan, "level error": np.nan, "score": np.nan,
                "score_lo": np.nan, "score_hi": np.nan, "N": 0}
    s = score_tables(table, labels)
    m = labels.merge(table, on=["Participant", "Trial"], suffixes=("_true", ""))
    lo, hi = _score_interval(m.CLASS_true, m.CLASS, m.LEVEL_true, m.LEVEL)
    return {"model": name, "class error": s["class_error"], "level error": s["level_error"],
            "score": s["score"], "score_lo": lo, "score_hi": hi, "N": s["n"]}


def score_table(ds: Dataset, tables: dict, labels: pd.DataFrame, references: bool = True) -> pd.DataFrame:
    """Score named submission tables on labels.

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set.
    tables : dict of str to pandas.DataFrame
        Submission tables by name.
    labels : pandas.DataFrame
        Participant, Trial, CLASS, LEVEL of the trials scored.
    references : bool, default=True
        Add the two reference rows (:data:`fmriemo.challenge.submission.REFERENCES`) that bracket the scale.

    Returns
    -------
    scores : pandas.DataFrame
        Indexed by name: class error, level error, score, its 95% bootstrap interval over trials and the
        number of trials (NaN and N = 0 without labels).
    """
    rows = [_score_row(t, labels, name) for name, t in tables.items()]
    if references and len(labels):
        rows += [_score_row(reference_predictions(ds, labels, k), labels, name)
                 for k, name in REFERENCES.items()]
    return pd.DataFrame(rows).set_index("model")


def labels_of(ds: Dataset, idx) -> pd.DataFrame:
    """The labels table of some trials.

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set.
    idx : array-like of int
        Rows.

    Returns
    -------
    labels : pandas.DataFrame
        Participant, Trial, CLASS, LEVEL.
    """
    idx = np.asarray(idx, int)
    return pd.DataFrame({"Participant": ds.participant[idx], "Trial": ds.trial[idx],
                         "CLASS": ds.y_class[idx].astype(int), "LEVEL": ds.y_level[idx].astype(int)})


def rows_of(table: pd.DataFrame, ds: Dataset, idx) -> pd.DataFrame:
    """The rows of a submission table for some trials.

    Parameters
    ----------
    table : pandas.DataFrame
        A submission table.
    ds : fmriemo.data.dataset.Dataset
        The data set.
    idx : array-like of int
        Rows of ``ds``.

    Returns
    -------
    rows : pandas.DataFrame
    """
    keys = set(zip(ds.participant[idx], ds.trial[idx]))
    return table[[k in keys for k in zip(table.Participant, table.Trial)]].reset_index(drop=True)


def released_index(ds: Dataset) -> np.ndarray:
    """Test trials whose labels were released for Phase II.

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set.

    Returns
    -------
    idx : ndarray of int
    """
    return np.flatnonzero((ds.split == "test") & (ds.label_source == "released"))


def _phase2_table(ds: Dataset, runs: dict, tune_idx, predict_idx, settings, epochs: int = 30,
                 ratings: str = "class-aware") -> pd.DataFrame:
    """Phase II predictions for ``predict_idx``: each Phase I run fine-tuned on ``tune_idx``
    (:func:`fine_tune`). Class-aware ratings need only the class model; ``"level-model"`` fine-tunes
    the level model too."""
    if ratings not in RATING_RULES:
        raise ValueError(f"ratings must be one of {', '.join(RATING_RULES)}, got {ratings!r}")
    tuned = {task: fine_tune(ds, runs[task], tune_idx, predict_idx, epochs=epochs,
                                       cache_dir=settings.cache_dir, device=settings.device)
             for task in (("class", "level") if ratings == "level-model" else ("class",))}
    cls = tuned["class"]["y_pred"].astype(int)
    lev = (tuned["level"]["y_pred"].astype(int) if ratings == "level-model"
           else class_aware_levels(cls, training_level_table(ds)))
    idx = np.asarray(predict_idx, int)
    return pd.DataFrame({"Participant": ds.participant[idx], "Trial": ds.trial[idx], "CLASS": cls, "LEVEL": lev})


def phase2_scores(ds: Dataset, phase1: dict, labels: pd.DataFrame, settings, epochs: int = 30,
                  ratings: str = "class-aware", names: dict | None = None) -> pd.DataFrame:
    """Phase II as the challenge scored it.

    Every method's Phase I runs are fine-tuned on all released trials and scored on the test trials that
    were *not* released and have a label in ``labels``, beside their Phase I predictions on the same
    trials.

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set.
    phase1 : dict of str to dict
        Per method, its Phase I runs (:func:`train_phase1`).
    labels : pandas.DataFrame
        Test labels (Participant, Trial, CLASS, LEVEL).
    settings : fmriemo.profiles.Settings
        Profile, budget, seeds, cache and device.
    epochs : int, default=30
        Fine-tuning epochs (:func:`fine_tune`).
    ratings : {"class-aware", "level-model"}, default="class-aware"
        Ratings from the class-aware rule on the predicted classes, or from the 9-way level model
        (:data:`fmriemo.challenge.ratings.RATING_RULES`).
    names : dict of str to str or None, default=None
        Display names of the methods in the table; None: the methods' own.

    Returns
    -------
    scores : pandas.DataFrame
        One row per method: Phase I, Phase II with its interval, N. Empty when there are no such trials,
        as on the real data, where only the released labels exist.
    """
    released = released_index(ds)
    rest = np.setdiff1d(np.flatnonzero(ds.split == "test"), released)
    lab = rows_of(labels, ds, rest)
    rows = []
    if len(lab):
        for m, runs in phase1.items():
            name = (names or {}).get(m, m)
            before = _score_row(rows_of(phase1_table(ds, runs, ratings), ds, rest), lab, name)
            after = _score_row(_phase2_table(ds, runs, released, rest, settings, epochs, ratings), lab, name)
            rows.append({"model": name, "Phase I": before["score"], "Phase II": after["score"],
                         "Phase II lo": after["score_lo"], "Phase II hi": after["score_hi"], "N": after["N"]})
    return pd.DataFrame(rows, columns=["model", "Phase I", "Phase II", "Phase II lo", "Phase II hi", "N"]
                        ).set_index("model")


def crossfit_folds(ds: Dataset, idx, n_folds: int = 3) -> list[np.ndarray]:
    """Split released trials into parts that each still see every participant and class.

    The k-th trial of each participant's class goes to part k mod ``n_folds``, so each part holds at
    most one trial of every participant and class per round, and fine-tuning on the other parts sees
    every participant and class.

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set.
    idx : array-like of int
        Released trials.
    n_folds : int, default=3
        Parts.

    Returns
    -------
    parts : list of ndarray of int
        Non-empty parts, each sorted.
    """
    idx = np.asarray(idx, int)
    if n_folds < 2:
        raise ValueError(f"n_folds must be >= 2, got {n_folds}")
    frame = pd.DataFrame({"i": idx, "p": ds.participant[idx], "c": ds.y_class[idx], "t": ds.trial[idx]})
    frame["part"] = frame.sort_values("t").groupby(["p", "c"]).cumcount() % n_folds
    return [np.sort(frame.loc[frame.part == k, "i"].to_numpy()) for k in range(n_folds)
            if (frame.part == k).any()]


def crossfit_parts(ds: Dataset, n_folds: int = 3) -> list[tuple[np.ndarray, np.ndarray]]:
    """The cross-fitting of :func:`phase2_crossfit`.

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set.
    n_folds : int, default=3
        Parts of the released trials (:func:`crossfit_folds`).

    Returns
    -------
    parts : list of (ndarray, ndarray)
        ``(tune, predict)``: each part predicted by fine-tunings on the others; empty when nothing was
        released.
    """
    released = released_index(ds)
    return [(np.setdiff1d(released, part), part) for part in crossfit_folds(ds, released, n_folds)]


def phase2_crossfit(ds: Dataset, phase1: dict, settings, epochs: int = 30, ratings: str = "class-aware",
                    n_folds: int = 3, names: dict | None = None) -> pd.DataFrame:
    """Phase II estimated from the released trials alone.

    That is the real situation: the other test labels are the organisers'. Each part of the released
    trials (:func:`crossfit_folds`) is predicted by the Phase I models fine-tuned on the other parts, so
    every released trial is scored by a model that never tuned on it.

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set.
    phase1 : dict of str to dict
        Per method, its Phase I runs (:func:`train_phase1`).
    settings : fmriemo.profiles.Settings
        Profile, budget, seeds, cache and device.
    epochs : int, default=30
        Fine-tuning epochs.
    ratings : {"class-aware", "level-model"}, default="class-aware"
        Ratings from the class-aware rule on the predicted classes, or from the 9-way level model
        (:data:`fmriemo.challenge.ratings.RATING_RULES`).
    n_folds : int, default=3
        Parts.
    names : dict of str to str or None, default=None
        Display names of the methods in the table; None: the methods' own.

    Returns
    -------
    scores : pandas.DataFrame
        One row per method: the Phase II estimate with its 95% bootstrap interval over trials, the Phase
        I score on the same trials, N.
    """
    released = released_index(ds)
    parts = crossfit_parts(ds, n_folds)  # none when nothing was released: no rows
    lab = labels_of(ds, released)
    rows = []
    for m, runs in (phase1 if parts else {}).items():
        name = (names or {}).get(m, m)
        tuned = pd.concat([_phase2_table(ds, runs, tune, part, settings, epochs, ratings) for tune, part in parts],
                          ignore_index=True)
        before = _score_row(rows_of(phase1_table(ds, runs, ratings), ds, released), lab, name)
        after = _score_row(tuned, lab, name)
        rows.append({"model": name, "Phase I": before["score"], "Phase II (cross-fitted)": after["score"],
                     "lo": after["score_lo"], "hi": after["score_hi"], "N": after["N"]})
    return pd.DataFrame(rows, columns=["model", "Phase I", "Phase II (cross-fitted)", "lo", "hi", "N"]
                        ).set_index("model")


def table3(phase1_scores: pd.DataFrame, phase2: pd.DataFrame, crossfit: pd.DataFrame, name: str) -> pd.DataFrame:
    """Table 3 beside the paper.

    Parameters
    ----------
    phase1_scores : pandas.DataFrame
        :func:`score_table` of the Phase I submissions.
    phase2 : pandas.DataFrame
        :func:`phase2_scores`.
    crossfit : pandas.DataFrame
        :func:`phase2_crossfit`.
    name : str
        The model shown.

    Returns
    -------
    table : pandas.DataFrame
        The paper's two scores, the model's Phase I score and its Phase II score (on the unreleased trials
        where they have labels, else the cross-fitted estimate from the released ones), and always
        "neutral, 0" in Phase I.
    """
    scored = len(phase2) > 0
    p2 = phase2.loc[name, "Phase II"] if scored else (crossfit.loc[name, "Phase II (cross-fitted)"]
                                                      if len(crossfit) else np.nan)
    neutral = REFERENCES["neutral"]
    return pd.DataFrame({
        "paper (real test set)": [PAPER_CHALLENGE_SCORES["phase1"], PAPER_CHALLENGE_SCORES["phase2"]],
        f"this book, {name}": [float(phase1_scores.loc[name, "score"]), float(p2)],
        "always neutral, 0": [float(phase1_scores.loc[neutral, "score"]) if neutral in phase1_scores.index
                              else np.nan, np.nan],
    }, index=["Phase I (all test trials)",
              "Phase II (unreleased trials)" if scored else "Phase II (cross-fitted on the released trials)"])

