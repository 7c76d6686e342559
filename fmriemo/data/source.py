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

__all__ = ["DEFAULT_SURROGATE_SEED", "data_folder", "open_dataset", "data_name"]

DEFAULT_SURROGATE_SEED = 2024


def data_folder(data_dir: str | Path | None = "", surrogate_seed: int = DEFAULT_SURROGATE_SEED,
                cache_dir: str | Path | None = "") -> Path:
    """The challenge folder to use: ``data_dir``, or the surrogate generated into the store.

    Parameters
    ----------
    data_dir : str or pathlib.Path, default=""
        The user's challenge folder; empty: the built-in surrogate.
    surrogate_seed : int, default=2024
        Which surrogate.
    cache_dir : str or pathlib.Path, default=""
        The store the surrogate is generated into; empty: ``$FMRIEMO_CACHE`` or the user cache.

    Returns
    -------
    folder : pathlib.Path
    """
    if data_dir:
        return Path(data_dir).expanduser()
    return ensure_surrogate(cache_root(cache_dir), surrogate_seed)


def _check_cache_outside(data_dir, cache_dir) -> None:
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

    Parameters
    ----------
    data_dir : str or pathlib.Path, default=""
        The challenge folder; empty: the surrogate, generated on first use.
    labels_csv : str or pathlib.Path, default=""
        A released-labels CSV; for the surrogate, its released Phase II labels unless another is given,
        as a real user with the released CSV would.
    surrogate_seed : int, default=2024
        Which surrogate.
    cache_dir : str or pathlib.Path, default=""
        The store; refused when inside ``data_dir``.

    Returns
    -------
    dataset : fmriemo.data.dataset.Dataset

    Examples
    --------
    >>> from fmriemo.data.source import open_dataset
    >>> ds = open_dataset()  # doctest: +SKIP
    >>> ds.X.shape  # doctest: +SKIP
    (600, 246, 25)
    """
    _check_cache_outside(data_dir, cache_dir)
    folder = data_folder(data_dir, surrogate_seed, cache_dir)
    if not data_dir and not labels_csv:
        labels_csv = folder / "released_labels.csv"
    return load_challenge(folder, labels_csv or None)


def data_name(data_dir: str | Path | None = "", surrogate_seed: int = DEFAULT_SURROGATE_SEED) -> str:
    """How the book names its data: the surrogate's seed, or the folder's name (never its path).

    Parameters
    ----------
    data_dir : str or pathlib.Path, default=""
        The challenge folder; empty: the surrogate.
    surrogate_seed : int, default=2024
        Which surrogate.

    Returns
    -------
    name : str
    """
    return f"built-in surrogate, seed {surrogate_seed}" if not data_dir else f"challenge folder '{Path(data_dir).name}'"
