"""The one adapter from every accepted graph form to the undirected CSR the layout kernels use.

Accepted forms (see :func:`alchemist.layout.forceatlas2`):

- an alchemist ``Graph`` (duck-typed: ``number_of_nodes()`` and ``edge_index() -> (src, dst,
  weight)``, int64 rows into the node table and float64 weights of its live edges);
- a NetworkX graph (node rows in ``list(G)`` order, edge attribute ``weight``, default 1);
- a SciPy sparse adjacency matrix (square; a symmetric matrix is read from its upper triangle,
  any other matrix as ``A + A.T``);
- a tuple ``(n_nodes, src, dst)`` or ``(n_nodes, src, dst, weight)``.

Edges are undirected for the layout: self-loops are dropped, parallel edges (and the two
directions of a directed pair) are merged with their weights summed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numba import njit

from alchemist.errors import LayoutError

__all__ = ["LayoutGraph", "as_layout_graph", "edge_arrays"]


@dataclass(frozen=True)
class LayoutGraph:
    """Undirected, symmetric CSR of a graph with merged edges and no self-loops.

    Attributes
    ----------
    n_nodes : int
    indptr : (n_nodes + 1,) int64
    indices : (2 * n_edges,) int32 — neighbour rows, both directions stored
    weights : (2 * n_edges,) float64 — summed weight of the merged edge
    degree : (n_nodes,) int64 — number of distinct neighbours
    src, dst : (n_edges,) int64 — each merged edge once, ``src < dst``
    edge_weight : (n_edges,) float64
    """

    n_nodes: int
    indptr: np.ndarray
    indices: np.ndarray
    weights: np.ndarray
    degree: np.ndarray
    src: np.ndarray
    dst: np.ndarray
    edge_weight: np.ndarray


def as_layout_graph(graph) -> LayoutGraph:
    """Convert any accepted graph form to a :class:`LayoutGraph` (validates first)."""
    n, src, dst, w = edge_arrays(graph)
    e_src, e_dst, e_w, indptr, indices, weights = _symmetric_csr(n, src, dst, w)
    return LayoutGraph(
        n_nodes=n,
        indptr=indptr,
        indices=indices,
        weights=weights,
        degree=np.diff(indptr),
        src=e_src,
        dst=e_dst,
        edge_weight=e_w,
    )


def edge_arrays(graph):
    """``(n_nodes, src int64, dst int64, weight float64)`` of any accepted graph form.

    Raises
    ------
    LayoutError
        For an unknown graph type, rows outside ``[0, n_nodes)``, mismatched lengths, or
        non-finite / negative weights (the message names the first offending edge).
    """
    if isinstance(graph, tuple):
        if len(graph) not in (3, 4):
            raise LayoutError(
                f"a graph tuple must be (n_nodes, src, dst) or (n_nodes, src, dst, weight); got {len(graph)} items"
            )
        n = graph[0]
        src, dst = graph[1], graph[2]
        w = graph[3] if len(graph) == 4 else None
    elif sp.issparse(graph):
        if graph.ndim != 2 or graph.shape[0] != graph.shape[1]:
            raise LayoutError(f"an adjacency matrix must be square, got shape {graph.shape}")
        n = graph.shape[0]
        coo = sp.coo_matrix(graph)
        coo.sum_duplicates()
        bad = ~np.isfinite(coo.data)
        if bad.any():
            k = np.flatnonzero(bad)[0]
            raise LayoutError(
                f"adjacency matrix entry ({coo.row[k]}, {coo.col[k]}) = {coo.data[k]} is not finite; "
                "give finite edge weights"
            )
        asym = abs(coo - coo.T)
        if asym.nnz and asym.max() > 0:
            src, dst, w = coo.row, coo.col, coo.data  # directed: each entry is an edge
        else:
            up = coo.row <= coo.col
            src, dst, w = coo.row[up], coo.col[up], coo.data[up]
    elif hasattr(graph, "number_of_nodes") and hasattr(graph, "edge_index"):
        n = graph.number_of_nodes()
        src, dst, w = graph.edge_index()
    elif _is_networkx(graph):
        nodes = list(graph)
        n = len(nodes)
        row = {node: k for k, node in enumerate(nodes)}
        edges = list(graph.edges(data="weight", default=1.0))
        src = np.fromiter((row[u] for u, _, _ in edges), dtype=np.int64, count=len(edges))
        dst = np.fromiter((row[v] for _, v, _ in edges), dtype=np.int64, count=len(edges))
        w = np.fromiter((_weight(u, v, x) for u, v, x in edges), dtype=np.float64, count=len(edges))
    else:
        raise LayoutError(
            f"cannot lay out a {type(graph).__name__}: pass an alchemist Graph, a networkx graph, a scipy "
            "sparse adjacency matrix or a tuple (n_nodes, src, dst[, weight])"
        )
    return _validated(n, src, dst, w)


def _is_networkx(graph) -> bool:
    return type(graph).__module__.startswith("networkx") and hasattr(graph, "adj")


def _weight(u, v, x) -> float:
    try:
        return float(x)
    except (TypeError, ValueError):
        raise LayoutError(f"edge ({u!r}, {v!r}) has weight {x!r}, which is not a number") from None


def _validated(n, src, dst, w):
    try:
        n = int(n)
    except (TypeError, ValueError):
        raise LayoutError(f"n_nodes = {n!r} is not an integer") from None
    if n < 0:
        raise LayoutError(f"n_nodes = {n} must be >= 0")
    src = np.asarray(src)
    dst = np.asarray(dst)
    if src.ndim != 1 or dst.ndim != 1 or src.shape != dst.shape:
        raise LayoutError(f"src and dst must be 1-D arrays of equal length, got shapes {src.shape} and {dst.shape}")
    for arr, name in ((src, "src"), (dst, "dst")):
        if arr.size and not np.issubdtype(arr.dtype, np.integer):
            raise LayoutError(f"{name} must hold integer node rows, got dtype {arr.dtype}")
    src = src.astype(np.int64, copy=False)
    dst = dst.astype(np.int64, copy=False)
    for arr, name in ((src, "src"), (dst, "dst")):
        bad = np.flatnonzero((arr < 0) | (arr >= n))
        if bad.size:
            k = bad[0]
            raise LayoutError(f"edge {k}: {name} = {arr[k]} is not a node row of a graph with {n} nodes")
    if w is None:
        w = np.ones(src.size, dtype=np.float64)
    else:
        w = np.asarray(w, dtype=np.float64)
        if w.shape != src.shape:
            raise LayoutError(f"weight has shape {w.shape}; it must have one value per edge, shape {src.shape}")
        bad = np.flatnonzero(~np.isfinite(w) | (w < 0))
        if bad.size:
            k = bad[0]
            raise LayoutError(
                f"edge {k} ({src[k]}, {dst[k]}) has weight {w[k]}; ForceAtlas2 needs finite, non-negative weights"
            )
    return n, src, dst, w


# --------------------------------------------------------------------------- kernels
@njit(cache=True)
def _symmetric_csr(n, src, dst, w):
    """Merged undirected edges and their symmetric CSR, in ``O(n + m)``.

    Self-loops are dropped; each edge becomes ``(lo, hi)`` with ``lo < hi``; two stable counting
    sorts (by ``hi``, then by ``lo``) order the edges by ``(lo, hi)`` so that duplicates are
    adjacent and merged with their weights summed. Filling the CSR in that order leaves every
    row sorted: row ``i`` receives its neighbours ``j < i`` (from edges ``(j, i)``, by
    increasing ``j``) before its neighbours ``j > i`` (from edges ``(i, j)``, by increasing ``j``).
    Returns ``(src, dst, weight, indptr, indices, weights)`` as documented in :class:`LayoutGraph`.
    """
    m = src.shape[0]
    lo = np.empty(m, np.int64)
    hi = np.empty(m, np.int64)
    wt = np.empty(m, np.float64)
    k = 0
    for e in range(m):
        if src[e] != dst[e]:
            lo[k] = min(src[e], dst[e])
            hi[k] = max(src[e], dst[e])
            wt[k] = w[e]
            k += 1
    by_hi = _counting_order(hi, np.arange(k), n)
    perm = _counting_order(lo, by_hi, n)
    e_src = np.empty(k, np.int64)
    e_dst = np.empty(k, np.int64)
    e_w = np.empty(k, np.float64)
    u = 0
    for t in range(k):
        e = perm[t]
        if u > 0 and e_src[u - 1] == lo[e] and e_dst[u - 1] == hi[e]:
            e_w[u - 1] += wt[e]
        else:
            e_src[u] = lo[e]
            e_dst[u] = hi[e]
            e_w[u] = wt[e]
            u += 1
    indptr = np.zeros(n + 1, np.int64)
    for t in range(u):
        indptr[e_src[t] + 1] += 1
        indptr[e_dst[t] + 1] += 1
    for i in range(n):
        indptr[i + 1] += indptr[i]
    fill = indptr[:-1].copy()
    indices = np.empty(2 * u, np.int32)
    weights = np.empty(2 * u, np.float64)
    for t in range(u):
        a = e_src[t]
        b = e_dst[t]
        indices[fill[a]] = b
        weights[fill[a]] = e_w[t]
        fill[a] += 1
        indices[fill[b]] = a
        weights[fill[b]] = e_w[t]
        fill[b] += 1
    return e_src[:u].copy(), e_dst[:u].copy(), e_w[:u].copy(), indptr, indices, weights


@njit(cache=True)
def _counting_order(key, perm, n):
    """``perm`` stably reordered by ``key[perm]`` (keys in ``[0, n)``): one counting sort."""
    start = np.zeros(n + 1, np.int64)
    for t in range(perm.shape[0]):
        start[key[perm[t]] + 1] += 1
    for i in range(n):
        start[i + 1] += start[i]
    out = np.empty(perm.shape[0], np.int64)
    for t in range(perm.shape[0]):
        e = perm[t]
        out[start[key[e]]] = e
        start[key[e]] += 1
    return out
