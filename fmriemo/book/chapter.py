"""What a chapter calls: :func:`setup` at the top (the book's plot style, the data set, a results
record), :func:`glue` for every number the prose states, :func:`table` for every table it records,
and :func:`glue_table` to glue a table's cells at once. Each value glued is also written to the
chapter's results file (:mod:`fmriemo.book.results`)."""
from __future__ import annotations

import math
from pathlib import Path

from .. import __version__
from ..data.dataset import Dataset
from ..data.source import DEFAULT_SURROGATE_SEED, data_name, open_dataset
from ..profiles import check_profile
from . import plots, results

__all__ = ["setup", "glue", "table", "glue_table", "name_key"]


def setup(chapter: str, *, data_dir: str | Path | None = "", labels_csv: str | Path | None = "",
          surrogate_seed: int = DEFAULT_SURROGATE_SEED, cache_dir: str | Path | None = "",
          profile: str = "full", results_dir: str | Path = "results") -> Dataset:
    """The one call at the top of a chapter, with its parameters by name: the book's plot style, the
    data set (the user's folder or the surrogate), and a results record for ``chapter`` under ``results_dir`` (see
    :mod:`fmriemo.book.results`) that every later :func:`glue` and :func:`table` adds to."""
    check_profile(profile)
    plots.set_style()
    ds = open_dataset(data_dir, labels_csv, surrogate_seed, cache_dir)
    results.start(chapter, results_dir, {"profile": profile, "data": data_name(data_dir, surrogate_seed),
                                         "data_fingerprint": ds.fingerprint[:16], "fmriemo": __version__})
    return ds


def glue(name: str, value, display: bool = False) -> None:
    """``myst_nb.glue`` with numpy scalars made plain; not displayed by default. In a chapter
    started with :func:`setup`, the value is also recorded in the chapter's results file."""
    from myst_nb import glue as _glue  # deferred: myst_nb loads Sphinx; only a chapter's kernel glues
    _glue(name, results.python_value(value), display=display)
    if results.current() is not None:
        results.current().value(name, value)


def table(name: str, frame):
    """Record ``frame`` in the chapter's results (JSON and CSV) as ``name``; returns it for display."""
    if results.current() is not None:
        results.current().table(name, frame)
    return frame


def glue_table(frame, names: dict, rows=None, key=None) -> None:
    """Glue many cells of ``frame`` at once: for each row label ``r`` of ``rows`` (default: every row of
    ``frame``) and each column ``c`` of ``names``, the value ``frame.loc[r, c]`` under the name
    ``names[c].format(row=key(r))`` (``key``: the row label made a name, default ``str``). A row or
    column that ``frame`` lacks is glued as NaN, so the prose reads "nan" rather than a stale number or
    an error."""
    key = key or str
    for r in (list(frame.index) if rows is None else rows):
        for column, template in names.items():
            value = frame.loc[r, column] if r in frame.index and column in frame.columns else math.nan
            glue(template.format(row=key(r)), value)


def name_key(model: str) -> str:
    """A model's name as part of a glued value's name (``compact+minmax`` -> ``compact_minmax``)."""
    return model.replace("+", "_").replace("-", "_")
