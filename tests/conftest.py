"""Shared pytest fixtures.

``shared_data(relpath)`` gives the path of a file in ``../shared/data`` (the project's real
third-party datasets) and skips the test, naming the file, where it is absent (a user's machine).

Tests marked ``cudasim`` exercise Numba CUDA kernels under the CUDA simulator. The simulator must
be switched on before Numba is imported, so they run in a second pytest session
(``NUMBA_ENABLE_CUDASIM=1 pytest -m cudasim``, which ``make test`` runs); in the ordinary session
they are deselected, and in the simulator session everything else is. With
``ALCHEMIST_CUDA_DEVICE=1`` (``make gpu-check``, on a machine with a GPU) the same tests run on the device.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("ALCHEMIST_SHARED_DATA", ROOT.parent / "shared" / "data"))
CUDASIM = os.environ.get("NUMBA_ENABLE_CUDASIM", "0") not in ("", "0")
# `make gpu-check` on a lent GPU: the same kernel tests, on the device instead of the simulator
CUDA_DEVICE = os.environ.get("ALCHEMIST_CUDA_DEVICE", "0") not in ("", "0")


def shared_path(relpath: str) -> Path:
    path = SHARED_DATA / relpath
    if not path.exists():
        pytest.skip(f"shared dataset {path} is absent on this machine (it ships in the repo's ../shared/data)")
    return path


@pytest.fixture
def shared_data():
    """``shared_data("snap_graphs/facebook_combined.txt") -> Path`` (skips when absent)."""
    return shared_path


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


def pytest_configure(config):
    config.addinivalue_line("markers", "cudasim: Numba CUDA kernel test, run under NUMBA_ENABLE_CUDASIM=1")


def pytest_collection_modifyitems(config, items):
    keep, drop = [], []
    for item in items:
        is_sim = item.get_closest_marker("cudasim") is not None
        (keep if is_sim == (CUDASIM or CUDA_DEVICE) else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
