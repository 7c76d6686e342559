import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fmriemo.book import sheet
from fmriemo.book.findings import HeldOut
from fmriemo.book.results import SCHEMA, Results
from fmriemo.data import preprocess
from fmriemo.data.splits import group_folds, make_paper_split
from fmriemo.evaluation import heldout, timeresolved
from fmriemo.profiles import Settings

#: every test here guards a function that decides a conclusion (`make mutants` runs them)
pytestmark = pytest.mark.conclusions

ROOT = Path(__file__).resolve().parents[2]


def fake_results(chapter, values=None, tables=None, findings=None):
    return Results({"schema": SCHEMA, "chapter": chapter, "settings": {}, "values": values or {},
                    "tables": tables or {}, "findings": findings or {}}, Path(f"{chapter}.json"))


def held_out(protocol, k):
    """Chapter 7's finding as a run with ``protocol`` and ``k`` records it (its numbers do not matter here)."""
    fields = dict.fromkeys(HeldOut.field_names(), None)
    return HeldOut.from_values({**fields, "protocol": protocol, "k": k})


FOUND = {"03_class_task": fake_results("03_class_task", tables={"summary": [
             {"index": "asb", "accuracy mean": 0.5, "f1 mean": 0.4, "precision mean": 0.4}],
             "runs": [{"index": 0, "method": "asb", "seed": 0, "split": "paper-class-410"}]}),
         "05_challenge": fake_results("05_challenge", tables={"phase1": [{"index": "asb", "score": 0.3}]}),
         "07_held_out": fake_results("07_held_out", values={"perm_p_position": 0.01, "acc_position": 0.45},
                                     tables={"summary": [{"index": "asb", "accuracy": 0.4, "f1": 0.3}]}),
         "09_level_and_beyond": fake_results("09_level_and_beyond")}


def test_split_facts_see_shared_participants_twins_and_copies(dataset):
    paper = make_paper_split(dataset, "class")
    facts = sheet.split_facts(dataset, paper.train, paper.test)
    assert facts["shared participants"] > 10 and facts["shared trials"] == 0 and facts["identical trials"] == 0
    lab = dataset.labelled_train
    for test_p in group_folds(dataset, "groupkfold", 4):
        f = sheet.split_facts(dataset, np.flatnonzero(lab & ~np.isin(dataset.participant, test_p)),
                              np.flatnonzero(lab & np.isin(dataset.participant, test_p)))
        assert f["shared participants"] == 0 and f["split twin pairs"] == 0
    twins_apart = any(sheet.split_facts(dataset, np.flatnonzero(lab & ~np.isin(dataset.participant, p)),
                                        np.flatnonzero(lab & np.isin(dataset.participant, p)))["split twin pairs"]
                      for p in group_folds(dataset, "kfold", 4))
    assert twins_apart  # folds that ignore order groups do split twins, and the check sees it
    copy = np.flatnonzero(lab)[:3]
    assert sheet.split_facts(dataset, copy, copy)["identical trials"] == 3


def test_preprocessing_is_local_and_a_global_one_is_caught(dataset, monkeypatch):
    test = np.flatnonzero(dataset.labelled_train & (dataset.participant == "P01"))
    assert all(sheet.preprocessing_is_local(dataset, m, test) for m in preprocess.METHODS)
    monkeypatch.setattr(preprocess, "apply", lambda m, X, p=None: (X - X.mean()) / X.std())  # statistics of all trials
    assert not sheet.preprocessing_is_local(dataset, "pct", test)


def test_scramble_checks_pass_on_the_book_and_catch_a_leaking_readout(dataset, monkeypatch):
    folds = group_folds(dataset, "groupkfold", 4)
    settings = Settings.resolve("quick", protocol="groupkfold", k=4)
    assert sheet.baseline_ignores_test_labels(dataset, settings)
    assert sheet.time_ignores_test_labels(dataset, folds)

    def leaky(X, y, groups, c=timeresolved.C, n_jobs=1):  # fitted on every row, held-out ones included
        est = timeresolved.SlidingEstimator(timeresolved.readout(c), verbose=False).fit(X, y)
        return est.predict(X)
    monkeypatch.setattr(timeresolved, "predictions_by_second", leaky)
    assert not sheet.time_ignores_test_labels(dataset, folds)


def test_the_baseline_check_runs_chapter_7s_own_code_and_catches_a_fit_on_the_test_fold(dataset, monkeypatch):
    """A mutant of chapter 7's baselines that trains on the test fold too: the old check refitted the baseline
    itself and stayed 'guarded'; this one calls run_baselines, so the cell opens."""
    settings = Settings.resolve("quick", protocol="groupkfold", k=4)
    real = heldout.baseline_pipeline

    def on_everything(kind, seed=0):
        model = real(kind, seed)
        fit = model.fit

        def fit_all(X, y):  # the rows of every participant, test fold included
            all_rows = np.flatnonzero(dataset.labelled_train)
            return fit(heldout.baseline_inputs(on_everything.ds, kind)[all_rows], on_everything.ds.labels("class",
                                                                                                       all_rows))
        model.fit = fit_all
        return model
    original = heldout.run_baselines

    def run(ds, *a, **kw):
        on_everything.ds = ds
        return original(ds, *a, **kw)
    monkeypatch.setattr(heldout, "baseline_pipeline", on_everything)
    monkeypatch.setattr(heldout, "run_baselines", run)
    assert not sheet.baseline_ignores_test_labels(dataset, settings)


def test_search_check_passes(dataset):
    assert sheet.search_ignores_test_labels(dataset, group_folds(dataset, "groupkfold", 4))


def test_position_and_sampling_checks(dataset):
    lab = np.flatnonzero(dataset.labelled_train)
    paper = make_paper_split(dataset, "class")
    acc, p = sheet.position_check(dataset, np.r_[paper.train, paper.val], paper.test, n_perm=200)
    assert 0 <= acc <= 1 and 0 < p <= 1
    # the same rows on both sides: the position classifier has seen every test trial's label
    acc_in, _ = sheet.position_check(dataset, lab, lab, n_perm=50)
    assert acc_in >= acc - 0.2
    assert sheet.sampling_check(dataset, lab[::2], lab[1::2]) > 0.05  # two halves of the same trials
    assert sheet.sampling_check(dataset, lab, lab[np.isin(dataset.participant[lab], ["P01", "P02"])]) > 0.5
    negative = lab[dataset.y_class[lab] == -1]
    assert sheet.sampling_check(dataset, lab, negative) < 0.001  # a test set of one class only
    assert sheet.ensemble_choice_reads_scored_labels()  # chapter 9 picks its ensemble on the scored trials


@pytest.fixture(scope="module")
def long(dataset):
    mp = pytest.MonkeyPatch()
    mp.setattr(sheet, "search_ignores_test_labels", lambda ds, folds: True)  # checked above, on its own
    mp.setattr(sheet, "time_ignores_test_labels", lambda ds, folds: True)
    try:
        yield sheet.build(dataset, FOUND, "quick")
    finally:
        mp.undo()


def cell(long, protocol, column):
    row = long[(long.protocol == sheet.PROTOCOLS[protocol][0]) & (long.column == sheet.COLUMNS[column])]
    assert len(row) == 1
    return row.iloc[0]


def test_sheet_has_every_cell_once(long):
    assert len(long) == len(sheet.PROTOCOLS) * len(sheet.COLUMNS)
    assert set(long.status) <= set(sheet.MARK)
    assert sheet.wide(long).shape == (len(sheet.COLUMNS), len(sheet.PROTOCOLS))


def test_sheet_judges_the_paper_split_open_and_held_out_guarded(long):
    assert cell(long, "paper", "dependence").status == "open"
    assert "participant(s) on both sides" in cell(long, "paper", "dependence").how
    assert cell(long, "paper", "temporal").status == "open"
    assert cell(long, "paper", "cv_wraps").status == "open" and cell(long, "paper", "kfold").status == "open"
    for column in ("dependence", "kfold", "preprocessing", "cv_wraps", "in_sample", "test", "duplicates"):
        assert cell(long, "heldout", column).status == "guarded", column
    assert cell(long, "time", "dependence").status == "guarded"
    assert cell(long, "search", "selection").status == "guarded"
    assert cell(long, "ensembles", "in_sample").status == "open"  # chosen on the participants it is scored on


def test_sheet_reads_the_measures_from_the_results(long):
    assert cell(long, "paper", "measures").status == "guarded"
    assert "accuracy, macro F1, precision" in cell(long, "paper", "measures").how
    assert cell(long, "phase1", "measures").status == "open"  # one measure recorded in the fake table
    assert cell(long, "search", "measures").status == "n/a"  # no table recorded at all


def test_a_protocol_that_splits_twins_is_judged_open(dataset, monkeypatch):
    monkeypatch.setattr(sheet, "search_ignores_test_labels", lambda ds, folds: True)
    monkeypatch.setattr(sheet, "time_ignores_test_labels", lambda ds, folds: True)
    ran = {**FOUND, "07_held_out": fake_results("07_held_out", findings={"HeldOut": held_out("kfold", 4).record()})}
    long = sheet.build(dataset, ran, "quick")
    assert cell(long, "heldout", "dependence").status == "open"
    assert cell(long, "heldout", "kfold").status == "open"
    assert cell(long, "heldout", "kfold").how.startswith("4 folds that ignore order groups")


def test_the_sheet_judges_the_protocol_chapter_7_ran():
    """Chapter 7 run with other parameters than its profile's: the held-out row describes what it ran."""
    assert sheet.held_out_protocol(held_out("kfold", 5), "quick") == ("kfold", 5)
    assert sheet.held_out_protocol(None, "quick") == ("groupkfold", 4)  # no chapter 7 finding: the profile's


# --------------------------------------------------------------------------- every cell can open

def clean() -> sheet.Evidence:
    """Evidence under which every cell is guarded, or n/a by design."""
    zero = {"shared participants": 0, "identical trials": 0, "split twin pairs": 0, "shared trials": 0}
    ps = list(sheet.PROTOCOLS)
    return sheet.Evidence(
        facts={p: dict(zero) for p in ps}, n_test={p: 48 for p in ps},
        splits={p: 1 if p == "phase1" else 3 for p in ps}, position={p: (0.34, 0.5) for p in ps},
        sampling={p: 0.5 for p in ps}, selection={"search": True},
        guards=dict.fromkeys(("baseline", "deep_splits", "search", "time", "crossfit"), True),
        local={m: True for m in preprocess.METHODS}, chosen_in_sample={"ensembles": False},
        measures={p: sheet.Cell("guarded", "accuracy, macro F1") for p in ps}, protocol="groupkfold", k=3,
        twin_pairs=2, released=30, scored=0)


def _set(field, value, protocol_keyed=True):
    def change(e, p):
        target = getattr(e, field)
        if protocol_keyed:
            target[p] = value(target[p]) if callable(value) else value
        else:
            target.update(value)
    return change


def _fact(key, n):
    return _set("facts", lambda f: {**f, key: n})


#: for each column, the evidence that opens it (applied to the protocol under test)
OPENERS = {
    "test": _fact("shared trials", 2),
    "preprocessing": _set("local", {"pct": False}, protocol_keyed=False),
    "selection": _set("selection", False),
    "duplicates": _fact("identical trials", 1),
    "illegitimate": _set("position", (0.45, 0.001)),
    "temporal": _fact("shared participants", 1),
    "dependence": _fact("split twin pairs", 1),
    "sampling": _set("sampling", 0.001),
    "in_sample": _fact("shared trials", 1),
    "cv_wraps": _set("splits", 1),
    "measures": _set("measures", sheet.Cell("open", "accuracy only")),
    "kfold": _set("splits", 1),
}
#: cells that are n/a by design under the clean evidence, with the reason's words
BY_DESIGN = {("phase1", "cv_wraps"): "challenge's own", ("phase1", "kfold"): "challenge's own",
             **{(p, "selection"): "no feature selection" for p in sheet.PROTOCOLS if p != "search"}}


def test_the_clean_evidence_guards_every_cell_but_those_na_by_design():
    computed = sheet.cells(clean())
    assert set(computed) == {(p, c) for p in sheet.PROTOCOLS for c in sheet.COLUMNS}
    for key, c in computed.items():
        if key in BY_DESIGN:
            assert c.status == "n/a" and BY_DESIGN[key] in c.how, key
        else:
            assert c.status == "guarded", (key, c)


@pytest.mark.conclusions
@pytest.mark.parametrize("protocol,column", [(p, c) for p in sheet.PROTOCOLS for c in sheet.COLUMNS
                                             if (p, c) not in BY_DESIGN])
def test_each_cell_opens_on_the_evidence_that_should_open_it(protocol, column):
    e = clean()
    OPENERS[column](e, protocol)
    computed = sheet.cells(e)
    assert computed[(protocol, column)].status == "open", computed[(protocol, column)]
    others = [k for k, c in computed.items() if c.status == "open" and k[0] != protocol]
    assert not others or column in ("preprocessing",), others  # evidence of one protocol opens only its own cells


@pytest.mark.conclusions
@pytest.mark.parametrize("change,protocol,column", [
    (_fact("shared participants", 1), "heldout", "dependence"),         # a participant on both sides
    (_set("chosen_in_sample", True), "ensembles", "in_sample"),          # the choice made on the scored trials
    (_set("guards", {"baseline": False}, protocol_keyed=False), "heldout", "cv_wraps"),
    (_set("guards", {"deep_splits": False}, protocol_keyed=False), "heldout", "cv_wraps"),
    (_set("guards", {"time": False}, protocol_keyed=False), "time", "cv_wraps"),
    (_set("guards", {"crossfit": False}, protocol_keyed=False), "phase2", "cv_wraps"),
    (_set("guards", {"search": False}, protocol_keyed=False), "search", "cv_wraps"),
    (_fact("split twin pairs", 1), "heldout", "kfold"),
    (_set("n_test", 0), "paper", "test"),
])
def test_the_other_ways_a_cell_opens(change, protocol, column):
    e = clean()
    change(e, protocol)
    assert sheet.cells(e)[(protocol, column)].status == "open"


@pytest.mark.conclusions
@pytest.mark.parametrize("protocol", ["loso", "kfold"])
def test_held_out_protocols_that_are_not_k_fold_of_whole_groups_open_the_cell(protocol):
    e = clean()
    e.protocol = protocol
    assert sheet.cells(e)[("heldout", "kfold")].status == "open"


def test_missing_labels_make_cells_na_with_their_reason():
    e = clean()
    e.position["phase1"], e.sampling["phase1"] = None, None
    computed = sheet.cells(e)
    assert computed[("phase1", "illegitimate")].status == "n/a" and computed[("phase1", "sampling")].status == "n/a"
    e.facts["phase2"] = None
    assert all(sheet.cells(e)[("phase2", c)].how == "no released labels" for c in sheet.COLUMNS)


def test_no_status_is_written_in():
    """Every status in the sheet's module comes from a comparison of evidence: the only literal statuses are
    the 'n/a' cells with their reason, and the guarded/open pairs of a computed condition."""
    source = (ROOT / "fmriemo" / "book" / "sheet.py").read_text()
    for status in ("guarded", "open"):
        literal = re.findall(rf'Cell\("{status}"', source)
        computed = re.findall(r'Cell\("guarded" if|Cell\("open" if', source)
        assert len(literal) + len(computed) >= 1
    # every function that returns a guarded cell also returns an open one (the cell can fail)
    for fn in re.split(r"\ndef ", source)[1:]:
        if "__mutmut_" in fn.split("(")[0]:  # mutmut's copies of a function, each with one change, beside it
            continue
        if 'Cell("guarded"' in fn:
            assert 'Cell("open"' in fn or '"guarded" if' in fn, fn.split("(")[0]


def slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def test_every_evidence_points_at_a_section_or_test_that_exists(long):
    for evidence in set(long.evidence) - {""}:
        if evidence.startswith("tests/"):
            assert (ROOT / evidence.split("::")[0]).is_file(), evidence
            continue
        page, _, anchor = evidence.partition("#")
        source = (ROOT / "notebooks" / f"{page}.py").read_text()
        assert source, page
        if anchor:
            titles = [slug(m) for m in re.findall(r"^# #+ (.+)$", source, flags=re.M)]
            assert anchor in titles, (evidence, titles)


def test_html_marks_links_and_open_text(long):
    page = sheet.to_html(long)
    assert page.count("<tr>") == len(sheet.COLUMNS) + 1 and page.count('class="sheet-group"') == 2
    assert "sheet-open" in page and "title=" in page
    det = sheet.details(long)
    assert len(det) == len(long)
    shown = det["how, and what shows it"]
    assert shown.str.contains('<a href="07_held_out.html#').any() and shown.str.contains("<code>tests/").any()
    block = sheet.details_html(long)
    n_open = int((long.status == "open").sum())
    assert block.count("\u2718 open") == 2 * n_open  # the open cells, then again among all cells
    assert f"All {len(long)} cells" in block
    text = sheet.open_text(long)
    assert text.startswith("Open: ") and sheet.PROTOCOLS["paper"][0] in text
    assert sheet.open_text(pd.DataFrame({"status": ["guarded"], "protocol": ["x"], "column": ["y"]})) == \
        "No cell is open."


def test_an_empty_results_table_is_not_a_measure():
    found = {"05_challenge": fake_results("05_challenge", tables={"phase2": []})}
    c = sheet._measures(found, "05_challenge", "phase2", sheet.MEASURES)
    assert c.status == "n/a" and "empty" in c.how
