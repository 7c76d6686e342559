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

import io
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.errors import DataError
from .atlas import N_REGIONS
from .dataset import (CLASS_VALUES, N_SECONDS, PARTICIPANT, SPLITS, Dataset, normalise_participant,
                      participant_key)


def _find(folder: Path, name: str) -> Path | None:
    """The entry of ``folder`` whose name equals ``name`` ignoring case."""
    hits = [p for p in folder.iterdir() if p.name.lower() == name.lower()]
    if len(hits) > 1:
        raise DataError(f"{folder}: several entries match {name!r} ignoring case: "
                        f"{', '.join(sorted(p.name for p in hits))}")
    return hits[0] if hits else None


def read_npz_array(path: Path) -> np.ndarray:
    """The ``"data"`` array of an .npz file, with clear errors for broken files.

    The file's first bytes are checked before numpy reads it, so that a plain
    ``.npy`` array, a text file or a pickle renamed ``.npz`` is reported as what
    it is (never unpickled).
    """
    try:
        with open(path, "rb") as fh:
            head = fh.read(6)
    except IsADirectoryError:
        raise DataError(f"{path}: is a folder; expected an .npz file") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot be opened ({exc.strerror or exc})") from None
    if head.startswith(b"\x93NUMPY"):
        raise DataError(f"{path}: is a plain .npy array, not an .npz archive; expected an .npz file holding "
                        "the array under key 'data' (np.savez(path, data=array))")
    if not head.startswith(b"PK"):
        what = "empty" if not head else "not a valid .npz archive (no zip header)"
        raise DataError(f"{path}: is {what}; expected the challenge's .npz file with key 'data'")
    try:
        with np.load(path, allow_pickle=False) as npz:
            keys = list(npz.files)
            if "data" not in keys:
                raise DataError(f"{path}: no 'data' array inside (found: {', '.join(keys) or 'none'}); "
                                "expected the challenge's npz with key 'data'")
            arr = npz["data"]
    except DataError:
        raise
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, KeyError, zipfile.LargeZipFile) as exc:
        raise DataError(f"{path}: is not a valid .npz archive (truncated or corrupt?): {exc}") from None
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise DataError(f"{path}: 'data' has dtype {arr.dtype}; expected real numbers")
    return arr


def _check_fmri(path: Path, arr: np.ndarray) -> np.ndarray:
    if arr.ndim != 3 or arr.shape[1:] != (N_REGIONS, N_SECONDS) or arr.shape[0] < 1:
        raise DataError(f"{path}: 'data' has shape {arr.shape}; expected [trials, {N_REGIONS}, {N_SECONDS}] "
                        f"(each trial {N_REGIONS} regions x {N_SECONDS} seconds)")
    bad = ~np.isfinite(arr)
    if bad.any():
        t, r, s = np.argwhere(bad)[0]
        raise DataError(f"{path}: {int(bad.sum())} non-finite values (NaN or inf), first at trial {t + 1}, "
                        f"region {r}, second {s}; expected finite fMRI intensities")
    return arr.astype(np.float32)


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
        if d is not None and d.is_dir():
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

    Every entry is either loaded or reported: hidden entries (``.DS_Store``,
    ``.ipynb_checkpoints``) are listed in ``ignored``; anything else that is not
    a participant folder (``S01``, a stray file, a broken link) is an error.
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
    """The layout of a folder as indented text, ``depth`` levels deep, at most ``limit`` entries shown
    per folder (hidden entries left out): what the loader will read."""
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
    """Load and validate a challenge folder (the folder holding ``Train/`` and ``Test/``).

    ``labels_csv`` optionally names a released-labels CSV (``Participant,Trial,CLASS,LEVEL``,
    empty cells for unreleased trials); its labels fill the matching trials.
    """
    root = Path(root).expanduser()
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
            x = _check_fmri(fpath, read_npz_array(fpath))
            n = len(x)
            c = np.full(n, np.nan)
            l_ = np.full(n, np.nan)
            src = np.array([""] * n, dtype=object)
            if split == "train":
                lpath = _find(pdir, "labels.npz")
                if lpath is None:
                    raise DataError(f"{pdir}: training participant without labels.npz "
                                    f"(expected key 'data' [{n}, 2]: CLASS, LEVEL)")
                lab = read_npz_array(lpath)
                if lab.shape != (n, 2):
                    raise DataError(f"{lpath}: 'data' has shape {lab.shape}; expected [{n}, 2] "
                                    f"(one CLASS, LEVEL row per trial of fMRI_data.npz)")
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
    if labels_csv:
        apply_labels_csv(ds, labels_csv)
    return ds


LABEL_COLUMNS = ["Participant", "Trial", "CLASS", "LEVEL"]


def read_csv_table(path, what: str = "labels CSV") -> pd.DataFrame:
    """The cells of a Participant,Trial,CLASS,LEVEL file as stripped strings (the one reader of
    labels files and submissions). Spaces around separators are allowed; the file must be
    UTF-8 text with that header."""
    path = Path(path).expanduser()
    if not path.exists():
        raise DataError(f"{path}: {what} does not exist")
    if path.is_dir():
        raise DataError(f"{path}: is a folder; expected a {what} file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: is not UTF-8 text (byte {exc.start}); save the {what} as UTF-8") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if not text.strip():
        raise DataError(f"{path}: {what} is empty; expected the header Participant,Trial,CLASS,LEVEL")
    try:
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True)
    except Exception as exc:  # pandas raises several parser errors
        raise DataError(f"{path}: cannot be parsed as CSV: {exc}") from None
    df.columns = [str(c).strip() for c in df.columns]
    missing = [c for c in LABEL_COLUMNS if c not in df.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {', '.join(missing)}; expected header "
                        "Participant,Trial,CLASS,LEVEL")
    return df[LABEL_COLUMNS].apply(lambda c: c.str.strip())


def read_labels_csv(path, require_complete: bool = False, what: str = "labels CSV") -> pd.DataFrame:
    """Read a labels CSV (Participant,Trial,CLASS,LEVEL); rows with empty cells are dropped.

    Returns columns Participant (str), Trial, CLASS, LEVEL (int).
    """
    path = Path(path).expanduser()
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
        bad = num.isna() | (num != np.round(num))
        if bad.any():
            i = df.index[bad.to_numpy()][0]
            raise DataError(f"{path}: row {i + 2}: {col} {df.loc[i, col]!r} is not an integer")
        df[col] = num.astype(int)
    _check_labels(str(path), df["CLASS"].to_numpy(float), df["LEVEL"].to_numpy(float))
    df["Participant"] = [normalise_participant(p) for p in df["Participant"]]
    dup = df.duplicated(["Participant", "Trial"])
    if dup.any():
        r = df[dup].iloc[0]
        raise DataError(f"{path}: duplicate row for {r.Participant} trial {r.Trial}")
    return df.reset_index(drop=True)


def apply_labels_csv(ds: Dataset, labels_csv) -> Dataset:
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
