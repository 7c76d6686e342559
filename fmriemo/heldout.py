"""Held-out-participant evaluation: nested group cross-validation over the
training participants, baselines fitted inside the same folds, intervals over
participants and paired tests.

Nesting: in each outer fold the test participants are never seen; the model's
checkpoint is chosen on ``n_val`` *other* participants drawn from the
training side of that fold. No test participant informs training, selection
or preprocessing statistics (all preprocessing here is per trial or per
participant and label-free).
"""
from __future__ import annotations


import numpy as np
import pandas as pd
from scipy import stats
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from . import preprocess
from .data import Dataset, check_task
from .evaluate import macro_f1, wilson_interval
from .profiles import PROFILES as _PROFILES
from .profiles import Settings
from .splits import (PROTOCOLS, Split, group_folds, inner_folds, nested_split, order_groups,  # noqa: F401
                     training_participants)
from .train import RunResult, config_for, train_run

#: the held-out chapters' defaults per profile: a view of :data:`fmriemo.profiles.PROFILES`
HELDOUT_PROFILES = {name: p["heldout"] for name, p in _PROFILES.items()}


def _rows(ds, idx, y_pred, task, **keys) -> pd.DataFrame:
    y = {"class": ds.y_class, "level": ds.y_level}[task][idx].astype(int)
    return pd.DataFrame({**keys, "participant": ds.participant[idx], "index": idx, "y_true": y,
                         "y_pred": np.asarray(y_pred, int)})


def fold_runs(ds: Dataset, method: str, task: str = "class", settings: Settings | None = None,
              preprocessing: str | None = None) -> list[tuple[int, int, RunResult]]:
    """Train (or load from the cache) one method on every outer fold: ``[(seed, fold, run), ...]``.
    ``settings`` (:class:`fmriemo.profiles.Settings`; default: the full profile's) gives the
    protocol, folds, seeds, validation size, budget, cache and device; ``preprocessing`` replaces
    the method's own input."""
    check_task(task)
    s = settings or Settings.resolve()
    out = []
    for seed in s.seeds:
        for f, test_p in enumerate(group_folds(ds, s.protocol, s.k, seed=0)):
            cfg = config_for(s.profile, s.epochs, task=task, method=method, seed=seed, device=s.device,
                             preprocess=preprocessing)
            out.append((seed, f, train_run(ds, nested_split(ds, test_p, s.n_val, seed), cfg, s.cache_dir,
                                           s.progress)))
    return out


def inner_fold_runs(ds: Dataset, method: str, task: str = "class", settings: Settings | None = None,
                    inner_k: int = 3) -> dict[int, list[tuple[list[str], RunResult]]]:
    """The nested level of the held-out protocol: for each outer fold ``f`` of ``settings``, the method
    trained once per inner fold of that fold's training participants (whole order groups, at most
    ``inner_k`` folds, as :func:`fmriemo.search.nested_search` scores its candidates), each without
    the outer test participants and without its inner fold, its checkpoint chosen on
    ``settings.n_val`` others. Each predicts both its inner fold and the outer test participants.
    ``{f: [(inner_fold_participants, run), ...]}``; the first of ``settings.seeds``."""
    from .calibrate import class_orders
    check_task(task)
    s = settings or Settings.resolve()
    seed, orders = s.seeds[0], class_orders(ds)
    cfg = config_for(s.profile, s.epochs, task=task, method=method, seed=seed, device=s.device)
    out = {}
    for f, test_p in enumerate(group_folds(ds, s.protocol, s.k, seed=0)):
        rest = [p for p in training_participants(ds) if p not in set(test_p)]
        out[f] = [(fold, train_run(ds, nested_split(ds, list(test_p) + fold, s.n_val, seed), cfg, s.cache_dir,
                                   s.progress)) for fold in inner_folds(orders, rest, inner_k)]
    return out


def search_candidate(ds: Dataset, method: str, settings: Settings | None = None, inner_k: int = 3):
    """A deep class model as an extra candidate of :func:`fmriemo.search.nested_search` (its
    ``extra``): inner predictions from :func:`inner_fold_runs`, outer predictions from the held-out
    protocol's fold models (:func:`fold_runs`, first seed), so the search chooses between it and the
    linear read-outs on the same inner folds. Trains (or loads) on first use."""
    s = (settings or Settings.resolve())
    s = s.replace(seeds=s.seeds[:1])
    lab = (ds.split == "train") & ds.labelled
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


#: the ensembles a submission can use, simplest first (the order that breaks ties)
ENSEMBLES = ("single", "seeds", "folds")


def ensemble_comparison(ds: Dataset, method: str, task: str = "class", settings: Settings | None = None,
                        n_seeds: int = 3, inner_k: int = 3) -> pd.DataFrame:
    """The three ways to submit ``method``, scored on held-out participants (the outer folds of
    ``settings``): one model (first seed), the average of ``n_seeds`` models' probabilities (seeds,
    each with its own validation participants), and the average of the fold models of the protocol
    one level down (:func:`inner_fold_runs`: the fold ensemble ``fmriemo submit --ensemble folds``
    builds from all training participants, rebuilt without the outer test participants). One row
    per (ensemble, held-out trial), ``model`` naming it and ``ensemble`` one of :data:`ENSEMBLES`."""
    from .data import decode
    s = settings or Settings.resolve()
    if n_seeds < 2:
        raise ValueError(f"a seed ensemble needs n_seeds >= 2, got {n_seeds}")
    seeds = tuple(range(s.seeds[0], s.seeds[0] + int(n_seeds)))
    by_fold: dict[int, list] = {}
    for seed, f, r in fold_runs(ds, method, task, s.replace(seeds=seeds)):
        by_fold.setdefault(f, []).append(r)
    inner = inner_fold_runs(ds, method, task, s, inner_k)
    out = []
    for f, rs in sorted(by_fold.items()):
        idx = rs[0].test_index
        inner_proba = []
        for _, r in inner[f]:
            pos = {i: n for n, i in enumerate(r.test_index.tolist())}
            inner_proba.append(r.proba[[pos[i] for i in idx.tolist()]])
        kinds = {"single": ("single model", rs[0].proba),
                 "seeds": (f"seed ensemble ({len(rs)} seeds)", np.mean([r.proba for r in rs], axis=0)),
                 "folds": (f"fold ensemble ({len(inner_proba)} inner folds)", np.mean(inner_proba, axis=0))}
        for kind, (name, proba) in kinds.items():
            out.append(_rows(ds, idx, decode(task, proba.argmax(1)), task, model=name, ensemble=kind, seed=0, fold=f))
    return pd.concat(out, ignore_index=True)


def ensemble_accuracies(pred: pd.DataFrame) -> pd.Series:
    """Held-out accuracy of each ensemble in ``pred`` (from :func:`ensemble_comparison`), indexed by
    (``ensemble``, ``model``) in the order they appear."""
    return pred.assign(hit=pred.y_true == pred.y_pred).groupby(["ensemble", "model"], sort=False)["hit"].mean()


def choose_ensemble(pred: pd.DataFrame) -> str:
    """The ensemble (one of :data:`ENSEMBLES`) with the highest held-out accuracy in ``pred`` (from
    :func:`ensemble_comparison`); ties go to the simpler one."""
    acc = ensemble_accuracies(pred).droplevel("model")
    return max((k for k in ENSEMBLES if k in acc.index), key=lambda k: (round(float(acc[k]), 12), -ENSEMBLES.index(k)))


def model_name(method: str, preprocessing: str | None) -> str:
    """``method``, or ``method+preprocessing`` when it is not the method's own preprocessing."""
    from .models import DEFAULT_PREPROCESS
    return method if preprocessing in (None, DEFAULT_PREPROCESS.get(method)) else f"{method}+{preprocessing}"


def run_models(ds: Dataset, methods, task: str = "class", settings: Settings | None = None,
               preprocessing: str | None = None, ensemble: bool = False) -> pd.DataFrame:
    """Deep models under nested group CV (:func:`fold_runs` with ``settings``). One row per (model,
    seed, test trial). With ``ensemble``, also rows of model ``<name>-ensemble`` (seed -1): the
    argmax of the probabilities averaged over seeds, fold by fold."""
    s = settings or Settings.resolve()
    out = []
    for method in methods:
        name = model_name(method, preprocessing)
        by_fold: dict[int, list] = {}
        for seed, f, r in fold_runs(ds, method, task, preprocessing=preprocessing, settings=s):
            out.append(_rows(ds, r.test_index, r.y_pred, task, model=name, seed=seed, fold=f,
                             kept_epoch=r.best_epoch, on_plateau=r.on_plateau))
            by_fold.setdefault(f, []).append(r)
        if ensemble:
            from .data import decode
            for f, rs in by_fold.items():
                proba = np.mean([r.proba for r in rs], axis=0)
                out.append(_rows(ds, rs[0].test_index, decode(task, proba.argmax(1)), task,
                                 model=f"{name}-ensemble", seed=-1, fold=f))
    return pd.concat(out, ignore_index=True)


def plateau_counts(pred: pd.DataFrame) -> pd.DataFrame:
    """Per deep model: how many of its fold runs kept a checkpoint inside the validation plateau
    (see :func:`fmriemo.train.plateau_exit`), and the median kept epoch."""
    runs = pred.dropna(subset=["kept_epoch"]).drop_duplicates(["model", "seed", "fold"])
    return runs.groupby("model", sort=False).agg(runs=("fold", "size"), on_plateau=("on_plateau", "sum"),
                                                 median_kept_epoch=("kept_epoch", "median"))


def kept_epochs_text(runs) -> str:
    """The kept epochs of ``runs`` (RunResults) in words, with how many kept one on their plateau:
    e.g. ``"212, 240 and 260 after 300 epochs (none on the plateau)"``."""
    runs = list(runs)
    if not runs:
        return "none (no runs)"
    kept = [str(r.best_epoch) for r in runs]
    words = kept[0] if len(kept) == 1 else ", ".join(kept[:-1]) + f" and {kept[-1]}"
    budgets = sorted({r.epochs_run for r in runs})
    on = sum(bool(r.on_plateau) for r in runs)
    ran = (f"after {budgets[0]} epochs" if len(budgets) == 1 else f"after {budgets[0]}-{budgets[-1]} epochs")
    return f"{words} {ran} ({'none' if on == 0 else f'{on} of {len(runs)}'} on the plateau)"


def order_check(ds: Dataset, task: str = "class", kinds=("position", "logreg")) -> pd.DataFrame:
    """Accuracy of baselines under plain leave-one-participant-out and with order groups held out
    together: does the twin structure of the trial order change what a model can score?"""
    rows = {}
    for protocol in ("loso", "order"):
        pred = run_baselines(ds, task, Settings.resolve(protocol=protocol, seed=0, n_seeds=1), kinds=kinds)
        for kind, g in pred.groupby("model", sort=False):
            rows.setdefault(kind, {})[protocol] = float(np.mean(g.y_true == g.y_pred))
    out = pd.DataFrame(rows).T
    out["difference"] = out["loso"] - out["order"]
    return out


def order_check_models(ds: Dataset, methods, task: str = "class", settings: Settings | None = None) -> pd.DataFrame:
    """The same check for deep models: accuracy over ``settings.k`` participant folds that ignore
    the order groups ("kfold") and over as many folds that keep them together ("groupkfold"), plus,
    under "kfold", the accuracy on test participants whose order twin was in another fold, so among
    the training or validation participants (``twin_in_training``: the trials where a leak could
    act; NaN when there are none). The first of ``settings.seeds`` is used; the two protocols are
    this check's own."""
    s = settings or Settings.resolve()
    s = s.replace(seeds=s.seeds[:1])
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


def _window_features(X):
    """Mean percent change from fixation over seconds 8-20, per region (label-free, per trial)."""
    return preprocess.window_mean(preprocess.percent_change(X))


def baseline_pipeline(kind: str, seed: int = 0):
    """scikit-learn pipelines on per-trial features, fitted inside each fold. ``"position"`` sees
    only the trial's number (1..30) and expects it as its one input column."""
    if kind == "position":
        return make_pipeline(OneHotEncoder(categories=[np.arange(1, 31)], handle_unknown="ignore"),
                             LogisticRegression(C=1.0, max_iter=3000))
    feats = FunctionTransformer(lambda X: _window_features(X.reshape(len(X), 246, -1)))
    if kind == "majority":
        return make_pipeline(feats, DummyClassifier(strategy="most_frequent"))
    if kind == "stratified":
        return make_pipeline(feats, DummyClassifier(strategy="stratified", random_state=seed))
    if kind == "logreg":
        return make_pipeline(feats, StandardScaler(), LogisticRegression(C=0.05, max_iter=3000))
    raise ValueError(f"unknown baseline {kind!r}; expected one of {', '.join(BASELINES)}")


BASELINES = ("majority", "stratified", "logreg", "position")


def baseline_inputs(ds: Dataset, kind: str) -> np.ndarray:
    """What a baseline sees: the trial number for ``"position"``, else the flattened fMRI."""
    return ds.trial.reshape(-1, 1) if kind == "position" else ds.X.reshape(len(ds), -1)


def run_baselines(ds: Dataset, task: str = "class", settings: Settings | None = None,
                  kinds=("majority", "stratified", "logreg")) -> pd.DataFrame:
    """Baselines on the outer folds of ``settings`` (protocol and ``k``; the stratified dummy gets
    one run per seed), each trained on all of a fold's non-test training participants."""
    check_task(task)
    st = settings or Settings.resolve()
    protocol, k, seeds = st.protocol, st.k, st.seeds
    y_all = {"class": ds.y_class, "level": ds.y_level}[task]
    lab = (ds.split == "train") & ds.labelled
    out = []
    for kind in kinds:
        X = baseline_inputs(ds, kind)
        for s in (seeds if kind == "stratified" else seeds[:1]):
            for f, test_p in enumerate(group_folds(ds, protocol, k, seed=0)):
                te = np.flatnonzero(lab & np.isin(ds.participant, test_p))
                tr = np.flatnonzero(lab & ~np.isin(ds.participant, test_p))
                model = baseline_pipeline(kind, s).fit(X[tr], y_all[tr].astype(int))
                out.append(_rows(ds, te, model.predict(X[te]), task, model=kind, seed=s, fold=f))
    return pd.concat(out, ignore_index=True)


# --------------------------------------------------------------------------- summaries and tests

def bootstrap_participants(frame: pd.DataFrame, statistic, n_resamples: int = 2000, seed: int = 0,
                           level: float = 0.95) -> tuple[float, float]:
    """Percentile interval of ``statistic(frame)`` resampling the rows of whole *participants*
    (column ``participant``) with replacement (:func:`fmriemo.evaluate.bootstrap` with groups)."""
    from .evaluate import bootstrap
    return bootstrap(statistic, frame, groups=frame["participant"].to_numpy(), n_resamples=n_resamples, seed=seed,
                     level=level)


def participant_bootstrap(pred: pd.DataFrame, statistic, n_resamples: int = 2000, seed: int = 0,
                          level: float = 0.95) -> tuple[float, float]:
    """Participant-bootstrap interval of ``statistic(y_true, y_pred)`` over prediction rows."""
    return bootstrap_participants(pred, lambda d: statistic(d["y_true"].to_numpy(), d["y_pred"].to_numpy()),
                                  n_resamples, seed, level)


def summarise(pred: pd.DataFrame, task: str = "class", n_resamples: int = 1000) -> pd.DataFrame:
    """Per model: accuracy and macro F1 (mean over seeds of the pooled held-out predictions), their
    spread over seeds and folds, a Wilson interval (pooled trials of all seeds) and participant-bootstrap
    intervals (first seed)."""
    rows = []
    for model, g in pred.groupby("model", sort=False):
        per_seed = g.groupby("seed").apply(
            lambda d: pd.Series({"accuracy": np.mean(d.y_true == d.y_pred), "f1": macro_f1(d.y_true, d.y_pred, task)}),
            include_groups=False)
        per_fold = g.groupby(["seed", "fold"]).apply(lambda d: np.mean(d.y_true == d.y_pred), include_groups=False)
        first = g[g.seed == g.seed.min()]
        k, n = int((first.y_true == first.y_pred).sum()), len(first)
        lo, hi = wilson_interval(k, n)
        blo, bhi = participant_bootstrap(first, lambda a, b: np.mean(a == b), n_resamples)
        flo, fhi = participant_bootstrap(first, lambda a, b: macro_f1(a, b, task), n_resamples)
        rows.append({"model": model, "accuracy": per_seed["accuracy"].mean(),
                     "accuracy_sd_seeds": per_seed["accuracy"].std(ddof=1) if len(per_seed) > 1 else np.nan,
                     "accuracy_sd_folds": per_fold.std(ddof=1) if len(per_fold) > 1 else np.nan,
                     "wilson_lo": lo, "wilson_hi": hi, "boot_lo": blo, "boot_hi": bhi,
                     "f1": per_seed["f1"].mean(), "f1_lo": flo, "f1_hi": fhi,
                     "seeds": len(per_seed), "trials": n})
    return pd.DataFrame(rows).set_index("model")


def paired(pred: pd.DataFrame, a: str, b: str, seed=None) -> pd.DataFrame:
    """Predictions of models ``a`` and ``b`` on the same trials (and seed, for two deep models)."""
    pa, pb = pred[pred.model == a], pred[pred.model == b]
    keys = ["index"] + (["seed"] if pa.seed.nunique() > 1 and pb.seed.nunique() > 1 else [])
    if seed is not None:  # picks the seed of models trained with several; a single-seed model stays
        pa = pa[pa.seed == seed] if pa.seed.nunique() > 1 else pa
        pb = pb[pb.seed == seed] if pb.seed.nunique() > 1 else pb
    if "seed" not in keys:
        pa, pb = pa[pa.seed == pa.seed.min()], pb[pb.seed == pb.seed.min()]
    m = pa.merge(pb[keys + ["y_pred"]], on=keys, suffixes=("_a", "_b"))
    return m


def mcnemar_exact(y_true, pred_a, pred_b) -> dict:
    """Exact McNemar test: a two-sided binomial test on the trials exactly one model gets right."""
    ra, rb = np.asarray(pred_a) == np.asarray(y_true), np.asarray(pred_b) == np.asarray(y_true)
    n01, n10 = int(np.sum(ra & ~rb)), int(np.sum(~ra & rb))
    p = stats.binomtest(n01, n01 + n10, 0.5).pvalue if n01 + n10 else 1.0
    return {"a_only": n01, "b_only": n10, "p": float(p)}


def participant_sign_flip(y_true, pred_a, pred_b, participants, n_perm: int = 10000, seed: int = 0) -> dict:
    """Paired permutation test over participants: flip the sign of each participant's accuracy
    difference (a - b); p is two-sided. With few participants (2**n <= ``n_perm``) every sign
    pattern is enumerated and p is exact; otherwise ``n_perm`` random patterns are drawn."""
    d = pd.DataFrame({"p": participants, "ra": np.asarray(pred_a) == np.asarray(y_true),
                      "rb": np.asarray(pred_b) == np.asarray(y_true)})
    diff = d.groupby("p").apply(lambda g: g.ra.mean() - g.rb.mean(), include_groups=False).to_numpy()
    obs = diff.mean()
    n = len(diff)
    if 2 ** n <= n_perm:
        flips = 1.0 - 2.0 * ((np.arange(2 ** n)[:, None] >> np.arange(n)) & 1)
        null = (flips * diff).mean(1)
        p = np.mean(np.abs(null) >= abs(obs) - 1e-12)
    else:
        flips = np.random.default_rng(seed).choice([-1.0, 1.0], size=(n_perm, n))
        null = (flips * diff).mean(1)
        p = (np.sum(np.abs(null) >= abs(obs) - 1e-12) + 1) / (n_perm + 1)
    return {"mean_difference": float(obs), "p": float(p), "participants": n, "exact": bool(2 ** n <= n_perm)}


def permutation_vs_chance(y_true, y_pred, participants, n_perm: int = 2000, seed: int = 0) -> dict:
    """Group-aware permutation test of accuracy against chance: labels are shuffled *within*
    each participant (keeping each participant's label counts), the predictions held fixed."""
    y_true, y_pred, participants = map(np.asarray, (y_true, y_pred, participants))
    obs = float(np.mean(y_true == y_pred))
    rng = np.random.default_rng(seed)
    groups = [np.flatnonzero(participants == p) for p in np.unique(participants)]
    null = np.empty(n_perm)
    for i in range(n_perm):
        yp = y_true.copy()
        for g in groups:
            yp[g] = rng.permutation(y_true[g])
        null[i] = np.mean(yp == y_pred)
    p = (np.sum(null >= obs - 1e-12) + 1) / (n_perm + 1)
    return {"accuracy": obs, "null_mean": float(null.mean()), "p": float(p)}


def fold_model_runs(ds: Dataset, method: str, task: str, settings) -> list:
    """The held-out protocol's fold models of ``method`` (:func:`fmriemo.heldout.fold_runs` with
    ``settings``: each trained on one fold's training participants, its checkpoint chosen on others),
    each predicting every test trial of the challenge (:func:`fmriemo.train.on_trials`), for
    :func:`fmriemo.level.ensemble_submission`."""
    from .train import on_trials
    test = np.flatnonzero(ds.split == "test")
    return [on_trials(ds, r, test, settings.device) for _, _, r in fold_runs(ds, method, task, settings)]
