"""Louvain on the CPU: the levels of local moving and aggregation, then refinement, over the
kernels of :mod:`alchemist.graph._louvain_kernels`.

O(n + m) array work per level besides the kernels (no scipy matrices).
"""

from __future__ import annotations

import numpy as np

from alchemist.errors import GraphError
from alchemist.graph import _louvain_kernels as kernels

__all__ = ["louvain_levels", "compact"]


def louvain_levels(graph, w: np.ndarray, *, resolution: float, seed, threshold: float,
                   max_levels: int, move=None) -> np.ndarray:
    """Louvain on the CPU, on A + Aᵀ: queue-based local moving (``louvain_move``) and
    aggregation (``louvain_aggregate``) level after level, then refinement from the coarsest
    level down (each level's nodes start in the communities found above and move again, as
    networkit's PLM with ``refine=True``; Staudt & Meyerhenke 2016, "Engineering parallel
    algorithms for community detection in massive networks", IEEE TPDS 27(1)).

    Parameters
    ----------
    graph : Graph
    w : (n_edges,) float64
        Edge weights in :meth:`Graph.edge_index` order.
    resolution : float
    seed : int or None
        Seeds the node order of each level.
    threshold : float
        A level that gains less modularity than this is the last.
    max_levels : int
        Maximum number of aggregation levels.
    move : callable, optional
        The local-moving kernel, ``kernels.louvain_move`` by default; the GPU path passes its own
        with the same arguments and results (:func:`alchemist.graph.gpu.louvain_move`).

    Returns
    -------
    (n_nodes,) int64
        Community of each node (not yet numbered by size).

    Raises
    ------
    GraphError
        A negative edge weight (the message names the edge).

    Examples
    --------
    >>> from alchemist.graph import Graph
    >>> g = Graph.from_edges([("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"),
    ...                       ("d", "e"), ("e", "f"), ("f", "d")])
    >>> louvain_levels(g, np.ones(7), resolution=1.0, seed=0, threshold=1e-7, max_levels=32).tolist()
    [0, 0, 0, 1, 1, 1]
    """
    if w.shape[0] and w.min() < 0:
        raise GraphError(f"edge {graph.edge_ids[int(np.argmin(w))]!r} has a negative weight; Louvain needs w >= 0")
    n = graph.number_of_nodes()
    src, dst, _ = graph.edge_index()
    indptr, indices, data, k = kernels.louvain_adjacency(src, dst, np.asarray(w, dtype=np.float64), n)
    m2 = float(k.sum())
    rng = np.random.default_rng(seed)
    if m2 == 0:
        return np.arange(n, dtype=np.int64)
    return _multilevel((indptr, indices, data, k), rng, resolution, m2, threshold, max_levels,
                       move or kernels.louvain_move)[0]


def _multilevel(level0, rng, resolution, m2, threshold, max_levels, move):
    """Louvain's levels from singletons on ``level0`` (CSR arrays and degrees), then refinement
    from the coarsest level down (as networkit's PLM with ``refine=True``): each level's nodes
    start in the communities found above and move again. Returns a partition of ``level0``'s
    nodes and the modularity gained."""
    indptr, indices, data, k = level0
    levels = []  # (graph of the level, its nodes' communities)
    total = 0.0
    for _ in range(max_levels):
        size = indptr.shape[0] - 1
        order = rng.permutation(size).astype(np.int64)
        comm, gained = move(indptr, indices, data, k, np.arange(size, dtype=np.int64), order, float(resolution), m2)
        if gained <= 0:
            break
        total += gained
        comm = compact(comm)
        levels.append(((indptr, indices, data, k), comm))
        c = int(comm.max()) + 1
        if c == size or gained < threshold:
            break
        indptr, indices, data, k = kernels.louvain_aggregate(indptr, indices, data, comm, c)
    if not levels:
        return np.arange(level0[0].shape[0] - 1, dtype=np.int64), 0.0
    labels = levels[-1][1]  # a partition of the last level's nodes
    for level in range(len(levels) - 2, -1, -1):
        (indptr, indices, data, k), comm = levels[level]
        order = rng.permutation(comm.shape[0]).astype(np.int64)
        labels, gained = move(indptr, indices, data, k, compact(labels[comm]), order, float(resolution), m2)
        total += gained
    return compact(labels), total


def compact(labels: np.ndarray) -> np.ndarray:
    """Labels renumbered ``0 … k-1`` (in order of the old label values).

    Parameters
    ----------
    labels : (n,) int

    Returns
    -------
    (n,) int64

    Raises
    ------
    None

    Examples
    --------
    >>> compact(np.array([5, 2, 5])).tolist()
    [1, 0, 1]
    """
    labels = np.asarray(labels, dtype=np.int64)
    if labels.shape[0] == 0:
        return labels.copy()
    low = int(labels.min())
    present = np.zeros(int(labels.max()) - low + 1, dtype=np.int64)
    present[labels - low] = 1
    return (np.cumsum(present) - 1)[labels - low]  # O(n + range), no sort
