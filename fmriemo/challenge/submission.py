"""The challenge's files and its score: reading and writing submissions (``Participant,Trial,CLASS,
LEVEL``), scoring one against a labels file as the organisers did, the labels a build can score
against, and the two reference predictions that bracket the scale. Nothing here imports torch
(``fmriemo score`` uses only this module)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..core.errors import DataError
from ..core.files import atomic_write_text, check_output_file
from ..data.dataset import CLASS_VALUES, Dataset, normalise_participant
from ..data.loader import read_csv_table, read_labels_csv
from ..metrics import challenge_score

__all__ = [
    "COLUMNS", "SUBMIT_ENSEMBLES", "REFERENCES", "read_submission", "write_submission", "score_tables",
    "score_files", "evaluation_labels", "reference_predictions",
]

COLUMNS = ["Participant", "Trial", "CLASS", "LEVEL"]
#: how a submission combines a method's models (:func:`fmriemo.challenge.submit.submit`): one Phase I
#: model per seed, the held-out protocol's fold models, or the better of them on held-out participants
SUBMIT_ENSEMBLES = ("seeds", "folds", "auto")
#: the reference predictions that bracket the score's scale (:func:`reference_predictions`)
REFERENCES = {"neutral": "always neutral, 0", "oracle_class": "true class, commonest level"}


def read_submission(path) -> pd.DataFrame:
    """Read and validate a submission CSV: Participant,Trial,CLASS,LEVEL, every cell filled.

    Parameters
    ----------
    path : str or path
        The file.

    Returns
    -------
    table : pandas.DataFrame

    Raises
    ------
    DataError
        Naming the file and what is wrong with it.
    """
    return read_labels_csv(path, require_complete=True, what="submission")


def write_submission(table: pd.DataFrame, path, force: bool = False) -> Path:
    """Write a submission CSV atomically.

    Parameters
    ----------
    table : pandas.DataFrame
        With the columns of :data:`COLUMNS` (others are dropped).
    path : str or path
        The file.
    force : bool, default=False
        Overwrite an existing file; without it an existing file is refused.

    Returns
    -------
    path : pathlib.Path
    """
    path = check_output_file(path, force, "submission")
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"submission table lacks column(s) {missing}")
    out = table[COLUMNS].copy()
    for c in ("Trial", "CLASS", "LEVEL"):
        out[c] = out[c].astype(int)
    return atomic_write_text(path, out.to_csv(index=False))


def score_tables(submission: pd.DataFrame, labels: pd.DataFrame, source: str = "submission") -> dict:
    """Score a submission on every trial that has a label.

    Parameters
    ----------
    submission : pandas.DataFrame
        A validated submission table.
    labels : pandas.DataFrame
        A validated labels table; every labelled trial needs a prediction, and every participant of the
        submission must be in it.
    source : str, default="submission"
        The submission's name in error messages.

    Returns
    -------
    score : dict
        :func:`fmriemo.metrics.challenge_score` (``class_error``, ``level_error``, ``score``, ``n``) and
        ``unlabelled_rows``: rows of the submission for trials without a label.
    """
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

    Every row of the submission must name a participant and trial listed in the labels file (with or
    without labels); only labelled trials are scored.

    Parameters
    ----------
    submission_csv : str or path
        The submission.
    labels_csv : str or path
        The labels.

    Returns
    -------
    score : dict
        :func:`fmriemo.metrics.challenge_score` (``class_error``, ``level_error``, ``score``, ``n``) and
        ``unlabelled_rows``: rows of the submission for trials without a label.
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


def evaluation_labels(ds: Dataset, folder) -> tuple[pd.DataFrame, str]:
    """Labels to score test predictions against, and what they are.

    On the surrogate: the full test labels (``test_labels.csv``), so scores are exact. On real data: the
    test trials whose labels the user supplied (the released labels), so scores are estimates from those
    trials only.

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set.
    folder : str or path
        Its challenge folder.

    Returns
    -------
    labels : pandas.DataFrame
        Participant, Trial, CLASS, LEVEL.
    what : str
        In words.
    """
    full = Path(folder) / "test_labels.csv"
    if (Path(folder) / "ground_truth.json").exists() and full.exists():
        return read_labels_csv(full, require_complete=True), "all test trials (surrogate, exact)"
    m = (ds.split == "test") & ds.labelled
    lab = pd.DataFrame({"Participant": ds.participant[m], "Trial": ds.trial[m],
                        "CLASS": ds.y_class[m].astype(int), "LEVEL": ds.y_level[m].astype(int)})
    return lab, f"the {len(lab)} test trials with released labels (an estimate)"


def reference_predictions(ds: Dataset, labels: pd.DataFrame, kind: str) -> pd.DataFrame:
    """Reference predictions for the trials of a labels table.

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set (its training labels give the commonest levels).
    labels : pandas.DataFrame
        The trials.
    kind : {"neutral", "oracle_class"}
        ``"neutral"``: CLASS 0, LEVEL 0 for every trial; ``"oracle_class"``: the true CLASS with the
        commonest training LEVEL of that class.

    Returns
    -------
    table : pandas.DataFrame
        A submission table.
    """
    out = labels[["Participant", "Trial"]].copy()
    if kind == "neutral":
        out["CLASS"], out["LEVEL"] = 0, 0
    elif kind == "oracle_class":
        tr = ds.labelled_train
        mode = {k: int(pd.Series(ds.y_level[tr & (ds.y_class == k)]).mode().iloc[0]) for k in CLASS_VALUES}
        out["CLASS"] = labels["CLASS"].astype(int).to_numpy()
        out["LEVEL"] = [mode[k] for k in out["CLASS"]]
    else:
        raise ValueError(f"unknown reference {kind!r}")
    return out.reset_index(drop=True)
