"""The library apart from the book: without the book's dependencies (its `book` extra) a user loads the
data, cross-validates ASB with the book's splitter, trains it from the command line and computes the
statistics. Checked in a subprocess in which importing any of those packages fails, and statically:
no module outside ``fmriemo.book`` imports one at the top, and the library's dependencies name none."""
import ast
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "fmriemo"

#: the `book` extra's packages, by import name
BOOK_ONLY = {"matplotlib": "matplotlib", "seaborn": "seaborn", "nilearn": "nilearn", "jupyter-book": "jupyter_book",
             "papermill": "papermill", "jupytext": "jupytext", "ipykernel": "ipykernel", "ipywidgets": "ipywidgets",
             "watermark": "watermark", "myst-nb": "myst_nb", "playwright": "playwright", "yaml": "yaml"}

SCRIPT = r"""
import importlib.abc, sys

class BookOnly(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"{name}: one of the book's dependencies, not installed here")

sys.meta_path.insert(0, BookOnly())

import numpy as np
from sklearn.model_selection import cross_val_score
from fmriemo.data.source import open_dataset
from fmriemo.data.splits import OrderGroupKFold
from fmriemo.evaluation.statistics import bootstrap
from fmriemo.training.estimator import DeepClassifier

ds = open_dataset()
rows = ds.labelled_train
X, y, groups = ds.X[rows], ds.y_class[rows], ds.participant[rows]
scores = cross_val_score(DeepClassifier("asb", profile="quick", max_epochs=2), X, y, groups=groups,
                         cv=OrderGroupKFold(3))
assert scores.shape == (3,)
from fmriemo.cli import main
assert main(["train", "--method", "asb", "--epochs", "1", "--quiet"]) == 0
assert main(["submit", "--method", "compact", "--profile", "quick", "--epochs", "1", "--quiet",
             "--out", "submission.csv"]) == 0
loaded = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
assert not loaded, loaded
print("LIBRARY OK")
"""


def test_the_library_works_without_the_books_dependencies(tmp_path):
    script = f"BLOCKED = {sorted(set(BOOK_ONLY.values()))!r}\n" + SCRIPT
    env = {**os.environ, "FMRIEMO_CACHE": str(tmp_path / "cache")}
    out = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=900)
    assert out.returncode == 0 and "LIBRARY OK" in out.stdout, out.stderr[-3000:]


def _top_level_imports(path: Path) -> set[str]:
    """Third-party packages a module imports outside any function (the deferred ones are inside)."""
    names = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_no_library_module_imports_the_books_dependencies():
    book = set(BOOK_ONLY.values())
    for path in PACKAGE.rglob("*.py"):
        if "book" in path.relative_to(PACKAGE).parts:
            continue
        assert not _top_level_imports(path) & book, f"{path.relative_to(ROOT)} imports a package of the book's extra"


def test_the_library_dependencies_name_none_of_the_books():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]

    def names(reqs):
        return {re.split(r"[<>=!~\[ ;]", r, maxsplit=1)[0].lower() for r in reqs}

    core = names(project["dependencies"])
    assert not core & set(BOOK_ONLY), core & set(BOOK_ONLY)
    extra = names(project["optional-dependencies"]["book"])
    assert {"matplotlib", "seaborn", "nilearn", "jupyter-book", "papermill"} <= extra
