"""Helpers shared by the chapters and the build: the data a chapter runs on,
executing a chapter with papermill, and reading glued values back."""
from __future__ import annotations

import json
from pathlib import Path

from .data import Dataset, load_challenge
from .surrogate import ensure_surrogate
from .train import default_cache_dir

DEFAULT_SURROGATE_SEED = 2024


def cache_path(cache_dir: str | Path | None = "") -> Path:
    """The cache folder a chapter uses: ``cache_dir`` if given, else the default."""
    return Path(cache_dir).expanduser() if cache_dir else default_cache_dir()


def data_folder(data_dir: str | Path | None = "", surrogate_seed: int = DEFAULT_SURROGATE_SEED,
                cache_dir: str | Path | None = "") -> Path:
    """The challenge folder to use: ``data_dir``, or the surrogate generated into the cache."""
    if data_dir:
        return Path(data_dir).expanduser()
    return ensure_surrogate(cache_path(cache_dir), surrogate_seed)


def open_dataset(data_dir: str | Path | None = "", labels_csv: str | Path | None = "",
                 surrogate_seed: int = DEFAULT_SURROGATE_SEED, cache_dir: str | Path | None = "") -> Dataset:
    """Load the real challenge folder ``data_dir``, or the built-in surrogate when it is empty.

    For the surrogate, the released Phase II labels are used unless another
    ``labels_csv`` is given, as a real user with the released CSV would.
    """
    folder = data_folder(data_dir, surrogate_seed, cache_dir)
    if not data_dir and not labels_csv:
        labels_csv = folder / "released_labels.csv"
    return load_challenge(folder, labels_csv or None)


def plain(value):
    """numpy scalars and arrays as plain Python values (so glued text reads ``16``, not ``np.int64(16)``)."""
    import numpy as np
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def glue(name: str, value, display: bool = False) -> None:
    """``myst_nb.glue`` with numpy scalars made plain; not displayed by default."""
    from myst_nb import glue as _glue
    _glue(name, plain(value), display=display)


# --------------------------------------------------------------------------- chapters

def project_root() -> Path:
    return Path(__file__).resolve().parent.parent


def chapter_sources(root: Path | None = None) -> list[Path]:
    """The chapter sources (``notebooks/NN_*.py``) in book order."""
    root = root or project_root()
    return sorted((root / "notebooks").glob("[0-9][0-9]_*.py"))


def run_chapter(source: str | Path, output: str | Path, parameters: dict | None = None,
                cwd: str | Path | None = None, progress: bool = False) -> Path:
    """Convert a jupytext chapter to a notebook and execute it with papermill."""
    import jupytext
    import papermill as pm

    source, output = Path(source), Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    src_nb = output.with_suffix(".source.ipynb")
    jupytext.write(jupytext.read(source), src_nb)
    try:
        pm.execute_notebook(str(src_nb), str(output), parameters=parameters or {}, kernel_name="python3",
                            cwd=str(cwd or output.parent), progress_bar=progress)
    finally:
        src_nb.unlink(missing_ok=True)
    return output


def read_glued(notebook: str | Path) -> dict:
    """Values glued with ``myst_nb.glue`` in an executed notebook: name -> text/plain."""
    nb = json.loads(Path(notebook).read_text())
    out = {}
    for cell in nb.get("cells", []):
        for o in cell.get("outputs", []):
            meta = o.get("metadata", {}).get("scrapbook")
            if meta:
                data = o.get("data", {})
                text = next((v for k, v in data.items() if k.endswith("text/plain")), None)
                out[meta["name"]] = "".join(text) if isinstance(text, list) else text
    return out


def notebook_errors(notebook: str | Path) -> list[str]:
    """Error outputs of an executed notebook ("ename: evalue" each)."""
    nb = json.loads(Path(notebook).read_text())
    return [f"{o.get('ename')}: {o.get('evalue')}" for c in nb.get("cells", [])
            for o in c.get("outputs", []) if o.get("output_type") == "error"]


def build_record(chapters_dir: str | Path = "chapters") -> dict:
    """What this build ran on, for the book's record: the chapters' profile and data (the data's
    fingerprint, never a user's path), the commit, the device, and package versions (``watermark``).
    The parameters are read from the first executed chapter's papermill metadata."""
    import platform
    import subprocess

    import torch

    from . import __version__
    params: dict = {}
    for nb in sorted(Path(chapters_dir).glob("[0-9][0-9]_*.ipynb")):
        if not nb.name.endswith(".source.ipynb"):
            params = json.loads(nb.read_text()).get("metadata", {}).get("papermill", {}).get("parameters", {})
            break
    data_dir, seed = params.get("data_dir") or "", params.get("surrogate_seed", DEFAULT_SURROGATE_SEED)
    ds = open_dataset(data_dir, params.get("labels_csv") or "", seed, params.get("cache_dir") or "")
    try:
        root = project_root()
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        commit = (commit + (" (with uncommitted changes)" if dirty else "")) or "unknown (not a git checkout)"
    except (OSError, subprocess.SubprocessError):
        commit = "unknown (git not available)"
    device = (torch.cuda.get_device_name(0) if torch.cuda.is_available()
              else f"CPU only ({torch.get_num_threads()} threads; {platform.processor() or platform.machine()})")
    try:
        from watermark import watermark
        versions = watermark(packages="fmriemo,torch,numpy,scipy,pandas,scikit-learn,nilearn,captum,jupyter-book,"
                                      "papermill,myst-nb", python=True, machine=True, current_time=False,
                             updated=False)
    except ImportError:
        versions = "(install the book's extras for the package list: pip install -e '.[book]')"
    return {"profile": params.get("profile", "full"),
            "data": (f"built-in surrogate, seed {seed}" if not data_dir
                     else f"challenge folder '{Path(data_dir).name}'"),
            "data fingerprint (SHA-256, first 16)": ds.fingerprint[:16],
            "fmriemo": __version__, "commit": commit, "device": device, "versions": versions}
