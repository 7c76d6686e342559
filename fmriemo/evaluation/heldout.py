"""Held-out-participant evaluation: nested group cross-validation over the training participants,
baselines fitted inside the same folds, and the check of whether the trial order's structure (order
twins) changes what a model can score.

Nesting: in each outer fold the test participants are never seen; the model's checkpoint is chosen
on validation participants drawn from the training side of that fold. No test participant informs
training, selection or preprocessing statistics (all preprocessing here is per trial or per
participant and label-free).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..data.dataset import Dataset, check_task, decode
from ..data.splits import (class_orders, fold_participants, group_folds, inner_folds, nested_split, order_groups,
                           training_participants)
from ..metrics import macro_f1, macro_f1_rows
from ..models import registry
from ..profiles import Settings
from ..training.config import config_for
from ..training.runs import RunResult, on_trials, train_runs
from .baselines import baseline_inputs, baseline_pipeline
from .statistics import (Comparison, compare_participants, compare_trials, comparison_table,
                         permutation_vs_chance, wilson_interval)

__all__ = [
    "prediction_rows", "fold_jobs", "fold_runs", "methods_fold_runs", "inner_fold_runs", "run_models",
    "plateau_counts", "order_check", "order_check_models", "run_baselines", "participant_scores",
    "participant_folds", "summarise", "comparisons", "comparisons_table", "fold_model_runs",
    "permutation_table", "per_participant_accuracy",
]


def prediction_rows(ds: Dataset, idx, y_pred, task: str, **keys) -> pd.DataFrame:
    """One row per test trial of a model's predictions: the tidy form every held-out table, test and
    plot reads.

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set (its labelled training participants are the protocol's participants).
    idx : array-like of int
        Row indices of the predicted trials in ``ds``.
    y_pred : array-like of int
        The predicted labels, in the order of ``idx``.
    task : {"class", "level"}
        Which labels ``y_true`` holds.
    **keys
        Constant columns to add (model, seed, fold, ...).

    Returns
    -------
    rows : pandas.DataFrame
        Columns ``keys``, ``participant``, ``index`` (the row in ``ds``), ``y_true`` and ``y_pred``.
    """
    y = ds.labels(task, idx)
    return pd.DataFrame({**keys, "participant": ds.participant[idx], "index": idx, "y_true": y,
                         "y_pred": np.asarray(y_pred, int)})


def fold_jobs(ds: Dataset, method: str, task: str = "class", settings: Settings | None = None,
              preprocessing: str | None = None) -> list[tuple[tuple[int, int], tuple]]:
    """What :func:`fold_runs` trains: one nested split per seed and outer fold, its checkpoint chosen
    on ``settings.fold_n_val`` participants of the training side drawn with the seed. The leakage sheet
    checks these splits.

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set (its labelled training participants are the protocol's participants).
    method : str
        A registered model (:func:`fmriemo.models.registry.spec`).
    task : {"class", "level"}, default="class"
        Valence class or 9-level rating.
    settings : fmriemo.profiles.Settings or None, default=None
        Protocol, folds, seeds, validation participants, epoch budget, cache and device. None: the
        full profile's.
    preprocessing : str or None, default=None
        Input scaling replacing the method's own (:mod:`fmriemo.data.preprocess`); None: its own.

    Returns
    -------
    jobs : list of ((int, int), (Split, TrainConfig))
        ``((seed, fold), (split, config))`` for every seed of ``settings`` and every outer fold.
    """
    check_task(task)
    s = settings or Settings.resolve()
    out = []
    for seed in s.seeds:
        for f, test_p in enumerate(group_folds(ds, s.protocol, s.k, seed=0)):
            cfg = config_for(s.profile, s.epochs, task=task, method=method, seed=seed, device=s.device,
                             preprocess=preprocessing)
            out.append(((seed, f), (nested_split(ds, test_p, s.fold_n_val, seed), cfg)))
    return out


def fold_runs(ds: Dataset, method: str, task: str = "class", settings: Settings | None = None,
              preprocessing: str | None = None) -> list[tuple[int, int, RunResult]]:
    """Train (or load from the cache) one method on every outer fold of the held-out protocol.

    The seeds and folds train side by side (:func:`fmriemo.training.runs.train_runs`); the splits are
    :func:`fold_jobs`'.

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set (its labelled training participants are the protocol's participants).
    method : str
        A registered model.
    task : {"class", "level"}, default="class"
        Valence class or 9-level rating.
    settings : fmriemo.profiles.Settings or None, default=None
        Protocol, folds, seeds, validation participants, epoch budget, cache and device. None: the
        full profile's.
    preprocessing : str or None, default=None
        Input scaling replacing the method's own (:mod:`fmriemo.data.preprocess`); None: its own.

    Returns
    -------
    runs : list of (int, int, fmriemo.training.runs.RunResult)
        ``(seed, fold, run)``, seeds outer, folds inner.
    """
    return methods_fold_runs(ds, [method], task, settings, preprocessing)[method]


def methods_fold_runs(ds: Dataset, methods, task: str = "class", settings: Settings | None = None,
                      preprocessing: str | None = None) -> dict[str, list[tuple[int, int, RunResult]]]:
    """:func:`fold_runs` of several methods in one call of :func:`fmriemo.training.runs.train_runs`,
    so that their runs share the CPU's cores to the end (:func:`fmriemo.training.batched.fit_pool`).

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set (its labelled training participants are the protocol's participants).
    methods : list of str
        Registered models.
    task : {"class", "level"}, default="class"
        Valence class or 9-level rating.
    settings : fmriemo.profiles.Settings or None, default=None
        Protocol, folds, seeds, validation participants, epoch budget, cache and device. None: the
        full profile's.
    preprocessing : str or None, default=None
        Input scaling replacing the method's own (:mod:`fmriemo.data.preprocess`); None: its own.

    Returns
    -------
    runs : dict of str to list of (int, int, fmriemo.training.runs.RunResult)
        ``{method: [(seed, fold, run), ...]}``.
    """
    s = settings or Settings.resolve()
    planned = {m: fold_jobs(ds, m, task, s, preprocessing) for m in methods}
    runs = iter(train_runs(ds, [job for m in methods for _, job in planned[m]], s.cache_dir, s.progress,
                           n_jobs=s.jobs))
    return {m: [(seed, f, next(runs)) for (seed, f), _ in planned[m]] for m in methods}


def inner_fold_runs(ds: Dataset, method: str, task: str = "class", settings: Settings | None = None,
                    inner_k: int = 3) -> dict[int, list[tuple[list[str], RunResult]]]:
    """The nested level of the held-out protocol: each outer fold's method trained once per inner fold.

    For each outer fold of ``settings``, the training participants are divided into at most ``inner_k``
    inner folds of whole order groups (as :func:`fmriemo.evaluation.search.nested_search` scores its
    candidates); each run trains without the outer test participants and without its inner fold, its
    checkpoint chosen on ``settings.fold_n_val`` others, and predicts both its inner fold and the outer
    test participants. The first of ``settings.seeds`` only.

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set (its labelled training participants are the protocol's participants).
    method : str
        A registered model.
    task : {"class", "level"}, default="class"
        Valence class or 9-level rating.
    settings : fmriemo.profiles.Settings or None, default=None
        Protocol, folds, seeds, validation participants, epoch budget, cache and device. None: the
        full profile's.
    inner_k : int, default=3
        Inner folds per outer fold (fewer when there are fewer order groups).

    Returns
    -------
    runs : dict of int to list of (list of str, fmriemo.training.runs.RunResult)
        ``{outer fold: [(inner fold's participants, run), ...]}``.
    """
    check_task(task)
    s = settings or Settings.resolve()
    seed, orders = s.seeds[0], class_orders(ds)
    cfg = config_for(s.profile, s.epochs, task=task, method=method, seed=seed, device=s.device)
    keys, jobs = [], []
    for f, test_p in enumerate(group_folds(ds, s.protocol, s.k, seed=0)):
        rest = [p for p in training_participants(ds) if p not in set(test_p)]
        for fold in inner_folds(orders, rest, inner_k):
            keys.append((f, fold))
            jobs.append((nested_split(ds, list(test_p) + fold, s.fold_n_val, seed), cfg))
    out: dict[int, list] = {}
    for (f, fold), r in zip(keys, train_runs(ds, jobs, s.cache_dir, s.progress, n_jobs=s.jobs)):  # all inner folds in one batch
        out.setdefault(f, []).append((fold, r))
    return out


def _model_name(method: str, preprocessing: str | None) -> str:
    """``method``, or ``method+preprocessing`` when it is not the method's own preprocessing."""
    return method if preprocessing in (None, registry.spec(method).preprocess) else f"{method}+{preprocessing}"


def run_models(ds: Dataset, methods, task: str = "class", settings: Settings | None = None,
               preprocessing: str | None = None, ensemble: bool = False) -> pd.DataFrame:
    """Deep models under nested group cross-validation (:func:`fold_runs` with ``settings``).

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set (its labelled training participants are the protocol's participants).
    methods : list of str
        Registered models.
    task : {"class", "level"}, default="class"
        Valence class or 9-level rating.
    settings : fmriemo.profiles.Settings or None, default=None
        Protocol, folds, seeds, validation participants, epoch budget, cache and device. None: the
        full profile's.
    preprocessing : str or None, default=None
        Input scaling replacing the method's own (:mod:`fmriemo.data.preprocess`); None: its own.
    ensemble : bool, default=False
        Also rows of model ``<name>-ensemble`` (seed -1): the argmax of the probabilities averaged over
        seeds, fold by fold.

    Returns
    -------
    pred : pandas.DataFrame
        One row per model, seed and test trial (:func:`prediction_rows`), with each run's
        ``kept_epoch``, ``on_plateau`` and ``still_improving``.
    """
    s = settings or Settings.resolve()
    out = []
    trained = methods_fold_runs(ds, methods, task, s, preprocessing)
    for method in methods:
        name = _model_name(method, preprocessing)
        by_fold: dict[int, list] = {}
        for seed, f, r in trained[method]:
            out.append(prediction_rows(ds, r.test_index, r.y_pred, task, model=name, seed=seed, fold=f,
                                       kept_epoch=r.best_epoch, on_plateau=r.on_plateau,
                                       still_improving=r.still_improving))
            by_fold.setdefault(f, []).append(r)
        if ensemble:
            for f, rs in by_fold.items():
                proba = np.mean([r.proba for r in rs], axis=0)
                out.append(prediction_rows(ds, rs[0].test_index, decode(task, proba.argmax(1)), task,
                                 model=f"{name}-ensemble", seed=-1, fold=f))
    return pd.concat(out, ignore_index=True)


def plateau_counts(pred: pd.DataFrame) -> pd.DataFrame:
    """How many of each deep model's fold runs did not train or did not finish.

    Parameters
    ----------
    pred : pandas.DataFrame
        Prediction rows (:func:`prediction_rows`), several models, seeds and folds.

    Returns
    -------
    counts : pandas.DataFrame
        Indexed by model: ``runs``, ``on_plateau`` (kept a checkpoint inside the validation plateau,
        :func:`fmriemo.training.loop.plateau_exit`), ``still_improving`` (ended by the epoch cap while
        improving, :func:`fmriemo.training.loop.still_improving`) and ``median_kept_epoch``. Models
        without kept epochs (baselines, ensembles) are left out.
    """
    runs = pred.dropna(subset=["kept_epoch"]).drop_duplicates(["model", "seed", "fold"])
    return runs.groupby("model", sort=False).agg(runs=("fold", "size"), on_plateau=("on_plateau", "sum"),
                                                 still_improving=("still_improving", "sum"),
                                                 median_kept_epoch=("kept_epoch", "median"))


def order_check(ds: Dataset, task: str = "class", kinds=("position", "logreg")) -> pd.DataFrame:
    """Baselines under plain leave-one-participant-out and with order groups held out together: does
    the twin structure of the trial order change what a model can score?

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set (its labelled training participants are the protocol's participants).
    task : {"class", "level"}, default="class"
        Valence class or 9-level rating.
    kinds : tuple of str, default=("position", "logreg")
        Baselines (:data:`fmriemo.evaluation.baselines.BASELINES`).

    Returns
    -------
    accuracy : pandas.DataFrame
        Indexed by baseline: accuracy under ``loso`` and ``order``, and their ``difference``.
    """
    rows = {}
    for protocol in ("loso", "order"):
        pred = run_baselines(ds, task, Settings.resolve(protocol=protocol, seed=0, n_seeds=1), kinds=kinds)
        for kind, g in pred.groupby("model", sort=False):
            rows.setdefault(kind, {})[protocol] = float(np.mean(g.y_true == g.y_pred))
    out = pd.DataFrame(rows).T
    out["difference"] = out["loso"] - out["order"]
    return out


def order_check_models(ds: Dataset, methods, task: str = "class", settings: Settings | None = None) -> pd.DataFrame:
    """The order check for deep models: do folds that split order twins score higher?

    Accuracy over ``settings.k`` participant folds that ignore the order groups ("kfold") and over as
    many that keep them together ("groupkfold"), plus, under "kfold", the accuracy on test participants
    whose order twin was among the training or validation participants (the trials where a leak could
    act). Accuracies are averaged over ``settings.seeds``; the two protocols are this check's own.

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set (its labelled training participants are the protocol's participants).
    methods : list of str
        Registered models; empty: an empty table.
    task : {"class", "level"}, default="class"
        Valence class or 9-level rating.
    settings : fmriemo.profiles.Settings or None, default=None
        Protocol, folds, seeds, validation participants, epoch budget, cache and device. None: the
        full profile's.

    Returns
    -------
    accuracy : pandas.DataFrame
        Indexed by model: ``kfold``, ``groupkfold``, ``twin_in_training`` (NaN when no test participant
        had a twin elsewhere) and ``difference`` (kfold - groupkfold).
    """
    columns = ["kfold", "groupkfold", "twin_in_training", "difference"]
    if not methods:
        return pd.DataFrame(columns=columns)
    s = settings or Settings.resolve()
    k = s.k
    groups = order_groups(ds)
    rows = {}
    for protocol in ("kfold", "groupkfold"):
        pred = run_models(ds, methods, task, settings=s.replace(protocol=protocol))
        hit = pred.y_true == pred.y_pred
        for m, g in pred.groupby("model", sort=False):
            rows.setdefault(m, {})[protocol] = float(hit[g.index].mean())
        if protocol == "kfold":
            tested = {p: f for f, ps in enumerate(group_folds(ds, "kfold", k)) for p in ps}
            twin_in = pred.participant.map(lambda p: any(
                q != p and groups[q] == groups[p] and tested[q] != tested[p] for q in tested))
            for m, g in pred[twin_in].groupby("model", sort=False):
                rows[m]["twin_in_training"] = float(hit[g.index].mean())
    out = pd.DataFrame(rows).T.reindex(columns=["kfold", "groupkfold", "twin_in_training"])
    out["difference"] = out["kfold"] - out["groupkfold"]
    return out


def run_baselines(ds: Dataset, task: str = "class", settings: Settings | None = None,
                  kinds=("majority", "stratified", "logreg"), cv=None) -> pd.DataFrame:
    """Baselines fitted inside the outer folds of the held-out protocol.

    Each baseline trains on all of a fold's non-test training participants; the stratified dummy gets
    one run per seed, the others one run.

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set (its labelled training participants are the protocol's participants).
    task : {"class", "level"}, default="class"
        Valence class or 9-level rating.
    settings : fmriemo.profiles.Settings or None, default=None
        Protocol, folds, seeds, validation participants, epoch budget, cache and device. None: the
        full profile's.
    kinds : tuple of str, default=("majority", "stratified", "logreg")
        Baselines (:data:`fmriemo.evaluation.baselines.BASELINES`).
    cv : cross-validator, list of lists of str or None, default=None
        Folds replacing the protocol's (:func:`fmriemo.data.splits.fold_participants`): the leakage sheet
        passes the same folds for data whose labels it scrambled, since order groups are read off the
        labels.

    Returns
    -------
    pred : pandas.DataFrame
        One row per baseline, seed and test trial (:func:`prediction_rows`).
    """
    check_task(task)
    st = settings or Settings.resolve()
    seeds = st.seeds
    folds = group_folds(ds, st.protocol, st.k, seed=0) if cv is None else fold_participants(ds, cv)
    lab = ds.labelled_train
    out = []
    for kind in kinds:
        X = baseline_inputs(ds, kind)
        for s in (seeds if kind == "stratified" else seeds[:1]):
            for f, test_p in enumerate(folds):
                te = np.flatnonzero(lab & np.isin(ds.participant, test_p))
                tr = np.flatnonzero(lab & ~np.isin(ds.participant, test_p))
                model = baseline_pipeline(kind, s).fit(X[tr], ds.labels(task, tr))
                out.append(prediction_rows(ds, te, model.predict(X[te]), task, model=kind, seed=s, fold=f))
    return pd.concat(out, ignore_index=True)


def participant_scores(pred: pd.DataFrame, model: str) -> pd.DataFrame:
    """A model's accuracy on each held-out participant, seed by seed: the table
    :func:`fmriemo.evaluation.statistics.compare_participants` resamples.

    Parameters
    ----------
    pred : pandas.DataFrame
        Prediction rows (:func:`prediction_rows`), several models, seeds and folds.
    model : str
        The model's name in ``pred``.

    Returns
    -------
    scores : pandas.DataFrame
        One row per training seed (index), one column per participant.
    """
    g = pred[pred.model == model]
    hit = (g.y_true == g.y_pred).groupby([g.seed, g.participant]).mean()
    return hit.unstack("participant")


def participant_folds(pred: pd.DataFrame) -> dict:
    """Each held-out participant's outer fold.

    Parameters
    ----------
    pred : pandas.DataFrame
        Prediction rows (:func:`prediction_rows`), several models, seeds and folds.

    Returns
    -------
    folds : dict of str to int
        Participant -> the fold that tested them (each is tested in one fold).
    """
    return dict(zip(pred.participant, pred.fold))


def _is_trained(pred: pd.DataFrame, model: str) -> bool:
    """Whether ``model``'s rows come from training runs whose seed is a random factor (a deep model: its
    rows carry a kept epoch); a baseline or an ensemble of seeds is not one."""
    g = pred[pred.model == model]
    return "kept_epoch" in g and g["kept_epoch"].notna().any()


def summarise(pred: pd.DataFrame, task: str = "class", n_resamples: int = 1000, clusters=None) -> pd.DataFrame:
    """Per model: held-out accuracy and macro F1 with their spread over seeds and intervals over
    participants and seeds.

    Parameters
    ----------
    pred : pandas.DataFrame
        Prediction rows (:func:`prediction_rows`), several models, seeds and folds.
    task : {"class", "level"}, default="class"
        Valence class or 9-level rating.
    n_resamples : int, default=1000
        Bootstrap resamples of the intervals.
    clusters : dict of str to str or None, default=None
        Participant -> cluster (e.g. order groups) resampled as a whole; None: each participant.

    Returns
    -------
    summary : pandas.DataFrame
        Indexed by model: ``accuracy`` and ``f1`` (means over seeds of the pooled held-out predictions);
        their SD, lowest and highest seed and the SD over folds; ``wilson_lo``/``wilson_hi`` (the pooled
        trials of the first seed: what a single run would state); ``boot_lo``/``boot_hi`` for accuracy
        (participants *and* every fold's seeds resampled,
        :func:`fmriemo.evaluation.statistics.compare_participants`) and ``f1_lo``/``f1_hi``
        (:func:`~fmriemo.evaluation.statistics.compare_trials` with the participants as clusters);
        ``seeds`` and ``trials``.
    """
    rows = []
    folds = participant_folds(pred)
    for model, g in pred.groupby("model", sort=False):
        per_seed = g.groupby("seed").apply(
            lambda d: pd.Series({"accuracy": np.mean(d.y_true == d.y_pred), "f1": macro_f1(d.y_true, d.y_pred, task)}),
            include_groups=False)
        per_fold = g.groupby(["seed", "fold"]).apply(lambda d: np.mean(d.y_true == d.y_pred), include_groups=False)
        first = g[g.seed == g.seed.min()]
        k, n = int((first.y_true == first.y_pred).sum()), len(first)
        lo, hi = wilson_interval(k, n)
        acc = compare_participants(participant_scores(pred, model), 0.0, a=model, b="zero", fold_of=folds,
                                   clusters=clusters, n_resamples=n_resamples)
        wide = g.pivot_table(index="seed", columns="index", values="y_pred")
        truth = g.drop_duplicates("index").set_index("index").loc[wide.columns]
        f1 = compare_trials(truth["y_true"].to_numpy(), wide.to_numpy().astype(int), 0.0,
                            lambda t, p: macro_f1_rows(t, p, task), clusters=truth["participant"].to_numpy(),
                            n_resamples=n_resamples)
        sd = (lambda x: x.std(ddof=1) if len(x) > 1 else np.nan)
        rows.append({"model": model, "accuracy": per_seed["accuracy"].mean(), "accuracy_sd_seeds": sd(per_seed["accuracy"]),
                     "accuracy_min_seed": per_seed["accuracy"].min(), "accuracy_max_seed": per_seed["accuracy"].max(),
                     "accuracy_sd_folds": sd(per_fold),
                     "wilson_lo": lo, "wilson_hi": hi, "boot_lo": acc.lo, "boot_hi": acc.hi,
                     "f1": per_seed["f1"].mean(), "f1_sd_seeds": sd(per_seed["f1"]), "f1_lo": f1.lo, "f1_hi": f1.hi,
                     "seeds": len(per_seed), "trials": n})
    return pd.DataFrame(rows).set_index("model")


def comparisons(pred: pd.DataFrame, pairs, clusters=None, chance: float | None = None, n_resamples: int = 2000,
                n_perm: int = 10000) -> list[Comparison]:
    """Held-out comparisons of models with the training seeds as a random factor.

    Each pair is compared on the same participants by
    :func:`fmriemo.evaluation.statistics.compare_participants`. The seeds of two deep models are paired
    (seed ``s`` of both was trained on the same folds with the same validation participants); a model
    without training seeds (a baseline, an ensemble) counts as one fixed model.

    Parameters
    ----------
    pred : pandas.DataFrame
        Prediction rows (:func:`prediction_rows`), several models, seeds and folds.
    pairs : list of (str, str)
        ``(a, b)``: models in ``pred``; ``b`` may be ``"chance"``. A pair naming a model not in ``pred``
        is skipped.
    clusters : dict of str to str or None, default=None
        Participant -> cluster resampled as a whole (order twins together).
    chance : float or None, default=None
        The level a ``"chance"`` pair compares with.
    n_resamples : int, default=2000
        Bootstrap resamples.
    n_perm : int, default=10000
        Sign-flip permutations of each comparison's test.

    Returns
    -------
    comparisons : list of fmriemo.evaluation.statistics.Comparison
    """
    out, present = [], set(pred.model)
    folds = participant_folds(pred)
    for a, b in pairs:
        if a not in present or (b not in present and b != "chance"):
            continue
        other = chance if b == "chance" else participant_scores(pred, b)
        out.append(compare_participants(participant_scores(pred, a), other, a=a, b=b, fold_of=folds, clusters=clusters,
                                        trained_b=b != "chance" and _is_trained(pred, b),
                                        n_resamples=n_resamples, n_perm=n_perm))
    return out


def comparisons_table(pred: pd.DataFrame, pairs, clusters=None, chance: float | None = None,
                      n_resamples: int = 2000) -> pd.DataFrame:
    """:func:`comparisons` as a table, one row per pair: the form chapter 7 records and the verdict
    reads.

    Parameters
    ----------
    pred : pandas.DataFrame
        Prediction rows (:func:`prediction_rows`), several models, seeds and folds.
    pairs : list of (str, str)
        See :func:`comparisons`.
    clusters : dict of str to str or None, default=None
        See :func:`comparisons`.
    chance : float or None, default=None
        See :func:`comparisons`.
    n_resamples : int, default=2000
        Bootstrap resamples.

    Returns
    -------
    table : pandas.DataFrame
        :func:`fmriemo.evaluation.statistics.comparison_table` of the comparisons.
    """
    return comparison_table(comparisons(pred, pairs, clusters, chance, n_resamples))


def fold_model_runs(ds: Dataset, method: str, task: str, settings: Settings) -> list[tuple[int, int, RunResult]]:
    """The held-out protocol's fold models of a method, each predicting every test trial of the
    challenge: the members of :func:`fmriemo.challenge.ratings.ensemble_submission`.

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set (its labelled training participants are the protocol's participants).
    method : str
        A registered model.
    task : {"class", "level"}
        Valence class or 9-level rating.
    settings : fmriemo.profiles.Settings
        As for :func:`fold_runs`.

    Returns
    -------
    runs : list of (int, int, fmriemo.training.runs.RunResult)
        ``(seed, fold, run)``, each run's predictions those of the challenge's test trials
        (:func:`fmriemo.training.runs.on_trials`).
    """
    test = np.flatnonzero(ds.split == "test")
    return [(seed, f, on_trials(ds, r, test, settings.device)) for seed, f, r in fold_runs(ds, method, task, settings)]


def permutation_table(pred: pd.DataFrame, n_perm: int = 1000) -> pd.DataFrame:
    """Every model's held-out accuracy, averaged over its seeds, tested against chance.

    Labels are shuffled within each participant, the same shuffles for every seed's predictions
    (:func:`fmriemo.evaluation.statistics.permutation_vs_chance`).

    Parameters
    ----------
    pred : pandas.DataFrame
        Prediction rows (:func:`prediction_rows`), several models, seeds and folds.
    n_perm : int, default=1000
        Permutations.

    Returns
    -------
    table : pandas.DataFrame
        Indexed by model: ``seeds``, ``accuracy``, ``null_mean`` and ``p``.
    """
    rows = []
    for m, g in pred.groupby("model", sort=False):
        wide = g.pivot_table(index="seed", columns="index", values="y_pred")
        truth = g.drop_duplicates("index").set_index("index").loc[wide.columns]
        rows.append({"model": m, "seeds": len(wide), **permutation_vs_chance(
            truth.y_true.to_numpy(), wide.to_numpy().astype(int), truth.participant.to_numpy(), n_perm=n_perm)})
    return pd.DataFrame(rows, columns=["model", "seeds", "accuracy", "null_mean", "p"]).set_index("model")


def per_participant_accuracy(pred: pd.DataFrame) -> pd.DataFrame:
    """Each model's accuracy on each held-out participant, averaged over the model's seeds.

    Parameters
    ----------
    pred : pandas.DataFrame
        Prediction rows (:func:`prediction_rows`), several models, seeds and folds.

    Returns
    -------
    table : pandas.DataFrame
        Columns ``model``, ``participant``, ``accuracy`` and ``seeds``.
    """
    hit = pred.assign(hit=pred.y_true == pred.y_pred).groupby(["model", "seed", "participant"], sort=False)["hit"].mean()
    out = hit.groupby(["model", "participant"], sort=False).agg(["mean", "size"])
    return out.rename(columns={"mean": "accuracy", "size": "seeds"}).reset_index()
