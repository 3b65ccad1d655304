"""Numba CUDA kernels of :mod:`alchemist.graph.gpu` (imported on first use: ``import alchemist.graph``
does not load ``numba.cuda``).

Each kernel is one parallel step of an algorithm on plain device arrays; the loops that repeat a
step until nothing changes, and the convergence tests, are host code in :mod:`alchemist.graph.gpu`.
One thread per node, edge or CSR entry (``grid``); atomics where two threads may write the same
slot. Integer counts accumulated with float64 atomics are exact (below 2**53), so triangle counts
are identical to the CPU's; float sums (PageRank's dangling mass and L1 change) are summed in a
different order than on the CPU, a difference of a few ulps.

The kernels run unchanged under Numba's CUDA simulator (``NUMBA_ENABLE_CUDASIM=1``), which the
tests use on small graphs.
"""

from __future__ import annotations

from numba import cuda

from alchemist.backend import cuda_simulator

#: Threads per block of every launch (no kernel shares memory or synchronises within a block, so the
#: size only matters for speed: the simulator starts one Python thread per CUDA thread of a block).
THREADS = 32 if cuda_simulator() else 128


def launch(kernel, size: int, *args) -> None:
    """Launch ``kernel`` over ``size`` threads (``ceil(size / THREADS)`` blocks); nothing when 0."""
    if size > 0:
        kernel[(size + THREADS - 1) // THREADS, THREADS](*args)


# ---------------------------------------------------------------------- shared
@cuda.jit
def fill_float(a, value):
    i = cuda.grid(1)
    if i < a.shape[0]:
        a[i] = value


@cuda.jit
def copy_into(src, dst):
    i = cuda.grid(1)
    if i < src.shape[0]:
        dst[i] = src[i]


@cuda.jit
def gather_flagged(flag, out, counter):
    """Append every ``v`` with ``flag[v]`` to ``out`` (slot from ``counter[0]``) and clear the flag."""
    v = cuda.grid(1)
    if v < flag.shape[0] and flag[v] != 0:
        flag[v] = 0
        k = cuda.atomic.add(counter, 0, 1)
        out[k] = v


# ---------------------------------------------------------------------- PageRank
@cuda.jit
def pagerank_scale(x, out_w, scaled, acc):
    """``scaled = x / out_w``; the rank of dangling nodes (no out-weight) summed into ``acc[0]``."""
    u = cuda.grid(1)
    if u < x.shape[0]:
        if out_w[u] > 0:
            scaled[u] = x[u] / out_w[u]
        else:
            scaled[u] = 0.0
            cuda.atomic.add(acc, 0, x[u])


@cuda.jit
def pagerank_pull(indptr, cols, w, scaled, p, alpha, acc, x, new):
    """One pull step along in-edges (row ``v`` of the CSR lists ``v``'s in-neighbours); the L1
    change summed into ``acc[1]``."""
    v = cuda.grid(1)
    if v < new.shape[0]:
        s = 0.0
        for j in range(indptr[v], indptr[v + 1]):
            s += scaled[cols[j]] * w[j]
        value = alpha * (s + acc[0] * p[v]) + (1.0 - alpha) * p[v]
        new[v] = value
        cuda.atomic.add(acc, 1, abs(value - x[v]))


# ---------------------------------------------------------------------- components
@cuda.jit
def hook(src, dst, label, changed):
    """Union step of connected components: the root with the larger id points to the smaller."""
    e = cuda.grid(1)
    if e < src.shape[0]:
        a = label[src[e]]
        b = label[dst[e]]
        if a != b:
            cuda.atomic.min(label, max(a, b), min(a, b))
            changed[0] = 1


@cuda.jit
def compress(label):
    """Pointer jumping: every node points straight at its root."""
    v = cuda.grid(1)
    if v < label.shape[0]:
        r = label[v]
        while label[r] != r:
            r = label[r]
        label[v] = r


@cuda.jit
def trim_degrees(src, dst, active, indeg, outdeg):
    """In- and out-degrees within the active subgraph (self-loops left out)."""
    e = cuda.grid(1)
    if e < src.shape[0]:
        u = src[e]
        v = dst[e]
        if u != v and active[u] != 0 and active[v] != 0:
            cuda.atomic.add(outdeg, u, 1)
            cuda.atomic.add(indeg, v, 1)


@cuda.jit
def trim_nodes(active, indeg, outdeg, label, changed):
    """An active node with no active in- or out-neighbour is a strongly connected component alone."""
    v = cuda.grid(1)
    if v < active.shape[0]:
        if active[v] != 0 and (indeg[v] == 0 or outdeg[v] == 0):
            active[v] = 0
            label[v] = v
            changed[0] = 1
        indeg[v] = 0
        outdeg[v] = 0


@cuda.jit
def colour_init(active, colour, mark):
    v = cuda.grid(1)
    if v < active.shape[0]:
        colour[v] = v if active[v] != 0 else -1
        mark[v] = 0


@cuda.jit
def colour_forward(src, dst, active, colour, changed):
    """Forward propagation of the largest colour along active edges (colouring algorithm)."""
    e = cuda.grid(1)
    if e < src.shape[0]:
        u = src[e]
        v = dst[e]
        if active[u] != 0 and active[v] != 0 and colour[u] > colour[v]:
            cuda.atomic.max(colour, v, colour[u])
            changed[0] = 1


@cuda.jit
def colour_roots(active, colour, mark, label):
    """A node that kept its own colour is the root of its colour class and of one component."""
    v = cuda.grid(1)
    if v < active.shape[0] and active[v] != 0 and colour[v] == v:
        mark[v] = 1
        label[v] = v


@cuda.jit
def colour_backward(src, dst, active, colour, mark, label, changed):
    """Backward reachability from the roots within each colour class."""
    e = cuda.grid(1)
    if e < src.shape[0]:
        u = src[e]
        v = dst[e]
        if active[u] != 0 and mark[v] != 0 and mark[u] == 0 and colour[u] == colour[v]:
            mark[u] = 1
            label[u] = colour[u]
            changed[0] = 1


@cuda.jit
def colour_retire(active, mark, remaining):
    """Remove the nodes placed this round; count the ones left in ``remaining[0]``."""
    v = cuda.grid(1)
    if v < active.shape[0] and active[v] != 0:
        if mark[v] != 0:
            active[v] = 0
        else:
            cuda.atomic.add(remaining, 0, 1)


# ---------------------------------------------------------------------- BFS / SSSP
@cuda.jit
def bfs_level(indptr, indices, frontier, n_front, dist, parent, next_front, counter, level):
    """Expand one BFS level: each frontier node claims its unvisited neighbours by compare-and-swap."""
    i = cuda.grid(1)
    if i < n_front:
        u = frontier[i]
        for j in range(indptr[u], indptr[u + 1]):
            v = indices[j]
            if dist[v] < 0:
                if cuda.atomic.cas(dist, v, -1, level + 1) == -1:
                    parent[v] = u
                    k = cuda.atomic.add(counter, 0, 1)
                    next_front[k] = v


@cuda.jit
def relax(indptr, indices, w, frontier, n_front, dist, flag):
    """Bellman–Ford relaxation of the frontier's out-edges; improved nodes flagged for the next round."""
    i = cuda.grid(1)
    if i < n_front:
        u = frontier[i]
        du = dist[u]
        for j in range(indptr[u], indptr[u + 1]):
            v = indices[j]
            nd = du + w[j]
            if nd < dist[v]:
                old = cuda.atomic.min(dist, v, nd)
                if nd < old:
                    flag[v] = 1


# ---------------------------------------------------------------------- triangles
@cuda.jit(device=True)
def _first_above(indices, lo, hi, key):
    """First position in the sorted ``indices[lo:hi]`` holding a value above ``key``."""
    while lo < hi:
        mid = (lo + hi) // 2
        if indices[mid] <= key:
            lo = mid + 1
        else:
            hi = mid
    return lo


@cuda.jit
def triangles(indptr, indices, rows, tri):
    """Triangles per node of a simple undirected graph (sorted rows): one thread per entry
    ``u → v`` with ``u < v`` intersects the parts of both rows above ``v``, so that each triangle
    ``u < v < w`` is found once and counted at its three corners."""
    j = cuda.grid(1)
    if j < indices.shape[0]:
        u = rows[j]
        v = indices[j]
        if u < v:
            a_end = indptr[u + 1]
            b_end = indptr[v + 1]
            a = _first_above(indices, indptr[u], a_end, v)
            b = _first_above(indices, indptr[v], b_end, v)
            while a < a_end and b < b_end:
                x = indices[a]
                y = indices[b]
                if x == y:
                    cuda.atomic.add(tri, u, 1.0)
                    cuda.atomic.add(tri, v, 1.0)
                    cuda.atomic.add(tri, x, 1.0)
                    a += 1
                    b += 1
                elif x < y:
                    a += 1
                else:
                    b += 1


# ---------------------------------------------------------------------- Louvain
@cuda.jit
def colour_round(indptr, indices, priority, colour, rnd, changed):
    """One round of Jones–Plassmann colouring: an uncoloured node whose priority is above that of
    every uncoloured neighbour takes colour ``rnd`` (neighbours taking it in this same round count
    as uncoloured, so two neighbours never share it); a node that waits sets ``changed[0]``."""
    v = cuda.grid(1)
    if v < colour.shape[0] and colour[v] < 0:
        pv = priority[v]
        for j in range(indptr[v], indptr[v + 1]):
            u = indices[j]
            if u != v and (colour[u] < 0 or colour[u] == rnd) and priority[u] > pv:
                changed[0] = 1
                return
        colour[v] = rnd


@cuda.jit
def louvain_best(indptr, indices, data, k, comm, tot, colour, moving, resolution, m2, keys, vals, target):
    """For each node of colour ``moving``, the neighbouring community with the largest modularity
    gain (``target``; its own when none gains over 1e-12, ties to the smaller label). Weights to
    each neighbouring community are summed in an open-addressing table in the node's own slice
    ``[2 indptr[i], 2 indptr[i+1])`` of ``keys``/``vals``."""
    i = cuda.grid(1)
    if i >= comm.shape[0]:
        return
    ci = comm[i]
    target[i] = ci
    start = 2 * indptr[i]
    slots = 2 * (indptr[i + 1] - indptr[i])
    if colour[i] != moving or slots == 0:
        return
    for s in range(start, start + slots):
        keys[s] = -1
        vals[s] = 0.0
    for j in range(indptr[i], indptr[i + 1]):
        nb = indices[j]
        if nb == i:
            continue
        c = comm[nb]
        h = (c * 40503) % slots
        while keys[start + h] != -1 and keys[start + h] != c:
            h = (h + 1) % slots
        keys[start + h] = c
        vals[start + h] += data[j]
    ki = k[i]
    own = 0.0
    for s in range(start, start + slots):
        if keys[s] == ci:
            own = vals[s]
    best_c = ci
    best_gain = own - resolution * (tot[ci] - ki) * ki / m2
    stay = best_gain
    for s in range(start, start + slots):
        c = keys[s]
        if c < 0 or c == ci:
            continue
        gain = vals[s] - resolution * tot[c] * ki / m2
        if gain > stay + 1e-12 and (gain > best_gain or (gain == best_gain and c < best_c)):
            best_gain = gain
            best_c = c
    target[i] = best_c


@cuda.jit
def louvain_apply(k, comm, tot, target, moves):
    """Move every node to its ``target`` community, updating the community totals."""
    i = cuda.grid(1)
    if i < comm.shape[0]:
        old = comm[i]
        new = target[i]
        if new != old:
            comm[i] = new
            cuda.atomic.add(tot, new, k[i])
            cuda.atomic.add(tot, old, -k[i])
            cuda.atomic.add(moves, 0, 1)


@cuda.jit
def louvain_quality(indptr, indices, data, comm, tot, acc):
    """``acc[0] += Σ A_ij`` over pairs in one community; ``acc[1] += tot_c²`` (communities are
    labelled by node rows, so thread ``i`` adds community ``i``'s total)."""
    i = cuda.grid(1)
    if i < comm.shape[0]:
        ci = comm[i]
        s = 0.0
        for j in range(indptr[i], indptr[i + 1]):
            if comm[indices[j]] == ci:
                s += data[j]
        cuda.atomic.add(acc, 0, s)
        cuda.atomic.add(acc, 1, tot[i] * tot[i])
