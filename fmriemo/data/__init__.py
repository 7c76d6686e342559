"""The data layer: a challenge folder read into a :class:`~fmriemo.data.dataset.Dataset` (``loader``),
the built-in surrogate in the same layout (``surrogate``), the Brainnetome atlas (``atlas``),
label-free preprocessing (``preprocess``), every split the book uses (``splits``) and which data a
chapter or command runs on (``source``). Nothing here imports torch."""

__all__ = ["atlas", "dataset", "loader", "preprocess", "source", "splits", "surrogate"]

