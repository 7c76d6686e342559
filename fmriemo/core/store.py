"""The content-addressed store behind every cache of the package (trained models in
:mod:`fmriemo.training.runs`, Phase II fine-tunings in :mod:`fmriemo.challenge.phases`, the surrogate
data sets in :mod:`fmriemo.data.surrogate`): each entry is a folder named by a key of everything that
determines it, written atomically under a temporary name of its own with a manifest of its files'
checksums; a damaged entry is reported in one line, removed and made again.

:func:`cache_root` is the one place that decides where the store lives.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

#: the environment variable that moves the store (``--cache-dir`` and ``cache_dir`` parameters win over it)
CACHE_ENV = "FMRIEMO_CACHE"
MANIFEST = ".manifest.json"  # hidden: a surrogate folder keeps exactly the challenge's layout


def cache_root(cache_dir: str | Path | None = None) -> Path:
    """The store's folder: ``cache_dir`` when given (not empty), else ``$FMRIEMO_CACHE``, else
    ``~/.cache/fmriemo``."""
    if cache_dir:
        return Path(cache_dir).expanduser()
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "fmriemo").expanduser()


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def write_entry(folder: Path, fill) -> Path:
    """Make the store entry ``folder``: ``fill(tmp)`` writes its files into a temporary folder of its
    own (two processes making the same key never share one), a manifest of their checksums is added,
    and the folder is renamed into place. If another process finished the same entry first, its copy
    is kept."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=folder.name + ".tmp-", dir=folder.parent))
    try:
        fill(tmp)
        files = sorted(f for f in tmp.rglob("*") if f.is_file())
        manifest = {f.relative_to(tmp).as_posix(): sha256(f) for f in files}
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=0))
        if folder.exists():
            shutil.rmtree(folder, ignore_errors=True)
        try:
            tmp.rename(folder)
        except OSError:
            if not entry_is_intact(folder, quiet=True):  # not another process's finished copy
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def entry_is_intact(folder: Path, what: str = "cache entry", again: str = "making it again",
                    quiet: bool = False) -> bool:
    """True when ``folder`` holds a complete entry whose files match its manifest. False when there is
    none; a damaged one (no manifest, a file missing, truncated or changed) is also reported in one
    line (``fmriemo: <what> <folder> is damaged (<reason>); <again>``) and removed."""
    folder = Path(folder)
    if not folder.exists():
        return False
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
        if not isinstance(manifest, dict) or not manifest:
            raise ValueError("its manifest is empty")
        for name, digest in manifest.items():
            if sha256(folder / name) != digest:
                raise ValueError(f"{name} does not match its checksum")
    except Exception as exc:  # anything wrong with an entry means: make it again
        if not quiet:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or type(exc).__name__
            if isinstance(exc, FileNotFoundError):
                reason = f"{Path(exc.filename).name} is missing" if exc.filename else reason
            print(f"fmriemo: {what} {folder} is damaged ({reason}); {again}", file=sys.stderr)
        shutil.rmtree(folder, ignore_errors=True)
        return False
    return True


def read_entry(folder: Path, read, what: str = "cache entry", again: str = "making it again"):
    """``read(folder)`` for an intact entry (:func:`entry_is_intact`), or None when there is none. An
    entry that is damaged, or whose files ``read`` cannot make sense of (it raises), is reported in one
    line, removed and None returned, so that the caller makes it again."""
    if not entry_is_intact(folder, what, again):
        return None
    try:
        return read(Path(folder))
    except Exception as exc:
        print(f"fmriemo: {what} {folder} is damaged ({exc or type(exc).__name__}); {again}", file=sys.stderr)
        shutil.rmtree(folder, ignore_errors=True)
        return None


def source_hash(*paths: Path) -> str:
    """SHA-256 over the ``.py`` files (and, for a folder, the files under it) named by ``paths``, each
    with its path relative to its root: the version of the code that made an entry."""
    h = hashlib.sha256()
    for root in paths:
        root = Path(root)
        files = sorted(root.rglob("*.py")) if root.is_dir() else [root]
        for f in files:
            h.update(f.name.encode() if not root.is_dir() else f.relative_to(root).as_posix().encode())
            h.update(f.read_bytes())
    return h.hexdigest()
