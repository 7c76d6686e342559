"""fmriemo: emotion decoding from fMRI with squeeze-and-excitation CNNs, reproduced and audited.

Modules: ``data`` (the challenge's folder format), ``surrogate`` (the built-in
data set), ``atlas`` (Brainnetome regions), ``preprocess``, ``models``
(Vanilla / ASB / EBR and the Compact model), ``train`` (the paper's recipe,
splits, cache), ``evaluate`` (metrics, intervals, the challenge score),
``experiments``, ``challenge``, ``heldout``, ``attribution``, ``level``,
``plots``, ``maps``, ``book`` (chapter helpers) and ``cli``.
"""
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("fmriemo")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"
