"""Loading and validating a folder in the challenge's layout.

The layout (see the book's chapter 1 and ``challenge.md``)::

    <root>/Train/P01 ... /fMRI_data.npz  key "data" [trials, 246, 25]
                         /labels.npz     key "data" [trials, 2]  (CLASS, LEVEL)
    <root>/Test/P17 ...  /fMRI_data.npz
    (optional) a released-labels CSV: Participant,Trial,CLASS,LEVEL, empty
    cells for trials whose labels were not released.

File and folder names are matched case-insensitively. Physiology files are
ignored. Every problem a user can cause raises :class:`~fmriemo.core.errors.DataError`
with one message naming the file and what was expected.
"""
from __future__ import annotations

import csv
import hashlib
import io
import warnings
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.errors import DataError
from ..core.files import check_regular_file, file_kind, shorten, user_path
from .atlas import N_REGIONS
from .dataset import (CLASS_VALUES, N_SECONDS, PARTICIPANT, SPLITS, Dataset, normalise_participant,
                      participant_key)

__all__ = [
    "read_npz_array", "participant_folders", "folder_tree", "load_challenge", "read_csv_table",
    "read_labels_csv",
]


def _find(folder: Path, name: str) -> Path | None:
    """The entry of ``folder`` whose name equals ``name`` ignoring case."""
    hits = [p for p in folder.iterdir() if p.name.lower() == name.lower()]
    if len(hits) > 1:
        raise DataError(f"{folder}: several entries match {name!r} ignoring case: "
                        f"{', '.join(sorted(p.name for p in hits))}")
    return hits[0] if hits else None


#: the most trials one participant's file may declare (a session of the challenge has 30): a header
#: declaring more is refused before anything is read (a damaged or hostile file could claim terabytes)
_MAX_TRIALS = 1000


def _npy_header(fh, path: Path, member: str):
    """(shape, dtype) from the header of the .npy member ``member`` open as ``fh``: nothing of the array
    itself is read. A member that is not a .npy array is a :class:`DataError`."""
    fmt = np.lib.format
    try:
        version = fmt.read_magic(fh)
        if version == (1, 0):
            shape, _, dtype = fmt.read_array_header_1_0(fh)
        elif version == (2, 0):
            shape, _, dtype = fmt.read_array_header_2_0(fh)
        else:
            raise ValueError(f"unsupported .npy format version {version}")
    except ValueError as exc:
        raise DataError(f"{path}: its member {member} is not a .npy array ({exc}); expected the challenge's "
                        ".npz file with key 'data'") from None
    return tuple(int(n) for n in shape), dtype


def read_npz_array(path: Path, shape=None) -> np.ndarray:
    """The ``"data"`` array of an ``.npz`` file, with clear errors for broken files.

    Nothing is read that the file does not prove to be: it must be a regular file (never a FIFO or a
    device), its first bytes a zip archive's (a plain ``.npy`` array, a text file or a pickle renamed
    ``.npz`` is reported as what it is, never unpickled), its ``data`` member a ``.npy`` array whose
    header declares real numbers and the expected shape, and the member as long as the header says.
    Only then is the array read.

    Parameters
    ----------
    path : pathlib.Path
        The file.
    shape : tuple, default=None
        The shape expected, ``None`` for a dimension that may be 1 to 1,000 (the trials); None: any.

    Returns
    -------
    array : numpy.ndarray

    Raises
    ------
    fmriemo.core.errors.DataError
        Naming the file and what was expected.
    """
    path = check_regular_file(path, ".npz file")
    try:
        with open(path, "rb") as fh:
            head = fh.read(6)
    except OSError as exc:
        raise DataError(f"{path}: cannot be opened ({exc.strerror or exc})") from None
    if head.startswith(b"\x93NUMPY"):
        raise DataError(f"{path}: is a plain .npy array, not an .npz archive; expected an .npz file holding "
                        "the array under key 'data' (np.savez(path, data=array))")
    if not head.startswith(b"PK"):
        what = "empty" if not head else "not a valid .npz archive (no zip header)"
        raise DataError(f"{path}: is {what}; expected the challenge's .npz file with key 'data'")
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
            member = next((n for n in ("data.npy", "data") if n in names), None)
            if member is None:
                keys = ", ".join(n.removesuffix(".npy") for n in names) or "none"
                raise DataError(f"{path}: no 'data' array inside (found: {shorten(keys, 80)[1:-1]}); expected the "
                                "challenge's npz with key 'data'")
            info = zf.getinfo(member)
            with zf.open(info) as fh:
                declared, dtype = _npy_header(fh, path, member)
                header = fh.tell()
            if not (np.issubdtype(dtype, np.floating) or np.issubdtype(dtype, np.integer)):
                raise DataError(f"{path}: 'data' has dtype {dtype}; expected real numbers")
            if shape is not None:
                _check_declared(path, declared, shape)
            needed = header + int(np.prod(declared, dtype=np.int64)) * dtype.itemsize
            if info.file_size != needed:
                raise DataError(f"{path}: its 'data' member holds {info.file_size:,} bytes but its header declares "
                                f"an array of {needed - header:,} bytes ({list(declared)}, {dtype}); the file is "
                                "truncated or damaged")
            with zf.open(info) as fh:
                arr = np.lib.format.read_array(fh, allow_pickle=False)
    except DataError:
        raise
    except RuntimeError as exc:  # zipfile: an encrypted member, or a compression method it cannot read
        text = str(exc)
        why = ("it is encrypted" if "encrypt" in text else "its compression method is not one zipfile reads"
               if "compression" in text else shorten(text, 80)[1:-1])
        raise DataError(f"{path}: its 'data' member cannot be read ({why}); expected the challenge's .npz file as "
                        "numpy writes it (np.savez or np.savez_compressed)") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, OSError, EOFError, ValueError, KeyError) as exc:
        raise DataError(f"{path}: starts like a zip archive but is not a valid .npz archive (truncated or "
                        f"corrupt?): {shorten(str(exc), 120)[1:-1]}") from None
    return arr


def _check_declared(path: Path, declared: tuple, shape: tuple) -> None:
    """The shape an .npz header declares against the one expected (``None``: 1 to 1,000 trials)."""
    fits = len(declared) == len(shape) and all(
        (1 <= d <= _MAX_TRIALS) if want is None else d == want for d, want in zip(declared, shape))
    if fits:
        return
    want = ", ".join("trials" if w is None else str(w) for w in shape)
    extra = f" (1 to {_MAX_TRIALS:,} trials)" if None in shape else ""
    if shape[1:] == (N_REGIONS, N_SECONDS):
        extra += f" (each trial {N_REGIONS} regions x {N_SECONDS} seconds)"
    raise DataError(f"{path}: 'data' has shape {shorten(declared, 80)}; expected [{want}]{extra}")


def _check_fmri(path: Path, arr: np.ndarray) -> np.ndarray:
    """The fMRI array as float32, refused when any value is not finite, before or after the cast (a
    value beyond float32's range, such as 1e39 stored as float64, would become inf)."""
    bad = ~np.isfinite(arr)
    kind = "non-finite values (NaN or inf)"
    if not bad.any():
        with np.errstate(over="ignore"):
            x = arr.astype(np.float32)
        bad = ~np.isfinite(x)
        kind = f"values beyond float32's range (|x| > {np.finfo(np.float32).max:.3g})"
    if bad.any():
        t, r, s = np.argwhere(bad)[0]
        raise DataError(f"{path}: {int(bad.sum())} {kind}, first at trial {t + 1}, region {r}, second {s} "
                        f"({arr[t, r, s]:.4g}); expected finite fMRI intensities")
    return x


def _check_labels(path: str, cls: np.ndarray, lev: np.ndarray) -> None:
    """CLASS in {-1,0,1}; LEVEL integer in -4..4. ``path`` names the source."""
    if not np.isfinite(cls).all() or not np.isin(cls, CLASS_VALUES).all():
        bad = cls[~np.isin(cls, CLASS_VALUES)][:3]
        raise DataError(f"{path}: CLASS values {bad.tolist()} are not in {{-1, 0, 1}}")
    if not np.isfinite(lev).all() or (lev != np.round(lev)).any():
        bad = lev[~np.isfinite(lev) | (lev != np.round(lev))][:3]
        raise DataError(f"{path}: LEVEL values {bad.tolist()} are not integers; expected -4..4")
    if ((lev < -4) | (lev > 4)).any():
        bad = lev[(lev < -4) | (lev > 4)][:3]
        raise DataError(f"{path}: LEVEL values {bad.tolist()} are outside -4..4")


def _split_dirs(root: Path) -> dict[str, Path]:
    if not root.exists():
        raise DataError(f"{root}: folder does not exist; expected the challenge folder holding Train/ and Test/")
    if not root.is_dir():
        raise DataError(f"{root}: is not a folder; expected the challenge folder holding Train/ and Test/")
    out = {}
    for split in SPLITS:
        d = _find(root, split)
        if d is None:
            continue
        if not d.is_dir():  # a file, a FIFO or a broken link where the folder belongs: never skipped silently
            raise DataError(f"{d}: is {file_kind(d)}; expected the {d.name}/ folder of participant folders")
        out[split] = d
    if "train" not in out:
        hint = ""
        if PARTICIPANT.match(root.name):
            hint = " (this looks like one participant's folder)"
        elif root.name.lower() in SPLITS:
            hint = f" (this looks like the {root.name}/ folder itself: pass its parent)"
        raise DataError(f"{root}: no Train/ folder{hint}; expected the challenge folder holding Train/ and Test/")
    return out


def participant_folders(split_dir: Path, ignored: list[str] | None = None) -> list[Path]:
    """The participant folders (``P01``, ``P02``, ...) of ``Train/`` or ``Test/``, in order.

    Every entry is either loaded or reported: hidden entries (``.DS_Store``, ``.ipynb_checkpoints``)
    are listed in ``ignored``; anything else that is not a participant folder (``S01``, a stray file, a
    broken link) is an error.

    Parameters
    ----------
    split_dir : pathlib.Path
        The ``Train/`` or ``Test/`` folder.
    ignored : list of str, default=None
        Hidden entries skipped are appended here.

    Returns
    -------
    folders : list of pathlib.Path
    """
    pdirs, bad = [], []
    for p in sorted(split_dir.iterdir()):
        if p.name.startswith("."):
            if ignored is not None:
                ignored.append(str(p))
        elif not PARTICIPANT.match(p.name):
            bad.append(f"{p.name} (not named P<number>)")
        elif not p.is_dir():
            bad.append(f"{p.name} ({'a broken link' if p.is_symlink() and not p.exists() else 'not a folder'})")
        else:
            pdirs.append(p)
    if bad:
        raise DataError(f"{split_dir}: unexpected entries: {', '.join(bad)}; expected only participant folders "
                        "P01, P02, ... (move other files elsewhere)")
    if not pdirs:
        raise DataError(f"{split_dir}: no participant folders (expected P01, P02, ...)")
    return sorted(pdirs, key=lambda p: participant_key(p.name))


def folder_tree(root, depth: int = 2, limit: int = 4) -> str:
    """The layout of a folder as indented text: what the loader will read.

    Parameters
    ----------
    root : str or pathlib.Path
        The folder.
    depth : int, default=2
        Levels shown.
    limit : int, default=4
        Entries shown per folder (hidden entries left out).

    Returns
    -------
    tree : str
    """
    root = Path(root)
    lines = [root.name + "/"]

    def walk(d: Path, prefix: str, level: int) -> None:
        entries = sorted(p for p in d.iterdir() if not p.name.startswith("."))
        shown = entries if len(entries) <= limit + 1 else entries[:limit]
        for p in shown:
            lines.append(f"{prefix}{p.name}{'/' if p.is_dir() else ''}")
            if p.is_dir() and level < depth:
                walk(p, prefix + "    ", level + 1)
        if len(shown) < len(entries):
            lines.append(f"{prefix}... ({len(entries) - len(shown)} more)")

    walk(root, "    ", 1)
    return "\n".join(lines)


def load_challenge(root, labels_csv=None) -> Dataset:
    """Load and validate a challenge folder: the folder holding ``Train/`` and ``Test/``.

    Parameters
    ----------
    root : str or pathlib.Path
        The challenge folder, laid out as the challenge's data (see ``challenge.md``).
    labels_csv : str or pathlib.Path, default=None
        A released-labels CSV (``Participant,Trial,CLASS,LEVEL``, empty cells for unreleased trials);
        its labels fill the matching trials.

    Returns
    -------
    dataset : fmriemo.data.dataset.Dataset

    Raises
    ------
    fmriemo.core.errors.DataError
        One message naming the file or folder that does not follow the layout, and what was expected.
    """
    root = user_path(root, "challenge folder")
    dirs = _split_dirs(root)
    X, cls, lev, pid, tri, spl, srcs = [], [], [], [], [], [], []
    seen: dict[str, Path] = {}
    ignored: list[str] = []
    for split, sdir in dirs.items():
        pdirs = participant_folders(sdir, ignored)
        for pdir in pdirs:
            name = normalise_participant(pdir.name)
            if name.upper() in seen:
                raise DataError(f"duplicate participant id {name}: {seen[name.upper()]} and {pdir}")
            seen[name.upper()] = pdir
            fpath = _find(pdir, "fMRI_data.npz")
            if fpath is None:
                raise DataError(f"{pdir}: missing fMRI_data.npz (expected key 'data' [trials, 246, 25])")
            x = _check_fmri(fpath, read_npz_array(fpath, (None, N_REGIONS, N_SECONDS)))
            n = len(x)
            c = np.full(n, np.nan)
            l_ = np.full(n, np.nan)
            src = np.array([""] * n, dtype=object)
            if split == "train":
                lpath = _find(pdir, "labels.npz")
                if lpath is None:
                    raise DataError(f"{pdir}: training participant without labels.npz "
                                    f"(expected key 'data' [{n}, 2]: CLASS, LEVEL)")
                lab = read_npz_array(lpath, (n, 2))  # one CLASS, LEVEL row per trial of fMRI_data.npz
                with np.errstate(over="ignore"):
                    lab = lab.astype(float)
                _check_labels(str(lpath), lab[:, 0], lab[:, 1])
                c, l_ = lab[:, 0], lab[:, 1]
                src[:] = "train"
            X.append(x)
            cls.append(c)
            lev.append(l_)
            pid += [name] * n
            tri.append(np.arange(1, n + 1))
            spl += [split] * n
            srcs.append(src)
    ds = Dataset(
        X=np.concatenate(X), y_class=np.concatenate(cls), y_level=np.concatenate(lev),
        participant=np.array(pid, dtype=object), trial=np.concatenate(tri),
        split=np.array(spl, dtype=object), label_source=np.concatenate(srcs), source=str(root),
    )
    ds.ignored = ignored
    _check_no_copies(ds)
    if labels_csv:
        _apply_labels_csv(ds, labels_csv)
    return ds


def _check_no_copies(ds: Dataset) -> None:
    """Refuse a data set in which two trials hold exactly the same values: real recordings never do, so a
    copy is a mistake in the folder or a leak (a test participant that is a training participant, whose
    labels a model would simply recall). A participant whose every trial copies another's is named as
    such; otherwise the first pair of identical trials."""
    first: dict[bytes, int] = {}
    pairs = []
    for i, x in enumerate(ds.X):
        digest = hashlib.blake2b(np.ascontiguousarray(x).tobytes(), digest_size=16).digest()
        if digest in first:
            pairs.append((first[digest], i))
        else:
            first[digest] = i
    if not pairs:
        return
    where = lambda i: f"{ds.participant[i]} trial {ds.trial[i]} ({ds.split[i].capitalize()})"  # noqa: E731
    a, b = pairs[0]
    pa, pb = ds.participant[a], ds.participant[b]
    n_a, n_b = int((ds.participant == pa).sum()), int((ds.participant == pb).sum())
    copied = sum(ds.participant[i] == pa and ds.participant[j] == pb and ds.trial[i] == ds.trial[j] for i, j in pairs)
    if pa != pb and n_a == n_b == copied:
        raise DataError(f"{ds.source}: participant {pb} ({ds.split[b].capitalize()}) holds exactly the data of {pa} "
                        f"({ds.split[a].capitalize()}): a copied folder, or a leak of one participant into another")
    raise DataError(f"{ds.source}: {len(pairs)} trial(s) repeat another exactly, first {where(b)} = {where(a)}; "
                    "real recordings never repeat a trial to the last digit (a copy, or a leak)")


_LABEL_COLUMNS = ["Participant", "Trial", "CLASS", "LEVEL"]
#: the largest number a labels or submission cell may hold (trial numbers, labels): beyond it, a value
#: would not survive the conversion to an integer
_MAX_CELL = 1_000_000


def read_csv_table(path, what: str = "labels CSV") -> pd.DataFrame:
    """The cells of a ``Participant,Trial,CLASS,LEVEL`` file as stripped strings.

    The one reader of labels files and submissions. Spaces around separators are allowed; the file
    must be UTF-8 text with that header.

    Parameters
    ----------
    path : str or pathlib.Path
        The file.
    what : str, default="labels CSV"
        What the file is, for error messages.

    Returns
    -------
    table : pandas.DataFrame
        The four columns, as strings.
    """
    path = check_regular_file(path, what)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: is not UTF-8 text (byte {exc.start}); save the {what} as UTF-8") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if "\x00" in text:  # valid UTF-8, but text in UTF-16 without its byte-order mark reads like this
        raise DataError(f"{path}: holds NUL bytes, as UTF-16 text does (saved without a byte-order mark?); "
                        f"save the {what} as UTF-8")
    if not text.strip():
        raise DataError(f"{path}: {what} is empty; expected the header Participant,Trial,CLASS,LEVEL")
    _check_row_widths(path, text)
    try:
        # index_col=False: a separator at the end of every row (as some spreadsheets write) is not a
        # column, and never shifts the others under the wrong names (the empty cells it adds were
        # checked above to be empty)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", pd.errors.ParserWarning)
            df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True,
                             index_col=False)
    except Exception as exc:  # pandas raises several parser errors
        raise DataError(f"{path}: cannot be parsed as CSV: {shorten(str(exc), 200)[1:-1]}") from None
    df.columns = [str(c).strip() for c in df.columns]
    missing = [c for c in _LABEL_COLUMNS if c not in df.columns]
    if missing:
        found = shorten(", ".join(map(str, df.columns)), 100)[1:-1]
        raise DataError(f"{path}: missing column(s) {', '.join(missing)} (found: {found}); expected header "
                        "Participant,Trial,CLASS,LEVEL")
    return df[_LABEL_COLUMNS].apply(lambda c: c.str.strip())


def _check_row_widths(path: Path, text: str) -> None:
    """Every row has at most as many values as the header has names: a separator closing a row adds an
    empty cell, which is allowed; a value beyond the header's columns would be dropped unseen."""
    rows = csv.reader(io.StringIO(text), skipinitialspace=True)
    n, header = 1, None
    try:
        for n, row in enumerate(rows, start=1):
            if header is None:
                header = row
                while header and not header[-1].strip():
                    header = header[:-1]
                continue
            extra = [c for c in row[len(header):] if c.strip()]
            if extra:
                raise DataError(f"{path}: row {n} has {len(row)} values, more than the {len(header)} columns of "
                                f"the header (first extra value: {shorten(extra[0])})")
    except csv.Error:  # a cell beyond the csv module's limit: no labels file has one
        raise DataError(f"{path}: row {n + (header is not None)} has a value longer than "
                        f"{csv.field_size_limit():,} characters; expected Participant,Trial,CLASS,LEVEL values") from None


def read_labels_csv(path, require_complete: bool = False, what: str = "labels CSV") -> pd.DataFrame:
    """Read a labels CSV (``Participant,Trial,CLASS,LEVEL``); rows with empty cells are dropped.

    Parameters
    ----------
    path : str or pathlib.Path
        The file.
    require_complete : bool, default=False
        Refuse rows with empty cells instead of dropping them.
    what : str, default="labels CSV"
        What the file is, for error messages.

    Returns
    -------
    labels : pandas.DataFrame
        Columns ``Participant`` (str), ``Trial``, ``CLASS`` and ``LEVEL`` (int).
    """
    path = user_path(path, what)
    df = read_csv_table(path, what)
    empty = (df["CLASS"] == "") | (df["LEVEL"] == "")
    both_or_none = (df["CLASS"] == "") == (df["LEVEL"] == "")
    if not both_or_none.all():
        i = int(np.flatnonzero(~both_or_none)[0])
        raise DataError(f"{path}: row {i + 2} has CLASS or LEVEL but not both")
    if require_complete and empty.any():
        raise DataError(f"{path}: row {int(np.flatnonzero(empty)[0]) + 2} has empty CLASS/LEVEL")
    df = df[~empty].copy()
    for col in ("Trial", "CLASS", "LEVEL"):
        num = pd.to_numeric(df[col], errors="coerce")
        whole = np.isfinite(num) & (num == np.round(num))
        bad = ~whole | (num.abs() > _MAX_CELL) | ((num < 1) if col == "Trial" else False)
        if bad.any():
            i = df.index[bad.to_numpy()][0]
            value = shorten(df.loc[i, col])
            why = ("is not an integer" if not whole[i] else
                   "is not a trial number (trials count from 1)" if col == "Trial" and num[i] < 1 else
                   "is out of range")
            raise DataError(f"{path}: row {i + 2}: {col} {value} {why}" +
                            ("; expected -4..4" if col == "LEVEL" else "; expected -1, 0 or 1" if col == "CLASS"
                             else ""))
        df[col] = num.astype(int)
    _check_labels(str(path), df["CLASS"].to_numpy(float), df["LEVEL"].to_numpy(float))
    df["Participant"] = [normalise_participant(p) for p in df["Participant"]]
    named = df["Participant"].map(lambda p: bool(PARTICIPANT.match(p)))
    if not named.all():
        i = df.index[~named.to_numpy()][0]
        raise DataError(f"{path}: row {i + 2}: Participant {shorten(df.loc[i, 'Participant'])} is not a participant "
                        "id; expected P01, P02, ...")
    dup = df.duplicated(["Participant", "Trial"])
    if dup.any():
        r = df[dup].iloc[0]
        raise DataError(f"{path}: duplicate row for {r.Participant} trial {r.Trial}")
    return df.reset_index(drop=True)


def _apply_labels_csv(ds: Dataset, labels_csv) -> Dataset:
    """Fill labels from a released-labels CSV into ``ds`` (in place) and return it."""
    df = read_labels_csv(labels_csv)
    index = {(p, t): i for i, (p, t) in enumerate(zip(ds.participant, ds.trial))}
    known = set(ds.participant.tolist())
    for r in df.itertuples(index=False):
        if r.Participant not in known:
            raise DataError(f"{labels_csv}: names participant {r.Participant}, which is not in {ds.source}")
        i = index.get((r.Participant, r.Trial))
        if i is None:
            n = int((ds.participant == r.Participant).sum())
            raise DataError(f"{labels_csv}: names {r.Participant} trial {r.Trial}, but that participant "
                            f"has trials 1..{n}")
        if ds.label_source[i] == "train":
            if (ds.y_class[i], ds.y_level[i]) != (r.CLASS, r.LEVEL):
                raise DataError(f"{labels_csv}: labels of {r.Participant} trial {r.Trial} disagree with labels.npz")
            continue
        ds.y_class[i], ds.y_level[i], ds.label_source[i] = r.CLASS, r.LEVEL, "released"
    ds._fingerprint = None
    return ds
