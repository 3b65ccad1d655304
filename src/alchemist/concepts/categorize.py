"""Batched categorization, distance, similarity and membership matrices (CPU and GPU).

Categorization by prototypes (Gärdenfors 2000, §4.9; Rosch 1975): a point belongs to the
category of its nearest prototype, which partitions the space into the Voronoi tessellation of
the prototypes under the space's metric.

CPU kernels are Numba ``@njit(parallel=True)`` over blocks of points. For a space whose metric
is (weighted) Euclidean — one domain of continuous dimensions, or no space at all — coordinates
are rescaled by the salience weights and searched exactly by
:mod:`alchemist.concepts._nearest` (float32 SIMD with a float64 re-check of near ties, or a
grid of candidate prototypes up to four dimensions); spaces of several continuous domains
likewise, with per-domain norms. Circular or categorical dimensions use the general
combined-metric kernel below, in float64.

GPU kernels (numba.cuda, run on CuPy arrays; :mod:`alchemist.concepts._cuda_kernels`) compute
the same combined metric, one thread per point with the prototypes staged through shared
memory. The per-dimension distances are written once for both
(:mod:`alchemist.concepts._dimension`).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from alchemist.backend import resolve_backend
from alchemist.concepts._dimension import difference, interval_gap
from alchemist.concepts._nearest import BLOCK, GRID_MAX_DIMS, nearest_euclidean, nearest_grid, nearest_multidomain
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

    Examples
    --------
    >>> categorize([[0.1, 0.2], [0.9, 1.0]], [[0, 0], [1, 1]], backend="cpu").tolist()
    [0, 1]
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
    if is_euclidean(arrays):
        scale = np.sqrt(arrays[0] * arrays[1][arrays[2]])
        xs = x * scale
        ps = p * scale
        center = ps.mean(axis=0)
        xs -= center
        ps -= center
        if xs.shape[1] <= GRID_MAX_DIMS:
            labels = nearest_grid(xs, ps)
            if labels is not None:
                return labels
        return nearest_euclidean(xs, ps)
    if is_continuous(arrays):
        return nearest_multidomain(x, p, *arrays[:3])
    labels = np.empty(x.shape[0], dtype=np.int64)
    dim_w, dom_w, dom_of, period, cat = arrays
    _nearest_combined(x, np.ascontiguousarray(p.T), dim_w, dom_w, dom_of, period, cat, labels)
    return labels


def distance_matrix(a, b, space: ConceptualSpace | None = None, backend: str = "auto", weights=None):
    """Pairwise combined-metric distances.

    Parameters
    ----------
    a : array_like, shape ``(n_a, n_dims)``
        Points (NumPy, or CuPy on the GPU backend).
    b : array_like, shape ``(n_b, n_dims)``
        Points.
    space : ConceptualSpace, optional
        The metric (weighted Euclidean within domains, weighted Manhattan across them, circular
        and categorical dimensions); default plain Euclidean.
    backend : {"auto", "cpu", "cuda"}
        Where to compute.
    weights : optional
        Salience weights overriding the space's.

    Returns
    -------
    ndarray, shape ``(n_a, n_b)``
        float64 on the CPU, float32 (CuPy) on the GPU.

    Raises
    ------
    DimensionMismatchError
        If the points disagree in dimension (or with the space).
    ConceptError
        On non-finite coordinates or an empty ``b``.

    Examples
    --------
    >>> from alchemist.concepts import ConceptualSpace
    >>> distance_matrix([[0, 0]], [[3, 4], [1, 0]], backend="cpu").tolist()
    [[5.0, 1.0]]
    >>> two_domains = ConceptualSpace({"a": [0], "b": [1]})  # Manhattan across domains
    >>> distance_matrix([[0, 0]], [[3, 4]], two_domains, backend="cpu").tolist()
    [[7.0]]
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
    """Pairwise similarities ``exp(−c·d)`` or ``1/(1 + c·d)`` (Shepard 1987; Nosofsky 1986).

    Parameters
    ----------
    a, b : array_like, shape ``(n_a, n_dims)``, ``(n_b, n_dims)``
        Points.
    space : ConceptualSpace, optional
        The metric (see :func:`distance_matrix`).
    c : float
        Sensitivity, positive.
    kind : {"exponential", "inverse"}
        The decay of similarity with distance.
    backend : {"auto", "cpu", "cuda"}
        Where to compute.
    weights : optional
        Salience weights overriding the space's.

    Returns
    -------
    ndarray, shape ``(n_a, n_b)``
        Similarities in ``(0, 1]``.

    Raises
    ------
    ConceptError
        If ``c`` is not positive and finite or ``kind`` is unknown.

    Examples
    --------
    >>> similarity_matrix([[0, 0]], [[3, 4], [0, 0]], c=0.5, backend="cpu").round(4).tolist()
    [[0.0821, 1.0]]
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

    Returns
    -------
    ndarray, shape ``(n_points, n_concepts)``
        ``mu_k exp(-c_k d_k(x))`` with ``d_k`` the distance to concept ``k``'s core under its
        weights (CuPy on the GPU backend).

    Raises
    ------
    ConceptError
        If ``concepts`` is empty or mixes spaces; on non-finite coordinates.

    Examples
    --------
    >>> from alchemist.concepts import Concept, ConceptualSpace
    >>> space = ConceptualSpace({"a": [0], "b": [1]})
    >>> square = Concept.from_cuboids(space, [([0, 0], [1, 1])], mu=1.0, c=1.0)
    >>> membership_matrix([[0.5, 0.5], [2, 1]], [square], backend="cpu").round(4).tolist()
    [[1.0], [0.3679]]
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

    Parameters
    ----------
    space : ConceptualSpace or None
        The space; None for plain Euclidean over ``n_dims`` dimensions.
    n_dims : int
        Number of dimensions (used when ``space`` is None).
    weights : optional
        Salience weights overriding the space's.

    Returns
    -------
    dim_w : ndarray, shape ``(n_dims,)``, float64
        Weight of each dimension within its domain.
    dom_w : ndarray, shape ``(n_domains,)``, float64
        Domain weights.
    dom_of : ndarray, shape ``(n_dims,)``, int64
        Domain index of each dimension.
    period : ndarray, shape ``(n_dims,)``, float64
        Period of circular dimensions (0 otherwise).
    categorical : ndarray, shape ``(n_dims,)``, bool
        Whether each dimension is categorical.

    Examples
    --------
    >>> [a.tolist() for a in metric_arrays(None, 2)]
    [[1.0, 1.0], [1.0], [0, 0], [0.0, 0.0], [False, False]]
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


def is_euclidean(arrays) -> bool:
    """Whether a metric is a weighted Euclidean one.

    Parameters
    ----------
    arrays : tuple
        The arrays of :func:`metric_arrays`.

    Returns
    -------
    bool
        True when the dimensions with weight lie in one domain and none is circular or categorical.

    Examples
    --------
    >>> is_euclidean(metric_arrays(None, 3))
    True
    """
    dim_w, dom_w, dom_of, period, cat = arrays
    used = np.unique(dom_of[dim_w > 0])
    return len(used) <= 1 and not (period > 0).any() and not cat.any()


def is_continuous(arrays) -> bool:
    """Whether a metric has no circular or categorical dimension.

    Parameters
    ----------
    arrays : tuple
        The arrays of :func:`metric_arrays`.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_continuous(metric_arrays(None, 3))
    True
    """
    _, _, _, period, cat = arrays
    return not (period > 0).any() and not cat.any()


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
_diff = njit(inline="always")(difference)
_gap = njit(inline="always")(interval_gap)


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
    n_blocks = (n + BLOCK - 1) // BLOCK
    for blk in prange(n_blocks):
        inner = np.empty((n_dom, k))
        total = np.empty(k)
        for i in range(blk * BLOCK, min(n, (blk + 1) * BLOCK)):
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
    """Compile (once) and return the numba.cuda kernels.

    They take device arrays (CuPy) or, under the CUDA simulator, NumPy arrays.

    Returns
    -------
    tuple
        ``(nearest, distances, membership)``, from :mod:`alchemist.concepts._cuda_kernels`.
    """
    global _cuda_kernels
    if _cuda_kernels is None:
        from alchemist.concepts import _cuda_kernels as kernels

        _cuda_kernels = (kernels.nearest, kernels.distances, kernels.membership)
    return _cuda_kernels


def launch_nearest_cuda(x, p, arrays, labels, threads: int = 128):
    """Run the nearest-prototype kernel: ``labels[i] = argmin_m d(x[i], p[m])``.

    Parameters
    ----------
    x : device array, shape ``(n, n_dims)``, float32
        Points (CuPy, or NumPy under the CUDA simulator).
    p : device array, shape ``(k, n_dims)``, float32
        Prototypes (at most 32 dimensions, 16 domains).
    arrays : tuple
        The metric, from :func:`metric_arrays`.
    labels : device array, shape ``(n,)``, int64
        Output.
    threads : int
        Threads per block.
    """
    nearest, _, _ = cuda_kernels()
    dim_w, dom_w, dom_of, period, cat = (_device_like(x, a) for a in arrays)
    blocks = (x.shape[0] + threads - 1) // threads
    nearest[blocks, threads](x, p, dim_w, dom_w, dom_of, period, cat, labels)


def launch_distances_cuda(x, p, arrays, out, threads: int = 128):
    """Run the distance-matrix kernel (one thread per point).

    Parameters
    ----------
    x : device array, shape ``(n, n_dims)``, float32
        Points.
    p : device array, shape ``(k, n_dims)``, float32
        Points of the other side.
    arrays : tuple
        The metric, from :func:`metric_arrays`.
    out : device array, shape ``(n, k)``, float32
        Output.
    threads : int
        Threads per block.
    """
    _, distances, _ = cuda_kernels()
    dim_w, dom_w, dom_of, period, cat = (_device_like(x, a) for a in arrays)
    blocks = (x.shape[0] + threads - 1) // threads
    distances[blocks, threads](x, p, dim_w, dom_w, dom_of, period, cat, out)


def launch_membership_cuda(x, packed, out, threads: int = 128):
    """Run the membership kernel (one thread per point, all concepts).

    Parameters
    ----------
    x : device array, shape ``(n, n_dims)``, float64
        Points.
    packed : tuple
        The concepts as flat arrays (cuboid bounds, offsets, weights, ``mu``, ``c``).
    out : device array, shape ``(n, n_concepts)``, float64
        Output.
    threads : int
        Threads per block.
    """
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
