"""Compile the CPU ForceAtlas2 kernels ahead of the first layout, and say how long it took.

The kernels are Numba functions with ``cache=True``: the first call in a fresh environment compiles
them (8 to 10 s of CPU on a small machine; ``benchmarks/bench_compile.py``) and writes the machine
code next to the sources (or, where that folder is read-only, to Numba's user-wide cache); every
later process loads it in about a second. :func:`warmup` pays that one-time cost on a small graph, so that a program (the demo, a
dashboard, an agent whose first request has a deadline) can report or schedule it apart from the
layout itself. Graphs of ``alchemist.layout._tree.PARALLEL_TREE_MIN`` (20,000) nodes or more, on
several threads, build their quadtree with all threads: a second compiled loop, which
``warmup(parallel_tree=True)`` compiles too.
"""

from __future__ import annotations

import time

import numpy as np

from alchemist.graph import Graph
from alchemist.layout._tree import PARALLEL_TREE_MIN
from alchemist.layout.force_atlas import forceatlas2

__all__ = ["warmup"]


def warmup(parallel_tree: bool = False) -> float:
    """Compile (or load from the on-disk cache) the kernels of the CPU :func:`~alchemist.layout.forceatlas2`.

    Every option of ForceAtlas2 (LinLog, hub dissuasion, overlap prevention, strong gravity, extra
    forces) is a run-time argument of the same kernels, so one small layout compiles everything a
    later call needs on a graph of up to 20,000 nodes (or on one thread).

    Parameters
    ----------
    parallel_tree : bool
        Also compile the loop of larger graphs (one iteration on a ring of 20,000 nodes).

    Returns
    -------
    float
        Seconds spent: the one-time compilation in a fresh environment, about a second once Numba's
        cache holds the kernels, near zero when this process already has them.

    Examples
    --------
    >>> seconds = warmup()
    >>> seconds >= 0
    True
    """
    start = time.perf_counter()
    forceatlas2(Graph.from_edges([("a", "b"), ("b", "c"), ("c", "a")]), iterations=2, seed=0, backend="cpu")
    if parallel_tree:
        n = PARALLEL_TREE_MIN
        ring = np.arange(n)
        forceatlas2((n, ring, (ring + 1) % n), iterations=1, seed=0, backend="cpu")
    return time.perf_counter() - start
