"""The sentences the chapters glue into their prose, built by tested functions rather than by if/else
in a notebook cell."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..challenge.phases import phase1_split_of
from ..data import atlas
from ..data.dataset import Dataset, participant_key
from ..data.source import DEFAULT_SURROGATE_SEED
from ..data.splits import participant_split

__all__ = [
    "kept_epochs_text", "phase1_split_text", "data_source_text", "planted_text", "phase1_compare_text",
    "phase2_text", "crossfit_text", "planted_recovery_text", "protocol_text", "attribution_recovery_text",
    "PUBLIC_ENTRY", "search_reference_text", "level9_caveat", "ensemble_choice_text", "onset_text",
]


def kept_epochs_text(runs) -> str:
    """The kept epochs of some runs in words, with how many kept one on their plateau and how many the
    epoch cap ended while still improving: e.g. ``"212, 240 and 260 after 300 epochs (none on the
    plateau)"``.

    Parameters
    ----------
    runs : iterable of fmriemo.training.runs.RunResult
        The runs.

    Returns
    -------
    text : str
    """
    runs = list(runs)
    if not runs:
        return "none (no runs)"
    kept = [str(r.best_epoch) for r in runs]
    words = kept[0] if len(kept) == 1 else ", ".join(kept[:-1]) + f" and {kept[-1]}"
    budgets = sorted({r.epochs_run for r in runs})
    on = sum(bool(r.on_plateau) for r in runs)
    ran = (f"after {budgets[0]} epochs" if len(budgets) == 1 else f"after {budgets[0]}-{budgets[-1]} epochs")
    cut = sum(bool(getattr(r, "still_improving", False)) for r in runs)
    cut_text = f"; {cut} of {len(runs)} still improving when the epoch cap ended them" if cut else ""
    return f"{words} {ran} ({'none' if on == 0 else f'{on} of {len(runs)}'} on the plateau{cut_text})"


def phase1_split_text(ds: Dataset, names: dict, split: str = "auto", seeds=0, n_val: int = 3) -> str:
    """How each Phase I model was trained, in one or two sentences.

    Parameters
    ----------
    ds : fmriemo.data.dataset.Dataset
        The data set.
    names : dict of str to str
        Method -> label.
    split : str, default="auto"
        :func:`fmriemo.challenge.phases.train_phase1`'s ``split`` rule.
    seeds : int or sequence of int, default=0
        The training seed or seeds.
    n_val : int, default=3
        Validation participants of a model trained on participants (named, those of the first seed).

    Returns
    -------
    text : str
    """
    seeds = [int(seeds)] if np.ndim(seeds) == 0 else [int(x) for x in seeds]
    seed_text = (f"seed {seeds[0]}" if len(seeds) == 1
                 else "seeds " + ", ".join(map(str, seeds[:-1])) + f" and {seeds[-1]}")
    groups = {"paper": [], "participants": []}
    for m, label in names.items():
        groups[phase1_split_of(m, split)].append(label)
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
            val = sorted(set(ds.participant[participant_split(ds, n_val, seeds[0]).val]), key=participant_key)
            out.append(f"{who} {'are' if many else 'is'} trained on the training participants with the paper's "
                       f"recipe, except that the checkpoint is chosen on {n_val} whole participants held out "
                       f"from training ({', '.join(val)}{' for the first seed' if len(seeds) > 1 else ''}): "
                       "the test participants are new, so validation should "
                       "be too (chapter 7).")
    return " ".join(out)


def data_source_text(data_dir="", surrogate_seed: int = DEFAULT_SURROGATE_SEED) -> str:
    """What a build reads, for its prose: the surrogate and its seed, or the challenge folder by its name
    (never a user's path).

    Parameters
    ----------
    data_dir : str or path, default=""
        The challenge folder; empty: the surrogate.
    surrogate_seed : int, default=DEFAULT_SURROGATE_SEED
        The surrogate's seed.

    Returns
    -------
    text : str
    """
    if not data_dir:
        return f"the built-in surrogate data set (seed {surrogate_seed})"
    return f"the challenge data in the folder '{Path(data_dir).expanduser().name}'"


def planted_text(truth: dict | None) -> str:
    """The sentence on the signal planted in the surrogate, or that real data has none known.

    Parameters
    ----------
    truth : dict or None
        The surrogate's ground truth (:func:`fmriemo.data.surrogate.read_ground_truth`).

    Returns
    -------
    text : str
    """
    if truth is None:
        return ("This build reads the challenge data, so no region is known to carry the signal and the surrogate "
                "is described only for comparison with the online edition.")
    planted = np.asarray(truth["planted_regions"])
    overlap = np.intersect1d(planted, atlas.ebr_indices())
    return (f"In this build's surrogate an emotion signal graded by the rating is planted in {len(planted)} regions, "
            f"{len(overlap)} of which are also EBR regions.")


def phase1_compare_text(surrogate: bool, n_scored: int, n_test: int) -> str:
    """How a Phase I score here compares with the paper's 0.5132 (scored on all 120 real test trials).

    On the surrogate not digit for digit; on real data directly when all test trials were scored, else as
    an estimate from the released ones (or not at all).

    Parameters
    ----------
    surrogate : bool
        Whether the build ran on the surrogate.
    n_scored : int
        Test trials scored.
    n_test : int
        Test trials.

    Returns
    -------
    text : str
    """
    if surrogate:
        return ("a surrogate score cannot be compared with it digit for digit, but it sits between the same two "
                "reference points.")
    if n_scored == n_test:
        return f"the score here is on the same {n_test} trials, so the two compare directly."
    if n_scored:
        return (f"the score here is an estimate from the {n_scored} test trials whose labels were released, "
                "so its interval is the one to compare.")
    return "no test labels were given (parameter labels_csv), so nothing here is scored."


def phase2_text(phase2, name: str) -> str:
    """Phase II as the challenge scored it, for one model, or why it cannot be scored.

    Parameters
    ----------
    phase2 : pandas.DataFrame
        :func:`fmriemo.challenge.phases.phase2_scores`.
    name : str
        The model's name in it.

    Returns
    -------
    text : str
    """
    if len(phase2):
        row = phase2.loc[name]
        return (f"On the {int(phase2['N'].max())} test trials that were not released, {name} scores "
                f"{row['Phase I']:.4f} before and {row['Phase II']:.4f} after fine-tuning (lower is better).")
    return ("This data set has no labels for the test trials that were not released (they stay with the "
            "organisers), so Phase II cannot be scored as the challenge scored it; the estimate below uses the "
            "released trials alone.")


def crossfit_text(crossfit, phase2, name: str) -> str:
    """The cross-fitted Phase II estimate of one model, judged against the score on the unreleased trials
    where those exist.

    Parameters
    ----------
    crossfit : pandas.DataFrame
        :func:`fmriemo.challenge.phases.phase2_crossfit`.
    phase2 : pandas.DataFrame
        :func:`fmriemo.challenge.phases.phase2_scores`.
    name : str
        The model's name in them.

    Returns
    -------
    text : str
    """
    if not len(crossfit):
        return "No released labels were given (parameter labels_csv), so Phase II cannot be estimated either."
    row = crossfit.loc[name]
    text = (f"For {name} the cross-fitted estimate is {row['Phase II (cross-fitted)']:.4f} (95% interval "
            f"{row['lo']:.3f} to {row['hi']:.3f}; Phase I on the same trials {row['Phase I']:.4f}).")
    if len(phase2):
        text += (f" The score on the unreleased trials, which a real user cannot compute, is "
                 f"{phase2.loc[name, 'Phase II']:.4f}: the estimate can be judged against it here.")
    return text


def planted_recovery_text(rec: dict | None) -> str:
    """Chapter 6's sentence on whether the SE map finds the surrogate's planted regions.

    Parameters
    ----------
    rec : dict or None
        The numbers; None on real data, where the regions carrying the signal are unknown.

    Returns
    -------
    text : str
    """
    if rec is None:
        return ("On real data the regions that carry the signal are unknown, so whether the map finds them cannot be "
                "measured.")
    return ("On the surrogate, {n_planted} regions carry the planted signal. Of the {n_planted} regions with the "
            "highest weights, a share of {planted_p_at_k:.2f} are planted ones (chance: {planted_chance:.2f}), and "
            "the weights rank planted regions above the others with an AUROC of {planted_auroc:.2f} (per seed "
            "{planted_auroc_min:.2f} to {planted_auroc_max:.2f}).".format(**rec))


def protocol_text(protocol: str, n_folds: int) -> str:
    """How a held-out protocol splits the participants, in words.

    Parameters
    ----------
    protocol : str
        One of :data:`fmriemo.profiles.PROTOCOLS`.
    n_folds : int
        Its folds.

    Returns
    -------
    text : str
    """
    return {"loso": "leave one participant out",
            "order": "leave one order group out: participants who saw the classes in the same order are held out "
                     "together",
            "kfold": f"{n_folds} folds of participants drawn without regard to their class order (kfold: a "
                     "participant's order twin may be trained on)"}.get(
        protocol, f"{n_folds} groups of participants (GroupKFold), participants who saw the classes in the same "
                  "order kept in the same fold")


def attribution_recovery_text(auroc) -> str:
    """Chapter 8's sentence on which map finds the surrogate's planted regions, or that real data cannot
    score any.

    Parameters
    ----------
    auroc : pandas.Series or None
        AUROC of each map's mean, indexed by the map's name; None on real data.

    Returns
    -------
    text : str
    """
    if auroc is None:
        return ("On real data the regions that carry the signal are unknown, so no map can be scored against them; "
                "agreement between methods and stability (above) are what remain.")
    return ("Ranking regions to find the planted ones (AUROC, 0.5 is chance): "
            + ", ".join(f"{name} {value:.2f}" for name, value in auroc.items()) + f". Best: {auroc.idxmax()}.")


#: the best public fMRI-only entry of the challenge evaluated on held-out participants (leave one
#: participant out, a CNN on the seconds after the video), on the real data
PUBLIC_ENTRY = {"accuracy": 0.686, "score": 0.442}


def search_reference_text(accuracy: float, real_data: bool) -> str:
    """The nested search's held-out accuracy beside the best public entry's, which only a build on the
    real data can be compared with.

    Parameters
    ----------
    accuracy : float
        The nested search's held-out accuracy.
    real_data : bool
        Whether the build ran on the real data.

    Returns
    -------
    text : str
    """
    text = (f"For scale, the best public fMRI-only entry evaluated on held-out participants (a CNN on the "
            f"seconds after the video, leave one participant out) reports {PUBLIC_ENTRY['accuracy']:.3f} accuracy "
            f"and a submission score of {PUBLIC_ENTRY['score']:.3f} on the real challenge data. ")
    if real_data:
        return text + (f"This build reads the challenge data: the nested search's {accuracy:.3f} is "
                       f"{'above' if accuracy > PUBLIC_ENTRY['accuracy'] else 'not above'} that accuracy, with "
                       f"order groups held out together and the search inside the folds.")
    return text + ("The numbers here are the surrogate's, so they cannot be set against it; run this chapter with "
                   "data_dir pointing at the challenge folder to compare.")


def level9_caveat(on_plateau: int, runs: int) -> str:
    """Whether chapter 9's 9-way rating models were trained past their plateau, and what the comparison
    with them can then say: only when none kept a checkpoint on its plateau is it a comparison with models
    that learned (the verdict's gate, :class:`fmriemo.book.verdict.Gate`).

    Parameters
    ----------
    on_plateau : int
        Runs that kept a checkpoint on their plateau.
    runs : int
        Runs.

    Returns
    -------
    text : str
    """
    if runs > 0 and on_plateau == 0:
        return f"None of these {runs} 9-way models kept a checkpoint on its plateau, so the comparison is with " \
               "models that learned."
    return (f"{on_plateau} of these {runs} 9-way models kept checkpoints on their plateau, so the comparison shows "
            "only that the class-aware rule beats 9-way models that have not all learned at this budget; whether it "
            "beats trained ones is not tested here.")


def ensemble_choice_text(chosen: str, flip: dict) -> str:
    """How the chosen ensemble compares with a single model.

    Parameters
    ----------
    chosen : str
        The ensemble chosen (``"single"`` for the single model).
    flip : dict
        The paired sign-flip test: ``p`` and ``mean_difference``.

    Returns
    -------
    text : str
    """
    if chosen == "single":
        return "it is the single model itself"
    return (f"against the single model the paired sign-flip test over participants gives p = {flip['p']:.3f} "
            f"(mean difference {flip['mean_difference']:+.3f})")


def onset_text(clusters, alpha: float = 0.05) -> str:
    """When a time-resolved curve is above chance, from its cluster test.

    Parameters
    ----------
    clusters : pandas.DataFrame
        :func:`fmriemo.evaluation.timeresolved.clusters_over_time` (``first second``, ``last second``, ``p``).
    alpha : float, default=0.05
        The clusters' significance level.

    Returns
    -------
    text : str
        E.g. ``"from second 15 (seconds 15-24, cluster p = 0.005)"``, or that no cluster reached ``alpha``.
    """
    sig = clusters[clusters["p"] < alpha].sort_values("first second")
    if sig.empty:
        best = "" if clusters.empty else f"; the strongest cluster has p = {clusters['p'].min():.3f}"
        return f"at no second (no cluster of seconds above chance with p < {alpha:g}{best})"
    first = sig.iloc[0]
    spans = ", ".join(f"seconds {int(r['first second'])}-{int(r['last second'])} (p = {r['p']:.3f})"
                      for _, r in sig.iterrows())
    return f"from second {int(first['first second'])} ({'cluster' if len(sig) == 1 else 'clusters'}: {spans})"
