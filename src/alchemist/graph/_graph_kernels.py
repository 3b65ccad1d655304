"""Numba kernels for adjacency building (counting sort) and connected components, used by
:mod:`alchemist.graph.csr` and :mod:`alchemist.graph.analytics`.

Every kernel is O(n + m) over plain int64 arrays: no comparison sort, no scipy matrix.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True)
def group_by_row(rows, n):
    """Counting sort of entries by row (stable): ``indptr`` (n + 1,) and ``order`` (m,) such that
    ``order[indptr[r]:indptr[r + 1]]`` are the positions of row ``r``'s entries, in input order."""
    m = rows.shape[0]
    indptr = np.zeros(n + 1, dtype=np.int64)
    for i in range(m):
        indptr[rows[i] + 1] += 1
    for r in range(n):
        indptr[r + 1] += indptr[r]
    pos = indptr[:n].copy()
    order = np.empty(m, dtype=np.int64)
    for i in range(m):
        r = rows[i]
        order[pos[r]] = i
        pos[r] += 1
    return indptr, order


@njit(cache=True, parallel=True)
def sorted_csr(src, dst, w, n, directed, shift):
    """CSR of the edges ``src → dst`` (both directions when not ``directed``, a self-loop once),
    each row sorted by neighbour, ties (parallel edges) in edge order, forward entries before
    reversed ones: what a stable sort of the concatenated entries by (row, col) gives, in
    O(n + m + Σ d log d). One counting-sort pass drops each entry into its row as the key
    ``col << shift | tag`` (``tag``: the edge, plus ``m`` for a reversed entry; ``2m < 2**shift``,
    ``n << shift`` below 2**63), then each row's keys are sorted where they lie (the row is in
    cache) and decoded: one array of random writes instead of one per output.
    Returns ``indptr``, ``indices``, ``weights`` (``w`` per entry) and ``edge``."""
    m = src.shape[0]
    indptr = np.zeros(n + 1, dtype=np.int64)
    for e in range(m):
        indptr[src[e] + 1] += 1
        if not directed and src[e] != dst[e]:
            indptr[dst[e] + 1] += 1
    for r in range(n):
        indptr[r + 1] += indptr[r]
    nnz = indptr[n]
    pos = indptr[:n].copy()
    keys = np.empty(nnz, dtype=np.int64)
    for e in range(m):
        r = src[e]
        keys[pos[r]] = (dst[e] << shift) | e
        pos[r] += 1
    if not directed:
        for e in range(m):
            r = dst[e]
            if r != src[e]:
                keys[pos[r]] = (src[e] << shift) | (m + e)
                pos[r] += 1
    mask = (np.int64(1) << shift) - 1
    indices = np.empty(nnz, dtype=np.int64)
    weights = np.empty(nnz, dtype=np.float64)
    edge = np.empty(nnz, dtype=np.int64)
    for r in prange(n):
        a, b = indptr[r], indptr[r + 1]
        if b - a > 24:
            keys[a:b] = np.sort(keys[a:b])
        else:  # insertion sort: rows of real graphs are mostly short
            for i in range(a + 1, b):
                k = keys[i]
                j = i - 1
                while j >= a and keys[j] > k:
                    keys[j + 1] = keys[j]
                    j -= 1
                keys[j + 1] = k
        for i in range(a, b):
            k = keys[i]
            indices[i] = k >> shift
            t = k & mask
            e = t - m if t >= m else t
            edge[i] = e
            weights[i] = w[e]
    return indptr, indices, weights, edge


@njit(cache=True, parallel=True)
def adjacency(rows, cols, w, n, both, weighted, chunks):
    """Entries ``rows[e] → cols[e]`` (and ``cols[e] → rows[e]`` when ``both``, a self-loop once)
    grouped by row by a counting sort, for kernels that only sum over a row or only walk it
    (PageRank's pull step, Tarjan's search): no row is sorted. Parallel over ``chunks``
    contiguous slices of the edges, each counting its entries per row and then writing them to
    its own part of each row, so a row holds its entries in edge order whatever ``chunks`` is.
    Returns ``indptr``, the column of each entry and its weight ``w[e]`` (an empty array unless
    ``weighted``)."""
    m = rows.shape[0]
    chunks = max(1, min(chunks, m))
    counts = np.zeros((chunks, n + 1), dtype=np.int64)
    for c in prange(chunks):
        cnt = counts[c]
        for e in range(m * c // chunks, m * (c + 1) // chunks):
            a = rows[e]
            b = cols[e]
            cnt[a] += 1
            if both and a != b:
                cnt[b] += 1
    indptr = np.zeros(n + 1, dtype=np.int64)
    for r in range(n):  # each chunk's first slot in each row
        s = indptr[r]
        for c in range(chunks):
            k = counts[c, r]
            counts[c, r] = s
            s += k
        indptr[r + 1] = s
    nnz = indptr[n]
    out = np.empty(nnz, dtype=np.int64)
    weights = np.empty(nnz if weighted else 0)
    for c in prange(chunks):
        pos = counts[c]
        for e in range(m * c // chunks, m * (c + 1) // chunks):
            a = rows[e]
            b = cols[e]
            k = pos[a]
            out[k] = b
            if weighted:
                weights[k] = w[e]
            pos[a] = k + 1
            if both and a != b:
                k = pos[b]
                out[k] = a
                if weighted:
                    weights[k] = w[e]
                pos[b] = k + 1
    return indptr, out, weights


@njit(cache=True)
def row_sums(indptr, values):
    """Sum of ``values`` over each CSR row."""
    n = indptr.shape[0] - 1
    out = np.zeros(n)
    for r in range(n):
        s = 0.0
        for k in range(indptr[r], indptr[r + 1]):
            s += values[k]
        out[r] = s
    return out


@njit(cache=True)
def weak_components(src, dst, n):
    """Component of each node of the undirected graph underneath (direction ignored), by Rem's
    union–find with splicing (Dijkstra 1976, "A discipline of programming", ch. 23; the fastest
    variant in Patwary, Blair & Manne 2010, "Experiments on union-find algorithms for the
    disjoint-set data structure", SEA): the two paths are climbed together, each step pointing
    the node with the larger parent at the smaller parent, and stop as soon as they meet; labels
    ``0 … k-1`` by decreasing size, ties by first row."""
    parent = np.arange(n, dtype=np.int64)
    for e in range(src.shape[0]):
        x = src[e]
        y = dst[e]
        px = parent[x]
        py = parent[y]
        while px != py:
            if px > py:
                parent[x] = py
                if x == px:
                    break
                x = px
                px = parent[x]
            else:
                parent[y] = px
                if y == py:
                    break
                y = py
                py = parent[y]
    # parent[v] <= v throughout, so each root is the smallest row of its tree and, scanning rows
    # in order, parent[parent[v]] is already v's root: labels in order of first row
    labels = np.empty(n, dtype=np.int64)
    k = 0
    for v in range(n):
        if parent[v] == v:
            labels[v] = k
            k += 1
        else:
            root = parent[parent[v]]
            parent[v] = root
            labels[v] = labels[root]
    return by_size(labels, k)


@njit(cache=True)
def strong_components(indptr, indices):
    """Strongly connected components by Tarjan's algorithm (Tarjan 1972, SIAM J. Comput. 1(2)),
    iterative (an explicit call stack of (node, next edge)), each node's edges scanned in one
    tight loop until it finds an unvisited neighbour; a node leaving the stack gets an index above
    every live one (Pearce 2016, "A space-efficient algorithm for finding strongly connected
    components", IPL 116(1)), so no on-stack flags are kept, and a node without out-edges is its
    own component at once, without a visit. Labels ``0 … k-1`` by decreasing size, ties by first row."""
    n = indptr.shape[0] - 1
    done = n + 1
    index = np.full(n, -1, dtype=np.int64)
    low = np.empty(n, dtype=np.int64)
    stack = np.empty(n, dtype=np.int64)
    call_node = np.empty(n, dtype=np.int64)
    call_edge = np.empty(n, dtype=np.int64)
    comp = np.empty(n, dtype=np.int64)
    counter = 0
    top = 0
    k = 0
    for s in range(n):
        if index[s] >= 0:
            continue
        if indptr[s] == indptr[s + 1]:
            index[s] = done
            comp[s] = k
            k += 1
            continue
        index[s] = counter
        low[s] = counter
        counter += 1
        stack[top] = s
        top += 1
        depth = 1
        call_node[0] = s
        call_edge[0] = indptr[s]
        while depth > 0:
            v = call_node[depth - 1]
            e = call_edge[depth - 1]
            end = indptr[v + 1]
            lv = low[v]
            pushed = False
            while e < end:
                w = indices[e]
                e += 1
                iw = index[w]
                if iw < 0 and indptr[w] == indptr[w + 1]:  # unvisited, no out-edges: a component
                    index[w] = done
                    comp[w] = k
                    k += 1
                    continue
                if iw < 0:  # unvisited: descend
                    call_edge[depth - 1] = e
                    low[v] = lv
                    index[w] = counter
                    low[w] = counter
                    counter += 1
                    stack[top] = w
                    top += 1
                    call_node[depth] = w
                    call_edge[depth] = indptr[w]
                    depth += 1
                    pushed = True
                    break
                lv = min(lv, iw)  # on the stack, or finished (index `done`, above all: no change)
            if pushed:
                continue
            depth -= 1
            if lv == index[v]:
                while True:
                    top -= 1
                    w = stack[top]
                    index[w] = done
                    comp[w] = k
                    if w == v:
                        break
                k += 1
            else:
                low[v] = lv
                u = call_node[depth - 1]
                if lv < low[u]:
                    low[u] = lv
    # number in order of first row, then by size
    remap = np.full(k, -1, dtype=np.int64)
    nxt = 0
    for v in range(n):
        c = comp[v]
        if remap[c] < 0:
            remap[c] = nxt
            nxt += 1
        comp[v] = remap[c]
    return by_size(comp, k)


@njit(cache=True)
def by_size(labels, k):
    """Labels ``0 … k-1`` given in order of first row, renumbered by decreasing size (ties keep
    the first-row order) by a counting sort of the sizes: O(n + k + largest size)."""
    counts = np.zeros(k, dtype=np.int64)
    for v in range(labels.shape[0]):
        counts[labels[v]] += 1
    largest = 0
    for c in range(k):
        largest = max(largest, counts[c])
    start = np.zeros(largest + 1, dtype=np.int64)
    for c in range(k):
        start[counts[c]] += 1
    r = 0
    for size in range(largest, -1, -1):  # the first rank of each size, largest first
        many = start[size]
        start[size] = r
        r += many
    rank = np.empty(k, dtype=np.int64)
    for c in range(k):
        rank[c] = start[counts[c]]
        start[counts[c]] += 1
    out = np.empty(labels.shape[0], dtype=np.int64)
    for v in range(labels.shape[0]):
        out[v] = rank[labels[v]]
    return out
