"""What a chapter calls: setup, glue and table, each value also recorded in the chapter's results file."""
import json
import math

import numpy as np
import pandas as pd
import pytest

from fmriemo.book import chapter, results


def test_glue_records_into_the_started_chapter(tmp_path, capsys):
    results.start("02_models", tmp_path / "results", {"profile": "quick"})
    try:
        chapter.glue("n_params", np.int64(1915982))
        shown = chapter.table("sizes", pd.DataFrame({"params": [1, 2]}, index=["a", "b"]))
    finally:
        results.stop()
    chapter.glue("after_stop", 1)  # no chapter recording: glued only
    r = results.load(tmp_path / "results", "02_models")
    assert r["n_params"] == 1915982 and "after_stop" not in r
    assert list(shown.index) == ["a", "b"] and r.table("sizes")["params"].tolist() == [1, 2]


def test_setup_opens_data_and_starts_the_record(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ds = chapter.setup("01_data", surrogate_seed=7, cache_dir=tmp_path / "cache", profile="quick")
    try:
        doc = json.loads((tmp_path / "results" / "01_data.json").read_text())
        assert doc["settings"]["data"] == "built-in surrogate, seed 7" and doc["settings"]["profile"] == "quick"
        assert doc["settings"]["data_fingerprint"] == ds.fingerprint[:16]
        assert str(tmp_path) not in json.dumps(doc)  # no path of the user's machine
    finally:
        results.stop()
    with pytest.raises(ValueError, match="profile must be one of"):
        chapter.setup("01_data", surrogate_seed=7, cache_dir=tmp_path / "cache", profile="fast")


def test_open_chapter_gives_data_settings_and_truth_from_the_parameters(tmp_path, monkeypatch):
    """One call opens a chapter: its parameters by name become the settings (as Settings.resolve with the
    same names), the chapter's fixed settings override them, and the surrogate's ground truth comes along."""
    from fmriemo.core.errors import ParameterError
    from fmriemo.profiles import Settings
    monkeypatch.chdir(tmp_path)
    cache = tmp_path / "cache"
    params = {"data_dir": "", "surrogate_seed": 7, "cache_dir": str(cache), "profile": "quick", "seed": 2,
              "n_seeds": 3, "protocol": "order", "k": None, "n_val": 1, "methods": ["asb"], "unrelated": 5}
    try:
        opened = chapter.open_chapter("07_held_out", params, n_seeds=1)
    finally:
        results.stop()
    assert opened.settings == Settings.resolve("quick", cache_dir=str(cache), seed=2, n_seeds=1, protocol="order",
                                               k=None, n_val=1)
    assert opened.data.source == str(opened.folder)
    assert opened.truth is not None and "valence_regions" in opened.truth
    ds, settings, folder, truth = opened  # it unpacks, too
    with pytest.raises(ParameterError, match="^seed "):  # parameters are checked before anything is opened
        chapter.open_chapter("07_held_out", {**params, "seed": -1, "cache_dir": str(tmp_path / "other")})
    with pytest.raises(ParameterError, match="^n_seeds must be at least 2"):
        chapter.open_chapter("06_brain_maps", {**params, "cache_dir": str(tmp_path / "other")},
                             relations={"n_seeds": (False, "must be at least 2")})
    assert not (tmp_path / "other").exists()


def test_glue_table_glues_cells_by_name_and_nan_for_what_is_absent(tmp_path):
    frame = pd.DataFrame({"acc": [0.5, 0.25], "runs": [3, 4]}, index=["asb", "compact+minmax"])
    results.start("07_held_out", tmp_path, {})
    try:
        chapter.glue_table(frame, {"acc": "acc_{row}", "runs": "runs_{row}", "f1": "f1_{row}"},
                           rows=["asb", "compact+minmax", "ebr"], key=chapter.name_key)
    finally:
        results.stop()
    r = results.load(tmp_path, "07_held_out")
    assert r["acc_asb"] == 0.5 and r["acc_compact_minmax"] == 0.25 and r["runs_asb"] == 3
    assert isinstance(r.values["runs_asb"], int)  # integers stay integers in the prose
    assert math.isnan(r["acc_ebr"]) and math.isnan(r["f1_asb"])  # an absent row or column: NaN, not an error
    assert chapter.name_key("asb-ensemble") == "asb_ensemble"


def test_hand_over_gathers_the_finding_from_what_the_chapter_glued(tmp_path):
    from fmriemo.book.findings import LevelTask
    results.start("04_level_task", tmp_path / "results", {"profile": "quick"})
    try:
        for name, value in {"asb_f1_mean": np.float64(0.21), "const_f1": 0.02, "rand_f1_mean": float("nan"),
                            "rand_f1_p95": 0.18}.items():
            chapter.glue(name, value)
        with pytest.raises(KeyError, match="majority_level"):  # not glued yet: the chapter fails, naming it
            chapter.hand_over(LevelTask)
        chapter.glue("majority_level", np.int64(0))
        handed = chapter.hand_over(LevelTask)
    finally:
        results.stop()
    assert handed.asb_f1_mean == 0.21 and handed.majority_level == 0 and math.isnan(handed.rand_f1_mean)
    assert "<caption>LevelTask (chapter 04)</caption>" in handed._repr_html_() and "n/a" in handed._repr_html_()
    doc = json.loads((tmp_path / "results" / "04_level_task.json").read_text())
    assert doc["findings"]["LevelTask"]["rand_f1_mean"] is None  # NaN is null in the file
    back = results.load(tmp_path / "results", "04_level_task").finding(LevelTask)
    assert back.record().keys() == handed.record().keys() and back.const_f1 == 0.02 and math.isnan(back.rand_f1_mean)
    with pytest.raises(RuntimeError, match="open_chapter"):  # outside a chapter there is nothing to hand over
        chapter.hand_over(LevelTask)
