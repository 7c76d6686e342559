"""The leakage and practice sheet (the verdict's appendix): one row per protocol of the book, one column
per kind of leakage (Kapoor & Narayanan 2023) and per item of prediction practice (Poldrack, Huckins &
Varoquaux 2020), each cell saying whether the protocol is guarded, how, and what shows it.

No cell is typed in: each comes from a check run here on the data set (the same split functions the
chapters call, the same preprocessing, and label-scrambling runs of the linear read-outs) or from a
value the chapters recorded in their results files (:mod:`fmriemo.book.results`). A change that breaks
a guard (a split that lets a participant into both sides, preprocessing fitted across trials, a read-out
that sees held-out labels) changes the sheet.
"""
from __future__ import annotations

import html
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ..challenge.phases import crossfit_folds, released_index
from ..data import preprocess
from ..data.dataset import Dataset
from ..data.splits import class_orders, group_folds, identical_order_pairs, inner_folds, make_paper_split
from ..evaluation import search, timeresolved
from ..evaluation.baselines import baseline_inputs, baseline_pipeline
from ..profiles import Settings

#: the columns: kinds of leakage (Kapoor & Narayanan 2023), then items of practice (Poldrack et al. 2020)
LEAKAGE = {"test": "no held-out test set", "preprocessing": "pre-processing fitted on all data",
           "selection": "feature selection on all data", "duplicates": "duplicates across train and test",
           "illegitimate": "illegitimate features (trial order)", "temporal": "temporal leakage (same session)",
           "dependence": "dependence between train and test (participants, order twins)"}
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
TIME_SECTION = "07_held_out#when-in-the-clip-is-valence-decodable"
MARK = {"guarded": "\u2714", "open": "\u2718", "n/a": "\u2013"}


@dataclass
class Cell:
    """One cell: ``status`` ("guarded", "open" or "n/a"), ``how`` (a sentence), ``evidence`` (a chapter
    section as ``"chapter#anchor"`` or a test as ``"tests/...::name"``)."""

    status: str
    how: str
    evidence: str = ""


def _participants(ds: Dataset, idx) -> set:
    return set(ds.participant[np.asarray(idx, int)].tolist())


def split_facts(ds: Dataset, train, test) -> dict:
    """What two sets of rows share: participants, trials with byte-identical fMRI, and pairs of order
    twins (participants who saw the classes in the same order) with one twin on each side."""
    train, test = np.asarray(train, int), np.asarray(test, int)
    a, b = _participants(ds, train), _participants(ds, test)
    seen = {ds.X[i].tobytes() for i in train}
    twins = sum((p in a and q in b) or (q in a and p in b) for p, q in identical_order_pairs(ds))
    return {"shared participants": len(a & b), "identical trials": sum(ds.X[i].tobytes() in seen for i in test),
            "split twin pairs": int(twins), "shared trials": len(set(train.tolist()) & set(test.tolist()))}


def preprocessing_is_local(ds: Dataset, method: str, test) -> bool:
    """Whether preprocessing ``method`` gives the ``test`` rows the same values computed from them alone as
    computed with every other trial present (per trial or per participant, so nothing crosses a split)."""
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


def baseline_ignores_test_labels(ds: Dataset, folds) -> bool:
    """The linear baseline fitted as chapter 7 fits it: do the predictions of a fold's participants stay
    the same when their labels are scrambled?"""
    test_p = folds[0]
    other = _scrambled(ds, test_p)
    X = baseline_inputs(ds, "logreg")
    te = np.flatnonzero(ds.labelled_train & np.isin(ds.participant, test_p))
    tr = np.flatnonzero(ds.labelled_train & ~np.isin(ds.participant, test_p))
    a = baseline_pipeline("logreg").fit(X[tr], ds.labels("class", tr)).predict(X[te])
    b = baseline_pipeline("logreg").fit(X[tr], other.labels("class", tr)).predict(X[te])
    return bool(np.array_equal(a, b))


SEARCH_CHECK_GRID = ("pct 8-21 C=0.05 top 64", "pct curve C=0.05")


def search_ignores_test_labels(ds: Dataset, folds) -> bool:
    """A two-candidate nested search (region selection inside the fit, and a window read off a
    time-resolved curve) on the first outer fold: are its choice and predictions the same when that
    fold's labels are scrambled?"""
    grid = [c for c in search.candidates(windows=(*search.WINDOWS, search.CURVE)) if c["name"] in SEARCH_CHECK_GRID]
    _, before = search.nested_search(ds, grid=grid, folds=folds[:1])
    _, after = search.nested_search(_scrambled(ds, folds[0]), grid=grid, folds=folds[:1])
    return bool(np.array_equal(before["y_pred"].to_numpy(), after["y_pred"].to_numpy())
                and before["chosen"].iloc[0] == after["chosen"].iloc[0])


def time_ignores_test_labels(ds: Dataset, folds) -> bool:
    """Time-resolved decoding: do a fold's predictions at every second stay the same when its labels are
    scrambled?"""
    idx, X, y, groups = timeresolved.fold_inputs(ds, "pct", folds[:2])  # the first fold against the second
    y2 = _scrambled(ds, folds[0]).labels("class", idx)
    a = timeresolved.predictions_by_second(X, y, groups)
    b = timeresolved.predictions_by_second(X, y2, groups)
    return bool(np.array_equal(a[groups == 0], b[groups == 0]))


def _dependence(facts: dict, by_design: str = "") -> Cell:
    shared, twins = facts["shared participants"], facts["split twin pairs"]
    if shared:
        return Cell("open", f"{shared} participant(s) on both sides{by_design}")
    if twins:
        return Cell("open", f"no participant on both sides, but {twins} pair(s) of order twins split")
    return Cell("guarded", "no participant and no pair of order twins on both sides")


def _fold_facts(ds: Dataset, folds) -> dict:
    """The worst of every outer fold's :func:`split_facts` (training participants against test)."""
    lab = ds.labelled_train
    facts = [split_facts(ds, np.flatnonzero(lab & ~np.isin(ds.participant, p)),
                         np.flatnonzero(lab & np.isin(ds.participant, p))) for p in folds]
    return {k: max(f[k] for f in facts) for k in facts[0]}


def _inner_facts(ds: Dataset, folds, inner_k: int = 3) -> dict:
    """The worst :func:`split_facts` over the inner folds of every outer fold (order groups together)."""
    lab, orders = ds.labelled_train, class_orders(ds)
    worst = {}
    for test_p in folds:
        train_p = sorted(_participants(ds, np.flatnonzero(lab & ~np.isin(ds.participant, test_p))))
        for inner in inner_folds(orders, train_p, inner_k):
            f = split_facts(ds, np.flatnonzero(lab & np.isin(ds.participant, [p for p in train_p if p not in inner])),
                            np.flatnonzero(lab & np.isin(ds.participant, inner)))
            worst = {k: max(worst.get(k, 0), v) for k, v in f.items()}
    return worst


def _duplicates(facts: dict) -> Cell:
    n = facts["identical trials"]
    return (Cell("open", f"{n} test trial(s) identical to a training trial") if n else
            Cell("guarded", "no test trial identical to a training trial (and the loader refuses copies)"))


def _position(values7: dict) -> Cell:
    """Trial order as a feature: what chapter 7's position-only classifier found."""
    p, acc = values7.get("perm_p_position"), values7.get("acc_position")
    if p is None or acc is None:
        return Cell("n/a", "chapter 7's position-only check was not run")
    return Cell("guarded", "inputs are fMRI only (no trial number, no participant); the trial's position alone "
                f"classifies {acc:.2f} of held-out trials (p = {p:.3f})", "07_held_out#does-the-order-of-trials-leak-labels")


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


def held_out_protocol(values: dict, profile: str) -> tuple[str, int]:
    """The held-out protocol and number of folds chapter 7 ran with, as it recorded them in its results
    (``protocol`` and ``k``); the profile's where it did not (results written before it recorded them)."""
    s = Settings.resolve(profile)
    return str(values.get("protocol", s.protocol)), int(values.get("k", s.k))


def build(ds: Dataset, found: dict, profile: str = "full") -> pd.DataFrame:
    """The sheet as a long table: one row per (protocol, column) with ``status``, ``how`` and ``evidence``.
    ``found`` maps chapter stems to their loaded results (:func:`fmriemo.book.results.load`)."""
    v7 = found["07_held_out"].values if "07_held_out" in found else {}
    protocol, k = held_out_protocol(v7, profile)
    folds = group_folds(ds, protocol, k)
    lab = ds.labelled_train
    paper = make_paper_split(ds, "class")
    paper_facts = split_facts(ds, np.concatenate([paper.train, paper.val]), paper.test)
    phase1_facts = split_facts(ds, np.flatnonzero(lab), np.flatnonzero(ds.split == "test"))
    released = released_index(ds)
    scored = np.setdiff1d(np.flatnonzero((ds.split == "test") & ds.labelled), released)
    phase2_facts = None
    if len(released) and len(scored):
        phase2_facts = split_facts(ds, released, scored)
    elif len(released):  # every labelled Test trial released: the cross-fitted parts are what is scored
        parts = [split_facts(ds, np.setdiff1d(released, part), part) for part in crossfit_folds(ds, released)]
        phase2_facts = {k: max(f[k] for f in parts) for k in parts[0]}
    outer = _fold_facts(ds, folds)
    inner = _inner_facts(ds, folds)
    test_rows = np.flatnonzero(lab & np.isin(ds.participant, folds[0]))
    local = {m: preprocessing_is_local(ds, m, test_rows) for m in preprocess.METHODS}
    local_text = ("computed per trial or per participant without labels; the same values with or "
                  "without the other trials present" if all(local.values()) else
                  "preprocessing depends on other trials: " + ", ".join(m for m, ok in local.items() if not ok))
    pre = Cell("guarded" if all(local.values()) else "open", local_text, "tests/data/test_preprocess.py")
    base_ok = baseline_ignores_test_labels(ds, folds)
    search_ok = search_ignores_test_labels(ds, folds)
    time_ok = time_ignores_test_labels(ds, folds)
    twin_text = (", so a 'kfold' protocol that split them would be open"
                 if identical_order_pairs(ds) else "")
    k_text = {"loso": Cell("open", "leave one participant out: one person per test fold, high variance"),
              "order": Cell("guarded", f"one order group per fold ({len(folds)} folds)"),
              "groupkfold": Cell("guarded", f"{len(folds)} folds of whole order groups"),
              "kfold": Cell("open", f"{len(folds)} folds that ignore order groups{twin_text}")}[protocol]
    held_dep = _dependence(outer)
    held_dep.evidence = "07_held_out#does-the-order-of-trials-leak-labels"
    no_sel = Cell("n/a", "no feature selection")
    fixed_test = Cell("guarded", "its test trials never train or choose a checkpoint")
    temporal_paper = (Cell("open", "trials of the same sessions on both sides (neighbouring scans share slow drifts)",
                           "03_class_task") if paper_facts["shared participants"] else
                      Cell("guarded", "no session on both sides"))
    not_sessions = Cell("guarded", "whole participants (every session of a person) on one side")
    rows = {
        "paper": {
            "test": Cell("guarded" if len(paper.test) else "open",
                         f"{len(paper.test)} test trials, separate from training; but the checkpoint is chosen on "
                         f"{len(paper.val)} validation trials of the same participants", "03_class_task"),
            "preprocessing": pre, "selection": no_sel, "duplicates": _duplicates(paper_facts),
            "illegitimate": _position(v7), "temporal": temporal_paper,
            "dependence": _dependence(paper_facts, " (the split is over trials, not people)"),
            "in_sample": fixed_test,
            "cv_wraps": Cell("open", "one split, no cross-validation: one draw of 48 test trials decides the ranking",
                             "03_class_task"),
            "measures": _measures(found, "03_class_task", "summary", MEASURES),
            "kfold": Cell("open", "a single split, neither k-fold nor leave-one-out", "03_class_task")},
        "phase1": {
            "test": Cell("guarded" if phase1_facts["shared participants"] == 0 else "open",
                         "the challenge's Test participants, whose trials never train or choose a checkpoint",
                         "05_challenge"),
            "preprocessing": pre, "selection": no_sel, "duplicates": _duplicates(phase1_facts),
            "illegitimate": _position(v7), "temporal": not_sessions, "dependence": _dependence(phase1_facts),
            "in_sample": Cell("guarded", "scored only on Test participants' trials", "05_challenge"),
            "cv_wraps": Cell("n/a", "one fit on all training participants, scored by the challenge's labels"),
            "measures": _measures(found, "05_challenge", "phase1", MEASURES),
            "kfold": Cell("n/a", "the challenge's own train/test division")},
        "phase2": ({
            "test": Cell("guarded", f"fine-tuned on {len(released)} released trials; "
                         + (f"scored on {len(scored)} others" if len(scored) else
                            "no other Test trial has a label here, so each released trial is scored by a "
                            "fine-tuning without it (cross-fitting)"), "05_challenge"),
            "preprocessing": pre, "selection": no_sel, "duplicates": _duplicates(phase2_facts),
            "illegitimate": _position(v7),
            "temporal": Cell("open", "released and scored trials come from the same sessions (the challenge's design)",
                             "05_challenge"),
            "dependence": _dependence(phase2_facts, " (the challenge's design: fine-tuning on the test people"
                                      + ("" if len(scored) else "; here every labelled Test trial is released, so "
                                         "only the cross-fitted estimate scores") + ")"),
            "in_sample": Cell("guarded", "released trials are never scored; the cross-fitted estimate holds out "
                              "released trials from their own fine-tuning", "05_challenge"),
            "cv_wraps": Cell("guarded", "cross-fitting over the released trials", "05_challenge"),
            "measures": _measures(found, "05_challenge", "phase2" if len(scored) else "phase2_crossfit", MEASURES),
            "kfold": Cell("guarded", "cross-fitting in folds", "05_challenge")}
            if phase2_facts is not None else {c: Cell("n/a", "no released labels") for c in COLUMNS}),
        "heldout": {
            "test": Cell("guarded", f"{len(folds)} outer folds; a fold's participants never train or choose a "
                         "checkpoint (validation participants come from the training side)", "07_held_out"),
            "preprocessing": pre, "selection": no_sel, "duplicates": _duplicates(outer),
            "illegitimate": _position(v7), "temporal": not_sessions, "dependence": held_dep,
            "in_sample": Cell("guarded", "every number is on the outer folds' participants", "07_held_out"),
            "cv_wraps": Cell("guarded" if base_ok else "open",
                             "scaler and read-out fitted in each fold: scrambling a fold's labels leaves its "
                             "linear-baseline predictions " + ("unchanged" if base_ok else "CHANGED"),
                             "07_held_out#preprocessing-fitted-inside-the-folds"),
            "measures": _measures(found, "07_held_out", "summary", MEASURES),
            "kfold": k_text},
        "search": {
            "test": Cell("guarded", "outer folds as in chapter 7; candidates scored on inner folds only",
                         "09_level_and_beyond"),
            "preprocessing": pre,
            "selection": Cell("guarded" if search_ok else "open",
                              "region selection and curve windows chosen inside every fit: scrambling a fold's "
                              "labels leaves its choice and predictions " + ("unchanged" if search_ok else "CHANGED"),
                              "tests/evaluation/test_search.py"),
            "duplicates": _duplicates(outer), "illegitimate": _position(v7), "temporal": not_sessions,
            "dependence": _dependence({k: max(outer[k], inner.get(k, 0)) for k in outer}),
            "in_sample": Cell("guarded", "the nested accuracy is on outer participants; the after-the-fact best is "
                              "shown as optimistic, never reported as the estimate", "09_level_and_beyond"),
            "cv_wraps": Cell("guarded" if search_ok else "open", "the search itself is inside the outer folds",
                             "09_level_and_beyond"),
            "measures": _measures(found, "09_level_and_beyond", "search_scores", MEASURES),
            "kfold": k_text},
        "ensembles": {
            "test": Cell("guarded", "compared on outer participants; the fold ensemble rebuilt without them",
                         "09_level_and_beyond"),
            "preprocessing": pre, "selection": no_sel, "duplicates": _duplicates(outer),
            "illegitimate": _position(v7), "temporal": not_sessions,
            "dependence": _dependence({k: max(outer[k], inner.get(k, 0)) for k in outer}),
            "in_sample": Cell("open", "the best of three is picked on the same participants it is scored on "
                              "(said in the chapter; it decides what to submit, not an estimate)",
                              "09_level_and_beyond"),
            "cv_wraps": Cell("guarded", "every member trained inside the folds", "09_level_and_beyond"),
            "measures": _measures(found, "09_level_and_beyond", "ensembles", MEASURES),
            "kfold": k_text},
        "time": {
            "test": Cell("guarded", "the outer folds of chapter 7", TIME_SECTION),
            "preprocessing": pre, "selection": no_sel, "duplicates": _duplicates(outer),
            "illegitimate": Cell("guarded", "one second of fMRI per read-out"), "temporal": not_sessions,
            "dependence": _dependence(outer),
            "in_sample": Cell("guarded", "every second scored on held-out participants",
                              TIME_SECTION),
            "cv_wraps": Cell("guarded" if time_ok else "open",
                             "scaler and read-out fitted in each fold: scrambling a fold's labels leaves its "
                             "predictions at every second " + ("unchanged" if time_ok else "CHANGED"),
                             "tests/evaluation/test_timeresolved.py"),
            "measures": Cell("guarded", "balanced accuracy per participant with intervals, and a cluster test"),
            "kfold": k_text},
    }
    out = [{"protocol": PROTOCOLS[p][0], "column": COLUMNS[c], "kind": "leakage" if c in LEAKAGE else "practice",
            "status": cell.status, "how": cell.how, "evidence": cell.evidence}
           for p, cells in rows.items() for c, cell in cells.items()]
    return pd.DataFrame(out)


def wide(long: pd.DataFrame) -> pd.DataFrame:
    """The sheet as a grid: the kinds of leakage and items of practice (:data:`COLUMNS`) in rows, the
    protocols in columns, each cell its mark."""
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
    """The sheet for the page: the grid of marks (kinds of leakage, then practice, against the protocols),
    each cell's reason as its tooltip."""
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
    """Every cell with its reason and evidence (links as HTML) in one column, for the tables under the
    grid."""
    out = long[["protocol", "column", "status"]].copy()
    out["status"] = out["status"].map(lambda s: f"{MARK[s]} {s}")
    out["how, and what shows it"] = [h + (f" ({_link(e)})" if e else "") for h, e in zip(long["how"], long["evidence"])]
    return out


def details_html(long: pd.DataFrame) -> str:
    """The open cells spelled out, then every cell in a collapsed block."""
    det = details(long)
    opened = det[long["status"].to_numpy() == "open"]
    first = (opened.to_html(index=False, escape=False, classes="leakage-details") if len(opened)
             else "<p>No cell is open.</p>")
    return (first + f"<details><summary>All {len(det)} cells, with their reasons and evidence</summary>"
            + det.to_html(index=False, escape=False, classes="leakage-details") + "</details>")


def open_text(long: pd.DataFrame) -> str:
    """The open cells in a sentence per protocol, for the prose under the grid."""
    open_ = long[long["status"] == "open"]
    if open_.empty:
        return "No cell is open."
    parts = [f"{p}: {', '.join(g['column'])}" for p, g in open_.groupby("protocol", sort=False)]
    return "Open: " + "; ".join(parts) + "."
