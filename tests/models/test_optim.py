"""The paper's optimiser: RAdam inside Lookahead."""
import pytest
import torch

from fmriemo.models.optim import Lookahead, ranger


def test_lookahead_interpolates_every_k_steps():
    p = torch.nn.Parameter(torch.zeros(1))
    opt = Lookahead(torch.optim.SGD([p], lr=1.0), k=6, alpha=0.5)
    for step in range(1, 7):
        opt.zero_grad()
        (p * 1.0).sum().backward()  # gradient 1: each fast step moves -1
        opt.step()
        if step < 6:
            assert p.item() == pytest.approx(-step)
    assert p.item() == pytest.approx(-3.0)  # slow 0 moved half way to fast -6
    assert isinstance(ranger([p], 1e-3).base, torch.optim.RAdam)
