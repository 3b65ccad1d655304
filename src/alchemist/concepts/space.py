"""Conceptual spaces: quality dimensions, domains, salience weights and the combined metric.

A conceptual space (Gärdenfors 2000, ch. 1) is a set of quality dimensions grouped into
domains (colour = hue, saturation, lightness; taste = sweet, sour, ...). Points are items,
distance is dissimilarity, and similarity decays exponentially with distance (Shepard 1987).

The metric follows Bechberger & Kühnberger, "A Thorough Formalization of Conceptual Spaces"
(KI 2017, arXiv:1706.06366, §3): within a domain the weighted Euclidean distance, across domains
the weighted Manhattan distance,

    d_C(x, y, W) = Σ_δ w_δ · sqrt( Σ_{d ∈ δ} w_d · |x_d − y_d|² ),

with salience weights normalised so that Σ_δ w_δ = |Δ| (the number of domains weighted) and
Σ_{d ∈ δ} w_d = 1 within each domain.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from alchemist.errors import ConceptError, DimensionMismatchError, UnknownDomainError

__all__ = [
    "DIMENSION_KINDS",
    "ConceptualSpace",
    "Weights",
    "soft_betweenness",
]

#: The kinds a quality dimension may have.
DIMENSION_KINDS = ("continuous", "circular", "ordinal", "categorical")


class Weights:
    """Salience weights ``W = <W_Δ, {W_δ}>`` of a conceptual space or a concept.

    Parameters
    ----------
    domain_weights : mapping of str to float
        Positive weight per domain; normalised to sum to the number of domains given.
    dimension_weights : mapping of str to mapping of int to float
        Positive weight per dimension index, per domain; normalised to sum to 1 within each
        domain.

    Raises
    ------
    ConceptError
        If a weight is not a positive finite number, or the two mappings name different domains.

    Notes
    -----
    Normalisation as in Bechberger & Kühnberger (2017, arXiv:1706.06366, Def. 3); merging as
    their weighted average followed by renormalisation (§4.1).

    Examples
    --------
    >>> Weights({"color": 2, "shape": 1}, {"color": {0: 1}, "shape": {1: 1, 2: 3}})
    Weights({'color': 1.3333333333333333, 'shape': 0.6666666666666666},
            {'color': {0: 1.0}, 'shape': {1: 0.25, 2: 0.75}})
    """

    def __init__(self, domain_weights: Mapping[str, float], dimension_weights: Mapping[str, Mapping[int, float]]):
        if set(domain_weights) != set(dimension_weights):
            raise ConceptError(
                f"domain weights name {sorted(domain_weights)} but dimension weights name "
                f"{sorted(dimension_weights)}; give both for the same domains"
            )
        if not domain_weights:
            raise ConceptError("weights need at least one domain")
        for name, value in domain_weights.items():
            check_positive(f"weight of domain {name!r}", value)
        total = float(sum(domain_weights.values()))
        self.domain_weights = {k: float(v) * len(domain_weights) / total for k, v in domain_weights.items()}
        self.dimension_weights: dict[str, dict[int, float]] = {}
        for dom, dims in dimension_weights.items():
            if not dims:
                raise ConceptError(f"domain {dom!r} has no dimension weights")
            for dim, value in dims.items():
                check_positive(f"weight of dimension {dim} in domain {dom!r}", value)
            dim_total = float(sum(dims.values()))
            self.dimension_weights[dom] = {int(k): float(v) / dim_total for k, v in dims.items()}

    def __repr__(self) -> str:
        return f"Weights({self.domain_weights!r}, {self.dimension_weights!r})"

    def __eq__(self, other) -> bool:
        if not isinstance(other, Weights) or set(self.domain_weights) != set(other.domain_weights):
            return False
        for dom, w in self.domain_weights.items():
            if not math.isclose(w, other.domain_weights[dom], rel_tol=1e-9, abs_tol=1e-12):
                return False
            mine, theirs = self.dimension_weights[dom], other.dimension_weights[dom]
            if set(mine) != set(theirs) or any(
                not math.isclose(v, theirs[k], rel_tol=1e-9, abs_tol=1e-12) for k, v in mine.items()
            ):
                return False
        return True

    def merge(self, other: "Weights", s: float = 0.5, t: float = 0.5) -> "Weights":
        """The weighted average of two weightings, renormalised (arXiv:1706.06366, §4.1).

        Parameters
        ----------
        other : Weights
            The other weighting.
        s : float
            Share of ``self`` in the domain weights (``s·self + (1−s)·other``).
        t : float
            Share of ``self`` in the dimension weights.

        Returns
        -------
        Weights
            Domains weighted by only one of the two keep that one's weights.

        Examples
        --------
        >>> a = Weights({"color": 2, "shape": 1}, {"color": {0: 1}, "shape": {1: 1}})
        >>> b = Weights({"color": 1, "shape": 2}, {"color": {0: 1}, "shape": {1: 1}})
        >>> sorted(a.merge(b).domain_weights.items())
        [('color', 1.0), ('shape', 1.0)]
        """
        dom, dim = {}, {}
        # in a fixed order (self's domains, then other's), so that the result does not depend on hashing
        for name in [*self.domain_weights, *(d for d in other.domain_weights if d not in self.domain_weights)]:
            if name in self.domain_weights and name in other.domain_weights:
                dom[name] = s * self.domain_weights[name] + (1.0 - s) * other.domain_weights[name]
                mine, theirs = self.dimension_weights[name], other.dimension_weights[name]
                dim[name] = {k: t * mine.get(k, 0.0) + (1.0 - t) * theirs.get(k, 0.0) for k in set(mine) | set(theirs)}
            else:
                src = self if name in self.domain_weights else other
                dom[name] = src.domain_weights[name]
                dim[name] = dict(src.dimension_weights[name])
        return Weights(dom, dim)

    def project(self, domain_names) -> "Weights":
        """The weights restricted to some domains, renormalised.

        Parameters
        ----------
        domain_names : iterable of str
            Domains to keep (each must be weighted here).

        Returns
        -------
        Weights

        Raises
        ------
        KeyError
            If a domain is not weighted here.
        """
        return Weights(
            {d: self.domain_weights[d] for d in domain_names},
            {d: dict(self.dimension_weights[d]) for d in domain_names},
        )

    def per_dimension(self, n_dims: int) -> np.ndarray:
        """The factor ``w_δ · sqrt(w_d)`` of each dimension (0 where unweighted).

        This is what a one-dimensional domain contributes per unit of coordinate difference; the
        hypervolume formula and the sensitivity checks use it.

        Parameters
        ----------
        n_dims : int
            Number of dimensions of the space.

        Returns
        -------
        ndarray, shape ``(n_dims,)``, float64
        """
        out = np.zeros(n_dims)
        for dom, dims in self.dimension_weights.items():
            for d, w in dims.items():
                out[d] = self.domain_weights[dom] * math.sqrt(w)
        return out

    def arrays(self, space: "ConceptualSpace") -> tuple[np.ndarray, np.ndarray]:
        """The weights as arrays in a space's domain order.

        Parameters
        ----------
        space : ConceptualSpace
            The space that orders the domains.

        Returns
        -------
        dim_w : ndarray, shape ``(n_dims,)``
            Weight of each dimension within its domain (0 where unweighted).
        dom_w : ndarray, shape ``(n_domains,)``
            Weight of each domain (0 where unweighted).
        """
        dim_w = np.zeros(space.n_dims)
        dom_w = np.zeros(len(space.domains))
        for i, name in enumerate(space.domains):
            if name in self.domain_weights:
                dom_w[i] = self.domain_weights[name]
                for d, w in self.dimension_weights[name].items():
                    dim_w[d] = w
        return dim_w, dom_w

    def to_dict(self) -> dict:
        """A JSON-ready description (dimension indices as strings); :meth:`from_dict` reads it back.

        Returns
        -------
        dict
            ``{"domain_weights": {...}, "dimension_weights": {domain: {"index": weight}}}``.
        """
        return {
            "domain_weights": dict(self.domain_weights),
            "dimension_weights": {k: {str(d): w for d, w in v.items()} for k, v in self.dimension_weights.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> "Weights":
        """The inverse of :meth:`to_dict`.

        Parameters
        ----------
        data : mapping
            ``{"domain_weights": ..., "dimension_weights": ...}``.

        Returns
        -------
        Weights

        Raises
        ------
        KeyError
            If a field is missing.
        ConceptError
            If a weight is not positive and finite.
        """
        return cls(
            data["domain_weights"],
            {k: {int(d): w for d, w in v.items()} for k, v in data["dimension_weights"].items()},
        )


class ConceptualSpace:
    """A conceptual space: quality dimensions grouped into domains, with salience weights.

    Parameters
    ----------
    domains : mapping of str to sequence of int
        Domain name → indices of its quality dimensions. Every index ``0 … n_dims−1`` must
        belong to exactly one domain (Bechberger & Kühnberger 2017, Def. 1).
    dimension_names : sequence of str, optional
        One name per dimension (default ``"d0", "d1", …``).
    kinds : sequence of str, optional
        One of ``"continuous"`` (default), ``"circular"`` (wrap-around at ``period``),
        ``"ordinal"`` (integer ranks, absolute rank difference) or ``"categorical"`` (distance 0
        when equal, 1 otherwise) per dimension.
    ranges : sequence of (float, float), optional
        Range of each dimension (default ``(-inf, inf)``; ``(0, 360)`` for circular). For a
        circular dimension the range length is its period.
    weights : mapping of str to float, optional
        Salience of each domain (default equal).
    dimension_weights : mapping of str to sequence of float, optional
        Salience of each dimension within its domain, in the order of ``domains[name]``
        (default equal).
    name : str, optional
        Identifier of the space (used as ``space_id`` in CIM events).

    Raises
    ------
    ConceptError
        If the domain structure is not a partition of ``0 … n_dims−1``, a kind is unknown, a
        range is empty, or a weight is not positive.

    Examples
    --------
    >>> space = ConceptualSpace({"color": [0], "shape": [1], "taste": [2]},
    ...                         dimension_names=["hue", "round", "sweet"])
    >>> round(space.distance([0, 0, 0], [0.3, 0.4, 0.0]), 6)
    0.7
    """

    def __init__(
        self,
        domains: Mapping[str, Sequence[int]],
        dimension_names: Sequence[str] | None = None,
        kinds: Sequence[str] | None = None,
        ranges: Sequence[tuple[float, float]] | None = None,
        weights: Mapping[str, float] | None = None,
        dimension_weights: Mapping[str, Sequence[float]] | None = None,
        name: str = "space",
    ):
        if not isinstance(domains, Mapping) or not domains:
            raise ConceptError(f"domains must be a non-empty mapping of name to dimension indices, got {domains!r}")
        flat = []
        for dom, dims in domains.items():
            dims = list(dims)
            if not dims:
                raise ConceptError(f"domain {dom!r} has no dimensions; every domain needs at least one")
            flat.extend(int(d) for d in dims)
        n_dims = len(flat)
        if sorted(flat) != list(range(n_dims)):
            raise ConceptError(
                f"domains {dict(domains)!r} must partition the dimension indices 0..{n_dims - 1}, "
                "each index in exactly one domain"
            )
        self.domains: dict[str, list[int]] = {str(k): [int(d) for d in v] for k, v in domains.items()}
        self.n_dims = n_dims
        self.name = str(name)
        self.dimension_names = list(dimension_names) if dimension_names is not None else [f"d{i}" for i in range(n_dims)]
        if len(self.dimension_names) != n_dims:
            raise DimensionMismatchError(f"{len(self.dimension_names)} dimension names given for {n_dims} dimensions")
        self.kinds = list(kinds) if kinds is not None else ["continuous"] * n_dims
        if len(self.kinds) != n_dims:
            raise DimensionMismatchError(f"{len(self.kinds)} kinds given for {n_dims} dimensions")
        for k in self.kinds:
            if k not in DIMENSION_KINDS:
                raise ConceptError(f"unknown dimension kind {k!r}; use one of {DIMENSION_KINDS}")
        if ranges is None:
            ranges = [(0.0, 360.0) if k == "circular" else (-math.inf, math.inf) for k in self.kinds]
        if len(ranges) != n_dims:
            raise DimensionMismatchError(f"{len(ranges)} ranges given for {n_dims} dimensions")
        self.ranges = [(float(lo), float(hi)) for lo, hi in ranges]
        for i, (lo, hi) in enumerate(self.ranges):
            if not lo < hi:
                raise ConceptError(f"range {(lo, hi)} of dimension {self.dimension_names[i]!r} is empty; need low < high")
            if self.kinds[i] == "circular" and not math.isfinite(hi - lo):
                raise ConceptError(f"circular dimension {self.dimension_names[i]!r} needs a finite range (its period)")
        self.periods = np.array(
            [hi - lo if k == "circular" else 0.0 for k, (lo, hi) in zip(self.kinds, self.ranges)], dtype=np.float64
        )
        dom_w = dict(weights) if weights is not None else {d: 1.0 for d in self.domains}
        for d in dom_w:
            self._check_domain(d)
        missing = set(self.domains) - set(dom_w)
        if missing:
            raise ConceptError(f"weights miss the domains {sorted(missing)}; give a weight for every domain")
        dim_w = {}
        for dom, dims in self.domains.items():
            given = None if dimension_weights is None else dimension_weights.get(dom)
            if given is None:
                dim_w[dom] = {d: 1.0 for d in dims}
            else:
                if len(given) != len(dims):
                    raise DimensionMismatchError(
                        f"domain {dom!r} has {len(dims)} dimensions but {len(given)} dimension weights were given"
                    )
                dim_w[dom] = dict(zip(dims, given))
        if dimension_weights is not None:
            for d in dimension_weights:
                self._check_domain(d)
        self.weights = Weights(dom_w, dim_w)
        self._domain_of = np.empty(n_dims, dtype=np.int64)
        for i, dims in enumerate(self.domains.values()):
            self._domain_of[dims] = i

    # ------------------------------------------------------------------ structure
    def __repr__(self) -> str:
        return f"ConceptualSpace({self.domains!r}, dimension_names={self.dimension_names!r}, kinds={self.kinds!r})"

    @property
    def domain_of(self) -> np.ndarray:
        """Index (in ``domains`` order) of each dimension's domain, ``(n_dims,) int64`` (a copy)."""
        return self._domain_of.copy()

    def weights_for(self, weights=None) -> Weights:
        """Resolve a ``weights=`` argument.

        Parameters
        ----------
        weights : None, Weights or mapping of str to float
            None: the space's weights; a mapping: domain weights (with the space's dimension weights).

        Returns
        -------
        Weights

        Raises
        ------
        UnknownDomainError
            If a domain is not in the space.
        ConceptError
            If ``weights`` has another type or a weight is not positive.
        """
        if weights is None:
            return self.weights
        if isinstance(weights, Weights):
            for d in weights.domain_weights:
                self._check_domain(d)
            return weights
        if isinstance(weights, Mapping):
            for d in weights:
                self._check_domain(d)
            return Weights(dict(weights), {d: dict(self.weights.dimension_weights[d]) for d in weights})
        raise ConceptError(f"weights must be None, a Weights or a mapping of domain to weight, got {type(weights).__name__}")

    def _check_domain(self, name) -> None:
        if name not in self.domains:
            raise UnknownDomainError(f"unknown domain {name!r}; this space has the domains {list(self.domains)}")

    def check_points(self, points, name: str = "points") -> np.ndarray:
        """Validate coordinates: float64 array with last axis ``n_dims``, all finite.

        Raises
        ------
        DimensionMismatchError
            If the last axis is not ``n_dims`` long.
        ConceptError
            If a coordinate is NaN or infinite.
        """
        arr = np.asarray(points, dtype=np.float64)
        if arr.ndim == 0 or arr.shape[-1] != self.n_dims:
            raise DimensionMismatchError(
                f"{name} have shape {arr.shape}; this space has {self.n_dims} dimensions "
                f"({', '.join(self.dimension_names)}), so the last axis must be {self.n_dims} long"
            )
        if not np.all(np.isfinite(arr)):
            bad = np.argwhere(~np.isfinite(arr))[0]
            raise ConceptError(f"{name} contain a non-finite coordinate {arr[tuple(bad)]!r} at index {tuple(bad)}")
        return arr

    # ------------------------------------------------------------------ metric
    def differences(self, a, b) -> np.ndarray:
        """Per-dimension differences ``|a − b|`` respecting each dimension's kind.

        Circular dimensions wrap around (``min(Δ, period − Δ)``), categorical ones give 0 or 1.
        Infinite equal coordinates give 0 (cuboid bounds of unconstrained domains).
        """
        a = np.asarray(a, dtype=np.float64)
        b = np.asarray(b, dtype=np.float64)
        with np.errstate(invalid="ignore"):
            diff = np.abs(a - b)
        diff = np.where(a == b, 0.0, diff)
        circ = self.periods > 0
        if circ.any():
            wrapped = np.mod(diff, np.where(circ, self.periods, 1.0))
            diff = np.where(circ, np.minimum(wrapped, np.where(circ, self.periods, 1.0) - wrapped), diff)
        cat = np.array([k == "categorical" for k in self.kinds])
        if cat.any():
            diff = np.where(cat, (diff > 0).astype(np.float64), diff)
        return diff

    def combine(self, diff, weights=None, p: float = 2.0) -> np.ndarray:
        """Combined metric from per-dimension differences ``diff (..., n_dims)``.

        ``Σ_δ w_δ (Σ_{d∈δ} w_d |Δ_d|^p)^{1/p}``; ``p = 2`` is Bechberger's metric.
        """
        w = self.weights_for(weights)
        dim_w, dom_w = w.arrays(self)
        diff = np.asarray(diff, dtype=np.float64)
        powered = np.where(dim_w > 0, dim_w * diff**p, 0.0)
        inner = np.zeros(diff.shape[:-1] + (len(self.domains),))
        for i, dims in enumerate(self.domains.values()):
            if dom_w[i] > 0:
                inner[..., i] = powered[..., dims].sum(axis=-1)
        return (inner ** (1.0 / p)) @ dom_w

    def distance(self, a, b, weights=None, p: float = 2.0, metric: str = "combined") -> np.ndarray | float:
        """Distance between points ``a`` and ``b`` (broadcasting over leading axes).

        Parameters
        ----------
        a, b : array_like, shape ``(..., n_dims)``
            Points; finite coordinates.
        weights : None, mapping of str to float, or Weights
            Salience weights (default: the space's). A mapping gives domain weights (normalised)
            with the space's dimension weights.
        p : float, default 2
            Exponent within a domain (``metric="combined"``) or over all dimensions
            (``metric="minkowski"``). ``p = 2`` with ``"combined"`` is Bechberger's metric.
        metric : {"combined", "minkowski"}
            ``"combined"``: weighted Minkowski-p within domains, weighted Manhattan across them;
            ``"minkowski"``: ``(Σ_d w_δ w_d |Δ_d|^p)^{1/p}`` over all dimensions.

        Returns
        -------
        float or ndarray of shape ``(...)``

        Raises
        ------
        DimensionMismatchError, ConceptError, UnknownDomainError
        """
        if not (isinstance(p, (int, float)) and p >= 1 and math.isfinite(p)):
            raise ConceptError(f"p = {p!r} is not a Minkowski exponent; use a finite number >= 1")
        a = self.check_points(a, "a")
        b = self.check_points(b, "b")
        diff = self.differences(a, b)
        if metric == "combined":
            out = self.combine(diff, weights, p)
        elif metric == "minkowski":
            w = self.weights_for(weights)
            dim_w, dom_w = w.arrays(self)
            out = ((dim_w * dom_w[self._domain_of]) * diff**p).sum(axis=-1) ** (1.0 / p)
        else:
            raise ConceptError(f"unknown metric {metric!r}; use 'combined' or 'minkowski'")
        return float(out) if np.ndim(out) == 0 else out

    def similarity(self, a, b, c: float = 1.0, weights=None, kind: str = "exponential", **metric) -> np.ndarray | float:
        """Similarity of points: ``exp(−c·d)`` (Shepard 1987) or ``1/(1 + c·d)`` (``kind="inverse"``).

        Raises
        ------
        ConceptError
            If ``c`` is not positive or ``kind`` is unknown.
        """
        check_positive("sensitivity c", c)
        d = np.asarray(self.distance(a, b, weights=weights, **metric))
        if kind == "exponential":
            out = np.exp(-c * d)
        elif kind == "inverse":
            out = 1.0 / (1.0 + c * d)
        else:
            raise ConceptError(f"unknown similarity kind {kind!r}; use 'exponential' or 'inverse'")
        return float(out) if out.ndim == 0 else out

    def between(self, x, y, z, method: str = "crisp", weights=None, tolerance: float = 1e-5):
        """Betweenness of point ``y`` between ``x`` and ``z``.

        ``"crisp"``: 1.0 when ``d(x,y) + d(y,z) − d(x,z) < tolerance`` under unit weights,
        else 0.0; ``"soft"``: ``d(x,z) / (d(x,y) + d(y,z))`` (1 when the denominator is 0),
        as in Bechberger & Kühnberger, "Formal ways for measuring relations between concepts in
        conceptual spaces" (arXiv:1707.02292, §6).

        Returns
        -------
        float or ndarray of shape ``(...)``
        """
        if method == "crisp":
            unit = Weights({d: 1.0 for d in self.domains}, {d: {i: 1.0 for i in dims} for d, dims in self.domains.items()})
            dxy = np.asarray(self.distance(x, y, unit))
            dyz = np.asarray(self.distance(y, z, unit))
            dxz = np.asarray(self.distance(x, z, unit))
            out = np.where(dxy + dyz - dxz < tolerance, 1.0, 0.0)
        elif method == "soft":
            w = self.weights_for(weights)
            out = soft_betweenness(self, x, y, z, w)
        else:
            raise ConceptError(f"unknown betweenness method {method!r}; use 'crisp' or 'soft'")
        return float(out) if np.ndim(out) == 0 else out

    # ------------------------------------------------------------------ concepts
    def concept(self, cuboids, mu: float = 1.0, c: float = 1.0, weights=None, dimension_weights=None):
        """A fuzzy star-shaped concept of this space (see :class:`alchemist.concepts.Concept`).

        Parameters
        ----------
        cuboids : sequence of (p_min, p_max)
            The core: cuboids with a common intersection; ``±inf`` bounds on every dimension of
            a domain the concept does not constrain.
        mu : float in (0, 1]
            Maximal membership.
        c : float > 0
            Sensitivity (rate of the exponential decay of membership).
        weights : mapping of str to float, optional
            Salience of the concept's domains (default equal).
        dimension_weights : mapping of str to mapping/sequence, optional
            Salience of the dimensions within each domain (default: the space's).
        """
        from alchemist.concepts.concept import Concept

        return Concept.from_cuboids(self, cuboids, mu=mu, c=c, weights=weights, dimension_weights=dimension_weights)

    # ------------------------------------------------------------------ serialisation
    def to_dict(self) -> dict:
        """A JSON-ready description (the payload of ``conceptual_space_created``).

        Returns
        -------
        dict
            ``space_id``, ``domains``, ``dimension_names``, ``kinds``, ``ranges`` (infinities as
            strings), ``weights`` and ``dimension_weights``; :meth:`from_dict` rebuilds an equal space.

        Examples
        --------
        >>> space = ConceptualSpace({"color": [0], "shape": [1, 2]})
        >>> ConceptualSpace.from_dict(space.to_dict()) == space
        True
        """
        return {
            "space_id": self.name,
            "domains": {k: list(v) for k, v in self.domains.items()},
            "dimension_names": list(self.dimension_names),
            "kinds": list(self.kinds),
            "ranges": [[json_float(lo), json_float(hi)] for lo, hi in self.ranges],
            "weights": dict(self.weights.domain_weights),
            "dimension_weights": {
                d: [self.weights.dimension_weights[d][i] for i in dims] for d, dims in self.domains.items()
            },
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> "ConceptualSpace":
        """The inverse of :meth:`to_dict` (also reads a ``conceptual_space_created`` payload).

        Parameters
        ----------
        data : mapping
            A description with at least ``domains``.

        Returns
        -------
        ConceptualSpace

        Raises
        ------
        ConceptError
            If a required field is missing or the description is invalid.
        """
        try:
            return cls(
                data["domains"],
                dimension_names=data.get("dimension_names"),
                kinds=data.get("kinds"),
                ranges=[(_unjson_float(lo), _unjson_float(hi)) for lo, hi in data["ranges"]] if "ranges" in data else None,
                weights=data.get("weights"),
                dimension_weights=data.get("dimension_weights"),
                name=data.get("space_id", "space"),
            )
        except KeyError as exc:
            raise ConceptError(f"conceptual space description lacks the field {exc.args[0]!r}") from None

    def __eq__(self, other) -> bool:
        return isinstance(other, ConceptualSpace) and self.to_dict() == other.to_dict()


def soft_betweenness(space: ConceptualSpace, x, y, z, weights: Weights) -> np.ndarray:
    """Soft betweenness of ``y`` between ``x`` and ``z``: ``d(x,z) / (d(x,y) + d(y,z))``.

    1 when ``y`` lies on a shortest path from ``x`` to ``z`` (Bechberger & Kühnberger 2017,
    arXiv:1707.02292, §6), smaller the farther it is off.

    Parameters
    ----------
    space : ConceptualSpace
        The space and its metric.
    x, y, z : array_like, shape ``(..., n_dims)``
        Points (broadcast together).
    weights : Weights
        Salience weights of the metric.

    Returns
    -------
    ndarray
        In ``[0, 1]``; 1 where the denominator is 0.

    Examples
    --------
    >>> space = ConceptualSpace({"color": [0], "shape": [1, 2]})
    >>> float(soft_betweenness(space, [0, 0, 0], [1, 0, 0], [2, 0, 0], space.weights))
    1.0
    """
    dxy = space.combine(space.differences(x, y), weights)
    dyz = space.combine(space.differences(y, z), weights)
    dxz = space.combine(space.differences(x, z), weights)
    den = dxy + dyz
    return np.where(den > 0, dxz / np.where(den > 0, den, 1.0), 1.0)


# ---------------------------------------------------------------------- helpers
def check_positive(what: str, value) -> None:
    """Check that a weight or a sensitivity is a positive finite number.

    Parameters
    ----------
    what : str
        What the value is, for the message.
    value : object
        The value.

    Raises
    ------
    ConceptError
        Naming ``what`` and the value, unless ``value`` is positive and finite.
    """
    try:
        ok = float(value) > 0 and math.isfinite(float(value))
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ConceptError(f"{what} = {value!r} must be a positive finite number")


def json_float(x: float):
    """A float as JSON can hold it.

    Parameters
    ----------
    x : float
        The value.

    Returns
    -------
    float or str
        ``x``, or ``"inf"`` / ``"-inf"`` for an infinite value (JSON has no infinity).

    Examples
    --------
    >>> json_float(1.5), json_float(float("-inf"))
    (1.5, '-inf')
    """
    return x if math.isfinite(x) else ("inf" if x > 0 else "-inf")


def _unjson_float(x) -> float:
    return float(x)
