"""Betweenness of concepts beyond one-dimensional domains: the candidate search of
``alchemist.concepts._betweenness_search`` against independent brute force.

Brute force here uses only ``Concept.membership`` (which points lie in an α-cut) and
``ConceptualSpace.differences``/``combine`` (the metric, circular wrap included): grids over the
α-cuts, every pair of grid points of the outer cuts against every grid point of the middle cut,
and SciPy's ``differential_evolution`` for the inner maximum in three dimensions.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize

from alchemist.concepts import ConceptualSpace
from alchemist.concepts._betweenness import cut_betweenness
from alchemist.concepts._betweenness_search import BetweennessSearch
from alchemist.errors import ConceptError


def _dist(space, weights, a, b):
    return space.combine(space.differences(a, b), weights)


def _boundary(concept, alpha, n_rays=360):
    """Boundary of a 2-D α-cut by bisection along rays from the core's centre (α-cuts are
    star-shaped with respect to the cuboids' common intersection), using only ``membership``."""
    centre = 0.5 * (concept.p_min.max(0) + concept.p_max.min(0))
    t = np.linspace(0.0, 2.0 * np.pi, n_rays, endpoint=False)
    u = np.stack([np.cos(t), np.sin(t)], 1)
    lo, hi = np.zeros(n_rays), np.full(n_rays, 1e-3)
    while np.any(grow := concept.membership(centre + hi[:, None] * u) >= alpha):
        hi = np.where(grow, 2.0 * hi, hi)
    for _ in range(50):
        mid = 0.5 * (lo + hi)
        inside = concept.membership(centre + mid[:, None] * u) >= alpha
        lo, hi = np.where(inside, mid, lo), np.where(inside, hi, mid)
    corners = [np.where(bits, b, a) for a, b in zip(concept.p_min, concept.p_max)
               for bits in ([0, 0], [0, 1], [1, 0], [1, 1])]
    return np.concatenate([centre + lo[:, None] * u, corners])  # core corners lie in every cut


def _brute(mid, first, second, alpha, lo, hi, m=60, n_y=100, seed=0):
    """min over y ∈ mid^α (its traced boundary and random grid points inside) of the max over
    pairs of traced boundary points of first^α and second^α of B; also the y's and maxima."""
    sp, w = mid.space, mid.weights
    xs, zs = _boundary(first, alpha), _boundary(second, alpha)
    axes = [np.linspace(a, b, m) for a, b in zip(lo, hi)]
    g = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 2)
    g = g[mid.membership(g) >= alpha]
    ys = np.concatenate([_boundary(mid, alpha), g[np.random.default_rng(seed).permutation(len(g))[:n_y]]])
    dxz = _dist(sp, w, xs[:, None], zs[None])
    inner = np.empty(len(ys))
    for i, y in enumerate(ys):
        dxy = _dist(sp, w, xs, y)
        dyz = _dist(sp, w, y, zs)
        den = dxy[:, None] + dyz[None]
        inner[i] = np.where(den > 0, dxz / np.where(den > 0, den, 1.0), 1.0).max()
    return inner.min(), ys, inner


def _random_concept(sp, rng, centre_box, size, c_range, circular_dim=None):
    centre = rng.uniform(*centre_box)
    cubs = []
    for _ in range(rng.integers(1, 3)):
        a = centre - rng.random(2) * size
        b = np.maximum(a, centre) + rng.random(2) * size
        cubs.append((a.tolist(), b.tolist()))
    names = list(sp.domains)
    return sp.concept(cubs, c=float(rng.uniform(*c_range)),
                      weights={d: float(rng.uniform(0.5, 1.5)) for d in names})


@pytest.mark.parametrize("seed", range(3))
def test_two_dimensional_euclidean_domain_against_grid(seed):
    rng = np.random.default_rng(seed)
    sp = ConceptualSpace({"q": [0, 1]})
    dims = [0, 1]
    mid, first, second = (_random_concept(sp, rng, (np.zeros(2), np.ones(2)), 0.25, (4, 12)) for _ in range(3))
    search = BetweennessSearch(mid, first, second, dims)
    for alpha in (0.3, 1.0):
        reach = -np.log(alpha) / min(k.c for k in (mid, first, second)) / 0.5
        lo = np.min([k.p_min.min(0) for k in (mid, first, second)], 0) - reach - 0.02
        hi = np.max([k.p_max.max(0) for k in (mid, first, second)], 0) + reach + 0.02
        f = search.value(alpha)
        brute, ys, inner_grid = _brute(mid, first, second, alpha, lo, hi)
        ours = np.array([search.inner(y, alpha) for y in ys])
        # the inner maximum is not below the best traced pair (up to 2e-3 seen only for y
        # just outside an outer cut, where B is near 1; 1e-6 elsewhere)
        assert np.all(ours >= inner_grid - 2e-3)
        assert np.median(ours - inner_grid) >= -1e-6
        # the outer minimum is not beaten by any grid point of the middle cut
        assert f <= ours.min() + 1e-9
        # and the whole value agrees with the brute-force min-max
        assert f == pytest.approx(brute, abs=2e-3)


@pytest.mark.parametrize("seed", range(3))
def test_circular_hue_against_grid(seed):
    # hue in degrees wraps at 360; concepts placed around the wrap point
    rng = np.random.default_rng(10 + seed)
    sp = ConceptualSpace({"hue": [0], "lightness": [1]}, kinds=["circular", "continuous"],
                         ranges=[(0.0, 360.0), (0.0, 1.0)])
    mids = [(340.0, 0.3), (355.0, 0.5), (10.0, 0.7)]
    rng.shuffle(mids)

    def concept(h, l):
        a = np.array([h, l]) - rng.random(2) * np.array([8.0, 0.1])
        b = np.array([h, l]) + rng.random(2) * np.array([8.0, 0.1])
        return sp.concept([(a.tolist(), b.tolist())], c=float(rng.uniform(4, 10)),
                          weights={"hue": 1.0 / 60.0, "lightness": 1.0})

    first, mid, second = (concept(*p) for p in mids)
    search = BetweennessSearch(mid, first, second, [0, 1])
    assert search.circular
    for alpha in (0.4, 1.0):
        lo, hi = np.array([300.0, -0.3]), np.array([420.0, 1.3])
        # grid points beyond 360 are the same hues; membership and metric wrap them
        f = search.value(alpha)
        brute, ys, inner_grid = _brute(mid, first, second, alpha, lo, hi)
        ours = np.array([search.inner(y, alpha) for y in ys])
        assert np.all(ours >= inner_grid - 2e-3)
        assert f <= ours.min() + 1e-9
        assert f == pytest.approx(brute, abs=2e-3)


def test_search_matches_exact_vertex_enumeration_on_fruit_space(fruit):
    # one-dimensional domains: the exact path is proven; the search must reach the same values
    _, k, _ = fruit
    dims = [0, 1, 2]
    for mid, first, second in [("apple", "lemon", "orange"), ("banana", "Granny Smith", "pear")]:
        search = BetweennessSearch(k[mid], k[first], k[second], dims)
        for alpha in (0.15, 0.6, 1.0):
            exact = cut_betweenness(k[mid], k[first], k[second], dims, alpha)
            assert search.value(alpha) == pytest.approx(exact, abs=1e-4)


@pytest.fixture
def apple(shared_data):
    from alchemist.concepts.examples import read_reference_spaces

    sp, k = read_reference_spaces(shared_data("conceptual_spaces/bechberger_example_spaces.json"))["apple_space"]
    both = {f"{a}&{b}": k[a].intersect(k[b]) for a in ("red", "yellow", "green") for b in ("sour", "sweet")}
    return sp, {**k, **both}


def _in_cut_violation(concept, alpha, pts):
    return np.maximum(np.log(alpha) - np.log(np.maximum(concept.membership(pts), 1e-300)), 0.0)


@pytest.mark.parametrize("triple", [("apple", "green&sour", "yellow&sweet"), ("yellow&sweet", "green&sour", "red&sour")])
def test_apple_space_against_optimiser_and_sampling(apple, triple):
    sp, k = apple
    mid, first, second = (k[t] for t in triple)
    alpha = 0.4
    search = BetweennessSearch(mid, first, second, [0, 1, 2])
    f = search.value(alpha)
    rng = np.random.default_rng(5)
    reach = -np.log(alpha) / 14.0 / 0.3
    lo, hi = np.zeros(3) - reach, np.ones(3) + reach
    ys = rng.uniform(lo, hi, (20000, 3))
    ys = ys[mid.membership(ys) >= alpha][:300]
    inner = np.array([search.inner(y, alpha) for y in ys])
    assert f <= inner.min() + 1e-9
    assert f >= inner.min() - 0.05  # sampled points come near the minimiser
    # differential evolution over y (our inner maximum as objective) does not go below f
    res = optimize.differential_evolution(
        lambda y: search.inner(y, alpha) + 10.0 * _in_cut_violation(mid, alpha, y[None])[0],
        list(zip(lo, hi)), seed=1, maxiter=25, popsize=10, tol=1e-8, polish=False,
    )
    assert res.fun >= f - 2e-3
    # inner maximum at the sampled y of lowest value and at a random one, against DE over (x, z)
    w = mid.weights
    for y in (ys[int(np.argmin(inner))], ys[7]):
        ours = search.inner(y, alpha)

        def objective(v):
            v = np.atleast_2d(v.T)
            x, z = v[:, :3], v[:, 3:]
            dxy, dyz, dxz = _dist(sp, w, x, y), _dist(sp, w, y, z), _dist(sp, w, x, z)
            pen = _in_cut_violation(first, alpha, x) + _in_cut_violation(second, alpha, z)
            return -dxz / (dxy + dyz) + 10.0 * pen

        res = optimize.differential_evolution(
            objective, list(zip(np.r_[lo, lo], np.r_[hi, hi])), seed=2, tol=1e-10, maxiter=300,
            popsize=20, vectorized=True, updating="deferred", polish=False,
        )
        x, z = res.x[:3], res.x[3:]
        feasible = _in_cut_violation(first, alpha, x[None])[0] + _in_cut_violation(second, alpha, z[None])[0]
        assert -res.fun <= ours + 1e-4 + 10 * feasible
        assert -res.fun >= ours - 2e-3


def test_between_on_apple_space(apple):
    sp, k = apple
    mid, first, second = k["apple"], k["green&sour"], k["yellow&sweet"]
    search = BetweennessSearch(mid, first, second, mid.dimensions)
    levels = [search.value((i + 1) / 20) for i in range(20)]
    assert mid.between(first, second) == pytest.approx(np.mean(levels), abs=1e-4)
    # infimum: c raised so that the paper's closed-form 0 (both others decaying faster) is off
    sharp = mid.with_parameters(c=30.0)
    inf = sharp.between(first, second, method="infimum")
    sharp_search = BetweennessSearch(sharp, first, second, mid.dimensions)
    levels = [0.0] + list(np.geomspace(1e-4, 1.0, 30))
    values = [sharp_search.value(alpha) for alpha in levels]
    assert inf <= min(values) + 1e-9
    assert inf >= min(values) - 2e-3
    # the paper's closed forms still apply first: 0 when both others decay faster
    assert mid.between(first, second, method="infimum") == 0.0


def test_categorical_dimension_is_rejected():
    sp = ConceptualSpace({"kind": [0], "size": [1]}, kinds=["categorical", "continuous"])
    a = sp.concept([([0.0, 0.0], [0.0, 1.0])], c=2.0)
    b = sp.concept([([1.0, 0.0], [1.0, 1.0])], c=2.0)
    d = sp.concept([([2.0, 0.0], [2.0, 1.0])], c=2.0)
    with pytest.raises(ConceptError, match="categorical"):
        b.between(a, d)
