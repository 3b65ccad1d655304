"""Betweenness of fuzzy concepts through α-cuts, evaluated by vertex enumeration.

Bechberger & Kühnberger (arXiv:1707.02292, §6) lift the soft betweenness of points,
``B(x, y, z) = d(x, z) / (d(x, y) + d(y, z))``, to concepts ``S̃₁, S̃₂, S̃₃`` α-cut by α-cut,

    f(α) = min_{y ∈ S₂^α} max_{x ∈ S₁^α, z ∈ S₃^α} B(x, y, z),

and take the infimum of ``f`` over α, or its integral over ``α ∈ (0, 1]``. This module
evaluates ``f(α)`` without a numerical optimiser when every domain the concepts constrain is
one-dimensional and continuous (or ordinal): the combined metric is then a weighted Manhattan
metric ``d(x, y) = Σᵢ wᵢ |xᵢ − yᵢ|`` (``wᵢ = w_δ √w_d``, the betweenness weights being those of
the middle concept, as in the reference implementation), and the α-cut of a concept is the
union over its cuboids ``[l, h]`` of the polytopes ``{x : Σᵢ vᵢ gap(xᵢ, [lᵢ, hᵢ]) ≤ β}`` with
``vᵢ = c wᵢ`` and ``β = −ln(α / μ₀)``.

Inner maximum (exact). Fix ``y``. Split ``x``-space and ``z``-space into the orthant cells of
``y`` (the sign of ``xᵢ − yᵢ``, ``zᵢ − yᵢ`` fixed). On a product of cells,
``1 − B = 2E / D`` with ``D = Σ wᵢ(|xᵢ−yᵢ| + |zᵢ−yᵢ|)`` linear and
``E = Σ_{same side} wᵢ min(|xᵢ−yᵢ|, |zᵢ−yᵢ|)`` concave, so ``E/D`` is quasi-concave and its
minimum over a polytope lies at a vertex. The cells of one cuboid's polytope are
``{x : Σ vᵢ gᵢ(xᵢ) ≤ β, xᵢ on one side of yᵢ}`` with ``gᵢ`` convex piecewise linear; their
vertices have every coordinate at a breakpoint ``lᵢ, hᵢ, yᵢ`` except at most one coordinate,
which makes the budget tight (``lⱼ − r/vⱼ`` or ``hⱼ + r/vⱼ``). Enumerating those candidates
(``3ⁿ(1 + 2n)`` per cuboid, the infeasible ones dropped) and taking the best pair gives the
maximum exactly.

Outer minimum. ``y`` ranges over the vertices of the middle concept's α-cut (the same
enumeration with breakpoints ``lᵢ, hᵢ``); the candidate pairs for a ``y`` are abandoned as soon
as one reaches the best minimum found so far. That the minimum of ``y ↦ max B`` over the α-cut
lies at one of its vertices is not proven here; ``tests/concepts`` checks it against dense
sampling of the α-cut and a global optimiser.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["cut_betweenness", "max_betweenness", "exact_supported"]

MAX_EXACT_DIMS = 6  # 3ⁿ(1 + 2n) candidates per cuboid: 9,477 at n = 6


def exact_supported(space, dims) -> bool:
    """Whether the α-cut betweenness of concepts on ``dims`` can be evaluated by vertex enumeration.

    Every domain touching ``dims`` must be one-dimensional and continuous or ordinal, and there
    may be at most ``MAX_EXACT_DIMS`` dimensions.
    """
    if len(dims) > MAX_EXACT_DIMS:
        return False
    for d in dims:
        if space.kinds[d] not in ("continuous", "ordinal"):
            return False
        if len(space.domains[list(space.domains)[space.domain_of[d]]]) != 1:
            return False
    return True


def cut_betweenness(middle, first, second, dims, alpha: float) -> float:
    """``f(α) = min_{y ∈ middle^α} max_{x ∈ first^α, z ∈ second^α} B(x, y, z)``.

    Parameters
    ----------
    middle, first, second : Concept
        Concepts on the same one-dimensional continuous domains (see :func:`exact_supported`),
        with ``0 < α ≤ min(μ₀)`` of the three.
    dims : list of int
        The dimensions they constrain.
    alpha : float
        The cut level; ``alpha = 0`` gives the limit ``α → 0`` (the three cuts then grow
        without bound around a common centre and ``f`` tends to the value for concentric
        cross-polytopes of radii ``1 / vᵢ``).

    Returns
    -------
    float in ``[0, 1]``
    """
    n_all = middle.space.n_dims
    w = middle.weights.per_dimension(n_all)[dims]
    (ly, hy, vy, by), (lx, hx, vx, bx), (lz, hz, vz, bz) = (_pack(k, dims, alpha) for k in (middle, first, second))
    return float(_cut_betweenness(ly, hy, vy, by, lx, hx, vx, bx, lz, hz, vz, bz, w))


def max_betweenness(y, middle, first, second, dims, alpha: float) -> float:
    """Inner maximum ``max_{x ∈ first^α, z ∈ second^α} B(x, y, z)`` for one point ``y`` (exact).

    ``y`` is given on ``dims`` only (shape ``(len(dims),)``); ``B`` uses ``middle``'s weights.
    """
    n_all = middle.space.n_dims
    w = middle.weights.per_dimension(n_all)[dims]
    (lx, hx, vx, bx), (lz, hz, vz, bz) = (_pack(k, dims, alpha) for k in (first, second))
    y = np.ascontiguousarray(y, dtype=np.float64)
    return float(min(_max_pairs(y, lx, hx, vx, bx, lz, hz, vz, bz, w, np.inf), 1.0))


def _pack(k, dims, alpha):
    v = k.c * k.weights.per_dimension(k.space.n_dims)[dims]
    if alpha == 0.0:
        return np.zeros((1, len(dims))), np.zeros((1, len(dims))), v, 1.0
    lo = np.ascontiguousarray(k.p_min[:, dims])
    hi = np.ascontiguousarray(k.p_max[:, dims])
    return lo, hi, v, max(-math.log(alpha / k.mu), 0.0)


# ---------------------------------------------------------------------- kernels
@njit(cache=True)
def _cut_vertices(lo, hi, v, beta, y, use_y):  # pragma: no cover - compiled
    """Candidate vertices of the α-cut ``∪_k {x : Σ vᵢ gap(xᵢ, [lo_k, hi_k]) ≤ β}``.

    Coordinates at the breakpoints ``lo, hi`` (and ``y`` where ``use_y``) with at most one
    coordinate moved out until the budget is tight; infeasible combinations are dropped.
    """
    n_cub, n = lo.shape
    base = 3 if use_y else 2
    combos = base**n
    cap = n_cub * combos * (1 + 2 * n)
    out = np.empty((cap, n))
    gap = np.empty(n)
    pt = np.empty(n)
    digit = np.empty(n, dtype=np.int64)
    slack = beta * (1.0 + 1e-12) + 1e-300
    m = 0
    for c in range(n_cub):
        for code in range(combos):
            t = code
            for i in range(n):
                digit[i] = t % base
                t //= base
            cost = 0.0
            ok = True
            for i in range(n):
                dg = digit[i]
                if dg == 0:
                    pt[i] = lo[c, i]
                elif dg == 1:
                    pt[i] = hi[c, i]
                else:
                    pt[i] = y[i]
                g = 0.0
                if pt[i] < lo[c, i]:
                    g = (lo[c, i] - pt[i]) * v[i]
                elif pt[i] > hi[c, i]:
                    g = (pt[i] - hi[c, i]) * v[i]
                gap[i] = g
                cost += g
            if cost > slack:
                ok = False
            if ok:
                for i in range(n):
                    out[m, i] = pt[i]
                m += 1
            for j in range(n):
                if digit[j] != 0:
                    continue
                rest = beta - (cost - gap[j])
                if rest < 0.0:
                    continue
                for i in range(n):
                    out[m, i] = pt[i]
                out[m, j] = lo[c, j] - rest / v[j]
                m += 1
                for i in range(n):
                    out[m, i] = pt[i]
                out[m, j] = hi[c, j] + rest / v[j]
                m += 1
    return out[:m]


@njit(cache=True)
def _cut_betweenness(ly, hy, vy, by, lx, hx, vx, bx, lz, hz, vz, bz, w):  # pragma: no cover - compiled
    n = w.shape[0]
    ys = _cut_vertices(ly, hy, vy, by, np.zeros(n), False)
    best = np.inf
    for a in range(ys.shape[0]):
        top = _max_pairs(ys[a], lx, hx, vx, bx, lz, hz, vz, bz, w, best)
        if top < best:
            best = top
    return min(best, 1.0)


@njit(cache=True)
def _max_pairs(y, lx, hx, vx, bx, lz, hz, vz, bz, w, stop):  # pragma: no cover - compiled
    """``max B(x, y, z)`` over the candidate vertices of the two cuts; returns early once ``≥ stop``."""
    n = w.shape[0]
    xs = _cut_vertices(lx, hx, vx, bx, y, True)
    zs = _cut_vertices(lz, hz, vz, bz, y, True)
    dx = np.empty(xs.shape[0])
    for p in range(xs.shape[0]):
        s = 0.0
        for i in range(n):
            s += w[i] * abs(xs[p, i] - y[i])
        dx[p] = s
    dz = np.empty(zs.shape[0])
    for q in range(zs.shape[0]):
        s = 0.0
        for i in range(n):
            s += w[i] * abs(zs[q, i] - y[i])
        dz[q] = s
    top = 0.0
    for p in range(xs.shape[0]):
        for q in range(zs.shape[0]):
            den = dx[p] + dz[q]
            if den > 0.0:
                num = 0.0
                for i in range(n):
                    num += w[i] * abs(xs[p, i] - zs[q, i])
                b = num / den
            else:
                b = 1.0
            if b > top:
                top = b
                if top >= stop:
                    return top
    return top
