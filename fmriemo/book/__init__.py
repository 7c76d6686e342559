"""The book layer: what a chapter calls (``chapter``), sections and sentences more than one chapter
needs (``sections``, ``text``), the plotting style and figures (``plots``), brain maps (``maps``), the
results files (``results``), what each chapter hands the verdict (``findings``), the verdict's rules
(``verdict``) and its leakage sheet (``sheet``), and the tooling that builds and checks
the book (``build``, ``browser``, ``linkcheck``)."""

__all__ = [
    "browser", "build", "chapter", "findings", "linkcheck", "maps", "parameters", "plots", "results", "sections",
    "sheet", "text", "verdict",
]

