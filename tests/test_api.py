"""The public API: every module says what it exports (``__all__``), everything else it defines is private
(``_name``), and every exported function and class carries numpydoc sections that match its signature
(:data:`NUMPYDOC`: every module). The API page renders each library module from its ``__all__``."""
from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import pkgutil
import re
from pathlib import Path

import pytest
from numpydoc.docscrape import ClassDoc, FunctionDoc

import fmriemo

ROOT = Path(__file__).resolve().parent.parent
#: the package itself (its version only) and the data folder hold no API
EXEMPT = {"fmriemo", "fmriemo.resources"}
MODULES = sorted(m.name for m in pkgutil.walk_packages(fmriemo.__path__, "fmriemo.")
                 if m.name not in EXEMPT and not m.name.endswith("__main__"))
#: the layers below the book: the library whose modules the API page renders
LIBRARY = ("fmriemo.profiles", "fmriemo.core", "fmriemo.data", "fmriemo.models", "fmriemo.metrics",
           "fmriemo.training", "fmriemo.evaluation", "fmriemo.challenge")
#: the modules whose exported objects carry numpydoc Parameters (and Returns for a function): all of them,
#: the library's, the book's and the command line's
NUMPYDOC = tuple(MODULES)


def _module(name):
    try:
        return importlib.import_module(name)
    except ImportError as e:  # the book's modules need the book extra
        pytest.skip(f"{name}: {e}")


def _is_package(name: str) -> bool:
    return hasattr(_module(name), "__path__")


@pytest.mark.parametrize("name", MODULES)
def test_every_module_says_what_it_exports_and_each_name_resolves(name):
    mod = _module(name)
    assert isinstance(getattr(mod, "__all__", None), list), f"{name} has no __all__"
    assert len(set(mod.__all__)) == len(mod.__all__), f"{name}.__all__ names something twice"
    for export in mod.__all__:
        if _is_package(name):  # a subpackage exports its modules, and imports none of them itself
            importlib.import_module(f"{name}.{export}")
        else:
            assert hasattr(mod, export), f"{name}.__all__ names {export}, which the module does not define"


@pytest.mark.parametrize("name", [m for m in MODULES if not m.split(".")[-1][0] == "_"])
def test_what_a_module_does_not_export_is_private(name):
    """A function, class or module-level name defined in a module is either in ``__all__`` or named
    ``_name``; a subpackage's ``__all__`` lists every public module in it."""
    mod = _module(name)
    if _is_package(name):
        folder = Path(mod.__file__).parent
        public = {p.stem for p in folder.glob("*.py") if not p.stem.startswith("_")}
        public |= {p.name for p in folder.iterdir() if (p / "__init__.py").exists()}
        assert set(mod.__all__) == public
        return
    tree = ast.parse(Path(mod.__file__).read_text())
    defined = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined.append(node.name)
        elif isinstance(node, ast.Assign):
            defined += [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            defined.append(node.target.id)
    public = {d for d in defined if not d.startswith("_")}
    assert public <= set(mod.__all__), f"{name}: public but not exported: {sorted(public - set(mod.__all__))}"


def _exported_objects(modules):
    for name in modules:
        mod = importlib.import_module(name)
        if hasattr(mod, "__path__"):  # a subpackage exports modules
            continue
        for export in mod.__all__:
            obj = getattr(mod, export)
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__ == name:
                yield name, export, obj


def test_every_exported_function_and_class_has_a_docstring():
    modules = [m for m in MODULES if not m.startswith("fmriemo.book") or importlib.util.find_spec("matplotlib")]
    missing = [f"{m}.{n}" for m, n, obj in _exported_objects(modules) if not inspect.getdoc(obj)]
    assert not missing, missing


def _signature_names(obj) -> list[str]:
    try:
        sig = inspect.signature(obj)
    except ValueError:  # an exception class that keeps its base's constructor has no parameters of its own
        return []
    names = []
    for p in sig.parameters.values():
        if p.name in ("self", "cls"):
            continue
        names.append({p.VAR_POSITIONAL: f"*{p.name}", p.VAR_KEYWORD: f"**{p.name}"}.get(p.kind, p.name))
    return names


def _documented(section) -> list[str]:
    return [n.strip() for p in section for n in p.name.split(",") if n.strip()]


@pytest.mark.parametrize("module,export,obj", list(_exported_objects(NUMPYDOC)),
                         ids=lambda v: v if isinstance(v, str) else "")
def test_library_objects_have_numpydoc_sections_that_match_their_signatures(module, export, obj):
    where = f"{module}.{export}"
    if inspect.isclass(obj):
        doc = ClassDoc(obj, config={"show_class_members": False})
        documented = _documented(doc["Parameters"]) or _documented(doc["Attributes"])
    else:
        doc = FunctionDoc(obj)
        documented = _documented(doc["Parameters"])
        returns = inspect.signature(obj).return_annotation
        if returns not in (None, "None"):
            assert doc["Returns"] or doc["Yields"], f"{where}: no Returns section"
    assert doc["Summary"], f"{where}: no one-line summary"
    expected = [n.lstrip("*") for n in _signature_names(obj) if not n.startswith("_")]  # _private: internal
    assert [n.lstrip("*") for n in documented] == expected, \
        f"{where}: the Parameters section documents {documented}, the signature has {expected}"


def test_the_api_page_renders_each_library_module_from_its_exports():
    """Each module of the library layers appears on the API page under ``automodule`` with a bare
    ``:members:``, so that what the page shows is what ``__all__`` exports."""
    page = (ROOT / "book" / "api.md").read_text()
    rendered = dict(re.findall(r"\.\. automodule:: (\S+)\n((?:   :[^\n]*\n)*)", page))
    library = [m for m in MODULES if m.startswith(LIBRARY) and not _is_package(m)]
    missing = [m for m in library if m not in rendered]
    assert not missing, f"not on the API page: {missing}"
    listed = [m for m in library if re.search(r":members: *\S", rendered[m])]
    assert not listed, f"the API page lists members by hand instead of rendering __all__: {listed}"
