"""Fuzzy star-shaped concepts (Bechberger & Kühnberger 2017).

A concept is a fuzzy simple star-shaped set: a crisp core that is a union of axis-parallel
cuboids with a non-empty common intersection, fuzzified by exponential decay of membership with
the combined-metric distance to the core,

    μ̃_S(x) = μ₀ · exp(−c · min_{y ∈ S} d_C(x, y, W)),

with maximal membership ``μ₀ ∈ (0, 1]``, sensitivity ``c > 0`` and salience weights ``W``.

References
----------
* L. Bechberger, K.-U. Kühnberger, "A Thorough Formalization of Conceptual Spaces", KI 2017,
  arXiv:1706.06366 — cores, membership, intersection (§5.1), union (§5.2), projection (§5.3),
  cut (§5.4).
* L. Bechberger, K.-U. Kühnberger, "Measuring Relations Between Concepts in Conceptual Spaces",
  SGAI 2017, arXiv:1707.02292 — size (hypervolume, §3), subsethood and implication (§4),
  similarity (§5), betweenness (§6).
* The authors' reference implementation, github.com/lbechberger/ConceptualSpaces (v1.3.2); this
  module reproduces its printed results (see ``tests/concepts/test_concept_reference.py``).
  Where the reference searches numerically for closed-form quantities (the peak of two fuzzified
  cuboids' intersection), this module solves them exactly (a linear programme, or the analytic
  bounding box of the optimal face).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence

import numpy as np
from scipy import optimize

from alchemist.concepts._betweenness import cut_betweenness, exact_supported
from alchemist.concepts._betweenness_search import BetweennessSearch, search_supported
from alchemist.concepts._cuboids import common_intersection, interval_gaps, repair, simplify
from alchemist.concepts._intersection import intersect_fuzzy_cuboids
from alchemist.concepts.space import ConceptualSpace, Weights, check_positive, json_float
from alchemist.errors import ConceptError, DimensionMismatchError, EmptyIntersectionError

__all__ = ["Concept"]

_EQUAL = 1e-10


class Concept:
    """A fuzzy star-shaped concept in a :class:`ConceptualSpace`.

    Build one with :meth:`ConceptualSpace.concept` or :meth:`Concept.from_cuboids`.

    Attributes
    ----------
    space : ConceptualSpace
    p_min, p_max : ndarray, shape ``(n_cuboids, n_dims)``, float64
        The core's cuboids; ``±inf`` on the dimensions of domains the concept does not constrain.
    domains : dict of str to list of int
        The domains the concept is defined on.
    mu : float
        Maximal membership ``μ₀ ∈ (0, 1]``.
    c : float
        Sensitivity ``c > 0``.
    weights : Weights
        Salience weights over ``domains`` (normalised).

    Examples
    --------
    Two squares in a space of two one-dimensional domains (Manhattan across domains):

    >>> from alchemist.concepts import ConceptualSpace
    >>> plane = ConceptualSpace({"a": [0], "b": [1]})
    >>> A = Concept.from_cuboids(plane, [([0, 0], [2, 2])], c=1.0)
    >>> B = Concept.from_cuboids(plane, [([1, 1], [3, 3])], c=1.0)
    >>> round(A.membership([3, 2]), 4)  # one unit from the core: exp(-1)
    0.3679
    >>> A.intersect(B)
    Concept(core={[1.0, 1.0]-[2.0, 2.0]}, mu=1.0, c=1.0, weights={'a': 1.0, 'b': 1.0})
    >>> A.size()  # (side + 2 / c)^2 for a square under the Manhattan metric
    16.0
    >>> A.subset_of(B)
    0.5625
    """

    def __init__(self, space: ConceptualSpace, p_min, p_max, domains, mu: float, c: float, weights: Weights):
        self.space = space
        self.p_min = np.array(p_min, dtype=np.float64, copy=True)
        self.p_max = np.array(p_max, dtype=np.float64, copy=True)
        self.domains = {d: list(space.domains[d]) for d in domains}
        self.mu = float(mu)
        self.c = float(c)
        self.weights = weights

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_cuboids(cls, space: ConceptualSpace, cuboids, mu=1.0, c=1.0, weights=None, dimension_weights=None):
        """Validate and build a concept (see :meth:`ConceptualSpace.concept`).

        Raises
        ------
        DimensionMismatchError
            A cuboid bound does not have ``n_dims`` entries.
        ConceptError
            NaN bounds, ``p_min > p_max``, a domain only partly unbounded, ``mu`` outside
            ``(0, 1]``, non-positive ``c`` or weights, weights on a domain the concept does not
            constrain.
        EmptyIntersectionError
            The cuboids have no common intersection.
        UnknownDomainError
            A weight names a domain the space does not have.
        """
        if isinstance(cuboids, np.ndarray) or not isinstance(cuboids, Sequence) or len(cuboids) == 0:
            raise ConceptError("cuboids must be a non-empty list of (p_min, p_max) pairs")
        lo, hi = [], []
        for k, cub in enumerate(cuboids):
            try:
                a, b = cub
            except (TypeError, ValueError):
                raise ConceptError(f"cuboid {k} is {cub!r}; give it as a pair (p_min, p_max)") from None
            a = np.asarray(a, dtype=np.float64)
            b = np.asarray(b, dtype=np.float64)
            if a.shape != (space.n_dims,) or b.shape != (space.n_dims,):
                raise DimensionMismatchError(
                    f"cuboid {k} has bounds of shapes {a.shape} and {b.shape}; the space has {space.n_dims} dimensions"
                )
            if np.isnan(a).any() or np.isnan(b).any():
                raise ConceptError(f"cuboid {k} has a NaN bound: p_min={a.tolist()}, p_max={b.tolist()}")
            if (a > b).any():
                i = int(np.argmax(a > b))
                raise ConceptError(f"cuboid {k} has p_min[{i}] = {a[i]} > p_max[{i}] = {b[i]}; swap or fix the bounds")
            lo.append(a)
            hi.append(b)
        lo, hi = np.array(lo), np.array(hi)
        domains = []
        for dom, dims in space.domains.items():
            unbounded = np.isneginf(lo[:, dims]) & np.isposinf(hi[:, dims])
            finite = np.isfinite(lo[:, dims]) & np.isfinite(hi[:, dims])
            if finite.all():
                domains.append(dom)
            elif not unbounded.all():
                raise ConceptError(
                    f"domain {dom!r} is bounded on some dimensions or cuboids but not on others; give every "
                    "cuboid finite bounds on all of its dimensions, or (-inf, inf) on all of them"
                )
        if not domains:
            raise ConceptError("the cuboids constrain no domain; give finite bounds on at least one domain")
        mu = float(mu)
        if not (0.0 < mu <= 1.0):
            raise ConceptError(f"mu = {mu!r} must lie in (0, 1]")
        check_positive("sensitivity c", c)
        w = _concept_weights(space, domains, weights, dimension_weights)
        if not common_intersection(lo, hi):
            raise EmptyIntersectionError(
                "the cuboids of a star-shaped core must share a common intersection; "
                f"p_min={lo.tolist()}, p_max={hi.tolist()} do not (use Concept.repaired to extend them)"
            )
        lo, hi = simplify(lo, hi)
        return cls(space, lo, hi, domains, mu, float(c), w)

    @classmethod
    def repaired(cls, space, p_min, p_max, domains, mu, c, weights) -> "Concept":
        """A concept from cuboids that may not intersect, repaired as in arXiv:1706.06366 §5.1.

        Each cuboid is extended to contain the mean of the cuboids' midpoints.
        """
        lo, hi = repair(np.asarray(p_min, float), np.asarray(p_max, float))
        lo, hi = simplify(lo, hi)
        return cls(space, lo, hi, domains, mu, c, weights)

    def __repr__(self) -> str:
        cubs = ", ".join(f"{a.tolist()}-{b.tolist()}" for a, b in zip(self.p_min, self.p_max))
        return f"Concept(core={{{cubs}}}, mu={self.mu}, c={self.c}, weights={self.weights.domain_weights})"

    def __eq__(self, other) -> bool:
        if not isinstance(other, Concept) or self.p_min.shape != other.p_min.shape:
            return False
        mine = sorted(zip(map(tuple, self.p_min), map(tuple, self.p_max)))
        theirs = sorted(zip(map(tuple, other.p_min), map(tuple, other.p_max)))
        same_core = all(
            np.allclose(a1, a2, atol=_EQUAL, rtol=0) and np.allclose(b1, b2, atol=_EQUAL, rtol=0)
            for (a1, b1), (a2, b2) in zip(mine, theirs)
        )
        return (
            same_core
            and set(self.domains) == set(other.domains)
            and math.isclose(self.mu, other.mu, abs_tol=_EQUAL)
            and math.isclose(self.c, other.c, abs_tol=_EQUAL)
            and self.weights == other.weights
        )

    @property
    def dimensions(self) -> list[int]:
        """Indices of the dimensions the concept constrains, sorted."""
        return sorted(d for dims in self.domains.values() for d in dims)

    @property
    def cuboids(self) -> list[tuple[list[float], list[float]]]:
        """The core as a list of ``(p_min, p_max)`` lists, one per cuboid."""
        return [(a.tolist(), b.tolist()) for a, b in zip(self.p_min, self.p_max)]

    def midpoint(self) -> np.ndarray:
        """The midpoint of the core's central region (the intersection of its cuboids).

        Returns
        -------
        ndarray, shape ``(n_dims,)``
            0 on the dimensions the concept leaves unbounded.
        """
        lo = self.p_min.max(axis=0)
        hi = self.p_max.min(axis=0)
        mid = 0.5 * (lo + hi)
        return np.where(np.isfinite(mid), mid, 0.0)

    def with_parameters(self, c=None, weights=None, mu=None) -> "Concept":
        """A copy with another sensitivity, weights or maximal membership.

        Parameters
        ----------
        c : float, optional
            Sensitivity.
        weights : Weights, optional
            Salience weights.
        mu : float, optional
            Maximal membership.

        Returns
        -------
        Concept
            The same core; the parameters not given are kept.
        """
        return Concept(
            self.space, self.p_min, self.p_max, self.domains,
            self.mu if mu is None else mu, self.c if c is None else c,
            self.weights if weights is None else weights,
        )

    # ------------------------------------------------------------------ membership
    def distance_to_core(self, points) -> np.ndarray | float:
        """Combined-metric distance from points to the core (0 inside).

        Parameters
        ----------
        points : array_like, shape ``(..., n_dims)``
            The points.

        Returns
        -------
        float or ndarray, shape ``(...)``
            The distance to the nearest cuboid of the core, under the concept's weights.

        Raises
        ------
        DimensionMismatchError, ConceptError
            Wrong dimensionality or non-finite coordinates.
        """
        x = self.space.check_points(points)
        gaps = interval_gaps(self.space, x[..., None, :], self.p_min, self.p_max)
        d = self.space.combine(gaps, self.weights).min(axis=-1)
        return float(d) if np.ndim(d) == 0 else d

    def membership(self, points) -> np.ndarray | float:
        """Membership ``μ₀ · exp(−c · d_C(x, core))`` of ``points`` (arXiv:1706.06366, Def. 8).

        Parameters
        ----------
        points : array_like, shape ``(n_dims,)`` or ``(n_points, n_dims)``

        Returns
        -------
        float or ndarray of shape ``(n_points,)`` float64, in ``[0, μ₀]``.

        Raises
        ------
        DimensionMismatchError, ConceptError
            Wrong dimensionality or non-finite coordinates.
        """
        x = self.space.check_points(points)
        if x.ndim == 2 and x.shape[0] * len(self.p_min) > 4_000_000:
            out = np.empty(x.shape[0])
            step = max(1, 4_000_000 // len(self.p_min))
            for s in range(0, x.shape[0], step):
                out[s : s + step] = self.mu * np.exp(-self.c * np.asarray(self.distance_to_core(x[s : s + step])))
            return out
        out = self.mu * np.exp(-self.c * np.asarray(self.distance_to_core(x)))
        return float(out) if out.ndim == 0 else out

    # ------------------------------------------------------------------ operations
    def intersect(self, other: "Concept") -> "Concept":
        """Fuzzy intersection (arXiv:1706.06366, §5.1).

        Every pair of cuboids is intersected as fuzzified cuboids: crisp overlap where they
        overlap, else the set of points of highest equal membership to both; the pairs of the
        highest membership form the new core (repaired to a common intersection). ``c`` is the
        smaller sensitivity, weights the average of both (renormalised).
        """
        self._check_same_space(other)
        candidates = []
        for a_lo, a_hi in zip(self.p_min, self.p_max):
            for b_lo, b_hi in zip(other.p_min, other.p_max):
                candidates.append(intersect_fuzzy_cuboids(self, a_lo, a_hi, other, b_lo, b_hi))
        mu = max(m for m, _, _ in candidates)
        keep = [(lo, hi) for m, lo, hi in candidates if abs(m - mu) < _EQUAL]
        lo = np.array([k[0] for k in keep])
        hi = np.array([k[1] for k in keep])
        domains = [d for d in self.space.domains if d in self.domains or d in other.domains]
        return Concept.repaired(
            self.space, lo, hi, domains, mu, min(self.c, other.c), self.weights.merge(other.weights)
        )

    def union(self, other: "Concept") -> "Concept":
        """Fuzzy union (arXiv:1706.06366, §5.2): the cores' cuboids, repaired; max μ₀, min c, averaged weights.

        Raises
        ------
        ConceptError
            If the two concepts are defined on different domains.
        """
        self._check_same_space(other)
        if set(self.domains) != set(other.domains):
            raise ConceptError(
                f"cannot unite concepts on different domains {sorted(self.domains)} and {sorted(other.domains)}; "
                "project them onto common domains first"
            )
        return Concept.repaired(
            self.space,
            np.vstack([self.p_min, other.p_min]),
            np.vstack([self.p_max, other.p_max]),
            list(self.domains),
            max(self.mu, other.mu),
            min(self.c, other.c),
            self.weights.merge(other.weights),
        )

    def project(self, domain_names) -> "Concept":
        """Projection onto a subset of the concept's domains (arXiv:1706.06366, §5.3).

        Raises
        ------
        UnknownDomainError
            A name is not a domain of the space.
        ConceptError
            A name is a domain the concept does not constrain, or the list is empty.
        """
        if isinstance(domain_names, str):
            domain_names = [domain_names]
        domain_names = list(domain_names)
        if not domain_names:
            raise ConceptError("project needs at least one domain name")
        for d in domain_names:
            self.space._check_domain(d)
            if d not in self.domains:
                raise ConceptError(f"concept is not defined on domain {d!r}; it constrains {sorted(self.domains)}")
        keep = np.zeros(self.space.n_dims, bool)
        for d in domain_names:
            keep[self.space.domains[d]] = True
        lo = np.where(keep, self.p_min, -np.inf)
        hi = np.where(keep, self.p_max, np.inf)
        lo, hi = simplify(lo, hi)
        ordered = [d for d in self.space.domains if d in domain_names]
        return Concept(self.space, lo, hi, ordered, self.mu, self.c, self.weights.project(ordered))

    def cut(self, dimension, value: float) -> tuple["Concept | None", "Concept | None"]:
        """Cut the concept at ``value`` on ``dimension`` (arXiv:1706.06366, §5.4).

        Parameters
        ----------
        dimension : int or str
            Index or name of a dimension the concept constrains.
        value : float

        Returns
        -------
        (lower, upper) : Concept or None
            The parts below and above the cut (None where a part is empty).
        """
        dim = self._dimension_index(dimension)
        value = float(value)
        if not math.isfinite(value):
            raise ConceptError(f"cut value {value!r} must be finite")
        lower, upper = [], []
        for lo, hi in zip(self.p_min, self.p_max):
            if value >= hi[dim]:
                lower.append((lo, hi))
            elif value <= lo[dim]:
                upper.append((lo, hi))
            else:
                hi_cut, lo_cut = hi.copy(), lo.copy()
                hi_cut[dim] = value
                lo_cut[dim] = value
                lower.append((lo, hi_cut))
                upper.append((lo_cut, hi))

        def build(parts):
            if not parts:
                return None
            lo, hi = simplify(np.array([p[0] for p in parts]), np.array([p[1] for p in parts]))
            return Concept(self.space, lo, hi, self.domains, self.mu, self.c, self.weights)

        return build(lower), build(upper)

    # ------------------------------------------------------------------ measures
    def size(self) -> float:
        """Hypervolume ``∫ μ̃(x) dx`` over the concept's dimensions (arXiv:1707.02292, §3, Prop. 1).

        Closed form per fuzzified cuboid, combined over the core's cuboids by
        inclusion–exclusion (their intersections are cuboids again).
        """
        total = 0.0
        k = len(self.p_min)
        for r in range(1, k + 1):
            part = 0.0
            for subset in itertools.combinations(range(k), r):
                lo = self.p_min[list(subset)].max(axis=0)
                hi = self.p_max[list(subset)].min(axis=0)
                part += self._hypervolume_cuboid(lo, hi)
            total += part * (-1.0) ** (r + 1)
        return float(total)

    def subset_of(self, other: "Concept") -> float:
        """Degree of subsethood ``|self ∩ other| / |self|`` (arXiv:1707.02292, §4).

        Both concepts are projected onto their common domains; sizes are measured with
        ``other``'s sensitivity and weights. 0.0 when they share no domain.
        """
        common = self._common_domains(other)
        if not common:
            return 0.0
        ps, po = self.project(common), other.project(common)
        inter = ps.intersect(po).with_parameters(c=po.c, weights=po.weights)
        return inter.size() / ps.with_parameters(c=po.c, weights=po.weights).size()

    def crisp_subset_of(self, other: "Concept") -> bool:
        """Whether ``self`` is a crisp subset of ``other``: every α-cut of ``self`` inside ``other``'s.

        Parameters
        ----------
        other : Concept
            A concept of the same space.

        Returns
        -------
        bool
            True when ``μ₀`` does not exceed ``other``'s, every corner of the core reaches ``μ₀`` in
            ``other`` and ``other`` decays no slower on its dimensions.
        """
        if self.mu > other.mu:
            return False
        dims = self.dimensions
        for lo, hi in zip(self.p_min, self.p_max):
            for bits in itertools.product((False, True), repeat=len(dims)):
                corner = np.zeros(self.space.n_dims)
                corner[dims] = np.where(bits, hi[dims], lo[dims])
                if other.membership(corner) < self.mu:
                    return False
        for dom, dims in other.domains.items():
            if dom not in self.domains:
                return False
        mine = self.c * self.weights.per_dimension(self.space.n_dims)
        theirs = other.c * other.weights.per_dimension(self.space.n_dims)
        return bool(np.all(theirs[other.dimensions] <= mine[other.dimensions]))

    def implies(self, other: "Concept") -> float:
        """Degree of implication ``self ⇒ other``, equal to :meth:`subset_of` (arXiv:1707.02292, §4).

        Parameters
        ----------
        other : Concept
            A concept of the same space.

        Returns
        -------
        float
            In ``[0, 1]``.
        """
        return self.subset_of(other)

    def similarity(self, other: "Concept", method: str = "jaccard") -> float:
        """Similarity of two concepts (arXiv:1707.02292, §5).

        Parameters
        ----------
        method : {"jaccard", "subset"}
            ``"jaccard"``: ``|A ∩ B| / |A ∪ B|``; ``"subset"``: subsethood of ``self`` in ``other``.
            Both on the projections onto the common domains (0.0 without one).
        """
        method = method.lower()
        if method not in ("jaccard", "subset"):
            raise ConceptError(f"unknown similarity method {method!r}; use 'jaccard' or 'subset'")
        common = self._common_domains(other)
        if not common:
            return 0.0
        ps, po = self.project(common), other.project(common)
        if method == "jaccard":
            return ps.intersect(po).size() / ps.union(po).size()
        return ps.subset_of(po)

    def between(self, first: "Concept", second: "Concept", method: str = "integral", num_alpha_cuts: int = 20) -> float:
        """Degree to which ``self`` lies between ``first`` and ``second`` (arXiv:1707.02292, §6).

        Soft betweenness of points ``B(x, y, z) = d(x,z) / (d(x,y) + d(y,z))`` (under ``self``'s
        weights) is lifted to concepts through α-cuts,
        ``f(α) = min_{y ∈ self^α} max_{x ∈ first^α, z ∈ second^α} B(x, y, z)``.

        Parameters
        ----------
        first, second : Concept
        method : {"integral", "infimum"}
            ``"integral"``: the reference's Riemann sum ``(1/N) Σ_{i=1..N} f(i/N)`` with
            ``N = num_alpha_cuts`` (``f = 1`` above ``self``'s μ₀, 0 above the others');
            ``"infimum"``: ``inf_{0 < α ≤ μ₀} f(α)``.
        num_alpha_cuts : int
            ``N`` for the integral.

        Returns
        -------
        float in [0, 1]; 0.0 when the three concepts are not defined on the same domains.

        Raises
        ------
        ConceptError
            Unknown ``method``, concepts of other spaces, ``num_alpha_cuts < 1``, a categorical
            dimension among the concepts' domains.

        Notes
        -----
        When every domain of the concepts is one-dimensional and continuous or ordinal (the
        combined metric is then a weighted Manhattan metric; at most six dimensions), ``f(α)`` is
        evaluated without an optimiser, by vertex enumeration of the α-cuts
        (:mod:`alchemist.concepts._betweenness`): the inner maximum over ``x, z`` exactly, the
        outer minimum over the vertices of ``self``'s α-cut (checked against dense sampling in
        the tests), in milliseconds. The infimum is the smallest of ``f`` on 48 levels
        ``α = μ₀ e^{−s}``, refined by a bounded Brent search, and of the exact limit ``α → 0``;
        before that, the paper's closed-form cases apply (0 when ``self``'s μ₀ exceeds either
        other's, or when on some dimension both others decay faster than ``self``; 1 for a crisp
        subset), as in the reference.

        Other spaces (a domain of several dimensions, Euclidean within it, or a circular
        dimension) evaluate the same ``f(α)`` by a candidate search
        (:mod:`alchemist.concepts._betweenness_search`): the α-cuts' boundaries are parametrised
        in closed form, dense candidate sets on them are scored in Numba and the best refined by
        compass search, in tens of milliseconds per level; it agrees with brute force (dense
        sampling and SciPy's differential evolution) to 2e-3 in the tests, but is a local search,
        not a proof. Its infimum uses 16 levels (Brent-refined), and the limit ``α → 0`` only
        without circular dimensions (a circle's α-cut saturates; the smallest level is then
        ``α = μ₀ e^{−40}``). Categorical dimensions have no betweenness here.

        The reference implementation (v1.3.2) estimates ``f(α)`` with the same optimisers, the
        minimum over ``y`` only at ``2·n_cuboids`` points near the corners' diagonals, which biases
        its values high (far more than its local maximisation over ``x, z`` biases them low):
        for the fruit space it prints 0.875529
        (apple between lemon and orange), 0.878913 (Granny Smith between lemon and orange) and
        0.438117 (banana between Granny Smith and pear), against 0.874603, 0.860051 and 0.309814
        here; the vertices that give the lower values are points of the α-cut the reference's
        starting points do not reach. Its infimum 0.824716 (Granny Smith) lies 0.5 % below
        ``f(1) = 0.828571``, the smallest ``f(α)`` here (a 5-point grid over the three cores
        gives the same 29/35): its nested COBYLA maximises ``B`` over ``x, z`` only locally,
        which biases the minimum low (its membership tolerance of 0.02 alone moves ``f`` by less
        than 0.001). The prints depend on the optimiser's version: the reference's integral
        scheme, re-stated and run on SciPy 1.14 (Fortran COBYLA), gives 0.875536 and 0.878915
        for the first two (within 1e-5 of the prints) but 0.436026 for banana; on SciPy 1.17
        (PRIMA's COBYLA) it gives 0.873108, 0.875586 and 0.365077. Only the definition above
        gives one answer, so that is what this method computes.
        """
        for o in (first, second):
            self._check_same_space(o)
        if set(first.domains) != set(self.domains) or set(second.domains) != set(self.domains):
            return 0.0
        if method not in ("integral", "infimum", "minimum"):
            raise ConceptError(f"unknown betweenness method {method!r}; use 'integral' or 'infimum'")
        f, has_limit = self._cut_function(first, second)
        if method == "integral":
            num_alpha_cuts = int(num_alpha_cuts)
            if num_alpha_cuts < 1:
                raise ConceptError(f"num_alpha_cuts = {num_alpha_cuts} must be at least 1")
            if self.crisp_subset_of(first) or self.crisp_subset_of(second):
                return 1.0
            values = []
            for i in range(num_alpha_cuts):
                alpha = (i + 1) / num_alpha_cuts
                if alpha > self.mu:
                    values.append(1.0)
                elif alpha > first.mu or alpha > second.mu:
                    values.append(0.0)
                else:
                    values.append(f(alpha))
            return float(sum(values) / len(values))
        if self.mu > first.mu or self.mu > second.mu:
            return 0.0
        if self.crisp_subset_of(first) or self.crisp_subset_of(second):
            return 1.0
        n = self.space.n_dims
        s = self.c * self.weights.per_dimension(n)
        f_rate = first.c * first.weights.per_dimension(n)
        g_rate = second.c * second.weights.per_dimension(n)
        dims = self.dimensions
        if np.any((f_rate[dims] > s[dims]) & (g_rate[dims] > s[dims])):
            return 0.0
        return self._between_infimum(f, has_limit, exact_supported(self.space, dims))
        raise ConceptError(f"unknown betweenness method {method!r}; use 'integral' or 'infimum'")

    # ------------------------------------------------------------------ serialisation
    def to_dict(self) -> dict:
        """A JSON-ready description (infinite bounds as strings).

        Returns
        -------
        dict
            ``cuboids`` (``p_min``, ``p_max``), ``domains``, ``mu``, ``c`` and ``weights``;
            :meth:`from_dict` reads it back.
        """
        return {
            "cuboids": [
                {"p_min": [json_float(v) for v in lo], "p_max": [json_float(v) for v in hi]}
                for lo, hi in zip(self.p_min.tolist(), self.p_max.tolist())
            ],
            "domains": list(self.domains),
            "mu": self.mu,
            "c": self.c,
            "weights": self.weights.to_dict(),
        }

    @classmethod
    def from_dict(cls, space: ConceptualSpace, data: Mapping) -> "Concept":
        """The inverse of :meth:`to_dict`, validated like :meth:`from_cuboids`.

        Parameters
        ----------
        space : ConceptualSpace
            The space of the concept.
        data : mapping
            A description from :meth:`to_dict`.

        Returns
        -------
        Concept

        Raises
        ------
        ConceptError
            If a required field is missing or the description is invalid.
        """
        try:
            cuboids = [([float(v) for v in cub["p_min"]], [float(v) for v in cub["p_max"]]) for cub in data["cuboids"]]
            w = data.get("weights")
            weights = dims = None
            if w is not None:
                weights = w["domain_weights"]
                dims = {k: {int(d): x for d, x in v.items()} for k, v in w["dimension_weights"].items()}
            return cls.from_cuboids(space, cuboids, mu=data.get("mu", 1.0), c=data["c"], weights=weights, dimension_weights=dims)
        except KeyError as exc:
            raise ConceptError(f"concept description lacks the field {exc.args[0]!r}") from None

    # ------------------------------------------------------------------ helpers
    def _check_same_space(self, other) -> None:
        if not isinstance(other, Concept):
            raise ConceptError(f"expected a Concept, got {type(other).__name__}")
        if other.space is not self.space and other.space.to_dict()["domains"] != self.space.to_dict()["domains"]:
            raise ConceptError("the two concepts live in different conceptual spaces")

    def _common_domains(self, other) -> list[str]:
        return [d for d in self.space.domains if d in self.domains and d in other.domains]

    def _dimension_index(self, dimension) -> int:
        if isinstance(dimension, str):
            if dimension not in self.space.dimension_names:
                raise ConceptError(f"unknown dimension {dimension!r}; the space has {self.space.dimension_names}")
            dim = self.space.dimension_names.index(dimension)
        else:
            dim = int(dimension)
            if not 0 <= dim < self.space.n_dims:
                raise DimensionMismatchError(f"dimension {dimension!r} is out of range 0..{self.space.n_dims - 1}")
        if dim not in self.dimensions:
            raise ConceptError(f"concept does not constrain dimension {dimension!r}; it constrains {self.dimensions}")
        return dim

    def _hypervolume_cuboid(self, lo: np.ndarray, hi: np.ndarray) -> float:
        """Closed-form hypervolume of one fuzzified cuboid (arXiv:1707.02292, Prop. 1)."""
        dims = self.dimensions
        n = len(dims)
        w = self.weights.per_dimension(self.space.n_dims)
        dom_of = self.space.domain_of
        factor = self.mu / (self.c**n * float(np.prod(w[dims])))
        edge = {d: w[d] * (hi[d] - lo[d]) * self.c for d in dims}
        total = 0.0
        for r in range(n + 1):
            for subset in itertools.combinations(dims, r):
                first = 1.0
                for d in dims:
                    if d not in subset:
                        first *= edge[d]
                second = 1.0
                counts: dict[int, int] = {}
                for d in subset:
                    counts[dom_of[d]] = counts.get(dom_of[d], 0) + 1
                for m in counts.values():
                    second *= math.factorial(m) * math.pi ** (m / 2.0) / math.gamma(m / 2.0 + 1.0)
                total += first * second
        return factor * total

    def _cut_function(self, first, second):
        """``α ↦ f(α)`` and whether its ``α → 0`` limit (``alpha = 0``) is available."""
        dims = self.dimensions
        if exact_supported(self.space, dims):
            return (lambda alpha: cut_betweenness(self, first, second, dims, alpha)), True
        bad = [self.space.dimension_names[d] for d in dims if not search_supported(self.space, [d])]
        if bad:
            raise ConceptError(
                f"betweenness of concepts needs metric dimensions; {bad} are categorical "
                "(project the concepts onto their other domains first)"
            )
        search = BetweennessSearch(self, first, second, dims)
        return search.value, not search.circular

    def _between_infimum(self, f, has_limit: bool, exact: bool) -> float:
        """inf over α ∈ (0, μ₀] of ``f``: levels α = μ₀e^{−s} (48 for the exact path, 16 for the
        search), the best refined by a bounded Brent search in s (to 1e-9, or to 1/1000 of the
        bracket for the search), and the limit α → 0."""
        grid = np.concatenate([[0.0], np.geomspace(1e-3, 40.0, 47 if exact else 15)])

        def g(s: float) -> float:
            return f(self.mu * math.exp(-s))

        vals = np.array([g(s) for s in grid])
        i = int(np.argmin(vals))
        best = float(vals[i])
        lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
        if hi > lo:
            res = optimize.minimize_scalar(g, bounds=(lo, hi), method="bounded",
                                           options={"xatol": 1e-9 if exact else 1e-3 * (hi - lo)})
            best = min(best, float(res.fun))
        return min(best, f(0.0)) if has_limit else best


# ---------------------------------------------------------------------- helpers
def _concept_weights(space, domains, weights, dimension_weights) -> Weights:
    if weights is None:
        dom_w = {d: 1.0 for d in domains}
    elif isinstance(weights, Weights):
        dom_w = dict(weights.domain_weights)
        dimension_weights = dimension_weights or weights.dimension_weights
    else:
        dom_w = dict(weights)
    for d in dom_w:
        space._check_domain(d)
        if d not in domains:
            raise ConceptError(
                f"weight given for domain {d!r}, which the cuboids leave unbounded; bound it or drop its weight"
            )
    missing = [d for d in domains if d not in dom_w]
    if missing:
        raise ConceptError(f"no weight for the constrained domains {missing}; give weights for {domains}")
    dim_w = {}
    for d in domains:
        given = None if dimension_weights is None else dimension_weights.get(d)
        if given is None:
            dim_w[d] = dict(space.weights.dimension_weights[d])
        elif isinstance(given, Mapping):
            if set(int(k) for k in given) != set(space.domains[d]):
                raise DimensionMismatchError(
                    f"dimension weights of domain {d!r} name {sorted(given)}; the domain has the dimensions {space.domains[d]}"
                )
            dim_w[d] = {int(k): v for k, v in given.items()}
        else:
            given = list(given)
            if len(given) != len(space.domains[d]):
                raise DimensionMismatchError(
                    f"domain {d!r} has {len(space.domains[d])} dimensions but {len(given)} dimension weights were given"
                )
            dim_w[d] = dict(zip(space.domains[d], given))
    if dimension_weights is not None:
        for d in dimension_weights:
            space._check_domain(d)
    return Weights(dom_w, dim_w)
