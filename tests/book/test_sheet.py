import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fmriemo.book import sheet
from fmriemo.book.results import SCHEMA, Results
from fmriemo.data import preprocess
from fmriemo.data.splits import group_folds, make_paper_split
from fmriemo.evaluation import timeresolved

ROOT = Path(__file__).resolve().parents[2]


def fake_results(chapter, values=None, tables=None):
    return Results({"schema": SCHEMA, "chapter": chapter, "settings": {}, "values": values or {},
                    "tables": tables or {}}, Path(f"{chapter}.json"))


FOUND = {"03_class_task": fake_results("03_class_task", tables={"summary": [
             {"index": "asb", "accuracy mean": 0.5, "f1 mean": 0.4, "precision mean": 0.4}]}),
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
    assert sheet.baseline_ignores_test_labels(dataset, folds)
    assert sheet.time_ignores_test_labels(dataset, folds)

    def leaky(X, y, groups, c=timeresolved.C, n_jobs=1):  # fitted on every row, held-out ones included
        est = timeresolved.SlidingEstimator(timeresolved.readout(c), verbose=False).fit(X, y)
        return est.predict(X)
    monkeypatch.setattr(timeresolved, "predictions_by_second", leaky)
    assert not sheet.time_ignores_test_labels(dataset, folds)


def test_search_check_passes(dataset):
    assert sheet.search_ignores_test_labels(dataset, group_folds(dataset, "groupkfold", 4))


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
    assert cell(long, "heldout", "dependence").status == "guarded"
    assert cell(long, "time", "dependence").status == "guarded"
    assert cell(long, "heldout", "kfold").status == "guarded"
    assert cell(long, "search", "selection").status == "guarded"
    assert cell(long, "heldout", "preprocessing").status == "guarded"
    assert cell(long, "heldout", "cv_wraps").status == "guarded"


def test_sheet_reads_the_measures_from_the_results(long):
    assert cell(long, "paper", "measures").status == "guarded"
    assert "accuracy, macro F1, precision" in cell(long, "paper", "measures").how
    assert cell(long, "phase1", "measures").status == "open"  # one measure recorded in the fake table
    assert cell(long, "search", "measures").status == "n/a"  # no table recorded at all


def test_a_protocol_that_splits_twins_is_judged_open(dataset, monkeypatch):
    monkeypatch.setattr(sheet, "search_ignores_test_labels", lambda ds, folds: True)
    monkeypatch.setattr(sheet, "time_ignores_test_labels", lambda ds, folds: True)
    monkeypatch.setattr(sheet.Settings, "resolve", classmethod(
        lambda cls, profile: cls(profile=profile, protocol="kfold", k=4)))
    long = sheet.build(dataset, FOUND, "quick")
    assert cell(long, "heldout", "dependence").status == "open"
    assert cell(long, "heldout", "kfold").status == "open"


def test_the_sheet_judges_the_protocol_chapter_7_ran(dataset, monkeypatch):
    """Chapter 7 run with other parameters than its profile's: the held-out row describes what it ran."""
    monkeypatch.setattr(sheet, "search_ignores_test_labels", lambda ds, folds: True)
    monkeypatch.setattr(sheet, "time_ignores_test_labels", lambda ds, folds: True)
    ran = {**FOUND, "07_held_out": fake_results("07_held_out", values={
        **FOUND["07_held_out"].values, "protocol": "kfold", "k": 5})}
    assert sheet.held_out_protocol(ran["07_held_out"].values, "quick") == ("kfold", 5)
    assert sheet.held_out_protocol({}, "quick") == ("groupkfold", 4)  # results that did not record it
    long = sheet.build(dataset, ran, "quick")
    assert cell(long, "heldout", "kfold").status == "open"
    assert cell(long, "heldout", "kfold").how.startswith("5 folds that ignore order groups")


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
