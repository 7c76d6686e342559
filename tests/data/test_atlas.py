"""The Brainnetome table shipped with the package and the EBR set as published."""
import numpy as np

from fmriemo.data import atlas


def test_region_table():
    t = atlas.regions()
    assert len(t) == 246 and t["name"].iloc[0] == "A8m_L" and t["name"].iloc[-1] == "lPFtha_R"
    xyz = atlas.coordinates()
    assert xyz.shape == (246, 3)
    # left-hemisphere regions have negative x
    left = np.array([n.endswith("_L") for n in atlas.region_names()])
    assert (xyz[left, 0] < 0).mean() > 0.95 and (xyz[~left, 0] > 0).mean() > 0.95
    assert set(atlas.lobes()) >= {"Frontal Lobe", "Occipital Lobe", "Subcortical Nuclei"}
    assert atlas.gyri()[0] == "SFG"


def test_ebr_indices_as_published():
    idx = atlas.ebr_indices()
    assert len(idx) == 32 and len(set(idx)) == 32
    names = [atlas.region_names()[i] for i in idx]
    assert names[:4] == ["A8m_R", "A9m_L", "A9/46d_L", "IFJ_R"]
    assert atlas.ebr_unpaired() == ["A8m_R", "A9m_L", "A9/46d_L", "IFJ_R"]
