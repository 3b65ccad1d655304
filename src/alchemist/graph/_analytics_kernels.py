"""Numba kernels of alchemist.graph.analytics (imported on first use, so that `import alchemist.graph` does not load Numba)."""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True, parallel=True)
def pagerank_kernel(indptr, cols, w, out_w, p, alpha, tol, max_iter):
    """Power iteration of PageRank on the in-neighbour CSR (``cols`` of row v are the u of u → v),
    one parallel loop over the nodes a step: each new rank also makes the next step's scaled rank
    ``x / out_w`` and adds to the dangling mass; an empty ``w`` means every weight is 1 (no
    weight read). Returns (x, iterations, last L1 change)."""
    n = indptr.shape[0] - 1
    unit = w.shape[0] == 0 and cols.shape[0] > 0
    x = np.full(n, 1.0 / n)
    inv_out = np.zeros(n)
    scaled = np.empty(n)
    nxt = np.empty(n)
    dangling = 0.0
    for u in prange(n):
        if out_w[u] > 0:
            inv_out[u] = 1.0 / out_w[u]
        else:
            dangling += x[u]
        scaled[u] = x[u] * inv_out[u]
    err = np.inf
    it = 0
    for it in range(max_iter):
        err = 0.0
        nd = 0.0
        for v in prange(n):
            s = 0.0
            if unit:
                for j in range(indptr[v], indptr[v + 1]):
                    s += scaled[cols[j]]
            else:
                for j in range(indptr[v], indptr[v + 1]):
                    s += scaled[cols[j]] * w[j]
            nv = alpha * (s + dangling * p[v]) + (1.0 - alpha) * p[v]
            err += abs(nv - x[v])
            x[v] = nv
            nxt[v] = nv * inv_out[v]
            if out_w[v] <= 0:
                nd += nv
        scaled, nxt = nxt, scaled
        dangling = nd
        if err < n * tol:
            break
    return x, it + 1, err


@njit(cache=True)
def pagerank_serial(indptr, cols, w, out_w, p, alpha, tol, max_iter, unit):
    """:func:`pagerank_kernel` on one thread, for small graphs: no parallel region to start in
    each step (nor for each array the parallel kernel allocates), and no weight read when
    ``unit`` (every weight 1; ``w`` may then be empty). The same iterations and results to rounding."""
    n = indptr.shape[0] - 1
    x = np.full(n, 1.0 / n)
    inv_out = np.zeros(n)
    scaled = np.empty(n)
    dangling = 0.0
    for u in range(n):
        if out_w[u] > 0:
            inv_out[u] = 1.0 / out_w[u]
        else:
            dangling += x[u]
        scaled[u] = x[u] * inv_out[u]
    nxt = np.empty(n)
    err = np.inf
    it = 0
    for it in range(max_iter):
        err = 0.0
        nd = 0.0
        for v in range(n):
            s = 0.0
            if unit:
                for j in range(indptr[v], indptr[v + 1]):
                    s += scaled[cols[j]]
            else:
                for j in range(indptr[v], indptr[v + 1]):
                    s += scaled[cols[j]] * w[j]
            nv = alpha * (s + dangling * p[v]) + (1.0 - alpha) * p[v]
            err += abs(nv - x[v])
            x[v] = nv
            nxt[v] = nv * inv_out[v]
            if out_w[v] <= 0:
                nd += nv
        scaled, nxt = nxt, scaled
        dangling = nd
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


@njit(cache=True)
def forward_adjacency(indptr, indices):
    """The forward adjacency of the triangle count: each edge oriented from the lower-degree end
    to the higher (ties by row), as ``fptr`` (int64) and ``fwd`` (int32: half the memory traffic).
    Branch-free: which way an edge points is as good as random, so each entry is written and the
    write position advances by the test's 0 or 1 (a mispredicted branch per entry cost more than
    the rest of this pass)."""
    n = indptr.shape[0] - 1
    deg = np.empty(n, dtype=np.int64)
    for u in range(n):
        deg[u] = indptr[u + 1] - indptr[u]
    fptr = np.zeros(n + 1, dtype=np.int64)
    for u in range(n):
        du = deg[u]
        c = 0
        for j in range(indptr[u], indptr[u + 1]):
            v = indices[j]
            dv = deg[v]
            c += np.int64(dv > du) | (np.int64(dv == du) & np.int64(v > u))
        fptr[u + 1] = fptr[u] + c
    fwd = np.empty(fptr[n] + 1, dtype=np.int32)  # one spare slot for the last unkept write
    for u in range(n):
        du = deg[u]
        k = fptr[u]
        for j in range(indptr[u], indptr[u + 1]):
            v = indices[j]
            dv = deg[v]
            fwd[k] = v
            k += np.int64(dv > du) | (np.int64(dv == du) & np.int64(v > u))
    return fptr, fwd[:fptr[n]]


@njit(cache=True)
def count_triangles(fptr, fwd, first, step, tri):
    """Add to ``tri`` the triangles found from the nodes ``first, first + step, …`` of the forward
    adjacency (see :func:`triangle_kernel`)."""
    n = fptr.shape[0] - 1
    mark = np.full(n, -1, dtype=np.int32)
    hits = 0
    steps = 0
    for u in range(first, n, step):
        a, b = fptr[u], fptr[u + 1]
        if b - a < 2:
            continue
        for j in range(a, b):
            mark[fwd[j]] = u
        branchless = 8 * hits > steps and 8 * hits < 7 * steps
        tu = 0
        for j in range(a, b):
            v = fwd[j]
            tv = 0
            if branchless:
                for k in range(fptr[v], fptr[v + 1]):
                    w = fwd[k]
                    h = np.int64(mark[w] == u)
                    tv += h
                    tri[w] += h
            else:
                for k in range(fptr[v], fptr[v + 1]):
                    w = fwd[k]
                    if mark[w] == u:
                        tv += 1
                        tri[w] += 1
            steps += fptr[v + 1] - fptr[v]
            tri[v] += tv
            tu += tv
        hits += tu
        tri[u] += tu


@njit(cache=True, parallel=True)
def triangle_kernel(indptr, indices, n_chunks=1):
    """Triangles at each node of a simple undirected graph by the forward algorithm (Schank &
    Wagner 2005, "Finding, counting and listing all triangles in large graphs", §4): orient each
    edge from the lower-degree end to the higher (ties by row), then every triangle is found once
    as u → v, u → w, v → w, by marking u's forward neighbours and scanning each one's; O(m^1.5).
    The triangles of u and v add up in registers; those of w are counted where they are found,
    with a branch while the marks rarely (or nearly always) hit, and without one (a count of
    0 or 1 added every step) while the hit rate stays between 1/8 and 7/8, where the branch would
    mispredict (clustered graphs such as ego-Facebook: about 2.5× faster).
    Parallel over ``n_chunks`` interleaved slices of u (the caller passes about four per thread
    when more than one runs, for balance), each counting into its own row of partial counts
    (summed at the end, so the counts are exact; 8 × n_chunks bytes per node). One thread:
    :func:`triangles_serial`."""
    n = indptr.shape[0] - 1
    fptr, fwd = forward_adjacency(indptr, indices)
    n_chunks = max(1, min(n_chunks, n))
    partial = np.zeros((n_chunks, n), dtype=np.int64)
    for c in prange(n_chunks):
        count_triangles(fptr, fwd, c, n_chunks, partial[c])
    out = np.zeros(n)
    for c in range(n_chunks):
        for v in range(n):
            out[v] += partial[c, v]
    return out


@njit(cache=True)
def triangles_serial(indptr, indices):
    """:func:`triangle_kernel` on one thread, without the parallel regions that a ``parallel=True``
    kernel starts even for its array allocations (tens of µs a call on small graphs)."""
    n = indptr.shape[0] - 1
    fptr, fwd = forward_adjacency(indptr, indices)
    tri = np.zeros(n, dtype=np.int64)
    count_triangles(fptr, fwd, 0, 1, tri)
    return tri.astype(np.float64)
