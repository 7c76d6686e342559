"""The content-addressed store behind every cache of the package (trained models in
:mod:`fmriemo.training.runs`, Phase II fine-tunings in :mod:`fmriemo.challenge.phases`, the surrogate
data sets in :mod:`fmriemo.data.surrogate`): each entry is a folder named by a key of everything that
determines it, written atomically under a temporary name of its own with a manifest of its files'
checksums; a damaged entry is reported in one line, removed and made again.

:func:`cache_root` is the one place that decides where the store lives.
"""
from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import socket
import sys
import tempfile
import time
from pathlib import Path

from .errors import DataError
from .files import file_kind, shorten, user_path

__all__ = [
    "CACHE_ENV", "MANIFEST", "cache_root", "sha256", "StoreWriteError", "write_entry", "entry_is_intact",
    "read_entry", "source_hash",
]

#: the environment variable that moves the store (``--cache-dir`` and ``cache_dir`` parameters win over it)
CACHE_ENV = "FMRIEMO_CACHE"
MANIFEST = ".manifest.json"  # hidden: a surrogate folder keeps exactly the challenge's layout


def cache_root(cache_dir: str | Path | None = None) -> Path:
    """The store's folder.

    Parameters
    ----------
    cache_dir : str, path or None, default=None
        The folder; None or empty: ``$FMRIEMO_CACHE``, else ``~/.cache/fmriemo``. A path from the
        environment that is not a folder is refused, naming the variable (the user may not remember
        having set it).

    Returns
    -------
    folder : pathlib.Path
    """
    if cache_dir:
        return user_path(cache_dir, "cache folder")
    if os.environ.get(CACHE_ENV):
        root = user_path(os.environ[CACHE_ENV], f"cache folder (${CACHE_ENV})")
        if root.exists() and not root.is_dir():
            raise DataError(f"${CACHE_ENV}={root}: is {file_kind(root)}; expected the folder of fmriemo's cache "
                            f"(unset {CACHE_ENV} or point it at a folder)")
        return root
    return Path.home() / ".cache" / "fmriemo"


def _remove(path: Path) -> None:
    """Remove the entry at ``path`` whatever it has become (a folder, a plain file, a FIFO, a link, a
    folder without read or search permission); a :class:`DataError` naming it when it cannot be."""
    def allow(func, name, exc):  # a folder we may not list or enter: give ourselves the right, once
        os.chmod(os.path.dirname(name) or ".", 0o700)
        if os.path.isdir(name) and not os.path.islink(name):
            os.chmod(name, 0o700)
            shutil.rmtree(name)
        else:
            os.unlink(name)
    try:
        if path.is_dir() and not path.is_symlink():
            os.chmod(path, 0o700)
            shutil.rmtree(path, onexc=allow) if sys.version_info >= (3, 12) else shutil.rmtree(path, onerror=allow)
        elif path.exists() or path.is_symlink():
            path.unlink()
    except OSError as exc:
        raise DataError(f"{path}: a damaged cache entry that cannot be removed ({exc.strerror or exc}); "
                        "remove it by hand") from None


#: a temporary entry (``<key>.tmp-<host>-<pid>-...``) older than this is left over from a killed process
_STALE_SECONDS = 24 * 3600


def _clean_stale(parent: Path) -> None:
    """Remove the temporary entries in ``parent`` that a killed process left behind: those of a process
    of this machine that no longer runs, and any older than a day (from another
    machine sharing the folder)."""
    host = socket.gethostname()
    try:
        candidates = [p for p in parent.iterdir() if ".tmp-" in p.name]
    except OSError:
        return
    now = time.time()
    for p in candidates:
        try:
            parts = p.name.split(".tmp-", 1)[1].split("-")
            age = now - p.lstat().st_mtime
        except (IndexError, OSError):
            continue
        mine = len(parts) >= 2 and parts[0] == host and parts[1].isdigit()
        dead = mine and not _alive(int(parts[1]))
        if dead or age > _STALE_SECONDS:
            shutil.rmtree(p, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists, owned by someone else
        return True
    return True


def sha256(path: Path) -> str:
    """SHA-256 of a file's bytes.

    Parameters
    ----------
    path : pathlib.Path
        The file.

    Returns
    -------
    digest : str
        Hexadecimal.
    """
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


class StoreWriteError(DataError):
    """A store entry could not be written (a full disk, a read-only folder); nothing of it is left.

    Parameters
    ----------
    folder : pathlib.Path
        The entry.
    exc : Exception
        What failed.
    """

    def __init__(self, folder: Path, exc: Exception):
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc).strip() or type(exc).__name__
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC or "unexpected pos" in reason:
            reason = "no space left on the device"
        super().__init__(f"{folder}: could not be written to the cache ({shorten(reason, 100)[1:-1]})")
        self.folder, self.reason = folder, reason


def write_entry(folder: Path, fill) -> Path:
    """Make a store entry.

    ``fill(tmp)`` writes its files into a temporary folder of its own (two processes making the same key
    never share one), a manifest of their checksums is added, and the folder is renamed into place. If
    another process finished the same entry first, its copy is kept.

    Parameters
    ----------
    folder : pathlib.Path
        The entry.
    fill : callable
        ``fill(tmp)`` writes the entry's files into the folder ``tmp``.

    Returns
    -------
    folder : pathlib.Path

    Raises
    ------
    StoreWriteError
        When the entry cannot be written.
    """
    folder = Path(folder)
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        _clean_stale(folder.parent)
        tmp = Path(tempfile.mkdtemp(prefix=f"{folder.name}.tmp-{socket.gethostname()}-{os.getpid()}-",
                                    dir=folder.parent))
    except OSError as exc:
        raise StoreWriteError(folder, exc) from None
    try:
        try:
            fill(tmp)
            files = sorted(f for f in tmp.rglob("*") if f.is_file())
            manifest = {f.relative_to(tmp).as_posix(): sha256(f) for f in files}
            (tmp / MANIFEST).write_text(json.dumps(manifest, indent=0))
        except (OSError, RuntimeError) as exc:  # torch.save on a full disk raises RuntimeError ("enforce fail")
            raise StoreWriteError(folder, exc) from None
        if folder.exists():
            if entry_is_intact(folder, quiet=True):  # another process finished the same entry: keep its copy
                return folder
            _remove(folder)
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
    """Whether a folder holds a complete entry whose files match its manifest.

    A damaged entry (no manifest, a file missing, truncated or changed) is reported in one line
    (``fmriemo: <what> <folder> is damaged (<reason>); <again>``) and removed.

    Parameters
    ----------
    folder : pathlib.Path
        The entry.
    what : str, default="cache entry"
        What it is, for the report.
    again : str, default="making it again"
        What happens next, for the report.
    quiet : bool, default=False
        Remove a damaged entry without a report.

    Returns
    -------
    intact : bool
        False when there is none or it was damaged.
    """
    folder = Path(folder)
    if not (folder.exists() or folder.is_symlink()):
        return False
    try:
        if not folder.is_dir():
            raise ValueError(f"it is {file_kind(folder)}, not a folder")
        if file_kind(folder / MANIFEST) != "a regular file":
            raise ValueError(f"its manifest is {file_kind(folder / MANIFEST)}")
        manifest = json.loads((folder / MANIFEST).read_text())
        if not isinstance(manifest, dict) or not manifest:
            raise ValueError("its manifest is empty")
        for name, digest in manifest.items():
            kind = file_kind(folder / name)
            if kind != "a regular file":  # a FIFO would make the checksum wait forever
                raise ValueError(f"{name} is {kind}" if kind != "missing" else f"{name} is missing")
            if sha256(folder / name) != digest:
                raise ValueError(f"{name} does not match its checksum")
        expected = {MANIFEST, *manifest}  # its files, and the folders that hold them
        for name in manifest:
            expected |= {parent.as_posix() for parent in Path(name).parents if parent != Path(".")}
        extra = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                       if p.relative_to(folder).as_posix() not in expected and not _hidden(p.relative_to(folder)))
        if extra:
            raise ValueError(f"{extra[0]} is not one of its files" + (f" (and {len(extra) - 1} more)"
                                                                       if len(extra) > 1 else ""))
    except Exception as exc:  # anything wrong with an entry means: make it again
        if not quiet:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or type(exc).__name__
            if isinstance(exc, FileNotFoundError):
                reason = f"{Path(exc.filename).name} is missing" if exc.filename else reason
            print(f"fmriemo: {what} {folder} is damaged ({reason}); {again}", file=sys.stderr)
        _remove(folder)
        return False
    return True


def _hidden(rel: Path) -> bool:
    """An entry a file manager or editor adds (``.DS_Store``, ``.ipynb_checkpoints``): not damage."""
    return any(part.startswith(".") for part in rel.parts)


def read_entry(folder: Path, read, what: str = "cache entry", again: str = "making it again"):
    """Read an intact store entry.

    An entry that is damaged, or whose files ``read`` cannot make sense of (it raises), is reported in
    one line and removed, so that the caller makes it again.

    Parameters
    ----------
    folder : pathlib.Path
        The entry.
    read : callable
        ``read(folder)`` returns what the entry holds.
    what : str, default="cache entry"
        What it is, for the report.
    again : str, default="making it again"
        What happens next, for the report.

    Returns
    -------
    value : object or None
        ``read(folder)``, or None when there is no intact entry.
    """
    if not entry_is_intact(folder, what, again):
        return None
    try:
        return read(Path(folder))
    except Exception as exc:
        print(f"fmriemo: {what} {folder} is damaged ({exc or type(exc).__name__}); {again}", file=sys.stderr)
        _remove(Path(folder))
        return None


def source_hash(*paths: Path) -> str:
    """The version of the code that made an entry.

    Parameters
    ----------
    *paths : pathlib.Path
        ``.py`` files, or folders (every file under them), each hashed with its path relative to its root.

    Returns
    -------
    digest : str
        SHA-256, hexadecimal.
    """
    h = hashlib.sha256()
    for root in paths:
        root = Path(root)
        files = sorted(root.rglob("*.py")) if root.is_dir() else [root]
        for f in files:
            h.update(f.name.encode() if not root.is_dir() else f.relative_to(root).as_posix().encode())
            h.update(f.read_bytes())
    return h.hexdigest()
