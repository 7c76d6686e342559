"""Fail the book build when an executed chapter notebook holds an error output,
or when a chapter listed in the table of contents has not been executed.

Chapters are executed by papermill before the build (see the Makefile). A
papermill run that fails still writes its notebook, with the error in it; this
extension makes `jupyter-book build book/` refuse such a notebook instead of
rendering a traceback as if it were a result.
"""
from pathlib import Path

from sphinx.errors import ExtensionError

from fmriemo.book.build import notebook_errors


def _check(app):
    src = Path(app.srcdir)
    toc = src / "_toc.yml"
    import yaml

    files = []

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("file"), str) and node["file"].startswith("chapters/"):
                files.append(node["file"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(yaml.safe_load(toc.read_text()))
    problems = []
    for f in files:
        nb = src / f"{f}.ipynb"
        if not nb.exists():
            problems.append(f"{nb}: not executed (run `make chapters` first)")
            continue
        errs = notebook_errors(nb)
        if errs:
            problems.append(f"{nb}: the chapter failed when executed: {errs[0]}")
    if problems:
        raise ExtensionError("chapter notebooks are not usable:\n  " + "\n  ".join(problems))


def setup(app):
    app.connect("builder-inited", _check)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
