"""The paper's optimiser: RAdam wrapped in Lookahead ("Ranger")."""
from __future__ import annotations

import torch


class Lookahead(torch.optim.Optimizer):
    """Lookahead (Zhang et al. 2019) around any optimiser: every ``k`` steps the slow
    weights move ``alpha`` of the way to the fast weights, and the fast weights restart there."""

    def __init__(self, base: torch.optim.Optimizer, k: int = 6, alpha: float = 0.5):
        if k < 1 or not 0.0 < alpha <= 1.0:
            raise ValueError("Lookahead needs k >= 1 and 0 < alpha <= 1")
        self.base, self.k, self.alpha, self._n = base, k, alpha, 0
        self.param_groups = base.param_groups
        self.defaults = base.defaults
        self.state = base.state
        self.slow = [[p.detach().clone() for p in g["params"]] for g in base.param_groups]

    def zero_grad(self, set_to_none: bool = True):
        self.base.zero_grad(set_to_none=set_to_none)

    @torch.no_grad()
    def step(self, closure=None):
        loss = self.base.step(closure)
        self._n += 1
        if self._n % self.k == 0:
            for group, slows in zip(self.base.param_groups, self.slow):
                for p, s in zip(group["params"], slows):
                    s.add_(p.detach() - s, alpha=self.alpha)
                    p.copy_(s)
        return loss

    def state_dict(self):
        return {"base": self.base.state_dict(), "slow": self.slow, "n": self._n}

    def load_state_dict(self, sd):
        self.base.load_state_dict(sd["base"])
        self.slow, self._n = sd["slow"], sd["n"]


def ranger(params, lr: float) -> Lookahead:
    """Ranger as the authors used it: RAdam wrapped in Lookahead (sync period 6, slow step 0.5)."""
    return Lookahead(torch.optim.RAdam(params, lr=lr, foreach=True), k=6, alpha=0.5)
