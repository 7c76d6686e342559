"""Reading and writing files safely. Every path a user gives goes through :func:`user_path`; every
file the program reads is first checked to be a regular file (:func:`check_regular_file`: a FIFO or a
device would make a read wait or never end); an output is checked to be writable *before* the work
that produces it, and written atomically with the permissions any other file would get."""
from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path

from .errors import DataError

__all__ = [
    "user_path", "shorten", "file_kind", "check_regular_file", "check_writable_dir", "check_output_file",
    "atomic_write_text",
]


def user_path(path, what: str = "path") -> Path:
    """A path as the user typed it, with ``~`` and ``~user`` expanded.

    Parameters
    ----------
    path : str or path
        The path.
    what : str, default="path"
        What it is, for the message of a user that does not exist.

    Returns
    -------
    path : pathlib.Path

    Raises
    ------
    DataError
        For a ``~user`` that does not exist (not Python's "Could not determine home directory").
    """
    text = str(path)
    try:
        return Path(text).expanduser()
    except RuntimeError:
        user = text.split("/", 1)[0]
        raise DataError(f"{text}: {user} names no user's home folder on this machine; expected the {what} "
                        "as a path") from None


def shorten(value, limit: int = 60) -> str:
    """``repr`` of a value for an error message, cut to a length (a cell of a million characters is not
    echoed whole).

    Parameters
    ----------
    value : object
        The value.
    limit : int, default=60
        Characters kept.

    Returns
    -------
    text : str
    """
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit - 20]}...{text[-12:]} ({len(str(value)):,} characters)"


def file_kind(path: Path) -> str:
    """What the entry at a path is, in words.

    Parameters
    ----------
    path : pathlib.Path
        The entry.

    Returns
    -------
    kind : str
        "a regular file", "a folder", "a FIFO (named pipe)", ..., "a broken link", "missing", or
        "unreadable (reason)".
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "a broken link" if os.path.islink(path) else "missing"
    except OSError as exc:
        return f"unreadable ({exc.strerror or exc})"
    for test, name in ((stat.S_ISREG, "a regular file"), (stat.S_ISDIR, "a folder"),
                       (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def check_regular_file(path, what: str = "file") -> Path:
    """A path that must be a regular file (or a link to one), checked before it is opened.

    Reading a FIFO waits for a writer forever, and a device such as ``/dev/zero`` never ends.

    Parameters
    ----------
    path : str or path
        The file.
    what : str, default="file"
        What it is, for the message.

    Returns
    -------
    path : pathlib.Path

    Raises
    ------
    DataError
        Naming the path and what it is instead.
    """
    path = user_path(path, what)
    kind = file_kind(path)
    if kind == "a regular file":
        return path
    if kind == "missing":
        raise DataError(f"{path}: {what} does not exist")
    if kind == "a folder":
        raise DataError(f"{path}: is a folder; expected a {what}")
    raise DataError(f"{path}: is {kind}, not a regular file; expected a {what}")


def _umask_mode(base: int = 0o666) -> int:
    """``base`` with the process's umask applied (what ``open()`` would give a new file)."""
    mask = os.umask(0)
    os.umask(mask)
    return base & ~mask


def check_writable_dir(folder, what: str = "folder", create: bool = True) -> Path:
    """Prove that files can be written in a folder.

    Parameters
    ----------
    folder : str or path
        The folder.
    what : str, default="folder"
        What it is, for the message.
    create : bool, default=True
        Make the folder when it is missing. False: nothing is made, and a missing folder passes when its
        nearest existing parent is a folder this process may write in (checks that run *before* the
        arguments and the data are known to be good must leave nothing behind).

    Returns
    -------
    folder : pathlib.Path

    Raises
    ------
    DataError
        Naming the folder: a file in the way, no permission, a read-only disk.
    """
    folder = user_path(folder, what)
    nearest = None
    for parent in (folder, *folder.parents):
        if parent.exists():
            if not parent.is_dir():
                raise DataError(f"{parent}: is a file, so the {what} {folder} cannot be created there")
            nearest = parent
            break
    if not create and nearest != folder:
        if nearest is None or not os.access(nearest, os.W_OK | os.X_OK):
            raise DataError(f"{folder}: the {what} cannot be created ({nearest or folder.anchor} is not writable)")
        return folder
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".write-test-", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise DataError(f"{folder}: the {what} cannot be written ({exc.strerror or exc})") from None
    return folder


def check_output_file(path, force: bool = False, what: str = "output file", create: bool = True) -> Path:
    """Check before any work that an output file can be written.

    Parameters
    ----------
    path : str or path
        The file.
    force : bool, default=False
        Allow replacing an existing file.
    what : str, default="output file"
        What it is, for the message.
    create : bool, default=True
        Make its folder when missing.

    Returns
    -------
    path : pathlib.Path

    Raises
    ------
    DataError
        For an empty name, a folder in its place, an existing file without ``force``, or a folder that
        cannot be written.
    """
    if not str(path):
        raise DataError(f"the name of the {what} is empty; expected a file name")
    path = user_path(path, what)
    if path.is_dir():
        raise DataError(f"{path}: is a folder; expected the name of the {what} to write")
    if path.exists() and not force:
        raise DataError(f"{path}: file exists (use --force to overwrite)")
    check_writable_dir(path.parent, f"folder of the {what}", create=create)
    return path


def atomic_write_text(path, text: str) -> Path:
    """Write text through a temporary file in the same folder and a rename, so a reader never sees half a
    file.

    The file gets the umask's permissions; the temporary file is removed whatever happens.

    Parameters
    ----------
    path : str or path
        The file.
    text : str
        Its contents.

    Returns
    -------
    path : pathlib.Path
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise DataError(f"{path}: cannot be written ({exc.strerror or exc})") from None
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.chmod(tmp, _umask_mode())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise DataError(f"{path}: could not be written ({exc.strerror or exc}); "
                        + ("the earlier file is unchanged" if path.exists() else "nothing was written")
                        + (": free some space, or write elsewhere" if exc.errno == errno.ENOSPC else "")) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
