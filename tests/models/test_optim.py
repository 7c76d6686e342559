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


def _members(n_members, seed=0):
    """``n_members`` small models, each with its own initialisation, as stacked parameters and as modules."""
    from torch.func import stack_module_state
    models = []
    for m in range(n_members):
        torch.manual_seed(seed + m)
        models.append(torch.nn.Sequential(torch.nn.Conv1d(3, 4, 3), torch.nn.Flatten(), torch.nn.Linear(8, 2)))
    params, _ = stack_module_state(models)
    return models, params


def _grads(models, step):
    """A reproducible gradient per member and parameter (different for each)."""
    g = torch.Generator().manual_seed(1000 + step)
    return [[torch.randn(p.shape, generator=g) for p in m.parameters()] for m in models]


@pytest.mark.parametrize("schedule", ["together", "apart"])
def test_stacked_ranger_is_ranger_member_by_member(schedule):
    """Each member of StackedRanger follows torch's RAdam inside Lookahead exactly as a model trained
    alone, including members that take steps at different times (folds of different sizes): their step
    counts, RAdam's rectification switch (step 6) and Lookahead's sync (every 6 of the member's steps)."""
    from fmriemo.models.optim import StackedRanger
    models, params = _members(3)
    alone = [ranger(list(m.parameters()), 1e-2) for m in models]
    stacked = StackedRanger(params, 1e-2)
    names = list(params)
    for step in range(20):
        who = [0, 1, 2] if schedule == "together" or step % 3 else [0, 2]  # member 1 skips every third step
        grads = _grads(models, step)
        for m in who:
            alone[m].zero_grad()
            for p, g in zip(models[m].parameters(), grads[m]):
                p.grad = g.clone()
            alone[m].step()
        for k, n in enumerate(names):
            params[n].grad = torch.stack([grads[m][k] for m in range(3)])
        stacked.step(who)
    assert stacked.steps == ([20, 20, 20] if schedule == "together" else [20, 13, 20])
    for m, model in enumerate(models):
        for n, p in zip(names, model.parameters()):
            torch.testing.assert_close(params[n][m], p.detach(), rtol=1e-5, atol=1e-6)


def test_stacked_ranger_keep_drops_members_and_their_state():
    from fmriemo.models.optim import StackedRanger
    _, params = _members(3)
    opt = StackedRanger(params, 1e-2)
    for n, p in params.items():
        p.grad = torch.ones_like(p)
    opt.step([0, 1, 2])
    before = {n: opt.exp_avg[n][[0, 2]].clone() for n in params}
    kept = {n: p.detach()[[0, 2]].clone().requires_grad_(True) for n, p in params.items()}
    opt.keep([0, 2], kept)
    assert opt.steps == [1, 1]
    for n in params:
        torch.testing.assert_close(opt.exp_avg[n], before[n])
        assert opt.slow[n].shape[0] == 2
