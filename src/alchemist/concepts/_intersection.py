"""Intersection of two fuzzified cuboids: where the memberships of two concepts meet highest.

The fuzzy intersection of two concepts (:meth:`alchemist.concepts.Concept.intersect`;
Bechberger & Kühnberger, arXiv:1706.06366, §5.1) intersects every pair of their cores'
cuboids as fuzzified cuboids: the crisp overlap where they overlap, else the set of points of
highest equal membership to both. The reference implementation (github.com/lbechberger/
ConceptualSpaces) searches for that peak numerically; here it is solved exactly — a linear
programme when the gap spans at most one dimension per domain, a small convex programme
otherwise, or the analytic bounding box of the optimal face.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from scipy import optimize

from alchemist.errors import ConceptError

if TYPE_CHECKING:  # annotations only: concept.py imports this module
    from alchemist.concepts.concept import Concept

__all__ = ["PRECISION_DIGITS", "intersect_fuzzy_cuboids"]

PRECISION_DIGITS = 10  # rounding of numerically found intersection results, as the reference


def intersect_fuzzy_cuboids(A: Concept, lo1, hi1, B: Concept, lo2, hi2):
    """Highest-membership intersection of two fuzzified cuboids (arXiv:1706.06366, §5.1).

    Parameters
    ----------
    A, B : Concept
        The concepts that the cuboids belong to (their ``mu``, ``c``, weights and space).
    lo1, hi1 : ndarray, shape ``(n_dims,)``
        A cuboid of ``A``'s core (infinite bounds on unconstrained dimensions).
    lo2, hi2 : ndarray, shape ``(n_dims,)``
        A cuboid of ``B``'s core.

    Returns
    -------
    (float, ndarray, ndarray)
        ``(mu, p_min, p_max)``: the highest membership that both fuzzified cuboids reach at one
        point, and the cuboid of the points where they reach it (the crisp overlap when the
        cuboids overlap, with ``mu = min(mu_A, mu_B)``), rounded to ``PRECISION_DIGITS``
        decimals as the reference implementation does.

    Raises
    ------
    ConceptError
        If the linear programme of the peak fails.
    """
    lo = np.maximum(lo1, lo2)
    hi = np.minimum(hi1, hi2)
    if np.all(lo <= hi):
        return min(A.mu, B.mu), lo, hi
    below = hi2 < lo1  # B's cuboid below A's on this dimension
    above = lo2 > hi1
    a = np.where(below, lo1, np.where(above, hi1, lo))
    b = np.where(below, hi2, np.where(above, lo2, lo))
    a_hi = np.where(below | above, a, hi)
    extrude = a != a_hi
    sp = A.space
    dA = float(sp.combine(sp.differences(a, b), A.weights))
    dB = float(sp.combine(sp.differences(a, b), B.weights))
    if A.mu * math.exp(-A.c * dA) >= B.mu:
        mu = B.mu
        p_min, p_max = _inside(A, a, b, lo2, hi2, mu)
    elif B.mu * math.exp(-B.c * dB) >= A.mu:
        mu = A.mu
        p_min, p_max = _inside(B, b, a, lo1, hi1, mu)
    else:
        mu, p_min, p_max = _between(A, B, a, b, extrude)
    mu = round(mu, PRECISION_DIGITS)
    p_min = np.round(p_min, PRECISION_DIGITS)
    p_max = np.round(p_max, PRECISION_DIGITS)
    p_max = np.where(extrude, a_hi, p_max)
    return mu, p_min, p_max


def _inside(A: Concept, a, b, lo2, hi2, mu):
    """Case where A's membership at b already reaches the other's μ₀: the part of the other
    cuboid within A's μ-cut, bounded axis by axis from b (the reference's special case)."""
    sp = A.space
    eps = -math.log(mu / A.mu) / A.c
    dim_w, dom_w = A.weights.arrays(sp)
    delta = sp.differences(a, b)
    dom_of = sp.domain_of
    inner = np.zeros(len(sp.domains))
    np.add.at(inner, dom_of, np.where(dim_w > 0, dim_w * delta**2, 0.0))
    contrib = dom_w * np.sqrt(inner)
    y = np.array(a, dtype=float)
    for i in range(sp.n_dims):
        if a[i] == b[i]:
            continue
        if dim_w[i] == 0:
            y[i] = math.inf if b[i] > a[i] else -math.inf
            continue
        k = dom_of[i]
        rest = contrib.sum() - contrib[k]
        s = inner[k] - dim_w[i] * delta[i] ** 2
        r = (eps - rest) / dom_w[k]
        reach = math.sqrt(max(r * r - s, 0.0) / dim_w[i])
        y[i] = a[i] + (reach if b[i] > a[i] else -reach)
    p_min = np.maximum(np.minimum(b, y), lo2)
    p_max = np.minimum(np.maximum(b, y), hi2)
    return p_min, p_max


def _between(A: Concept, B: Concept, a, b, extrude):
    """Peak of min(μ_A, μ_B) on the box between closest points a (of A's cuboid) and b.

    Solved exactly: with one gap dimension per domain, ``−ln μ`` is linear in the distances
    moved along each dimension, so the peak is a linear programme; otherwise a small convex
    programme (SLSQP on the epigraph). When the two concepts' weights are proportional on the
    relevant dimensions and those span more than one domain, the peak is a face, returned as
    its bounding box (as the reference does).
    """
    sp = A.space
    n = sp.n_dims
    gap = np.flatnonzero(a != b)
    wa = A.weights.per_dimension(n)
    wb = B.weights.per_dimension(n)
    dom_of = sp.domain_of
    step = np.zeros(n)
    step[gap] = b[gap] - a[gap]
    length = np.abs(step)
    sign = np.sign(step)
    per_domain = np.bincount(dom_of[gap], minlength=len(sp.domains))
    if per_domain.max() <= 1:
        # variables s_g in [0, L_g] and t; minimise t
        m = len(gap)
        cost = np.zeros(m + 1)
        cost[-1] = 1.0
        a_ub = np.zeros((2, m + 1))
        a_ub[0, :m] = A.c * wa[gap]
        a_ub[0, -1] = -1.0
        a_ub[1, :m] = -B.c * wb[gap]
        a_ub[1, -1] = -1.0
        b_ub = np.array([math.log(A.mu), math.log(B.mu) - B.c * float(np.dot(wb[gap], length[gap]))])
        bounds = [(0.0, float(L)) for L in length[gap]] + [(None, None)]
        res = optimize.linprog(cost, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs")
        if res.status != 0:
            raise ConceptError(f"intersection: linear programme failed ({res.message})")
        s = res.x[:m]
        x_star = a.copy()
        x_star[gap] = a[gap] + sign[gap] * s
    else:
        def f(x):
            full = a.copy()
            full[gap] = x
            fa = A.c * float(sp.combine(sp.differences(a, full), A.weights)) - math.log(A.mu)
            fb = B.c * float(sp.combine(sp.differences(b, full), B.weights)) - math.log(B.mu)
            return fa, fb

        x0 = 0.5 * (a[gap] + b[gap])
        v0 = np.append(x0, max(f(x0)))
        cons = [
            {"type": "ineq", "fun": lambda v: v[-1] - f(v[:-1])[0]},
            {"type": "ineq", "fun": lambda v: v[-1] - f(v[:-1])[1]},
        ]
        bnds = [(min(a[g], b[g]), max(a[g], b[g])) for g in gap] + [(None, None)]
        res = optimize.minimize(lambda v: v[-1], v0, method="SLSQP", constraints=cons, bounds=bnds,
                                options={"ftol": 1e-14, "maxiter": 500})
        x_star = a.copy()
        x_star[gap] = res.x[:-1]
    full_a = float(sp.combine(sp.differences(a, x_star), A.weights))
    full_b = float(sp.combine(sp.differences(b, x_star), B.weights))
    mu = min(A.mu * math.exp(-A.c * full_a), B.mu * math.exp(-B.c * full_b))
    relevant = np.flatnonzero(~extrude)
    ratios = wa[relevant] / np.where(wb[relevant] > 0, wb[relevant], np.nan)
    dependent = np.all(np.isfinite(ratios)) and np.allclose(ratios, ratios[0], rtol=0, atol=1e-10)
    n_domains = len(set(dom_of[relevant].tolist()))
    if dependent and n_domains > 1:
        eps = -math.log(mu / A.mu) / A.c
        dim_w, dom_w = A.weights.arrays(sp)
        inner = np.zeros(len(sp.domains))
        np.add.at(inner, dom_of, dim_w * step**2)
        contrib = dom_w * np.sqrt(inner)
        total = contrib.sum()
        p_min, p_max = np.minimum(a, b), np.maximum(a, b)
        for k in np.flatnonzero(contrib > 0):
            s_lo = max(0.0, (eps - (total - contrib[k])) / contrib[k])
            s_hi = min(1.0, eps / contrib[k])
            dims = np.flatnonzero(dom_of == k)
            ends = np.stack([a[dims] + s_lo * step[dims], a[dims] + s_hi * step[dims]])
            p_min[dims] = np.maximum(p_min[dims], ends.min(axis=0))
            p_max[dims] = np.minimum(p_max[dims], ends.max(axis=0))
        return mu, p_min, p_max
    return mu, x_star.copy(), x_star.copy()
