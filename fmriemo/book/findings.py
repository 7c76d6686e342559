"""What each chapter hands the verdict: one small typed record per chapter, its *finding*.

A chapter's prose states its numbers through :func:`fmriemo.book.chapter.glue`; the few of them that the
verdict's rules read (:mod:`fmriemo.book.verdict`) are gathered at the end of the chapter into its finding,
a frozen dataclass whose fields are named as the chapter glues them (:func:`fmriemo.book.chapter.hand_over`).
The finding is written to the chapter's results file (``"findings"``) and read back by the verdict as the
same dataclass, so that a rule reads ``evidence.held_out.acc_asb``, a field a test can construct, and
not a string key into a dictionary of every number the book states. A chapter that did not glue a
field fails in that chapter, naming the field, rather than on the verdict's page.

The comparisons a claim rests on (:class:`fmriemo.evaluation.statistics.Comparison`) and the runs its
gates count are recorded as tables and read as objects too (:func:`fmriemo.book.verdict.gather`).
"""
from __future__ import annotations

import html
import math
from dataclasses import dataclass, fields
from typing import ClassVar

__all__ = ["Finding", "DataSource", "ClassTask", "LevelTask", "Challenge", "BrainMaps", "HeldOut", "Attribution",
           "Beyond", "FINDINGS"]


@dataclass(frozen=True)
class Finding:
    """The base of a chapter's finding: :attr:`CHAPTER` names the chapter that records it."""

    #: the stem of the chapter that records this finding
    CHAPTER: ClassVar[str] = ""

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """The finding's fields, in order: the names the chapter glues them under."""
        return tuple(f.name for f in fields(cls))

    @classmethod
    def from_values(cls, values, where: str = ""):
        """The finding from a mapping of glued names to values (a chapter's recorded ``values``); a value
        recorded as null (a number that could not be computed) is NaN. A field that is not there raises
        ``KeyError`` naming it and ``where``."""
        missing = [n for n in cls.field_names() if n not in values]
        if missing:
            raise KeyError(f"{where or cls.CHAPTER}: the verdict's {cls.__name__} needs "
                           f"{', '.join(map(repr, missing))}, which the chapter did not glue")
        return cls(**{n: _number(values[n], f.type) for n, f in zip(cls.field_names(), fields(cls))})

    def record(self) -> dict:
        """The fields as a plain dict (the form of the results file; NaN stays NaN here and is written as
        null)."""
        return {n: getattr(self, n) for n in self.field_names()}

    def _repr_html_(self) -> str:  # a notebook shows the finding as a two-column table
        rows = "".join(f"<tr><th>{n}</th><td>{_shown(v)}</td></tr>" for n, v in self.record().items())
        return f"<table><caption>{type(self).__name__} (chapter {self.CHAPTER[:2]})</caption>{rows}</table>"


def _shown(value) -> str:
    if isinstance(value, float):
        return "n/a" if math.isnan(value) else f"{value:.4g}"
    return html.escape(str(value))


def _number(value, kind):
    """A recorded value as its field's type: null is NaN for a number, and a count stays an int."""
    if kind in ("str", str):
        return "" if value is None else str(value)
    if value is None:
        return math.nan
    value = float(value)
    return int(value) if kind in ("int", int) and value.is_integer() else value


@dataclass(frozen=True)
class DataSource(Finding):
    """Chapter 1's finding: the data the book ran on, in words. It decides what the verdict's readings
    are about.

    Parameters
    ----------
    data_source : str
        "the built-in surrogate (seed ...)" or the user's folder by name.
    """

    CHAPTER: ClassVar[str] = "01_data"
    data_source: str


@dataclass(frozen=True)
class ClassTask(Finding):
    """Chapter 3's finding: the class task on the paper's split.

    Parameters
    ----------
    asb_f1_mean, vanilla_f1_mean, ebr_f1_mean : float
        Each paper model's test macro F1, the mean over seeds.
    asb_wins : float
        Seeds in which ASB ranked first (ties share the win).
    n_seeds : int
        Seeds per model.
    asb_acc_lo, asb_acc_hi : float
        The Wilson 95% interval of the first seed's ASB test accuracy (what one run would state).
    """

    CHAPTER: ClassVar[str] = "03_class_task"
    asb_f1_mean: float
    vanilla_f1_mean: float
    ebr_f1_mean: float
    asb_wins: float
    n_seeds: int
    asb_acc_lo: float
    asb_acc_hi: float


@dataclass(frozen=True)
class LevelTask(Finding):
    """Chapter 4's finding: the 9-level rating on the paper's split against its floors.

    Parameters
    ----------
    asb_f1_mean : float
        ASB's test macro F1, the mean over seeds.
    const_f1 : float
        Always predicting ``majority_level``.
    rand_f1_mean, rand_f1_p95 : float
        Random guessing with the training labels' frequencies: its mean and 95th percentile.
    majority_level : int
        The commonest training rating.
    """

    CHAPTER: ClassVar[str] = "04_level_task"
    asb_f1_mean: float
    const_f1: float
    rand_f1_mean: float
    rand_f1_p95: float
    majority_level: int


@dataclass(frozen=True)
class Challenge(Finding):
    """Chapter 5's finding: the challenge scores (lower is better).

    Parameters
    ----------
    p1_main : float
        The Phase I submission's score.
    p2_main : float
        Phase II on the unreleased labelled test trials; NaN where there are none (real data).
    p1_neutral : float
        Always "neutral, 0" in Phase I.
    p2_crossfit_main, p2_crossfit_lo, p2_crossfit_hi : float
        Phase II estimated by cross-fitting on the released trials, with its 95% interval.
    """

    CHAPTER: ClassVar[str] = "05_challenge"
    p1_main: float
    p2_main: float
    p1_neutral: float
    p2_crossfit_main: float
    p2_crossfit_lo: float
    p2_crossfit_hi: float


@dataclass(frozen=True)
class BrainMaps(Finding):
    """Chapter 6's finding: the SE maps of chapter 3's ASB runs.

    Parameters
    ----------
    ebr_overlap, ebr_expected, ebr_p : float
        Their top regions' overlap with the EBR set: observed, expected by chance, hypergeometric p (the
        seed-averaged map).
    stab_spearman : float
        Seed-to-seed Spearman correlation of the maps.
    n_seeds : int
        Seeds' maps.
    n_seeds_overlap : int
        Seeds' maps whose overlap is beyond chance (p < 0.05).
    class_map_corr : float
        The lowest correlation between the three classes' maps.
    """

    CHAPTER: ClassVar[str] = "06_brain_maps"
    ebr_overlap: float
    ebr_expected: float
    ebr_p: float
    stab_spearman: float
    n_seeds: int
    n_seeds_overlap: int
    class_map_corr: float


@dataclass(frozen=True)
class HeldOut(Finding):
    """Chapter 7's finding: new participants.

    Parameters
    ----------
    acc_asb : float
        ASB's held-out accuracy, the mean over seeds.
    acc_asb_lo, acc_asb_hi : float
        Its 95% interval over participants and seeds.
    acc_vanilla, acc_ebr, acc_logreg, acc_compact : float
        The other models' held-out accuracy (NaN for a model the chapter's parameters left out).
    chance : float
        Accuracy of chance (a third for the class task).
    perm_p_asb, perm_p_logreg : float
        Permutation p-values against chance (labels shuffled within participant).
    n_seeds : int
        Training seeds per fold.
    protocol : str
        The held-out protocol (:data:`fmriemo.profiles.PROTOCOLS`), which the leakage sheet re-runs.
    k : int
        Its folds.
    """

    CHAPTER: ClassVar[str] = "07_held_out"
    acc_asb: float
    acc_asb_lo: float
    acc_asb_hi: float
    acc_vanilla: float
    acc_ebr: float
    acc_logreg: float
    acc_compact: float
    chance: float
    perm_p_asb: float
    perm_p_logreg: float
    n_seeds: int
    protocol: str
    k: int


@dataclass(frozen=True)
class Attribution(Finding):
    """Chapter 8's finding: SE weights against attribution.

    Parameters
    ----------
    rho_se_ig, rho_se_occ : float
        Spearman agreement of SE-weight maps with integrated gradients and with occlusion.
    auc_se, auc_ig : float
        How well each finds the surrogate's planted regions (AUROC); NaN on real data.
    stab_se : float
        The SE maps' stability across models.
    """

    CHAPTER: ClassVar[str] = "08_attribution"
    rho_se_ig: float
    rho_se_occ: float
    auc_se: float
    auc_ig: float
    stab_se: float


@dataclass(frozen=True)
class Beyond(Finding):
    """Chapter 9's finding: the rating rule on held-out participants.

    Parameters
    ----------
    model9 : float
        The challenge score of a separate 9-way rating model.
    model_aware : float
        The score of the class-aware rule on a model's class predictions.
    level9_on_plateau : int
        9-way fold runs that kept a checkpoint on their plateau.
    level9_runs : int
        9-way fold runs.
    """

    CHAPTER: ClassVar[str] = "09_level_and_beyond"
    model9: float
    model_aware: float
    level9_on_plateau: int
    level9_runs: int


#: every finding the verdict reads, in the chapters' order
FINDINGS = (DataSource, ClassTask, LevelTask, Challenge, BrainMaps, HeldOut, Attribution, Beyond)
