"""The Brainnetome 246-region atlas table shipped with the package.

Rows are in the order of the challenge's fMRI matrices (row 0 = ``A8m_L``).
See ``fmriemo/resources/README.md`` for provenance and citation.
"""
from __future__ import annotations

from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd

__all__ = [
    "N_REGIONS", "EBR_INDICES", "regions", "region_names", "coordinates", "lobes", "gyri", "ebr_indices",
    "ebr_unpaired", "signal_stats",
]

N_REGIONS = 246

#: The 32 "emotion-related" regions fed to the EBR model, as 0-based rows of the
#: 246-region matrix, exactly as the seed paper's authors listed them (they
#: attribute the set to Lee et al. 2023). Four entries have no partner in the
#: other hemisphere (A8m_R, A9m_L, A9/46d_L, IFJ_R); the list is kept as
#: published rather than "repaired".
EBR_INDICES: tuple[int, ...] = (
    1, 10, 14, 17, 42, 43, 54, 55, 86, 87, 104, 105, 106, 107, 134, 135,
    140, 141, 142, 143, 150, 151, 158, 159, 182, 183, 190, 191, 194, 195,
    202, 203,
)


@lru_cache(maxsize=None)
def _table() -> pd.DataFrame:
    with resources.files("fmriemo.resources").joinpath("bn246_regions.csv").open() as fh:
        df = pd.read_csv(fh)
    if len(df) != N_REGIONS or not (df["index"].to_numpy() == np.arange(N_REGIONS)).all():
        raise RuntimeError("packaged bn246_regions.csv is corrupt (expected rows 0..245)")
    return df


def regions() -> pd.DataFrame:
    """The Brainnetome region table.

    Returns
    -------
    table : pandas.DataFrame
        A copy: index, name, lobe, gyrus, area, hemisphere, x, y, z, ...
    """
    return _table().copy()


def region_names() -> list[str]:
    """The 246 short region names.

    Returns
    -------
    names : list of str
        In matrix row order.
    """
    return _table()["name"].tolist()


def coordinates() -> np.ndarray:
    """The regions' MNI152 centroids.

    Returns
    -------
    xyz : ndarray of shape (246, 3)
        Millimetres.
    """
    return _table()[["x", "y", "z"]].to_numpy(dtype=float)


def lobes() -> list[str]:
    """The lobe of each region.

    Returns
    -------
    lobes : list of str
        In atlas order.
    """
    return _table()["lobe"].tolist()


def gyri() -> list[str]:
    """The gyrus abbreviation of each region (e.g. ``"SFG"``).

    Returns
    -------
    gyri : list of str
        In atlas order.
    """
    return [g.split(",")[0].strip() for g in _table()["gyrus"]]


def ebr_indices() -> np.ndarray:
    """The 32 regions of the paper's EBR model.

    Returns
    -------
    indices : ndarray of int
        Row indices.
    """
    return np.asarray(EBR_INDICES, dtype=int)


def ebr_unpaired() -> list[str]:
    """EBR regions whose other-hemisphere homologue is not in the set.

    Returns
    -------
    names : list of str
    """
    names = region_names()
    chosen = {names[i] for i in EBR_INDICES}
    out = []
    for n in sorted(chosen, key=names.index):
        base, hemi = n.rsplit("_", 1)
        other = f"{base}_{'R' if hemi == 'L' else 'L'}"
        if other not in chosen:
            out.append(n)
    return out


@lru_cache(maxsize=None)
def signal_stats() -> pd.DataFrame:
    """Per-region summary statistics of the real challenge fMRI (the surrogate is calibrated to them).

    Returns
    -------
    stats : pandas.DataFrame
        One row per region.
    """
    with resources.files("fmriemo.resources").joinpath("bn246_signal_stats.csv").open() as fh:
        return pd.read_csv(fh)
