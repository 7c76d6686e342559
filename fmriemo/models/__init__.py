"""The models layer: the registry of models by name (``registry``), the paper's residual SE-CNN in
its three forms (``secnn``), this book's Compact model (``compact``) and the paper's optimiser
(``optim``)."""

__all__ = ["compact", "optim", "registry", "secnn"]

