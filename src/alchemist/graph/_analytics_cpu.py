"""CPU paths of :mod:`alchemist.graph.analytics` that prepare arrays for the Numba kernels:
PageRank's pull adjacency (cached on the graph), component labelling and the Louvain levels.

Everything here is O(n + m) array work (counting sorts instead of comparison sorts, no scipy
matrices), so that the kernels, not the set-up, dominate the time.
"""

from __future__ import annotations

import contextlib

import numpy as np

from alchemist.errors import GraphError
from alchemist.graph import _analytics_kernels as kernels
from alchemist.graph import _graph_kernels as gk
from alchemist.graph.core import cached

__all__ = ["pull_adjacency", "component_labels", "louvain_levels", "threads_for", "compact"]


def pull_adjacency(graph, w: np.ndarray, key=None):
    """In-neighbour adjacency for PageRank's pull step, with the weights ``w`` (edge order).

    An undirected edge counts in both directions, a self-loop once (the graph's :meth:`csr`); a
    directed graph's in-neighbours come from a counting sort of the edges by target, cached on
    the graph until it changes.

    Parameters
    ----------
    graph : Graph
    w : (n_edges,) float64
        Edge weights in :meth:`Graph.edge_index` order (non-negative).
    key : str, optional
        Where ``w`` comes from (a weight column's name, or ``"unweighted"``): when given, the
        arranged weights are cached on the graph under it, until the graph changes.

    Returns
    -------
    indptr : (n_nodes + 1,) int64
    cols : (nnz,) int64
        The in-neighbour of each entry.
    weights : (nnz,) float64
    out_weight : (n_nodes,) float64
        Total weight leaving each node (0 for dangling nodes).

    Raises
    ------
    None

    Examples
    --------
    >>> from alchemist.graph import Graph
    >>> g = Graph.from_edges([("a", "b"), ("a", "c"), ("c", "b")], directed=True)
    >>> indptr, cols, weights, out_weight = pull_adjacency(g, np.ones(3))
    >>> indptr.tolist(), cols.tolist(), out_weight.tolist()
    ([0, 0, 2, 3], [0, 2, 0], [2.0, 0.0, 1.0])
    """
    from alchemist.graph.access import csr_with_edges

    def arrange():
        n = graph.number_of_nodes()
        if graph.directed:
            def build():
                src, dst, _ = graph.edge_index()
                indptr, order = gk.group_by_row(dst, n)
                return indptr, src[order].astype(np.int64), order
            indptr, cols, edge = cached(graph, "pull_adjacency", build)
            out_w = np.bincount(graph.edge_index()[0], weights=w, minlength=n)
        else:
            indptr, cols, _, edge = csr_with_edges(graph)
            out_w = np.bincount(cols, weights=w[edge], minlength=n)  # the adjacency is symmetric
        return indptr, cols, w[edge].astype(np.float64), out_w.astype(np.float64)

    return arrange() if key is None else cached(graph, f"pull_adjacency:{key}", arrange)


def component_labels(graph, connection: str) -> np.ndarray:
    """Weakly (union–find over the edges) or strongly (Tarjan over the graph's cached out-CSR)
    connected components, numbered by decreasing size, ties by first row.

    Parameters
    ----------
    graph : Graph
    connection : {"weak", "strong"}
        ``"strong"`` follows edge direction (meaningful for a directed graph).

    Returns
    -------
    (n_nodes,) int64

    Raises
    ------
    None

    Examples
    --------
    >>> from alchemist.graph import Graph
    >>> g = Graph.from_edges([("a", "b"), ("b", "a"), ("b", "c")], directed=True)
    >>> component_labels(g, "weak").tolist(), component_labels(g, "strong").tolist()
    ([0, 0, 0], [0, 0, 1])
    """
    if connection == "strong":
        indptr, indices, _ = graph.csr()  # out-neighbours, cached until the graph changes
        return gk.strong_components(indptr, indices)
    src, dst, _ = graph.edge_index()
    return gk.weak_components(src, dst, graph.number_of_nodes())


@contextlib.contextmanager
def threads_for(work: int, grain: int = 200_000):
    """Run the Numba kernels inside on one thread when ``work`` (e.g. adjacency entries) is below
    ``grain``: waking a second thread for each parallel loop costs more than it saves on small graphs.

    Parameters
    ----------
    work : int
        Size of the work, in the kernel's inner-loop steps per parallel region.
    grain : int
        Below this, one thread.

    Yields
    ------
    None

    Raises
    ------
    None

    Examples
    --------
    >>> import numba
    >>> with threads_for(10):
    ...     numba.get_num_threads()
    1
    """
    import numba

    before = numba.get_num_threads()
    if work < grain:
        numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(before)


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
    return np.unique(labels, return_inverse=True)[1].ravel().astype(np.int64)
