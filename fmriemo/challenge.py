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
from .level import RATING_RULES, ensemble_submission, training_level_table, class_aware_levels
from .splits import participant_split
from .train import (RunResult, TrainConfig, config_for, default_cache_dir, fit, predict, resolve_device,
                    train_run)

COLUMNS = ["Participant", "Trial", "CLASS", "LEVEL"]


def train_phase1(ds: Dataset, method: str, settings, tasks=("class", "level")) -> dict:
    """Phase I models of ``method``, trained on the training participants with checkpoints chosen on
    ``settings.n_val`` other training participants (drawn with the first of ``settings.seeds``):
    ``{task: RunResult}`` for each of ``tasks``. ``settings`` is a :class:`fmriemo.profiles.Settings`."""
    seed = settings.seeds[0]
    split = participant_split(ds, settings.n_val, seed)
    return {task: train_run(ds, split, config_for(settings.profile, settings.epochs, task=task, method=method,
                                                  seed=seed, device=settings.device),
                            settings.cache_dir, settings.progress)
            for task in tasks}


def predict_trials(ds: Dataset, run: RunResult, idx, device: str = "auto") -> np.ndarray:
    """Class (or level) probabilities of a stored run's model for the trials ``idx``, with the run's own
    preprocessing."""
    idx = np.asarray(idx, int)
    X = preprocess.apply(run.config.get("preprocess", "minmax"), ds.X, ds.participant)
    dev = resolve_device(device)
    proba, _ = predict(run.load_model().to(dev), X[idx], device=dev)
    return proba


def fold_model_runs(ds: Dataset, method: str, task: str, settings) -> list:
    """The held-out protocol's fold models of ``method`` (:func:`fmriemo.heldout.fold_runs` with
    ``settings``: each trained on one fold's training participants, its checkpoint chosen on others),
    each predicting every test trial of the challenge. Returns stand-ins of runs (``proba``,
    ``test_index``, ``best_epoch``, ``on_plateau``, ``seed``, ``fold``) for
    :func:`fmriemo.level.ensemble_submission`."""
    from types import SimpleNamespace

    from .heldout import fold_runs
    test = np.flatnonzero(ds.split == "test")
    return [SimpleNamespace(proba=predict_trials(ds, r, test, settings.device), test_index=test,
                            best_epoch=r.best_epoch, on_plateau=r.on_plateau, seed=seed, fold=f)
            for seed, f, r in fold_runs(ds, method, task, settings)]


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
    f = cache / "finetune" / f"{key}.json"
    if f.exists():
        try:
            d = json.loads(f.read_text())
            y_pred, proba = np.asarray(d["y_pred"]), np.asarray(d["proba"])
            if len(y_pred) != len(predict_idx) or len(proba) != len(predict_idx):
                raise ValueError("wrong number of predictions")
            return {"y_pred": y_pred, "proba": proba, "index": predict_idx, "cached": True}
        except Exception as exc:  # a damaged entry: say so and tune again
            import sys
            print(f"fmriemo: cache entry {f} is damaged ({exc or type(exc).__name__}); fine-tuning again",
                  file=sys.stderr)
            f.unlink(missing_ok=True)
    from .files import atomic_write_text, check_writable_dir
    check_writable_dir(f.parent, "model cache")
    task = cfg0.task
    rng = np.random.default_rng(cfg0.seed)
    pool = np.flatnonzero((ds.split == "train") & ds.labelled)
    mix = np.concatenate([tune_idx, rng.choice(pool, min(len(pool), replay * len(tune_idx)), replace=False)])
    X = preprocess.apply(cfg0.preprocess, ds.X, ds.participant)
    y = encode(task, {"class": ds.y_class, "level": ds.y_level}[task][mix])
    model = run.load_model()
    cfg = replace(cfg0, epochs=epochs, patience=None, lr=cfg0.learning_rate * lr_factor, device=device,
                  monitor="val_loss")
    # no validation set: a fixed budget, and the last epoch is kept
    fit(model, X[mix], y, X[tune_idx], y[:len(tune_idx)], cfg, progress=False, keep="last")
    proba, _ = predict(model, X[predict_idx], device=resolve_device(device))
    y_pred = decode(task, proba.argmax(1))
    atomic_write_text(f, json.dumps({"y_pred": y_pred.tolist(), "proba": proba.tolist()}))
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


# --------------------------------------------------------------------------- the chapter's tables

REFERENCES = {"neutral": "always neutral, 0", "oracle_class": "true class, commonest level"}


def phase1_table(ds: Dataset, runs: dict, ratings: str = "class-aware") -> pd.DataFrame:
    """The submission table of one method's Phase I runs (``train_phase1``), with ratings from the
    class-aware rule or the 9-way level model (``ratings``, one of ``level.RATING_RULES``)."""
    return ensemble_submission(ds, [runs["class"]], [runs["level"]] if "level" in runs else None, ratings)


def score_row(table: pd.DataFrame, labels: pd.DataFrame, name: str) -> dict:
    """One row of a score table: class and level error, score, its 95% bootstrap interval over trials
    and the number of trials scored (the trials of ``labels``; NaN and N = 0 when there are none)."""
    if len(labels) == 0:
        return {"model": name, "class error": np.nan, "level error": np.nan, "score": np.nan,
                "score_lo": np.nan, "score_hi": np.nan, "N": 0}
    s = score_tables(table, labels)
    m = labels.merge(table, on=["Participant", "Trial"], suffixes=("_true", ""))
    lo, hi = score_interval(m.CLASS_true, m.CLASS, m.LEVEL_true, m.LEVEL)
    return {"model": name, "class error": s["class_error"], "level error": s["level_error"],
            "score": s["score"], "score_lo": lo, "score_hi": hi, "N": s["n"]}


def score_table(ds: Dataset, tables: dict, labels: pd.DataFrame, references: bool = True) -> pd.DataFrame:
    """Score each named submission table on ``labels``; with ``references``, add the two reference
    rows (``REFERENCES``) that bracket the scale. Indexed by name."""
    rows = [score_row(t, labels, name) for name, t in tables.items()]
    if references and len(labels):
        rows += [score_row(reference_predictions(ds, labels, k), labels, name) for k, name in REFERENCES.items()]
    return pd.DataFrame(rows).set_index("model")


def labels_of(ds: Dataset, idx) -> pd.DataFrame:
    """The labels table (Participant, Trial, CLASS, LEVEL) of the trials ``idx``."""
    idx = np.asarray(idx, int)
    return pd.DataFrame({"Participant": ds.participant[idx], "Trial": ds.trial[idx],
                         "CLASS": ds.y_class[idx].astype(int), "LEVEL": ds.y_level[idx].astype(int)})


def rows_of(table: pd.DataFrame, ds: Dataset, idx) -> pd.DataFrame:
    """The rows of a submission table for the trials ``idx``."""
    keys = set(zip(ds.participant[idx], ds.trial[idx]))
    return table[[k in keys for k in zip(table.Participant, table.Trial)]].reset_index(drop=True)


def released_index(ds: Dataset) -> np.ndarray:
    """Test trials whose labels were released for Phase II."""
    return np.flatnonzero((ds.split == "test") & (ds.label_source == "released"))


def phase2_table(ds: Dataset, runs: dict, tune_idx, predict_idx, settings, epochs: int = 30,
                 ratings: str = "class-aware") -> pd.DataFrame:
    """Phase II predictions for ``predict_idx``: each Phase I run fine-tuned on ``tune_idx``
    (:func:`fine_tune`). Class-aware ratings need only the class model; ``"level-model"`` fine-tunes
    the level model too."""
    if ratings not in RATING_RULES:
        raise ValueError(f"ratings must be one of {', '.join(RATING_RULES)}, got {ratings!r}")
    tuned = {task: fine_tune(ds, runs[task], tune_idx, predict_idx, epochs=epochs, cache_dir=settings.cache_dir,
                             device=settings.device)
             for task in (("class", "level") if ratings == "level-model" else ("class",))}
    cls = tuned["class"]["y_pred"].astype(int)
    lev = (tuned["level"]["y_pred"].astype(int) if ratings == "level-model"
           else class_aware_levels(cls, training_level_table(ds)))
    idx = np.asarray(predict_idx, int)
    return pd.DataFrame({"Participant": ds.participant[idx], "Trial": ds.trial[idx], "CLASS": cls, "LEVEL": lev})


def phase2_scores(ds: Dataset, phase1: dict, labels: pd.DataFrame, settings, epochs: int = 30,
                  ratings: str = "class-aware", names: dict | None = None) -> pd.DataFrame:
    """Phase II as the challenge scored it: every method's Phase I runs (``phase1[method]``) fine-tuned
    on all released trials and scored on the test trials that were *not* released and have a label in
    ``labels``, beside its Phase I predictions on the same trials. Empty (no rows) when there are no
    such trials, as on the real data, where only the released labels exist."""
    released = released_index(ds)
    rest = np.setdiff1d(np.flatnonzero(ds.split == "test"), released)
    lab = rows_of(labels, ds, rest)
    rows = []
    if len(lab):
        for m, runs in phase1.items():
            name = (names or {}).get(m, m)
            before = score_row(rows_of(phase1_table(ds, runs, ratings), ds, rest), lab, name)
            after = score_row(phase2_table(ds, runs, released, rest, settings, epochs, ratings), lab, name)
            rows.append({"model": name, "Phase I": before["score"], "Phase II": after["score"],
                         "Phase II lo": after["score_lo"], "Phase II hi": after["score_hi"], "N": after["N"]})
    return pd.DataFrame(rows, columns=["model", "Phase I", "Phase II", "Phase II lo", "Phase II hi", "N"]
                        ).set_index("model")


def crossfit_folds(ds: Dataset, idx, n_folds: int = 3) -> list[np.ndarray]:
    """Split released trials ``idx`` into ``n_folds`` parts so that each part holds at most one trial of
    every participant and class per round (the k-th trial of each participant's class goes to part
    k mod ``n_folds``): fine-tuning on the other parts still sees every participant and class."""
    idx = np.asarray(idx, int)
    if n_folds < 2:
        raise ValueError(f"n_folds must be >= 2, got {n_folds}")
    frame = pd.DataFrame({"i": idx, "p": ds.participant[idx], "c": ds.y_class[idx], "t": ds.trial[idx]})
    frame["part"] = frame.sort_values("t").groupby(["p", "c"]).cumcount() % n_folds
    return [np.sort(frame.loc[frame.part == k, "i"].to_numpy()) for k in range(n_folds)
            if (frame.part == k).any()]


def phase2_crossfit(ds: Dataset, phase1: dict, settings, epochs: int = 30, ratings: str = "class-aware",
                    n_folds: int = 3, names: dict | None = None) -> pd.DataFrame:
    """Phase II estimated from the released trials alone (the real situation: the other test labels
    are the organisers'). The released trials are cut into ``n_folds`` parts (:func:`crossfit_folds`);
    each part is predicted by the Phase I models fine-tuned on the other parts, so every released trial
    is scored by a model that never tuned on it. Returns, per method, that Phase II estimate with its
    95% bootstrap interval over trials, and the Phase I score on the same trials."""
    released = released_index(ds)
    rows = []
    if len(released) == 0:
        phase1 = {}  # nothing released: nothing to estimate from
    parts = crossfit_folds(ds, released, n_folds)
    lab = labels_of(ds, released)
    for m, runs in phase1.items():
        name = (names or {}).get(m, m)
        tuned = pd.concat([phase2_table(ds, runs, np.setdiff1d(released, part), part, settings, epochs, ratings)
                           for part in parts], ignore_index=True)
        before = score_row(rows_of(phase1_table(ds, runs, ratings), ds, released), lab, name)
        after = score_row(tuned, lab, name)
        rows.append({"model": name, "Phase I": before["score"], "Phase II (cross-fitted)": after["score"],
                     "lo": after["score_lo"], "hi": after["score_hi"], "N": after["N"]})
    return pd.DataFrame(rows, columns=["model", "Phase I", "Phase II (cross-fitted)", "lo", "hi", "N"]
                        ).set_index("model")
