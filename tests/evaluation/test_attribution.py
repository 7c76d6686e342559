"""Attribution maps: shapes, and that they find the one region a model actually uses."""
import numpy as np
import torch
from torch import nn

from fmriemo.evaluation import attribution
from fmriemo.models.registry import build_model


class OneRegion(nn.Module):
    """Logits depend on region 7 only: a model whose true importance map is known."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.tensor([-1.0, 0.0, 1.0]))

    def forward(self, x):
        return x[:, 7, :].mean(1, keepdim=True) * self.w * 5


def test_ig_and_occlusion_find_the_used_region():
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, (20, 246, 25)).astype(np.float32)
    model = OneRegion()
    ig = attribution.integrated_gradients(model, X, n_steps=8)
    occ = attribution.occlusion(model, X)
    assert ig.shape == occ.shape == (246,)
    assert ig.argmax() == 7 and np.allclose(np.delete(ig, 7), 0)
    assert occ.argmax() == 7 and np.allclose(np.delete(occ, 7), 0, atol=1e-6)


def test_region_maps_of_asb():
    torch.manual_seed(0)
    model = build_model("asb", "class").eval()
    X = np.random.default_rng(1).uniform(0, 1, (6, 246, 25)).astype(np.float32)
    maps = attribution.region_maps(model, X, ("se", "ig", "occlusion"), n_steps=4)
    assert set(maps) == {"se", "ig", "occlusion"} and all(v.shape == (246,) for v in maps.values())
    assert ((maps["se"] > 0) & (maps["se"] < 1)).all()
    import pytest
    with pytest.raises(ValueError, match="no input SE gate"):
        attribution.se_weights(build_model("vanilla", "class"), X)
