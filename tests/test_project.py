"""The project's promises: environment files in step, CI runs the README's command,
and the book build fails when a chapter failed."""
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pandas as pd
import pytest
import yaml

from fmriemo.book.results import ChapterResults

ROOT = Path(__file__).resolve().parent.parent


def _name(req: str) -> str:
    return re.split(r"[<>=!~\[ ;]", req.strip(), maxsplit=1)[0].lower()


def test_environment_yml_matches_pyproject():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert any(str(d).startswith("python=3.11") for d in env["dependencies"])
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    assert any("download.pytorch.org/whl/cpu" in p for p in pip)  # Binder: the CPU build of torch
    pip = [p for p in pip if not p.startswith("-")]
    proj = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = proj["dependencies"] + [r for extra in proj["optional-dependencies"].values() for r in extra]
    norm = lambda reqs: sorted(r.replace(" ", "") for r in reqs)
    assert norm(pip) == norm(wanted)
    assert "torch>=2.13,<2.14" in proj["dependencies"]


def test_ci_runs_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    assert "make test" in readme and "make book" in readme
    assert re.search(r"^make test$", (ROOT / ".ci" / "run").read_text(), re.M)


def test_book_config_fails_on_errors():
    cfg = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert cfg["sphinx"]["config"]["nb_execution_raise_on_error"] is True
    assert cfg["execute"]["allow_errors"] is False
    assert (ROOT / "book" / "_config.yml").resolve() == (ROOT / "_config.yml").resolve()
    assert (ROOT / "book" / "_toc.yml").resolve() == (ROOT / "_toc.yml").resolve()
    toc = (ROOT / "_toc.yml").read_text()
    for src in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py")):
        assert f"chapters/{src.stem}" in toc


def _fake_book(tmp_path, error_in=None, no_results=None):
    book = tmp_path / "book"
    shutil.copytree(ROOT / "book", book, symlinks=False,
                    ignore=shutil.ignore_patterns("_build", "chapters", "*.ipynb"))
    (book / "chapters").mkdir()
    for src in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py")):
        out = [{"output_type": "stream", "name": "stdout", "text": ["ok\n"]}]
        if src.stem == error_in:
            out = [{"output_type": "error", "ename": "ValueError", "evalue": "boom", "traceback": []}]
        nb = {"nbformat": 4, "nbformat_minor": 5,
              "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
              "cells": [{"cell_type": "markdown", "id": "a", "metadata": {}, "source": [f"# {src.stem}"]},
                        {"cell_type": "code", "id": "b", "metadata": {}, "execution_count": 1,
                         "source": ["print('ok')"], "outputs": out}]}
        (book / "chapters" / f"{src.stem}.ipynb").write_text(json.dumps(nb))
        if src.stem != no_results:
            rec = ChapterResults(src.stem, book / "chapters" / "results", {"profile": "quick"})
            rec.value("answer", 42)
            rec.table("scores", pd.DataFrame({"f1": [0.5, float("nan")]}, index=["asb", "ebr"]))
    return book


def _build(book):
    jb = Path(sys.executable).with_name("jupyter-book")
    # as make html
    return subprocess.run([str(jb), "build", "-W", "--keep-going", str(book)], capture_output=True, text=True)


@pytest.mark.chapter
def test_jupyter_book_build_fails_when_a_chapter_failed(tmp_path, monkeypatch):
    monkeypatch.delenv("FMRIEMO_REPOSITORY_URL", raising=False)
    bad = _build(_fake_book(tmp_path / "bad", error_in="03_class_task"))
    assert bad.returncode != 0
    assert "03_class_task" in bad.stdout + bad.stderr and "boom" in bad.stdout + bad.stderr
    good = _build(_fake_book(tmp_path / "good"))
    assert good.returncode == 0, good.stdout[-2000:] + good.stderr[-2000:]
    page = (tmp_path / "good" / "book" / "_build" / "html" / "chapters" / "03_class_task.html").read_text()
    # outside a git checkout with a GitHub origin the build knows no repository: the page says so
    assert "mybinder.org" not in page and "Binder and Colab links need the public repository" in page
    assert '<details class="chapter-plumbing"><summary>' in page  # the plumbing in one line, opened on demand
    assert "../_sources/chapters/03_class_task.ipynb" in page
    assert "executablebooks/jupyter-book" not in page  # the theme's default repository is not ours
    missing = _build(_fake_book(tmp_path / "missing", no_results="04_level_task"))
    assert missing.returncode != 0 and "no results file for 04_level_task" in missing.stdout + missing.stderr
    timing = (tmp_path / "good" / "book" / "_build" / "html" / "timing.html").read_text()
    assert "data fingerprint" in timing and "torch" in timing and "commit" in timing  # the build record


def test_repository_url_sources(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "book" / "_ext"))
    from chapter_links import repository_url
    monkeypatch.delenv("FMRIEMO_REPOSITORY_URL", raising=False)
    assert repository_url(tmp_path) == ""                      # not a git checkout
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "remote", "add", "origin", "git@github.com:someone/fmriemo.git"],
                   check=True)
    assert repository_url(tmp_path) == "https://github.com/someone/fmriemo"
    assert repository_url(tmp_path, "https://github.com/lab/book/") == "https://github.com/lab/book"
    monkeypatch.setenv("FMRIEMO_REPOSITORY_URL", "https://github.com/ci/fmriemo")
    assert repository_url(tmp_path, "https://github.com/lab/book") == "https://github.com/ci/fmriemo"
    monkeypatch.setenv("FMRIEMO_REPOSITORY_URL", "https://gitlab.com/x/y")
    assert repository_url(tmp_path) == ""                      # Binder links are built for GitHub only


def test_theme_repository_buttons_follow_the_repository(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "book" / "_ext"))
    from chapter_links import theme_repository
    known = theme_repository({"logo": "x"}, "https://github.com/lab/book", "main")
    assert known["repository_url"] == "https://github.com/lab/book" and known["use_issues_button"]
    assert known["use_repository_button"] and known["path_to_docs"] == "book" and known["logo"] == "x"
    unknown = theme_repository({"repository_url": "https://github.com/executablebooks/jupyter-book"}, "", "main")
    assert unknown["repository_url"] == "" and not unknown["use_repository_button"]


@pytest.mark.chapter
def test_jupyter_book_build_fails_when_a_chapter_is_missing(tmp_path):
    book = _fake_book(tmp_path)
    (book / "chapters" / "02_models.ipynb").unlink()
    r = _build(book)
    assert r.returncode != 0 and "not executed" in r.stdout + r.stderr


def test_github_workflows_pass_zizmor():
    zizmor = Path(sys.executable).with_name("zizmor")
    wf = ROOT / ".github" / "workflows"
    assert {"book.yml", "tests.yml"} <= {p.name for p in wf.iterdir()}
    r = subprocess.run([str(zizmor), "--offline", "--no-progress", str(wf)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    book = yaml.safe_load((wf / "book.yml").read_text())
    steps = " ".join(str(s) for s in book["jobs"]["build"]["steps"])
    assert "make setup" in steps and "make chapters PROFILE=full" in steps and "make html" in steps
    # the cache key covers what determines the chapters, and the seed in it is the one they run with
    assert "hashFiles('notebooks/**', 'fmriemo/**', 'pyproject.toml')" in steps
    assert "seed${{ env.SURROGATE_SEED }}" in steps and book["env"]["SURROGATE_SEED"]
    dry = subprocess.run(["make", "-n", "chapters", "SURROGATE_SEED=7"], cwd=ROOT, capture_output=True, text=True,
                         env={"PATH": os.environ["PATH"]})
    assert "--surrogate-seed 7" in dry.stdout, dry.stdout + dry.stderr
    tests = yaml.safe_load((wf / "tests.yml").read_text())
    assert "make test" in str(tests["jobs"]["test"]["steps"])


def test_citation_and_license():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    proj = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert cff["cff-version"] == "1.2.0" and cff["version"] == proj["version"]
    assert any("squeeze-and-excitation" in r["title"] for r in cff["references"])
    assert "MIT License" in (ROOT / "LICENSE").read_text()
    # an SPDX expression, as packaging metadata 2.4 has it (setuptools stops building the old table form)
    assert proj["license"] == cff["license"] == "MIT" and proj["license-files"] == ["LICENSE"]


@pytest.mark.chapter
def test_built_pages_have_run_links_and_internal_links_resolve(tmp_path, monkeypatch):
    from fmriemo.book.linkcheck import check
    monkeypatch.setenv("FMRIEMO_REPOSITORY_URL", "https://github.com/example/fmriemo")
    book = _fake_book(tmp_path)
    r = _build(book)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    html_root = book / "_build" / "html"
    page = (html_root / "chapters" / "03_class_task.html").read_text()
    assert "../_sources/chapters/03_class_task.ipynb" in page
    assert "mybinder.org/v2/gh/example/fmriemo/main?urlpath=lab/tree/notebooks/03_class_task.py" in page
    assert "papermill 03_class_task.ipynb out.ipynb -p seed 1" in page
    assert "colab.research.google.com/github/example/fmriemo/blob/notebooks/03_class_task.ipynb" in page
    assert (html_root / "_sources" / "chapters" / "03_class_task.ipynb").exists()
    # the chapter's results for download, copied beside the page; the verdict links every chapter's
    assert 'href="results/03_class_task.json"' in page and 'href="results/03_class_task.csv"' in page
    assert json.loads((html_root / "chapters" / "results" / "03_class_task.json").read_text())["values"] == \
        {"answer": 42}
    verdict = (html_root / "chapters" / "10_verdict.html").read_text()
    assert all(f'href="results/{s.stem}.json"' in verdict for s in (ROOT / "notebooks").glob("[0-9][0-9]_*.py"))
    # the API page, from the package's docstrings, linked from the table of contents
    api = (html_root / "api.html").read_text()
    assert "fmriemo.book.chapter.setup" in api and "fmriemo.evaluation.heldout.run_models" in api
    assert "fmriemo.models.registry.register" in api and "api.html" in page
    broken, external = check(html_root)
    assert broken == [] and any("mybinder" in e for e in external)
    (html_root / "intro.html").write_text('<a href="chapters/nope.html">x</a><a href="#missing">y</a>')
    broken, _ = check(html_root)
    assert len(broken) == 2


def test_readme_chapter_times_are_the_recorded_measurement():
    from fmriemo.book.build import chapter_minutes, chapter_time_text, chapter_times_table
    text = (ROOT / "README.md").read_text()
    start, end = "<!-- chapter-times:start -->\n", "\n<!-- chapter-times:end -->"
    assert text.split(start)[1].split(end)[0] == chapter_times_table()
    rec = chapter_minutes()
    assert set(rec["minutes"]["quick"]) == {s.stem for s in (ROOT / "notebooks").glob("[0-9][0-9]_*.py")}
    assert f"{rec['minutes']['quick']['07_held_out']:.1f} min in the quick profile" in chapter_time_text("07_held_out")
    assert chapter_time_text("99_none") == ""
    # the paragraph under the table discusses this measurement, not an older one: a new record makes it restate
    # the record's total and pace (it once went on describing a build the table no longer showed)
    prose = text.split(end)[1].split("\n\n")[1]
    full = rec["minutes"]["full"]
    assert f"{sum(full.values()):.1f} minutes of chapters" in prose
    pace = rec["pace"]["full"]
    assert f"{pace['member_epochs']:,} member-epochs at {pace['ms_per_member_epoch']:.1f} ms" in prose


def test_the_chapter_times_caption_names_the_kernels_a_pace_was_measured_with(monkeypatch):
    from fmriemo.book import build
    rec = {**build.chapter_minutes()}
    pace = {"ms_per_member_epoch": 150.0, "member_epochs": 1000, "minutes": 2.5, "runs": 3}
    monkeypatch.setattr(build, "chapter_minutes", lambda: {**rec, "pace": {"full": pace}})
    assert "(1,000 member-epochs in 2.5 minutes)" in build.chapter_times_table()  # recorded before kernels were
    monkeypatch.setattr(build, "chapter_minutes", lambda: {
        **rec, "pace": {"full": {**pace, "kernels": {"vector": "AVX2", "vendor": "AuthenticAMD"}}}})
    assert "(1,000 member-epochs in 2.5 minutes, torch's AVX2 kernels on AuthenticAMD)" in build.chapter_times_table()


def test_readme_profile_table_is_the_package_table():
    from fmriemo.profiles import profile_table
    text = (ROOT / "README.md").read_text()
    start, end = "<!-- profile-table:start -->\n", "\n<!-- profile-table:end -->"
    assert start in text and end in text
    assert text.split(start)[1].split(end)[0] == profile_table()


def test_binder_start_script_defaults_to_the_quick_profile():
    env = {k: v for k, v in os.environ.items() if k != "FMRIEMO_PROFILE"}
    out = subprocess.run([str(ROOT / "start"), "sh", "-c", "echo $FMRIEMO_PROFILE"], capture_output=True,
                         text=True, env=env)
    assert out.stdout.strip() == "quick"
    out = subprocess.run([str(ROOT / "start"), "sh", "-c", "echo $FMRIEMO_PROFILE"], capture_output=True,
                         text=True, env={**env, "FMRIEMO_PROFILE": "full"})
    assert out.stdout.strip() == "full"  # a profile the user set is kept


def test_every_fmriemo_name_in_the_prose_and_docstrings_resolves():
    """A dotted ``fmriemo.`` name in a chapter, the package's source (docstrings and messages), the README,
    the architecture and contributing notes or the book's pages names a module or object that exists
    (chapter 1 once pointed readers at fmriemo.preprocess and fmriemo.surrogate, modules long moved)."""
    import importlib
    import re
    files = [*(ROOT / "notebooks").glob("*.py"), *(ROOT / "fmriemo").rglob("*.py"), *(ROOT / "book").glob("*.md"),
             *(ROOT / n for n in ("README.md", "ARCHITECTURE.md", "CONTRIBUTING.md"))]
    bad = set()
    for f in files:
        for name in set(re.findall(r"\bfmriemo(?:\.[A-Za-z_]\w*)+", f.read_text())):
            parts, obj = name.split("."), None
            for i in range(len(parts), 0, -1):
                try:
                    obj, rest = importlib.import_module(".".join(parts[:i])), parts[i:]
                    break
                except ImportError:
                    continue
            for attr in rest if obj is not None else []:
                obj = getattr(obj, attr, None)
            if obj is None:
                bad.add(f"{f.relative_to(ROOT)}: {name}")
    assert not bad, sorted(bad)


def test_no_statistic_is_computed_in_a_hidden_cell():
    """A reader sees how every conclusion was reached: the cells whose code is hidden (``remove-input``,
    ``remove-cell``, ``hide-*``) only record and word results. A call of a statistic (the exported functions
    of the statistics, region, time-resolved and paper modules, the chapter findings, scipy's correlations
    and tests) in a hidden cell fails this test."""
    import ast
    import re

    from fmriemo.evaluation import paper, regions, statistics, timeresolved
    stats_names = {n for m in (statistics, regions, timeresolved, paper) for n in m.__all__
                   if callable(getattr(m, n)) and not n.isupper()}
    stats_names -= {"readout", "Comparison", "comparison_table", "versus_paper", "interval_table", "budget_table",
                    "luck_table", "f1_by_seed", "seed_summary", "constant_predictor", "random_predictor"}  # tables
    stats_names |= {"search_findings", "curve_findings", "spearmanr", "pearsonr", "corrcoef", "binomtest",
                    "ttest_1samp", "wilcoxon"}
    found = []
    for nb in sorted((ROOT / "notebooks").glob("*.py")):
        for cell in re.split(r"^# %%", nb.read_text(), flags=re.M)[1:]:
            head, _, body = cell.partition("\n")
            if "[markdown]" in head or not re.search(r"(remove|hide)-(input|cell)", head):
                continue
            for node in ast.walk(ast.parse(body)):
                if isinstance(node, ast.Call):
                    name = getattr(node.func, "attr", getattr(node.func, "id", ""))
                    if name in stats_names:
                        found.append(f"{nb.name}: {name}")
    assert not found, found
