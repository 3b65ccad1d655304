"""alchemist.layout.warmup (issue 15): one small layout compiles every kernel that a later ForceAtlas2 call
needs, whatever its options, so that the one-time compilation can be paid (and reported) apart."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from numba.core.registry import CPUDispatcher

import alchemist
from alchemist.layout import forceatlas2
from alchemist.layout.warmup import warmup

MODULES = ["_loop", "_repulsion", "_tree", "_attraction", "_input", "speed", "force_atlas", "forces"]


def _overloads() -> dict[str, int]:
    """Every Numba kernel of the layout package -> the signatures this process holds for it (compiled here
    or loaded from Numba's disk cache: both count, so that a warm disk cache does not hide a miss; kernels
    called only from other kernels come inside their caller's machine code and hold none when loaded)."""
    out = {}
    for name in MODULES:
        module = importlib.import_module(f"alchemist.layout.{name}")
        for attr, obj in vars(module).items():
            if isinstance(obj, CPUDispatcher):
                out[f"{obj.py_func.__module__}.{obj.py_func.__qualname__}"] = len(obj.signatures)
    return out


@pytest.mark.parametrize("options", [
    {}, {"lin_log": True}, {"dissuade_hubs": True, "strong_gravity": True},
    {"prevent_overlap": True, "node_size": "degree"}, {"fixed": "first"},
])
def test_after_warmup_no_forceatlas2_call_compiles(options):
    warmup()
    rng = np.random.default_rng(0)
    n = 2_000  # more than the 3-node warm-up, below the parallel tree's 20,000
    edges = [(str(a), str(b)) for a, b in rng.integers(0, n, (6_000, 2)) if a != b]
    g = alchemist.Graph.from_edges(edges)
    k = g.number_of_nodes()
    if options.get("node_size") == "degree":
        options = {**options, "node_size": g.degree().astype(np.float64) + 1}
    if options.get("fixed") == "first":
        options = {**options, "fixed": np.arange(k) < 10}
    before = _overloads()
    pos = forceatlas2(g, iterations=3, seed=1, backend="cpu", **options)
    after = _overloads()
    assert {k: v for k, v in after.items() if v != before.get(k)} == {}
    assert before["alchemist.layout._loop.iterate_serial_tree"] >= 1  # the warm-up did compile or load the loop
    assert pos.shape == (k, 2) and np.isfinite(pos).all()


def test_warmup_returns_the_seconds_spent_and_is_idempotent():
    assert warmup() >= 0
    before = _overloads()
    assert warmup() >= 0
    assert _overloads() == before


def test_warmup_of_the_parallel_tree_covers_large_graphs():
    import numba

    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("one Numba thread: the parallel tree is never used")
    warmup(parallel_tree=True)
    n = 20_500  # above PARALLEL_TREE_MIN
    rng = np.random.default_rng(1)
    src, dst = rng.integers(0, n, 40_000), rng.integers(0, n, 40_000)
    before = _overloads()
    pos = forceatlas2((n, src, dst), iterations=2, seed=1, backend="cpu", lin_log=True)
    assert {k: v for k, v in _overloads().items() if v != before.get(k)} == {}
    assert before["alchemist.layout._loop.iterate_parallel_tree"] >= 1
    assert pos.shape == (n, 2) and np.isfinite(pos).all()
