"""The verdict's rules: how each of the paper's claims is read from the values the
chapters report. Kept here, with tests, so that a change to a rule is a change to
tested code rather than to a notebook cell.

``values`` is a flat dict of numbers collected from the chapters' results files
(:func:`collect`, NaN where a chapter reported a number it could not compute);
``claims(values)`` returns one row per claim.
"""
from __future__ import annotations

import math

import pandas as pd

UNTESTED = "could not be tested with this budget (models kept checkpoints on their plateau)"
UNRANKED = "could not be ranked with this budget (the losing model was still improving when the epoch cap ended it)"
ALPHA = 0.05
PAPER_METHODS = ("asb", "vanilla", "ebr")


#: the chapters whose results the verdict reads
CHAPTERS = ("01_data", "03_class_task", "04_level_task", "05_challenge", "06_brain_maps", "07_held_out",
            "08_attribution", "09_level_and_beyond")

#: the verdict's name for each value -> (chapter, the name the chapter records it under)
SOURCES = {
    "c3_asb": ("03_class_task", "asb_f1_mean"), "c3_van": ("03_class_task", "vanilla_f1_mean"),
    "c3_ebr": ("03_class_task", "ebr_f1_mean"), "c3_wins": ("03_class_task", "asb_wins"),
    "c3_seeds": ("03_class_task", "n_seeds"), "c3_asb_lo": ("03_class_task", "asb_acc_lo"),
    "c3_asb_hi": ("03_class_task", "asb_acc_hi"), "c3_plateau": ("03_class_task", "n_on_plateau"),
    "c3_runs": ("03_class_task", "n_runs"),
    "c4_asb": ("04_level_task", "asb_f1_mean"), "c4_const": ("04_level_task", "const_f1"),
    "c4_rand": ("04_level_task", "rand_f1_mean"), "c4_rand_p95": ("04_level_task", "rand_f1_p95"),
    "c4_plateau": ("04_level_task", "n_on_plateau"), "c4_runs": ("04_level_task", "n_runs"),
    "c5_p1": ("05_challenge", "p1_main"), "c5_p2": ("05_challenge", "p2_main"),
    "c5_neutral": ("05_challenge", "p1_neutral"), "c5_p2_cf": ("05_challenge", "p2_crossfit_main"),
    "c5_p2_cf_lo": ("05_challenge", "p2_crossfit_lo"), "c5_p2_cf_hi": ("05_challenge", "p2_crossfit_hi"),
    "c6_overlap": ("06_brain_maps", "ebr_overlap"), "c6_expected": ("06_brain_maps", "ebr_expected"),
    "c6_p": ("06_brain_maps", "ebr_p"), "c6_stab": ("06_brain_maps", "stab_spearman"),
    "c6_class_corr": ("06_brain_maps", "class_map_corr"),
    "c7_asb": ("07_held_out", "acc_asb"), "c7_asb_lo": ("07_held_out", "acc_asb_lo"),
    "c7_asb_hi": ("07_held_out", "acc_asb_hi"), "c7_van": ("07_held_out", "acc_vanilla"),
    "c7_ebr": ("07_held_out", "acc_ebr"), "c7_chance": ("07_held_out", "chance"),
    "c7_p_av": ("07_held_out", "p_asb_vs_vanilla"), "c7_p_ae": ("07_held_out", "p_asb_vs_ebr"),
    "c7_perm_asb": ("07_held_out", "perm_p_asb"), "c7_logreg": ("07_held_out", "acc_logreg"),
    "c7_compact": ("07_held_out", "acc_compact"), "c7_perm_logreg": ("07_held_out", "perm_p_logreg"),
    **{f"c7_plateau_{m}": ("07_held_out", f"plateau_{m}") for m in ("asb", "vanilla", "ebr")},
    **{f"c7_runs_{m}": ("07_held_out", f"runs_{m}") for m in ("asb", "vanilla", "ebr")},
    "c8_se_ig": ("08_attribution", "rho_se_ig"), "c8_se_occ": ("08_attribution", "rho_se_occ"),
    "c8_auc_se": ("08_attribution", "auc_se"), "c8_auc_ig": ("08_attribution", "auc_ig"),
    "c8_stab_se": ("08_attribution", "stab_se"),
    "c9_model9": ("09_level_and_beyond", "model9"), "c9_aware": ("09_level_and_beyond", "model_aware"),
    "c9_plateau": ("09_level_and_beyond", "level9_on_plateau"), "c9_runs": ("09_level_and_beyond", "level9_runs"),
    # runs the epoch cap ended while still improving, per method where a claim ranks methods
    "c3_improving": ("03_class_task", "n_still_improving"), "c4_improving": ("04_level_task", "n_still_improving"),
    **{f"c3_improving_{m}": ("03_class_task", f"{m}_still_improving") for m in ("asb", "vanilla", "ebr")},
    **{f"c3_runs_{m}": ("03_class_task", f"{m}_n_runs") for m in ("asb", "vanilla", "ebr")},
    **{f"c7_improving_{m}": ("07_held_out", f"improving_{m}") for m in ("asb", "vanilla", "ebr")},
    # the spread over seeds on the paper's split, and the direction of the paired differences
    **{f"c3_min_{m}": ("03_class_task", f"{m}_f1_min") for m in ("asb", "vanilla", "ebr")},
    **{f"c3_max_{m}": ("03_class_task", f"{m}_f1_max") for m in ("asb", "vanilla", "ebr")},
    "c7_d_av": ("07_held_out", "diff_asb_vs_vanilla"), "c7_d_ae": ("07_held_out", "diff_asb_vs_ebr"),
}


def collect(results_by_chapter) -> dict:
    """The flat values dict from the chapters' results (``{chapter: fmriemo.results.Results}``, or
    any mapping of chapter -> mapping of name -> value). A chapter or a value that is not there
    raises (``KeyError`` naming it), never a silent NaN."""
    out = {}
    for key, (chapter, name) in SOURCES.items():
        if chapter not in results_by_chapter:
            raise KeyError(f"the verdict needs the results of chapter {chapter}; execute it first")
        value = results_by_chapter[chapter][name]
        out[key] = float("nan") if value is None else float(value)
    return out


def finite(x) -> bool:
    try:
        return math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def trained(*pairs) -> bool:
    """True when, for every (runs kept on the plateau, runs) pair, there were runs and at most half
    of them kept a checkpoint on their plateau."""
    return all(finite(on) and finite(n) and n > 0 and on <= n / 2 for on, n in pairs)


def reading(ok: bool, partly: bool = False, tested: bool = True) -> str:
    if not tested:
        return UNTESTED
    return "supported" if ok else ("partly supported" if partly else "not supported here")


def _lt(a, b) -> bool:
    """a < b, False when either is not a number (a missing value never supports a claim)."""
    return finite(a) and finite(b) and a < b


def _flagged(improving, runs) -> bool:
    """More than half of a method's runs were still improving when the epoch cap ended them."""
    return finite(improving) and finite(runs) and runs > 0 and improving > runs / 2


def _above_spread(v: dict, a: str, b: str) -> bool:
    """On the paper's split, ``a``'s worst seed beats ``b``'s best, with at least two seeds each: a gap
    the seed-to-seed spread does not explain."""
    return finite(v["c3_seeds"]) and v["c3_seeds"] >= 2 and _lt(v[f"c3_max_{b}"], v[f"c3_min_{a}"])


def asb_claim(v: dict) -> tuple[str, str]:
    """Claim 1, "ASB beats Vanilla and EBR", read from the direction and the strength of the evidence:
    ``(what this book found, reading)``.

    * A paired difference on new participants that is significant *against* ASB makes the claim not
      supported, and the row says so ("ASB worse than EBR, -0.07, p = 0.03").
    * Supported: significantly better than both on new participants, and the highest held-out accuracy.
    * Partly supported: better than one of them significantly on new participants, or, on the paper's
      split, better than both by more than the spread over seeds (the worst ASB seed above the best seed
      of each); a higher mean of a few seeds is not evidence.
    * Not judged when the models kept checkpoints on their plateau; not ranked when the model that loses
      a comparison had more than half of its runs still improving when the epoch cap ended them."""
    names = {"vanilla": "Vanilla", "ebr": "EBR"}
    diffs = {"vanilla": (v["c7_d_av"], v["c7_p_av"]), "ebr": (v["c7_d_ae"], v["c7_p_ae"])}
    parts = []
    for m, (d, p) in diffs.items():
        worse = finite(d) and d < 0
        parts.append(f"ASB {'worse than' if worse else 'vs'} {names[m]} {d:+.2f} (p = {p:.2f})")
    found = (f"mean F1 over {v['c3_seeds']:.0f} seeds: ASB {v['c3_asb']:.2f}, Vanilla {v['c3_van']:.2f}, "
             f"EBR {v['c3_ebr']:.2f}; on new participants " + ", ".join(parts))
    if not (trained((v["c3_plateau"], v["c3_runs"]))
            and trained(*[(v[f"c7_plateau_{m}"], v[f"c7_runs_{m}"]) for m in PAPER_METHODS])):
        return found, UNTESTED
    for m, (d, _) in diffs.items():  # the loser of each held-out comparison must have finished learning
        loser = m if not (finite(d) and d < 0) else "asb"
        if _flagged(v[f"c7_improving_{loser}"], v[f"c7_runs_{loser}"]):
            return found + f"; {names.get(loser, 'ASB')} was still improving when the epoch cap ended it", UNRANKED
    against = any(_lt(p, ALPHA) and finite(d) and d < 0 for d, p in diffs.values())
    favour = [_lt(p, ALPHA) and finite(d) and d > 0 for d, p in diffs.values()]
    if against:
        return found, reading(False)
    if all(favour) and _lt(max(v["c7_van"], v["c7_ebr"]), v["c7_asb"]):
        return found, reading(True)
    spread = [_above_spread(v, "asb", m) and not _flagged(v[f"c3_improving_{m}"], v[f"c3_runs_{m}"])
              for m in ("vanilla", "ebr")]
    return found, reading(False, partly=any(favour) or all(spread))


def claims(v: dict, majority_level="?") -> pd.DataFrame:
    """The verdict table: the paper's claim, what this book found, and the reading by these rules:

    1. ASB beats Vanilla and EBR: :func:`asb_claim` (the sign and strength of every paired difference
       on new participants, the spread over seeds on the paper's split).
    2. ASB decodes valence: permutation p < 0.05 and the participant interval above chance.
    3. The level F1 is meaningful: ASB's mean F1 above the 95th percentile of random guessing; the row
       says how many level runs were still improving when the epoch cap ended them.
    4. The challenge score: Phase I at least 0.05 better than always "neutral, 0" (partly: better).
    5. SE weights select emotion regions: EBR overlap p < 0.05, seed-to-seed Spearman > 0.5 and
       agreement with integrated gradients > 0.5 (partly: either of the last two).
    """
    if finite(v["c5_p2"]):
        p2 = f"Phase II {v['c5_p2']:.4f}"
    elif finite(v.get("c5_p2_cf", float("nan"))):
        p2 = (f"Phase II estimated {v['c5_p2_cf']:.4f} ({v['c5_p2_cf_lo']:.3f}-{v['c5_p2_cf_hi']:.3f}) by "
              f"cross-fitting on the released trials (no other test labels here)")
    else:
        p2 = "Phase II not scored here (no test labels given)"
    rows = [
        ("ASB beats Vanilla and EBR on the class task (F1 0.73 vs 0.52 and 0.47)", *asb_claim(v)),
        ("ASB decodes valence (0.73 on the paper's split)",
         f"held-out participants: {v['c7_asb']:.2f} ({v['c7_asb_lo']:.2f}-{v['c7_asb_hi']:.2f}), chance "
         f"{v['c7_chance']:.2f}, permutation p = {v['c7_perm_asb']:.3f}",
         reading(_lt(v["c7_perm_asb"], ALPHA) and _lt(v["c7_chance"], v["c7_asb_lo"]),
                 tested=trained((v["c7_plateau_asb"], v["c7_runs_asb"])))),
        ("ASB's level F1 (0.26) is meaningful",
         f"ASB mean F1 {v['c4_asb']:.2f}; always {majority_level} {v['c4_const']:.2f}, random guessing "
         f"{v['c4_rand']:.2f} (95% of guesses below {v['c4_rand_p95']:.2f})"
         + (f"; {v['c4_improving']:.0f} of {v['c4_runs']:.0f} level runs still improving when the epoch cap ended "
            "them" if finite(v.get("c4_improving")) and v["c4_improving"] > 0 else ""),
         reading(_lt(v["c4_rand_p95"], v["c4_asb"]), tested=trained((v["c4_plateau"], v["c4_runs"])))),
        ("Challenge score 0.5132 (Phase I), 0.4213 (Phase II)",
         f"Phase I {v['c5_p1']:.4f}, {p2}; always neutral {v['c5_neutral']:.4f}",
         reading(_lt(v["c5_p1"], v["c5_neutral"] - 0.05), _lt(v["c5_p1"], v["c5_neutral"]))),
        ("SE weights select emotion-related regions",
         f"top regions overlap EBR {v['c6_overlap']:.0f} (chance {v['c6_expected']:.1f}, p = {v['c6_p']:.2f}); "
         f"seed-to-seed Spearman {v['c6_stab']:.2f}; vs integrated gradients {v['c8_se_ig']:.2f}",
         reading(_lt(v["c6_p"], ALPHA) and _lt(0.5, v["c6_stab"]) and _lt(0.5, v["c8_se_ig"]),
                 _lt(0.5, v["c6_stab"]) or _lt(0.5, v["c8_se_ig"]))),
    ]
    return pd.DataFrame(rows, columns=["the paper's claim", "this book (data above)", "reading"])


def rating_text(v: dict) -> str:
    """The rating rule's result (chapter 9) in one or two sentences, saying so when the 9-way models it
    is compared with kept checkpoints on their plateau (then the comparison is with a model that has not
    learned, and says nothing about a trained one)."""
    text = (f"On held-out participants, a class-aware rating built on a model's class predictions scores "
            f"{v['c9_aware']:.4f}, against {v['c9_model9']:.4f} for a separate 9-way rating model of the same "
            "architecture, the paper's rule (chapter 9 says which model).")
    if not trained((v["c9_plateau"], v["c9_runs"])):
        text += (f" But {v['c9_plateau']:.0f} of {v['c9_runs']:.0f} of those 9-way models kept a checkpoint on "
                 "their plateau: the rule beats a 9-way model that has not learned at this budget, and "
                 "whether it beats a trained one is not tested here.")
    return text


def training_text(v: dict) -> str:
    """Two sentences on how many runs kept a checkpoint on their plateau, and how many the epoch cap
    ended while they were still improving."""
    return (f"On the paper's split {v['c3_plateau']:.0f} of {v['c3_runs']:.0f} class-task runs and "
            f"{v['c4_plateau']:.0f} of {v['c4_runs']:.0f} level-task runs kept a checkpoint inside their "
            f"validation plateau; on held-out participants ASB {v['c7_plateau_asb']:.0f} of "
            f"{v['c7_runs_asb']:.0f} fold runs, Vanilla {v['c7_plateau_vanilla']:.0f} of "
            f"{v['c7_runs_vanilla']:.0f}, EBR {v['c7_plateau_ebr']:.0f} of {v['c7_runs_ebr']:.0f}. A claim is "
            "judged only on models of which at most half did. The epoch cap ended "
            f"{v['c3_improving']:.0f} of {v['c3_runs']:.0f} class-task and {v['c4_improving']:.0f} of "
            f"{v['c4_runs']:.0f} level-task runs on the paper's split, and ASB {v['c7_improving_asb']:.0f}, "
            f"Vanilla {v['c7_improving_vanilla']:.0f} and EBR {v['c7_improving_ebr']:.0f} of their held-out fold "
            "runs, while they were still improving; two methods are not ranked when the one that loses had more "
            "than half of its runs cut off so.")


def recovery_text(v: dict) -> str:
    """Which map finds the surrogate's planted regions (chapter 8), or that real data cannot tell."""
    if finite(v["c8_auc_se"]):
        return (f"On the surrogate, where the signal's regions are known, SE weights find them with an AUROC of "
                f"{v['c8_auc_se']:.2f} against {v['c8_auc_ig']:.2f} for integrated gradients.")
    return "On real data the regions that carry the signal are unknown, so which map finds them cannot be scored."


def class_corr_text(v: dict) -> str:
    """How alike the SE maps of the three classes are (chapter 6's lowest correlation between them)."""
    corr = v["c6_class_corr"]
    return "more than 0.999" if corr > 0.999 else f"at least {corr:.2f}"


def scope_text(on_surrogate: bool) -> str:
    """What the verdict's readings are about: the method on the surrogate, or this data set."""
    if on_surrogate:
        return ("These readings are about the method's behaviour on the built-in surrogate, data calibrated to look "
                "like the challenge's, not about the brain. Rebuild the book with the real data (`make book "
                "DATA_DIR=...`) and this page is recomputed from those chapters.")
    return ("These readings come from the training participants and the released test labels of this data set; the "
            "numbers of a 48-trial split or of four test participants carry the intervals shown in the chapters.")
