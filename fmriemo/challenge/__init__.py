"""The challenge layer: submission files and the official score (``submission``), the rating rules
(``ratings``), Phases I and II (``phases``) and what ``fmriemo submit`` does (``submit``)."""

__all__ = ["phases", "ratings", "submission", "submit"]

