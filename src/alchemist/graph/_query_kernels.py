"""Numba kernels of alchemist.graph.queries (imported on first use, so that `import alchemist.graph` does not load Numba)."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def bfs(indptr, indices, seeds, max_depth, target):
    """Multi-source BFS; ``dist`` -1 where unreached; stops at ``max_depth`` (-1: no limit) or
    when ``target`` (>= 0) is reached."""
    n = indptr.shape[0] - 1
    dist = np.full(n, -1, dtype=np.int64)
    parent = np.full(n, -1, dtype=np.int64)
    queue = np.empty(n, dtype=np.int64)
    head, tail = 0, 0
    for s in seeds:
        if dist[s] < 0:
            dist[s] = 0
            queue[tail] = s
            tail += 1
    if target >= 0 and dist[target] == 0:
        return dist, parent
    while head < tail:
        u = queue[head]
        head += 1
        if max_depth >= 0 and dist[u] >= max_depth:
            continue
        for j in range(indptr[u], indptr[u + 1]):
            v = indices[j]
            if dist[v] < 0:
                dist[v] = dist[u] + 1
                parent[v] = u
                if v == target:
                    return dist, parent
                queue[tail] = v
                tail += 1
    return dist, parent


@njit(cache=True)
def bfs_bidirectional(indptr, indices, rptr, rind, s, t):
    """Bidirectional BFS: grow the side whose frontier has fewer edges to scan, one whole level
    at a time, until the two searches meet; the best meeting node over that level gives a
    shortest path. Returns (length, meeting node or -1, forward parents, backward parents)."""
    n = indptr.shape[0] - 1
    df = np.full(n, -1, dtype=np.int64)
    db = np.full(n, -1, dtype=np.int64)
    pf = np.full(n, -1, dtype=np.int64)
    pb = np.full(n, -1, dtype=np.int64)
    qf = np.empty(n, dtype=np.int64)
    qb = np.empty(n, dtype=np.int64)
    df[s] = 0
    db[t] = 0
    if s == t:
        return 0.0, s, pf, pb
    qf[0] = s
    qb[0] = t
    f0, f1, b0, b1 = 0, 1, 0, 1
    while f0 < f1 and b0 < b1:
        if _frontier_work(qf, f0, f1, indptr) <= _frontier_work(qb, b0, b1, rptr):
            end, best, meet = _expand_level(qf, f0, f1, indptr, indices, df, pf, db)
            f0, f1 = f1, end
        else:
            end, best, meet = _expand_level(qb, b0, b1, rptr, rind, db, pb, df)
            b0, b1 = b1, end
        if meet >= 0:
            return float(best), meet, pf, pb
    return np.inf, -1, pf, pb


@njit(cache=True)
def _frontier_work(queue, start, stop, ptr):
    """Edges to scan to expand the frontier ``queue[start:stop]``."""
    work = 0
    for i in range(start, stop):
        work += ptr[queue[i] + 1] - ptr[queue[i]]
    return work


@njit(cache=True)
def _expand_level(queue, start, stop, ptr, ind, dist, parent, other):
    """One BFS level of one side of :func:`bfs_bidirectional`: append the newly reached nodes
    to ``queue`` and track the best meeting node with the ``other`` side's distances. Returns
    (new end of the queue, best length, meeting node), -1 for both when the sides did not meet."""
    best = -1
    meet = -1
    end = stop
    for i in range(start, stop):
        u = queue[i]
        for j in range(ptr[u], ptr[u + 1]):
            v = ind[j]
            if dist[v] < 0:
                dist[v] = dist[u] + 1
                parent[v] = u
                queue[end] = v
                end += 1
            if other[v] >= 0 and (best < 0 or dist[v] + other[v] < best):
                best = dist[v] + other[v]
                meet = v
    return end, best, meet


@njit(cache=True)
def _heap_push(keys, vals, size, key, val):
    i = size
    keys[i] = key
    vals[i] = val
    while i > 0:
        p = (i - 1) >> 1
        if keys[p] <= keys[i]:
            break
        keys[p], keys[i] = keys[i], keys[p]
        vals[p], vals[i] = vals[i], vals[p]
        i = p
    return size + 1


@njit(cache=True)
def _heap_pop(keys, vals, size):
    key, val = keys[0], vals[0]
    size -= 1
    keys[0] = keys[size]
    vals[0] = vals[size]
    i = 0
    while True:
        left = 2 * i + 1
        if left >= size:
            break
        c = left
        if left + 1 < size and keys[left + 1] < keys[left]:
            c = left + 1
        if keys[i] <= keys[c]:
            break
        keys[c], keys[i] = keys[i], keys[c]
        vals[c], vals[i] = vals[i], vals[c]
        i = c
    return key, val, size


@njit(cache=True)
def dijkstra_all(indptr, indices, w, s):
    n = indptr.shape[0] - 1
    dist = np.full(n, np.inf)
    done = np.zeros(n, dtype=np.bool_)
    cap = indices.shape[0] + 1
    keys = np.empty(cap, dtype=np.float64)
    vals = np.empty(cap, dtype=np.int64)
    dist[s] = 0.0
    size = _heap_push(keys, vals, 0, 0.0, s)
    while size > 0:
        d, u, size = _heap_pop(keys, vals, size)
        if done[u]:
            continue
        done[u] = True
        for j in range(indptr[u], indptr[u + 1]):
            v = indices[j]
            nd = d + w[j]
            if nd < dist[v]:
                dist[v] = nd
                size = _heap_push(keys, vals, size, nd, v)
    return dist


@njit(cache=True)
def dijkstra_bidirectional(indptr, indices, w, rptr, rind, rw, s, t):
    """Bidirectional Dijkstra: alternate forward (from s) and backward (to t) steps; stop when
    the two frontier minima add up to at least the best s–t length seen (Goldberg & Harchenko
    2005). Returns (length, meeting node or -1, forward parents, backward parents)."""
    n = indptr.shape[0] - 1
    df = np.full(n, np.inf)
    db = np.full(n, np.inf)
    pf = np.full(n, -1, dtype=np.int64)
    pb = np.full(n, -1, dtype=np.int64)
    donef = np.zeros(n, dtype=np.bool_)
    doneb = np.zeros(n, dtype=np.bool_)
    kf = np.empty(indices.shape[0] + 1)
    vf = np.empty(indices.shape[0] + 1, dtype=np.int64)
    kb = np.empty(rind.shape[0] + 1)
    vb = np.empty(rind.shape[0] + 1, dtype=np.int64)
    df[s] = 0.0
    db[t] = 0.0
    sf = _heap_push(kf, vf, 0, 0.0, s)
    sb = _heap_push(kb, vb, 0, 0.0, t)
    best = np.inf
    meet = -1
    if s == t:
        return 0.0, s, pf, pb
    while sf > 0 and sb > 0:
        if kf[0] + kb[0] >= best:
            break
        if kf[0] <= kb[0]:
            d, u, sf = _heap_pop(kf, vf, sf)
            if donef[u]:
                continue
            donef[u] = True
            for j in range(indptr[u], indptr[u + 1]):
                v = indices[j]
                nd = d + w[j]
                if nd < df[v]:
                    df[v] = nd
                    pf[v] = u
                    sf = _heap_push(kf, vf, sf, nd, v)
                if df[v] + db[v] < best:
                    best = df[v] + db[v]
                    meet = v
        else:
            d, u, sb = _heap_pop(kb, vb, sb)
            if doneb[u]:
                continue
            doneb[u] = True
            for j in range(rptr[u], rptr[u + 1]):
                v = rind[j]
                nd = d + rw[j]
                if nd < db[v]:
                    db[v] = nd
                    pb[v] = u
                    sb = _heap_push(kb, vb, sb, nd, v)
                if df[v] + db[v] < best:
                    best = df[v] + db[v]
                    meet = v
    return best, meet, pf, pb


@njit(cache=True)
def induced_edges(indptr, indices, edge_pos, mask, rows):
    """Edge positions (in edge_index order) of the CSR entries between rows in ``mask``."""
    count = 0
    for r in rows:
        for j in range(indptr[r], indptr[r + 1]):
            if mask[indices[j]]:
                count += 1
    out = np.empty(count, dtype=np.int64)
    k = 0
    for r in rows:
        for j in range(indptr[r], indptr[r + 1]):
            if mask[indices[j]]:
                out[k] = edge_pos[j]
                k += 1
    return out
