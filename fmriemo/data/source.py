"""Which data a chapter or a command runs on: the user's challenge folder, or the built-in surrogate
generated into the store. The one place that turns ``data_dir`` / ``surrogate_seed`` / ``cache_dir``
into a :class:`~fmriemo.data.dataset.Dataset` and a name for it."""
from __future__ import annotations

from pathlib import Path

from ..core.errors import DataError
from ..core.store import cache_root
from .dataset import Dataset
from .loader import load_challenge
from .surrogate import ensure_surrogate

DEFAULT_SURROGATE_SEED = 2024


def data_folder(data_dir: str | Path | None = "", surrogate_seed: int = DEFAULT_SURROGATE_SEED,
                cache_dir: str | Path | None = "") -> Path:
    """The challenge folder to use: ``data_dir``, or the surrogate generated into the store."""
    if data_dir:
        return Path(data_dir).expanduser()
    return ensure_surrogate(cache_root(cache_dir), surrogate_seed)


def check_cache_outside(data_dir, cache_dir) -> None:
    """A cache folder inside the challenge folder would be read as part of the data (and refused as an
    entry the format does not have): refused first, naming both, before anything is written."""
    if not (data_dir and cache_dir):
        return
    data, cache = (Path(p).expanduser().resolve() for p in (data_dir, cache_dir))
    if cache == data or data in cache.parents:
        raise DataError(f"{cache_dir}: the cache folder is inside the challenge folder {data_dir}, whose every "
                        "entry is read as data; choose a cache folder outside it")


def open_dataset(data_dir: str | Path | None = "", labels_csv: str | Path | None = "",
                 surrogate_seed: int = DEFAULT_SURROGATE_SEED, cache_dir: str | Path | None = "") -> Dataset:
    """Load the real challenge folder ``data_dir``, or the built-in surrogate when it is empty.

    For the surrogate, the released Phase II labels are used unless another
    ``labels_csv`` is given, as a real user with the released CSV would.
    """
    check_cache_outside(data_dir, cache_dir)
    folder = data_folder(data_dir, surrogate_seed, cache_dir)
    if not data_dir and not labels_csv:
        labels_csv = folder / "released_labels.csv"
    return load_challenge(folder, labels_csv or None)


def data_name(data_dir: str | Path | None = "", surrogate_seed: int = DEFAULT_SURROGATE_SEED) -> str:
    """How the book names its data: the surrogate's seed, or the folder's name (never its path)."""
    return f"built-in surrogate, seed {surrogate_seed}" if not data_dir else f"challenge folder '{Path(data_dir).name}'"
