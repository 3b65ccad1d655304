"""Batched categorization, distance, similarity and membership matrices (CPU and GPU).

Categorization by prototypes (Gärdenfors 2000, §4.9; Rosch 1975): a point belongs to the
category of its nearest prototype, which partitions the space into the Voronoi tessellation of
the prototypes under the space's metric.

CPU kernels are Numba ``@njit(parallel=True)`` over blocks of points. For a space whose metric
is (weighted) Euclidean — one domain of continuous dimensions, or no space at all — the kernel
rescales coordinates by the salience weights and uses the expansion
``‖x − p‖² = ‖p‖² − 2 x·p + ‖x‖²`` in float32 with SIMD over the prototypes, then re-checks
every point whose best and runner-up candidates lie within the float32 rounding bound in
float64, so labels equal those of an exact float64 search. Up to four dimensions, a uniform
grid over the prototypes first prunes each cell's candidates to those that can be nearest
(bounds from the cell's nearest and farthest points), and points are compared in float64 with
their cell's candidates only. Spaces of several continuous domains
get the same treatment with per-domain norms of coordinate differences (``Σ_q W_q ‖x_q − p_q‖``
in float32, near ties re-ranked in float64). Circular or categorical dimensions use the general
combined-metric kernel in float64.

GPU kernels (numba.cuda, run on CuPy arrays) compute the same combined metric, one thread per
point with the prototypes staged through shared memory.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from alchemist.backend import resolve_backend
from alchemist.concepts.space import ConceptualSpace
from alchemist.errors import ConceptError, DimensionMismatchError

__all__ = [
    "categorize",
    "distance_matrix",
    "similarity_matrix",
    "membership_matrix",
    "metric_arrays",
]


def categorize(points, prototypes, space: ConceptualSpace | None = None, backend: str = "auto", weights=None):
    """Label each point with the index of its nearest prototype.

    Parameters
    ----------
    points : array_like, shape ``(n_points, n_dims)``
        Finite coordinates (NumPy, or CuPy on the GPU backend).
    prototypes : array_like, shape ``(n_prototypes, n_dims)``
    space : ConceptualSpace, optional
        The metric (combined metric with the space's salience weights); default plain Euclidean.
    backend : {"auto", "cpu", "cuda"}
    weights : optional
        Salience weights overriding the space's (see :meth:`ConceptualSpace.distance`).

    Returns
    -------
    labels : ndarray, shape ``(n_points,)``, int64
        Index of the nearest prototype (the smallest index among exact ties). On the GPU
        backend a CuPy array.

    Raises
    ------
    DimensionMismatchError
        If points and prototypes disagree in dimension (or with the space).
    ConceptError
        On non-finite coordinates or no prototypes.

    Notes
    -----
    Nearest-prototype categorization realises the Voronoi tessellation of the space
    (Gärdenfors 2000, §3.9); under the combined metric its cells are star-shaped around their
    prototypes, and convex when the metric is Euclidean.
    """
    backend = resolve_backend(backend)
    if backend == "cuda":
        import cupy as cp

        x = cp.asarray(points, dtype=cp.float32)
        p = cp.asarray(prototypes, dtype=cp.float32)
        _check_shapes(x.shape, p.shape, space)
        if not bool(cp.isfinite(x).all()) or not bool(cp.isfinite(p).all()):
            raise ConceptError("points or prototypes contain NaN or infinite coordinates")
        arrays = metric_arrays(space, x.shape[1], weights)
        labels = cp.empty(x.shape[0], dtype=cp.int64)
        launch_nearest_cuda(x, p, arrays, labels)
        return labels
    x, p = _check_inputs(points, prototypes, space)
    arrays = metric_arrays(space, x.shape[1], weights)
    if _is_euclidean(arrays):
        scale = np.sqrt(arrays[0] * arrays[1][arrays[2]])
        xs = x * scale
        ps = p * scale
        center = ps.mean(axis=0)
        xs -= center
        ps -= center
        if xs.shape[1] <= _GRID_MAX_DIMS:
            labels = _nearest_grid(xs, ps)
            if labels is not None:
                return labels
        return _nearest_euclidean(xs, ps)
    if _is_continuous(arrays):
        return _nearest_multidomain(x, p, *arrays[:3])
    labels = np.empty(x.shape[0], dtype=np.int64)
    dim_w, dom_w, dom_of, period, cat = arrays
    _nearest_combined(x, np.ascontiguousarray(p.T), dim_w, dom_w, dom_of, period, cat, labels)
    return labels


def distance_matrix(a, b, space: ConceptualSpace | None = None, backend: str = "auto", weights=None):
    """Pairwise combined-metric distances, ``(n_a, n_b)`` float64 (float32 on the GPU).

    Raises
    ------
    DimensionMismatchError, ConceptError
    """
    backend = resolve_backend(backend)
    if backend == "cuda":
        import cupy as cp

        x = cp.asarray(a, dtype=cp.float32)
        p = cp.asarray(b, dtype=cp.float32)
        _check_shapes(x.shape, p.shape, space)
        out = cp.empty((x.shape[0], p.shape[0]), dtype=cp.float32)
        launch_distances_cuda(x, p, metric_arrays(space, x.shape[1], weights), out)
        return out
    x, p = _check_inputs(a, b, space)
    out = np.empty((x.shape[0], p.shape[0]))
    _distances_combined(x, p, *metric_arrays(space, x.shape[1], weights), out)
    return out


def similarity_matrix(a, b, space: ConceptualSpace | None = None, c: float = 1.0, kind: str = "exponential",
                      backend: str = "auto", weights=None):
    """Pairwise similarities ``exp(−c·d)`` or ``1/(1 + c·d)``, shape ``(n_a, n_b)``.

    Raises
    ------
    ConceptError
        If ``c`` is not positive or ``kind`` is unknown.
    """
    if not (isinstance(c, (int, float)) and c > 0 and math.isfinite(c)):
        raise ConceptError(f"sensitivity c = {c!r} must be a positive finite number")
    if kind not in ("exponential", "inverse"):
        raise ConceptError(f"unknown similarity kind {kind!r}; use 'exponential' or 'inverse'")
    d = distance_matrix(a, b, space, backend=backend, weights=weights)
    xp = type(d).__module__.startswith("cupy") and __import__("cupy") or np
    return xp.exp(-c * d) if kind == "exponential" else 1.0 / (1.0 + c * d)


def membership_matrix(points, concepts, backend: str = "auto"):
    """Membership of every point in every fuzzy concept, ``(n_points, n_concepts)`` float64.

    Parameters
    ----------
    points : array_like, shape ``(n_points, n_dims)``
    concepts : sequence of Concept
        Concepts of one conceptual space.
    backend : {"auto", "cpu", "cuda"}

    Raises
    ------
    ConceptError
        If ``concepts`` is empty or mixes spaces; on non-finite coordinates.
    """
    concepts = list(concepts)
    if not concepts:
        raise ConceptError("membership_matrix needs at least one concept")
    space = concepts[0].space
    for k in concepts[1:]:
        if k.space.domains != space.domains:
            raise ConceptError("membership_matrix: the concepts live in different conceptual spaces")
    packed = _pack_concepts(concepts)
    backend = resolve_backend(backend)
    if backend == "cuda":
        import cupy as cp

        x = cp.asarray(points, dtype=cp.float64)
        _check_shapes(x.shape, (1, space.n_dims), space)
        out = cp.empty((x.shape[0], len(concepts)), dtype=cp.float64)
        launch_membership_cuda(x, packed, out)
        return out
    x = space.check_points(points)
    if x.ndim != 2:
        raise DimensionMismatchError(f"points must be (n_points, {space.n_dims}), got shape {x.shape}")
    out = np.empty((x.shape[0], len(concepts)))
    _membership_kernel(x, *packed, out)
    return out


def metric_arrays(space: ConceptualSpace | None, n_dims: int, weights=None):
    """The combined metric as flat arrays for the kernels.

    Returns
    -------
    dim_w : ``(n_dims,)`` float64, weight of each dimension within its domain
    dom_w : ``(n_domains,)`` float64, domain weights
    dom_of : ``(n_dims,)`` int64, domain index of each dimension
    period : ``(n_dims,)`` float64, period of circular dimensions (0 otherwise)
    categorical : ``(n_dims,)`` bool
    """
    if space is None:
        return (np.ones(n_dims), np.ones(1), np.zeros(n_dims, np.int64), np.zeros(n_dims), np.zeros(n_dims, bool))
    w = space.weights_for(weights)
    dim_w, dom_w = w.arrays(space)
    cat = np.array([k == "categorical" for k in space.kinds])
    return dim_w, dom_w, space.domain_of, space.periods.copy(), cat


# ---------------------------------------------------------------------- helpers
def _check_shapes(xs, ps, space):
    if len(xs) != 2 or len(ps) != 2:
        raise DimensionMismatchError(f"points and prototypes must be 2-D arrays, got shapes {xs} and {ps}")
    if xs[1] != ps[1]:
        raise DimensionMismatchError(f"points have {xs[1]} dimensions but prototypes have {ps[1]}")
    if space is not None and xs[1] != space.n_dims:
        raise DimensionMismatchError(f"points have {xs[1]} dimensions; the space has {space.n_dims}")
    if ps[0] == 0:
        raise ConceptError("no prototypes given; categorize needs at least one")


def _check_inputs(points, prototypes, space):
    x = np.ascontiguousarray(points, dtype=np.float64)
    p = np.ascontiguousarray(prototypes, dtype=np.float64)
    _check_shapes(x.shape, p.shape, space)
    for name, arr in (("points", x), ("prototypes", p)):
        if not np.isfinite(arr).all():
            bad = np.argwhere(~np.isfinite(arr))[0]
            raise ConceptError(f"{name} contain a non-finite coordinate {arr[tuple(bad)]!r} at index {tuple(bad)}")
    return x, p


def _is_euclidean(arrays) -> bool:
    dim_w, dom_w, dom_of, period, cat = arrays
    used = np.unique(dom_of[dim_w > 0])
    return len(used) <= 1 and not (period > 0).any() and not cat.any()


def _is_continuous(arrays) -> bool:
    _, _, _, period, cat = arrays
    return not (period > 0).any() and not cat.any()


def _nearest_multidomain(x, p, dim_w, dom_w, dom_of) -> np.ndarray:
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


def _nearest_grid(x: np.ndarray, p: np.ndarray, cap: int | None = None) -> np.ndarray | None:
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


def _nearest_euclidean(x: np.ndarray, p: np.ndarray) -> np.ndarray:
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


def _pack_concepts(concepts):
    space = concepts[0].space
    lo = np.vstack([k.p_min for k in concepts])
    hi = np.vstack([k.p_max for k in concepts])
    offsets = np.cumsum([0] + [len(k.p_min) for k in concepts]).astype(np.int64)
    dim_w = np.zeros((len(concepts), space.n_dims))
    dom_w = np.zeros((len(concepts), len(space.domains)))
    for i, k in enumerate(concepts):
        dim_w[i], dom_w[i] = k.weights.arrays(space)
    mu = np.array([k.mu for k in concepts])
    c = np.array([k.c for k in concepts])
    cat = np.array([kind == "categorical" for kind in space.kinds])
    return lo, hi, offsets, dim_w, dom_w, space.domain_of, space.periods.copy(), cat, mu, c


# ---------------------------------------------------------------------- CPU kernels
_BLOCK = 256
_CHUNK = 16
_GRID_MAX_DIMS = 4
_GRID_CELLS_PER_PROTOTYPE = 2.0


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
    n_blocks = (n + 4 * _BLOCK - 1) // (4 * _BLOCK)
    for blk in prange(n_blocks):
        for i in range(blk * 4 * _BLOCK, min(n, (blk + 1) * 4 * _BLOCK)):
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
    n_blocks = (n + _BLOCK - 1) // _BLOCK
    for blk in prange(n_blocks):
        acc = np.empty(k16, dtype=np.float32)
        bits = acc.view(np.int32)
        thr_f = np.empty(1, dtype=np.float32)
        thr_bits = thr_f.view(np.int32)
        for i in range(blk * _BLOCK, min(n, (blk + 1) * _BLOCK)):
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
    n_blocks = (n + _BLOCK - 1) // _BLOCK
    for blk in prange(n_blocks):
        acc = np.empty(k16, dtype=np.float32)
        sq = np.empty(k16, dtype=np.float32)
        for i in range(blk * _BLOCK, min(n, (blk + 1) * _BLOCK)):
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


@njit(cache=True)
def _diff(a, b, period, categorical):  # pragma: no cover - compiled
    t = abs(a - b)
    if categorical:
        return 1.0 if t > 0 else 0.0
    if period > 0:
        t = t % period
        t = min(t, period - t)
    return t


@njit(cache=True, parallel=True)
def _nearest_combined(x, pt, dim_w, dom_w, dom_of, period, categorical, labels):  # pragma: no cover - compiled
    """Nearest prototype under the general combined metric (circular, categorical dimensions), float64.

    Prototypes transposed ``(n_dims, k)`` so that each dimension's differences are taken over
    all prototypes in one branch-free loop; the arithmetic (and so every distance) is the same
    as :func:`_distances_combined`'s, the smallest index winning exact ties.
    """
    n, d = x.shape
    k = pt.shape[1]
    n_dom = dom_w.shape[0]
    n_blocks = (n + _BLOCK - 1) // _BLOCK
    for blk in prange(n_blocks):
        inner = np.empty((n_dom, k))
        total = np.empty(k)
        for i in range(blk * _BLOCK, min(n, (blk + 1) * _BLOCK)):
            inner[:, :] = 0.0
            for j in range(d):
                w = dim_w[j]
                if w > 0:
                    acc = inner[dom_of[j]]
                    row = pt[j]
                    xi = x[i, j]
                    if categorical[j]:
                        for m in range(k):
                            t = 1.0 if abs(xi - row[m]) > 0 else 0.0
                            acc[m] += w * t * t
                    elif period[j] > 0:
                        per = period[j]
                        for m in range(k):
                            t = abs(xi - row[m])
                            if t >= per:  # the same value as t % per, which is t below per
                                t = t % per
                            t = min(t, per - t)
                            acc[m] += w * t * t
                    else:
                        for m in range(k):
                            t = abs(xi - row[m])
                            acc[m] += w * t * t
            total[:] = 0.0
            for q in range(n_dom):
                wq = dom_w[q]
                acc = inner[q]
                for m in range(k):
                    total[m] += wq * math.sqrt(acc[m])
            best = np.inf
            arg = 0
            for m in range(k):
                if total[m] < best:
                    best = total[m]
                    arg = m
            labels[i] = arg


@njit(cache=True, parallel=True)
def _distances_combined(x, p, dim_w, dom_w, dom_of, period, categorical, out):  # pragma: no cover - compiled
    n, d = x.shape
    k = p.shape[0]
    n_dom = dom_w.shape[0]
    for i in prange(n):
        inner = np.empty(n_dom)
        for m in range(k):
            for q in range(n_dom):
                inner[q] = 0.0
            for j in range(d):
                if dim_w[j] > 0:
                    t = _diff(x[i, j], p[m, j], period[j], categorical[j])
                    inner[dom_of[j]] += dim_w[j] * t * t
            s = 0.0
            for q in range(n_dom):
                s += dom_w[q] * math.sqrt(inner[q])
            out[i, m] = s


@njit(cache=True)
def _gap(x, lo, hi, period, categorical):  # pragma: no cover - compiled
    if lo <= x <= hi:
        return 0.0
    if categorical:
        return 1.0
    if period > 0:
        a = abs(x - lo) % period
        b = abs(x - hi) % period
        return min(min(a, period - a), min(b, period - b))
    return lo - x if x < lo else x - hi


@njit(cache=True, parallel=True)
def _membership_kernel(x, lo, hi, offsets, dim_w, dom_w, dom_of, period, categorical, mu, c, out):  # pragma: no cover
    n, d = x.shape
    n_con = mu.shape[0]
    n_dom = dom_w.shape[1]
    for i in prange(n):
        inner = np.empty(n_dom)
        for q_c in range(n_con):
            best = np.inf
            for cub in range(offsets[q_c], offsets[q_c + 1]):
                for q in range(n_dom):
                    inner[q] = 0.0
                for j in range(d):
                    if dim_w[q_c, j] > 0:
                        t = _gap(x[i, j], lo[cub, j], hi[cub, j], period[j], categorical[j])
                        inner[dom_of[j]] += dim_w[q_c, j] * t * t
                s = 0.0
                for q in range(n_dom):
                    if dom_w[q_c, q] > 0:
                        s += dom_w[q_c, q] * math.sqrt(inner[q])
                best = min(best, s)
            out[i, q_c] = mu[q_c] * math.exp(-c[q_c] * best)


# ---------------------------------------------------------------------- GPU kernels
_cuda_kernels = None


def cuda_kernels():
    """Compile (once) and return the numba.cuda kernels ``(nearest, distances, membership)``.

    They take device arrays (CuPy) or, under the CUDA simulator, NumPy arrays.
    """
    global _cuda_kernels
    if _cuda_kernels is None:
        from alchemist.concepts import _cuda_kernels as kernels

        _cuda_kernels = (kernels.nearest, kernels.distances, kernels.membership)
    return _cuda_kernels


def launch_nearest_cuda(x, p, arrays, labels, threads: int = 128):
    """Run the nearest-prototype kernel: ``labels[i] = argmin_m d(x[i], p[m])``."""
    nearest, _, _ = cuda_kernels()
    dim_w, dom_w, dom_of, period, cat = (_device_like(x, a) for a in arrays)
    blocks = (x.shape[0] + threads - 1) // threads
    nearest[blocks, threads](x, p, dim_w, dom_w, dom_of, period, cat, labels)


def launch_distances_cuda(x, p, arrays, out, threads: int = 128):
    """Run the distance-matrix kernel (one thread per point)."""
    _, distances, _ = cuda_kernels()
    dim_w, dom_w, dom_of, period, cat = (_device_like(x, a) for a in arrays)
    blocks = (x.shape[0] + threads - 1) // threads
    distances[blocks, threads](x, p, dim_w, dom_w, dom_of, period, cat, out)


def launch_membership_cuda(x, packed, out, threads: int = 128):
    """Run the membership kernel (one thread per point, all concepts)."""
    _, _, membership = cuda_kernels()
    dev = [_device_like(x, a) for a in packed]
    blocks = (x.shape[0] + threads - 1) // threads
    membership[blocks, threads](x, *dev, out)


def _device_like(x, a):
    a = np.ascontiguousarray(a)
    if a.dtype == bool:
        a = a.astype(np.int8)
    if type(x).__module__.startswith("cupy"):
        import cupy as cp

        if a.dtype == np.float64 and x.dtype == cp.float32:
            a = a.astype(np.float32)
        return cp.asarray(a)
    if a.dtype == np.float64 and x.dtype == np.float32:
        a = a.astype(np.float32)
    return a
