"""Chapter 5's tables: Phase I submissions with either rating rule, their scores beside the two
reference predictions, and Phase II, both as the challenge scored it (test trials whose labels were
not released) and estimated from the released trials alone by cross-fitting. The training and the
fine-tuning themselves are :mod:`fmriemo.challenge`'s."""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import challenge
from .data import Dataset
from .level import RATING_RULES, class_aware_levels, ensemble_submission, training_level_table

REFERENCES = {"neutral": "always neutral, 0", "oracle_class": "true class, commonest level"}


def phase1_split_text(ds: Dataset, names: dict, split: str = "auto", seeds=0, n_val: int = 3) -> str:
    """One or two sentences saying how each Phase I model (``names``: method -> label) was trained under
    ``challenge.train_phase1``'s ``split`` rule with ``seeds`` (one or several), naming the validation
    participants where there are some (those of the first seed)."""
    seeds = [int(seeds)] if np.ndim(seeds) == 0 else [int(x) for x in seeds]
    seed_text = (f"seed {seeds[0]}" if len(seeds) == 1
                 else "seeds " + ", ".join(map(str, seeds[:-1])) + f" and {seeds[-1]}")
    groups = {"paper": [], "participants": []}
    for m, label in names.items():
        groups[challenge.phase1_split_of(m, split)].append(label)
    out = []
    for kind, labels in groups.items():
        if not labels:
            continue
        who, many = " and ".join(labels), len(labels) > 1
        if kind == "paper":
            out.append(f"{who} {'are the models' if many else 'is the model'} of chapters 3 and 4 ({seed_text}): "
                       "trained with the paper's recipe on the paper's split of the training participants' "
                       "trials, the checkpoint chosen on its validation trials, as the authors submitted the "
                       "model of their tables.")
        else:
            val = sorted(set(ds.participant[challenge.participant_split(ds, n_val, seeds[0]).val]))
            out.append(f"{who} {'are' if many else 'is'} trained on the training participants with the paper's "
                       f"recipe, except that the checkpoint is chosen on {n_val} whole participants held out "
                       f"from training ({', '.join(val)}{' for the first seed' if len(seeds) > 1 else ''}): "
                       "the test participants are new, so validation should "
                       "be too (chapter 7).")
    return " ".join(out)


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
    s = challenge.score_tables(table, labels)
    m = labels.merge(table, on=["Participant", "Trial"], suffixes=("_true", ""))
    lo, hi = challenge.score_interval(m.CLASS_true, m.CLASS, m.LEVEL_true, m.LEVEL)
    return {"model": name, "class error": s["class_error"], "level error": s["level_error"],
            "score": s["score"], "score_lo": lo, "score_hi": hi, "N": s["n"]}


def score_table(ds: Dataset, tables: dict, labels: pd.DataFrame, references: bool = True) -> pd.DataFrame:
    """Score each named submission table on ``labels``; with ``references``, add the two reference
    rows (``REFERENCES``) that bracket the scale. Indexed by name."""
    rows = [score_row(t, labels, name) for name, t in tables.items()]
    if references and len(labels):
        rows += [score_row(challenge.reference_predictions(ds, labels, k), labels, name)
                 for k, name in REFERENCES.items()]
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
    (:func:`fmriemo.challenge.fine_tune`). Class-aware ratings need only the class model; ``"level-model"`` fine-tunes
    the level model too."""
    if ratings not in RATING_RULES:
        raise ValueError(f"ratings must be one of {', '.join(RATING_RULES)}, got {ratings!r}")
    tuned = {task: challenge.fine_tune(ds, runs[task], tune_idx, predict_idx, epochs=epochs,
                                       cache_dir=settings.cache_dir, device=settings.device)
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
    parts = crossfit_folds(ds, released, n_folds)  # none when nothing was released: no rows
    lab = labels_of(ds, released)
    rows = []
    for m, runs in (phase1 if parts else {}).items():
        name = (names or {}).get(m, m)
        tuned = pd.concat([phase2_table(ds, runs, np.setdiff1d(released, part), part, settings, epochs, ratings)
                           for part in parts], ignore_index=True)
        before = score_row(rows_of(phase1_table(ds, runs, ratings), ds, released), lab, name)
        after = score_row(tuned, lab, name)
        rows.append({"model": name, "Phase I": before["score"], "Phase II (cross-fitted)": after["score"],
                     "lo": after["score_lo"], "hi": after["score_hi"], "N": after["N"]})
    return pd.DataFrame(rows, columns=["model", "Phase I", "Phase II (cross-fitted)", "lo", "hi", "N"]
                        ).set_index("model")
