"""The paper's optimiser: RAdam wrapped in Lookahead ("Ranger")."""
from __future__ import annotations

import torch

__all__ = ["Lookahead", "ranger", "StackedRanger"]


class Lookahead(torch.optim.Optimizer):
    """Lookahead (Zhang et al. 2019) around any optimiser.

    Every ``k`` steps the slow weights move ``alpha`` of the way to the fast weights, and the fast
    weights restart there.

    Parameters
    ----------
    base : torch.optim.Optimizer
        The fast optimiser.
    k : int, default=6
        Steps between syncs.
    alpha : float, default=0.5
        The slow weights' step, in (0, 1].
    """

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
    """Ranger as the authors used it: RAdam wrapped in Lookahead (sync period 6, slow step 0.5).

    Parameters
    ----------
    params : iterable
        The parameters.
    lr : float
        RAdam's learning rate.

    Returns
    -------
    optimiser : Lookahead
    """
    return Lookahead(torch.optim.RAdam(params, lr=lr, foreach=True), k=6, alpha=0.5)


class StackedRanger:
    """Ranger for several models whose parameters are stacked along a first axis.

    The parameters are ``torch.func.stack_module_state``'s; RAdam inside Lookahead, each member with its
    own step count, so that members that take different numbers of steps (training sets of different
    sizes, a member that stopped) keep exactly the optimiser state they would have alone. The arithmetic
    is that of ``torch.optim.RAdam`` (its multi-tensor path, no weight decay) and of :class:`Lookahead`,
    member by member; ``tests/models/test_optim.py`` checks it against them. The scalars that depend on a
    member's step are computed on the host in double precision, as RAdam does, so a step never waits on
    the device.

    Parameters
    ----------
    params : dict of str to torch.Tensor
        Stacked parameters, members first.
    lr : float
        RAdam's learning rate.
    betas : tuple of float, default=(0.9, 0.999)
        RAdam's moment decays.
    eps : float, default=1e-8
        RAdam's epsilon.
    k : int, default=6
        Lookahead's steps between syncs.
    alpha : float, default=0.5
        Lookahead's slow step.
    """

    def __init__(self, params: dict, lr: float, betas=(0.9, 0.999), eps: float = 1e-8, k: int = 6,
                 alpha: float = 0.5):
        self.params, self.lr, self.eps, self.k, self.alpha = params, lr, eps, k, alpha
        self.beta1, self.beta2 = betas
        self.exp_avg = {n: torch.zeros_like(p) for n, p in params.items()}
        self.exp_avg_sq = {n: torch.zeros_like(p) for n, p in params.items()}
        self.slow = {n: p.detach().clone() for n, p in params.items()}
        self.steps = [0] * next(iter(params.values())).shape[0]

    def _scalars(self, step: int) -> tuple[float, float]:
        """RAdam's two per-step factors for a member at ``step``: the rectified one (0 while the
        variance is not tractable) and the unrectified one (0 once it is)."""
        b1, b2, lr = self.beta1, self.beta2, self.lr
        rho_inf = 2 / (1 - b2) - 1
        rho_t = rho_inf - 2 * step * (b2 ** step) / (1 - b2 ** step)
        rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5 if rho_t > 5 \
            else 0
        bc1 = 1 - b1 ** step
        unrect = (lr * (0 if rect > 0 else 1.0) / bc1) * -1
        return ((1 - b2 ** step) ** 0.5) * (lr * rect / bc1) * -1, unrect

    def _radam(self, params: list, grads: list, exp_avg: list, exp_avg_sq: list, rect, unrect) -> None:
        """RAdam's update of ``params`` in place (multi-tensor, as RAdam's ``foreach`` path), with its two
        per-step factors (:meth:`_scalars`) as tensors, one per parameter, shaped to broadcast over the
        stacked members."""
        torch._foreach_lerp_(exp_avg, grads, 1 - self.beta1)
        torch._foreach_mul_(exp_avg_sq, self.beta2)
        torch._foreach_addcmul_(exp_avg_sq, grads, grads, value=1 - self.beta2)
        buffer = torch._foreach_sqrt(exp_avg_sq)
        torch._foreach_add_(buffer, self.eps)
        torch._foreach_div_(buffer, rect)
        torch._foreach_reciprocal_(buffer)
        torch._foreach_add_(buffer, unrect)
        torch._foreach_addcmul_(params, exp_avg, buffer)

    def _lookahead(self, params: list, slow: list) -> None:
        """Lookahead's sync: the slow weights move ``alpha`` of the way to the fast ones, which take them."""
        torch._foreach_add_(slow, torch._foreach_sub(params, slow), alpha=self.alpha)
        torch._foreach_copy_(params, slow)

    def zero_grad(self) -> None:
        for p in self.params.values():
            p.grad = None

    @torch.no_grad()
    def step(self, members: list[int]) -> None:
        """One step of the members at positions ``members`` (their gradients in ``.grad``); the others
        are left exactly as they are. The per-member factors go to the device in one copy, and the
        updates of all parameters are multi-tensor (``torch._foreach_*``) operations, as in RAdam's own
        ``foreach`` path: a handful of kernels per step however many parameters the model has."""
        names = [n for n, p in self.params.items() if p.grad is not None]  # RAdam skips what the loss misses
        if not names:
            return
        device = self.params[names[0]].device
        everyone = len(members) == len(self.steps)
        idx = None if everyone else torch.as_tensor(members, device=device)
        for m in members:
            self.steps[m] += 1
        factors = torch.tensor([self._scalars(self.steps[m]) for m in members],
                               dtype=self.params[names[0]].dtype).T.contiguous().to(device, non_blocking=True)

        def shaped(row: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
            return row.view((len(members),) + (1,) * (p.ndim - 1))

        def pick(ts: list) -> list:
            return ts if everyone else [t[idx] for t in ts]

        params = [self.params[n] for n in names]
        grads = pick([p.grad for p in params])
        exp_avg = pick([self.exp_avg[n] for n in names])
        exp_avg_sq = pick([self.exp_avg_sq[n] for n in names])
        moved = pick(params)
        self._radam(moved, grads, exp_avg, exp_avg_sq, [shaped(factors[0], p) for p in params],
                    [shaped(factors[1], p) for p in params])
        if not everyone:
            for n, p, a, s, q in zip(names, params, exp_avg, exp_avg_sq, moved):
                self.exp_avg[n].index_copy_(0, idx, a)
                self.exp_avg_sq[n].index_copy_(0, idx, s)
                p.index_copy_(0, idx, q)
        synced = [m for m in members if self.steps[m] % self.k == 0]  # Lookahead, on each member's own count
        if not synced:
            return
        all_params = list(self.params.values())
        slow = list(self.slow.values())
        if len(synced) == len(self.steps):
            self._lookahead(all_params, slow)
            return
        sel = torch.as_tensor(synced, device=device)
        for n, p in self.params.items():
            s = self.slow[n][sel]
            s.add_(p[sel] - s, alpha=self.alpha)
            self.slow[n].index_copy_(0, sel, s)
            p.index_copy_(0, sel, s)

    def keep(self, positions: list[int], params: dict) -> None:
        """Keep only the members at ``positions`` (the others stopped), over ``params``, the stacked
        parameters already cut to them."""
        sel = torch.as_tensor(positions, device=next(iter(params.values())).device)
        self.params = params
        for state in (self.exp_avg, self.exp_avg_sq, self.slow):
            for n in list(state):
                state[n] = state[n][sel].clone()
        self.steps = [self.steps[i] for i in positions]
