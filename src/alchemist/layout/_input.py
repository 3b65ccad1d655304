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

from alchemist.errors import LayoutError

# from this many edges on, the CSR is built by the compiled alchemist.layout._csr.symmetric_csr (faster per
# call by tens of milliseconds on a million edges; a second of compile once); below, in NumPy
COMPILED_MIN_EDGES = 200_000

__all__ = ["LayoutGraph", "as_layout_graph", "edge_arrays", "symmetric_csr_numpy", "COMPILED_MIN_EDGES"]


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
    if src.size >= COMPILED_MIN_EDGES and n < 2**31:  # the compiled builder keys the rows as int32
        from alchemist.layout._csr import symmetric_csr  # imports Numba

        e_src, e_dst, e_w, indptr, indices, weights = symmetric_csr(n, src, dst, w)
    else:
        e_src, e_dst, e_w, indptr, indices, weights = symmetric_csr_numpy(n, src, dst, w)
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


def symmetric_csr_numpy(n, src, dst, w):
    """Merged undirected edges and their symmetric CSR, in NumPy (no compiled kernel: issue 15, the
    first call's compile time; from ``COMPILED_MIN_EDGES`` edges on,
    :func:`alchemist.layout._csr.symmetric_csr` builds the same arrays faster).

    Self-loops are dropped; each edge becomes ``(lo, hi)`` with ``lo < hi``; a stable sort by
    ``(lo, hi)`` makes duplicates adjacent, and each merged weight is the first one plus the
    others in input order (``np.add.at`` adds in index order), the same floating-point sums as
    a loop over the edges. Row ``i`` of the CSR holds its neighbours ``j < i`` (the edges
    ``(j, i)``, by increasing ``j``: a stable sort of the merged edges by ``hi``), then its
    neighbours ``j > i`` (the edges ``(i, j)``, already in order), so every row is sorted.
    Returns ``(src, dst, weight, indptr, indices, weights)`` as documented in :class:`LayoutGraph`.
    """
    keep = src != dst
    if not keep.all():  # self-loops
        src, dst, w = src[keep], dst[keep], w[keep]
    lo = np.minimum(src, dst)
    key = lo * n + (src + dst - lo)  # lo * n + hi
    perm = _stable_order(key, n * n)
    key = key[perm]
    first = np.ones(key.size, dtype=bool)
    np.not_equal(key[1:], key[:-1], out=first[1:])
    wt = w[perm]
    if first.all():  # no parallel edges
        e_w = wt
    else:
        key, e_w = key[first], wt[first]
        rest = ~first
        np.add.at(e_w, np.cumsum(first)[rest] - 1, wt[rest])
    e_src = key // n
    e_dst = key - e_src * n
    n_below = np.bincount(e_dst, minlength=n)  # neighbours j < i of each row i
    n_above = np.bincount(e_src, minlength=n)  # neighbours j > i
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(n_below + n_above, out=indptr[1:])
    indices = np.empty(2 * e_src.size, np.int32)
    weights = np.empty(2 * e_src.size, np.float64)
    by_hi = _stable_order(e_dst, n)
    rank = np.arange(e_src.size)
    below_start = np.cumsum(n_below) - n_below
    above_start = np.cumsum(n_above) - n_above
    rows = e_dst[by_hi]
    at = indptr[rows] + rank - below_start[rows]
    indices[at] = e_src[by_hi]
    weights[at] = e_w[by_hi]
    at = indptr[e_src] + n_below[e_src] + rank - above_start[e_src]
    indices[at] = e_dst
    weights[at] = e_w
    return e_src, e_dst, e_w, indptr, indices, weights


def _stable_order(key, bound):
    """The stable sorting permutation of ``key`` (int64 in ``[0, bound)``).

    Where ``bound * len(key)`` fits in 63 bits, each key is packed with its position in the low
    bits and the packed values are sorted (NumPy's vectorised integer sort, several times faster
    than a stable argsort); otherwise a stable argsort.
    """
    shift = max(1, int(key.size - 1).bit_length())
    if int(max(bound - 1, 0)).bit_length() + shift > 63:
        return np.argsort(key, kind="stable")
    return np.sort((key << shift) | np.arange(key.size)) & ((1 << shift) - 1)
