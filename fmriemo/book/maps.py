"""Brain maps of per-region values on the MNI glass brain (nilearn), from the
Brainnetome centroids shipped with the package."""
from __future__ import annotations

import matplotlib
import numpy as np
from matplotlib import colors
import pandas as pd

from ..data import atlas

__all__ = ["region_markers", "highlight_regions", "interactive_markers", "top_regions"]


def region_markers(values, title: str = "", cmap: str = "viridis", vmin=None, vmax=None,
                   node_size=None, display_mode: str = "lzry", figure=None, colorbar: bool = True, axes=None):
    """All 246 regions as markers on a glass brain, coloured by their values.

    The colour range defaults to the 2nd-98th percentile of the values, so the spread between regions
    shows instead of one saturated colour.

    Parameters
    ----------
    values : array-like of shape (246,)
        One value per region.
    title : str, default=""
        The title.
    cmap : str, default="viridis"
        The colour map.
    vmin, vmax : float or None, default=None
        The colour range; None: the 2nd and 98th percentiles.
    node_size : float or array-like or None, default=None
        Marker sizes; None: 25.
    display_mode : str, default="lzry"
        nilearn's views.
    figure : matplotlib.figure.Figure or None, default=None
        Where to draw.
    colorbar : bool, default=True
        Draw a colour bar.
    axes : matplotlib.axes.Axes or None, default=None
        Where to draw.

    Returns
    -------
    display : nilearn.plotting.displays.OrthoProjector
    """
    from nilearn import plotting  # deferred: nilearn takes seconds to import; only the map chapters draw

    values = np.asarray(values, float)
    if values.shape != (atlas.N_REGIONS,):
        raise ValueError(f"values must have one entry per region ({atlas.N_REGIONS}), got {values.shape}")
    lo, hi = np.nanpercentile(values, [2, 98])
    vmin = lo if vmin is None else vmin
    vmax = hi if vmax is None else vmax
    if vmax <= vmin:
        vmax = vmin + 1e-9
    size = 25 if node_size is None else node_size
    return plotting.plot_markers(values, atlas.coordinates(), node_size=size, node_cmap=cmap,
                                 node_vmin=vmin, node_vmax=vmax, display_mode=display_mode,
                                 title=title, figure=figure, axes=axes, colorbar=colorbar, alpha=0.85)


def highlight_regions(indices, title: str = "", display_mode: str = "lzry", figure=None):
    """All regions in grey with some highlighted (bigger, coloured).

    Parameters
    ----------
    indices : array-like of int
        The regions highlighted.
    title : str, default=""
        The title.
    display_mode : str, default="lzry"
        nilearn's views.
    figure : matplotlib.figure.Figure or None, default=None
        Where to draw.

    Returns
    -------
    display : nilearn.plotting.displays.OrthoProjector
    """
    mask = np.zeros(atlas.N_REGIONS)
    mask[np.asarray(indices, int)] = 1.0
    size = np.where(mask > 0, 60, 10)
    return region_markers(mask, title=title, cmap="coolwarm", vmin=-0.2, vmax=1.0, node_size=size,
                          display_mode=display_mode, figure=figure, colorbar=False)


def interactive_markers(values, title: str = "", cmap: str = "viridis", size: float = 6.0, n_labels: int = 10):
    """An interactive 3-D view of region values for HTML pages (nilearn ``view_markers``).

    Parameters
    ----------
    values : array-like of shape (246,)
        One value per region.
    title : str, default=""
        The title.
    cmap : str, default="viridis"
        The colour map.
    size : float, default=6.0
        Marker size.
    n_labels : int, default=10
        The regions with the largest values that are named (naming all 246 hides the brain).

    Returns
    -------
    view : nilearn.plotting.html_connectome.ConnectomeView
    """
    from nilearn import plotting  # deferred: see region_markers

    values = np.asarray(values, float)
    lo, hi = np.nanpercentile(values, [2, 98])
    norm = colors.Normalize(vmin=lo, vmax=max(hi, lo + 1e-9))
    rgba = [colors.to_hex(c) for c in matplotlib.colormaps[cmap](norm(values))]
    top = set(np.argsort(-values)[:n_labels].tolist())
    labels = [f"{n}: {v:.3f}" if i in top else "" for i, (n, v) in enumerate(zip(atlas.region_names(), values))]
    return plotting.view_markers(atlas.coordinates(), marker_color=rgba, marker_size=size,
                                 marker_labels=labels, title=title)


def top_regions(values, k: int = 20, ascending: bool = False) -> pd.DataFrame:
    """The regions with the largest (or smallest) values.

    Parameters
    ----------
    values : array-like of shape (246,)
        One value per region.
    k : int, default=20
        Regions listed.
    ascending : bool, default=False
        The smallest instead.

    Returns
    -------
    table : pandas.DataFrame
        rank, index, name, gyrus, lobe, hemisphere and value.
    """
    t = atlas.regions()
    t["value"] = np.asarray(values, float)
    t = t.sort_values("value", ascending=ascending).head(k)
    t["gyrus"] = t["gyrus"].str.split(",").str[1].str.strip()
    t.insert(0, "rank", np.arange(1, len(t) + 1))
    return t[["rank", "index", "name", "gyrus", "lobe", "hemisphere", "value"]].reset_index(drop=True)
