"""The seed paper's residual 1D CNN with squeeze-and-excitation blocks, in PyTorch.

Input: [batch, regions, 25] (regions are channels, time is the convolution axis).
Every convolution has kernel 3, stride 1 and 'same' padding, and is followed by
an SE block and BatchNorm (conv -> [ReLU] -> SE -> BN). Main-path convolutions
and the two hidden dense layers carry the L2 penalty (see :func:`l2_penalty`);
shortcut convolutions carry none.

    a = BN(SE(ReLU(conv32(x))))
    b = BN(SE(ReLU(conv64(a))))  + BN(SE(conv64(x)))
    c = BN(SE(ReLU(conv128(b)))) + BN(SE(conv128(x))) + BN(SE(conv128(a)))
    head: flatten -> 512 ReLU -> 100 ReLU -> n_outputs (logits)

* ``Vanilla``: the network above on all 246 regions.
* ``ASB``: an SE block over the 246 input regions first ("automatic selection
  of brain regions"); its per-trial gates are read with ``input_gates(x)``.
* ``EBR``: the network on the 32 emotion-related regions only.

The three are registered here (:mod:`fmriemo.models.registry`) as the paper's models: per-trial
min-max input, the paper's learning rates, the profile's paper budgets.
"""
from __future__ import annotations

import torch
from torch import nn

from ..data import atlas
from ..data.dataset import N_SECONDS
from .registry import ModelSpec, register

__all__ = ["SEBlock", "ConvUnit", "ResSECNN"]


class SEBlock(nn.Module):
    """Squeeze (mean over time) and excitation (C -> C//r ReLU -> C sigmoid): scales each channel.

    Parameters
    ----------
    channels : int
        Channels C.
    reduction : int, default=16
        r; the hidden layer has at least one unit.
    """

    def __init__(self, channels: int, reduction: int = 16):
        super().__init__()
        hidden = max(1, channels // reduction)
        self.fc1 = nn.Linear(channels, hidden)
        self.fc2 = nn.Linear(hidden, channels)
        nn.init.kaiming_normal_(self.fc1.weight, nonlinearity="relu")
        nn.init.xavier_uniform_(self.fc2.weight)
        nn.init.zeros_(self.fc1.bias)
        nn.init.zeros_(self.fc2.bias)

    def gates(self, x: torch.Tensor) -> torch.Tensor:
        """Per-channel weights in (0, 1), shape [batch, channels]."""
        return torch.sigmoid(self.fc2(torch.relu(self.fc1(x.mean(dim=2)))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gates(x).unsqueeze(2)


class ConvUnit(nn.Module):
    """conv(k=3, same) -> [ReLU] -> SE -> BatchNorm.

    Parameters
    ----------
    c_in : int
        Input channels.
    c_out : int
        Output channels.
    main : bool
        A main-path unit: with ReLU, and its kernel carries the L2 penalty.
    """

    def __init__(self, c_in: int, c_out: int, main: bool):
        super().__init__()
        self.main = main
        self.conv = nn.Conv1d(c_in, c_out, kernel_size=3, padding=1)
        self.se = SEBlock(c_out)
        # Keras defaults: momentum 0.99 (torch 0.01), epsilon 1e-3
        self.bn = nn.BatchNorm1d(c_out, eps=1e-3, momentum=0.01)
        if main:
            nn.init.kaiming_uniform_(self.conv.weight, nonlinearity="relu")
        else:
            nn.init.xavier_uniform_(self.conv.weight)
        nn.init.zeros_(self.conv.bias)

    def forward(self, x):
        h = self.conv(x)
        if self.main:
            h = torch.relu(h)
        return self.bn(self.se(h))


class ResSECNN(nn.Module):
    """The paper's residual SE-CNN body and dense head (Vanilla, ASB and EBR).

    Parameters
    ----------
    n_out : int
        Outputs: 3 classes or 9 levels.
    regions : array-like of int or None, default=None
        Input rows the model reads (EBR's 32); None: all ``n_regions``.
    input_gate : bool, default=False
        Add the ASB input SE block (one learned weight per region and trial).
    n_time : int, default=N_SECONDS
        Seconds per trial.
    widths : tuple of int, default=(32, 64, 128)
        Channels of the three residual stages.
    hidden : tuple of int, default=(512, 100)
        Units of the dense layers.
    dropout : float, default=0.0
        Dropout after each hidden dense layer.
    n_regions : int, default=atlas.N_REGIONS
        Regions per trial: the atlas's 246 unless data of another shape is fitted, as scikit-learn's
        estimator checks do.
    """

    def __init__(self, n_out: int, regions=None, input_gate: bool = False, n_time: int = N_SECONDS,
                 widths=(32, 64, 128), hidden=(512, 100), dropout: float = 0.0, n_regions: int = atlas.N_REGIONS):
        super().__init__()
        if regions is not None:
            self.register_buffer("regions", torch.as_tensor(list(regions), dtype=torch.long))
        else:
            self.regions = None
        c_in = n_regions if regions is None else len(regions)
        w1, w2, w3 = widths
        self.input_se = SEBlock(c_in) if input_gate else None
        self.a = ConvUnit(c_in, w1, main=True)
        self.b_main = ConvUnit(w1, w2, main=True)
        self.b_skip = ConvUnit(c_in, w2, main=False)
        self.c_main = ConvUnit(w2, w3, main=True)
        self.c_skip_x = ConvUnit(c_in, w3, main=False)
        self.c_skip_a = ConvUnit(w1, w3, main=False)
        self.drop = nn.Dropout(dropout)
        self.fc1 = nn.Linear(w3 * n_time, hidden[0])
        self.fc2 = nn.Linear(hidden[0], hidden[1])
        self.out = nn.Linear(hidden[1], n_out)
        for fc in (self.fc1, self.fc2):
            nn.init.kaiming_uniform_(fc.weight, nonlinearity="relu")
            nn.init.zeros_(fc.bias)
        nn.init.xavier_uniform_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def input_gates(self, x: torch.Tensor) -> torch.Tensor | None:
        """The ASB block's weight of each input region for each trial of ``x``, shape [batch, regions]
        (None for a model without the block): what the paper maps onto the brain."""
        if self.input_se is None:
            return None
        return self.input_se.gates(x if self.regions is None else x.index_select(1, self.regions))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.regions is not None:
            x = x.index_select(1, self.regions)
        if self.input_se is not None:
            x = x * self.input_se.gates(x).unsqueeze(2)
        a = self.a(x)
        b = self.b_main(a) + self.b_skip(x)
        c = self.c_main(b) + self.c_skip_x(x) + self.c_skip_a(a)
        h = self.drop(torch.relu(self.fc1(c.flatten(1))))
        h = self.drop(torch.relu(self.fc2(h)))
        return self.out(h)

    def penalised_weights(self):
        """The kernels that carry the paper's L2 penalty: main-path convs and the hidden dense layers."""
        return [self.a.conv.weight, self.b_main.conv.weight, self.c_main.conv.weight,
                self.fc1.weight, self.fc2.weight]


register(ModelSpec("vanilla", ResSECNN, label="Vanilla", paper=True))
register(ModelSpec("asb", lambda n_out, **kw: ResSECNN(n_out, input_gate=True, **kw), label="ASB", paper=True))
register(ModelSpec("ebr", lambda n_out, **kw: ResSECNN(n_out, regions=atlas.EBR_INDICES, **kw), label="EBR",
                   paper=True, input_regions=atlas.N_REGIONS))
