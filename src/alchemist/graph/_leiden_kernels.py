"""Numba kernels of Leiden's refinement phase, used by ``louvain(leiden=True)``, and the relabelling
of communities between Louvain's levels; imported on first use, so that `import alchemist.graph`
does not load Numba."""

from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

from alchemist.graph._louvain_kernels import PARALLEL_SETUP_MIN_ENTRIES


def louvain_refine(indptr, indices, data, k, comm, order, resolution, m2):
    """The refinement phase of Leiden (Traag, Waltman & van Eck 2019, "From Louvain to Leiden:
    guaranteeing well-connected communities", Sci. Rep. 9, 5233), greedy: each community of
    ``comm`` is split back into singletons, which then merge, in ``order``, within their
    community only: a node still alone and well connected to the rest of its community (weight to
    it ``>= γ k_i (K_S - k_i) / 2m``) joins the sub-community of a neighbour in the same community
    with the largest modularity gain, if that gain is positive and the sub-community is itself well
    connected to the rest. The communities are refined independently (in parallel, Numba threads,
    from :data:`PARALLEL_SETUP_MIN_ENTRIES` adjacency entries), so the result is the same on every thread
    count. Aggregating on the refined partition rather than on ``comm`` lets the next level move
    these sub-communities apart (Leiden's gain over Louvain).

    Parameters
    ----------
    indptr, indices, data : symmetric weighted CSR
    k : (n,) float64
        Weighted degrees (row sums).
    comm : (n,) int64
        Community of each node, ``0 … c-1``.
    order : (n,) int64
        The order in which each community's nodes are visited.
    resolution, m2 : float
        γ and the total weight ``Σ A_ij`` of the level-0 graph.

    Returns
    -------
    (n,) int64
        Sub-community of each node, labelled by one of its nodes; each lies within one community.

    Raises
    ------
    None

    Examples
    --------
    >>> import numpy as np
    >>> indptr, indices = np.array([0, 1, 2, 3, 4]), np.array([1, 0, 3, 2])  # two separate edges
    >>> louvain_refine(indptr, indices, np.ones(4), np.ones(4), np.array([0, 0, 0, 0]),
    ...                np.arange(4), 1.0, 4.0).tolist()  # one community: refined into the two edges
    [1, 1, 3, 3]
    """
    comm = np.asarray(comm, dtype=np.int64)
    order = np.asarray(order, dtype=np.int64)
    scale = float(resolution) / float(m2)
    if indices.shape[0] < PARALLEL_SETUP_MIN_ENTRIES:
        return _refine(indptr, indices, data, k, comm, order, scale)
    return _refine_parallel(indptr, indices, data, k, comm, order, scale, numba.get_num_threads())


@njit(cache=True, inline="always")
def _refine_members(v0, v1, members, indptr, indices, data, k, comm, ctot, ext, ref, rtot, rext, rsize, scale,
                    neigh_w, lst):
    """Leiden's greedy refinement of the nodes ``members[v0:v1]`` (whole communities, in visiting
    order); writes ``ref``, ``rtot``, ``rext``, ``rsize`` of these nodes only."""
    for t in range(v0, v1):
        v = members[t]
        ref[v] = v
        rtot[v] = k[v]
        rext[v] = ext[v]
        rsize[v] = 1
    for t in range(v0, v1):
        v = members[t]
        if rsize[v] != 1 or ref[v] != v:
            continue
        s = comm[v]
        kv = k[v]
        if ext[v] < scale * kv * (ctot[s] - kv):
            continue
        count = 0
        for j in range(indptr[v], indptr[v + 1]):  # without branches: a neighbour's community is a coin toss
            nb = indices[j]
            same = comm[nb] == s
            r = ref[nb] if same else v  # ref of another community's node may not be written yet (threads)
            lst[count] = r
            count += (neigh_w[r] == 0.0) & same
            neigh_w[r] += data[j] * same
        best = -1
        best_gain = 0.0
        w_best = 0.0
        cs = ctot[s]
        for q in range(count):
            r = lst[q]
            wr = neigh_w[r]
            neigh_w[r] = 0.0
            if r == v:  # v is still alone: r == v only through a self-loop
                continue
            rt = rtot[r]
            if rext[r] >= scale * rt * (cs - rt):
                gain = wr - scale * kv * rt
                if gain > best_gain + 1e-12 * (abs(best_gain) + kv):
                    best_gain = gain
                    best = r
                    w_best = wr
        if best >= 0:
            ref[v] = best
            rsize[v] = 0
            rsize[best] += 1
            rtot[best] += kv
            rext[best] += ext[v] - 2.0 * w_best


@njit(cache=True, inline="always")
def _refine_setup(indptr, indices, data, k, comm, order):
    """The communities' members in visiting order (a counting sort of ``order`` by community),
    where each community starts, and the communities' total degrees."""
    n = indptr.shape[0] - 1
    c = 0
    for i in range(n):
        c = max(c, comm[i] + 1)
    mptr = np.zeros(c + 1, dtype=np.int64)
    bound = np.zeros(c + 1, dtype=np.int64)
    ctot = np.zeros(c)
    for i in range(n):
        mptr[comm[i] + 1] += 1
        bound[comm[i] + 1] += indptr[i + 1] - indptr[i]
        ctot[comm[i]] += k[i]
    for a in range(c):
        mptr[a + 1] += mptr[a]
        bound[a + 1] += bound[a]
    pos = mptr[:c].copy()
    members = np.empty(n, dtype=np.int64)
    for t in range(n):
        v = order[t]
        members[pos[comm[v]]] = v
        pos[comm[v]] += 1
    return c, mptr, bound, ctot, members


@njit(cache=True, inline="always")
def _weight_inside(i, indptr, indices, data, comm):
    """The weight from node ``i`` to the other nodes of its community (no branch on the neighbour's
    community: the weight to another community's node counts 0)."""
    ci = comm[i]
    total = 0.0
    for j in range(indptr[i], indptr[i + 1]):
        nb = indices[j]
        total += data[j] * ((comm[nb] == ci) & (nb != i))
    return total


@njit(cache=True)
def _refine(indptr, indices, data, k, comm, order, scale):
    """:func:`louvain_refine` on one thread."""
    n = indptr.shape[0] - 1
    c, mptr, bound, ctot, members = _refine_setup(indptr, indices, data, k, comm, order)
    ext = np.zeros(n)
    for i in range(n):
        ext[i] = _weight_inside(i, indptr, indices, data, comm)
    ref = np.empty(n, dtype=np.int64)
    rtot = np.empty(n)
    rext = np.empty(n)
    rsize = np.empty(n, dtype=np.int64)
    _refine_members(0, n, members, indptr, indices, data, k, comm, ctot, ext, ref, rtot, rext, rsize, scale,
                    np.zeros(n), np.empty(n + 1, dtype=np.int64))
    return ref


@njit(cache=True, parallel=True)
def _refine_parallel(indptr, indices, data, k, comm, order, scale, threads):
    """:func:`louvain_refine` with the communities cut into ``threads`` runs of about equal
    adjacency, each refined by its own thread."""
    n = indptr.shape[0] - 1
    c, mptr, bound, ctot, members = _refine_setup(indptr, indices, data, k, comm, order)
    ext = np.zeros(n)
    for i in prange(n):
        ext[i] = _weight_inside(i, indptr, indices, data, comm)
    split = np.searchsorted(bound, np.arange(threads + 1) * (bound[c] / threads))
    split[0] = 0
    split[threads] = c
    ref = np.empty(n, dtype=np.int64)
    rtot = np.empty(n)
    rext = np.empty(n)
    rsize = np.empty(n, dtype=np.int64)
    for t in prange(threads):
        _refine_members(mptr[split[t]], mptr[split[t + 1]], members, indptr, indices, data, k, comm, ctot, ext, ref,
                        rtot, rext, rsize, scale, np.zeros(n), np.empty(n + 1, dtype=np.int64))
    return ref
