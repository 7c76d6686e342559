"""Building the book: the install cell of notebooks read outside a checkout, the repository's URLs,
executed notebooks tidied for a static site, and the record of what a build ran on."""
import json
import os
import subprocess
import sys

import nbformat

from fmriemo.book import build
from fmriemo.data.source import open_dataset


def test_install_cell_and_urls(monkeypatch):
    assert build.github_url("git@github.com:lab/fmriemo.git") == "https://github.com/lab/fmriemo"
    assert build.github_url("https://gitlab.com/lab/fmriemo") == ""
    monkeypatch.setenv("FMRIEMO_BRANCH", "stable")
    assert build.repository_branch() == "stable"
    assert build.install_spec("https://github.com/lab/fmriemo", "stable") == "git+https://github.com/lab/fmriemo@stable"
    cell = build.install_cell("https://github.com/lab/fmriemo", "stable")
    assert "spec = 'git+https://github.com/lab/fmriemo@stable'" in cell and '"pip", "install"' in cell
    compile(cell, "cell", "exec")
    assert "knew no" in build.install_cell("") and "pip install" in build.install_cell("")
    nb = build.chapter_notebook(build.chapter_sources()[2], "https://github.com/lab/fmriemo", "main")
    assert nb.cells[0].metadata["tags"] == ["remove-cell"] and "git+https://github.com/lab/fmriemo@main" in \
        nb.cells[0].source
    assert sum("parameters" in c.metadata.get("tags", []) for c in nb.cells) == 1


def test_install_cell_outside_a_checkout_fails_in_one_line(tmp_path):
    """A notebook opened where fmriemo is not installed and the repository cannot be reached (here:
    git is pointed at a closed local port) stops with one line naming what it tried."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    cell = tmp_path / "cell.py"
    cell.write_text(build.install_cell("https://github.com/lab/fmriemo", "main"))
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


def test_tidy_executed(tmp_path):
    nb = nbformat.v4.new_notebook()
    injected = nbformat.v4.new_code_cell("data_dir = '/home/someone/data'")
    injected.metadata["tags"] = ["injected-parameters"]
    training = nbformat.v4.new_code_cell("train()")
    training.outputs = [nbformat.v4.new_output("display_data", {build.WIDGET_MIME: {"model_id": "x"},
                                                                "text/plain": "HBox()"}),
                        nbformat.v4.new_output("stream", name="stdout", text="done\n")]
    nb.cells = [nbformat.v4.new_code_cell("x = 1"), injected, training]
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {}}
    path = tmp_path / "a.ipynb"
    nbformat.write(nb, str(path))
    build.tidy_executed(path)
    back = nbformat.read(str(path), as_version=4)
    assert back.cells[1].metadata["tags"] == ["injected-parameters", "remove-cell"]
    assert "remove-cell" not in back.cells[0].metadata.get("tags", [])
    assert [o.output_type for o in back.cells[2].outputs] == ["stream"] and "widgets" not in back.metadata


def test_build_record_names_data_by_fingerprint_not_path(tmp_path):
    chapters = tmp_path / "chapters"
    chapters.mkdir()
    params = {"profile": "quick", "surrogate_seed": 7, "cache_dir": str(tmp_path / "cache")}
    nb = {"cells": [], "metadata": {"papermill": {"parameters": params}}}
    (chapters / "01_data.ipynb").write_text(json.dumps(nb))
    rec = build.build_record(chapters)
    assert rec["profile"] == "quick" and rec["data"] == "built-in surrogate, seed 7"
    expected = open_dataset("", "", 7, tmp_path / "cache").fingerprint[:16]
    assert rec["data fingerprint (SHA-256, first 16)"] == expected
    assert "torch" in rec["versions"] and "scikit-learn" in rec["versions"] and rec["commit"]
    assert str(tmp_path) not in " ".join(map(str, rec.values()))


def test_chapter_time_text_names_profile_machine_and_commit():
    rec = build.chapter_minutes()
    text = build.chapter_time_text("07_held_out")
    assert f"{rec['minutes']['quick']['07_held_out']:.1f} min in the quick profile" in text
    assert rec["commit"] in text and build.chapter_time_text("99_none") == ""


def test_chapter_waves_run_a_chapter_after_those_it_needs(tmp_path):
    """Chapters that run at once never share a model they train, nor read results not yet written."""
    every = build.chapter_sources()
    waves = [[s.stem[:2] for s in w] for w in build.chapter_waves(every)]
    assert waves == [["01", "03", "04", "05", "07"], ["02", "06", "08", "09"], ["10"]]
    at = {n: k for k, wave in enumerate(waves) for n in wave}
    assert all(at[d] < at[n] for n, needs in build.CHAPTER_NEEDS.items() for d in needs)
    some = [s for s in every if s.stem[:2] in ("02", "08", "10")]  # what they need is not asked for
    assert [[s.stem[:2] for s in w] for w in build.chapter_waves(some)] == [["02", "08"], ["10"]]
