"""fmriemo: emotion decoding from fMRI with squeeze-and-excitation CNNs, reproduced and audited.

Layers, lowest first (a layer imports only the ones below it; ``ARCHITECTURE.md`` says why):
``core`` and ``profiles``; ``data``; ``models`` and ``metrics``; ``training``; ``evaluation``;
``challenge``; ``book``; ``cli``.
"""
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("fmriemo")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"
