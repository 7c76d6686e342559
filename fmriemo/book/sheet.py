"""The leakage and practice sheet (the verdict's appendix): one row per protocol of the book, one column
per kind of leakage (Kapoor & Narayanan 2023) and per item of prediction practice (Poldrack, Huckins &
Varoquaux 2020), each cell saying whether the protocol is guarded, how, and what shows it.

The sheet is built in two steps. :func:`gather` collects the evidence (:class:`Evidence`) by running
checks on the data set: the splits each protocol uses, taken from the code that makes them (the paper's
split, chapter 7's outer folds and the deep models' nested splits of
:func:`fmriemo.evaluation.heldout.fold_jobs`, the search's inner folds, Phase II's cross-fitting), the
preprocessing, a classifier that sees only the trial's position, the test labels' distribution against
the training labels', label-scrambling runs of the code paths the chapters call, and what the chapters
recorded in their results files (:mod:`fmriemo.book.results`). :func:`cells` then computes every status
from that evidence and nothing else: no status is written in, and a test feeds each cell the evidence
that opens it. A change that breaks a guard (a split that lets a participant into both sides,
preprocessing fitted across trials, a read-out that sees held-out labels) changes the sheet.
"""
from __future__ import annotations

import html
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import stats

from ..challenge.phases import crossfit_parts, released_index
from ..data import preprocess
from ..data.dataset import Dataset
from ..data.splits import class_orders, group_folds, identical_order_pairs, inner_folds, make_paper_split
from ..evaluation import ensembles, heldout, search, timeresolved
from ..evaluation.baselines import baseline_inputs, baseline_pipeline
from ..evaluation.statistics import permutation_vs_chance
from ..profiles import Settings
from .findings import HeldOut

__all__ = [
    "LEAKAGE", "PRACTICE", "COLUMNS", "PROTOCOLS", "MEASURES", "MEASURE_TABLES", "TIME_SECTION",
    "ORDER_SECTION", "MARK", "ALPHA", "Cell", "split_facts", "preprocessing_is_local",
    "baseline_ignores_test_labels", "SEARCH_CHECK_GRID", "search_ignores_test_labels",
    "time_ignores_test_labels", "ensemble_choice_reads_scored_labels", "position_check",
    "position_over_folds", "sampling_check", "held_out_protocol", "Evidence", "gather", "CV_GUARDS", "WHERE",
    "cells", "build", "long_table", "wide", "SHORT", "to_html", "details", "details_html", "open_text",
]

#: the columns: kinds of leakage (Kapoor & Narayanan 2023), then items of practice (Poldrack et al. 2020)
LEAKAGE = {"test": "no held-out test set", "preprocessing": "pre-processing fitted on all data",
           "selection": "feature selection on all data", "duplicates": "duplicates across train and test",
           "illegitimate": "illegitimate features (trial order)", "temporal": "temporal leakage (same session)",
           "dependence": "dependence between train and test (participants, order twins)",
           "sampling": "sampling bias in the test distribution"}
PRACTICE = {"in_sample": "no in-sample fit reported as prediction", "cv_wraps": "cross-validation wraps every step",
            "measures": "several performance measures", "kfold": "k-fold rather than leave-one-out"}
COLUMNS = {**LEAKAGE, **PRACTICE}
#: the rows, with the chapter section each describes
PROTOCOLS = {"paper": ("the paper's trial split (as published)", "03_class_task"),
             "phase1": ("Phase I submission", "05_challenge"),
             "phase2": ("Phase II fine-tuning", "05_challenge"),
             "heldout": ("held-out participants, order groups together", "07_held_out"),
             "search": ("nested search", "09_level_and_beyond"),
             "ensembles": ("seed and fold ensembles", "09_level_and_beyond"),
             "time": ("time-resolved decoding", "07_held_out")}
#: results-table columns that are performance measures, by name
MEASURES = {"accuracy": "accuracy", "f1": "macro F1", "precision": "precision", "sensitivity": "sensitivity",
            "score": "challenge score", "Phase II": "challenge score", "class error": "class error",
            "level error": "rating error", "rating SMAPE": "rating SMAPE"}
#: where each protocol records its performance measures: (chapter, table)
MEASURE_TABLES = {"paper": ("03_class_task", "summary"), "phase1": ("05_challenge", "phase1"),
                  "heldout": ("07_held_out", "summary"), "search": ("09_level_and_beyond", "search_scores"),
                  "ensembles": ("09_level_and_beyond", "ensembles"), "time": ("07_held_out", "time_resolved")}
TIME_SECTION = "07_held_out#when-in-the-clip-is-valence-decodable"
ORDER_SECTION = "07_held_out#does-the-order-of-trials-leak-labels"
MARK = {"guarded": "\u2714", "open": "\u2718", "n/a": "\u2013"}
#: a check below this p-value opens its cell
ALPHA = 0.05


@dataclass
class Cell:
    """One cell of the sheet.

    Parameters
    ----------
    status : {"guarded", "open", "n/a"}
        What the evidence says.
    how : str
        Why, in a sentence.
    evidence : str, default=""
        Where it shows: a chapter section as ``"chapter#anchor"`` or a test as ``"tests/...::name"``.
    """

    status: str
    how: str
    evidence: str = ""


def _participants(ds: Dataset, idx) -> set:
    return set(ds.participant[np.asarray(idx, int)].tolist())


def split_facts(ds: Dataset, train, test) -> dict:
    """What two sets of rows share.

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set.
    train, test : array-like of int
        Rows of the two sides.

    Returns
    -------
    facts : dict
        ``shared participants``, ``identical trials`` (byte-identical fMRI), ``split twin pairs`` (order
        twins, who saw the classes in the same order, with one on each side) and ``shared trials``.
    """
    train, test = np.asarray(train, int), np.asarray(test, int)
    a, b = _participants(ds, train), _participants(ds, test)
    seen = {ds.X[i].tobytes() for i in train}
    twins = sum((p in a and q in b) or (q in a and p in b) for p, q in identical_order_pairs(ds))
    return {"shared participants": len(a & b), "identical trials": sum(ds.X[i].tobytes() in seen for i in test),
            "split twin pairs": int(twins), "shared trials": len(set(train.tolist()) & set(test.tolist()))}


def _worst(facts) -> dict:
    facts = list(facts)
    return {k: max(f[k] for f in facts) for k in facts[0]}


def preprocessing_is_local(ds: Dataset, method: str, test) -> bool:
    """Whether a preprocessing gives the test rows the same values computed from them alone as computed
    with every other trial present (per trial or per participant, so nothing crosses a split).

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set.
    method : str
        A preprocessing of :mod:`fmriemo.data.preprocess`.
    test : array-like of int
        The test rows.

    Returns
    -------
    local : bool
    """
    test = np.asarray(test, int)
    alone = preprocess.apply(method, ds.X[test], ds.participant[test])
    together = preprocess.apply(method, ds.X, ds.participant)[test]
    return bool(np.allclose(alone, together, atol=1e-5))


def _scrambled(ds: Dataset, participants, seed: int = 1) -> Dataset:
    """A copy of ``ds`` with the class labels of ``participants`` shuffled among their trials."""
    y = ds.y_class.copy()
    rows = np.flatnonzero(ds.labelled_train & np.isin(ds.participant, list(participants)))
    y[rows] = np.random.default_rng(seed).permutation(y[rows])
    return replace(ds, y_class=y, _fingerprint=None)


def baseline_ignores_test_labels(ds: Dataset, settings: Settings) -> bool:
    """Chapter 7's own baselines with a fold's labels scrambled: do that fold's predictions stay the same?

    The baselines (:func:`fmriemo.evaluation.heldout.run_baselines`, the linear read-out) run on the outer
    folds of ``settings``; a baseline fitted on the test fold would change its predictions.

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set.
    settings : fmriemo.profiles.Settings
        Chapter 7's protocol and folds.

    Returns
    -------
    ignores : bool
    """
    folds = group_folds(ds, settings.protocol, settings.k)
    before = heldout.run_baselines(ds, "class", settings, kinds=("logreg",), cv=folds)
    after = heldout.run_baselines(_scrambled(ds, folds[0]), "class", settings, kinds=("logreg",), cv=folds)
    first = before.fold.to_numpy() == 0
    return bool(np.array_equal(before.y_pred.to_numpy()[first], after.y_pred.to_numpy()[first]))


SEARCH_CHECK_GRID = ("pct 8-21 C=0.05 top 64", "pct curve C=0.05")


def search_ignores_test_labels(ds: Dataset, folds) -> bool:
    """A two-candidate nested search on the first outer fold with that fold's labels scrambled: are its
    choice and predictions the same?

    The two candidates select regions inside the fit and read a window off a time-resolved curve, the
    two steps that could peek at labels.

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set.
    folds : list of lists of str
        The outer folds' test participants.

    Returns
    -------
    ignores : bool
    """
    grid = [c for c in search.candidates(windows=(*search.WINDOWS, search.CURVE)) if c["name"] in SEARCH_CHECK_GRID]
    _, before = search.nested_search(ds, grid=grid, cv=folds[:1])
    _, after = search.nested_search(_scrambled(ds, folds[0]), grid=grid, cv=folds[:1])
    return bool(np.array_equal(before["y_pred"].to_numpy(), after["y_pred"].to_numpy())
                and before["chosen"].iloc[0] == after["chosen"].iloc[0])


def time_ignores_test_labels(ds: Dataset, folds) -> bool:
    """Time-resolved decoding with a fold's labels scrambled: do its predictions at every second stay the
    same?

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set.
    folds : list of lists of str
        The outer folds' test participants.

    Returns
    -------
    ignores : bool
    """
    idx, X, y, groups = timeresolved.fold_inputs(ds, "pct", folds[:2])  # the first fold against the second
    y2 = _scrambled(ds, folds[0]).labels("class", idx)
    a = timeresolved.predictions_by_second(X, y, groups)
    b = timeresolved.predictions_by_second(X, y2, groups)
    return bool(np.array_equal(a[groups == 0], b[groups == 0]))


def ensemble_choice_reads_scored_labels() -> bool:
    """Whether chapter 9's choice among ensembles depends on the labels of the trials it then reports the
    chosen ensemble's accuracy on.

    :func:`fmriemo.evaluation.ensembles.choose_ensemble` is given the same predictions with two sets of
    labels, each favouring another ensemble.

    Returns
    -------
    in_sample : bool
        True when the choice is made in sample.
    """
    rows = []
    for ensemble, pred in zip(ensembles.ENSEMBLES, ([0, 0, 1, 1], [1, 1, 0, 0], [0, 1, 0, 1])):
        rows += [{"ensemble": ensemble, "model": ensemble, "y_pred": p, "i": i} for i, p in enumerate(pred)]
    frame = pd.DataFrame(rows)
    picks = {ensembles.choose_ensemble(frame.assign(y_true=frame.i.map(dict(enumerate(truth)))))
             for truth in ([0, 0, 1, 1], [1, 1, 0, 0])}
    return len(picks) > 1


def position_check(ds: Dataset, train, test, n_perm: int = 1000) -> tuple[float, float]:
    """A classifier that sees only the trial's position in the session, fitted on one side and scored on
    the other.

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set.
    train, test : array-like of int
        Rows of the two sides.
    n_perm : int, default=1000
        Shuffles of the test labels within participant
        (:func:`fmriemo.evaluation.statistics.permutation_vs_chance`).

    Returns
    -------
    accuracy : float
    p : float
    """
    X = baseline_inputs(ds, "position")
    model = baseline_pipeline("position").fit(X[train], ds.labels("class", train))
    r = permutation_vs_chance(ds.labels("class", test), model.predict(X[test]), ds.participant[test], n_perm=n_perm)
    return r["accuracy"], r["p"]


def position_over_folds(ds: Dataset, settings: Settings, n_perm: int = 1000) -> tuple[float, float]:
    """:func:`position_check` on the outer folds of chapter 7's protocol, as chapter 7 runs its position
    baseline (:func:`fmriemo.evaluation.heldout.run_baselines`).

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set.
    settings : fmriemo.profiles.Settings
        Chapter 7's protocol and folds.
    n_perm : int, default=1000
        Shuffles of the labels within participant.

    Returns
    -------
    accuracy : float
        Over the pooled held-out trials.
    p : float
    """
    pred = heldout.run_baselines(ds, "class", settings, kinds=("position",))
    r = permutation_vs_chance(pred.y_true, pred.y_pred, pred.participant, n_perm=n_perm)
    return r["accuracy"], r["p"]


def sampling_check(ds: Dataset, train, test) -> float:
    """Whether the test rows' classes are distributed as the training rows' are.

    A test set drawn otherwise than the data it stands for is Kapoor and Narayanan's sampling bias. The
    classes are tested, not the ratings: every participant saw ten clips of each class, while ratings
    differ from person to person by design, so a fold of other people rates otherwise without any bias
    in how it was drawn.

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set.
    train, test : array-like of int
        Rows of the two sides.

    Returns
    -------
    p : float
        The p-value of a chi-square test of homogeneity.
    """
    a, b = ds.labels("class", train), ds.labels("class", test)
    values = np.union1d(a, b)
    counts = np.array([[np.sum(a == v) for v in values], [np.sum(b == v) for v in values]])
    return 1.0 if counts.shape[1] < 2 else float(stats.chi2_contingency(counts)[1])


def _measures(found: dict, chapter: str, table: str, names: dict) -> Cell:
    """Whether ``chapter`` recorded two or more performance measures: ``names`` maps a column of its
    results table ``table`` to the measure's name."""
    if chapter not in found or table not in found[chapter].tables:
        return Cell("n/a", f"chapter {chapter[:2]} recorded no table {table!r}")
    columns = set(found[chapter].table(table).columns)
    if not columns:
        return Cell("n/a", f"chapter {chapter[:2]} recorded table {table!r} empty", chapter)
    have = list(dict.fromkeys(label for key, label in names.items()
                              if any(c == key or c.startswith(key + " ") for c in columns)))
    return Cell("guarded" if len(have) >= 2 else "open",
                (", ".join(have) if have else "no measure") + f" (chapter {chapter[:2]}, table {table!r})", chapter)


def held_out_protocol(held, profile: str) -> tuple[str, int]:
    """The held-out protocol and number of folds chapter 7 ran with.

    Parameters
    ----------
    held : fmriemo.book.findings.HeldOut or None
        Chapter 7's finding, which records them; None: the profile's.
    profile : str
        The chapters' profile.

    Returns
    -------
    protocol : str
    k : int
    """
    if held is None:
        s = Settings.resolve(profile)
        return s.protocol, s.k
    return str(held.protocol), int(held.k)


# --------------------------------------------------------------------------- the evidence

@dataclass
class Evidence:
    """Everything the cells are computed from, per protocol where it differs (keys of :data:`PROTOCOLS`).

    Parameters
    ----------
    facts : dict
        :func:`split_facts` of each protocol's training side against its test side (the worst over its
        splits; None where the protocol has no test labels to split, e.g. Phase II with nothing released).
    n_test : dict
        Test trials.
    splits : dict
        How many train/test splits its numbers come from.
    position : dict
        ``(accuracy, p)`` of the position-only classifier across its split (None without test labels).
    sampling : dict
        The p-value of :func:`sampling_check` (None without test labels).
    selection : dict
        None where the protocol selects no features, else whether its selection ignored held-out labels.
    guards : dict
        The label-scrambling and split checks of the code paths (``baseline``, ``deep_splits``,
        ``search``, ``time``, ``crossfit``).
    local : dict
        Preprocessing method -> computed locally.
    chosen_in_sample : dict
        Protocols that choose what they report on the trials they report it on.
    measures : dict
        Protocol -> the cell of the measures it reports.
    protocol : str, default="groupkfold"
        Chapter 7's held-out protocol.
    k : int, default=3
        Its folds.
    twin_pairs : int, default=0
        Pairs of order twins in the data.
    released : int, default=0
        Test trials whose labels were released.
    scored : int, default=0
        Test trials scored beyond them.
    """

    facts: dict
    n_test: dict
    splits: dict
    position: dict
    sampling: dict
    selection: dict
    guards: dict
    local: dict
    chosen_in_sample: dict
    measures: dict
    protocol: str = "groupkfold"
    k: int = 3
    twin_pairs: int = 0
    released: int = 0
    scored: int = 0


def gather(ds: Dataset, found: dict, profile: str = "full") -> Evidence:
    """Run every check the sheet reads and collect it with what the chapters recorded.

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set.
    found : dict of str to fmriemo.book.results.Results
        Chapter stems -> their loaded results (:func:`fmriemo.book.results.load`).
    profile : str, default="full"
        The chapters' profile (the protocol where chapter 7 recorded none).

    Returns
    -------
    evidence : Evidence
    """
    ran = found.get("07_held_out")
    held = ran.finding(HeldOut) if ran is not None and HeldOut.__name__ in ran.findings else None
    protocol, k = held_out_protocol(held, profile)
    settings = Settings.resolve(profile, protocol=protocol, k=k)
    folds = group_folds(ds, protocol, k)
    lab = ds.labelled_train
    paper = make_paper_split(ds, "class")
    paper_train = np.concatenate([paper.train, paper.val])
    test_all = np.flatnonzero(ds.split == "test")
    test_labelled = np.flatnonzero((ds.split == "test") & ds.labelled)
    released = released_index(ds)
    scored = np.setdiff1d(test_labelled, released)
    outer = [(np.flatnonzero(lab & ~np.isin(ds.participant, p)), np.flatnonzero(lab & np.isin(ds.participant, p)))
             for p in folds]
    # the deep models' own nested splits (training and checkpoint-selection rows against the fold's test rows)
    deep = [(np.concatenate([sp.train, sp.val]), sp.test) for _, (sp, _) in heldout.fold_jobs(ds, "asb", "class",
                                                                                             settings)]
    orders = class_orders(ds)
    inner = []
    for train, _ in outer:
        train_p = sorted(_participants(ds, train))
        for fold in inner_folds(orders, train_p, 3):
            inner.append((np.flatnonzero(lab & np.isin(ds.participant, [p for p in train_p if p not in fold])),
                          np.flatnonzero(lab & np.isin(ds.participant, fold))))
    if len(released) and len(scored):
        phase2 = [(released, scored)]
    else:  # every labelled Test trial released: the cross-fitted parts are what is scored
        phase2 = list(crossfit_parts(ds))
    held_facts = _worst(split_facts(ds, a, b) for a, b in outer + deep)
    nested_facts = _worst(split_facts(ds, a, b) for a, b in outer + deep + inner)
    facts = {"paper": split_facts(ds, paper_train, paper.test),
             "phase1": split_facts(ds, np.flatnonzero(lab), test_all),
             "phase2": _worst(split_facts(ds, a, b) for a, b in phase2) if phase2 else None,
             "heldout": held_facts, "search": nested_facts, "ensembles": nested_facts, "time": held_facts}
    n_test = {"paper": len(paper.test), "phase1": len(test_all), "phase2": sum(len(b) for _, b in phase2),
              **dict.fromkeys(("heldout", "search", "ensembles", "time"), sum(len(b) for _, b in outer))}
    splits = {"paper": len(set(found["03_class_task"].table("runs")["split"]))
              if "03_class_task" in found and "runs" in found["03_class_task"].tables
              and "split" in found["03_class_task"].table("runs") else 1,
              "phase1": 1, "phase2": len(phase2), **dict.fromkeys(("heldout", "search", "ensembles", "time"),
                                                                  len(folds))}
    held_position = position_over_folds(ds, settings)
    position = {"paper": position_check(ds, paper_train, paper.test),
                "phase1": position_check(ds, np.flatnonzero(lab), test_labelled) if len(test_labelled) else None,
                "phase2": position_check(ds, *phase2[0]) if phase2 else None,
                **dict.fromkeys(("heldout", "search", "ensembles", "time"), held_position)}
    held_sampling = min(sampling_check(ds, a, b) for a, b in outer)
    sampling = {"paper": sampling_check(ds, paper_train, paper.test),
                "phase1": sampling_check(ds, np.flatnonzero(lab), test_labelled) if len(test_labelled) else None,
                "phase2": min(sampling_check(ds, a, b) for a, b in phase2) if phase2 else None,
                **dict.fromkeys(("heldout", "search", "ensembles", "time"), held_sampling)}
    guards = {"baseline": baseline_ignores_test_labels(ds, settings),
              "deep_splits": all(split_facts(ds, a, b)["shared participants"] == 0 for a, b in deep),
              "search": search_ignores_test_labels(ds, folds), "time": time_ignores_test_labels(ds, folds),
              "crossfit": bool(phase2) and all(split_facts(ds, a, b)["shared trials"] == 0 for a, b in phase2)}
    test_rows = outer[0][1]
    local = {m: preprocessing_is_local(ds, m, test_rows) for m in preprocess.METHODS}
    measures = {p: _measures(found, chapter, table, MEASURES) for p, (chapter, table) in MEASURE_TABLES.items()}
    measures["phase2"] = _measures(found, "05_challenge", "phase2" if len(scored) and len(released) else
                                   "phase2_crossfit", MEASURES)
    return Evidence(facts=facts, n_test=n_test, splits=splits, position=position, sampling=sampling,
                    selection={"search": guards["search"]}, guards=guards, local=local,
                    chosen_in_sample={"ensembles": ensemble_choice_reads_scored_labels()}, measures=measures,
                    protocol=protocol, k=k, twin_pairs=len(identical_order_pairs(ds)), released=len(released),
                    scored=len(scored))


# --------------------------------------------------------------------------- the cells

#: the code paths whose label-scrambling or split check guards each protocol's cross-validation
CV_GUARDS = {"heldout": ("baseline", "deep_splits"), "search": ("search",), "ensembles": ("deep_splits",),
             "time": ("time",), "phase2": ("crossfit",)}
#: where each protocol's evidence is shown
WHERE = {p: chapter for p, (_, chapter) in PROTOCOLS.items()}


def _test_cell(e: Evidence, p: str) -> Cell:
    f, n = e.facts[p], e.n_test[p]
    if f is None:
        return Cell("n/a", "no test trials with labels")
    if n == 0 or f["shared trials"]:
        return Cell("open", f"{f['shared trials']} test trial(s) also used to train or choose a checkpoint"
                    if n else "no test trials", WHERE[p])
    extra = {"paper": "; its checkpoint is chosen on validation trials of the same participants",
             "heldout": "; checkpoints are chosen on participants of the training side",
             "phase2": f"; {e.released} released trials, each scored by a fine-tuning that never saw it"
             if not e.scored else f"; {e.scored} unreleased trials, scored after fine-tuning on {e.released} released"
             }.get(p, "")
    return Cell("guarded", f"{n} test trials, none of them used to train or choose a checkpoint{extra}", WHERE[p])


def _preprocessing_cell(e: Evidence) -> Cell:
    if all(e.local.values()):
        return Cell("guarded", "computed per trial or per participant without labels; the same values with or without "
                    "the other trials present", "tests/data/test_preprocess.py")
    return Cell("open", "preprocessing depends on other trials: " + ", ".join(m for m, ok in e.local.items() if not ok),
                "tests/data/test_preprocess.py")


def _selection_cell(e: Evidence, p: str) -> Cell:
    ok = e.selection.get(p)
    if ok is None:
        return Cell("n/a", "no feature selection: every model reads all of its regions (EBR's 32 are fixed "
                    "from the literature)")
    return Cell("guarded" if ok else "open", "region selection and curve windows chosen inside every fit: "
                "scrambling a fold's labels leaves its choice and predictions " + ("unchanged" if ok else "CHANGED"),
                "tests/evaluation/test_search.py")


def _duplicates_cell(e: Evidence, p: str) -> Cell:
    f = e.facts[p]
    if f is None:
        return Cell("n/a", "no test trials with labels")
    n = f["identical trials"]
    return (Cell("open", f"{n} test trial(s) identical to a training trial") if n else
            Cell("guarded", "no test trial identical to a training trial (and the loader refuses copies)"))


def _position_cell(e: Evidence, p: str) -> Cell:
    found = e.position.get(p)
    if found is None:
        return Cell("n/a", "no test labels to check the trial's position against")
    acc, pv = found
    evidence = ORDER_SECTION if p in ("heldout", "search", "ensembles", "time") else WHERE[p]
    if pv < ALPHA:
        return Cell("open", f"the trial's position alone classifies {acc:.2f} of test trials (p = {pv:.3f}): a model "
                    "that reads the position from the fMRI (slow drifts over a session) can use it", evidence)
    return Cell("guarded", f"the trial's position alone does not classify test trials ({acc:.2f}, p = {pv:.3f}); "
                "the inputs are fMRI only", evidence)


def _temporal_cell(e: Evidence, p: str) -> Cell:
    f = e.facts[p]
    if f is None:
        return Cell("n/a", "no test trials with labels")
    if f["shared participants"]:
        return Cell("open", f"trials of the same sessions on both sides ({f['shared participants']} participant(s); "
                    "neighbouring scans share slow drifts)", WHERE[p])
    return Cell("guarded", "whole participants (every session of a person) on one side")


def _dependence_cell(e: Evidence, p: str) -> Cell:
    f = e.facts[p]
    if f is None:
        return Cell("n/a", "no test trials with labels")
    shared, twins = f["shared participants"], f["split twin pairs"]
    evidence = ORDER_SECTION if p == "heldout" else ""
    if shared:
        return Cell("open", f"{shared} participant(s) on both sides", evidence)
    if twins:
        return Cell("open", f"no participant on both sides, but {twins} pair(s) of order twins split", evidence)
    return Cell("guarded", "no participant and no pair of order twins on both sides", evidence)


def _sampling_cell(e: Evidence, p: str) -> Cell:
    pv = e.sampling.get(p)
    if pv is None:
        return Cell("n/a", "no test labels to compare with the training labels")
    if pv < ALPHA:
        return Cell("open", f"the test trials' classes are distributed otherwise than the training trials' "
                    f"(chi-square p = {pv:.3f})", WHERE[p])
    return Cell("guarded", f"the test trials' classes are distributed as the training trials' (chi-square p = "
                f"{pv:.2f})", WHERE[p])


def _in_sample_cell(e: Evidence, p: str) -> Cell:
    f = e.facts[p]
    if f is None:
        return Cell("n/a", "no test trials with labels")
    if e.chosen_in_sample.get(p):
        return Cell("open", "what is reported is chosen on the same participants it is scored on (said in the "
                    "chapter; it decides what to submit, not an estimate)", WHERE[p])
    if f["shared trials"]:
        return Cell("open", f"{f['shared trials']} scored trial(s) were also fitted", WHERE[p])
    return Cell("guarded", "every number is scored on trials its model never fitted", WHERE[p])


def _cv_cell(e: Evidence, p: str) -> Cell:
    if p == "phase1":
        return Cell("n/a", "one fit on all training participants, scored by the challenge's own Test labels")
    if e.splits[p] <= 1:
        return Cell("open", "one split, no cross-validation: one draw of test trials decides the ranking", WHERE[p])
    failed = [g for g in CV_GUARDS.get(p, ()) if not e.guards.get(g)]
    if failed:
        return Cell("open", f"{e.splits[p]} splits, but a step sees held-out labels or rows ({', '.join(failed)})",
                    WHERE[p])
    how = {"heldout": "scaler and read-out fitted in each fold (scrambling a fold's labels leaves its "
                      "linear-baseline predictions unchanged), deep models trained and checkpointed without the "
                      "fold's participants",
           "time": "scaler and read-out fitted in each fold: scrambling a fold's labels leaves its predictions at "
                   "every second unchanged",
           "search": "the search itself is inside the outer folds", "ensembles": "every member trained inside the folds",
           "phase2": "cross-fitting over the released trials"}.get(p, f"{e.splits[p]} splits")
    return Cell("guarded", f"{e.splits[p]} splits; {how}", TIME_SECTION if p == "time" else WHERE[p])


def _kfold_cell(e: Evidence, p: str) -> Cell:
    if p == "phase1":
        return Cell("n/a", "the challenge's own train/test division")
    if e.splits[p] <= 1:
        return Cell("open", "a single split, neither k-fold nor leave-one-out", WHERE[p])
    if p == "phase2":
        return Cell("guarded", f"cross-fitting in {e.splits[p]} folds", WHERE[p])
    if e.protocol == "loso":
        return Cell("open", "leave one participant out: one person per test fold, high variance")
    f = e.facts[p]
    if e.protocol == "kfold" or (f and f["split twin pairs"]):
        return Cell("open", f"{e.k} folds that ignore order groups" + (
            ", so a protocol that split them would be open" if e.twin_pairs else ""))
    kind = "one order group per fold" if e.protocol == "order" else "folds of whole order groups"
    return Cell("guarded", f"{e.splits[p]} {kind}")


def cells(e: Evidence) -> dict:
    """Every cell of the sheet, computed from the evidence alone.

    Parameters
    ----------
    e : Evidence
        The evidence.

    Returns
    -------
    cells : dict of (str, str) to Cell
        ``{(protocol, column): cell}``.
    """
    out = {}
    for p in PROTOCOLS:
        if p == "phase2" and e.facts[p] is None:
            out.update({(p, c): Cell("n/a", "no released labels") for c in COLUMNS})
            continue
        out.update({(p, "test"): _test_cell(e, p), (p, "preprocessing"): _preprocessing_cell(e),
                    (p, "selection"): _selection_cell(e, p), (p, "duplicates"): _duplicates_cell(e, p),
                    (p, "illegitimate"): _position_cell(e, p), (p, "temporal"): _temporal_cell(e, p),
                    (p, "dependence"): _dependence_cell(e, p), (p, "sampling"): _sampling_cell(e, p),
                    (p, "in_sample"): _in_sample_cell(e, p), (p, "cv_wraps"): _cv_cell(e, p),
                    (p, "measures"): e.measures.get(p, Cell("n/a", "no table of measures")),
                    (p, "kfold"): _kfold_cell(e, p)})
    return out


def build(ds: Dataset, found: dict, profile: str = "full") -> pd.DataFrame:
    """The sheet: every check run and every cell computed.

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set.
    found : dict of str to fmriemo.book.results.Results
        Chapter stems -> their loaded results (:func:`fmriemo.book.results.load`).
    profile : str, default="full"
        The chapters' profile.

    Returns
    -------
    long : pandas.DataFrame
        One row per (protocol, column) with ``status``, ``how`` and ``evidence``.
    """
    return long_table(cells(gather(ds, found, profile)))


def long_table(computed: dict) -> pd.DataFrame:
    """:func:`cells`' result as the long table :func:`build` returns.

    Parameters
    ----------
    computed : dict of (str, str) to Cell
        :func:`cells`.

    Returns
    -------
    long : pandas.DataFrame
    """
    return pd.DataFrame([{"protocol": PROTOCOLS[p][0], "column": COLUMNS[c], "kind": "leakage" if c in LEAKAGE
                          else "practice", "status": cell.status, "how": cell.how, "evidence": cell.evidence}
                         for (p, c), cell in computed.items()])


def wide(long: pd.DataFrame) -> pd.DataFrame:
    """The sheet as a grid.

    Parameters
    ----------
    long : pandas.DataFrame
        The sheet as :func:`build` returns it.

    Returns
    -------
    grid : pandas.DataFrame
        The kinds of leakage and items of practice (:data:`COLUMNS`) in rows, the protocols in columns,
        each cell its mark.
    """
    grid = long.pivot(index="column", columns="protocol", values="status").map(MARK.get)
    return grid.loc[list(COLUMNS.values()), [p for p, _ in PROTOCOLS.values()]]


#: the protocols' names as column headers of the grid
SHORT = {"paper": "paper's split", "phase1": "Phase I", "phase2": "Phase II", "heldout": "held out",
         "search": "nested search", "ensembles": "ensembles", "time": "time-resolved"}


def _link(evidence: str) -> str:
    if not evidence:
        return ""
    if evidence.startswith("tests/"):
        return f"<code>{html.escape(evidence)}</code>"
    page, _, anchor = evidence.partition("#")
    return f'<a href="{page}.html{"#" + anchor if anchor else ""}">{html.escape(page)}</a>'


def to_html(long: pd.DataFrame) -> str:
    """The sheet for the page: the grid of marks, each cell's reason as its tooltip.

    Parameters
    ----------
    long : pandas.DataFrame
        The sheet as :func:`build` returns it.

    Returns
    -------
    html : str
    """
    grid = wide(long)
    how = long.set_index(["protocol", "column"])
    short = {name: SHORT[key] for key, (name, _) in PROTOCOLS.items()}
    head = "".join(f'<th title="{html.escape(p)}">{html.escape(short[p])}</th>' for p in grid.columns)
    body = []
    for kind, names in (("leakage", LEAKAGE), ("practice", PRACTICE)):
        body.append(f'<tr class="sheet-group"><th colspan="{len(grid.columns) + 1}">{kind}</th></tr>')
        for c in names.values():
            cells = []
            for p, mark in grid.loc[c].items():
                r = how.loc[(p, c)]
                status = r["status"].replace("/", "")
                cells.append(f'<td class="sheet-{status}" title="{html.escape(r["how"])}">{mark}</td>')
            body.append(f"<tr><th>{html.escape(c)}</th>{''.join(cells)}</tr>")
    legend = "; ".join(f"{m} {s}" for s, m in MARK.items())
    return (f'<div class="sheet-scroll"><table class="leakage-sheet"><thead><tr><th></th>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table></div><p>{legend}</p>")


def details(long: pd.DataFrame) -> pd.DataFrame:
    """Every cell with its reason and evidence (links as HTML) in one column, for the tables under the grid.

    Parameters
    ----------
    long : pandas.DataFrame
        The sheet as :func:`build` returns it.

    Returns
    -------
    table : pandas.DataFrame
    """
    out = long[["protocol", "column", "status"]].copy()
    out["status"] = out["status"].map(lambda s: f"{MARK[s]} {s}")
    out["how, and what shows it"] = [h + (f" ({_link(e)})" if e else "") for h, e in zip(long["how"], long["evidence"])]
    return out


def details_html(long: pd.DataFrame) -> str:
    """The open cells spelled out, then every cell in a collapsed block.

    Parameters
    ----------
    long : pandas.DataFrame
        The sheet as :func:`build` returns it.

    Returns
    -------
    html : str
    """
    det = details(long)
    opened = det[long["status"].to_numpy() == "open"]
    first = (opened.to_html(index=False, escape=False, classes="leakage-details") if len(opened)
             else "<p>No cell is open.</p>")
    return (first + f"<details><summary>All {len(det)} cells, with their reasons and evidence</summary>"
            + det.to_html(index=False, escape=False, classes="leakage-details") + "</details>")


def open_text(long: pd.DataFrame) -> str:
    """The open cells in a sentence per protocol, for the prose under the grid.

    Parameters
    ----------
    long : pandas.DataFrame
        The sheet as :func:`build` returns it.

    Returns
    -------
    text : str
    """
    open_ = long[long["status"] == "open"]
    if open_.empty:
        return "No cell is open."
    parts = [f"{p}: {', '.join(g['column'])}" for p, g in open_.groupby("protocol", sort=False)]
    return "Open: " + "; ".join(parts) + "."
