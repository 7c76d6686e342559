"""The paper's residual SE-CNN in its three forms: shapes, sizes, the SE block, ASB's gate, EBR's regions."""
import numpy as np
import pytest
import torch

from fmriemo.data import atlas
from fmriemo.models.registry import build_model, count_parameters, l2_penalty
from fmriemo.models.secnn import SEBlock


@pytest.mark.parametrize("method", ["vanilla", "asb", "ebr"])
@pytest.mark.parametrize("task, n", [("class", 3), ("level", 9)])
def test_output_shapes(method, task, n):
    torch.manual_seed(0)
    m = build_model(method, task).eval()
    assert m(torch.rand(5, 246, 25)).shape == (5, n)


def test_parameter_counts():
    asb = count_parameters(build_model("asb", "class"))
    van = count_parameters(build_model("vanilla", "class"))
    assert 1.85e6 < asb < 1.95e6  # "about 1.9 million" in the paper
    assert asb - van == 246 * 15 + 15 + 15 * 246 + 246  # the input SE block alone
    assert count_parameters(build_model("asb", "level")) - asb == 6 * 101  # 100 -> 9 instead of 100 -> 3


def test_se_block_math():
    torch.manual_seed(0)
    se = SEBlock(32)
    assert se.fc1.out_features == 2
    x = torch.rand(4, 32, 25)
    g = torch.sigmoid(se.fc2(torch.relu(se.fc1(x.mean(2)))))
    assert torch.allclose(se(x), x * g[:, :, None])


def test_asb_gates_read_through_a_method():
    torch.manual_seed(0)
    m = build_model("asb", "class").eval()
    x = torch.rand(7, 246, 25)
    g = m.input_gates(x)
    assert g.shape == (7, 246) and (g > 0).all() and (g < 1).all()
    assert torch.allclose(g, m.input_se.gates(x))
    # the forward pass scales each region by exactly these gates and leaves nothing on the module
    gated = m.a(x * g.unsqueeze(2))
    assert torch.allclose(m.a(x * m.input_gates(x).unsqueeze(2)), gated)
    assert not hasattr(m, "last_gates")
    assert build_model("vanilla", "class").input_gates(x) is None
    assert build_model("ebr", "class").input_gates(x) is None


def test_ebr_uses_exactly_the_32_regions():
    torch.manual_seed(0)
    m = build_model("ebr", "class").eval()
    assert m.a.conv.in_channels == 32
    assert m.regions.tolist() == list(atlas.EBR_INDICES)
    x = torch.rand(3, 246, 25)
    others = np.setdiff1d(np.arange(246), atlas.EBR_INDICES)
    y = x.clone()
    y[:, others] = torch.rand(3, len(others), 25)
    assert torch.allclose(m(x), m(y))  # non-EBR regions have no influence
    y[:, atlas.EBR_INDICES[5]] += 1.0
    assert not torch.allclose(m(x), m(y))


def test_l2_penalty_on_main_path_kernels_only():
    m = build_model("asb", "class")
    w = m.penalised_weights()
    assert any(p is m.a.conv.weight for p in w) and any(p is m.fc1.weight for p in w)
    assert not any(p is m.b_skip.conv.weight for p in w) and not any(p is m.out.weight for p in w)
    expected = 0.01 * sum(float((p.detach() ** 2).sum()) for p in w)
    assert l2_penalty(m, 0.01).item() == pytest.approx(expected, rel=1e-5)
