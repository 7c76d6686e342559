"""The challenge itself: training on the training participants, predicting the
test participants, submission files, the official score, and Phase II
fine-tuning on the released labels."""
from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from . import preprocess
from .data import DataError, Dataset, decode, encode, normalise_participant, read_csv_table, read_labels_csv
from .evaluate import challenge_score
from .splits import PHASE1_SPLITS, participant_split
from .store import read_entry, write_entry
from .train import (RunResult, TrainConfig, config_for, default_cache_dir, fit, on_trials, predict, resolve_device,
                    train_paper, train_run)

COLUMNS = ["Participant", "Trial", "CLASS", "LEVEL"]


def phase1_split_of(method: str, split: str = "auto") -> str:
    """The split ``train_phase1`` trains ``method`` on: ``split`` itself, or for ``"auto"`` the paper's
    split for the paper's models and held-out participants for Compact."""
    if split not in PHASE1_SPLITS:
        raise ValueError(f"split must be one of {', '.join(PHASE1_SPLITS)}, got {split!r}")
    return split if split != "auto" else ("participants" if method == "compact" else "paper")


def train_phase1(ds: Dataset, method: str, settings, tasks=("class", "level"), split: str = "auto") -> dict:
    """Phase I models of ``method``: ``{task: RunResult}`` for each of ``tasks``, predicting every
    trial of the Test participants. ``settings`` is a :class:`fmriemo.profiles.Settings`; its first
    seed is used.

    ``split``: ``"paper"`` trains on the paper's split of the training participants' trials, the
    model of chapters 3 and 4 (the authors submitted the model of their tables; chapters 3-6 then
    share it); ``"participants"`` trains on the training participants with checkpoints chosen on
    ``settings.n_val`` other training participants (drawn with the seed), as for new participants;
    ``"auto"``: the paper's split for the paper's models, participants for Compact."""
    split = phase1_split_of(method, split)
    seed = settings.seeds[0]
    if split == "paper":
        test = np.flatnonzero(ds.split == "test")
        if len(test) == 0:
            raise DataError(f"{ds.source}: no Test participants to predict")
        return {task: on_trials(ds, train_paper(ds, method, task, seed=seed, profile=settings.profile,
                                                epochs=settings.epochs, cache_dir=settings.cache_dir,
                                                device=settings.device, progress=settings.progress),
                                test, settings.device)
                for task in tasks}
    participants = participant_split(ds, settings.n_val, seed)
    return {task: train_run(ds, participants, config_for(settings.profile, settings.epochs, task=task,
                                                         method=method, seed=seed, device=settings.device),
                            settings.cache_dir, settings.progress)
            for task in tasks}


def predictions_table(ds: Dataset, class_run: RunResult, level_run: RunResult) -> pd.DataFrame:
    """A submission table (Participant, Trial, CLASS, LEVEL) from a class and a level run on the same trials."""
    if not np.array_equal(class_run.test_index, level_run.test_index):
        raise ValueError("class and level runs must predict the same trials")
    idx = class_run.test_index
    return pd.DataFrame({"Participant": ds.participant[idx], "Trial": ds.trial[idx],
                         "CLASS": class_run.y_pred.astype(int), "LEVEL": level_run.y_pred.astype(int)})


# --------------------------------------------------------------------------- Phase II

def fine_tune_key(ds: Dataset, run: RunResult, tune_idx, predict_idx, epochs: int, lr_factor: float,
                  replay: int) -> str:
    """The cache key of a fine-tuning: the base run, the trials, every setting, the data and the code."""
    from .store import code_version
    src = json.dumps({"base": run.key, "tune": np.asarray(tune_idx).tolist(),
                      "predict": np.asarray(predict_idx).tolist(), "epochs": epochs, "lr_factor": lr_factor,
                      "replay": replay, "labels": ds.fingerprint, "code": code_version()}, sort_keys=True)
    return hashlib.sha256(src.encode()).hexdigest()[:24]


def fine_tune(ds: Dataset, run: RunResult, tune_idx, predict_idx, epochs: int = 30, lr_factor: float = 0.1,
              replay: int = 2, cache_dir=None, device: str = "auto") -> dict:
    """Continue training ``run``'s checkpoint on the trials ``tune_idx`` (the released labels),
    mixed with ``replay`` times as many training trials so that the model does not forget
    them, for a fixed number of epochs at ``lr_factor`` of the paper's rate (there is no
    validation set to select on). Returns ``{"y_pred": ..., "proba": ..., "index": predict_idx}``.
    """
    cfg0 = TrainConfig(**{k: v for k, v in run.config.items() if k in TrainConfig.__dataclass_fields__})
    tune_idx, predict_idx = np.asarray(tune_idx), np.asarray(predict_idx)
    key = fine_tune_key(ds, run, tune_idx, predict_idx, epochs, lr_factor, replay)
    cache = Path(cache_dir).expanduser() if cache_dir else default_cache_dir()
    entry = cache / "finetune" / key  # a store entry like a trained model's (store.write_entry)
    def read(folder: Path) -> dict:
        d = json.loads((folder / "predictions.json").read_text())
        y_pred, proba = np.asarray(d["y_pred"]), np.asarray(d["proba"])
        if len(y_pred) != len(predict_idx) or len(proba) != len(predict_idx):
            raise ValueError("wrong number of predictions")
        return {"y_pred": y_pred, "proba": proba, "index": predict_idx, "cached": True}

    cached = read_entry(entry, read, "fine-tuning", "fine-tuning again")
    if cached is not None:
        return cached
    from .files import check_writable_dir
    check_writable_dir(entry.parent, "model cache")
    task = cfg0.task
    rng = np.random.default_rng(cfg0.seed)
    pool = np.flatnonzero((ds.split == "train") & ds.labelled)
    mix = np.concatenate([tune_idx, rng.choice(pool, min(len(pool), replay * len(tune_idx)), replace=False)])
    X = preprocess.apply(cfg0.preprocess, ds.X, ds.participant)
    y = encode(task, {"class": ds.y_class, "level": ds.y_level}[task][mix])
    model = run.load_model()
    cfg = replace(cfg0, epochs=epochs, patience=None, min_epochs=0, lr=cfg0.learning_rate * lr_factor, device=device,
                  monitor="val_loss")
    # no validation set: a fixed budget, and the last epoch is kept
    fit(model, X[mix], y, X[tune_idx], y[:len(tune_idx)], cfg, progress=False, keep="last")
    proba, _ = predict(model, X[predict_idx], device=resolve_device(device))
    y_pred = decode(task, proba.argmax(1))
    write_entry(entry, lambda tmp: (tmp / "predictions.json").write_text(
        json.dumps({"y_pred": y_pred.tolist(), "proba": proba.tolist()})))
    return {"y_pred": y_pred, "proba": proba, "index": predict_idx, "cached": False}


# --------------------------------------------------------------------------- files

def read_submission(path) -> pd.DataFrame:
    """Read and validate a submission CSV: Participant,Trial,CLASS,LEVEL, every cell filled."""
    return read_labels_csv(path, require_complete=True, what="submission")


def write_submission(table: pd.DataFrame, path, force: bool = False) -> Path:
    """Write a submission CSV atomically; refuse to overwrite an existing file unless ``force``."""
    from .files import atomic_write_text, check_output_file
    path = check_output_file(path, force, "submission")
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"submission table lacks column(s) {missing}")
    out = table[COLUMNS].copy()
    for c in ("Trial", "CLASS", "LEVEL"):
        out[c] = out[c].astype(int)
    return atomic_write_text(path, out.to_csv(index=False))


def score_tables(submission: pd.DataFrame, labels: pd.DataFrame, source: str = "submission") -> dict:
    """Score ``submission`` on every trial that has a label in ``labels`` (both validated tables)."""
    keys = set(zip(labels.Participant, labels.Trial))
    sub_keys = list(zip(submission.Participant, submission.Trial))
    known_p = set(labels.Participant)
    for p, t in sub_keys:
        if p not in known_p:
            raise DataError(f"{source}: participant {p} is not in the labels file")
    m = labels.merge(submission, on=["Participant", "Trial"], how="left", suffixes=("_true", ""))
    if m["CLASS"].isna().any():
        r = m[m["CLASS"].isna()].iloc[0]
        raise DataError(f"{source}: no prediction for {r.Participant} trial {r.Trial}, which has a label")
    unknown = [k for k in sub_keys if k not in keys and k[0] in known_p]
    s = challenge_score(m["CLASS_true"], m["CLASS"].astype(int), m["LEVEL_true"], m["LEVEL"].astype(int))
    s["unlabelled_rows"] = len(unknown)
    return s


def score_files(submission_csv, labels_csv) -> dict:
    """The official score of a submission file against a labels file (empty label cells ignored).

    Every row of the submission must name a participant and trial listed in the
    labels file (with or without labels); only labelled trials are scored.
    """
    sub = read_submission(submission_csv)
    labels_all = read_csv_table(labels_csv)
    lab = read_labels_csv(labels_csv)
    pids = [normalise_participant(p) for p in labels_all["Participant"]]
    listed = set(zip(pids, pd.to_numeric(labels_all["Trial"], errors="coerce")))
    for p, t in zip(sub.Participant, sub.Trial):
        if (p, t) not in listed:
            raise DataError(f"{submission_csv}: {p} trial {t} is not listed in {labels_csv}")
    if len(lab) == 0:
        raise DataError(f"{labels_csv}: no labelled trials to score against")
    return score_tables(sub, lab, str(submission_csv))


def score_interval(class_true, class_pred, level_true, level_pred, n_resamples: int = 2000, seed: int = 0,
                   level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of the challenge score over trials (:func:`fmriemo.evaluate.bootstrap`)."""
    from .evaluate import bootstrap

    def stat(ct, cp, lt, lp):
        return challenge_score(ct, cp, lt, lp)["score"]

    return bootstrap(stat, class_true, class_pred, level_true, level_pred, n_resamples=n_resamples, seed=seed,
                     level=level)


def evaluation_labels(ds: Dataset, folder) -> tuple[pd.DataFrame, str]:
    """Labels to score test predictions against, and what they are.

    On the surrogate: the full test labels (``test_labels.csv``), so scores are
    exact. On real data: the test trials whose labels the user supplied (the
    released labels), so scores are estimates from those trials only.
    """
    full = Path(folder) / "test_labels.csv"
    if (Path(folder) / "ground_truth.json").exists() and full.exists():
        return read_labels_csv(full, require_complete=True), "all test trials (surrogate, exact)"
    m = (ds.split == "test") & ds.labelled
    lab = pd.DataFrame({"Participant": ds.participant[m], "Trial": ds.trial[m],
                        "CLASS": ds.y_class[m].astype(int), "LEVEL": ds.y_level[m].astype(int)})
    return lab, f"the {len(lab)} test trials with released labels (an estimate)"


def reference_predictions(ds: Dataset, labels: pd.DataFrame, kind: str) -> pd.DataFrame:
    """Reference predictions for the trials of ``labels``: ``"neutral"`` (CLASS 0, LEVEL 0 for every
    trial) or ``"oracle_class"`` (the true CLASS with the commonest training LEVEL of that class)."""
    out = labels[["Participant", "Trial"]].copy()
    if kind == "neutral":
        out["CLASS"], out["LEVEL"] = 0, 0
    elif kind == "oracle_class":
        tr = (ds.split == "train") & ds.labelled
        mode = {k: int(pd.Series(ds.y_level[tr & (ds.y_class == k)]).mode().iloc[0]) for k in (-1, 0, 1)}
        out["CLASS"] = labels["CLASS"].astype(int).to_numpy()
        out["LEVEL"] = [mode[k] for k in out["CLASS"]]
    else:
        raise ValueError(f"unknown reference {kind!r}")
    return out.reset_index(drop=True)
