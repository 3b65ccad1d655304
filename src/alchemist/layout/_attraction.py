"""Gravity and edge attraction of the CPU ForceAtlas2, over the rows of the symmetric CSR.

Each node row sums its own edges (every edge is stored in both rows), so the threads write
disjoint rows and need no atomics; float64 throughout. The law of one edge is
:func:`alchemist.layout._laws.attraction` (shared with the CUDA kernel), gravity
:func:`alchemist.layout._laws.gravity_factor`; the default (linear attraction, no hub
dissuasion, no overlap) takes the branch-free :func:`attraction_linear`. The rows are split
into per-thread shares of equal cost once per layout (:func:`attraction_shares`).
"""

from __future__ import annotations

import functools

import numpy as np
from numba import cfunc, njit, types

from alchemist.layout._laws import attraction, gravity_factor
from alchemist.layout._tree import F1, F2, I1, I4, parallel_tree

__all__ = ["attraction_shares", "attraction_rows", "attraction_rows_kernel", "attraction_gravity", "attraction_linear"]

# cost of the serial tree build per node, in units of one attraction edge (measured: ~50 ns per
# node on ego-Facebook against ~2 ns per CSR entry), to balance the tree's thread against the rest
_TREE_COST_PER_NODE = 25

_attraction = njit(inline="always")(attraction)
_gravity_factor = njit(inline="always")(gravity_factor)


@njit(cache=True, error_model="numpy")
def attraction_shares(indptr, n_threads):
    """Row bounds of the threads' shares of the attraction for :func:`alchemist.layout._loop.tree_and_attraction`
    (computed once per layout: they depend only on the graph and the thread count).

    ``n_threads`` is ``numba.get_num_threads()`` (passed in: reading it in a kernel would make
    it uncacheable). Where thread 0 also builds the serial tree, its share is smaller by the
    tree's cost, ``_TREE_COST_PER_NODE`` edge-units per node (one per CSR entry).
    """
    n = indptr.shape[0] - 1
    nt = max(1, n_threads)
    return _row_shares(indptr, nt, 0 if parallel_tree(n, nt) else _TREE_COST_PER_NODE * n)


@njit(inline="always", error_model="numpy")
def _row_shares(indptr, nt, head):
    """Row bounds ``rows[t] .. rows[t + 1]`` of ``nt`` threads' shares of the attraction, equal
    in cost (CSR entries + 2 per row), thread 0's share reduced by ``head`` cost units of
    other work."""
    n = indptr.shape[0] - 1
    rows = np.empty(nt + 1, np.int64)
    rows[0] = 0
    rows[nt] = n
    total = indptr[n] + 2 * n
    per = (total + head) / nt
    first = max(0.0, per - head)  # thread 0's share of the rows
    rest = (total - first) / max(1, nt - 1)
    i = 0
    for t in range(1, nt):
        target = first + (t - 1) * rest
        while i < n and indptr[i] + 2 * i < target:
            i += 1
        rows[t] = i
    return rows


ATTRACTION_ROWS_SIGNATURE = types.void(types.int64, types.int64, F2, F1, F1, I1, I4, F1, types.float64, types.float64,
                                       types.boolean, types.boolean, types.boolean, types.float64, types.boolean, F2)


@functools.cache
def attraction_rows_kernel():
    """:func:`attraction_rows` compiled once as a C callback (``numba.cfunc``, cached on disk).

    Returns
    -------
    numba.core.ccallback.CFunc
        Passed to the compiled loop (:mod:`alchemist.layout._loop`), which calls it through its
        address, so that its machine code is made once and not again in each caller (issue 15).
    """
    return cfunc(ATTRACTION_ROWS_SIGNATURE, cache=True, error_model="numpy")(attraction_rows.py_func)


@njit(cache=True, error_model="numpy")
def attraction_rows(i0, i1, pos, mass, size, indptr, indices, weights, kr, gravity, strong, lin_log, dissuade,
                    coef_att, overlap, att):
    """Gravity and attraction of node rows ``i0 .. i1 - 1`` into ``att``: :func:`attraction_linear`
    in the default mode, else :func:`attraction_gravity`."""
    if lin_log or dissuade or overlap:
        attraction_gravity(i0, i1, pos, mass, size, indptr, indices, weights, kr, gravity, strong, lin_log,
                           dissuade, coef_att, overlap, att)
    else:
        attraction_linear(i0, i1, pos, mass, indptr, indices, weights, kr, gravity, strong, att)


@njit(inline="always", error_model="numpy")
def attraction_gravity(i0, i1, pos, mass, size, indptr, indices, weights, kr, gravity, strong, lin_log,
                       dissuade, coef_att, overlap, att):
    """Gravity and attraction of node rows ``i0 .. i1 - 1`` into ``att`` (``(n, 2)`` float64),
    any mode: each row sums the laws :func:`~alchemist.layout._laws.gravity_factor` and
    :func:`~alchemist.layout._laws.attraction` over its CSR entries (``weights``: one per
    entry); with ``dissuade`` an edge is divided by the mass of its smaller row (its source)."""
    for i in range(i0, i1):
        xi = pos[i, 0]
        yi = pos[i, 1]
        mi = mass[i]
        f = _gravity_factor(xi, yi, mi, kr, gravity, strong)
        fx = 0.0 - xi * f
        fy = 0.0 - yi * f
        si = size[i]
        for e in range(indptr[i], indptr[i + 1]):
            j = np.int64(indices[e])
            m_src = mass[j] if dissuade and j < i else mi  # read only where it divides
            s_j = size[j] if overlap else 0.0
            fx, fy = _attraction(xi - pos[j, 0], yi - pos[j, 1], weights[e], coef_att, m_src, si, s_j, dissuade,
                                 lin_log, overlap, fx, fy)
        att[i, 0] = fx
        att[i, 1] = fy


@njit(inline="always", error_model="numpy")
def attraction_linear(i0, i1, pos, mass, indptr, indices, weights, kr, gravity, strong, att):
    """:func:`attraction_gravity` for linear attraction without hub dissuasion or overlap (the
    default): ``sum_j w_ij (x_j - x_i) = sum_j w_ij x_j - x_i sum_j w_ij``, one gather per edge
    and no branch in the edge loop."""
    for i in range(i0, i1):
        xi = pos[i, 0]
        yi = pos[i, 1]
        sx = 0.0
        sy = 0.0
        sw = 0.0
        for e in range(indptr[i], indptr[i + 1]):
            j = np.int64(indices[e])
            w = weights[e]
            sx += w * pos[j, 0]
            sy += w * pos[j, 1]
            sw += w
        f = _gravity_factor(xi, yi, mass[i], kr, gravity, strong)
        att[i, 0] = sx - sw * xi - xi * f
        att[i, 1] = sy - sw * yi - yi * f
