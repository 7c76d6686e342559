"""Results files: every glued value and recorded table as JSON and CSV, read back by the verdict."""
import json
import math

import numpy as np
import pandas as pd
import pytest

from fmriemo.book import results


def test_chapter_results_round_trip(tmp_path):
    rec = results.ChapterResults("03_class_task", tmp_path, {"profile": "quick", "seed": np.int64(3)})
    rec.value("asb_f1_mean", np.float32(0.5))
    rec.value("p", float("nan"))
    rec.value("text", "ASB first")
    frame = pd.DataFrame({"f1": [0.41, np.nan], "runs": [3, 3]}, index=["asb", "ebr"])
    rec.table("summary", frame)
    doc = json.loads((tmp_path / "03_class_task.json").read_text())  # strict JSON: NaN is null
    assert doc["schema"] == results.SCHEMA and doc["settings"] == {"profile": "quick", "seed": 3}
    assert doc["values"] == {"asb_f1_mean": 0.5, "p": None, "text": "ASB first"}
    back = results.load(tmp_path, "03_class_task")
    assert back["asb_f1_mean"] == 0.5 and math.isnan(back["p"]) and back["text"] == "ASB first"
    pd.testing.assert_frame_equal(back.table("summary"), frame.rename_axis("index"), check_dtype=False)
    long = pd.read_csv(tmp_path / "03_class_task.csv")
    assert list(long.columns) == ["table", "index", "column", "value"] and len(long) == 4
    wide = long.pivot(index="index", columns="column", values="value")
    assert wide.loc["asb", "f1"] == 0.41 and math.isnan(wide.loc["ebr", "f1"])


def test_missing_results_fail_loudly(tmp_path):
    results.ChapterResults("07_held_out", tmp_path).value("acc_asb", 0.4)
    r = results.load(tmp_path, "07_held_out")
    with pytest.raises(results.MissingResult, match="chapter 07_held_out reported no 'acc_ebr'"):
        r["acc_ebr"]
    with pytest.raises(results.MissingResult, match="no table 'x'"):
        r.table("x")
    with pytest.raises(FileNotFoundError, match="execute that chapter first .*--only 05"):
        results.load(tmp_path, "05_challenge")
    (tmp_path / "bad.json").write_text(json.dumps({"schema": "other"}))
    with pytest.raises(ValueError, match="not an fmriemo results file"):
        results.load(tmp_path, "bad")
    with pytest.raises(ValueError, match="clash"):
        results.ChapterResults("x", tmp_path).table("t", pd.DataFrame({"index": [1]}))


def test_a_table_recorded_empty_reads_back_empty(tmp_path):
    """Chapter 5's Phase II table is empty on data with no unreleased labels; reading it must not fail."""
    rec = results.ChapterResults("05_challenge", tmp_path, {})
    rec.table("phase2", pd.DataFrame(columns=["Phase I", "Phase II"]))
    back = results.load(tmp_path, "05_challenge")
    assert back.table("phase2").empty


def test_a_finding_missing_or_incomplete_fails_naming_the_chapter(tmp_path):
    from fmriemo.book.findings import Beyond
    rec = results.ChapterResults("09_level_and_beyond", tmp_path)
    rec.value("model9", 0.5)
    r = results.load(tmp_path, "09_level_and_beyond")
    with pytest.raises(results.MissingResult, match="chapter 09_level_and_beyond recorded no Beyond finding"):
        r.finding(Beyond)
    rec.finding(Beyond(model9=0.5, model_aware=0.4, level9_on_plateau=1, level9_runs=3))
    assert results.load(tmp_path, "09_level_and_beyond").finding(Beyond).level9_on_plateau == 1
    doc = json.loads((tmp_path / "09_level_and_beyond.json").read_text())
    del doc["findings"]["Beyond"]["model_aware"]  # a file from another version of the finding
    (tmp_path / "09_level_and_beyond.json").write_text(json.dumps(doc))
    with pytest.raises(results.MissingResult, match="'model_aware'.*re-execute"):
        results.load(tmp_path, "09_level_and_beyond").finding(Beyond)
    doc["findings"]["Beyond"]["model_aware"] = "n/a"  # text where a number belongs
    (tmp_path / "09_level_and_beyond.json").write_text(json.dumps(doc))
    with pytest.raises(results.MissingResult, match="re-execute"):
        results.load(tmp_path, "09_level_and_beyond").finding(Beyond)
