"""Writing files safely: check that an output can be written *before* the work that
produces it, and write atomically with the permissions any other file would get."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import DataError


def umask_mode(base: int = 0o666) -> int:
    """``base`` with the process's umask applied (what ``open()`` would give a new file)."""
    mask = os.umask(0)
    os.umask(mask)
    return base & ~mask


def check_writable_dir(folder, what: str = "folder") -> Path:
    """Create ``folder`` if needed and prove a file can be written in it; raise one clear
    :class:`DataError` naming it otherwise (a file in the way, no permission, read-only disk)."""
    folder = Path(folder).expanduser()
    for parent in (folder, *folder.parents):
        if parent.exists():
            if not parent.is_dir():
                raise DataError(f"{parent}: is a file, so the {what} {folder} cannot be created there")
            break
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".write-test-", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise DataError(f"{folder}: the {what} cannot be written ({exc.strerror or exc})") from None
    return folder


def check_output_file(path, force: bool = False, what: str = "output file") -> Path:
    """Check before any work that ``path`` can be written: not a folder, not an existing file
    unless ``force``, and its folder writable."""
    path = Path(path).expanduser()
    if path.is_dir():
        raise DataError(f"{path}: is a folder; expected the name of the {what} to write")
    if path.exists() and not force:
        raise DataError(f"{path}: file exists (use --force to overwrite)")
    check_writable_dir(path.parent, f"folder of the {what}")
    return path


def atomic_write_text(path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file in the same folder and a rename, so a
    reader never sees half a file; the file gets the umask's permissions; the temporary file is
    removed whatever happens."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.chmod(tmp, umask_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
