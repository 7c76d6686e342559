"""The same build twice on one machine gives the same results files: the chapters that train (the paper's
split over seeds, the held-out folds with their comparisons over seeds and participants) executed twice
in the quick profile, each time from an empty cache, compared value by value with
``benchmarks/compare_results.py`` (only the fields that time the runs may differ)."""
import subprocess
import sys
from pathlib import Path

import pytest

from fmriemo.book.build import chapter_sources, notebook_errors, run_chapter

pytestmark = pytest.mark.chapter

ROOT = Path(__file__).resolve().parents[2]
CHAPTERS = {"03_class_task": {"epochs": 3, "methods": ["asb", "ebr"]},
            "07_held_out": {"epochs": 3, "methods": ["asb", "ebr"], "preprocessings": [], "order_check_methods": [],
                            "time_preprocessings": ["pct"], "n_permutations": 50}}


def test_two_builds_from_empty_caches_give_identical_results(tmp_path):
    sources = {s.stem: s for s in chapter_sources()}
    for build in ("first", "second"):
        for stem, params in CHAPTERS.items():
            nb = run_chapter(sources[stem], tmp_path / build / f"{stem}.ipynb",
                             {"profile": "quick", "cache_dir": str(tmp_path / f"cache-{build}"), "surrogate_seed": 5,
                              **params})
            assert notebook_errors(nb) == []
    r = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "compare_results.py"),
                        str(tmp_path / "first" / "results"), str(tmp_path / "second" / "results")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith("2 chapters compared; 0 differing values or cells")
