"""This book's Compact model: a few thousand parameters, percent-change input, its own budget rows."""
import torch

from fmriemo.models.registry import build_model, count_parameters, l2_penalty, spec


def test_compact_model():
    torch.manual_seed(0)
    m = build_model("compact", "class").eval()
    assert m(torch.rand(4, 246, 25)).shape == (4, 3)
    assert count_parameters(m) < 5000
    assert l2_penalty(m, 0.01).item() > 0
    assert spec("compact").preprocess == "pct" and spec("asb").preprocess == "minmax"
    assert spec("compact").budget == {"class": "compact", "level": "compact_level"} and not spec("compact").paper

