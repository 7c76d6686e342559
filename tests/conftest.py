import os

# Under pytest-xdist (`make test`) each worker, and the notebook kernels and commands it starts, gets
# its share of the cores before torch or numpy is loaded: workers whose thread pools spin on the same
# cores slow each other down several times over (fmriemo/core/threads.py).
if os.environ.get("PYTEST_XDIST_WORKER_COUNT"):
    from fmriemo.core.threads import share_cores

    share_cores(int(os.environ["PYTEST_XDIST_WORKER_COUNT"]))

import shutil
from pathlib import Path

import numpy as np
import pytest

from fmriemo.data.loader import load_challenge
from fmriemo.data.surrogate import write_npz, write_surrogate

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def quick():
    """A factory of quick-profile Settings for tests: ``quick(cache, **overrides)``, two epochs, no
    progress bar, the cache folder given."""
    from fmriemo.profiles import Settings

    def settings(cache, **kw):
        return Settings.resolve("quick", **{"epochs": 2, "cache_dir": cache, "progress": False, **kw})
    return settings


@pytest.fixture(scope="session")
def surrogate_dir(tmp_path_factory) -> Path:
    """A surrogate challenge folder written once per test session (seed 2024)."""
    return write_surrogate(tmp_path_factory.mktemp("surrogate") / "challenge", seed=2024)


@pytest.fixture(scope="session")
def dataset(surrogate_dir):
    return load_challenge(surrogate_dir, surrogate_dir / "released_labels.csv")


@pytest.fixture
def challenge_copy(surrogate_dir, tmp_path) -> Path:
    """A private, writable copy of the surrogate folder for tests that break it."""
    dst = tmp_path / "copy"
    shutil.copytree(surrogate_dir, dst)
    return dst


@pytest.fixture
def tiny_challenge(tmp_path) -> Path:
    """A small valid challenge folder: 3 train participants (6 trials), 1 test participant."""
    rng = np.random.default_rng(0)
    for p in (1, 2, 3, 4):
        split = "Train" if p <= 3 else "Test"
        d = tmp_path / "tiny" / split / f"P{p:02d}"
        d.mkdir(parents=True)
        write_npz(d / "fMRI_data.npz", 9000 + 50 * rng.standard_normal((6, 246, 25)))
        if split == "Train":
            write_npz(d / "labels.npz", np.array([[-1, -3], [0, 0], [1, 2], [-1, -1], [0, 1], [1, 4]], float))
    return tmp_path / "tiny"
