"""Each chapter's key results as files beside its executed notebook.

A chapter started with :func:`fmriemo.book.chapter.open_chapter` records every number its prose
states (each :func:`fmriemo.book.chapter.glue` call) and the tables it names with
:func:`fmriemo.book.chapter.table`, and rewrites two files after each record:

``results/<chapter>.json``
    ``{"schema": "fmriemo-results/1", "chapter": ..., "settings": {...},
    "values": {name: number | string | null}, "tables": {name: [row, ...]},
    "findings": {class name: {field: value}}}``:
    ``settings`` holds the profile and the data's name and fingerprint (never a
    path); ``null`` stands for a number that could not be computed (NaN);
    a table is a list of records, each with the table's index as ``"index"``;
    ``findings`` holds what the chapter hands the verdict
    (:mod:`fmriemo.book.findings`), read back with :meth:`Results.finding`.
``results/<chapter>.csv``
    every table in long form, columns ``table, index, column, value``
    (``pandas.read_csv(...).pivot(...)`` gives a table back).

The verdict page reads these files (:func:`load`), not the chapters' text: each
chapter's finding, its comparisons and its run tables; a chapter that recorded
none of them stops it with a message naming the chapter.
Two builds (the surrogate and a user's data) compare with a short script over
the two ``results`` folders.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.files import atomic_write_text

__all__ = [
    "SCHEMA", "FOLDER", "python_value", "ChapterResults", "start", "current", "stop", "MissingResult",
    "Results", "load",
]

SCHEMA = "fmriemo-results/1"
FOLDER = "results"


def python_value(value):
    """numpy scalars and arrays as plain Python values (glued text then reads ``16``, not
    ``np.int64(16)``); anything else unchanged.

    Parameters
    ----------
    value : object
        The value.

    Returns
    -------
    value : object
    """
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def _plain(value):
    """JSON-ready: numpy values as Python ones (:func:`python_value`), NaN and infinities as None."""
    value = python_value(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


class ChapterResults:
    """The results of one chapter, written to ``folder`` after every change.

    Parameters
    ----------
    chapter : str
        The chapter's stem, which names its files.
    folder : str or path, default=FOLDER
        Where ``<chapter>.json`` and ``<chapter>.csv`` are written.
    settings : dict or None, default=None
        The profile and the data's name and fingerprint (never a path).
    """

    def __init__(self, chapter: str, folder: str | Path = FOLDER, settings: dict | None = None):
        self.chapter = chapter
        self.folder = Path(folder)
        self.settings = _plain(dict(settings or {}))
        self.values: dict = {}
        self.tables: dict = {}
        self.findings: dict = {}

    @property
    def json_path(self) -> Path:
        return self.folder / f"{self.chapter}.json"

    @property
    def csv_path(self) -> Path:
        return self.folder / f"{self.chapter}.csv"

    def value(self, name: str, value) -> None:
        self.values[name] = _plain(value)
        self.write()

    def table(self, name: str, frame) -> None:
        """Record a pandas DataFrame (its index becomes the column ``"index"``)."""
        if "index" in map(str, frame.columns):
            raise ValueError(f"table {name!r}: a column named 'index' would clash with the row labels")
        records = frame.reset_index(drop=True)
        records.columns = [" ".join(map(str, c)) if isinstance(c, tuple) else str(c) for c in records.columns]
        records.insert(0, "index", [" / ".join(map(str, i)) if isinstance(i, tuple) else i for i in frame.index])
        self.tables[name] = [{str(k): _plain(v) for k, v in r.items()} for r in records.to_dict("records")]
        self.write()

    def finding(self, finding) -> None:
        """Record what the chapter hands the verdict (a :class:`fmriemo.book.findings.Finding`), under its
        class's name."""
        self.findings[type(finding).__name__] = _plain(finding.record())
        self.write()

    def document(self) -> dict:
        return {"schema": SCHEMA, "chapter": self.chapter, "settings": self.settings, "values": self.values,
                "tables": self.tables, "findings": self.findings}

    def long_table(self):
        rows = [(name, r["index"], col, v) for name, recs in self.tables.items() for r in recs
                for col, v in r.items() if col != "index"]
        return pd.DataFrame(rows, columns=["table", "index", "column", "value"])

    def write(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.json_path, json.dumps(self.document(), indent=1, allow_nan=False) + "\n")
        atomic_write_text(self.csv_path, self.long_table().to_csv(index=False))


_current: ChapterResults | None = None


def start(chapter: str, folder: str | Path = FOLDER, settings: dict | None = None) -> ChapterResults:
    """Begin recording a chapter's results, replacing any earlier record of it in ``folder``.

    Parameters
    ----------
    chapter : str
        The chapter's stem.
    folder : str or path, default=FOLDER
        The results folder.
    settings : dict or None, default=None
        See :class:`ChapterResults`.

    Returns
    -------
    record : ChapterResults
        The record that :func:`fmriemo.book.chapter.glue` and :func:`~fmriemo.book.chapter.table` write to.
    """
    global _current
    _current = ChapterResults(chapter, folder, settings)
    _current.write()
    return _current


def current() -> ChapterResults | None:
    """The chapter being recorded in this process.

    Returns
    -------
    record : ChapterResults or None
        None when no chapter is being recorded.
    """
    return _current


def stop() -> None:
    """Stop recording: later glue calls record into no results file."""
    global _current
    _current = None


class MissingResult(KeyError):
    """A value the reader needs is not in a chapter's results."""

    def __str__(self):  # KeyError would quote the message
        return str(self.args[0])


class Results:
    """One chapter's results read back: ``r["asb_f1_mean"]`` (NaN for null), ``r.table("name")``,
    ``r.finding(HeldOut)``.

    Parameters
    ----------
    document : dict
        The parsed results file.
    path : pathlib.Path
        Where it was read, for messages.

    Raises
    ------
    ValueError
        For a file that is not an fmriemo results file.
    """

    def __init__(self, document: dict, path: Path):
        if document.get("schema") != SCHEMA:
            raise ValueError(f"{path}: not an fmriemo results file (schema {document.get('schema')!r}, "
                             f"expected {SCHEMA!r})")
        self.path, self.chapter = path, document["chapter"]
        self.settings, self.values, self.tables = document["settings"], document["values"], document["tables"]
        self.findings = document.get("findings", {})  # files written before findings were recorded have none

    def __contains__(self, name) -> bool:
        return name in self.values

    def __getitem__(self, name):
        try:
            value = self.values[name]
        except KeyError:
            raise MissingResult(f"chapter {self.chapter} reported no {name!r} ({self.path}); re-execute it with "
                                f"this version of the book") from None
        return float("nan") if value is None else value

    def number(self, name) -> float:
        return float(self[name])

    def finding(self, kind):
        """The chapter's finding of class ``kind`` (:mod:`fmriemo.book.findings`), as it recorded it."""
        if kind.__name__ not in self.findings:
            raise MissingResult(f"chapter {self.chapter} recorded no {kind.__name__} finding ({self.path}); "
                                f"re-execute it with this version of the book")
        try:
            return kind.from_values(self.findings[kind.__name__], where=f"chapter {self.chapter} ({self.path})")
        except (KeyError, TypeError, ValueError) as exc:  # a field missing, or text where a number belongs
            raise MissingResult(f"{exc.args[0] if exc.args else exc}; re-execute it with this version of the book") \
                from None

    def table(self, name):
        if name not in self.tables:
            raise MissingResult(f"chapter {self.chapter} recorded no table {name!r} ({self.path})")
        rows = self.tables[name]
        return pd.DataFrame(rows).set_index("index") if rows else pd.DataFrame()  # a table recorded empty


def load(folder: str | Path, chapter: str) -> Results:
    """The results a chapter wrote.

    Parameters
    ----------
    folder : str or path
        The ``results`` folder beside the executed chapters.
    chapter : str
        The chapter's stem.

    Returns
    -------
    results : Results

    Raises
    ------
    FileNotFoundError
        One clear message naming the chapter to execute, when it was not executed.
    """
    path = Path(folder) / f"{chapter}.json"
    if not path.is_file():
        raise FileNotFoundError(f"no results of chapter {chapter} at {path}: execute that chapter first "
                                f"(fmriemo chapters --only {chapter[:2]})")
    return Results(json.loads(path.read_text()), path)
