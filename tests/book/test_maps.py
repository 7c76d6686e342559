"""Brain maps of per-region values from the Brainnetome centroids."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from fmriemo.book import maps  # noqa: E402
from fmriemo.data import atlas  # noqa: E402


def test_a_map_needs_one_value_per_region():
    with pytest.raises(ValueError, match="one entry per region"):
        maps.region_markers(np.zeros(10))
    display = maps.region_markers(np.linspace(0, 1, 246), title="ramp", display_mode="z")
    assert display is not None
    plt.close("all")


def test_top_regions_are_named_and_ranked():
    values = np.zeros(246)
    values[[5, 200]] = [2.0, 3.0]
    top = maps.top_regions(values, k=2)
    assert top["index"].tolist() == [200, 5] and top["rank"].tolist() == [1, 2]
    assert list(top.columns) == ["rank", "index", "name", "gyrus", "lobe", "hemisphere", "value"]


def test_the_interactive_view_names_the_largest_regions():
    values = np.zeros(246)
    values[7] = 1.0
    html = maps.interactive_markers(values, title="one", n_labels=1).get_iframe()
    names = atlas.region_names()
    assert f"{names[7]}: 1.000" in html and names[8] not in html  # the largest named, the others not
