"""This book's own model for new participants (chapter 7), registered as ``compact``."""
from __future__ import annotations

import torch
from torch import nn

from ..data import atlas
from ..data.dataset import N_SECONDS
from .registry import ModelSpec, register

__all__ = ["CompactNet"]


class CompactNet(nn.Module):
    """This book's model for new participants, designed from the audit rather than the paper.

    The audit found that (1) the information that generalises across people is a change within the
    trial relative to the participant's own baseline, so the input is percent signal change, not
    min-max; (2) a 1.9-million-parameter network on 384-480 trials overfits whoever it trains on. So:
    a few temporal filters shared by all regions (learned weightings of the 25 seconds, e.g. "video
    minus fixation"), dropout on regions and features, and one linear read-out: about 3,000
    parameters. Trained with the paper's recipe (Ranger, L2 on both weight matrices, checkpoint on
    validation participants); ensembled over seeds in the chapters.

    Parameters
    ----------
    n_out : int
        Classes.
    n_regions : int, default=atlas.N_REGIONS
        Regions per trial.
    n_time : int, default=N_SECONDS
        Seconds per trial.
    n_filters : int, default=3
        Temporal filters shared by all regions.
    dropout : float, default=0.5
        Dropout on the filtered features before the read-out.
    region_dropout : float, default=0.2
        Dropout on the input's values (each region's seconds), before the temporal filters.
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

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.temporal(self.drop_in(x))           # [batch, regions, filters]
        return self.out(self.drop(self.norm(h.flatten(1))))

    def penalised_weights(self):
        return [self.temporal.weight, self.out.weight]


# percent signal change in; a larger step than the paper's (a few thousand parameters); its own budget rows
register(ModelSpec("compact", CompactNet, label="Compact (this book)", preprocess="pct",
                   lr={"class": 1e-2, "level": 3e-3}, budget={"class": "compact", "level": "compact_level"}))
