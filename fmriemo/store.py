"""The content-addressed store behind every cache of the package (trained models here, the
surrogate data sets in :mod:`fmriemo.surrogate`): each entry is a folder named by a key of
everything that determines it (for a trained model: data fingerprint, split, configuration, the
code in :data:`RESULT_CODE`, the torch version), written atomically under a temporary name of its
own with a manifest of its files' checksums; a damaged entry is reported in one line, removed and
made again.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from .data import Dataset
from .splits import Split

if TYPE_CHECKING:
    from .train import RunResult


def default_cache_dir() -> Path:
    """``$FMRIEMO_CACHE`` or ``~/.cache/fmriemo``."""
    return Path(os.environ.get("FMRIEMO_CACHE") or Path.home() / ".cache" / "fmriemo").expanduser()


#: the package's modules whose code determines a trained model's result (and a fine-tuned one's)
RESULT_CODE = ("models.py", "train.py", "optim.py", "splits.py", "store.py", "preprocess.py", "data.py", "atlas.py",
               "challenge.py", "evaluate.py")


def code_version() -> str:
    """Hash of the source files that determine a trained model's results, and of the torch version."""
    h = hashlib.sha256()
    here = Path(__file__).parent
    for name in RESULT_CODE:
        h.update((here / name).read_bytes())
    h.update(torch.__version__.encode())
    return h.hexdigest()[:16]


def _sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


MANIFEST = ".manifest.json"  # hidden: a surrogate folder keeps exactly the challenge's layout


def write_entry(folder: Path, fill) -> Path:
    """Make the store entry ``folder``: ``fill(tmp)`` writes its files into a temporary folder of its
    own (two processes making the same key never share one), a manifest of their checksums is added,
    and the folder is renamed into place. If another process finished the same entry first, its copy
    is kept."""
    import shutil
    import tempfile
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=folder.name + ".tmp-", dir=folder.parent))
    try:
        fill(tmp)
        files = sorted(f for f in tmp.rglob("*") if f.is_file())
        manifest = {f.relative_to(tmp).as_posix(): _sha256(f) for f in files}
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
            if _sha256(folder / name) != digest:
                raise ValueError(f"{name} does not match its checksum")
    except Exception as exc:  # anything wrong with an entry means: make it again
        import shutil
        import sys
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
        import shutil
        import sys
        print(f"fmriemo: {what} {folder} is damaged ({exc or type(exc).__name__}); {again}", file=sys.stderr)
        shutil.rmtree(folder, ignore_errors=True)
        return None


def load_cached_run(folder: Path) -> RunResult | None:
    """The run stored in ``folder``, or None when there is none (a damaged entry is reported, removed
    and None returned: :func:`read_entry`), so that the caller trains it again."""
    from .train import RunResult as Run

    def read(f: Path):
        res = Run.from_json(json.loads((f / "result.json").read_text()), str(f))
        res.cached = True
        return res
    return read_entry(folder, read, again="training it again")


def store_run(res, state: dict, folder: Path) -> None:
    """Write a trained run (its model and its result) into the store entry ``folder``."""
    def fill(tmp: Path) -> None:
        torch.save({k: v.cpu() for k, v in state.items()}, tmp / "model.pt")
        (tmp / "result.json").write_text(json.dumps(res.to_json()))

    write_entry(folder, fill)


def run_key(ds: Dataset, split: Split, cfg) -> str:
    """The cache key of a trained model: the data, the split, the configuration and the code."""
    ident = {"data": ds.fingerprint, "split": split.identity(), "config": cfg.identity(),
             "code": code_version()}
    return hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:24]
