"""Processes side by side get their share of the cores: torch's, numpy's and scikit-learn's thread pools."""
import json
import os
import subprocess
import sys

import pytest

from fmriemo.core.threads import available_cores

POOLS = """
import json, sys
from fmriemo.core.threads import share_cores
n = share_cores(int(sys.argv[1]))
import numpy, sklearn.linear_model, torch
from threadpoolctl import threadpool_info
print(json.dumps([n, torch.get_num_threads(), sorted({p["num_threads"] for p in threadpool_info()})]))
"""


@pytest.mark.parametrize("processes", [1, available_cores(), 4 * available_cores()])
def test_libraries_loaded_after_the_call_use_their_share(processes):
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    out = subprocess.run([sys.executable, "-c", POOLS, str(processes)], env=env, capture_output=True,
                         text=True, check=True).stdout
    share, torch_threads, pools = json.loads(out)
    assert share == max(1, available_cores() // processes)
    assert torch_threads == share and pools == [share]  # OpenBLAS of numpy and scipy, OpenMP of torch and scikit-learn


def test_each_test_worker_uses_its_share():
    """`make test` runs on pytest-xdist workers; tests/conftest.py shares the cores among them before
    anything loads torch or numpy, and the kernels and commands a worker starts inherit the share."""
    workers = os.environ.get("PYTEST_XDIST_WORKER_COUNT")
    if not workers:
        pytest.skip("not on a pytest-xdist worker (TEST_JOBS=0)")
    import torch
    from threadpoolctl import threadpool_info
    share = max(1, available_cores() // int(workers))
    assert os.environ["OMP_NUM_THREADS"] == str(share) and torch.get_num_threads() == share
    assert {p["num_threads"] for p in threadpool_info()} == {share}
