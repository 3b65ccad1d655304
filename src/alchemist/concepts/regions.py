"""Prototype concepts (Voronoi categorization) and convex polytope regions.

Gärdenfors (2000, §3.5, §3.9): a natural property is a convex region of a domain; a set of
prototypes generates a Voronoi tessellation of the space into such regions, each point
belonging to its nearest prototype.
"""

from __future__ import annotations

import numpy as np

from alchemist.concepts.categorize import categorize, distance_matrix
from alchemist.concepts.space import ConceptualSpace
from alchemist.errors import ConceptError, DimensionMismatchError

__all__ = ["PrototypeConcepts", "ConvexRegion"]


class PrototypeConcepts:
    """Named prototypes whose Voronoi cells (under the space's metric) are the concepts.

    Parameters
    ----------
    space : ConceptualSpace
        The space and its metric.
    prototypes : mapping of str to array_like, or array_like, shape ``(k, n_dims)``
        The prototypes, named by the mapping's keys or by ``names``.
    names : sequence of str, optional
        Names of an array of prototypes (``"0"``, ``"1"``, ... by default).

    Raises
    ------
    DimensionMismatchError
        If the prototypes do not fit the space or ``names`` has the wrong length.

    Examples
    --------
    >>> from alchemist.concepts import ConceptualSpace
    >>> plane = ConceptualSpace({"a": [0, 1]})
    >>> pc = PrototypeConcepts(plane, {"cold": [0, 0], "warm": [4, 4]})
    >>> pc.names_of([[1, 1], [3, 3]], backend="cpu").tolist()
    ['cold', 'warm']
    """

    def __init__(self, space: ConceptualSpace, prototypes, names=None):
        if isinstance(prototypes, dict):
            names = list(prototypes)
            prototypes = [prototypes[n] for n in names]
        arr = space.check_points(np.atleast_2d(np.asarray(prototypes, dtype=np.float64)), "prototypes")
        if names is None:
            names = [str(i) for i in range(len(arr))]
        if len(names) != len(arr):
            raise DimensionMismatchError(f"{len(names)} names for {len(arr)} prototypes")
        self.space = space
        self.prototypes = arr
        self.names = list(names)

    def categorize(self, points, backend: str = "auto") -> np.ndarray:
        """The Voronoi cell of each point: the index of its nearest prototype.

        Parameters
        ----------
        points : array_like, shape ``(n_points, n_dims)``
            The points.
        backend : {"auto", "cpu", "cuda"}
            Where to compute (see :func:`alchemist.concepts.categorize`).

        Returns
        -------
        ndarray, shape ``(n_points,)``, int64
        """
        return categorize(points, self.prototypes, self.space, backend=backend)

    def names_of(self, points, backend: str = "auto") -> np.ndarray:
        """The concept name of each point (its nearest prototype's).

        Parameters
        ----------
        points : array_like, shape ``(n_points, n_dims)``
            The points.
        backend : {"auto", "cpu", "cuda"}
            Where to compute.

        Returns
        -------
        ndarray, shape ``(n_points,)``, object
        """
        from alchemist.backend import to_numpy

        return np.asarray(self.names, dtype=object)[to_numpy(self.categorize(points, backend=backend))]

    def similarities(self, points, c: float = 1.0) -> np.ndarray:
        """Similarity ``exp(−c·d)`` of each point to each prototype.

        Parameters
        ----------
        points : array_like, shape ``(n_points, n_dims)``
            The points.
        c : float
            Sensitivity.

        Returns
        -------
        ndarray, shape ``(n_points, k)``

        Examples
        --------
        >>> from alchemist.concepts import ConceptualSpace
        >>> pc = PrototypeConcepts(ConceptualSpace({"a": [0, 1]}), {"cold": [0, 0], "warm": [4, 4]})
        >>> pc.similarities([[0, 0]]).round(4).tolist()
        [[1.0, 0.0183]]
        """
        return np.exp(-c * distance_matrix(points, self.prototypes, self.space, backend="cpu"))


class ConvexRegion:
    """A convex polytope ``{x : A x ≤ b}`` in a conceptual space (a crisp convex concept).

    Parameters
    ----------
    space : ConceptualSpace
        The space.
    A : array_like, shape ``(n_halfspaces, n_dims)``
        Normals of the half-spaces.
    b : array_like, shape ``(n_halfspaces,)``
        Their offsets.

    Raises
    ------
    DimensionMismatchError
        If the shapes do not fit each other or the space.
    ConceptError
        On non-finite coefficients or an all-zero normal.

    Examples
    --------
    >>> from alchemist.concepts import ConceptualSpace
    >>> square = ConvexRegion(ConceptualSpace({"a": [0, 1]}), [[1, 0], [0, 1], [-1, 0], [0, -1]], [1, 1, 0, 0])
    >>> square.contains([[0.5, 0.5], [2, 0.5]]).tolist()
    [True, False]
    >>> round(float(square.membership([2, 0.5])), 4)  # one unit outside: exp(-1)
    0.3679
    """

    def __init__(self, space: ConceptualSpace, A, b):
        A = np.atleast_2d(np.asarray(A, dtype=np.float64))
        b = np.atleast_1d(np.asarray(b, dtype=np.float64))
        if A.shape[1] != space.n_dims or A.shape[0] != b.shape[0]:
            raise DimensionMismatchError(
                f"half-spaces A {A.shape} and b {b.shape} do not fit a {space.n_dims}-dimensional space"
            )
        if not (np.isfinite(A).all() and np.isfinite(b).all()):
            raise ConceptError("half-space coefficients must be finite")
        if (np.abs(A).sum(axis=1) == 0).any():
            raise ConceptError(f"half-space {int(np.argmax(np.abs(A).sum(axis=1) == 0))} has an all-zero normal")
        self.space, self.A, self.b = space, A, b

    @classmethod
    def voronoi_cell(cls, prototypes, index: int, space: ConceptualSpace) -> "ConvexRegion":
        """The Euclidean Voronoi cell of ``prototypes[index]`` as half-spaces (bisector planes).

        Valid for a space whose metric is Euclidean after rescaling by the salience weights (one
        domain); the weights are folded into the normals.

        Parameters
        ----------
        prototypes : array_like, shape ``(k, n_dims)``
            The prototypes.
        index : int
            The prototype whose cell is wanted.
        space : ConceptualSpace
            The space.

        Returns
        -------
        ConvexRegion
            ``k - 1`` half-spaces.

        Examples
        --------
        >>> from alchemist.concepts import ConceptualSpace
        >>> cell = ConvexRegion.voronoi_cell([[0, 0], [2, 0]], 0, ConceptualSpace({"a": [0, 1]}))
        >>> cell.contains([0.9, 5.0]), cell.contains([1.1, 0.0])
        (True, False)
        """
        p = space.check_points(np.atleast_2d(prototypes), "prototypes")
        dim_w, dom_w = space.weights.arrays(space)
        s = dim_w * dom_w[space.domain_of] ** 2
        others = np.delete(np.arange(len(p)), index)
        A = 2.0 * (p[others] - p[index]) * s
        b = ((p[others] ** 2) * s).sum(axis=1) - ((p[index] ** 2) * s).sum()
        return cls(space, A, b)

    def contains(self, points, tolerance: float = 0.0) -> np.ndarray | bool:
        """Whether each point satisfies every half-space, ``A x ≤ b + tolerance``.

        Parameters
        ----------
        points : array_like, shape ``(n_dims,)`` or ``(n_points, n_dims)``
            The points.
        tolerance : float
            Slack on every half-space.

        Returns
        -------
        bool or ndarray of bool, shape ``(n_points,)``
        """
        x = self.space.check_points(points)
        out = np.all(x @ self.A.T <= self.b + tolerance, axis=-1)
        return bool(out) if out.ndim == 0 else out

    def membership(self, points, c: float = 1.0) -> np.ndarray | float:
        """Fuzzy membership ``exp(−c · max(0, max_i (a_i·x − b_i)/‖a_i‖))``: 1 inside, decaying with
        the distance past the most violated half-space.

        Parameters
        ----------
        points : array_like, shape ``(n_dims,)`` or ``(n_points, n_dims)``
            The points.
        c : float
            Sensitivity.

        Returns
        -------
        float or ndarray, shape ``(n_points,)``
        """
        x = self.space.check_points(points)
        viol = (x @ self.A.T - self.b) / np.linalg.norm(self.A, axis=1)
        out = np.exp(-c * np.maximum(viol.max(axis=-1), 0.0))
        return float(out) if np.ndim(out) == 0 else out
