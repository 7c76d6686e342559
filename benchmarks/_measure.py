"""What the benchmarks measure a training against: this machine's own matmul rate, and the FLOPs a
model's convolutions and dense layers do. Shared by ``train_speed.py`` and ``paper_budget.py``."""
from __future__ import annotations

import time

import torch
from torch import nn


def matmul_flops(device: torch.device, n: int = 1024, seconds: float = 2.0) -> float:
    """Sustained float32 matmul FLOP/s of an n x n product."""
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    for _ in range(3):
        a @ b
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    sync()
    reps, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        a @ b
        reps += 1
    sync()
    return 2 * n ** 3 * reps / (time.perf_counter() - t0)


def forward_flops(model: nn.Module, x: torch.Tensor) -> float:
    """FLOPs (2 x multiply-adds) of the convolutions and dense layers for one forward pass of x."""
    total = 0.0

    def hook(mod, inp, out):
        nonlocal total
        if isinstance(mod, nn.Conv1d):
            total += 2 * out.numel() * (mod.in_channels // mod.groups) * mod.kernel_size[0]
        elif isinstance(mod, nn.Linear):
            total += 2 * out.numel() * mod.in_features

    hs = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv1d, nn.Linear))]
    model.eval()
    with torch.no_grad():
        model(x)
    for h in hs:
        h.remove()
    return total
