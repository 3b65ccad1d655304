"""The symmetric CSR of the layout input for large graphs, compiled (two counting sorts, ``O(n + m)``).

:func:`alchemist.layout._input.as_layout_graph` builds the CSR in NumPy (no compile) below
``alchemist.layout._input.COMPILED_MIN_EDGES`` edges and with :func:`symmetric_csr` from there on,
where its ``O(n + m)`` passes save more per call (tens of milliseconds on a million edges) than the one-time compile
costs (about a second; issue 15: the first call on a small graph compiles nothing here).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["symmetric_csr"]


@njit(cache=True)
def symmetric_csr(n, src, dst, w):
    """Merged undirected edges and their symmetric CSR, in ``O(n + m)`` (compiled).

    Self-loops are dropped; each edge becomes ``(lo, hi)`` with ``lo < hi``; two stable counting
    sorts (by ``hi``, then by ``lo``) order the edges by ``(lo, hi)`` so that duplicates are
    adjacent and merged with their weights summed. Filling the CSR in that order leaves every
    row sorted: row ``i`` receives its neighbours ``j < i`` (from edges ``(j, i)``, by
    increasing ``j``) before its neighbours ``j > i`` (from edges ``(i, j)``, by increasing ``j``).
    Returns ``(src, dst, weight, indptr, indices, weights)`` as documented in
    :class:`alchemist.layout._input.LayoutGraph`, the same arrays as its NumPy builder, bit for bit.
    """
    m = src.shape[0]
    lo = np.empty(m, np.int32)  # rows below 2**31 (the caller's condition): 8 bytes an edge less at the peak
    hi = np.empty(m, np.int32)
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
    if u == k:  # no parallel edges merged: the arrays as they are (copies would add 24 bytes an edge at the peak)
        return e_src, e_dst, e_w, indptr, indices, weights
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
