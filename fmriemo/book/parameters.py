"""A chapter's parameters are input too: re-running a chapter with papermill is how a reader changes it,
so every value its parameters cell invites is checked where the chapter starts
(:func:`check_parameters`), and a bad one stops the chapter there with one line naming the parameter
(:class:`fmriemo.core.errors.ParameterError`), before anything is trained or drawn.

Each parameter name means the same thing in every chapter that has it, so one table (:data:`CHECKS`)
holds one rule per name. A list that may be empty (``time_preprocessings``, ``order_check_methods``,
``preprocessings``) leaves its section out, and the chapter says so.
"""
from __future__ import annotations

from pathlib import Path
from types import ModuleType

from ..challenge.ratings import RATING_RULES
from ..core.errors import ParameterError
from ..data import preprocess
from ..data.atlas import N_REGIONS
from ..data.splits import PHASE1_SPLITS
from ..evaluation import timeresolved
from ..models import registry
from ..profiles import PROFILES, PROTOCOLS

__all__ = ["CHECKS", "check_parameters"]


def _integer(value, name: str, low: int, high: int | None = None, optional: bool = False) -> None:
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParameterError(name, f"must be an integer{' or None' if optional else ''}, got {value!r}")
    if value < low or (high is not None and value > high):
        span = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ParameterError(name, f"must be {span}, got {value}")


def _choice(value, name: str, choices, optional: bool = False) -> None:
    if value is None and optional:
        return
    if value not in tuple(choices):
        raise ParameterError(name, f"must be one of {', '.join(map(str, choices))}, got {value!r}")


def _names(value, name: str, choices, empty: bool) -> None:
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise ParameterError(name, f"must be a list (e.g. [{', '.join(repr(c) for c in list(choices)[:2])}]), "
                                   f"got {value!r}")
    if not value and not empty:
        raise ParameterError(name, "must name at least one of " + ", ".join(map(str, choices)))
    unknown = [v for v in value if v not in tuple(choices)]
    if unknown:
        raise ParameterError(name, f"names {', '.join(map(repr, unknown))}; expected among {', '.join(map(str, choices))}")
    if len(set(value)) != len(value):
        raise ParameterError(name, f"names a value twice: {value!r}")


def _text(value, name: str) -> None:
    if not isinstance(value, (str, Path)):
        raise ParameterError(name, f"must be a path as text (\"\" for the default), got {value!r}")


def _device(value, name: str) -> None:
    from ..training.config import resolve_device  # deferred: imports torch
    try:
        resolve_device(value)
    except ValueError as exc:
        raise ParameterError(name, str(exc).removeprefix("device ")) from None


def _models():
    return registry.names()


#: one rule per parameter name, the same in every chapter that has the parameter
CHECKS = {
    "data_dir": _text, "labels_csv": _text, "cache_dir": _text, "chapters_dir": _text,
    "surrogate_seed": lambda v, n: _integer(v, n, 0, 2**32 - 1),
    "seed": lambda v, n: _integer(v, n, 0, 2**32 - 1),
    "split_seed": lambda v, n: _integer(v, n, 0, 2**32 - 1),
    "profile": lambda v, n: _choice(v, n, PROFILES),
    "epochs": lambda v, n: _integer(v, n, 1, optional=True),
    "n_seeds": lambda v, n: _integer(v, n, 1, optional=True),
    "k": lambda v, n: _integer(v, n, 2, optional=True),
    "n_val": lambda v, n: _integer(v, n, 1, optional=True),
    "protocol": lambda v, n: _choice(v, n, PROTOCOLS, optional=True),
    "device": _device,
    "task": lambda v, n: _choice(v, n, ("class", "level")),
    "methods": lambda v, n: _names(v, n, _models(), empty=False),
    "class_models": lambda v, n: _names(v, n, _models(), empty=False),
    "order_check_methods": lambda v, n: _names(v, n, _models(), empty=True),
    "preprocessings": lambda v, n: _names(v, n, preprocess.METHODS, empty=True),
    "time_preprocessings": lambda v, n: _names(v, n, timeresolved.PREPROCESSINGS, empty=True),
    "preprocess_method": lambda v, n: _choice(v, n, _models()),
    "submit_method": lambda v, n: _choice(v, n, _models()),
    "level_model": lambda v, n: _choice(v, n, _models()),
    "ensemble_method": lambda v, n: _choice(v, n, _models()),
    "ratings": lambda v, n: _choice(v, n, RATING_RULES),
    "phase1_split": lambda v, n: _choice(v, n, PHASE1_SPLITS),
    "n_permutations": lambda v, n: _integer(v, n, 1, optional=True),
    "ig_steps": lambda v, n: _integer(v, n, 1, optional=True),
    "ft_epochs": lambda v, n: _integer(v, n, 1),
    "n_crossfit": lambda v, n: _integer(v, n, 2),
    "top_k": lambda v, n: _integer(v, n, 1, N_REGIONS),
    "search_draws": lambda v, n: _integer(v, n, 1),
    "ensemble_seeds": lambda v, n: _integer(v, n, 2),
    "interactive_map": lambda v, n: _choice(v, n, ("se", "ig", "occlusion", "logreg")),
}


def check_parameters(values: dict, **relations) -> None:
    """Check every parameter of a chapter by the rule :data:`CHECKS` has for its name.

    Parameters
    ----------
    values : dict
        The chapter's globals: the parameters cell's values, with whatever papermill injected (modules and
        functions are not parameters).
    **relations
        Conditions between parameters, ``name=(ok, problem)``: e.g.
        ``submit_method=(submit_method in methods, "must be one of methods")``.

    Raises
    ------
    fmriemo.core.errors.ParameterError
        Naming the first parameter that breaks its rule.
    """
    for name, rule in CHECKS.items():
        if name in values and not isinstance(values[name], (ModuleType, type)) and not callable(values[name]):
            rule(values[name], name)  # a module the chapter imports under a parameter's name is not it
    for name, (ok, problem) in relations.items():
        if not ok:
            raise ParameterError(name, problem)
