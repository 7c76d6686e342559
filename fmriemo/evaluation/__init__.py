"""The evaluation layer: statistics and intervals (``statistics``), region maps compared (``regions``),
the baselines (``baselines``), the calibration card (``calibration``), the paper's protocol
(``paper``), held-out participants (``heldout``), which ensemble to submit (``ensembles``), the nested
decoder search (``search``) and attribution (``attribution``)."""

__all__ = [
    "attribution", "baselines", "calibration", "ensembles", "heldout", "paper", "regions", "search",
    "statistics", "timeresolved",
]

