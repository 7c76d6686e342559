"""The book's statistics: the one bootstrap (over trials, or over whole participants), the Wilson
interval, a group-aware permutation test against chance, the paired comparisons of two models on
the same trials (exact McNemar, a sign-flip permutation over participants), and the comparisons that
treat training seeds as a random factor (:class:`Comparison`, :func:`compare_participants`,
:func:`compare_trials`): an interval from resampling both the seeds of every trained model and the
people or trials it is tested on, the sign of the difference seed by seed, and a predictive
distribution for one more run (:func:`predictive_chance`)."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from ..metrics import classification_metrics, macro_f1

__all__ = [
    "wilson_interval", "bootstrap", "metrics_with_intervals", "paired", "mcnemar_exact",
    "participant_sign_flip", "permutation_vs_chance", "Comparison", "comparison_table", "sign_flip_clusters",
    "compare_participants", "compare_trials", "predictive_chance",
]


def wilson_interval(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion ``k / n`` (scipy's ``binomtest``).

    Parameters
    ----------
    k : int
        Successes.
    n : int
        Trials.
    level : float, default=0.95
        Confidence level.

    Returns
    -------
    lo, hi : float
        The interval's bounds.
    """
    if n <= 0:
        return (float("nan"), float("nan"))
    ci = stats.binomtest(int(k), int(n)).proportion_ci(confidence_level=level, method="wilson")
    return float(ci.low), float(ci.high)


def bootstrap(statistic, *arrays, groups=None, n_resamples: int = 2000, seed: int = 0,
              level: float = 0.95) -> tuple[float, float]:
    """The book's one bootstrap: a percentile interval of ``statistic(*arrays)``.

    Without ``groups``, rows (trials) are resampled with replacement (scipy's paired bootstrap).
    With ``groups``, whole groups are resampled, so that the trials of one person move together:
    the interval for new participants.

    Parameters
    ----------
    statistic : callable
        Called with the resampled ``arrays``; returns a number.
    *arrays : numpy.ndarray or pandas object
        Equal-length arrays resampled together (pandas rows taken with ``.iloc``).
    groups : array-like, default=None
        One label per row (for example the participant); None: rows are independent.
    n_resamples : int, default=2000
        Bootstrap resamples.
    seed : int, default=0
        Seed of the resampling.
    level : float, default=0.95
        Confidence level.

    Returns
    -------
    lo, hi : float
        The percentile interval's bounds.
    """
    if groups is None:
        arrays = tuple(np.asarray(a) for a in arrays)
        res = stats.bootstrap(arrays, statistic, paired=True, vectorized=False, n_resamples=n_resamples,
                              confidence_level=level, method="percentile",
                              random_state=np.random.default_rng(seed))
        return float(res.confidence_interval.low), float(res.confidence_interval.high)
    labels = np.asarray(groups)
    members = [np.flatnonzero(labels == g) for g in np.unique(labels)]  # groups in sorted order
    rng = np.random.default_rng(seed)

    def take(a, idx):
        return a.iloc[idx] if hasattr(a, "iloc") else np.asarray(a)[idx]

    vals = []
    for _ in range(n_resamples):
        idx = np.concatenate([members[i] for i in rng.integers(0, len(members), len(members))])
        vals.append(statistic(*(take(a, idx) for a in arrays)))
    a = (1 - level) / 2
    return float(np.quantile(vals, a)), float(np.quantile(vals, 1 - a))


def metrics_with_intervals(y_true, y_pred, task: str, n_resamples: int = 2000, seed: int = 0) -> dict:
    """Macro metrics with a Wilson interval for accuracy and a bootstrap interval for macro F1.

    Parameters
    ----------
    y_true : array-like of int, shape (n_trials,)
        The true labels.
    y_pred : array-like of int, shape (n_trials,)
        The predicted labels.
    task : {"class", "level"}
        Which labels these are.
    n_resamples : int, default=2000
        Bootstrap resamples of the F1 interval.
    seed : int, default=0
        Seed of the bootstrap.

    Returns
    -------
    metrics : dict
        :func:`fmriemo.metrics.classification_metrics` plus ``accuracy_ci`` and ``f1_ci`` (pairs of
        bounds).
    """
    m = classification_metrics(y_true, y_pred, task)
    k = int(np.sum(np.asarray(y_true) == np.asarray(y_pred)))
    m["accuracy_ci"] = wilson_interval(k, len(y_true))
    m["f1_ci"] = bootstrap(lambda a, b: macro_f1(a, b, task), y_true, y_pred, n_resamples=n_resamples, seed=seed)
    return m


def paired(pred: pd.DataFrame, a: str, b: str, seed=None) -> pd.DataFrame:
    """Predictions of models ``a`` and ``b`` on the same trials, side by side.

    Parameters
    ----------
    pred : pandas.DataFrame
        Prediction rows with at least ``model``, ``seed``, ``index`` (the trial's row in the data set)
        and ``y_pred``, as the held-out protocols record them.
    a, b : str
        The two models.
    seed : int, default=None
        The training seed to keep of a model trained with several (a single-seed model keeps its
        own); None: matched seed by seed when both have several, else the first seed of each.

    Returns
    -------
    table : pandas.DataFrame
        ``a``'s rows with ``b``'s prediction beside them: ``y_pred_a`` and ``y_pred_b``.
    """
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
    """Exact McNemar test: a two-sided binomial test on the trials that exactly one model gets right.

    Parameters
    ----------
    y_true : array-like of int, shape (n_trials,)
        The true labels.
    pred_a, pred_b : array-like of int, shape (n_trials,)
        The two models' predictions on those trials.

    Returns
    -------
    result : dict
        ``a_only`` (trials only ``a`` gets right), ``b_only`` (only ``b``) and the two-sided ``p``.
    """
    ra, rb = np.asarray(pred_a) == np.asarray(y_true), np.asarray(pred_b) == np.asarray(y_true)
    n01, n10 = int(np.sum(ra & ~rb)), int(np.sum(~ra & rb))
    p = stats.binomtest(n01, n01 + n10, 0.5).pvalue if n01 + n10 else 1.0
    return {"a_only": n01, "b_only": n10, "p": float(p)}


def participant_sign_flip(y_true, pred_a, pred_b, participants, n_perm: int = 10000, seed: int = 0) -> dict:
    """Paired permutation test over participants of the difference in accuracy between two models.

    The sign of each participant's accuracy difference (``a`` - ``b``) is flipped; p is two-sided.
    With few participants (2**n at most ``n_perm``) every sign pattern is enumerated and p is exact;
    otherwise ``n_perm`` random patterns are drawn.

    Parameters
    ----------
    y_true : array-like of int, shape (n_trials,)
        The true labels.
    pred_a, pred_b : array-like of int, shape (n_trials,)
        The two models' predictions.
    participants : array-like, shape (n_trials,)
        The participant of each trial.
    n_perm : int, default=10000
        Random sign patterns drawn when they cannot all be enumerated.
    seed : int, default=0
        Seed of those draws.

    Returns
    -------
    result : dict
        ``mean_difference`` (over participants, of the accuracy difference), ``p``, ``participants``
        (how many) and ``exact`` (whether every pattern was enumerated).
    """
    d = pd.DataFrame({"p": participants, "ra": np.asarray(pred_a) == np.asarray(y_true),
                      "rb": np.asarray(pred_b) == np.asarray(y_true)})
    diff = d.groupby("p").apply(lambda g: g.ra.mean() - g.rb.mean(), include_groups=False).to_numpy()
    n = len(diff)
    p = sign_flip_clusters(diff, np.arange(n), n_perm, seed)  # every participant its own cluster
    return {"mean_difference": float(diff.mean()), "p": p, "participants": n, "exact": bool(2 ** n <= n_perm)}


def permutation_vs_chance(y_true, y_pred, participants, n_perm: int = 2000, seed: int = 0) -> dict:
    """Group-aware permutation test of accuracy against chance.

    The labels are shuffled *within* each participant (keeping each participant's label counts), the
    predictions held fixed.

    Parameters
    ----------
    y_true : array-like of int, shape (n_trials,)
        The true labels.
    y_pred : array-like of int, shape (n_trials,) or (n_seeds, n_trials)
        The predictions, or one row of them per training seed: the accuracy is then their mean, and each
        shuffle is scored against every seed's predictions.
    participants : array-like, shape (n_trials,)
        The participant of each trial.
    n_perm : int, default=2000
        Shuffles.
    seed : int, default=0
        Seed of the shuffles.

    Returns
    -------
    result : dict
        ``accuracy``, the shuffles' mean accuracy ``null_mean`` and the one-sided ``p``.
    """
    y_true, participants = np.asarray(y_true), np.asarray(participants)
    y_pred = np.atleast_2d(np.asarray(y_pred))
    obs = float(np.mean(y_pred == y_true))
    rng = np.random.default_rng(seed)
    groups = [np.flatnonzero(participants == p) for p in np.unique(participants)]
    null = np.empty(n_perm)
    for i in range(n_perm):
        yp = y_true.copy()
        for g in groups:
            yp[g] = rng.permutation(y_true[g])
        null[i] = np.mean(y_pred == yp)
    p = (np.sum(null >= obs - 1e-12) + 1) / (n_perm + 1)
    return {"accuracy": obs, "null_mean": float(null.mean()), "p": float(p)}


# --------------------------------------------------------------------------- seeds as a random factor

@dataclass(frozen=True)
class Comparison:
    """Method ``a`` against ``b`` on one measure, the training seeds of each a random factor.

    ``b`` is another method or a fixed level such as chance. Made by :func:`compare_participants` and
    :func:`compare_trials`, which resample both levels: the units scored (participants in clusters, or
    trials) and, independently for each model, its seeds.

    Parameters
    ----------
    a, b : str
        The two methods (``b`` may name a level, such as "chance").
    measure : str
        What is compared ("accuracy", "macro F1", ...).
    estimate : float
        ``a``'s score averaged over its seeds minus ``b``'s averaged over its own.
    lo, hi : float
        The interval of ``estimate`` over both levels.
    seeds_a, seeds_b : int
        Training seeds of each; ``seeds_b`` is 0 for a fixed level or a model without seeds (a
        deterministic baseline).
    seed_differences : tuple of float, default=()
        The differences seed by seed: seed ``s`` of ``a`` against seed ``s`` of ``b`` where the seeds share
        a split, every pair otherwise, ``a``'s seeds against the level when ``b`` is one.
    p : float, default=nan
        Two-sided sign-flip p over clusters of the seed-averaged differences where the units are
        participants; NaN otherwise.
    units, clusters : int, default=0
        How many units and clusters were resampled.
    width_ratio : float, default=nan
        The interval's width over that of a bootstrap treating the units as independent and the seeds as
        fixed (the naive interval).
    higher_is_better : bool, default=True
        False for an error (the challenge's score).
    """

    a: str
    b: str
    measure: str
    estimate: float
    lo: float
    hi: float
    seeds_a: int
    seeds_b: int
    seed_differences: tuple = field(default=())
    p: float = math.nan
    units: int = 0
    clusters: int = 0
    width_ratio: float = math.nan
    higher_is_better: bool = True

    @property
    def agreeing(self) -> int:
        """How many seed differences have the sign of the estimate (0 when the estimate is 0 or NaN)."""
        if not (math.isfinite(self.estimate) and self.estimate != 0):
            return 0
        return int(sum(np.sign(d) == np.sign(self.estimate) for d in self.seed_differences))

    def row(self) -> dict:
        """The comparison as a flat record (a results-table row); :meth:`from_row` reads it back."""
        d = asdict(self)
        d["seed_differences"] = " ".join(repr(float(x)) for x in self.seed_differences)
        d["agreeing"] = self.agreeing
        return d

    @classmethod
    def from_row(cls, row) -> "Comparison":
        row = dict(row)
        diffs = row.get("seed_differences") or ""
        names = {f for f in cls.__dataclass_fields__}
        kw = {k: v for k, v in row.items() if k in names and k != "seed_differences"}
        for k in ("seeds_a", "seeds_b", "units", "clusters"):
            kw[k] = int(kw.get(k) or 0)
        for k in ("estimate", "lo", "hi", "p", "width_ratio"):
            kw[k] = math.nan if kw.get(k) is None else float(kw[k])
        kw["higher_is_better"] = bool(kw.get("higher_is_better", True))
        return cls(**kw, seed_differences=tuple(float(x) for x in str(diffs).split()))


def comparison_table(comparisons) -> pd.DataFrame:
    """Comparisons as a table, one row each: the form a chapter records and the verdict reads.

    Parameters
    ----------
    comparisons : iterable of Comparison

    Returns
    -------
    table : pandas.DataFrame
        One row per comparison (:meth:`Comparison.row`): a column per field, plus ``agreeing``, how
        many seed differences have the estimate's sign.
    """
    return pd.DataFrame([c.row() for c in comparisons],
                        columns=list(Comparison.__dataclass_fields__) + ["agreeing"])


def _quantiles(values, level: float) -> tuple[float, float]:
    a = (1 - level) / 2
    values = np.asarray(values, float)
    return float(np.quantile(values, a)), float(np.quantile(values, 1 - a))


def _cluster_members(n_units: int, clusters) -> tuple[np.ndarray, list[np.ndarray]]:
    """Each unit's cluster number (every unit its own when ``clusters`` is None) and each cluster's units."""
    labels = np.arange(n_units) if clusters is None else pd.factorize(np.asarray(clusters))[0]
    return labels, [np.flatnonzero(labels == g) for g in range(labels.max() + 1)]


def _seed_differences(a: np.ndarray, b, paired: bool, trained_b: bool = True) -> tuple:
    """Per-seed scores of ``a`` minus ``b``'s: against ``b``'s level when it is a number or has no
    training seeds (its mean), seed by seed when the seeds are ``paired``, every pair otherwise."""
    if np.ndim(b) == 0 or not trained_b:
        level = float(np.mean(b))
        return tuple(float(x - level) for x in a)
    if paired:
        n = min(len(a), len(b))
        return tuple(float(x - y) for x, y in zip(a[:n], b[:n]))
    return tuple(float(x - y) for x in a for y in b)


def sign_flip_clusters(differences, clusters, n_perm: int = 10000, seed: int = 0) -> float:
    """Two-sided sign-flip p of the mean of ``differences``, flipping whole clusters together.

    Parameters
    ----------
    differences : array-like of float, shape (n_units,)
        One difference per unit (for example per participant).
    clusters : array-like, shape (n_units,)
        The cluster of each unit; a cluster's units flip together.
    n_perm : int, default=10000
        Random sign patterns when they number more than this; otherwise every pattern (exact p).
    seed : int, default=0
        Seed of the random patterns.

    Returns
    -------
    p : float
    """
    d = pd.Series(np.asarray(differences, float)).groupby(np.asarray(clusters)).sum().to_numpy()
    n_units = len(differences)
    obs = d.sum() / n_units
    n = len(d)
    if 2 ** n <= n_perm:
        flips = 1.0 - 2.0 * ((np.arange(2 ** n)[:, None] >> np.arange(n)) & 1)
        null = (flips * d).sum(1) / n_units
        return float(np.mean(np.abs(null) >= abs(obs) - 1e-12))
    flips = np.random.default_rng(seed).choice([-1.0, 1.0], size=(n_perm, n))
    null = (flips * d).sum(1) / n_units
    return float((np.sum(np.abs(null) >= abs(obs) - 1e-12) + 1) / (n_perm + 1))


def compare_participants(acc_a: pd.DataFrame, acc_b, *, a: str = "a", b: str = "b", fold_of=None, clusters=None,
                         trained_b: bool = True, paired_seeds: bool = True, measure: str = "accuracy",
                         n_resamples: int = 2000, n_perm: int = 10000, seed: int = 0,
                         level: float = 0.95) -> Comparison:
    """``a`` against ``b`` on held-out participants, seeds and participants both resampled.

    Every resample draws the clusters with replacement and, for each model and each fold, as many seeds
    as the model has, with replacement; the statistic is the mean over the participants drawn of
    (``a``'s mean over its drawn seeds minus ``b``'s). The participants of a fold are scored by one model
    per seed, whose luck moves them together, and the same seed in another fold is another training run.

    Parameters
    ----------
    acc_a : pandas.DataFrame
        Per-participant scores of ``a``: one row per training seed, one column per participant.
    acc_b : pandas.DataFrame or float
        The same for ``b`` (the same columns), or a number (a level such as chance).
    a, b : str, default="a", "b"
        The methods' names.
    fold_of : mapping, default=None
        Each participant's outer fold; None: one fold.
    clusters : mapping, default=None
        Each participant's cluster, resampled and sign-flipped whole (order twins, whose trials came in
        the same order); None: every participant its own.
    trained_b : bool, default=True
        False: ``b`` has no training seeds (a deterministic baseline; its single row is used).
    paired_seeds : bool, default=True
        Whether seed ``s`` of ``a`` and of ``b`` share a split (their seed differences are then paired).
    measure : str, default="accuracy"
        The name of what is compared.
    n_resamples : int, default=2000
        Bootstrap resamples.
    n_perm : int, default=10000
        Sign patterns of the p-value when they cannot all be enumerated.
    seed : int, default=0
        Seed of the resampling.
    level : float, default=0.95
        Confidence level.

    Returns
    -------
    comparison : Comparison
        With the sign-flip ``p`` over clusters and the ``width_ratio`` against the naive bootstrap over
        independent participants with the seed averages held fixed.
    """
    people = list(acc_a.columns)
    A = acc_a.to_numpy(float)
    fixed = np.ndim(acc_b) == 0
    B = None if fixed else acc_b[people].to_numpy(float)
    folds = pd.factorize(np.asarray([0] * len(people) if fold_of is None else [fold_of[p] for p in people]))[0]
    cl, members = _cluster_members(len(people), None if clusters is None else [clusters[p] for p in people])
    rng = np.random.default_rng(seed)

    def drawn_mean(M, idx):  # [resample] mean over participants idx of the seed-mean with seeds drawn per fold
        n = len(M)
        if n == 1:
            return M[0, idx].mean()
        draws = rng.integers(0, n, (folds.max() + 1, n))  # each fold's n seeds, with replacement
        return M[draws[folds[idx]].T, idx].mean()

    stat = np.empty(n_resamples)
    for r in range(n_resamples):
        idx = np.concatenate([members[g] for g in rng.integers(0, len(members), len(members))])
        stat[r] = drawn_mean(A, idx) - (acc_b if fixed else drawn_mean(B, idx))
    diff = A.mean(0) - (acc_b if fixed else B.mean(0))
    naive = [diff[rng.integers(0, len(people), len(people))].mean() for _ in range(n_resamples)]
    lo, hi = _quantiles(stat, level)
    nlo, nhi = _quantiles(naive, level)
    return Comparison(a=a, b=b, measure=measure, estimate=float(diff.mean()), lo=lo, hi=hi, seeds_a=len(A),
                      seeds_b=0 if fixed or not trained_b else len(B),
                      seed_differences=_seed_differences(A.mean(1), acc_b if fixed else B.mean(1), paired_seeds,
                                                         trained_b),
                      p=sign_flip_clusters(diff, cl, n_perm, seed), units=len(people), clusters=len(members),
                      width_ratio=(hi - lo) / (nhi - nlo) if nhi > nlo else math.nan)


def compare_trials(y_true, pred_a, pred_b, metric, *, a: str = "a", b: str = "b", clusters=None,
                   measure: str = "macro F1", higher_is_better: bool = True, trained_b: bool = True,
                   n_resamples: int = 2000, seed: int = 0, level: float = 0.95) -> Comparison:
    """``a`` against ``b`` on one split's test trials (the paper's), seeds and trials both resampled.

    Every resample draws ``clusters`` with replacement and every model's seeds with replacement; the
    statistic is the difference of the seed-averaged metrics on the trials drawn.

    Parameters
    ----------
    y_true : array-like of int, shape (n_trials,)
        The true labels.
    pred_a : array-like, shape (n_seeds, ..., n_trials)
        ``a``'s predictions, one row per seed, the trials on the last axis.
    pred_b : array-like or float
        ``b``'s, likewise, or a number (the level of a fixed predictor).
    metric : callable
        ``metric(y_true, preds)`` scores a stack of predictions ([rows, ..., trials]) against the truth,
        one number per row (:func:`fmriemo.metrics.macro_f1_rows`).
    a, b : str, default="a", "b"
        The methods' names.
    clusters : array-like, shape (n_trials,), default=None
        One label per trial (for example its participant, whose trials are not independent); None:
        every trial its own.
    measure : str, default="macro F1"
        The name of what is compared.
    higher_is_better : bool, default=True
        False for an error.
    trained_b : bool, default=True
        False: ``b`` has no training seeds.
    n_resamples : int, default=2000
        Bootstrap resamples.
    seed : int, default=0
        Seed of the resampling.
    level : float, default=0.95
        Confidence level.

    Returns
    -------
    comparison : Comparison
        Its ``p`` is NaN (no test over trials).
    """
    y_true = np.asarray(y_true)
    A = np.asarray(pred_a)
    fixed = np.ndim(pred_b) == 0
    B = None if fixed else np.asarray(pred_b)
    n = y_true.shape[-1]
    _, members = _cluster_members(n, clusters)
    rng = np.random.default_rng(seed)

    def score(P, idx, rows):
        return metric(y_true[..., idx], P[rows][..., idx])

    stat = np.empty(n_resamples)
    for r in range(n_resamples):
        idx = np.concatenate([members[g] for g in rng.integers(0, len(members), len(members))])
        sa = score(A, idx, rng.integers(0, len(A), len(A))).mean()
        sb = pred_b if fixed else score(B, idx, rng.integers(0, len(B), len(B))).mean()
        stat[r] = sa - sb
    every = np.arange(n)
    per_a = score(A, every, np.arange(len(A)))
    per_b = pred_b if fixed else score(B, every, np.arange(len(B)))
    naive = []
    for _ in range(n_resamples):
        idx = rng.integers(0, n, n)
        naive.append(score(A, idx, np.arange(len(A))).mean()
                     - (pred_b if fixed else score(B, idx, np.arange(len(B))).mean()))
    lo, hi = _quantiles(stat, level)
    nlo, nhi = _quantiles(naive, level)
    return Comparison(a=a, b=b, measure=measure, estimate=float(np.mean(per_a) - np.mean(per_b)), lo=lo, hi=hi,
                      seeds_a=len(A), seeds_b=0 if fixed or not trained_b else len(B),
                      seed_differences=_seed_differences(np.asarray(per_a), per_b, False, trained_b),
                      units=n, clusters=len(members), width_ratio=(hi - lo) / (nhi - nlo) if nhi > nlo else math.nan,
                      higher_is_better=higher_is_better)


def predictive_chance(values, target: float, min_values: int = 3) -> float:
    """The chance that one more run scores at least ``target`` when runs' scores spread like ``values``.

    The predictive distribution of a new draw from a normal population whose mean and spread are
    estimated from the values: Student's t with n - 1 degrees of freedom, centred on their mean, scaled
    by their standard deviation times sqrt(1 + 1/n).

    Parameters
    ----------
    values : array-like of float
        The scores of the runs made (one per seed).
    target : float
        The score to reach.
    min_values : int, default=3
        Fewer values than this give NaN (the spread of two is too rough to extrapolate from), as do
        values that are all equal.

    Returns
    -------
    chance : float
    """
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    if len(v) < max(2, min_values) or v.std(ddof=1) == 0:
        return float("nan")
    n = len(v)
    return float(stats.t.sf(target, df=n - 1, loc=v.mean(), scale=v.std(ddof=1) * math.sqrt(1 + 1 / n)))
