"""The errors a user can cause. Each carries one line that names the file, folder or option and
says what was expected; the command line prints it without a traceback."""
from __future__ import annotations

__all__ = ["DataError", "UsageError", "ParameterError"]


class DataError(ValueError):
    """A file or folder the user named does not follow the format expected of it (the challenge's
    layout, a labels CSV, a submission, a cache folder), or cannot be read or written."""


class UsageError(ValueError):
    """An option that does not apply to the command as given, or a value out of its range; the
    message names the option as the user typed it (``--k``), and the command line exits 2."""


class ParameterError(ValueError):
    """A parameter out of its range (``k``, ``n_val``, ``n_seeds``, ...).

    The command line reports it under the option the user typed (``--k``, ``--n-val``) and exits 2, as
    for any usage error; from Python it reads as the parameter's name.

    Parameters
    ----------
    name : str
        The parameter's Python name.
    problem : str
        What is wrong with its value.
    """

    def __init__(self, name: str, problem: str):
        super().__init__(f"{name} {problem}")
        self.name, self.problem = name, problem
