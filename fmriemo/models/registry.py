"""Which models exist, by name. A model is a :class:`ModelSpec`: how to build it for a number of
outputs, and what the rest of the package needs to know to train, submit and show it (its input
preprocessing, learning rate, the profile's budget row it trains with, the label tables print for it,
whether it is one of the paper's three). Its colour in plots is the book's (``fmriemo.book.plots``).

A new model is one module in ``fmriemo/models/`` that calls :func:`register` when imported: the
registry imports every module of the package the first time it is asked (:func:`names`,
:func:`spec`), so ``fmriemo train --method NAME``, the held-out protocols, attribution and the
chapters accept it with no edit elsewhere. Code outside the package (a notebook, a test) calls
:func:`register` itself before using the name; for the command line, name its file in
``$FMRIEMO_MODELS`` (:data:`MODELS_ENV`; several separated by ``os.pathsep``) and the registry imports
it with the package's own (``FMRIEMO_MODELS=my_model.py fmriemo submit --method mine ...``).
"""
from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import pkgutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd
import torch
from torch import nn

from ..core.errors import DataError
from ..data.dataset import n_outputs

__all__ = [
    "MODELS_ENV", "ModelSpec", "register", "unregister", "names", "paper_methods", "spec", "label",
    "build_model", "count_parameters", "penalised_weights", "l2_penalty", "layer_table",
]

#: the environment variable naming files of models defined outside the package (``os.pathsep``-separated):
#: each is imported once, the first time the registry is asked, and registers its models itself
MODELS_ENV = "FMRIEMO_MODELS"


@dataclass(frozen=True)
class ModelSpec:
    """A registered model: how to build it and the recipe it trains with.

    A model fitted on data of another shape (:class:`fmriemo.training.estimator.DeepClassifier` on
    scikit-learn's test data) is built with ``n_regions`` and ``n_time`` as keyword arguments. The
    module may define ``input_gates(x)`` (a per-trial weight of each input region, [batch, regions], or
    None: read by :func:`fmriemo.training.loop.predict` and the brain maps) and ``penalised_weights()``
    (the weights the L2 penalty applies to: :func:`penalised_weights`).

    Parameters
    ----------
    name : str
        The name it is registered and cached under (``--method NAME``).
    build : callable
        ``build(n_outputs, **kwargs)`` returns a fresh ``torch.nn.Module`` mapping [batch, 246, 25] to
        logits; torch's global seed is set before it is called.
    label : str, default=""
        How the book names it ("" : ``name``).
    preprocess : str, default="minmax"
        Its input preprocessing (:data:`fmriemo.data.preprocess.METHODS`).
    lr : dict, default={}
        Task -> learning rate (missing tasks: the paper's).
    budget : dict, default={}
        Task -> the row of the profile's ``budget`` table it trains with
        (:data:`fmriemo.profiles.PROFILES`).
    paper : bool, default=False
        Whether it is one of the paper's three models.
    input_regions : int, default=None
        The number of regions its input must have (EBR reads 32 of the atlas's 246 by index); None:
        any.
    """

    name: str
    build: Callable[..., nn.Module]
    label: str = ""
    preprocess: str = "minmax"
    lr: dict = field(default_factory=dict)
    budget: dict = field(default_factory=lambda: {"class": "class", "level": "level"})
    paper: bool = False
    input_regions: int | None = None

    @property
    def source_file(self) -> Path:
        """The file that defines the model (its source is part of a trained model's cache key)."""
        return Path(inspect.getfile(self.build))


_SPECS: dict[str, ModelSpec] = {}
_discovered = False


def register(spec: ModelSpec, replace: bool = False) -> ModelSpec:
    """Add ``spec`` to the registry under ``spec.name``.

    Parameters
    ----------
    spec : ModelSpec
    replace : bool, default=False
        Replace a model of the same name; otherwise a name already taken is refused.

    Returns
    -------
    spec : ModelSpec
        ``spec`` itself.

    Examples
    --------
    >>> from torch import nn
    >>> from fmriemo.models.registry import ModelSpec, register
    >>> register(ModelSpec("flat", lambda n_outputs, n_regions=246, n_time=25:
    ...     nn.Sequential(nn.Flatten(), nn.Linear(n_regions * n_time, n_outputs))))  # doctest: +SKIP
    """
    if not spec.name or not spec.name.replace("_", "").replace("-", "").isalnum():
        raise ValueError(f"model name must be letters, digits, '-' or '_', got {spec.name!r}")
    if spec.name in _SPECS and not replace:
        raise ValueError(f"a model named {spec.name!r} is already registered")
    _SPECS[spec.name] = spec
    return spec


def unregister(name: str) -> None:
    """Remove a model registered by code outside the package (a test's toy model).

    Parameters
    ----------
    name : str
    """
    _SPECS.pop(name, None)


def _discover() -> None:
    """Import every module of this package once, so that each registers its models."""
    global _discovered
    if _discovered:
        return
    _discovered = True
    package = __name__.rsplit(".", 1)[0]
    for info in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if info.name != "registry":
            importlib.import_module(f"{package}.{info.name}")  # the plugin mechanism: modules register on import
    for entry in filter(None, os.environ.get(MODELS_ENV, "").split(os.pathsep)):
        _import_file(Path(entry).expanduser())


def _import_file(path: Path) -> None:
    """Import a model file named in :data:`MODELS_ENV` (once: not again when the user's code imported it
    already), so that it registers its models."""
    path = path.resolve()
    if not path.is_file() or path.suffix != ".py":
        raise DataError(f"${MODELS_ENV}: {path} is not a Python file; it names files that register models "
                        f"(separated by {os.pathsep!r})")
    if any(getattr(m, "__file__", None) and Path(m.__file__).resolve() == path for m in list(sys.modules.values())):
        return
    spec_ = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec_)
    sys.modules.setdefault(path.stem, module)
    spec_.loader.exec_module(module)


def names() -> tuple[str, ...]:
    """Every registered model's name: the paper's models first, each group in registration order.

    Models named by the files in ``$FMRIEMO_MODELS`` are imported first.

    Returns
    -------
    names : tuple of str
    """
    _discover()
    return tuple(sorted(_SPECS, key=lambda n: (not _SPECS[n].paper, list(_SPECS).index(n))))


def paper_methods() -> tuple[str, ...]:
    """The paper's three models (Vanilla, ASB, EBR), in registration order.

    Returns
    -------
    names : tuple of str
    """
    return tuple(n for n in names() if _SPECS[n].paper)


def spec(name: str) -> ModelSpec:
    """The spec registered as ``name``.

    Parameters
    ----------
    name : str

    Returns
    -------
    spec : ModelSpec

    Raises
    ------
    ValueError
        For an unknown name, listing the known ones.
    """
    _discover()
    if name not in _SPECS:
        raise ValueError(f"unknown method {name!r}; expected one of {', '.join(names())}")
    return _SPECS[name]


def label(name: str) -> str:
    """How the book names a model: its spec's label, or ``name`` itself for anything else (a baseline, an
    ensemble).

    Parameters
    ----------
    name : str

    Returns
    -------
    label : str
    """
    _discover()
    return _SPECS[name].label or name if name in _SPECS else name



def build_model(name: str, task: str, **kwargs) -> nn.Module:
    """A fresh, untrained instance of the model ``name`` for a task.

    Parameters
    ----------
    name : str
        A registered model.
    task : {"class", "level"}
        3 outputs for "class", 9 for "level".
    **kwargs
        Passed to the spec's ``build`` (``n_regions``, ``n_time`` for inputs of another shape).

    Returns
    -------
    model : torch.nn.Module
    """
    return spec(name).build(n_outputs(task), **kwargs)


def count_parameters(model: nn.Module) -> int:
    """The number of trainable parameters of ``model``.

    Parameters
    ----------
    model : torch.nn.Module

    Returns
    -------
    n : int
    """
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def penalised_weights(model: nn.Module) -> list:
    """The weights the L2 penalty applies to.

    The model's own ``penalised_weights()`` where it defines one (the paper's choice of kernels), else
    every weight matrix or kernel.

    Parameters
    ----------
    model : torch.nn.Module

    Returns
    -------
    weights : list of torch.nn.Parameter
    """
    if hasattr(model, "penalised_weights"):
        return list(model.penalised_weights())
    return [p for name, p in model.named_parameters() if p.ndim > 1]


def l2_penalty(model: nn.Module, coef: float = 0.01) -> torch.Tensor:
    """Keras-style L2 kernel regulariser: ``coef * sum(w**2)`` over the penalised weights.

    Parameters
    ----------
    model : torch.nn.Module
    coef : float, default=0.01
        The regulariser's coefficient (the paper's 0.01).

    Returns
    -------
    penalty : torch.Tensor
        A scalar that keeps the graph, to add to the loss.
    """
    return coef * sum((w ** 2).sum() for w in penalised_weights(model))


def layer_table(model: nn.Module):
    """The model's top-level modules with their trainable parameter counts.

    Parameters
    ----------
    model : torch.nn.Module

    Returns
    -------
    table : pandas.DataFrame
        Columns ``layer``, ``type`` and ``parameters``; modules without parameters are left out.
    """
    rows = []
    for name, mod in model.named_children():
        n = count_parameters(mod)
        if n:
            rows.append({"layer": name, "type": type(mod).__name__, "parameters": n})
    return pd.DataFrame(rows)
