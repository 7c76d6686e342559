"""A nested search for a better class decoder of new participants (chapter 9).

Every candidate is a linear read-out of label-free features of one trial, so that the whole
search costs about a minute and can be repeated on several data sets:

``input``
    ``"pct"``: percent signal change of each region from the trial's first 5 seconds;
    ``"subjz"``: each region's value z-scored over the same participant's trials (label-free:
    for a new participant it uses that participant's own fMRI, which exists at prediction time);
    ``"pct+subjz"``: both side by side.
``window``
    the seconds averaged: ``"8-21"`` (the video), ``"15-25"`` (the seconds after it, where the
    haemodynamic response of a clip peaks), ``"8-25"``, or ``"bins"`` (four 5-second means from
    second 5 on, side by side: a crude temporal filter that keeps the shape of the response).
    ``"curve"`` (not in the default grid; chapter 9 adds it): the seconds where a time-resolved curve
    of percent change (:func:`fmriemo.evaluation.timeresolved.curve_window`) is highest, the curve
    computed over the training participants of each fit only: in every outer fold from its training
    participants, and for every inner fold from the inner training participants, so neither the outer
    nor the inner test participants inform the window they are scored on.
``C``
    the inverse L2 strength of the logistic regression (shrinkage of the region weights).
``regions``
    ``"all"`` or ``"top 64"``: only the 64 regions whose features separate the classes best in
    the training trials of the fit (ANOVA F, averaged over a region's features), a hard form of
    region dropout; chosen inside every fit, so the held-out participants never inform it.

Besides these linear read-outs, :func:`nested_search` takes *extra* candidates computed elsewhere
(chapter 9 adds this book's Compact model, a small convolutional read-out with dropout on
regions): for each outer fold, their predictions on the fold's training trials from inner-fold
models (on the same inner folds) and on its test trials.

The selection is nested: in each outer fold of the held-out protocol, every candidate is scored
by an inner group cross-validation over the outer fold's *training* participants only (order
groups kept together), the best is refitted on all of them and predicts the outer fold's test
participants. The outer test participants never inform the choice, so the nested accuracy is an
honest estimate of the whole procedure, search included. The outer accuracy of every candidate
is also reported, for the reader to see the landscape; choosing the best of those afterwards
would be optimistic.
"""
from __future__ import annotations

import itertools
from types import SimpleNamespace

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_selection import f_classif
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from tqdm.auto import tqdm

from ..core.errors import DataError
from ..data import preprocess
from ..data.atlas import N_REGIONS
from ..data.dataset import Dataset
from ..data.splits import class_orders, fold_participants, group_folds, inner_folds
from ..profiles import Settings
from . import timeresolved
from .heldout import fold_runs, inner_fold_runs

__all__ = [
    "BASELINE", "EXTRA_NAMES", "INPUTS", "WINDOWS", "CURVE", "CS", "N_SELECTED", "REGIONS", "candidates",
    "features", "RegionSelect", "CurveWindows", "nested_search", "nested_choices", "choose_and_fit",
    "search_candidate", "search_with_models", "search_with_and_without_curve", "draw_row",
]

#: the linear read-out every search result is compared with: chapter 7's baseline (pct 8-21, C = 0.05)
BASELINE = "pct 8-21 C=0.05"
#: how a deep model joins the search as a candidate (:func:`search_candidate`), by name
EXTRA_NAMES = {"compact": "Compact (conv read-out, region dropout)"}
INPUTS = ("pct", "subjz", "pct+subjz")
WINDOWS = {"8-21": (8, 21), "15-25": (15, 25), "8-25": (8, 25), "bins": preprocess.BINS}
#: the window read off a time-resolved curve of each fit's training participants (not in the default grid)
CURVE = "curve"
CS = (0.01, 0.05, 0.2)
N_SELECTED = 64
REGIONS = ("all", f"top {N_SELECTED}")


def candidates(inputs=INPUTS, windows=tuple(WINDOWS), cs=CS, regions=REGIONS) -> list[dict]:
    """Every combination of input, window, C and regions.

    Parameters
    ----------
    inputs : tuple of str, default=INPUTS
        Inputs (``"pct"``, ``"subjz"``, ``"pct+subjz"``).
    windows : tuple of str, default=tuple(WINDOWS)
        Windows: names of :data:`WINDOWS`, or :data:`CURVE`.
    cs : tuple of float, default=CS
        Inverse L2 strengths of the logistic regression.
    regions : tuple of str, default=REGIONS
        ``"all"`` or ``"top 64"``.

    Returns
    -------
    grid : list of dict
        Keys ``input``, ``window``, ``C``, ``regions`` and a readable ``name`` (``"pct 8-21 C=0.05"``,
        ``"pct 8-21 C=0.05 top 64"``).
    """
    for w in windows:
        if w not in WINDOWS and w != CURVE:
            raise ValueError(f"window must be one of {', '.join([*WINDOWS, CURVE])}, got {w!r}")
    for i in inputs:
        if i not in INPUTS:
            raise ValueError(f"input must be one of {', '.join(INPUTS)}, got {i!r}")
    for r in regions:
        if r not in REGIONS:
            raise ValueError(f"regions must be one of {', '.join(REGIONS)}, got {r!r}")
    return [{"name": f"{i} {w} C={c:g}" + ("" if r == "all" else f" {r}"), "input": i, "window": w, "C": float(c),
             "regions": r} for r, i, w, c in itertools.product(regions, inputs, windows, cs)]


def features(ds: Dataset, inp: str, window: str) -> np.ndarray:
    """Features of every trial, computed without labels (:func:`fmriemo.data.preprocess.window_features`).

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set.
    inp : str
        An input of :data:`INPUTS`.
    window : str
        A window of :data:`WINDOWS`.

    Returns
    -------
    F : ndarray of shape (n_trials, n_features)
        Blocks of one value per region.
    """
    if inp not in INPUTS:
        raise ValueError(f"input must be one of {', '.join(INPUTS)}, got {inp!r}")
    return preprocess.window_features(ds.X, inp, WINDOWS[window], ds.participant)


class RegionSelect(BaseEstimator, TransformerMixin):
    """Keep the features of the regions that separate the classes best in the training rows.

    The score of a region is the ANOVA F of its features averaged over them; features come in blocks
    of one value per region, as :func:`features` lays them out. A scikit-learn transformer, so that
    the choice is made inside every fit.

    Parameters
    ----------
    n : int, default=N_SELECTED
        Regions kept.
    n_regions : int, default=N_REGIONS
        Regions per block of features.
    """

    def __init__(self, n: int = N_SELECTED, n_regions: int = N_REGIONS):
        self.n, self.n_regions = n, n_regions

    def fit(self, F, y):
        f, _ = f_classif(F, y)
        per_region = np.nan_to_num(f).reshape(-1, self.n_regions).mean(0)
        keep = np.sort(np.argsort(-per_region, kind="stable")[:self.n])
        self.columns_ = (keep[None, :] + self.n_regions * np.arange(F.shape[1] // self.n_regions)[:, None]).ravel()
        return self

    def transform(self, F):
        return F[:, self.columns_]


def _features_by_key(ds: Dataset, grid: list[dict]) -> dict:
    """The features of every (input, fixed window) in ``grid``, each computed once (a curve window's
    depend on the fit; :class:`CurveWindows`)."""
    out = {}
    for c in grid:
        key = (c["input"], c["window"])
        if key not in out and c["window"] != CURVE:
            out[key] = features(ds, *key)
    return out


class CurveWindows:
    """The ``"curve"`` window of a fit, computed from that fit's training rows only.

    :func:`fmriemo.evaluation.timeresolved.curve_window` on the rows' percent change, with their own
    folds of whole order groups, computed once per set of participants; and the features of an input
    over such a window, computed once per window.

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set.
    inner_k : int, default=3
        Folds of the time-resolved curve.
    """

    def __init__(self, ds: Dataset, inner_k: int = 3):
        self.ds, self.inner_k = ds, inner_k
        self.pct = preprocess.percent_change(ds.X)  # label-free, per trial
        self.y = np.where(ds.labelled_train, np.nan_to_num(ds.y_class), 0).astype(int)
        self.orders = class_orders(ds)
        self.windows: dict = {}
        self.feats: dict = {}

    def window(self, rows: np.ndarray) -> tuple[int, int]:
        parts = self.ds.participant[rows]
        key = tuple(sorted(set(parts)))
        if key not in self.windows:
            folds = inner_folds(self.orders, parts, self.inner_k)
            self.windows[key] = timeresolved.curve_window(self.pct[rows], self.y[rows], parts, folds)
        return self.windows[key]

    def features(self, inp: str, window: tuple[int, int]) -> np.ndarray:
        if (inp, window) not in self.feats:
            self.feats[(inp, window)] = preprocess.window_features(self.ds.X, inp, window, self.ds.participant)
        return self.feats[(inp, window)]


def _model(C: float, regions: str = "all"):
    steps = [] if regions == "all" else [RegionSelect(N_SELECTED)]
    return make_pipeline(*steps, StandardScaler(), LogisticRegression(C=C, max_iter=3000, tol=1e-3))


def _inner_accuracy(F, y, participants, folds, C: float, regions: str = "all") -> float:
    """Accuracy of a read-out over inner ``folds`` (lists of participants) of the rows given: every
    row predicted once, by the model fitted without its fold. ``F`` is the rows' features, or a list of
    them, one per fold (a curve window chosen without that fold)."""
    hits = []
    for i, fold in enumerate(folds):
        Fi = F[i] if isinstance(F, list) else F
        te = np.isin(participants, fold)
        hits.append(_model(C, regions).fit(Fi[~te], y[~te]).predict(Fi[te]) == y[te])
    return float(np.concatenate(hits).mean())


def _scored_features(c: dict, feats: dict, curves: CurveWindows | None, rows: np.ndarray, folds: list):
    """A candidate's features for scoring on ``folds`` of ``rows`` (one matrix, or one per fold for a
    curve window, each read off the curve of the rows outside that fold) and for its final fit on all
    ``rows`` (with the window read off all of them): ``(scored, final, window)``."""
    if c["window"] != CURVE:
        F = feats[(c["input"], c["window"])]
        return F[rows], F, c["window"]
    parts = curves.ds.participant[rows]
    per_fold = [curves.features(c["input"], curves.window(rows[~np.isin(parts, fold)]))[rows] for fold in folds]
    window = curves.window(rows)
    return per_fold, curves.features(c["input"], window), f"{window[0]}-{window[1]}"


def nested_search(ds: Dataset, protocol: str = "groupkfold", k: int = 3, inner_k: int = 3,
                  grid: list[dict] | None = None, cv=None, extra: dict | None = None,
                  progress: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The nested search over every candidate, one choice among them all (:func:`nested_choices`).

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set; the search reads the labels of its training participants only.
    protocol : str, default="groupkfold"
        The outer folds' protocol (:func:`fmriemo.data.splits.group_folds`).
    k : int, default=3
        Outer folds of ``"groupkfold"``.
    inner_k : int, default=3
        Inner folds (whole order groups) that score the candidates.
    grid : list of dict or None, default=None
        Candidates (:func:`candidates`); None: the default grid.
    cv : cross-validator, list of lists of str or None, default=None
        Outer folds replacing ``protocol`` and ``k``: a splitter of participants such as
        :class:`fmriemo.data.splits.OrderGroupKFold`, or lists of test participants
        (:func:`fmriemo.data.splits.fold_participants`).
    extra : dict or None, default=None
        Candidates computed elsewhere: name -> ``predict(f, test_participants, inner) -> (inner_pred,
        outer_pred)``, class predictions (-1/0/1, as ``ds.y_class``) for outer fold ``f``'s training rows,
        each by a model that did not see its inner fold (``inner``: lists of participants, the folds
        every candidate is scored on), and for its test rows, in data set order
        (:func:`search_candidate`).
    progress : bool, default=False
        Show a bar over the outer folds.

    Returns
    -------
    table : pandas.DataFrame
        Per candidate, as :func:`nested_choices`.
    nested : pandas.DataFrame
        One row per held-out trial of the procedure that chooses inside each outer fold.
    """
    table, chosen = nested_choices(ds, protocol, k, inner_k, grid, cv, extra, progress)
    return table, chosen[_ALL]


#: the name of the choice among every candidate (:func:`nested_choices`)
_ALL = "all"


def nested_choices(ds: Dataset, protocol: str = "groupkfold", k: int = 3, inner_k: int = 3,
                   grid: list[dict] | None = None, cv=None, extra: dict | None = None,
                   progress: bool = False, choices: dict | None = None) -> tuple[pd.DataFrame, dict]:
    """The nested search: every candidate scored once, one nested choice made per entry of ``choices``.

    In each outer fold every candidate is scored by inner group cross-validation over the fold's
    training participants, the best is refitted on all of them and predicts the fold's test
    participants. Several choices (each among a subset of the candidates) cost one search and equal
    :func:`nested_search` on each subset; ties are broken by the grid's order.

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set; the search reads the labels of its training participants only.
    protocol : str, default="groupkfold"
        The outer folds' protocol (:func:`fmriemo.data.splits.group_folds`).
    k : int, default=3
        Outer folds of ``"groupkfold"``.
    inner_k : int, default=3
        Inner folds (whole order groups) that score the candidates.
    grid : list of dict or None, default=None
        Candidates (:func:`candidates`); None: the default grid.
    cv : cross-validator, list of lists of str or None, default=None
        Outer folds replacing ``protocol`` and ``k``: a splitter of participants such as
        :class:`fmriemo.data.splits.OrderGroupKFold`, or lists of test participants
        (:func:`fmriemo.data.splits.fold_participants`).
    extra : dict or None, default=None
        Candidates computed elsewhere: name -> ``predict(f, test_participants, inner) -> (inner_pred,
        outer_pred)``, class predictions (-1/0/1, as ``ds.y_class``) for outer fold ``f``'s training rows,
        each by a model that did not see its inner fold (``inner``: lists of participants, the folds
        every candidate is scored on), and for its test rows, in data set order
        (:func:`search_candidate`).
    progress : bool, default=False
        Show a bar over the outer folds.
    choices : dict of str to list of str or None, default=None
        Name -> the candidate names it chooses among. None: one choice among every candidate.

    Returns
    -------
    table : pandas.DataFrame
        Per candidate: mean inner accuracy over the outer folds, outer (held-out) accuracy, and in how
        many outer folds the first choice picked it.
    nested : dict of str to pandas.DataFrame
        Per choice, one row per held-out trial: ``participant``, ``index``, ``fold``, ``y_true``,
        ``y_pred``, ``chosen`` and its ``inner accuracy``.
    """
    grid = grid or candidates()
    extra = extra or {}
    lab = ds.labelled_train
    orders = class_orders(ds)
    y_all = np.where(lab, np.nan_to_num(ds.y_class), 0).astype(int)
    feats = _features_by_key(ds, grid)
    curves = CurveWindows(ds, inner_k) if any(c["window"] == CURVE for c in grid) else None
    names = [c["name"] for c in grid] + list(extra)
    if len(set(names)) != len(names):
        raise ValueError("candidate names must be unique")
    choices = choices or {_ALL: names}
    for name, among in choices.items():
        unknown = sorted(set(among) - set(names))
        if unknown or not among:
            raise ValueError(f"choice {name!r} must name candidates of the search; unknown: {unknown}")
    member = {name: np.isin(names, list(among)) for name, among in choices.items()}
    folds = group_folds(ds, protocol, k) if cv is None else fold_participants(ds, cv)
    inner = np.zeros((len(folds), len(names)))
    outer_hits = [[] for _ in names]
    rows = {name: [] for name in choices}
    bar = tqdm(total=len(folds) * len(names), desc="nested search", leave=False) if progress else None
    for f, test_p in enumerate(folds):
        te = np.flatnonzero(lab & np.isin(ds.participant, test_p))
        tr = np.flatnonzero(lab & ~np.isin(ds.participant, test_p))
        inner_p = inner_folds(orders, ds.participant[tr], inner_k)
        preds, windows = [], []
        for j, c in enumerate(grid):
            scored, F, window = _scored_features(c, feats, curves, tr, inner_p)
            inner[f, j] = _inner_accuracy(scored, y_all[tr], ds.participant[tr], inner_p, c["C"], c["regions"])
            preds.append(_model(c["C"], c["regions"]).fit(F[tr], y_all[tr]).predict(F[te]))
            windows.append(window)
            if bar is not None:
                bar.update(1)
        for j, predict in enumerate(extra.values(), start=len(grid)):
            inner_pred, outer_pred = (np.asarray(a, int) for a in predict(f, list(test_p), inner_p))
            if inner_pred.shape != tr.shape or outer_pred.shape != te.shape:
                raise ValueError(f"extra candidate {names[j]!r} must predict {len(tr)} training and {len(te)} test "
                                 f"trials of fold {f}, got {inner_pred.shape[0]} and {outer_pred.shape[0]}")
            inner[f, j] = float(np.mean(inner_pred == y_all[tr]))
            preds.append(outer_pred)
            windows.append("")
            if bar is not None:
                bar.update(1)
        for j, pred in enumerate(preds):
            outer_hits[j].append(pred == y_all[te])
        for name, allowed in member.items():
            best = int(np.argmax(np.where(allowed, inner[f], -np.inf)))  # ties: the first in the grid's order
            row = {"participant": ds.participant[te], "index": te, "fold": f, "y_true": y_all[te],
                   "y_pred": preds[best], "chosen": names[best], "inner accuracy": inner[f, best]}
            if curves is not None:  # the seconds the chosen read-out averaged, where a curve may have chosen them
                row["seconds"] = windows[best]
            rows[name].append(pd.DataFrame(row))
    if bar is not None:
        bar.close()
    chosen = [r["chosen"].iloc[0] for r in next(iter(rows.values()))]
    described = [(c["input"], c["window"], c["C"], c["regions"], "linear") for c in grid] + \
        [("", "", np.nan, "", "extra") for _ in extra]
    table = pd.DataFrame(described, columns=["input", "window", "C", "regions", "read-out"], index=names)
    table.index.name = "candidate"
    table["inner accuracy"] = inner.mean(0)
    table["held-out accuracy"] = [float(np.concatenate(h).mean()) for h in outer_hits]
    table["chosen in folds"] = [chosen.count(n) for n in names]
    return table, {name: pd.concat(r, ignore_index=True) for name, r in rows.items()}


def choose_and_fit(ds: Dataset, inner_k: int = 3, grid: list[dict] | None = None):
    """The search as a decoder for a submission, fitted on every labelled training participant.

    Every linear candidate is scored by group cross-validation over all labelled training
    participants (``inner_k`` folds of whole order groups); the best is fitted on all of them and
    predicts every test trial. Labels of test participants are never read.

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set.
    inner_k : int, default=3
        Folds that score the candidates.
    grid : list of dict or None, default=None
        Linear candidates (:func:`candidates`); None: the default grid.

    Returns
    -------
    chosen : dict
        The chosen candidate.
    scores : pandas.Series
        Every candidate's cross-validated accuracy, by name.
    prediction : types.SimpleNamespace
        A stand-in run with ``test_index`` and class ``proba`` (columns negative/neutral/positive) for
        :func:`fmriemo.challenge.ratings.ensemble_submission`.
    """
    grid = grid or candidates()
    lab = np.flatnonzero(ds.labelled_train)
    test = np.flatnonzero(ds.split == "test")
    if len(test) == 0:
        raise DataError(f"{ds.source}: no Test participants to predict")
    orders = class_orders(ds)
    inner = inner_folds(orders, ds.participant[lab], inner_k)
    y = ds.labels("class", lab)
    feats = _features_by_key(ds, grid)
    curves = CurveWindows(ds, inner_k) if any(c["window"] == CURVE for c in grid) else None
    scores = pd.Series({c["name"]: _inner_accuracy(_scored_features(c, feats, curves, lab, inner)[0], y,
                                                   ds.participant[lab], inner, c["C"], c["regions"]) for c in grid},
                       name="cross-validated accuracy")
    chosen = next(c for c in grid if c["name"] == scores.idxmax())  # ties: the first in the grid's order
    F = _scored_features(chosen, feats, curves, lab, inner)[1]
    model = _model(chosen["C"], chosen["regions"]).fit(F[lab], y)
    proba = np.zeros((len(test), 3))
    proba[:, np.searchsorted([-1, 0, 1], model.classes_)] = model.predict_proba(F[test])
    return chosen, scores, SimpleNamespace(test_index=test, proba=proba)


def search_candidate(ds: Dataset, method: str, settings: Settings | None = None, inner_k: int = 3):
    """A deep class model as an extra candidate of :func:`nested_search` (its ``extra``).

    Inner predictions come from :func:`fmriemo.evaluation.heldout.inner_fold_runs`, outer ones from
    the held-out protocol's fold models (:func:`fmriemo.evaluation.heldout.fold_runs`, first seed), so
    the search chooses between it and the linear read-outs on the same inner folds. Trains (or loads)
    on first use.

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set.
    method : str
        A registered class model.
    settings : fmriemo.profiles.Settings or None, default=None
        The held-out protocol's settings; None: the full profile's.
    inner_k : int, default=3
        Inner folds.

    Returns
    -------
    predict : callable
        ``predict(f, test_participants, inner) -> (inner_pred, outer_pred)``.
    """
    s = (settings or Settings.resolve())
    s = s.replace(seeds=s.seeds[:1])
    lab = ds.labelled_train
    cache: dict = {}

    def predict(f: int, test_p: list, inner: list):
        if not cache:
            cache["inner"] = inner_fold_runs(ds, method, "class", s, inner_k)
            cache["outer"] = {fold: r for _, fold, r in fold_runs(ds, method, "class", s)}
        runs = cache["inner"].get(f, [])
        if sorted(map(sorted, (fold for fold, _ in runs))) != sorted(map(sorted, inner)):
            raise ValueError(f"{method}: the inner folds of outer fold {f} differ from the search's; run both with "
                             "the same protocol, k and inner_k")
        te = np.flatnonzero(lab & np.isin(ds.participant, test_p))
        tr = np.flatnonzero(lab & ~np.isin(ds.participant, test_p))
        by_index = {}
        for fold, r in runs:
            mine = np.isin(ds.participant[r.test_index], fold)
            by_index.update(zip(r.test_index[mine].tolist(), np.asarray(r.y_pred)[mine].tolist()))
        outer = cache["outer"][f]
        if not np.array_equal(np.sort(outer.test_index), te):
            raise ValueError(f"{method}: outer fold {f}'s model was tested on other participants than the search's")
        out_map = dict(zip(outer.test_index.tolist(), np.asarray(outer.y_pred).tolist()))
        return np.array([by_index[i] for i in tr]), np.array([out_map[i] for i in te])

    return predict


def _model_candidates(ds: Dataset, settings: Settings, models) -> dict:
    """The deep ``models`` as extra candidates of :func:`nested_choices`, named by :data:`EXTRA_NAMES`."""
    return {EXTRA_NAMES.get(m, m): search_candidate(ds, m, settings) for m in models}


def search_with_models(ds: Dataset, settings: Settings, models=("compact",)) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The nested search over the linear read-outs and deep models, on the held-out protocol's folds.

    Each deep model is a candidate scored on the same inner folds by models trained inside them.

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set; the search reads the labels of its training participants only.
    settings : fmriemo.profiles.Settings
        The held-out protocol's folds, seeds, budget, cache and device.
    models : tuple of str, default=("compact",)
        Deep class models added as candidates (named by :data:`EXTRA_NAMES`).

    Returns
    -------
    table : pandas.DataFrame
        Per candidate, as :func:`nested_search`.
    nested : pandas.DataFrame
        The nested predictions, as :func:`nested_search`.
    """
    extra = _model_candidates(ds, settings, models)
    return nested_search(ds, settings.protocol, settings.k, extra=extra, progress=settings.progress)


def search_with_and_without_curve(ds: Dataset, settings: Settings, models=("compact",)):
    """Chapter 9's two searches in one pass: without and with the ``"curve"`` windows.

    Every candidate of :func:`search_with_models` and, for each input, the same read-outs over a
    ``"curve"`` window are scored once; one choice is among the usual candidates, the other among all.

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set; the search reads the labels of its training participants only.
    settings : fmriemo.profiles.Settings
        The held-out protocol's folds, seeds, budget, cache and device.
    models : tuple of str, default=("compact",)
        Deep class models added as candidates (named by :data:`EXTRA_NAMES`).

    Returns
    -------
    table : pandas.DataFrame
        The usual candidates only (as :func:`search_with_models` gives it).
    nested : pandas.DataFrame
        The nested predictions choosing among the usual candidates.
    curve_nested : pandas.DataFrame
        The nested predictions choosing among all, curve windows included.
    """
    grid = candidates(windows=(*WINDOWS, CURVE))
    extra = _model_candidates(ds, settings, models)
    usual = [c["name"] for c in grid if c["window"] != CURVE] + list(extra)
    table, chosen = nested_choices(ds, settings.protocol, settings.k, grid=grid, extra=extra,
                                   progress=settings.progress,
                                   choices={"search": usual, "curve": [c["name"] for c in grid] + list(extra)})
    return table.loc[usual], chosen["search"].drop(columns="seconds"), chosen["curve"]


def draw_row(grid: pd.DataFrame, nested: pd.DataFrame) -> dict:
    """One data set's search in one row.

    Parameters
    ----------
    grid : pandas.DataFrame
        The candidates table of a search.
    nested : pandas.DataFrame
        Its nested predictions.

    Returns
    -------
    row : dict
        The nested accuracy, the fixed baseline's and the best candidate's held-out accuracy (the
        optimistic after-the-fact pick), the read-outs the folds chose, and the nested search's gain over
        the baseline.
    """
    picks = nested.drop_duplicates("fold")["chosen"].tolist()
    acc = float(np.mean(nested.y_true == nested.y_pred))
    base = float(grid.loc[BASELINE, "held-out accuracy"])
    return {"nested search accuracy": acc, "baseline (pct 8-21, C=0.05)": base,
            "best candidate after the fact": float(grid["held-out accuracy"].max()),
            "chosen read-outs": "; ".join(dict.fromkeys(picks)), "gain over baseline": acc - base}

