"""What a chapter calls: :func:`open_chapter` at the top (its parameters checked, the book's plot style,
the data set, the settings it trains with, the surrogate's ground truth, a results record), :func:`glue` for every number the prose states, :func:`table` for every table it records,
and :func:`glue_table` to glue a table's cells at once. Each value glued is also written to the
chapter's results file (:mod:`fmriemo.book.results`). At its end, :func:`hand_over` gathers the few glued
numbers the verdict reads into the chapter's finding (:mod:`fmriemo.book.findings`)."""
from __future__ import annotations

import inspect
import math
from pathlib import Path
from typing import NamedTuple

from .. import __version__
from ..data.dataset import Dataset
from ..data.source import DEFAULT_SURROGATE_SEED, data_name, open_dataset
from ..data.surrogate import read_ground_truth
from ..profiles import Settings, check_profile
from . import plots, results
from .parameters import check_parameters

__all__ = ["Chapter", "open_chapter", "setup", "glue", "table", "glue_table", "name_key", "hand_over"]


class Chapter(NamedTuple):
    """What a chapter opens with (:func:`open_chapter`), by name or unpacked in this order.

    Parameters
    ----------
    data : fmriemo.data.dataset.Dataset
        The challenge data: the user's folder, or the built-in surrogate.
    settings : fmriemo.profiles.Settings
        How the chapter trains and evaluates: its parameters, the rest from the profile.
    folder : pathlib.Path
        The challenge folder read.
    truth : dict or None
        What the surrogate planted (:func:`fmriemo.data.surrogate.read_ground_truth`); None on real data,
        where nothing is known to be planted.
    """

    data: Dataset
    settings: Settings
    folder: Path
    truth: dict | None


#: the parameters of :meth:`fmriemo.profiles.Settings.resolve` a chapter's parameters cell may set
_SETTINGS = tuple(n for n in inspect.signature(Settings.resolve).parameters if n not in ("cls", "profile"))


def open_chapter(chapter: str, params: dict, *, relations: dict | None = None, **settings) -> Chapter:
    """The one call at the top of a chapter.

    Checks the chapter's parameters (:func:`fmriemo.book.parameters.check_parameters`), sets the book's
    plot style, opens the data, starts the chapter's results record (:func:`setup`) and resolves the
    settings it trains with from the profile and the parameters of the same names.

    Parameters
    ----------
    chapter : str
        The chapter's name (its notebook's stem), which names its results file.
    params : dict
        The chapter's parameters: its ``globals()`` after the parameters cell (``data_dir``,
        ``labels_csv``, ``surrogate_seed``, ``cache_dir``, ``profile`` and those of
        :meth:`fmriemo.profiles.Settings.resolve`: ``seed``, ``n_seeds``, ``epochs``, ``device``,
        ``protocol``, ``k``, ``n_val``, ...).
    relations : dict, default=None
        Conditions between parameters, ``name=(ok, problem)``, checked with the parameters.
    **settings
        Settings the chapter fixes whatever its parameters (``paper_task="class"``, ``n_seeds=1``).

    Returns
    -------
    chapter : Chapter
        The data, the settings, the folder and the surrogate's ground truth.
    """
    check_parameters(params, **(relations or {}))
    data_dir, seed = params.get("data_dir", ""), params.get("surrogate_seed", DEFAULT_SURROGATE_SEED)
    cache_dir, profile = params.get("cache_dir", ""), params.get("profile", "full")
    ds = setup(chapter, data_dir=data_dir, labels_csv=params.get("labels_csv", ""), surrogate_seed=seed,
               cache_dir=cache_dir, profile=profile)
    resolved = Settings.resolve(profile, **{**{n: params[n] for n in _SETTINGS if n in params}, **settings})
    folder = Path(ds.source)  # the folder open_dataset read
    return Chapter(ds, resolved, folder, read_ground_truth(folder))


def setup(chapter: str, *, data_dir: str | Path | None = "", labels_csv: str | Path | None = "",
          surrogate_seed: int = DEFAULT_SURROGATE_SEED, cache_dir: str | Path | None = "",
          profile: str = "full", results_dir: str | Path = "results") -> Dataset:
    """Open a chapter without settings: the book's plot style, the data set and the chapter's results record.

    :func:`open_chapter` calls it; it is the part a page that trains nothing needs.

    Parameters
    ----------
    chapter : str
        The chapter's name, which names its results file.
    data_dir : str or pathlib.Path, default=""
        The challenge folder; empty: the built-in surrogate.
    labels_csv : str or pathlib.Path, default=""
        A released-labels CSV.
    surrogate_seed : int, default=2024
        Which surrogate.
    cache_dir : str or pathlib.Path, default=""
        The store.
    profile : {"quick", "full", "paper"}, default="full"
    results_dir : str or pathlib.Path, default="results"
        Where the results file goes (see :mod:`fmriemo.book.results`); every later :func:`glue` and
        :func:`table` adds to it.

    Returns
    -------
    dataset : fmriemo.data.dataset.Dataset
    """
    check_profile(profile)
    plots.set_style()
    ds = open_dataset(data_dir, labels_csv, surrogate_seed, cache_dir)
    results.start(chapter, results_dir, {"profile": profile, "data": data_name(data_dir, surrogate_seed),
                                         "data_fingerprint": ds.fingerprint[:16], "fmriemo": __version__})
    return ds


def glue(name: str, value, display: bool = False) -> None:
    """Glue a value for the prose (``myst_nb.glue``, numpy scalars made plain) and record it.

    In a chapter started with :func:`open_chapter`, the value is also written to the chapter's results
    file.

    Parameters
    ----------
    name : str
        The name the prose reads it by (``{glue:text}`name```).
    value : object
    display : bool, default=False
        Also show it in the cell's output.
    """
    from myst_nb import glue as _glue  # deferred: myst_nb loads Sphinx; only a chapter's kernel glues
    _glue(name, results.python_value(value), display=display)
    if results.current() is not None:
        results.current().value(name, value)


def table(name: str, frame):
    """Record a table in the chapter's results (JSON and CSV) under ``name``.

    Parameters
    ----------
    name : str
    frame : pandas.DataFrame

    Returns
    -------
    frame : pandas.DataFrame
        ``frame`` itself, for display.
    """
    if results.current() is not None:
        results.current().table(name, frame)
    return frame


def glue_table(frame, names: dict, rows=None, key=None) -> None:
    """Glue many cells of a table at once.

    For each row label ``r`` of ``rows`` and each column ``c`` of ``names``, the value ``frame.loc[r, c]``
    is glued under the name ``names[c].format(row=key(r))``. A row or column that ``frame`` lacks is glued
    as NaN, so the prose reads "nan" rather than a stale number or an error.

    Parameters
    ----------
    frame : pandas.DataFrame
    names : dict
        Column -> name template with a ``{row}`` field.
    rows : list, default=None
        The row labels to glue; None: every row of ``frame``.
    key : callable, default=str
        A row label made part of a name.
    """
    key = key or str
    for r in (list(frame.index) if rows is None else rows):
        for column, template in names.items():
            value = frame.loc[r, column] if r in frame.index and column in frame.columns else math.nan
            glue(template.format(row=key(r)), value)


def name_key(model: str) -> str:
    """A model's name as part of a glued value's name (``compact+minmax`` to ``compact_minmax``).

    Parameters
    ----------
    model : str

    Returns
    -------
    key : str
    """
    return model.replace("+", "_").replace("-", "_")


def hand_over(kind):
    """Gather the chapter's finding from the numbers it glued and record it for the verdict.

    Parameters
    ----------
    kind : type
        The chapter's :class:`fmriemo.book.findings.Finding` subclass; its fields are read from the values
        the chapter glued under the same names.

    Returns
    -------
    finding : fmriemo.book.findings.Finding
        What the verdict will read from this chapter (a notebook shows it as a table).

    Raises
    ------
    KeyError
        Naming a field the chapter did not glue.
    """
    record = results.current()
    if record is None:
        raise RuntimeError("hand_over needs a chapter started with open_chapter (no results are being recorded)")
    finding = kind.from_values(record.values, where=f"chapter {record.chapter}")
    record.finding(finding)
    return finding
