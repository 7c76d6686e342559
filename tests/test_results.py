"""Results files (fmriemo.results), the verdict's reading of them, and the notebooks a reader
takes away: the install cell, `fmriemo notebooks`, hidden injected parameters."""
import json
import math
import os
import subprocess
import sys

import nbformat
import numpy as np
import pandas as pd
import pytest

from fmriemo import book, results, verdict


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


def test_glue_records_into_the_started_chapter(tmp_path, capsys):
    results.start("02_models", tmp_path / "results", {"profile": "quick"})
    try:
        book.glue("n_params", np.int64(1915982))
        shown = book.table("sizes", pd.DataFrame({"params": [1, 2]}, index=["a", "b"]))
    finally:
        results.stop()
    book.glue("after_stop", 1)  # no chapter recording: glued only
    r = results.load(tmp_path / "results", "02_models")
    assert r["n_params"] == 1915982 and "after_stop" not in r
    assert list(shown.index) == ["a", "b"] and r.table("sizes")["params"].tolist() == [1, 2]


def test_setup_opens_data_and_starts_the_record(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ds = book.setup("01_data", surrogate_seed=7, cache_dir=tmp_path / "cache", profile="quick")
    try:
        doc = json.loads((tmp_path / "results" / "01_data.json").read_text())
        assert doc["settings"]["data"] == "built-in surrogate, seed 7" and doc["settings"]["profile"] == "quick"
        assert doc["settings"]["data_fingerprint"] == ds.fingerprint[:16]
        assert str(tmp_path) not in json.dumps(doc)  # no path of the user's machine
    finally:
        results.stop()
    with pytest.raises(ValueError, match="profile must be one of"):
        book.setup("01_data", surrogate_seed=7, cache_dir=tmp_path / "cache", profile="fast")


def test_verdict_collect_reads_every_source():
    chapters = {c: {} for c in verdict.CHAPTERS}
    for key, (chapter, name) in verdict.SOURCES.items():
        chapters[chapter][name] = 0.25 if key != "c8_auc_se" else None
    v = verdict.collect(chapters)
    assert set(v) == set(verdict.SOURCES) and v["c3_asb"] == 0.25 and math.isnan(v["c8_auc_se"])
    assert {c for c, _ in verdict.SOURCES.values()} | {"01_data"} == set(verdict.CHAPTERS)  # 01: the data name
    del chapters["07_held_out"]["acc_ebr"]
    with pytest.raises(KeyError, match="acc_ebr"):
        verdict.collect(chapters)
    del chapters["06_brain_maps"]
    with pytest.raises(KeyError, match="chapter 06_brain_maps"):
        verdict.collect(chapters)


def test_install_cell_and_urls(monkeypatch):
    assert book.github_url("git@github.com:lab/fmriemo.git") == "https://github.com/lab/fmriemo"
    assert book.github_url("https://gitlab.com/lab/fmriemo") == ""
    monkeypatch.setenv("FMRIEMO_BRANCH", "stable")
    assert book.repository_branch() == "stable"
    assert book.install_spec("https://github.com/lab/fmriemo", "stable") == "git+https://github.com/lab/fmriemo@stable"
    cell = book.install_cell("https://github.com/lab/fmriemo", "stable")
    assert "spec = 'git+https://github.com/lab/fmriemo@stable'" in cell and '"pip", "install"' in cell
    compile(cell, "cell", "exec")
    assert "knew no" in book.install_cell("") and "pip install" in book.install_cell("")
    nb = book.chapter_notebook(book.chapter_sources()[2], "https://github.com/lab/fmriemo", "main")
    assert nb.cells[0].metadata["tags"] == ["remove-cell"] and "git+https://github.com/lab/fmriemo@main" in \
        nb.cells[0].source
    assert sum("parameters" in c.metadata.get("tags", []) for c in nb.cells) == 1


def test_install_cell_outside_a_checkout_fails_in_one_line(tmp_path):
    """A notebook opened where fmriemo is not installed and the repository cannot be reached (here:
    git is pointed at a closed local port) stops with one line naming what it tried."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    cell = tmp_path / "cell.py"
    cell.write_text(book.install_cell("https://github.com/lab/fmriemo", "main"))
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_COUNT": "1",
           "GIT_CONFIG_KEY_0": "url.https://127.0.0.1:9/.insteadOf", "GIT_CONFIG_VALUE_0": "https://github.com/",
           "PIP_NO_INDEX": "1"}
    r = subprocess.run([str(venv / "bin" / "python"), str(cell)], capture_output=True, text=True, env=env,
                       cwd=tmp_path, timeout=300)
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        "fmriemo is not installed, and pip install git+https://github.com/lab/fmriemo@main failed: ")
    # where fmriemo is importable (this interpreter) the cell does nothing
    assert subprocess.run([sys.executable, str(cell)], capture_output=True, text=True).returncode == 0


def test_cli_notebooks(tmp_path):
    r = subprocess.run([sys.executable, "-m", "fmriemo.cli", "notebooks", str(tmp_path / "nb"),
                        "--repository", "https://github.com/lab/fmriemo", "--branch", "v1"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    written = sorted((tmp_path / "nb").glob("*.ipynb"))
    assert [p.stem for p in written] == [s.stem for s in book.chapter_sources()]
    first = nbformat.read(str(written[0]), as_version=4).cells[0]
    assert "git+https://github.com/lab/fmriemo@v1" in first.source
    bad = subprocess.run([sys.executable, "-m", "fmriemo.cli", "notebooks", str(tmp_path / "x"), "--repository",
                          "lab/fmriemo"], capture_output=True, text=True)
    assert bad.returncode != 0 and "expected https://github.com/OWNER/NAME" in bad.stderr


def test_tidy_executed(tmp_path):
    nb = nbformat.v4.new_notebook()
    injected = nbformat.v4.new_code_cell("data_dir = '/home/someone/data'")
    injected.metadata["tags"] = ["injected-parameters"]
    training = nbformat.v4.new_code_cell("train()")
    training.outputs = [nbformat.v4.new_output("display_data", {book.WIDGET_MIME: {"model_id": "x"},
                                                                "text/plain": "HBox()"}),
                        nbformat.v4.new_output("stream", name="stdout", text="done\n")]
    nb.cells = [nbformat.v4.new_code_cell("x = 1"), injected, training]
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {}}
    path = tmp_path / "a.ipynb"
    nbformat.write(nb, str(path))
    book.tidy_executed(path)
    back = nbformat.read(str(path), as_version=4)
    assert back.cells[1].metadata["tags"] == ["injected-parameters", "remove-cell"]
    assert "remove-cell" not in back.cells[0].metadata.get("tags", [])
    assert [o.output_type for o in back.cells[2].outputs] == ["stream"] and "widgets" not in back.metadata


def test_one_bootstrap_for_trials_and_participants():
    """fmriemo.evaluate.bootstrap: rows by default, whole groups with ``groups``; the challenge's
    and the held-out chapters' intervals are this one function."""
    from fmriemo import challenge, evaluate, heldout
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 200)
    pred = np.where(rng.random(200) < 0.6, y, rng.integers(0, 3, 200))
    acc = lambda a, b: float(np.mean(a == b))
    lo, hi = evaluate.bootstrap(acc, y, pred, seed=1)
    assert lo < acc(y, pred) < hi and (lo, hi) == evaluate.bootstrap_interval(y, pred, acc, seed=1)
    # clustered data: each participant's trials share one accuracy, so resampling trials understates
    # the spread that resampling participants shows
    part = np.repeat(np.arange(10), 20)
    hit = np.repeat(rng.random(10) < 0.5, 20)
    frame = pd.DataFrame({"participant": part, "y_true": 0, "y_pred": np.where(hit, 0, 1)})
    trial = evaluate.bootstrap(acc, frame.y_true, frame.y_pred, seed=2)
    people = heldout.bootstrap_participants(frame, lambda d: acc(d.y_true, d.y_pred), seed=2)
    assert people == evaluate.bootstrap(acc, frame.y_true, frame.y_pred, groups=part, seed=2)
    assert people[1] - people[0] > 2 * (trial[1] - trial[0])
    levels = rng.integers(-4, 5, 200)
    assert challenge.score_interval(y, pred, levels, levels, seed=3) == evaluate.bootstrap(
        lambda a, b, c, d: evaluate.challenge_score(a, b, c, d)["score"], y, pred, levels, levels, seed=3)


def test_glue_budget_records_the_profiles_budget_and_seeds(tmp_path):
    from fmriemo.profiles import PROFILES, Settings
    results.start("03_class_task", tmp_path / "results", {"profile": "full"})
    try:
        seeds = book.glue_budget(Settings.resolve("full", seed=4, paper_task="class"), "class")
    finally:
        results.stop()
    r = results.load(tmp_path / "results", "03_class_task")
    budget = PROFILES["full"]["budget"]["class"]
    assert (r["max_epochs"], r["min_epochs"], r["patience"]) == (budget["epochs"], budget["min_epochs"],
                                                                 budget["patience"])
    n = PROFILES["full"]["seeds"]["class"]
    assert seeds == list(range(4, 4 + n)) and r["n_seeds"] == n
