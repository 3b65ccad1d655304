"""Compressed sparse row (CSR) adjacency of a graph's edge arrays, for the kernels.

Public to the package: :meth:`Graph.csr <alchemist.graph.Graph.csr>`, the queries and the
analytics all build their adjacency with :func:`build_csr`.
"""

from __future__ import annotations

import numpy as np

__all__ = ["build_csr", "has_parallel", "PACKED_BITS"]

#: Bits of the (column, edge) keys that :func:`build_csr`'s kernel packs into an int64; a graph whose
#: keys need more takes NumPy's stable sort instead.
PACKED_BITS = 62


def build_csr(src, dst, w, n: int, directed: bool):
    """CSR of the edges (both directions when undirected, self-loops once), each row's
    neighbours sorted.

    Parameters
    ----------
    src, dst : (m,) int64
        Endpoint rows in ``0 … n-1``.
    w : (m,) float64
        Edge weights.
    n : int
        Number of nodes.
    directed : bool
        When False each edge ``u–v`` (``u != v``) appears in the rows of both ends.

    Returns
    -------
    indptr : (n + 1,) int64
    indices : (nnz,) int64
    weights : (nnz,) float64
    edge : (nnz,) int64
        Position of each entry's edge in ``src``/``dst``.

    Raises
    ------
    None
        Rows outside ``0 … n-1`` are not checked (the callers pass the graph's own arrays).

    Examples
    --------
    >>> indptr, indices, _, _ = build_csr(np.array([0, 1]), np.array([1, 2]), np.ones(2), 3, False)
    >>> indptr.tolist(), indices.tolist()
    ([0, 1, 3, 4], [1, 0, 2, 1])
    """
    src = np.asarray(src, dtype=np.int64)
    dst = np.asarray(dst, dtype=np.int64)
    w = np.asarray(w, dtype=np.float64)
    shift = max(1, int(2 * src.shape[0]).bit_length())
    if max(n, 1).bit_length() + shift <= PACKED_BITS:
        # a counting sort of packed (col, edge) keys into rows, then each row sorted in place:
        # one Numba kernel, no concatenated copies
        from alchemist.graph._graph_kernels import sorted_csr

        return sorted_csr(src, dst, w, int(n), bool(directed), shift)
    # beyond the packed keys' range: NumPy's stable sort of the concatenated entries
    m = src.shape[0]
    eid = np.arange(m, dtype=np.int64)
    if directed:
        rows, cols, ww, ee = src, dst, w, eid
    else:
        keep = src != dst
        rows = np.concatenate([src, dst[keep]])
        cols = np.concatenate([dst, src[keep]])
        ww = np.concatenate([w, w[keep]])
        ee = np.concatenate([eid, eid[keep]])
    order = np.lexsort((cols, rows))
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    return indptr, cols[order], ww[order], ee[order]


def has_parallel(src, dst, directed) -> bool:
    """Whether two edges join the same pair of rows (the same ordered pair when ``directed``).

    Parameters
    ----------
    src, dst : (m,) int64
        Endpoint rows.
    directed : bool

    Returns
    -------
    bool

    Raises
    ------
    None

    Examples
    --------
    >>> has_parallel(np.array([0, 1]), np.array([1, 0]), False), has_parallel(np.array([0, 1]), np.array([1, 0]), True)
    (True, False)
    """
    if src.shape[0] == 0:
        return False
    a, b = (src, dst) if directed else (np.minimum(src, dst), np.maximum(src, dst))
    keys = a * (int(max(a.max(), b.max())) + 1) + b
    return np.unique(keys).shape[0] != keys.shape[0]
