"""The ``fmriemo`` command's entry point: it imports the command line only once running, so that
Ctrl-C while the modules load (numpy, pandas and torch take seconds) ends in one line, as it does
once a command runs (:func:`fmriemo.cli.main`), rather than in a traceback."""
from __future__ import annotations

import sys

__all__ = ["STARTING", "main"]

STARTING = "interrupted while starting: nothing was done"


def main(argv=None) -> int:
    """The ``fmriemo`` command: run the command line, turning an interrupt into a one-line message.

    Parameters
    ----------
    argv : list of str or None, default=None
        The arguments; None: ``sys.argv[1:]``.

    Returns
    -------
    status : int
    """
    try:
        from .cli import main as run  # deferred: an interrupt while the modules load is caught here
    except KeyboardInterrupt:
        print(f"\n{STARTING}", file=sys.stderr)
        return 130
    return run(argv)


if __name__ == "__main__":
    sys.exit(main())
