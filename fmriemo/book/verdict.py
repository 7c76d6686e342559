"""The verdict's rules: how each of the paper's claims is read from the evidence the chapters record.
Kept here, with tests, so that a change to a rule is a change to tested code rather than to a
notebook cell.

The evidence (:func:`gather`) is of three kinds, all read from the chapters' results files:

* **comparisons** (:class:`fmriemo.evaluation.statistics.Comparison`): a method against another, or
  against a fixed level (chance, random guessing, a constant submission), with an interval that
  resamples both the training seeds of every model and the participants or trials it is scored on,
  and the difference seed by seed;
* **gates** (:class:`Gate`): per method and chapter, how many of the runs a comparison rests on kept a
  checkpoint on their validation plateau (not trained) or were still improving when the epoch cap
  ended them (cut off while learning);
* **findings** (:mod:`fmriemo.book.findings`): per chapter, the few numbers the rules and the page's
  sentences read, as a typed record the chapter handed over.

A comparison *ranks* two methods (:func:`rank`) only when its interval excludes zero and the sign holds
for most seeds, with at least two seeds of every trained model; evidence *against* a claim is read
before any gate; a ranking *for* a claim also needs every run of both methods trained and finished.
Otherwise the comparison is "not resolved at this budget", with the reason. Each claim then reads
``supported``, ``partly supported``, ``not supported`` (the evidence ranks against it) or
``not resolved at this budget`` (:func:`claims`); :func:`decision_table` shows every comparison with its
outcome, the table a reader can check.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from ..evaluation.statistics import Comparison
from .findings import (FINDINGS, Attribution, Beyond, BrainMaps, Challenge, ClassTask, DataSource, HeldOut,
                       LevelTask)

__all__ = [
    "READINGS", "ALPHA", "PAPER_METHODS", "NAMES", "SCORE_MARGIN", "AGREEMENT", "CHAPTERS",
    "COMPARISON_TABLE", "RUN_TABLES", "WHERE", "finite", "Gate", "gates_from_table", "Outcome",
    "evidence_direction", "rank", "describe", "Evidence", "gather", "RULES", "GATED_BY", "decision_table",
    "asb_claim", "decodes_claim", "level_claim", "score_claim", "maps_claim", "CLAIMS", "claims",
    "rating_text", "training_text", "recovery_text", "class_corr_text", "scope_text",
]

SUPPORTED, PARTLY, NOT_SUPPORTED, NOT_RESOLVED = ("supported", "partly supported", "not supported",
                                                  "not resolved at this budget")
READINGS = (SUPPORTED, PARTLY, NOT_SUPPORTED, NOT_RESOLVED)
ALPHA = 0.05
PAPER_METHODS = ("asb", "vanilla", "ebr")
NAMES = {"asb": "ASB", "vanilla": "Vanilla", "ebr": "EBR", "compact": "Compact", "chance": "chance",
         "random guessing": "random guessing", "always neutral": "always \"neutral, 0\""}
#: the Phase I submission must beat always "neutral, 0" by this much (challenge score) to support claim 4
SCORE_MARGIN = 0.05
#: the SE maps' seed-to-seed and SE-to-attribution agreement claim 5 needs (Spearman)
AGREEMENT = 0.5

#: the chapters whose results the verdict reads: those that hand it a finding
CHAPTERS = tuple(kind.CHAPTER for kind in FINDINGS)

#: where each chapter records its comparisons and the runs its gates count
COMPARISON_TABLE = "comparisons"
RUN_TABLES = {"03_class_task": "runs", "04_level_task": "runs", "07_held_out": "plateau"}
#: the chapters' runs, as the decision table names them
WHERE = {"03_class_task": "paper's split, class", "04_level_task": "paper's split, level",
         "05_challenge": "Phase I", "07_held_out": "new participants"}


def finite(x) -> bool:
    """Whether a value is a finite number.

    Parameters
    ----------
    x : object
        The value.

    Returns
    -------
    finite : bool
        False for None, text and NaN.
    """
    try:
        return math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


# --------------------------------------------------------------------------- gates

@dataclass(frozen=True)
class Gate:
    """The runs of one method in one chapter that a ranking would rest on.

    Parameters
    ----------
    method : str
        The method.
    where : str
        The chapter's runs, as the decision table names them (:data:`WHERE`).
    runs : int
        How many runs there were.
    on_plateau : int
        How many kept a checkpoint on their validation plateau (not trained).
    still_improving : int
        How many the epoch cap ended while they were still improving (cut off while learning).
    """

    method: str
    where: str
    runs: int
    on_plateau: int
    still_improving: int

    @property
    def passed(self) -> bool:
        """Every run trained past its plateau and finished before the cap: a ranking may rest on them."""
        return self.runs > 0 and self.on_plateau == 0 and self.still_improving == 0

    def reason(self) -> str:
        """Why the gate is shut ("" when it is open)."""
        name = NAMES.get(self.method, self.method)
        if self.runs <= 0:
            return f"no {name} runs ({self.where})"
        parts = []
        if self.on_plateau:
            parts.append(f"{self.on_plateau} of {self.runs} {name} runs ({self.where}) kept a checkpoint on their "
                         "plateau")
        if self.still_improving:
            parts.append(f"{self.still_improving} of {self.runs} {name} runs ({self.where}) were still improving "
                         "when the epoch cap ended them")
        return "; ".join(parts)

    def text(self) -> str:
        return (f"{NAMES.get(self.method, self.method)}: {self.on_plateau}/{self.runs} on plateau, "
                f"{self.still_improving}/{self.runs} capped")


def gates_from_table(table: pd.DataFrame, where: str) -> dict[str, Gate]:
    """Per method, the :class:`Gate` of a chapter's run table.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per run (columns ``method``, ``on_plateau``, ``still_improving``; chapters 3 and 4), or
        one row per model with the counts (index or column ``index`` the model, columns ``runs``,
        ``on_plateau``, ``still_improving``; chapter 7).
    where : str
        The chapter's runs, as the decision table names them.

    Returns
    -------
    gates : dict of str to Gate
    """
    if "method" in table.columns:
        g = table.groupby("method", sort=False).agg(runs=("method", "size"), on_plateau=("on_plateau", "sum"),
                                                     still_improving=("still_improving", "sum"))
    else:
        g = table.set_index("index") if "index" in table.columns else table
    return {str(m): Gate(str(m), where, int(r["runs"]), int(r["on_plateau"]), int(r["still_improving"]))
            for m, r in g.iterrows()}


# --------------------------------------------------------------------------- ranking

@dataclass(frozen=True)
class Outcome:
    """What a comparison says about its methods.

    Parameters
    ----------
    direction : int
        +1 (``a`` better), -1 (``b`` better) or 0 (not resolved).
    reason : str, default=""
        Why it is not resolved, or which gate was shut when the evidence went against the claim.
    """

    direction: int
    reason: str = ""


def evidence_direction(c: Comparison) -> Outcome:
    """The direction a comparison's numbers point in, gates aside.

    Parameters
    ----------
    c : fmriemo.evaluation.statistics.Comparison
        The comparison.

    Returns
    -------
    outcome : Outcome
        +1 when ``a`` is better, -1 when ``b`` is, 0 when the numbers cannot rank the two (one seed, no
        interval, an interval that includes zero, or a sign that holds for half the seeds or fewer).
    """
    if c.seeds_a < 2 or c.seeds_b == 1:
        who = [NAMES.get(n, n) for n, k in ((c.a, c.seeds_a), (c.b, c.seeds_b)) if k == 1]
        return Outcome(0, f"one seed ({', '.join(who)}): a re-run could change it")
    if not (finite(c.lo) and finite(c.hi) and finite(c.estimate)):
        return Outcome(0, "not computed")
    if c.lo > 0:
        sign = 1
    elif c.hi < 0:
        sign = -1
    else:
        return Outcome(0, f"the interval ({c.lo:+.3f} to {c.hi:+.3f}) includes zero")
    pairs = len(c.seed_differences)
    if not 2 * c.agreeing > pairs:
        return Outcome(0, f"the sign holds for {c.agreeing} of {pairs} seed comparisons only")
    return Outcome(sign if c.higher_is_better else -sign)


def rank(c: Comparison, gates=()) -> Outcome:
    """A comparison's outcome for a claim that ``a`` is better than ``b``.

    Evidence against the claim (-1) is read first and stands whatever the gates say (the reason names
    any gate that is shut); evidence for it (+1) counts only when every gate is open.

    Parameters
    ----------
    c : fmriemo.evaluation.statistics.Comparison
        The comparison.
    gates : iterable of Gate, default=()
        The runs of both methods.

    Returns
    -------
    outcome : Outcome
    """
    found = evidence_direction(c)
    shut = [g.reason() for g in gates if not g.passed]
    if found.direction < 0:
        return Outcome(-1, "; ".join(shut))
    if shut:
        return Outcome(0, "; ".join(shut))
    return found


def describe(c: Comparison) -> str:
    """A comparison in a few words: "ASB - Vanilla +0.050 (+0.010 to +0.090; 3/3 seed comparisons agree)".

    Parameters
    ----------
    c : fmriemo.evaluation.statistics.Comparison
        The comparison.

    Returns
    -------
    text : str
    """
    seeds = f"{c.agreeing}/{len(c.seed_differences)} seed comparisons agree" if c.seed_differences else "no seeds"
    return (f"{NAMES.get(c.a, c.a)} - {NAMES.get(c.b, c.b)} {c.estimate:+.3f} ({c.lo:+.3f} to {c.hi:+.3f}; "
            f"{seeds})")


# --------------------------------------------------------------------------- the evidence

@dataclass
class Evidence:
    """Everything the rules read.

    Parameters
    ----------
    data : fmriemo.book.findings.DataSource
        Chapter 1's finding.
    class_task : fmriemo.book.findings.ClassTask
        Chapter 3's.
    level_task : fmriemo.book.findings.LevelTask
        Chapter 4's.
    challenge : fmriemo.book.findings.Challenge
        Chapter 5's.
    maps : fmriemo.book.findings.BrainMaps
        Chapter 6's.
    held_out : fmriemo.book.findings.HeldOut
        Chapter 7's.
    attribution : fmriemo.book.findings.Attribution
        Chapter 8's.
    beyond : fmriemo.book.findings.Beyond
        Chapter 9's.
    comparisons : dict
        (chapter, a, b) -> :class:`fmriemo.evaluation.statistics.Comparison`.
    gates : dict
        (chapter, method) -> :class:`Gate`.
    """

    data: DataSource
    class_task: ClassTask
    level_task: LevelTask
    challenge: Challenge
    maps: BrainMaps
    held_out: HeldOut
    attribution: Attribution
    beyond: Beyond
    comparisons: dict
    gates: dict

    def comparison(self, chapter: str, a: str, b: str) -> Comparison | None:
        return self.comparisons.get((chapter, a, b))

    def gate(self, chapter: str, method: str) -> Gate:
        return self.gates.get((chapter, method), Gate(method, WHERE.get(chapter, chapter), 0, 0, 0))

    def findings(self) -> tuple:
        """Every finding, in the chapters' order."""
        return tuple(getattr(self, part) for part in _PARTS)


#: the field of :class:`Evidence` that holds each finding
_PARTS = {"data": DataSource, "class_task": ClassTask, "level_task": LevelTask, "challenge": Challenge,
          "maps": BrainMaps, "held_out": HeldOut, "attribution": Attribution, "beyond": Beyond}


def gather(found) -> Evidence:
    """The evidence from the chapters' loaded results.

    Parameters
    ----------
    found : dict of str to fmriemo.book.results.Results
        Chapter stem -> its results (:func:`fmriemo.book.results.load`): their findings, their
        ``comparisons`` tables and the run tables the gates count.

    Returns
    -------
    evidence : Evidence

    Raises
    ------
    KeyError
        Naming a chapter of :data:`CHAPTERS` that is not there.
    fmriemo.book.results.MissingResult
        Naming a chapter that recorded no finding, or one of another version.
    """
    missing = [c for c in CHAPTERS if c not in found]
    if missing:
        raise KeyError(f"the verdict needs the results of chapter(s) {', '.join(missing)}; execute them first")
    comparisons, gates = {}, {}
    for chapter, res in found.items():
        if COMPARISON_TABLE in getattr(res, "tables", {}):
            for row in res.table(COMPARISON_TABLE).to_dict("records"):
                c = Comparison.from_row(row)
                comparisons[(chapter, c.a, c.b)] = c
        name = RUN_TABLES.get(chapter)
        if name and name in getattr(res, "tables", {}):
            for m, g in gates_from_table(res.table(name), WHERE[chapter]).items():
                gates[(chapter, m)] = g
    return Evidence(**{part: found[kind.CHAPTER].finding(kind) for part, kind in _PARTS.items()},
                    comparisons=comparisons, gates=gates)


#: every comparison the claims rest on: (claim, chapter, a, b, what is compared), in the decision table's order
RULES = (
    (1, "07_held_out", "asb", "vanilla", "accuracy on new participants"),
    (1, "07_held_out", "asb", "ebr", "accuracy on new participants"),
    (1, "03_class_task", "asb", "vanilla", "macro F1, paper's split"),
    (1, "03_class_task", "asb", "ebr", "macro F1, paper's split"),
    (2, "07_held_out", "asb", "chance", "accuracy on new participants"),
    (3, "04_level_task", "asb", "random guessing", "level macro F1, paper's split"),
    (4, "05_challenge", "asb", "always neutral", "challenge score, Phase I (lower is better)"),
)
#: the chapter whose runs gate a comparison made in another (Phase I submits chapter 3's ASB)
GATED_BY = {"05_challenge": "03_class_task"}


def _outcome(ev: Evidence, chapter: str, a: str, b: str) -> tuple[Comparison | None, Outcome, list]:
    c = ev.comparison(chapter, a, b)
    runs_of = GATED_BY.get(chapter, chapter)
    gates = [ev.gate(runs_of, m) for m in (a, b) if m in PAPER_METHODS]
    if c is None:
        return None, Outcome(0, f"chapter {chapter[:2]} recorded no comparison of {NAMES.get(a, a)} with "
                                f"{NAMES.get(b, b)}"), gates
    return c, rank(c, gates), gates


def _verb(o: Outcome, a: str, b: str, better: str = "higher", worse: str = "lower") -> str:
    if o.direction > 0:
        return f"{NAMES.get(a, a)} {better}"
    if o.direction < 0:
        return f"{NAMES.get(a, a)} {worse}" + (f" (even though {o.reason})" if o.reason else "")
    return f"not resolved: {o.reason}"


def decision_table(ev: Evidence) -> pd.DataFrame:
    """Every comparison a claim rests on, with its numbers, the gates of its runs and its outcome: the
    rules of :func:`rank` applied row by row, for the reader to check.

    Parameters
    ----------
    ev : Evidence
        The chapters' findings, comparisons and gates (:func:`gather`).

    Returns
    -------
    table : pandas.DataFrame
        One row per entry of :data:`RULES`: claim, comparison, measure, difference, interval, seeds, seeds
        agreeing, runs (plateau, capped) and outcome.
    """
    rows = []
    for claim, chapter, a, b, what in RULES:
        c, o, gates = _outcome(ev, chapter, a, b)
        better, worse = ("lower score", "higher score") if c is not None and not c.higher_is_better else (
            "higher", "lower")
        rows.append({"claim": claim, "comparison": f"{NAMES.get(a, a)} vs {NAMES.get(b, b)}", "measure": what,
                     "difference": math.nan if c is None else c.estimate,
                     "interval": "" if c is None else f"{c.lo:+.3f} to {c.hi:+.3f}",
                     "seeds": "" if c is None else f"{c.seeds_a} / {c.seeds_b or '-'}",
                     "seeds agreeing": "" if c is None else f"{c.agreeing} of {len(c.seed_differences)}",
                     "runs (plateau, capped)": "; ".join(g.text() for g in gates),
                     "outcome": _verb(o, a, b, better, worse)})
    return pd.DataFrame(rows)


def asb_claim(ev: Evidence) -> tuple[str, str, str]:
    """Claim 1, "ASB beats Vanilla and EBR".

    Not supported when any comparison ranks ASB below one of them (on new participants or on the
    paper's split); supported when ASB ranks above both on new participants; partly supported when some
    comparison ranks it above one of them and none below; otherwise not resolved.

    Parameters
    ----------
    ev : Evidence
        The chapters' findings, comparisons and gates (:func:`gather`).

    Returns
    -------
    found : str
        What this book found, in words and numbers.
    reading : str
        One of :data:`READINGS`.
    why : str
        The reason for the reading.
    """
    c3 = ev.class_task
    out = {(chapter, b): _outcome(ev, chapter, a, b) for claim, chapter, a, b, _ in RULES if claim == 1}
    found = (f"mean F1 over {c3.n_seeds:.0f} seed(s) on the paper's split: ASB {c3.asb_f1_mean:.2f}, Vanilla "
             f"{c3.vanilla_f1_mean:.2f}, EBR {c3.ebr_f1_mean:.2f}; on new participants "
             + ", ".join(describe(c) for (ch, _), (c, _, _) in out.items() if ch == "07_held_out" and c is not None))
    against = [(ch, b, o) for (ch, b), (_, o, _) in out.items() if o.direction < 0]
    held = [out[("07_held_out", m)][1] for m in ("vanilla", "ebr")]
    if against:
        why = "; ".join(f"ASB ranks below {NAMES[b]} ({WHERE[ch]})" + (f", even though {o.reason}" if o.reason
                                                                          else "") for ch, b, o in against)
        return found, NOT_SUPPORTED, why
    if all(o.direction > 0 for o in held):
        return found, SUPPORTED, "ASB ranks above both on new participants"
    favour = [(ch, b) for (ch, b), (_, o, _) in out.items() if o.direction > 0]
    if favour:
        return found, PARTLY, "ASB ranks above " + ", ".join(f"{NAMES[b]} ({WHERE[ch]})" for ch, b in favour) + \
            "; " + "; ".join(f"vs {NAMES[b]} ({WHERE[ch]}) {o.reason}" for (ch, b), (_, o, _) in out.items()
                             if o.direction == 0)
    return found, NOT_RESOLVED, "; ".join(f"vs {NAMES[b]} ({WHERE[ch]}): {o.reason}"
                                          for (ch, b), (_, o, _) in out.items())


def decodes_claim(ev: Evidence) -> tuple[str, str, str]:
    """Claim 2, "ASB decodes valence".

    Supported when ASB ranks above chance on new participants (interval over seeds and participants)
    and the permutation test over its seeds gives p < :data:`ALPHA`.

    Parameters
    ----------
    ev : Evidence
        The chapters' findings, comparisons and gates (:func:`gather`).

    Returns
    -------
    found : str
        What this book found, in words and numbers.
    reading : str
        One of :data:`READINGS`.
    why : str
        The reason for the reading.
    """
    c7 = ev.held_out
    c, o, _ = _outcome(ev, "07_held_out", "asb", "chance")
    found = (f"held-out participants: {c7.acc_asb:.2f} ({c7.acc_asb_lo:.2f}-{c7.acc_asb_hi:.2f} over "
             f"{c7.n_seeds:.0f} seed(s) and participants), chance {c7.chance:.2f}, permutation p = "
             f"{c7.perm_p_asb:.3f}")
    if o.direction < 0:
        return found, NOT_SUPPORTED, "ASB ranks below chance on new participants" + (
            f", even though {o.reason}" if o.reason else "")
    if o.direction > 0:
        if finite(c7.perm_p_asb) and c7.perm_p_asb < ALPHA:
            return found, SUPPORTED, "above chance over seeds and participants, and by the permutation test"
        return found, NOT_RESOLVED, f"the permutation test gives p = {c7.perm_p_asb:.3f}"
    return found, NOT_RESOLVED, o.reason


def level_claim(ev: Evidence) -> tuple[str, str, str]:
    """Claim 3, "ASB's level F1 is meaningful".

    Supported when ASB's level F1 ranks above random guessing with the training labels' frequencies
    (interval over seeds and test trials).

    Parameters
    ----------
    ev : Evidence
        The chapters' findings, comparisons and gates (:func:`gather`).

    Returns
    -------
    found : str
        What this book found, in words and numbers.
    reading : str
        One of :data:`READINGS`.
    why : str
        The reason for the reading.
    """
    c4 = ev.level_task
    _, o, _ = _outcome(ev, "04_level_task", "asb", "random guessing")
    found = (f"ASB mean F1 {c4.asb_f1_mean:.2f}; always {c4.majority_level} {c4.const_f1:.2f}, random guessing "
             f"{c4.rand_f1_mean:.2f} (95% of guesses below {c4.rand_f1_p95:.2f})")
    if o.direction < 0:
        return found, NOT_SUPPORTED, "ASB's level F1 ranks below random guessing" + (
            f", even though {o.reason}" if o.reason else "")
    if o.direction > 0:
        return found, SUPPORTED, "above random guessing over seeds and test trials"
    return found, NOT_RESOLVED, o.reason


def score_claim(ev: Evidence) -> tuple[str, str, str]:
    """Claim 4, the challenge score.

    Supported when the Phase I submission ranks better (lower) than always "neutral, 0" by at least
    :data:`SCORE_MARGIN`, partly when it ranks better by less.

    Parameters
    ----------
    ev : Evidence
        The chapters' findings, comparisons and gates (:func:`gather`).

    Returns
    -------
    found : str
        What this book found, in words and numbers.
    reading : str
        One of :data:`READINGS`.
    why : str
        The reason for the reading.
    """
    c5 = ev.challenge
    c, o, _ = _outcome(ev, "05_challenge", "asb", "always neutral")
    if finite(c5.p2_main):
        p2 = f"Phase II {c5.p2_main:.4f}"
    elif finite(c5.p2_crossfit_main):
        p2 = (f"Phase II estimated {c5.p2_crossfit_main:.4f} ({c5.p2_crossfit_lo:.3f}-{c5.p2_crossfit_hi:.3f}) by "
              f"cross-fitting on the released trials (no other test labels here)")
    else:
        p2 = "Phase II not scored here (no test labels given)"
    found = f"Phase I {c5.p1_main:.4f}, {p2}; always neutral {c5.p1_neutral:.4f}"
    if o.direction < 0:
        return found, NOT_SUPPORTED, "the submission ranks worse than always \"neutral, 0\"" + (
            f", even though {o.reason}" if o.reason else "")
    if o.direction > 0:
        if -c.estimate >= SCORE_MARGIN:
            return found, SUPPORTED, f"better than always \"neutral, 0\" by {-c.estimate:.3f} over seeds"
        return found, PARTLY, f"better than always \"neutral, 0\", by {-c.estimate:.3f} (less than {SCORE_MARGIN})"
    return found, NOT_RESOLVED, o.reason


def maps_claim(ev: Evidence) -> tuple[str, str, str]:
    """Claim 5, "SE weights select emotion-related regions".

    Read from the maps of chapter 3's ASB runs (chapter 6) and their agreement with integrated gradients
    (chapter 8): not resolved unless every ASB run trained and finished and there are at least two seeds
    (the maps' stability needs two); supported when the top regions overlap the EBR set beyond chance
    (hypergeometric p < :data:`ALPHA` for the seed-averaged map and for most seeds' maps), the seeds' maps
    agree (Spearman > :data:`AGREEMENT`) and so do SE weights and integrated gradients; partly when the
    overlap holds and one of the two agreements does; not supported otherwise.

    Parameters
    ----------
    ev : Evidence
        The chapters' findings, comparisons and gates (:func:`gather`).

    Returns
    -------
    found : str
        What this book found, in words and numbers.
    reading : str
        One of :data:`READINGS`.
    why : str
        The reason for the reading.
    """
    c6, c8 = ev.maps, ev.attribution
    found = (f"top regions overlap EBR {c6.ebr_overlap:.0f} (chance {c6.ebr_expected:.1f}, p = {c6.ebr_p:.2f}; "
             f"beyond chance for {c6.n_seeds_overlap:.0f} of {c6.n_seeds:.0f} seeds' maps); seed-to-seed "
             f"Spearman {c6.stab_spearman:.2f}; vs integrated gradients {c8.rho_se_ig:.2f}")
    gate = ev.gate("03_class_task", "asb")
    if not gate.passed:
        return found, NOT_RESOLVED, gate.reason()
    if not (finite(c6.n_seeds) and c6.n_seeds >= 2):
        return found, NOT_RESOLVED, "one seed: the maps' stability is unknown"
    overlap = (finite(c6.ebr_p) and c6.ebr_p < ALPHA and finite(c6.n_seeds_overlap)
               and 2 * c6.n_seeds_overlap > c6.n_seeds)
    stable = finite(c6.stab_spearman) and c6.stab_spearman > AGREEMENT
    agree = finite(c8.rho_se_ig) and c8.rho_se_ig > AGREEMENT
    if overlap and stable and agree:
        return found, SUPPORTED, "overlap beyond chance, stable over seeds, and in agreement with attribution"
    if overlap and (stable or agree):
        return found, PARTLY, "overlap beyond chance, but " + ("not in agreement with attribution" if stable
                                                              else "not stable over seeds")
    return found, NOT_SUPPORTED, ("the top regions do not overlap EBR beyond chance for most seeds" if not overlap
                                  else "neither stable over seeds nor in agreement with attribution")


CLAIMS = ("ASB beats Vanilla and EBR on the class task (F1 0.73 vs 0.52 and 0.47)",
          "ASB decodes valence (0.73 on the paper's split)",
          "ASB's level F1 (0.26) is meaningful",
          "Challenge score 0.5132 (Phase I), 0.4213 (Phase II)",
          "SE weights select emotion-related regions")


def claims(ev: Evidence) -> pd.DataFrame:
    """The verdict table.

    Parameters
    ----------
    ev : Evidence
        The chapters' findings, comparisons and gates (:func:`gather`).

    Returns
    -------
    table : pandas.DataFrame
        One row per claim of :data:`CLAIMS`: the paper's claim, what this book found, the reading and why
        (:func:`asb_claim`, :func:`decodes_claim`, :func:`level_claim`, :func:`score_claim`,
        :func:`maps_claim`).
    """
    rows = [asb_claim(ev), decodes_claim(ev), level_claim(ev), score_claim(ev), maps_claim(ev)]
    return pd.DataFrame([(claim, *row) for claim, row in zip(CLAIMS, rows)],
                        columns=["the paper's claim", "this book (data above)", "reading", "why"])


# --------------------------------------------------------------------------- sentences

def rating_text(c9: Beyond) -> str:
    """The rating rule's result (chapter 9) in one or two sentences.

    It says so when the 9-way models it is compared with kept checkpoints on their plateau: then the
    comparison is with a model that has not learned, and says nothing about a trained one.

    Parameters
    ----------
    c9 : fmriemo.book.findings.Beyond
        Chapter 9's finding.

    Returns
    -------
    text : str
    """
    text = (f"On held-out participants, a class-aware rating built on a model's class predictions scores "
            f"{c9.model_aware:.4f}, against {c9.model9:.4f} for a separate 9-way rating model of the same "
            "architecture, the paper's rule (chapter 9 says which model).")
    trained = finite(c9.level9_on_plateau) and finite(c9.level9_runs) and c9.level9_runs > 0
    if not (trained and c9.level9_on_plateau == 0):
        text += (f" But {c9.level9_on_plateau:.0f} of {c9.level9_runs:.0f} of those 9-way models kept a checkpoint on "
                 "their plateau: the rule beats a 9-way model that has not learned at this budget, and "
                 "whether it beats a trained one is not tested here.")
    return text


def training_text(ev: Evidence) -> str:
    """How many of the paper models' runs kept a checkpoint on their plateau and how many the epoch cap
    ended while still improving, chapter by chapter.

    Parameters
    ----------
    ev : Evidence
        The chapters' findings, comparisons and gates (:func:`gather`).

    Returns
    -------
    text : str
    """
    parts = []
    for chapter in ("03_class_task", "04_level_task", "07_held_out"):
        gs = [ev.gate(chapter, m) for m in PAPER_METHODS]
        parts.append(f"{WHERE[chapter]}: " + ", ".join(
            f"{NAMES[g.method]} {g.on_plateau} and {g.still_improving} of {g.runs}" for g in gs))
    return ("Runs that kept a checkpoint on their plateau, and runs the epoch cap ended while still improving: "
            + "; ".join(parts) + ". A comparison ranks two methods only when none of their runs did either.")


def recovery_text(c8: Attribution) -> str:
    """Which map finds the surrogate's planted regions (chapter 8), or that real data cannot tell.

    Parameters
    ----------
    c8 : fmriemo.book.findings.Attribution
        Chapter 8's finding.

    Returns
    -------
    text : str
    """
    if finite(c8.auc_se):
        return (f"On the surrogate, where the signal's regions are known, SE weights find them with an AUROC of "
                f"{c8.auc_se:.2f} against {c8.auc_ig:.2f} for integrated gradients.")
    return "On real data the regions that carry the signal are unknown, so which map finds them cannot be scored."


def class_corr_text(c6: BrainMaps) -> str:
    """How alike the SE maps of the three classes are (chapter 6's lowest correlation between them).

    Parameters
    ----------
    c6 : fmriemo.book.findings.BrainMaps
        Chapter 6's finding.

    Returns
    -------
    text : str
        "more than 0.999", or "at least" the correlation.
    """
    corr = c6.class_map_corr
    return "more than 0.999" if corr > 0.999 else f"at least {corr:.2f}"


def scope_text(on_surrogate: bool) -> str:
    """What the verdict's readings are about: the method on the surrogate, or this data set.

    Parameters
    ----------
    on_surrogate : bool
        Whether the book ran on the built-in surrogate.

    Returns
    -------
    text : str
    """
    if on_surrogate:
        return ("These readings are about the method's behaviour on the built-in surrogate, data calibrated to look "
                "like the challenge's, not about the brain. Rebuild the book with the real data (`make book "
                "DATA_DIR=...`) and this page is recomputed from those chapters.")
    return ("These readings come from the training participants and the released test labels of this data set; the "
            "numbers of a 48-trial split or of four test participants carry the intervals shown in the chapters.")
