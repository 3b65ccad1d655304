"""Compile the CPU ForceAtlas2 kernels ahead of the first layout, and say how long it took.

The kernels are Numba functions with ``cache=True``: the first call in a fresh environment compiles
them (tens of seconds on a small machine) and writes the machine code next to the sources (or, where
that folder is read-only, to Numba's user-wide cache); every later process loads it in about a
second. :func:`warmup` pays that one-time cost on a 3-node graph, so that a program (the demo, a
dashboard, an agent whose first request has a deadline) can report or schedule it apart from the
layout itself.
"""

from __future__ import annotations

import time

from alchemist.graph import Graph
from alchemist.layout.force_atlas import forceatlas2

__all__ = ["warmup"]


def warmup() -> float:
    """Compile (or load from the on-disk cache) the kernels of the CPU :func:`~alchemist.layout.forceatlas2`.

    Every option of ForceAtlas2 (LinLog, hub dissuasion, overlap prevention, strong gravity, extra
    forces) is a run-time argument of the same kernels, so one small layout compiles everything a
    later call on any graph needs.

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
    return time.perf_counter() - start
