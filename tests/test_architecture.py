"""The package's shape, as ARCHITECTURE.md states it: layers without cycles (import-linter's contracts), the
commands that do not train never import torch, imports at the top of each module (a function-local one
only to defer a heavy dependency, saying so), no re-export facades, and a test module for every module."""
import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "fmriemo"


def _modules():
    return sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py")


def test_import_contracts_hold():
    """`lint-imports` (import-linter, contracts in pyproject.toml): layers, no cycles, torch-free modules."""
    lint = Path(sys.executable).with_name("lint-imports")
    r = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert "0 broken" in r.stdout and "3 kept" in r.stdout


def test_a_broken_layer_would_be_found(tmp_path):
    """The contracts are not vacuous: a copy of the package in which the data layer imports training
    fails them."""
    import shutil
    shutil.copytree(PACKAGE, tmp_path / "fmriemo", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    with (tmp_path / "fmriemo" / "data" / "source.py").open("a") as fh:
        fh.write("\nfrom ..training import runs  # a violation, for the test\n")
    lint = Path(sys.executable).with_name("lint-imports")
    r = subprocess.run([str(lint), "--no-cache"], cwd=tmp_path, capture_output=True, text=True,
                       env={"PYTHONPATH": str(tmp_path), "PATH": ""})
    assert r.returncode != 0 and "fmriemo.data.source -> fmriemo.training.runs" in r.stdout


@pytest.mark.parametrize("command", ["check", "surrogate", "calibrate", "score"])
def test_commands_that_do_not_train_never_import_torch(command, surrogate_dir, tmp_path):
    argv = {"check": ["check", str(surrogate_dir)], "surrogate": ["surrogate", str(tmp_path / "s")],
            "calibrate": ["calibrate", str(surrogate_dir)],
            "score": ["score", str(surrogate_dir / "test_labels.csv"), str(surrogate_dir / "test_labels.csv")]}[command]
    code = ("import sys\nfrom fmriemo import cli\ncode = cli.main(%r)\n"
            "heavy = sorted(m for m in ('torch', 'captum', 'nilearn', 'papermill') if m in sys.modules)\n"
            "print(heavy)\nsys.exit(code)\n" % argv)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip().splitlines()[-1] == "[]"


def test_imports_are_at_the_top_unless_they_defer_a_heavy_dependency():
    """A function-local import carries a comment saying what it defers ("deferred: ..."); none imports a
    module of the package's own lower layers to hide a cycle (the contracts would see it anyway)."""
    offending = []
    for path in _modules():
        lines = path.read_text().splitlines()
        for node in ast.walk(ast.parse("\n".join(lines))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for sub in ast.walk(node):
                    if isinstance(sub, (ast.Import, ast.ImportFrom)) and "# deferred" not in lines[sub.lineno - 1]:
                        offending.append(f"{path.relative_to(ROOT)}:{sub.lineno}: {lines[sub.lineno - 1].strip()}")
    assert offending == []


def test_no_module_re_exports_what_it_does_not_own():
    """No ``noqa: F401`` facades, and the subpackages' ``__init__`` files import nothing: every name is
    imported from the module that defines it."""
    facades = [str(p.relative_to(ROOT)) for p in _modules() if "noqa: F401" in p.read_text()]
    assert facades == []
    for init in PACKAGE.rglob("__init__.py"):
        tree = ast.parse(init.read_text())
        imports = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
        allowed = init == PACKAGE / "__init__.py" and all(getattr(n, "module", "") == "importlib.metadata"
                                                          for n in imports)
        assert not imports or allowed, init


def test_every_module_has_its_test_module():
    """tests/ mirrors the package: fmriemo/<sub>/<module>.py is tested in tests/<sub>/test_<module>.py, a
    top-level module in tests/test_<module>.py (tests/README.md says where a new test goes)."""
    missing = []
    for path in _modules():
        rel = path.relative_to(PACKAGE)
        expected = ROOT / "tests" / rel.parent / f"test_{rel.name}"
        if not expected.is_file():
            missing.append(str(expected.relative_to(ROOT)))
    assert missing == []
