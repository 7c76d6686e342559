"""The verdict's rules (fmriemo.book.verdict) on evidence where the right reading is known: one designed case
per row of the decision table and per way a claim can read, the boundaries of every gate, and a property
test over random evidence."""
import math
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fmriemo.book import verdict
from fmriemo.book.findings import (FINDINGS, Attribution, Beyond, BrainMaps, Challenge, ClassTask, DataSource, HeldOut,
                                   LevelTask)
from fmriemo.book.results import SCHEMA, Results
from fmriemo.book.verdict import NOT_RESOLVED, NOT_SUPPORTED, PARTLY, SUPPORTED, Gate
from fmriemo.evaluation.statistics import Comparison

#: every test here guards a function that decides a conclusion (`make mutants` runs them)
pytestmark = pytest.mark.conclusions

NAN = float("nan")


def comp(a, b, estimate, lo, hi, seeds_a=3, seeds_b=3, diffs=None, higher_is_better=True, measure="accuracy"):
    diffs = diffs if diffs is not None else (estimate,) * max(seeds_a, 1)
    return Comparison(a=a, b=b, measure=measure, estimate=estimate, lo=lo, hi=hi, seeds_a=seeds_a, seeds_b=seeds_b,
                      seed_differences=tuple(diffs), higher_is_better=higher_is_better)


def findings() -> dict:
    """Every chapter's finding, with numbers under which every claim is supported (see :func:`strong`)."""
    return dict(
        data=DataSource(data_source="the built-in surrogate"),
        class_task=ClassTask(asb_f1_mean=0.7, vanilla_f1_mean=0.5, ebr_f1_mean=0.45, asb_wins=3, n_seeds=3,
                             asb_acc_lo=0.5, asb_acc_hi=0.8),
        level_task=LevelTask(asb_f1_mean=0.3, const_f1=0.05, rand_f1_mean=0.1, rand_f1_p95=0.18, majority_level=0),
        challenge=Challenge(p1_main=0.45, p2_main=0.40, p1_neutral=0.68, p2_crossfit_main=NAN, p2_crossfit_lo=NAN,
                            p2_crossfit_hi=NAN),
        maps=BrainMaps(ebr_overlap=8, ebr_expected=2.6, ebr_p=0.001, stab_spearman=0.8, n_seeds=3, n_seeds_overlap=3,
                       class_map_corr=0.9),
        held_out=HeldOut(acc_asb=0.6, acc_asb_lo=0.5, acc_asb_hi=0.7, acc_vanilla=0.4, acc_ebr=0.4, acc_logreg=0.5,
                         acc_compact=0.55, chance=1 / 3, perm_p_asb=0.001, perm_p_logreg=0.01, n_seeds=3,
                         protocol="groupkfold", k=3),
        attribution=Attribution(rho_se_ig=0.7, rho_se_occ=0.6, auc_se=0.8, auc_ig=0.6, stab_se=0.8),
        beyond=Beyond(model9=0.55, model_aware=0.43, level9_on_plateau=0, level9_runs=3))


def changed(ev, **changes):
    """``ev`` with fields of its findings replaced: ``changed(ev, maps__ebr_p=0.2)``."""
    for key, value in changes.items():
        part, field = key.split("__")
        setattr(ev, part, replace(getattr(ev, part), **{field: value}))
    return ev


def strong() -> verdict.Evidence:
    """Evidence under which every claim is supported and every run trained and finished."""
    c = {("07_held_out", "asb", "vanilla"): comp("asb", "vanilla", 0.12, 0.05, 0.2),
         ("07_held_out", "asb", "ebr"): comp("asb", "ebr", 0.15, 0.08, 0.22),
         ("03_class_task", "asb", "vanilla"): comp("asb", "vanilla", 0.2, 0.05, 0.35, measure="macro F1"),
         ("03_class_task", "asb", "ebr"): comp("asb", "ebr", 0.25, 0.1, 0.4, measure="macro F1"),
         ("07_held_out", "asb", "chance"): comp("asb", "chance", 0.27, 0.15, 0.35, seeds_b=0),
         ("04_level_task", "asb", "random guessing"): comp("asb", "random guessing", 0.2, 0.1, 0.3, seeds_b=0),
         ("05_challenge", "asb", "always neutral"): comp("asb", "always neutral", -0.2, -0.3, -0.1, seeds_b=0,
                                                         higher_is_better=False)}
    g = {(ch, m): Gate(m, verdict.WHERE[ch], 9 if ch == "07_held_out" else 3, 0, 0)
         for ch in ("03_class_task", "04_level_task", "07_held_out") for m in verdict.PAPER_METHODS}
    return verdict.Evidence(**findings(), comparisons=c, gates=g)


def with_comparison(ev, key, **changes):
    old = ev.comparisons[key]
    fields = {f: getattr(old, f) for f in Comparison.__dataclass_fields__}
    fields.update(changes)
    ev.comparisons[key] = Comparison(**fields)
    return ev


def with_gate(ev, chapter, method, **changes):
    old = ev.gate(chapter, method)
    ev.gates[(chapter, method)] = Gate(method, old.where, changes.get("runs", old.runs),
                                       changes.get("on_plateau", old.on_plateau),
                                       changes.get("still_improving", old.still_improving))
    return ev


def readings(ev):
    return verdict.claims(ev)["reading"].tolist()


HELD_AV = ("07_held_out", "asb", "vanilla")
HELD_AE = ("07_held_out", "asb", "ebr")
PAPER_AV = ("03_class_task", "asb", "vanilla")
PAPER_AE = ("03_class_task", "asb", "ebr")
CHANCE = ("07_held_out", "asb", "chance")
RANDOM = ("04_level_task", "asb", "random guessing")
NEUTRAL = ("05_challenge", "asb", "always neutral")


@pytest.mark.conclusions
def test_everything_supported():
    ev = strong()
    assert readings(ev) == [SUPPORTED] * 5
    table = verdict.decision_table(ev)
    assert len(table) == len(verdict.RULES)
    assert table["outcome"].tolist()[:6] == ["ASB higher"] * 6 and table["outcome"].iloc[6] == "ASB lower score"


# --------------------------------------------------------------------------- rank: one rule at a time

@pytest.mark.conclusions
def test_rank_needs_an_interval_that_excludes_zero():
    assert verdict.evidence_direction(comp("asb", "vanilla", 0.05, 0.001, 0.1)).direction == 1
    assert verdict.evidence_direction(comp("asb", "vanilla", -0.05, -0.1, -0.001)).direction == -1
    at_zero = verdict.evidence_direction(comp("asb", "vanilla", 0.05, 0.0, 0.1))  # strict: lo must be > 0
    assert at_zero.direction == 0 and "includes zero" in at_zero.reason
    assert verdict.evidence_direction(comp("asb", "vanilla", -0.05, -0.1, 0.0)).direction == 0
    assert verdict.evidence_direction(comp("asb", "vanilla", 0.05, NAN, 0.1)).reason == "not computed"


@pytest.mark.conclusions
def test_rank_needs_two_seeds_of_every_trained_model():
    one = verdict.evidence_direction(comp("asb", "vanilla", 0.1, 0.05, 0.2, seeds_a=1))
    assert one.direction == 0 and one.reason.startswith("one seed (ASB)")
    assert "Vanilla" in verdict.evidence_direction(comp("asb", "vanilla", 0.1, 0.05, 0.2, seeds_b=1)).reason
    assert verdict.evidence_direction(comp("asb", "vanilla", 0.1, 0.05, 0.2, seeds_a=2, seeds_b=2)).direction == 1
    # a fixed level or a deterministic baseline has no seeds (0): only a's count
    assert verdict.evidence_direction(comp("asb", "chance", 0.1, 0.05, 0.2, seeds_b=0)).direction == 1
    # one seed also stops evidence against: a re-run could flip it
    assert verdict.rank(comp("asb", "vanilla", -0.1, -0.2, -0.05, seeds_a=1)).direction == 0


@pytest.mark.conclusions
def test_rank_needs_the_sign_to_hold_for_most_seeds():
    # 2 of 3 agree: most; 1 of 2: half, not most; 2 of 4: half
    assert verdict.evidence_direction(comp("asb", "vanilla", 0.1, 0.01, 0.2, diffs=(0.2, 0.15, -0.05))).direction == 1
    half = verdict.evidence_direction(comp("asb", "vanilla", 0.1, 0.01, 0.2, seeds_a=2, seeds_b=2,
                                           diffs=(0.25, -0.05)))
    assert half.direction == 0 and "1 of 2" in half.reason
    assert verdict.evidence_direction(comp("asb", "vanilla", 0.1, 0.01, 0.2, diffs=(0.2, 0.2, -0.1, -0.1))
                                      ).direction == 0


@pytest.mark.conclusions
def test_lower_is_better_flips_the_direction():
    better = comp("asb", "always neutral", -0.2, -0.3, -0.1, seeds_b=0, higher_is_better=False)
    worse = comp("asb", "always neutral", 0.2, 0.1, 0.3, seeds_b=0, higher_is_better=False)
    assert verdict.evidence_direction(better).direction == 1 and verdict.evidence_direction(worse).direction == -1


@pytest.mark.conclusions
@pytest.mark.parametrize("plateau,capped,runs,open_", [(0, 0, 9, True), (1, 0, 9, False), (0, 1, 9, False),
                                                      (0, 0, 0, False), (9, 9, 9, False)])
def test_a_gate_opens_only_when_every_run_trained_and_finished(plateau, capped, runs, open_):
    g = Gate("vanilla", "new participants", runs, plateau, capped)
    assert g.passed is open_ and (g.reason() == "") is open_
    out = verdict.rank(comp("asb", "vanilla", 0.1, 0.05, 0.2), [Gate("asb", "x", 9, 0, 0), g])
    assert out.direction == (1 if open_ else 0)


@pytest.mark.conclusions
def test_every_gate_must_be_open_not_any():
    shut = Gate("asb", "new participants", 9, 1, 0)
    fine = Gate("vanilla", "new participants", 9, 0, 0)
    for gates in ([shut, fine], [fine, shut]):
        out = verdict.rank(comp("asb", "vanilla", 0.1, 0.05, 0.2), gates)
        assert out.direction == 0 and "1 of 9 ASB runs (new participants) kept a checkpoint on their plateau" in out.reason


@pytest.mark.conclusions
def test_evidence_against_is_read_before_the_gates():
    capped = Gate("asb", "new participants", 9, 0, 5)
    out = verdict.rank(comp("asb", "vanilla", -0.1, -0.2, -0.05), [capped])
    assert out.direction == -1 and "still improving" in out.reason


# --------------------------------------------------------------------------- claims, designed evidence

@pytest.mark.conclusions
@pytest.mark.parametrize("key,changes,claim,expected", [
    (HELD_AV, {"lo": -0.01}, 0, PARTLY),                                   # held out vs Vanilla not resolved
    (HELD_AV, {"lo": -0.2, "hi": -0.05, "estimate": -0.1, "seed_differences": (-0.1,) * 3}, 0, NOT_SUPPORTED),
    (PAPER_AE, {"lo": -0.3, "hi": -0.01, "estimate": -0.1, "seed_differences": (-0.1,) * 3}, 0, NOT_SUPPORTED),
    (HELD_AE, {"seeds_a": 1}, 0, PARTLY),
    (CHANCE, {"lo": -0.01}, 1, NOT_RESOLVED),
    (CHANCE, {"lo": -0.2, "hi": -0.05, "estimate": -0.1, "seed_differences": (-0.1,) * 3}, 1, NOT_SUPPORTED),
    (RANDOM, {"lo": -0.05}, 2, NOT_RESOLVED),
    (RANDOM, {"seeds_a": 1, "seed_differences": (0.2,)}, 2, NOT_RESOLVED),
    (RANDOM, {"lo": -0.3, "hi": -0.1, "estimate": -0.2, "seed_differences": (-0.2,) * 3}, 2, NOT_SUPPORTED),
    (NEUTRAL, {"estimate": -0.03, "lo": -0.05, "hi": -0.01, "seed_differences": (-0.03,) * 3}, 3, PARTLY),
    (NEUTRAL, {"hi": 0.01}, 3, NOT_RESOLVED),
    (NEUTRAL, {"estimate": 0.1, "lo": 0.05, "hi": 0.2, "seed_differences": (0.1,) * 3}, 3, NOT_SUPPORTED),
])
def test_one_comparison_changed(key, changes, claim, expected):
    ev = with_comparison(strong(), key, **changes)
    r = readings(ev)
    assert r[claim] == expected
    assert all(x == SUPPORTED for i, x in enumerate(r) if i != claim)


@pytest.mark.conclusions
def test_claim_one_without_any_ranking_is_not_resolved_with_every_reason():
    ev = strong()
    for key in (HELD_AV, HELD_AE, PAPER_AV, PAPER_AE):
        with_comparison(ev, key, lo=-0.05)
    found, reading, why = verdict.asb_claim(ev)
    assert reading == NOT_RESOLVED and why.count("includes zero") == 4
    assert "ASB - Vanilla +0.120" in found


@pytest.mark.conclusions
def test_claim_one_on_the_paper_split_alone_is_partly():
    ev = strong()
    for key in (HELD_AV, HELD_AE):
        with_comparison(ev, key, lo=-0.05)
    assert verdict.asb_claim(ev)[1] == PARTLY


@pytest.mark.conclusions
def test_claims_are_gated_method_by_method():
    # a Vanilla run still improving in chapter 7 stops the held-out ranking against Vanilla only
    ev = with_gate(strong(), "07_held_out", "vanilla", still_improving=1)
    assert readings(ev) == [PARTLY, SUPPORTED, SUPPORTED, SUPPORTED, SUPPORTED]
    # an ASB held-out run on its plateau stops claims 1 (held out) and 2
    ev = with_gate(strong(), "07_held_out", "asb", on_plateau=1)
    assert readings(ev)[:2] == [PARTLY, NOT_RESOLVED]
    # every level run of ASB capped: claim 3 not resolved (the real data's full profile)
    ev = with_gate(strong(), "04_level_task", "asb", still_improving=3)
    found, reading, why = verdict.level_claim(ev)
    assert reading == NOT_RESOLVED and "3 of 3 ASB runs (paper's split, level) were still improving" in why
    # chapter 3's ASB runs gate Phase I (claim 4) and the maps (claim 5)
    ev = with_gate(strong(), "03_class_task", "asb", on_plateau=1)
    assert readings(ev) == [SUPPORTED, SUPPORTED, SUPPORTED, NOT_RESOLVED, NOT_RESOLVED]
    # an EBR paper-split run capped changes nothing once the held-out comparisons rank
    ev = with_gate(strong(), "03_class_task", "ebr", still_improving=1)
    assert readings(ev)[0] == SUPPORTED
    # chapter 4 not executed: no runs, so nothing to rank the level claim on
    ev = strong()
    del ev.gates[("04_level_task", "asb")]
    assert readings(ev)[2] == NOT_RESOLVED


@pytest.mark.conclusions
def test_a_significant_difference_against_asb_is_read_as_such_even_when_capped():
    """The real data's case: on new participants ASB significantly worse than Vanilla; the old rules hid it as
    "not ranked" when ASB's runs were still improving at the cap."""
    ev = with_comparison(strong(), HELD_AV, estimate=-0.07, lo=-0.12, hi=-0.02, seed_differences=(-0.1, -0.05, 0.01))
    with_gate(ev, "07_held_out", "asb", still_improving=6)
    found, reading, why = verdict.asb_claim(ev)
    assert reading == NOT_SUPPORTED
    assert "ASB ranks below Vanilla (new participants), even though 6 of 9 ASB runs" in why


@pytest.mark.conclusions
def test_claim_two_needs_the_permutation_test_too():
    ev = strong()
    changed(ev, held_out__perm_p_asb=0.05)  # not below 0.05
    assert verdict.decodes_claim(ev)[1] == NOT_RESOLVED
    changed(ev, held_out__perm_p_asb=NAN)
    assert verdict.decodes_claim(ev)[1] == NOT_RESOLVED


@pytest.mark.conclusions
def test_claim_four_margin_boundary():
    ev = with_comparison(strong(), NEUTRAL, estimate=-verdict.SCORE_MARGIN)
    assert verdict.score_claim(ev)[1] == SUPPORTED  # at least the margin
    ev = with_comparison(strong(), NEUTRAL, estimate=-verdict.SCORE_MARGIN + 1e-9)
    assert verdict.score_claim(ev)[1] == PARTLY


@pytest.mark.conclusions
@pytest.mark.parametrize("changes,expected,why", [
    ({"maps__ebr_p": 0.2}, NOT_SUPPORTED, "do not overlap EBR beyond chance"),
    ({"maps__ebr_p": verdict.ALPHA}, NOT_SUPPORTED, "do not overlap"),  # strict: p must be below alpha
    ({"maps__n_seeds_overlap": 1}, NOT_SUPPORTED, "do not overlap"),  # 1 of 3 seeds' maps overlap: not most
    ({"maps__n_seeds": 2, "maps__n_seeds_overlap": 1}, NOT_SUPPORTED, "do not overlap"),  # half is not most
    ({"maps__n_seeds": 5, "maps__n_seeds_overlap": 2}, NOT_SUPPORTED, "do not overlap"),  # 2 of 5 is not most
    ({"maps__n_seeds": 2, "maps__n_seeds_overlap": 2}, SUPPORTED, "stable over seeds"),   # two seeds are enough
    ({"maps__stab_spearman": 0.5}, PARTLY, "not stable over seeds"),        # strict: above 0.5
    ({"attribution__rho_se_ig": verdict.AGREEMENT}, PARTLY, "not in agreement with attribution"),  # strict here too
    ({"attribution__rho_se_ig": NAN}, PARTLY, "not in agreement with attribution"),  # a missing one never supports
    ({"maps__stab_spearman": 0.4, "attribution__rho_se_ig": 0.4}, NOT_SUPPORTED,
     "neither stable over seeds nor in agreement"),
    ({"maps__n_seeds": 1, "maps__n_seeds_overlap": 1}, NOT_RESOLVED, "one seed"),  # one seed: stability unknown
])
def test_maps_claim(changes, expected, why):
    ev = changed(strong(), **changes)
    _, reading, reason = verdict.maps_claim(ev)
    assert reading == expected and why in reason, (reading, reason)


@pytest.mark.conclusions
def test_missing_evidence_never_supports_a_claim():
    blank = {part: kind.from_values(dict.fromkeys(kind.field_names())) for part, kind in
             zip(findings(), FINDINGS)}  # every number missing (null in a results file)
    ev = verdict.Evidence(**blank, comparisons={}, gates={})
    table = verdict.claims(ev)
    assert set(table["reading"]) <= {NOT_RESOLVED, NOT_SUPPORTED}
    assert SUPPORTED not in table["reading"].tolist() and PARTLY not in table["reading"].tolist()
    assert "nan" in table["this book (data above)"].iloc[1]  # shown, not hidden
    assert "Phase II not scored here" in table["this book (data above)"].iloc[3]
    assert "recorded no comparison" in verdict.decision_table(ev)["outcome"].iloc[0]


def test_phase2_from_released_labels_only_is_named_an_estimate():
    ev = changed(strong(), challenge__p2_main=NAN, challenge__p2_crossfit_main=0.41, challenge__p2_crossfit_lo=0.3,
                 challenge__p2_crossfit_hi=0.52)
    text = verdict.claims(ev)["this book (data above)"].iloc[3]
    assert "Phase II estimated 0.4100 (0.300-0.520) by cross-fitting on the released trials" in text
    assert "Phase II 0.4000" in verdict.claims(strong())["this book (data above)"].iloc[3]


# --------------------------------------------------------------------------- a property of the rules

def _comparisons():
    # no subnormal floats: the verdict never sees them (training flushes them to zero in its epochs,
    # fmriemo.training.loop.denormals_flushed)
    num = st.floats(-1, 1, allow_nan=False, allow_subnormal=False)

    @st.composite
    def one(draw, a, b, lower_better=False):
        lo, hi = sorted((draw(num), draw(num)))
        estimate = (lo + draw(st.floats(0, 1, allow_subnormal=False)) * (hi - lo) if draw(st.booleans())
                    else draw(num))
        seeds_a = draw(st.integers(1, 5))
        seeds_b = 0 if b in ("chance", "random guessing", "always neutral") else draw(st.integers(1, 5))
        diffs = tuple(draw(st.lists(num, min_size=seeds_a, max_size=seeds_a * max(seeds_b, 1))))
        return Comparison(a=a, b=b, measure="m", estimate=estimate, lo=lo, hi=hi, seeds_a=seeds_a, seeds_b=seeds_b,
                          seed_differences=diffs, higher_is_better=not lower_better)

    return st.fixed_dictionaries({key: one(key[1], key[2], key == NEUTRAL)
                                  for key in (HELD_AV, HELD_AE, PAPER_AV, PAPER_AE, CHANCE, RANDOM, NEUTRAL)})


def _gates():
    counts = st.tuples(st.integers(0, 9), st.integers(0, 2), st.integers(0, 2))
    return st.fixed_dictionaries({(ch, m): counts for ch in ("03_class_task", "04_level_task", "07_held_out")
                                  for m in verdict.PAPER_METHODS})


@pytest.mark.conclusions
@settings(max_examples=300, deadline=None)
@given(_comparisons(), _gates(), st.floats(0, 0.2, allow_subnormal=False), st.floats(0, 1, allow_subnormal=False),
       st.integers(1, 4))
def test_no_reading_rests_on_an_interval_that_includes_zero(comps, gates, perm_p, stab, seeds):
    g = {k: Gate(k[1], verdict.WHERE[k[0]], n, min(p, n), min(c, n)) for k, (n, p, c) in gates.items()}
    ev = changed(verdict.Evidence(**findings(), comparisons=comps, gates=g), held_out__perm_p_asb=perm_p,
                 maps__stab_spearman=stab, maps__n_seeds=seeds, maps__n_seeds_overlap=seeds)
    r = verdict.claims(ev)["reading"].tolist()
    table = verdict.decision_table(ev)

    def zero_in(key):
        c = comps[key]
        return c.lo <= 0 <= c.hi

    for (claim, ch, a, b, _), outcome in zip(verdict.RULES, table["outcome"]):
        if zero_in((ch, a, b)):
            assert outcome.startswith("not resolved")
    if r[0] == SUPPORTED:
        assert not zero_in(HELD_AV) and not zero_in(HELD_AE)
    for claim, key in ((1, CHANCE), (2, RANDOM), (3, NEUTRAL)):
        if r[claim] in (SUPPORTED, PARTLY, NOT_SUPPORTED):
            assert not zero_in(key)
    if r[0] == NOT_SUPPORTED:
        assert any(not zero_in(k) for k in (HELD_AV, HELD_AE, PAPER_AV, PAPER_AE))


# --------------------------------------------------------------------------- reading the chapters' results

def test_gather_reads_findings_comparisons_and_gates():
    from fmriemo.evaluation.statistics import comparison_table

    def results(chapter, tables=None, finding=None):
        found = {} if finding is None else {type(finding).__name__: finding.record()}
        return Results({"schema": SCHEMA, "chapter": chapter, "settings": {}, "values": {}, "tables": tables or {},
                        "findings": found}, Path(f"{chapter}.json"))

    made = findings()
    runs3 = pd.DataFrame({"method": ["asb", "asb", "vanilla"], "seed": [0, 1, 0], "on_plateau": [False, True, False],
                          "still_improving": [True, False, False]})
    plateau7 = pd.DataFrame({"index": ["asb", "compact"], "runs": [9, 9], "on_plateau": [2, 0],
                             "still_improving": [0, 0]})
    held = comparison_table([strong().comparisons[HELD_AV]])
    tables = {"03_class_task": {"runs": runs3.to_dict("records")},
              "07_held_out": {"plateau": plateau7.to_dict("records"), "comparisons": held.to_dict("records")}}
    for t in tables.values():  # as a results file holds them: records with the index as "index"
        for name, rows in t.items():
            t[name] = [{"index": r.pop("index", i), **r} for i, r in enumerate(rows)]
    found = {f.CHAPTER: results(f.CHAPTER, tables.get(f.CHAPTER), f) for f in made.values()}
    ev = verdict.gather(found)
    assert ev.gate("03_class_task", "asb") == Gate("asb", "paper's split, class", 2, 1, 1)
    assert ev.gate("07_held_out", "asb").on_plateau == 2 and ev.gate("07_held_out", "ebr").runs == 0
    back, made_c = ev.comparison(*HELD_AV), strong().comparisons[HELD_AV]
    assert verdict.describe(back) == verdict.describe(made_c) and back.seed_differences == made_c.seed_differences
    assert ev.held_out == made["held_out"] and ev.maps == made["maps"] and ev.level_task == made["level_task"]
    assert tuple(type(f) for f in ev.findings()) == FINDINGS  # one field of the evidence per finding, in order
    assert math.isnan(ev.challenge.p2_crossfit_main)  # null in the file, NaN again when read
    found["07_held_out"].findings["HeldOut"].pop("acc_ebr")
    with pytest.raises(KeyError, match="acc_ebr"):
        verdict.gather(found)
    del found["06_brain_maps"]
    with pytest.raises(KeyError, match="06_brain_maps"):
        verdict.gather(found)


def test_the_verdicts_sentences():
    ev = changed(strong(), attribution__auc_se=0.8, attribution__auc_ig=0.6, maps__class_map_corr=0.9995)
    assert "AUROC of 0.80 against 0.60" in verdict.recovery_text(ev.attribution)
    assert verdict.recovery_text(replace(ev.attribution, auc_se=NAN)).startswith("On real data")
    assert verdict.class_corr_text(ev.maps) == "more than 0.999"
    assert verdict.class_corr_text(replace(ev.maps, class_map_corr=0.42)) == "at least 0.42"
    assert "surrogate" in verdict.scope_text(True) and "surrogate" not in verdict.scope_text(False)
    rating = verdict.rating_text(ev.beyond)
    assert "0.4300, against 0.5500" in rating and "plateau" not in rating
    assert "2 of 3 of those 9-way models" in verdict.rating_text(replace(ev.beyond, level9_on_plateau=2))
    assert "plateau" in verdict.rating_text(replace(ev.beyond, level9_runs=NAN))
    text = verdict.training_text(with_gate(strong(), "04_level_task", "asb", still_improving=3))
    assert "paper's split, level: ASB 0 and 3 of 3" in text and "new participants: ASB 0 and 0 of 9" in text
