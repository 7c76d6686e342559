"""Each of several processes that run side by side gets its share of the CPU cores.

Torch, scikit-learn and numpy each start one thread per core by default, and their OpenMP and OpenBLAS
threads wait for work by spinning. Two processes that do so on the same cores take the cores from each
other: on a two-core machine two test workers ran a pair of test modules in 328 s with two threads each
and in 94 s with one each. Used by ``tests/conftest.py`` for pytest-xdist's workers and by ``fmriemo
chapters --jobs N`` for its notebook kernels.
"""
from __future__ import annotations

import os

__all__ = ["available_cores", "share_cores"]

#: the variables that the thread pools of torch (OpenMP), numpy and scipy (OpenBLAS) and MKL read once,
#: when the library is loaded
_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def available_cores() -> int:
    """The cores this process may run on.

    Returns
    -------
    cores : int
        Its affinity where the system says, else all of them.
    """
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # no affinity on this system (macOS)
        return os.cpu_count() or 1


def share_cores(processes: int) -> int:
    """Give libraries loaded from now on a share of the cores.

    Sets this process's environment so that libraries loaded after the call, here and in the processes
    it starts (notebook kernels, workers, commands), use ``processes``'th of the cores. Libraries already
    loaded keep their pools.

    Parameters
    ----------
    processes : int
        Processes that will share the cores.

    Returns
    -------
    threads : int
        Threads each may use (at least one).
    """
    threads = max(1, available_cores() // max(1, processes))
    os.environ.update(dict.fromkeys(_THREAD_VARIABLES, str(threads)))
    return threads
