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
  of brain regions"); its per-trial gates are kept in ``last_gates``.
* ``EBR``: the network on the 32 emotion-related regions only.
"""
from __future__ import annotations

import torch
from torch import nn

from . import atlas
from .data import N_SECONDS, n_outputs

PAPER_METHODS = ("vanilla", "asb", "ebr")
METHODS = PAPER_METHODS  # the paper's three; "compact" is this book's own model (see CompactNet)
ALL_METHODS = PAPER_METHODS + ("compact",)


class SEBlock(nn.Module):
    """Squeeze (mean over time) and excitation (C -> C//r ReLU -> C sigmoid); scales each channel."""

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
    """conv(k=3, same) -> [ReLU] -> SE -> BatchNorm. ``main`` units use ReLU and the L2 penalty."""

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
    """The shared residual SE-CNN body and dense head.

    ``input_gate=True`` adds the ASB input SE block; ``regions`` selects input
    rows (None: all 246).
    """

    def __init__(self, n_out: int, regions=None, input_gate: bool = False, n_time: int = N_SECONDS,
                 widths=(32, 64, 128), hidden=(512, 100), dropout: float = 0.0):
        super().__init__()
        if regions is not None:
            self.register_buffer("regions", torch.as_tensor(list(regions), dtype=torch.long))
        else:
            self.regions = None
        c_in = atlas.N_REGIONS if regions is None else len(regions)
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
        self.last_gates: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.regions is not None:
            x = x.index_select(1, self.regions)
        if self.input_se is not None:
            g = self.input_se.gates(x)
            self.last_gates = g.detach()
            x = x * g.unsqueeze(2)
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


class CompactNet(nn.Module):
    """This book's model for new participants, designed from the audit rather than the paper.

    The audit found that (1) the information that generalises across people is
    a change within the trial relative to the participant's own baseline, so
    the input is percent signal change, not min-max; (2) a 1.9-million-
    parameter network on 384-480 trials overfits whoever it trains on. So:
    a few temporal filters shared by all regions (learned weightings of the 25
    seconds, e.g. "video minus fixation"), dropout on regions and features,
    and one linear read-out: about 3,000 parameters. Trained with the
    paper's recipe (Ranger, L2 on both weight matrices, checkpoint on
    validation participants); ensembled over seeds in the chapters.
    """

    def __init__(self, n_out: int, n_regions: int = atlas.N_REGIONS, n_time: int = N_SECONDS,
                 n_filters: int = 3, dropout: float = 0.5, region_dropout: float = 0.2):
        super().__init__()
        self.temporal = nn.Linear(n_time, n_filters, bias=False)
        self.norm = nn.BatchNorm1d(n_regions * n_filters)  # standardises each feature, as a linear model would
        self.drop_in = nn.Dropout(region_dropout)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(n_regions * n_filters, n_out)
        nn.init.normal_(self.temporal.weight, 0.0, 1.0 / n_time)
        nn.init.xavier_uniform_(self.out.weight)
        nn.init.zeros_(self.out.bias)
        self.last_gates: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.temporal(self.drop_in(x))           # [batch, regions, filters]
        return self.out(self.drop(self.norm(h.flatten(1))))

    def penalised_weights(self):
        return [self.temporal.weight, self.out.weight]


#: the preprocessing each method is trained with unless told otherwise
DEFAULT_PREPROCESS = {"vanilla": "minmax", "asb": "minmax", "ebr": "minmax", "compact": "pct"}
#: learning rates that differ from the paper's (the compact model is small enough for a larger step)
DEFAULT_LR = {"compact": {"class": 1e-2, "level": 3e-3}}


def l2_penalty(model: nn.Module, coef: float = 0.01) -> torch.Tensor:
    """Keras-style L2 kernel regulariser: ``coef * sum(w**2)`` over the penalised kernels."""
    return coef * sum((w ** 2).sum() for w in model.penalised_weights())


def build_model(method: str, task: str, **kwargs) -> nn.Module:
    """The model of a method ("vanilla", "asb", "ebr", or this book's "compact") for a task
    ("class": 3 outputs, "level": 9)."""
    n = n_outputs(task)
    if method == "compact":
        return CompactNet(n, **kwargs)
    if method == "vanilla":
        return ResSECNN(n, **kwargs)
    if method == "asb":
        return ResSECNN(n, input_gate=True, **kwargs)
    if method == "ebr":
        return ResSECNN(n, regions=atlas.EBR_INDICES, **kwargs)
    raise ValueError(f"unknown method {method!r}; expected one of {', '.join(ALL_METHODS)}")


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def layer_table(model: ResSECNN):
    """A pandas table of the model's named modules with their parameter counts."""
    import pandas as pd
    rows = []
    for name, mod in model.named_children():
        if isinstance(mod, nn.Module):
            n = count_parameters(mod)
            if n:
                rows.append({"layer": name, "type": type(mod).__name__, "parameters": n})
    return pd.DataFrame(rows)
