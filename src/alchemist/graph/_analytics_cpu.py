"""CPU paths of :mod:`alchemist.graph.analytics` that prepare arrays for the Numba kernels:
PageRank's pull adjacency (cached on the graph), component labelling and the thread count of small calls (Louvain's levels: :mod:`alchemist.graph._louvain`).

Everything here is O(n + m) array work (counting sorts instead of comparison sorts, no scipy
matrices), so that the kernels, not the set-up, dominate the time.
"""

from __future__ import annotations

import contextlib

import numpy as np

from alchemist.graph import _graph_kernels as gk
from alchemist.graph.core import cached

__all__ = ["pull_adjacency", "component_labels", "threads_for"]


def pull_adjacency(graph, w: np.ndarray, key=None):
    """In-neighbour adjacency for PageRank's pull step, with the weights ``w`` (edge order).

    An undirected edge counts in both directions, a self-loop once; a directed graph's
    in-neighbours come from a counting sort of the edges by target. One O(n + m) counting sort
    (:func:`alchemist.graph._graph_kernels.adjacency`, parallel from 200 000 edges): rows are not
    sorted, since the pull step only sums them; no weights when every weight is 1.

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
        Empty when every weight is 1 (``unit``).
    out_weight : (n_nodes,) float64
        Total weight leaving each node (0 for dangling nodes).
    unit : bool
        Whether every weight is 1.

    Raises
    ------
    None

    Examples
    --------
    >>> from alchemist.graph import Graph
    >>> g = Graph.from_edges([("a", "b"), ("a", "c"), ("c", "b")], directed=True)
    >>> indptr, cols, weights, out_weight, unit = pull_adjacency(g, np.ones(3))
    >>> indptr.tolist(), cols.tolist(), out_weight.tolist(), unit
    ([0, 0, 2, 3], [0, 2, 0], [2.0, 0.0, 1.0], True)
    """
    def arrange():
        n = graph.number_of_nodes()
        src, dst, _ = graph.edge_index()
        unit = bool((w == 1.0).all())
        chunks = _chunks(src.shape[0])
        if graph.directed:
            indptr, cols, ww = gk.adjacency(dst, src, w, n, False, not unit, chunks)
            out_w = np.bincount(src, weights=None if unit else w, minlength=n).astype(np.float64)
        else:  # both directions; the out-weights are the row sums
            indptr, cols, ww = gk.adjacency(src, dst, w, n, True, not unit, chunks)
            out_w = np.diff(indptr).astype(np.float64) if unit else gk.row_sums(indptr, ww)
        return indptr, cols, ww, out_w, unit

    return arrange() if key is None else cached(graph, f"pull_adjacency:{key}", arrange)


def component_labels(graph, connection: str) -> np.ndarray:
    """Weakly (union–find over the edges) or strongly (Tarjan over an out-adjacency cached on the
    graph until it changes) connected components, numbered by decreasing size, ties by first row.

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
        def build():  # out-neighbours, each row unsorted: one counting sort, no weights
            src, dst, _ = graph.edge_index()
            return gk.adjacency(src, dst, np.empty(0), graph.number_of_nodes(), False, False, _chunks(src.shape[0]))[:2]

        return gk.strong_components(*cached(graph, "out_adjacency", build))
    src, dst, _ = graph.edge_index()
    return gk.weak_components(src, dst, graph.number_of_nodes())


def _chunks(m: int) -> int:
    """How many slices a counting sort of ``m`` edges runs in: one per thread from 200 000 edges."""
    if m < 200_000:
        return 1
    import numba

    return numba.get_num_threads()


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
    int
        The number of threads the kernels inside run on.

    Raises
    ------
    None

    Examples
    --------
    >>> with threads_for(10) as threads:
    ...     threads
    1
    """
    import numba

    before = numba.get_num_threads()
    if work >= grain:
        yield before
        return
    numba.set_num_threads(1)
    try:
        yield 1
    finally:
        numba.set_num_threads(before)
