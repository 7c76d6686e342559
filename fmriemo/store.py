"""The content-addressed store of trained models: a key of everything that determines a run (data
fingerprint, split, configuration, the code in :data:`RESULT_CODE`, the torch version), entries
written atomically with a checksum, and a damaged entry reported in one line and retrained.
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


def load_cached_run(folder: Path) -> RunResult | None:
    """The run stored in ``folder``, or None when there is none. A damaged entry (unreadable or
    truncated JSON, a missing model, a checksum that does not match) is reported in one line,
    removed and None returned, so that the caller trains it again."""
    if not folder.exists():
        return None
    try:
        d = json.loads((folder / "result.json").read_text())
        if d.get("model_sha256") != _sha256(folder / "model.pt"):
            raise ValueError("model.pt does not match its checksum")
        from .train import RunResult as Run
        res = Run.from_json(d, str(folder))
    except Exception as exc:  # anything wrong with an entry means: train it again
        import shutil
        import sys
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or type(exc).__name__
        print(f"fmriemo: cache entry {folder} is damaged ({reason}); training it again", file=sys.stderr)
        shutil.rmtree(folder, ignore_errors=True)
        return None
    res.cached = True
    return res


def store_run(res, state: dict, folder: Path) -> None:
    """Write a run into ``folder`` atomically: into a temporary folder of its own (two processes
    training the same key never share one), with the model's checksum, then renamed into place."""
    import shutil
    import tempfile
    tmp = Path(tempfile.mkdtemp(prefix=folder.name + ".tmp-", dir=folder.parent))
    try:
        torch.save({k: v.cpu() for k, v in state.items()}, tmp / "model.pt")
        d = res.to_json()
        d["model_sha256"] = _sha256(tmp / "model.pt")
        (tmp / "result.json").write_text(json.dumps(d))
        if folder.exists():
            shutil.rmtree(folder, ignore_errors=True)
        try:
            tmp.rename(folder)
        except OSError:
            if load_cached_run(folder) is None:  # not another process's finished copy
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run_key(ds: Dataset, split: Split, cfg) -> str:
    """The cache key of a trained model: the data, the split, the configuration and the code."""
    ident = {"data": ds.fingerprint, "split": split.identity(), "config": cfg.identity(),
             "code": code_version()}
    return hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:24]
