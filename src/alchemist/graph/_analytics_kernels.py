"""Numba kernels of alchemist.graph.analytics (imported on first use, so that `import alchemist.graph` does not load Numba)."""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True, parallel=True)
def pagerank_kernel(indptr, cols, w, out_w, p, alpha, tol, max_iter):
    """Power iteration of PageRank on the in-neighbour CSR (``cols`` of row v are the u of u → v),
    every loop parallel over nodes; returns (x, iterations, last L1 change)."""
    n = indptr.shape[0] - 1
    x = np.full(n, 1.0 / n)
    inv_out = np.zeros(n)
    for u in prange(n):
        if out_w[u] > 0:
            inv_out[u] = 1.0 / out_w[u]
    scaled = np.empty(n)
    new = np.empty(n)
    err = np.inf
    it = 0
    for it in range(max_iter):
        dangling = 0.0
        for u in prange(n):
            scaled[u] = x[u] * inv_out[u]
            if out_w[u] <= 0:
                dangling += x[u]
        err = 0.0
        for v in prange(n):
            s = 0.0
            for j in range(indptr[v], indptr[v + 1]):
                s += scaled[cols[j]] * w[j]
            nv = alpha * (s + dangling * p[v]) + (1.0 - alpha) * p[v]
            err += abs(nv - x[v])
            new[v] = nv
        x, new = new, x
        if err < n * tol:
            break
    return x, it + 1, err


@njit(cache=True, parallel=True)
def brandes(indptr, indices, rptr, rind, sources):
    """Sum over ``sources`` of Brandes' dependencies δ_s(v) (unnormalized, ordered pairs)."""
    n = indptr.shape[0] - 1
    n_chunks = min(sources.shape[0], 64)
    partial = np.zeros((n_chunks, n))
    for c in prange(n_chunks):
        dist = np.full(n, -1, dtype=np.int64)
        sigma = np.zeros(n)
        delta = np.zeros(n)
        stack = np.empty(n, dtype=np.int64)
        for si in range(c, sources.shape[0], n_chunks):
            s = sources[si]
            # BFS from s counting shortest paths
            dist[s] = 0
            sigma[s] = 1.0
            stack[0] = s
            head, tail = 0, 1
            while head < tail:
                u = stack[head]
                head += 1
                for j in range(indptr[u], indptr[u + 1]):
                    v = indices[j]
                    if dist[v] < 0:
                        dist[v] = dist[u] + 1
                        stack[tail] = v
                        tail += 1
                    if dist[v] == dist[u] + 1:
                        sigma[v] += sigma[u]
            # dependencies in order of decreasing distance; predecessors via in-edges
            for i in range(tail - 1, 0, -1):
                w = stack[i]
                coeff = (1.0 + delta[w]) / sigma[w]
                for j in range(rptr[w], rptr[w + 1]):
                    v = rind[j]
                    if dist[v] >= 0 and dist[v] == dist[w] - 1:
                        delta[v] += sigma[v] * coeff
                partial[c, w] += delta[w]
            for i in range(tail):
                v = stack[i]
                dist[v] = -1
                sigma[v] = 0.0
                delta[v] = 0.0
    return partial.sum(axis=0)


@njit(cache=True, parallel=True)
def triangle_kernel(indptr, indices, n_chunks=4):
    """Triangles at each node of a simple undirected graph by the forward algorithm (Schank &
    Wagner 2005, "Finding, counting and listing all triangles in large graphs", §4): orient each
    edge from the lower-degree end to the higher (ties by row), then every triangle is found once
    as u → v, u → w, v → w; O(m^1.5). Parallel over ``n_chunks`` interleaved slices of u, each
    counting into its own row of partial counts (summed at the end, so the counts are exact;
    8 × n_chunks bytes per node)."""
    n = indptr.shape[0] - 1
    deg = np.empty(n, dtype=np.int64)
    for u in range(n):
        deg[u] = indptr[u + 1] - indptr[u]
    # forward adjacency: neighbours ranked above u
    cnt = np.zeros(n, dtype=np.int64)
    for u in prange(n):
        c = 0
        for j in range(indptr[u], indptr[u + 1]):
            v = indices[j]
            if deg[v] > deg[u] or (deg[v] == deg[u] and v > u):
                c += 1
        cnt[u] = c
    fptr = np.zeros(n + 1, dtype=np.int64)
    for u in range(n):
        fptr[u + 1] = fptr[u] + cnt[u]
    fwd = np.empty(fptr[n], dtype=np.int64)
    for u in prange(n):
        k = fptr[u]
        for j in range(indptr[u], indptr[u + 1]):
            v = indices[j]
            if deg[v] > deg[u] or (deg[v] == deg[u] and v > u):
                fwd[k] = v
                k += 1
    n_chunks = max(1, min(n_chunks, n))
    partial = np.zeros((n_chunks, n))
    for c in prange(n_chunks):
        mark = np.full(n, -1, dtype=np.int64)
        tri = partial[c]
        for u in range(c, n, n_chunks):
            for j in range(fptr[u], fptr[u + 1]):
                mark[fwd[j]] = u
            for j in range(fptr[u], fptr[u + 1]):
                v = fwd[j]
                for k in range(fptr[v], fptr[v + 1]):
                    w = fwd[k]
                    if mark[w] == u:
                        tri[u] += 1.0
                        tri[v] += 1.0
                        tri[w] += 1.0
    return partial.sum(axis=0)
