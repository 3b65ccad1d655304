"""Exact nearest-prototype search for continuous metrics on the CPU (used by
:func:`alchemist.concepts.categorize`).

For a (weighted) Euclidean metric — one domain of continuous dimensions, or no space at all —
:func:`nearest_euclidean` uses the expansion ``‖x − p‖² = ‖p‖² − 2 x·p + ‖x‖²`` in float32 with
SIMD over the prototypes, then re-checks every point whose best and runner-up candidates lie
within the float32 rounding bound in float64, so labels equal those of an exact float64
search. Up to ``GRID_MAX_DIMS`` dimensions, :func:`nearest_grid` first prunes each cell of a
grid over the prototypes to the candidates that can be nearest (bounds from the cell's nearest
and farthest points), and points are compared in float64 with their cell's candidates only.
Spaces of several continuous domains get the same treatment with per-domain norms of
coordinate differences (:func:`nearest_multidomain`: ``Σ_q W_q ‖x_q − p_q‖`` in float32, near
ties re-ranked in float64). Kernels are Numba ``@njit(parallel=True)`` over blocks of points.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

__all__ = ["BLOCK", "GRID_MAX_DIMS", "nearest_euclidean", "nearest_grid", "nearest_multidomain"]

BLOCK = 256  # points per parallel task
_CHUNK = 16
GRID_MAX_DIMS = 4
_GRID_CELLS_PER_PROTOTYPE = 2.0


def nearest_multidomain(x, p, dim_w, dom_w, dom_of) -> np.ndarray:
    """Nearest prototype under the combined metric of several continuous domains (float32 + exact re-check).

    Coordinates are centred on the prototypes' mean and scaled by ``sqrt(dim_w)``, the dimensions
    grouped by domain, so that ``d(x, p) = Σ_q W_q ‖x_q − p_q‖`` with per-domain Euclidean norms
    of coordinate differences (no expansion, hence no cancellation). The float32 error of each
    domain's term, with the sum over domains, is bounded by
    ``(n_q + n_domains + 4)·ε₃₂·W_q·(‖x_q‖ + max‖p_q‖)``; candidates within twice the summed
    bound of the float32 minimum are re-ranked in float64, so labels equal those of an exact
    float64 search (smallest index among exact ties).
    """
    used = np.flatnonzero(dim_w > 0)
    order = used[np.argsort(dom_of[used], kind="stable")]
    doms, starts = np.unique(dom_of[order], return_index=True)
    starts = np.append(starts, len(order)).astype(np.int64)
    big_w = dom_w[doms].astype(np.float64)
    scale = np.sqrt(dim_w[order])
    xs = x[:, order] * scale
    ps = p[:, order] * scale
    center = ps.mean(axis=0)
    xs -= center
    ps -= center
    n, k = xs.shape[0], ps.shape[0]
    k16 = (k + _CHUNK - 1) // _CHUNK * _CHUNK
    pt = np.zeros((len(order), k16), dtype=np.float32)
    pt[:, :k] = ps.T
    # padding prototypes sit far away so that they never win
    pt[:, k:] = np.float32(np.abs(ps).max() * 8 + np.abs(xs).max() * 8 + 1.0)
    eps = float(np.finfo(np.float32).eps)
    tol = np.zeros(n)
    for q in range(len(doms)):
        a, b = starts[q], starts[q + 1]
        xq = np.sqrt((xs[:, a:b] ** 2).sum(axis=1))
        pq = float(np.sqrt((ps[:, a:b] ** 2).sum(axis=1).max()))
        tol += big_w[q] * (b - a + len(doms) + 4) * eps * (xq + pq)
    tol = (2.0 * tol + 1e-30).astype(np.float32)
    labels = np.empty(n, dtype=np.int64)
    _nearest_multidomain_f32(
        xs.astype(np.float32), pt, starts, big_w.astype(np.float32), tol, xs, ps, big_w, labels
    )
    return labels


def nearest_grid(x: np.ndarray, p: np.ndarray, cap: int | None = None) -> np.ndarray | None:
    """Exact nearest prototype in low dimension through a grid of cells.

    The bounding box of points and prototypes is cut into about ``_GRID_CELLS_PER_PROTOTYPE``
    cells per prototype, each axis at (rounded) quantiles of the prototypes' coordinates. For the box
    ``C`` spanned by the points of a cell, the candidates are the prototypes ``p`` with
    ``min_{x∈C} ‖x − p‖ ≤ U = min_q max_{x∈C} ‖x − q‖``: every point of ``C`` has its nearest
    prototype among them (its distance to it is at most ``U``). Boxes are enlarged by a relative
    1e-7 and ``U`` by a relative 1e-9, far above the float64 rounding of the bounds, so the
    search is exact: the float64 argmin of ``Σ (x − p)²``, the smallest index among exact ties,
    as in the blocked kernel's re-check. Returns ``None`` (the caller then uses the blocked
    kernel) when the grid would do more than a tenth of the brute force's distance
    evaluations, as with points far from clustered prototypes.
    """
    n, d = x.shape
    k = p.shape[0]
    lo = np.minimum(x.min(axis=0), p.min(axis=0))
    hi = np.maximum(x.max(axis=0), p.max(axis=0))
    g_side = max(1, int(round((_GRID_CELLS_PER_PROTOTYPE * k) ** (1.0 / d))))
    # each axis: fine uniform bins, grouped into cells at the prototypes' quantiles
    n_fine = 32 * g_side
    fine_h = np.maximum(hi - lo, 1e-300) / n_fine
    table = np.empty((d, n_fine), dtype=np.int64)
    sizes = []
    for j in range(d):
        qs = np.quantile(p[:, j], np.arange(1, g_side) / g_side)
        cuts = np.unique(np.clip(np.round((qs - lo[j]) / fine_h[j]), 1, n_fine - 1).astype(np.int64))
        table[j] = np.searchsorted(cuts, np.arange(n_fine), side="right")
        sizes.append(len(cuts) + 1)
    g = np.array(sizes, dtype=np.int64)
    margin = 1e-7 * (hi - lo) + 1e-15 * float(np.abs(np.concatenate([lo, hi])).max()) + 1e-300
    n_cells = int(np.prod(g))
    pt = np.ascontiguousarray(p.T)
    offsets = np.zeros(n_cells + 1, dtype=np.int64)
    cells = np.empty(n, dtype=np.int32)
    _grid_cells(x, lo, 1.0 / fine_h, table, g, cells)
    box_lo = np.full((n_cells, d), np.inf)
    box_hi = np.full((n_cells, d), -np.inf)
    _cell_boxes(x, cells, box_lo, box_hi)
    box_lo -= margin
    box_hi += margin
    if cap is None:  # candidates kept per cell in the first pass (the rest recomputed)
        cap = int(min(k, max(16, 8_000_000 // n_cells)))
    scratch = np.empty((n_cells, cap), dtype=np.int32)
    counts = _grid_candidates(pt, box_lo, box_hi, scratch)
    work = float(np.dot(np.bincount(cells, minlength=n_cells).astype(np.float64), counts))
    if work > 0.1 * n * k:
        return None
    offsets[1:] = np.cumsum(counts)
    cand = np.empty(int(offsets[-1]), dtype=np.int32)
    _gather_candidates(pt, box_lo, box_hi, scratch, counts, offsets, cand)
    labels = np.empty(n, dtype=np.int64)
    _grid_nearest(x, p, cells, offsets, cand, labels)
    return labels


def nearest_euclidean(x: np.ndarray, p: np.ndarray) -> np.ndarray:
    n, d = x.shape
    k = p.shape[0]
    d4 = (d + 3) // 4 * 4
    k16 = (k + _CHUNK - 1) // _CHUNK * _CHUNK
    x32 = np.zeros((n, d4), dtype=np.float32)
    x32[:, :d] = x
    pt = np.zeros((d4, k16), dtype=np.float32)
    pt[:d, :k] = -2.0 * p.T
    pn = np.full(k16, np.finfo(np.float32).max / 4, dtype=np.float32)
    pn[:k] = (p * p).sum(axis=1)
    xn = np.sqrt((x * x).sum(axis=1))
    pmax = float(np.sqrt((p * p).sum(axis=1).max()))
    # bound on the float32 error of ‖p‖² − 2 x·p (d + 2 roundings of terms ≤ (‖x‖ + ‖p‖)²)
    tol = ((4.0 * (d + 2) * np.finfo(np.float32).eps) * (xn + pmax) ** 2 + 1e-30).astype(np.float32)
    labels = np.empty(n, dtype=np.int64)
    _nearest_expanded_f32(x32, pt, pn, tol, x, p, labels)
    return labels


# ---------------------------------------------------------------------- kernels
@njit(cache=True, parallel=True, fastmath=True)
def _grid_candidates(pt, box_lo, box_hi, scratch):  # pragma: no cover - compiled
    """Per cell, the prototypes whose distance to the cell's box is at most ``U``.

    ``U`` = the smallest over prototypes of the distance to the box's farthest point. Returns
    the counts; the indices, ascending, go to ``scratch[c]`` when they fit (else
    :func:`_gather_candidates` recomputes them). Empty cells (``box_lo > box_hi``) get none.
    """
    d, k = pt.shape
    n_cells, cap = scratch.shape
    counts = np.zeros(n_cells, dtype=np.int64)
    for c in prange(n_cells):
        if box_lo[c, 0] > box_hi[c, 0]:
            continue
        near = _box_bounds(pt, box_lo[c], box_hi[c])
        u = near[k]
        cnt = 0
        for m in range(k):
            if near[m] <= u:
                if cnt < cap:
                    scratch[c, cnt] = m
                cnt += 1
        counts[c] = cnt
    return counts


@njit(cache=True, fastmath=True)
def _box_bounds(pt, blo, bhi):  # pragma: no cover - compiled
    """Squared distances from a box to each prototype (``[:k]``) and the bound ``U²`` (``[k]``)."""
    d, k = pt.shape
    far = np.zeros(k)
    near = np.zeros(k + 1)
    for j in range(d):
        lo = blo[j]
        hi = bhi[j]
        row = pt[j]
        for m in range(k):
            a = row[m] - lo
            b = hi - row[m]
            f = max(a, b)
            e = max(max(-a, -b), 0.0)
            far[m] += f * f
            near[m] += e * e
    u = far[0]
    for m in range(1, k):
        u = min(u, far[m])
    near[k] = u * (1.0 + 1e-9) + 1e-300
    return near


@njit(cache=True, parallel=True)
def _gather_candidates(pt, box_lo, box_hi, scratch, counts, offsets, cand):  # pragma: no cover - compiled
    """Copy each cell's candidates into CSR order, recomputing those that overflowed ``scratch``."""
    k = pt.shape[1]
    n_cells, cap = scratch.shape
    for c in prange(n_cells):
        base = offsets[c]
        if counts[c] <= cap:
            for t in range(counts[c]):
                cand[base + t] = scratch[c, t]
        else:
            near = _box_bounds(pt, box_lo[c], box_hi[c])
            cnt = 0
            for m in range(k):
                if near[m] <= near[k]:
                    cand[base + cnt] = m
                    cnt += 1


@njit(cache=True, parallel=True)
def _grid_cells(x, lo, inv_h, table, g, cells):  # pragma: no cover - compiled
    """Cell of each point: per axis its fine bin, mapped to a cell through ``table``."""
    n, d = x.shape
    n_fine = table.shape[1]
    for i in prange(n):
        c = 0
        stride = 1
        for j in range(d):
            f = int((x[i, j] - lo[j]) * inv_h[j])
            f = min(max(f, 0), n_fine - 1)
            c += table[j, f] * stride
            stride *= g[j]
        cells[i] = c


@njit(cache=True)
def _cell_boxes(x, cells, box_lo, box_hi):  # pragma: no cover - compiled
    """Bounding box of the points of each cell."""
    n, d = x.shape
    for i in range(n):
        c = cells[i]
        for j in range(d):
            v = x[i, j]
            if v < box_lo[c, j]:
                box_lo[c, j] = v
            if v > box_hi[c, j]:
                box_hi[c, j] = v


@njit(cache=True, parallel=True)
def _grid_nearest(x, p, cells, offsets, cand, labels):  # pragma: no cover - compiled
    """Exact float64 nearest prototype among the candidates of each point's cell (smallest index on ties)."""
    n, d = x.shape
    n_blocks = (n + 4 * BLOCK - 1) // (4 * BLOCK)
    for blk in prange(n_blocks):
        for i in range(blk * 4 * BLOCK, min(n, (blk + 1) * 4 * BLOCK)):
            c = cells[i]
            best = np.inf
            arg = 0
            for t in range(offsets[c], offsets[c + 1]):
                m = cand[t]
                s = 0.0
                for j in range(d):
                    dd = x[i, j] - p[m, j]
                    s += dd * dd
                if s < best:
                    best = s
                    arg = m
            labels[i] = arg


@njit(cache=True, parallel=True, fastmath=True)
def _nearest_expanded_f32(x32, pt, pn, tol, x64, p64, labels):  # pragma: no cover - compiled
    """Nearest prototype by ‖x‖² + ‖p‖² − 2x·p + tol in float32 (non-negative by the error bound).

    Dimensions are taken four at a time (one pass over the accumulator per four FMAs). The
    accumulator is read back as int32 — non-negative floats order like their bit patterns — so
    that the minimum, the count of candidates within ``2·tol`` of it and their index are integer
    reductions the compiler vectorises. Near-ties are settled exactly in float64.
    """
    n, d4 = x32.shape
    k16 = pn.shape[0]
    k = p64.shape[0]
    n_blocks = (n + BLOCK - 1) // BLOCK
    for blk in prange(n_blocks):
        acc = np.empty(k16, dtype=np.float32)
        bits = acc.view(np.int32)
        thr_f = np.empty(1, dtype=np.float32)
        thr_bits = thr_f.view(np.int32)
        for i in range(blk * BLOCK, min(n, (blk + 1) * BLOCK)):
            off = tol[i]
            for j in range(d4):
                off += x32[i, j] * x32[i, j]
            x0 = x32[i, 0]
            x1 = x32[i, 1]
            x2 = x32[i, 2]
            x3 = x32[i, 3]
            r0 = pt[0]
            r1 = pt[1]
            r2 = pt[2]
            r3 = pt[3]
            for m in range(k16):
                acc[m] = off + pn[m] + x0 * r0[m] + x1 * r1[m] + x2 * r2[m] + x3 * r3[m]
            for j in range(4, d4, 4):
                x0 = x32[i, j]
                x1 = x32[i, j + 1]
                x2 = x32[i, j + 2]
                x3 = x32[i, j + 3]
                r0 = pt[j]
                r1 = pt[j + 1]
                r2 = pt[j + 2]
                r3 = pt[j + 3]
                for m in range(k16):
                    acc[m] += x0 * r0[m] + x1 * r1[m] + x2 * r2[m] + x3 * r3[m]
            best = np.int32(2147483647)
            for m in range(k16):
                v = bits[m]
                best = v if v < best else best
            thr_bits[0] = best
            thr_f[0] = thr_f[0] + 2.0 * tol[i]
            thr = thr_bits[0]
            count = 0
            arg = -1
            for m in range(k16):
                hit = bits[m] <= thr
                count += hit
                cand = m if hit else -1
                arg = cand if cand > arg else arg
            if count == 1 and arg < k:
                labels[i] = arg
            else:
                labels[i] = _exact_among(x64, p64, i, bits, thr)


@njit(cache=True, parallel=True, fastmath=True)
def _nearest_multidomain_f32(x32, pt, starts, big_w32, tol, x64, p64, big_w, labels):  # pragma: no cover - compiled
    """Σ_q W_q ‖x_q − p_q‖ in float32 over all prototypes (SIMD over them); near ties in float64."""
    n = x32.shape[0]
    k16 = pt.shape[1]
    k = p64.shape[0]
    n_dom = big_w.shape[0]
    n_blocks = (n + BLOCK - 1) // BLOCK
    for blk in prange(n_blocks):
        acc = np.empty(k16, dtype=np.float32)
        sq = np.empty(k16, dtype=np.float32)
        for i in range(blk * BLOCK, min(n, (blk + 1) * BLOCK)):
            for m in range(k16):
                acc[m] = 0.0
            for q in range(n_dom):
                for m in range(k16):
                    sq[m] = 0.0
                for j in range(starts[q], starts[q + 1]):
                    xj = x32[i, j]
                    r = pt[j]
                    for m in range(k16):
                        t = xj - r[m]
                        sq[m] += t * t
                wq = big_w32[q]
                for m in range(k16):
                    acc[m] += wq * math.sqrt(sq[m])
            best = acc[0]
            for m in range(1, k16):
                best = min(best, acc[m])
            thr = best + tol[i]
            count = 0
            arg = -1
            for m in range(k16):
                hit = acc[m] <= thr
                count += hit
                cand = m if hit else -1
                arg = cand if cand > arg else arg
            if count == 1 and arg < k:
                labels[i] = arg
            else:
                labels[i] = _exact_among_domains(x64, p64, starts, big_w, i, acc, thr)


@njit(cache=True, fastmath=False)
def _exact_among_domains(x64, p64, starts, big_w, i, acc, thr):  # pragma: no cover - compiled
    best = np.inf
    arg = 0
    for m in range(p64.shape[0]):
        if acc[m] <= thr:
            s = 0.0
            for q in range(big_w.shape[0]):
                sq = 0.0
                for j in range(starts[q], starts[q + 1]):
                    t = x64[i, j] - p64[m, j]
                    sq += t * t
                s += big_w[q] * math.sqrt(sq)
            if s < best:
                best = s
                arg = m
    return arg


@njit(cache=True, fastmath=False)
def _exact_among(x64, p64, i, bits, thr):  # pragma: no cover - compiled
    best = np.inf
    arg = 0
    d = x64.shape[1]
    for m in range(p64.shape[0]):
        if bits[m] <= thr:
            s = 0.0
            for j in range(d):
                t = x64[i, j] - p64[m, j]
                s += t * t
            if s < best:
                best = s
                arg = m
    return arg
