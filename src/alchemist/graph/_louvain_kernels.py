"""Numba kernels of Louvain on the CPU (local moving, aggregation, the symmetric adjacency);
imported on first use, so that `import alchemist.graph` does not load Numba."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def louvain_move(indptr, indices, data, k, comm0, order, resolution, m2):
    """Phase 1 of Louvain with a queue of nodes to visit (the "fast local move" of Traag, Waltman
    & van Eck 2019, "From Louvain to Leiden", Sci. Rep. 9, 5233; Ozaki, Tezuka & Inaba 2016):
    every node starts in the queue, in ``order``; a node moves to the neighbouring community with
    the largest modularity gain, and when it moves, its neighbours outside the new community
    rejoin the queue. Stops when the queue is empty (no move improves modularity). Works on a
    symmetric weighted CSR whose rows need not be sorted or deduplicated (A_ii = twice the
    self-loop weight), starting from the communities ``comm0`` (labels below n). Returns the
    community of each node and the modularity gained."""
    n = indptr.shape[0] - 1
    comm = comm0.copy()
    tot = np.zeros(n)
    for i in range(n):
        tot[comm[i]] += k[i]
    neigh_w = np.zeros(n)
    neigh_list = np.empty(n, dtype=np.int64)
    queue = order.copy()
    queued = np.ones(n, dtype=np.bool_)
    head = 0
    size = n
    gained = 0.0
    scale = resolution / m2
    while size > 0:
        i = queue[head]
        head += 1
        if head == n:
            head = 0
        size -= 1
        queued[i] = False
        ci = comm[i]
        ki = k[i]
        count = 0
        for j in range(indptr[i], indptr[i + 1]):
            nb = indices[j]
            if nb == i:
                continue
            c = comm[nb]
            if neigh_w[c] == 0.0:
                neigh_list[count] = c
                count += 1
            neigh_w[c] += data[j]
        tot[ci] -= ki
        stay_gain = neigh_w[ci] - scale * tot[ci] * ki
        best_c = ci
        best_gain = stay_gain
        for t in range(count):
            c = neigh_list[t]
            gain = neigh_w[c] - scale * tot[c] * ki
            if gain > best_gain + 1e-12 * (abs(best_gain) + ki):
                best_gain = gain
                best_c = c
        tot[best_c] += ki
        for t in range(count):
            neigh_w[neigh_list[t]] = 0.0
        neigh_w[ci] = 0.0
        if best_c != ci:
            comm[i] = best_c
            gained += (best_gain - stay_gain) * 2.0 / m2
            for j in range(indptr[i], indptr[i + 1]):
                nb = indices[j]
                if not queued[nb] and comm[nb] != best_c:
                    queued[nb] = True
                    tail = head + size
                    if tail >= n:
                        tail -= n
                    queue[tail] = nb
                    size += 1
    return comm, gained


@njit(cache=True)
def louvain_aggregate(indptr, indices, data, comm, c):
    """Phase 2 of Louvain: the graph of communities (``comm`` in ``0 … c-1``), one entry per
    pair of adjacent communities with the summed weight (the diagonal sums a community's inner
    entries, so it keeps the A_ii = 2 × self-loop convention). Returns CSR arrays and the
    weighted degree of each community."""
    n = indptr.shape[0] - 1
    mptr = np.zeros(c + 1, dtype=np.int64)
    for i in range(n):
        mptr[comm[i] + 1] += 1
    for a in range(c):
        mptr[a + 1] += mptr[a]
    pos = mptr[:c].copy()
    members = np.empty(n, dtype=np.int64)
    for i in range(n):
        members[pos[comm[i]]] = i
        pos[comm[i]] += 1
    acc = np.zeros(c)
    seen = np.zeros(c, dtype=np.bool_)
    lst = np.empty(c, dtype=np.int64)
    optr = np.zeros(c + 1, dtype=np.int64)
    oind = np.empty(indices.shape[0], dtype=np.int64)
    odata = np.empty(indices.shape[0])
    kk = np.zeros(c)
    nnz = 0
    for a in range(c):
        count = 0
        for t in range(mptr[a], mptr[a + 1]):
            i = members[t]
            for j in range(indptr[i], indptr[i + 1]):
                b = comm[indices[j]]
                if not seen[b]:
                    seen[b] = True
                    lst[count] = b
                    count += 1
                acc[b] += data[j]
        for t in range(count):
            b = lst[t]
            oind[nnz] = b
            odata[nnz] = acc[b]
            kk[a] += acc[b]
            nnz += 1
            acc[b] = 0.0
            seen[b] = False
        optr[a + 1] = nnz
    return optr, oind[:nnz].copy(), odata[:nnz].copy(), kk


@njit(cache=True)
def louvain_adjacency(src, dst, w, n):
    """A + Aᵀ of an edge list as CSR arrays by one counting sort (rows grouped, not sorted;
    parallel edges kept apart, a self-loop of weight w listed twice so that A_ii = 2w), and the
    weighted degree of each node."""
    m = src.shape[0]
    indptr = np.zeros(n + 1, dtype=np.int64)
    for e in range(m):
        indptr[src[e] + 1] += 1
        indptr[dst[e] + 1] += 1
    for v in range(n):
        indptr[v + 1] += indptr[v]
    pos = indptr[:n].copy()
    indices = np.empty(2 * m, dtype=np.int64)
    data = np.empty(2 * m)
    k = np.zeros(n)
    for e in range(m):
        a = src[e]
        b = dst[e]
        x = w[e]
        indices[pos[a]] = b
        data[pos[a]] = x
        pos[a] += 1
        indices[pos[b]] = a
        data[pos[b]] = x
        pos[b] += 1
        k[a] += x
        k[b] += x
    return indptr, indices, data, k
