"""Betweenness of fuzzy concepts (arXiv:1707.02292, §6) evaluated by α-cut vertex enumeration.

Checked three ways: the inner maximum over ``x, z`` against SciPy's differential evolution and
dense sampling; the outer minimum over ``y`` against dense sampling of the α-cut and
differential evolution; the whole value against the printed results of Bechberger's reference
implementation, which are optimiser estimates (see ``Concept.between``'s notes).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize

from alchemist.concepts import ConceptualSpace
from alchemist.concepts._betweenness import cut_betweenness, max_betweenness

CASES = [("apple", "lemon", "orange"), ("banana", "Granny Smith", "pear"), ("Granny Smith", "lemon", "orange")]


def _soft_between(w, x, y, z):
    dxz = np.abs(x - z) @ w
    den = np.abs(x - y) @ w + np.abs(z - y) @ w
    return np.where(den > 0, dxz / np.where(den > 0, den, 1.0), 1.0)


def _cut_box(concept, alpha, dims):
    """Bounding box of a concept's α-cut on ``dims`` (each coordinate can move β/vᵢ at most)."""
    v = concept.c * concept.weights.per_dimension(concept.space.n_dims)[dims]
    reach = -np.log(alpha / concept.mu) / v
    return concept.p_min[:, dims].min(0) - reach, concept.p_max[:, dims].max(0) + reach


def _sample_cut(concept, alpha, dims, n, rng):
    lo, hi = _cut_box(concept, alpha, dims)
    pts = rng.uniform(lo, hi, (n, len(dims)))
    full = np.zeros((n, concept.space.n_dims))
    full[:, dims] = pts
    return pts[concept.membership(full) >= alpha]


def _in_cut_violation(concept, alpha, dims, pts):
    full = np.zeros(pts.shape[:-1] + (concept.space.n_dims,))
    full[..., dims] = pts
    return np.maximum(np.log(alpha) - np.log(np.maximum(concept.membership(full.reshape(-1, full.shape[-1])), 1e-300)), 0)


@pytest.mark.parametrize("case", CASES)
def test_inner_maximum_matches_global_optimiser_and_sampling(fruit, case):
    _, k, _ = fruit
    mid, first, second = (k[c] for c in case)
    dims, alpha = [0, 1, 2], 0.3
    rng = np.random.default_rng(1)
    w = mid.weights.per_dimension(3)
    ys = _sample_cut(mid, alpha, dims, 400, rng)[:1]
    xs = _sample_cut(first, alpha, dims, 8000, rng)
    zs = _sample_cut(second, alpha, dims, 8000, rng)
    lo1, hi1 = _cut_box(first, alpha, dims)
    lo3, hi3 = _cut_box(second, alpha, dims)
    for y in ys:
        exact = max_betweenness(y, mid, first, second, dims, alpha)
        sampled = max(_soft_between(w, xs[:, None], y, zs[None, :600]).max(), 0.0)
        assert sampled <= exact + 1e-12
        assert sampled >= exact - 0.03

        def objective(v):  # vectorised over columns; penalty keeps x, z inside their α-cuts
            v = np.atleast_2d(v.T)
            x, z = v[:, :3], v[:, 3:]
            pen = _in_cut_violation(first, alpha, dims, x) + _in_cut_violation(second, alpha, dims, z)
            return -_soft_between(w, x, y, z) + 10.0 * pen

        res = optimize.differential_evolution(
            objective, list(zip(np.r_[lo1, lo3], np.r_[hi1, hi3])), seed=2, tol=1e-10, maxiter=400,
            popsize=25, vectorized=True, updating="deferred", polish=False,
        )
        x, z = res.x[:3], res.x[3:]
        feasible = _in_cut_violation(first, alpha, dims, x[None])[0] + _in_cut_violation(second, alpha, dims, z[None])[0]
        found = float(_soft_between(w, x, y, z))
        assert found <= exact + 1e-9 + 10 * feasible
        assert found >= exact - 3e-3


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("alpha", [0.15, 0.8])
def test_outer_minimum_not_beaten_by_dense_sampling(fruit, case, alpha):
    _, k, _ = fruit
    mid, first, second = (k[c] for c in case)
    dims = [0, 1, 2]
    f = cut_betweenness(mid, first, second, dims, alpha)
    ys = _sample_cut(mid, alpha, dims, 6000, np.random.default_rng(3))
    vals = np.array([max_betweenness(y, mid, first, second, dims, alpha) for y in ys])
    assert vals.min() >= f - 1e-12
    assert vals.min() <= f + 0.03
    lo, hi = _cut_box(mid, alpha, dims)

    def objective(y):
        pen = _in_cut_violation(mid, alpha, dims, y[None])[0]
        return max_betweenness(y, mid, first, second, dims, alpha) + 10.0 * pen

    res = optimize.differential_evolution(objective, list(zip(lo, hi)), seed=4, tol=1e-9, maxiter=60, polish=False)
    assert res.fun >= f - 1e-9


@pytest.mark.parametrize("seed", range(4))
def test_random_two_dimensional_cases_against_grid(seed):
    # two one-dimensional domains; random concepts of 1–2 cuboids, random weights and sensitivities
    rng = np.random.default_rng(seed)
    sp = ConceptualSpace({"a": [0], "b": [1]})

    def random_concept():
        centre = rng.random(2)
        cubs = []
        for _ in range(rng.integers(1, 3)):
            lo = centre - rng.random(2) * 0.2
            cubs.append((lo.tolist(), (np.maximum(lo, centre) + rng.random(2) * 0.2).tolist()))
        w = rng.uniform(0.3, 1.7, 2)
        return sp.concept(cubs, c=float(rng.uniform(3, 30)), weights={"a": w[0], "b": w[1]})

    mid, first, second = random_concept(), random_concept(), random_concept()
    dims = [0, 1]
    for alpha in (0.1, 0.5, 1.0):
        f = cut_betweenness(mid, first, second, dims, alpha)
        lo, hi = _cut_box(mid, alpha, dims)
        g = np.stack(np.meshgrid(np.linspace(lo[0], hi[0], 50), np.linspace(lo[1], hi[1], 50)), -1).reshape(-1, 2)
        g = g[mid.membership(g) >= alpha]
        w = mid.weights.per_dimension(2)
        xs = _sample_cut(first, alpha, dims, 3000, rng)
        zs = _sample_cut(second, alpha, dims, 3000, rng)
        inner = np.array([max_betweenness(y, mid, first, second, dims, alpha) for y in g])
        assert inner.min() >= f - 1e-12
        assert inner.min() <= f + 0.03
        # the exact inner maxima are attained: sampled pairs never exceed them
        for y, top in zip(g[:: max(1, len(g) // 15)], inner[:: max(1, len(g) // 15)]):
            assert _soft_between(w, xs[:, None], y, zs[None, :400]).max() <= top + 1e-12


def test_integral_against_printed_reference(fruit):
    _, k, e = fruit
    got = {c: k[c[0]].between(k[c[1]], k[c[2]]) for c in CASES}
    printed = {
        CASES[0]: e["apple.between(lemon, orange)"],
        CASES[1]: e["banana.between(granny_smith, pear)"],
        CASES[2]: e["granny_smith.between(lemon, orange)"],
    }
    # The reference minimises over y only at 2·n_cuboids optimiser end points, which biases its
    # printed values high; all three lie above the exact values.
    for c in CASES:
        assert got[c] <= printed[c] + 1e-12
    # For apple those points come within 0.11 % of the worst vertex of each α-cut.
    assert got[CASES[0]] == pytest.approx(printed[CASES[0]], rel=2e-3)
    # Independent check of the definition at α = 1 (the cuts are the crisp cores): a 5-point grid
    # per axis over the three cores (vertices included) reaches the same value.
    gs, lemon, orange = k["Granny Smith"], k["lemon"], k["orange"]
    w = gs.weights.per_dimension(3)

    def grid(c, m):
        axes = [np.linspace(a, b, m) for a, b in zip(c.p_min[0], c.p_max[0])]
        return np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 3)

    ys, xs, zs = grid(gs, 5), grid(lemon, 5), grid(orange, 5)
    brute = min(_soft_between(w, xs[:, None], y, zs[None]).max() for y in ys)
    assert cut_betweenness(gs, lemon, orange, [0, 1, 2], 1.0) == pytest.approx(brute, abs=1e-9)


def test_infimum_against_printed_reference(fruit):
    _, k, e = fruit
    got = k["Granny Smith"].between(k["lemon"], k["orange"], method="infimum")
    printed = e["granny_smith.between(lemon, orange, method='infimum')"]
    # the reference's nested COBYLA maximises over x, z only locally, which biases its minimum
    # low: 0.5 % below the exact value here (29/35, attained at α = 1, see the integral test)
    assert printed <= got <= printed * 1.006
    # and the infimum is no larger than f at any level, nor than the α → 0 limit
    for alpha in (0.05, 0.5, 1.0):
        assert got <= cut_betweenness(k["Granny Smith"], k["lemon"], k["orange"], [0, 1, 2], alpha) + 1e-12
