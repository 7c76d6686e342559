"""The training layer: a run's configuration (``config``), the fitting loop and its checkpoint rule
(``loop``), and runs with their store entries (``runs``)."""

__all__ = ["batched", "config", "estimator", "loop", "runs"]

