"""Extra forces that plug into :func:`alchemist.layout.forceatlas2`.

A force is any callable ``force(positions) -> displacement force`` with ``positions`` an
``(n_nodes, 2) float32`` array (row i = node row i) that returns an ``(n_nodes, 2) float32``
array. :func:`~alchemist.layout.forceatlas2` calls every force of its ``forces=`` argument once
per iteration, after the ForceAtlas2 forces (repulsion, gravity, attraction) are computed and
before the adaptive speed step, and adds the result to the ForceAtlas2 force. The extra forces
therefore take part in the swinging/traction measure of the speed step like any other force
(Jacomy et al. 2014, "Adaptive speed").

The classes below are the semantic and strategic forces of the seed (003 §3.2): attraction by
conceptual similarity (:class:`PairAttraction` with similarity weights), repulsion between
categories (:class:`GroupRepulsion`), temporal proximity (:class:`TemporalAttraction`),
attraction within coalitions (:class:`GroupAttraction`), repulsion between competitors
(:class:`PairRepulsion`) and utility gradients (:class:`UtilityGradient`).

Calibration. ForceAtlas2's forces are not scale-free: its repulsion ``k_r m_i m_j / d`` (masses
``m = 1 + degree``, ``k_r`` = ``scaling_ratio``) sets the layout's size, and every node feels the
repulsion of the whole graph. A force meant to compete with it must be on the same scale, so
the forces below are written in ForceAtlas2's own units, and ``strength = 1`` (the default)
visibly changes a layout:

- springs (:class:`PairAttraction`, :class:`GroupAttraction`, :class:`TemporalAttraction`)
  are linear in distance like ForceAtlas2's attraction: ``strength = 1`` with weight 1 is one
  more edge;
- :class:`GroupRepulsion` is ForceAtlas2's repulsion between a node and the mass of each other
  group concentrated at its centroid, ``k_r m_i M_h / d``;
- :class:`PairRepulsion` is ``n`` times ForceAtlas2's repulsion between the two nodes,
  ``n k_r m_i m_j / d`` (the push of the whole graph, aimed at one competitor);
- :class:`UtilityGradient` pushes a node one standard deviation above the mean utility with
  ``k_r m_i m̄`` (ForceAtlas2's repulsion of an average node at unit distance).

Masses are ``1 + degree`` when the force is given the graph (``graph=``), as ForceAtlas2 uses;
without it every mass is 1 and the repulsive forces are about ``(1 + mean degree)²`` weaker. The
measured effect of each force at its default strength is in ``tests/layout/test_forces_effect.py``
and ``notebooks/07-documents-and-forces.ipynb``.

Forces work on NumPy arrays and, on the GPU backend, on CuPy arrays (they only use array
operations that both libraries share).
"""

from __future__ import annotations

import numpy as np

from alchemist.errors import LayoutError
from alchemist.layout._force_support import (
    array_namespace,
    check_indices,
    check_labels,
    check_masses,
    check_strength,
    group_centroids,
    group_labels,
    masses_like,
    pair_indices,
    scatter_pairs,
    timestamps_seconds,
)
from alchemist.layout._input import as_layout_graph

__all__ = [
    "Force",
    "PairAttraction",
    "PairRepulsion",
    "GroupAttraction",
    "GroupRepulsion",
    "TemporalAttraction",
    "UtilityGradient",
    "CallableForce",
    "node_masses",
]


class Force:
    """Base class of the extra layout forces.

    Subclasses implement :meth:`compute`; calling the force validates the positions and returns
    ``compute(positions)`` as ``(n_nodes, 2) float32``.

    A force is called as ``force(positions)`` with ``positions`` an ``(n_nodes, 2) float32``
    array (NumPy, or CuPy on the GPU backend) and returns an ``(n_nodes, 2) float32`` array of
    the same kind: the force on each node, in layout units, that ForceAtlas2 adds to its own
    force before the speed step.

    :meth:`validate` is called once by :func:`~alchemist.layout.forceatlas2` before the first
    iteration with the number of nodes, so that a force whose node indices or labels do not fit
    the graph fails early with a :class:`~alchemist.errors.LayoutError`.

    Examples
    --------
    >>> import numpy as np
    >>> class TowardOrigin(Force):
    ...     def compute(self, positions):
    ...         return -positions
    >>> TowardOrigin()(np.array([[1.0, 2.0]], np.float32)).tolist()
    [[-1.0, -2.0]]
    """

    def validate(self, n_nodes: int) -> None:
        """Check that the force fits a graph of ``n_nodes`` nodes (the base class accepts any graph).

        Parameters
        ----------
        n_nodes : int
            Number of nodes of the graph being laid out.

        Raises
        ------
        LayoutError
            In subclasses, if a node index or label does not fit the graph.
        """

    def bind(self, masses, scaling_ratio: float) -> None:
        """Receive ForceAtlas2's node masses and ``scaling_ratio`` before the first iteration.

        The calibrated forces (:class:`GroupRepulsion`, :class:`PairRepulsion`,
        :class:`UtilityGradient`) use them where they were not given ``graph=`` or
        ``scaling_ratio=``; the base class ignores them. A layout that calls this hook makes those
        forces calibrated without ``graph=``.

        Parameters
        ----------
        masses : ndarray, shape ``(n_nodes,)``
            ForceAtlas2's masses, ``1 + degree``.
        scaling_ratio : float
            The layout's ``scaling_ratio``.
        """

    def compute(self, positions):  # pragma: no cover - abstract
        """The force for ``positions``; subclasses override this.

        Parameters
        ----------
        positions : ndarray, shape ``(n_nodes, 2)``
            Node positions (NumPy, or CuPy on the GPU backend).

        Returns
        -------
        ndarray, shape ``(n_nodes, 2)``
            The force on each node, in layout units.
        """
        raise LayoutError(f"{type(self).__name__} does not implement compute(positions)")

    def __call__(self, positions):
        if positions.ndim != 2 or positions.shape[1] != 2:
            raise LayoutError(f"{type(self).__name__}: positions must have shape (n_nodes, 2), got {positions.shape}")
        out = self.compute(positions)
        return out.astype(np.float32, copy=False)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class _Calibrated(Force):
    """A force in ForceAtlas2's units: masses from ``graph=`` (or :meth:`bind`), else 1; ``k_r``."""

    def _calibrate(self, graph, scaling_ratio) -> None:
        name = type(self).__name__
        self._given_masses = None if graph is None else node_masses(graph)
        self._given_kr = None if scaling_ratio is None else check_strength(scaling_ratio, f"{name} scaling_ratio")
        self._bound_masses, self._bound_kr = None, None

    @property
    def masses(self):
        """``(n_nodes,)`` masses: from ``graph=``, else from :meth:`bind`, else None (all 1)."""
        return self._given_masses if self._given_masses is not None else self._bound_masses

    @property
    def scaling_ratio(self) -> float:
        """``k_r``: as given, else the layout's (from :meth:`bind`), else 2.0 (``forceatlas2``'s default)."""
        for kr in (self._given_kr, self._bound_kr):
            if kr is not None:
                return kr
        return 2.0

    def bind(self, masses, scaling_ratio: float) -> None:
        """Take ForceAtlas2's masses and ``scaling_ratio`` where ``graph=``/``scaling_ratio=`` were not given.

        Parameters
        ----------
        masses : ndarray, shape ``(n_nodes,)``
            ForceAtlas2's masses, ``1 + degree``.
        scaling_ratio : float
            The layout's ``scaling_ratio``.
        """
        self._bound_masses = np.asarray(masses, dtype=np.float64).ravel()
        self._bound_kr = float(scaling_ratio)

    def validate(self, n_nodes: int) -> None:
        """Check that the masses (if any) have one entry per node.

        Parameters
        ----------
        n_nodes : int
            Number of nodes of the graph being laid out.

        Raises
        ------
        LayoutError
            If ``graph=`` (or :meth:`bind`) gave another number of nodes.
        """
        check_masses(self.masses, n_nodes, type(self).__name__)


class PairAttraction(Force):
    """Linear springs between node pairs: ``F_i = -strength * w * (p_i - p_j)``, ``F_j = -F_i``.

    The same functional form as ForceAtlas2's linear attraction (Jacomy et al. 2014, eq. 2), for
    pairs that are not (or not only) edges of the graph — e.g. pairs of conceptually similar
    nodes weighted by similarity.

    Parameters
    ----------
    i, j : array_like of int, shape (n_pairs,)
        Node rows of the pairs. A pair with ``i == j`` exerts no force.
    weight : array_like of float, shape (n_pairs,), optional
        Per-pair weights (default 1). Must be finite.
    strength : float
        Global factor (default 1.0), non-negative.

    Raises
    ------
    LayoutError
        If ``i`` and ``j`` (and ``weight``) differ in length, a weight is not finite,
        ``strength`` is negative, or (on :meth:`validate`) an index is outside the graph.

    Examples
    --------
    >>> import numpy as np
    >>> spring = PairAttraction([0], [1], strength=0.5)
    >>> spring(np.array([[0, 0], [2, 0]], np.float32)).tolist()
    [[1.0, 0.0], [-1.0, 0.0]]
    """

    def __init__(self, i, j, weight=None, strength: float = 1.0):
        self.i, self.j = pair_indices(i, j, type(self).__name__)
        if weight is None:
            self.weight = np.ones(len(self.i), dtype=np.float64)
        else:
            self.weight = np.asarray(weight, dtype=np.float64).ravel()
            if self.weight.shape != self.i.shape:
                raise LayoutError(
                    f"PairAttraction: weight has {self.weight.size} values for {self.i.size} pairs; give one per pair"
                )
            bad = np.flatnonzero(~np.isfinite(self.weight))
            if bad.size:
                raise LayoutError(f"PairAttraction: weight[{bad[0]}] = {self.weight[bad[0]]} is not finite")
        self.strength = check_strength(strength, type(self).__name__)

    def validate(self, n_nodes: int) -> None:
        """Check that the node indices of the pairs fit a graph of ``n_nodes`` nodes.

        Parameters
        ----------
        n_nodes : int
            Number of nodes of the graph being laid out.

        Raises
        ------
        LayoutError
            Naming the first index outside ``0 … n_nodes - 1``.
        """
        check_indices(self.i, self.j, n_nodes, type(self).__name__)

    def compute(self, positions):
        """The springs' forces, ``-strength · w · (p_i - p_j)`` on ``i`` and the opposite on ``j``.

        Parameters
        ----------
        positions : ndarray, shape ``(n_nodes, 2)``
            Node positions (NumPy, or CuPy on the GPU backend).

        Returns
        -------
        ndarray, shape ``(n_nodes, 2)``
            The force on each node, in layout units.
        """
        xp = array_namespace(positions)
        p = positions.astype(xp.float64)
        i, j = xp.asarray(self.i), xp.asarray(self.j)
        w = xp.asarray(self.weight)[:, None]
        f = -self.strength * w * (p[i] - p[j])
        return scatter_pairs(xp, len(p), i, j, f)

    def __repr__(self) -> str:
        return f"PairAttraction(n_pairs={self.i.size}, strength={self.strength})"


class PairRepulsion(_Calibrated):
    """Repulsion between node pairs (e.g. competitors), on the scale of ForceAtlas2's repulsion.

    ``F_i = strength * k_r * n * m_i * m_j * (p_i - p_j) / |p_i - p_j|^2`` and ``F_j = -F_i``:
    magnitude ``strength · n · k_r m_i m_j / d``, ``n`` times ForceAtlas2's repulsion between
    the two nodes (Jacomy et al. 2014, eq. 1) — the push the whole graph exerts on a node, aimed
    at its competitor. ``m`` is ``1 + degree`` when ``graph`` is given, else 1; ``k_r`` is
    ``scaling_ratio``. Coincident pairs exert no force.

    Parameters
    ----------
    i, j : array_like of int, shape (n_pairs,)
        Node rows of the pairs.
    strength : float
        Factor on the calibrated law (default 1.0), non-negative. At 1.0, competitors joined by
        an edge end about twice as far apart as before relative to the layout's mean distance
        (``tests/layout/test_forces_effect.py``).
    graph : graph, optional
        The graph being laid out (anything :func:`~alchemist.layout.forceatlas2` accepts), for
        ForceAtlas2's masses ``1 + degree`` (else the masses :meth:`Force.bind` gives, else 1).
    scaling_ratio : float, optional
        ForceAtlas2's ``scaling_ratio`` used for the layout; default the layout's (when it calls
        :meth:`Force.bind`), else 2.0 as ``forceatlas2``.

    Raises
    ------
    LayoutError
        If ``i`` and ``j`` differ in length, ``strength`` or ``scaling_ratio`` is negative, or
        (on :meth:`validate`) an index or the graph does not fit the layout.

    Examples
    --------
    >>> import numpy as np
    >>> push = PairRepulsion([0], [1], scaling_ratio=1.0)  # unit masses, n = 2
    >>> push(np.array([[0, 0], [2, 0]], np.float32)).tolist()
    [[-1.0, 0.0], [1.0, 0.0]]
    """

    def __init__(self, i, j, strength: float = 1.0, graph=None, scaling_ratio: float | None = None):
        self.i, self.j = pair_indices(i, j, type(self).__name__)
        self.strength = check_strength(strength, type(self).__name__)
        self._calibrate(graph, scaling_ratio)

    def validate(self, n_nodes: int) -> None:
        """Check that the node indices of the pairs (and the graph, if given) fit ``n_nodes`` nodes.

        Parameters
        ----------
        n_nodes : int
            Number of nodes of the graph being laid out.

        Raises
        ------
        LayoutError
            Naming the first index outside ``0 … n_nodes - 1``, or the graph's node count.
        """
        check_indices(self.i, self.j, n_nodes, type(self).__name__)
        check_masses(self.masses, n_nodes, type(self).__name__)

    def compute(self, positions):
        """The pairs' repulsions, ``strength · k_r · n · m_i m_j (p_i - p_j) / d²`` on ``i``, opposite on ``j``.

        Parameters
        ----------
        positions : ndarray, shape ``(n_nodes, 2)``
            Node positions (NumPy, or CuPy on the GPU backend).

        Returns
        -------
        ndarray, shape ``(n_nodes, 2)``
            The force on each node, in layout units.
        """
        xp = array_namespace(positions)
        p = positions.astype(xp.float64)
        i, j = xp.asarray(self.i), xp.asarray(self.j)
        m = masses_like(xp, self.masses, len(p))
        d = p[i] - p[j]
        d2 = (d * d).sum(axis=1)
        inv = xp.where(d2 > 0, 1.0 / xp.where(d2 > 0, d2, 1.0), 0.0)
        k = self.strength * self.scaling_ratio * len(p) * m[i] * m[j]
        f = d * (k * inv)[:, None]
        return scatter_pairs(xp, len(p), i, j, f)

    def __repr__(self) -> str:
        return f"PairRepulsion(n_pairs={self.i.size}, strength={self.strength})"


class _GroupForce(Force):
    """A force defined by a group label per node row (-1: no group) and a strength."""

    def __init__(self, labels, strength: float = 1.0):
        self.labels = group_labels(labels, type(self).__name__)
        self.strength = check_strength(strength, type(self).__name__)

    def validate(self, n_nodes: int) -> None:
        check_labels(self.labels, n_nodes, type(self).__name__)


class GroupAttraction(_GroupForce):
    """Pull each member of a group toward the group's centroid: ``F_i = -strength * (p_i - c_g)``.

    ``c_g`` is the mean position of the members of group ``g`` (e.g. a coalition or a category).

    Parameters
    ----------
    labels : array_like of int, shape (n_nodes,)
        Group of each node row; ``-1`` means the node belongs to no group (no force).
    strength : float
        Global factor (default 1.0), non-negative.

    Raises
    ------
    LayoutError
        If a label is below -1, ``strength`` is negative, or (on :meth:`validate`) ``labels``
        does not have one entry per node.

    Examples
    --------
    >>> import numpy as np
    >>> pull = GroupAttraction([0, 0, -1])  # nodes 0 and 1 in one group, node 2 in none
    >>> pull(np.array([[0, 0], [2, 0], [5, 5]], np.float32)).tolist()
    [[1.0, 0.0], [-1.0, 0.0], [0.0, 0.0]]
    """

    def compute(self, positions):
        """The pull of each grouped node toward its group's centroid.

        Parameters
        ----------
        positions : ndarray, shape ``(n_nodes, 2)``
            Node positions (NumPy, or CuPy on the GPU backend).

        Returns
        -------
        ndarray, shape ``(n_nodes, 2)``
            The force on each node, in layout units.
        """
        xp = array_namespace(positions)
        p = positions.astype(xp.float64)
        labels = xp.asarray(self.labels)
        centroids, _ = group_centroids(xp, p, labels)
        member = labels >= 0
        f = xp.zeros_like(p)
        f[member] = -self.strength * (p[member] - centroids[labels[member]])
        return f

    def __repr__(self) -> str:
        return f"GroupAttraction(n_groups={int(self.labels.max(initial=-1)) + 1}, strength={self.strength})"


class GroupRepulsion(_GroupForce, _Calibrated):
    """Repulsion between groups (e.g. categories), on the scale of ForceAtlas2's repulsion.

    Each member ``i`` of group ``g`` receives
    ``strength * k_r * m_i * sum_{h != g} M_h (c_g - c_h) / |c_g - c_h|^2``, with ``c_g`` the
    centroid of group ``g`` and ``M_h`` the total mass of group ``h``: ForceAtlas2's repulsion law
    (Jacomy et al. 2014, eq. 1) between the node and each other group's mass concentrated at its
    centroid, taken along the line between the centroids so that a group moves as a whole. ``m``
    is ``1 + degree`` when ``graph`` is given, else 1; ``k_r`` is ``scaling_ratio``. Groups with
    coincident centroids exert no force on each other.

    Parameters
    ----------
    labels : array_like of int, shape (n_nodes,)
        Group of each node row; ``-1`` means the node belongs to no group (no force).
    strength : float
        Factor on the calibrated law (default 1.0), non-negative. At 1.0 on three planted
        communities the within/between-group mean distance ratio falls from 0.86 to 0.47
        (``tests/layout/test_forces_effect.py``).
    graph : graph, optional
        The graph being laid out, for ForceAtlas2's masses ``1 + degree`` (else the masses
        :meth:`Force.bind` gives, else 1).
    scaling_ratio : float, optional
        ForceAtlas2's ``scaling_ratio`` used for the layout; default the layout's (when it calls
        :meth:`Force.bind`), else 2.0 as ``forceatlas2``.

    Raises
    ------
    LayoutError
        If a label is below -1, ``strength`` or ``scaling_ratio`` is negative, or (on
        :meth:`validate`) ``labels`` or the graph does not have one entry per node.

    Examples
    --------
    >>> import numpy as np
    >>> push = GroupRepulsion([0, 1], scaling_ratio=1.0)  # unit masses
    >>> push(np.array([[0, 0], [2, 0]], np.float32)).tolist()
    [[-0.5, 0.0], [0.5, 0.0]]
    """

    def __init__(self, labels, strength: float = 1.0, graph=None, scaling_ratio: float | None = None):
        super().__init__(labels, strength)
        self._calibrate(graph, scaling_ratio)

    def validate(self, n_nodes: int) -> None:
        """Check that the labels (and the graph, if given) have one entry per node.

        Parameters
        ----------
        n_nodes : int
            Number of nodes of the graph being laid out.

        Raises
        ------
        LayoutError
            If the number of labels or the graph's node count differs from ``n_nodes``.
        """
        check_labels(self.labels, n_nodes, type(self).__name__)
        check_masses(self.masses, n_nodes, type(self).__name__)

    def compute(self, positions):
        """The repulsion of the other groups' masses at their centroids, along the centroid lines.

        Parameters
        ----------
        positions : ndarray, shape ``(n_nodes, 2)``
            Node positions (NumPy, or CuPy on the GPU backend).

        Returns
        -------
        ndarray, shape ``(n_nodes, 2)``
            The force on each node, in layout units.
        """
        xp = array_namespace(positions)
        p = positions.astype(xp.float64)
        labels = xp.asarray(self.labels)
        m = masses_like(xp, self.masses, len(p))
        centroids, counts = group_centroids(xp, p, labels)
        member = labels >= 0
        group_mass = xp.bincount(labels[member], weights=m[member], minlength=len(counts))
        present = counts > 0
        d = centroids[:, None, :] - centroids[None, :, :]  # (g, h, 2)
        d2 = (d * d).sum(axis=2)
        ok = (d2 > 0) & present[:, None] & present[None, :]
        inv = xp.where(ok, 1.0 / xp.where(ok, d2, 1.0), 0.0) * group_mass[None, :]
        group_force = self.strength * self.scaling_ratio * (d * inv[:, :, None]).sum(axis=1)  # (g, 2)
        f = xp.zeros_like(p)
        f[member] = group_force[labels[member]] * m[member][:, None]
        return f

    def __repr__(self) -> str:
        return f"GroupRepulsion(n_groups={int(self.labels.max(initial=-1)) + 1}, strength={self.strength})"


class TemporalAttraction(PairAttraction):
    """Temporal proximity: springs between each node and its ``k`` nearest nodes in time.

    The spring between ``i`` and a temporal neighbour ``j`` has weight ``exp(-|t_i - t_j| / tau)``
    and pulls with ``-strength * w * (p_i - p_j)`` (:class:`PairAttraction`, ForceAtlas2's linear
    attraction): at ``strength = 1`` two nodes with the same timestamp are held like nodes joined
    by an edge. Neighbours are found with a k-d tree on the timestamps (``scipy.spatial.cKDTree``),
    so building the force is ``O(n k log n)`` and each iteration ``O(n k)``.

    Parameters
    ----------
    times : array_like, shape (n_nodes,)
        Timestamp of each node row: numbers (any unit) or ``numpy.datetime64`` values. Must be
        finite (no NaT).
    k : int
        Temporal neighbours per node (default 10, capped at ``n_nodes - 1``).
    strength : float
        Factor on the springs (default 1.0), non-negative. At the defaults, on three planted
        communities with random timestamps, the mean distance between temporal neighbours
        falls from 0.98 to 0.57 of the mean distance (``tests/layout/test_forces_effect.py``).
    tau : float, optional
        Time scale of the weights, in the unit of ``times`` (seconds for datetimes). Default: the
        median gap between a node and its ``k`` temporal neighbours.

    Raises
    ------
    LayoutError
        If ``times`` is not one-dimensional, holds a non-finite value, has fewer than two
        entries, or ``k``, ``tau`` or ``strength`` is out of range; (on :meth:`validate`) if it
        does not have one entry per node.

    Examples
    --------
    >>> import numpy as np
    >>> near = TemporalAttraction([0.0, 1.0, 100.0], k=1, tau=1.0)
    >>> np.round(near(np.array([[0, 0], [1, 0], [1, 0]], np.float32)), 3).tolist()
    [[0.368, 0.0], [-0.368, 0.0], [0.0, 0.0]]
    """

    def __init__(self, times, k: int = 10, strength: float = 1.0, tau: float | None = None):
        t = timestamps_seconds(times, type(self).__name__)
        from scipy.spatial import cKDTree

        k = int(k)
        if k < 1:
            raise LayoutError(f"TemporalAttraction: k = {k}; give at least one temporal neighbour per node")
        k = min(k, len(t) - 1)
        gap, idx = cKDTree(t[:, None]).query(t[:, None], k=k + 1)
        rows = np.repeat(np.arange(len(t)), k + 1)
        cols, gap = idx.ravel(), gap.ravel()
        keep = rows != cols
        if tau is None:  # the median gap to the k neighbours of every node
            tau = float(np.median(gap[keep])) if np.median(gap[keep]) > 0 else 1.0
        if not np.isfinite(tau) or tau <= 0:
            raise LayoutError(f"TemporalAttraction: tau = {tau!r} must be a positive time scale")
        lo, hi = np.minimum(rows, cols)[keep], np.maximum(rows, cols)[keep]
        pairs, first = np.unique(np.stack([lo, hi], axis=1), axis=0, return_index=True)  # each pair once
        rows, cols, gap = pairs[:, 0], pairs[:, 1], gap[keep][first]
        self.times, self.tau, self.n_nodes = t, float(tau), len(t)
        super().__init__(rows, cols, weight=np.exp(-gap / self.tau), strength=strength)

    def validate(self, n_nodes: int) -> None:
        """Check that there is one timestamp per node.

        Parameters
        ----------
        n_nodes : int
            Number of nodes of the graph being laid out.

        Raises
        ------
        LayoutError
            If ``times`` does not have ``n_nodes`` entries.
        """
        if self.n_nodes != n_nodes:
            raise LayoutError(
                f"TemporalAttraction: {self.n_nodes} timestamps for a graph with {n_nodes} nodes; "
                "give one timestamp per node row"
            )

    def __repr__(self) -> str:
        return f"TemporalAttraction(n_pairs={self.i.size}, tau={self.tau:g}, strength={self.strength})"


class UtilityGradient(_Calibrated):
    """Utility gradient: push each node along a direction in proportion to its standardized utility.

    ``F_i = strength * k_r * m_i * mean(m) * z_i * e`` with ``z_i = (u_i - mean(u)) / std(u)``
    the node's utility in standard deviations and ``e`` the unit vector of ``direction``: the
    layout acquires a slope along ``e`` (high utility one side, low the other) while ForceAtlas2
    keeps connected nodes together. The magnitude at ``z = 1`` is ForceAtlas2's repulsion
    between the node and an average node at unit distance, ``k_r m_i m̄`` (masses ``1 + degree``
    when ``graph`` is given, else 1).

    Parameters
    ----------
    utility : array_like of float, shape (n_nodes,)
        Utility (payoff, score) of each node row; finite, not all equal.
    strength : float
        Factor on the calibrated law (default 1.0), non-negative. At 1.0 (with ``graph``), on
        three planted communities with random utilities, the correlation between the position
        along ``direction`` and the utility rises from -0.05 to 0.76
        (``tests/layout/test_forces_effect.py``).
    direction : pair of float
        Direction of increasing utility in the layout plane (default ``(1, 0)``, rightwards).
    graph : graph, optional
        The graph being laid out, for ForceAtlas2's masses ``1 + degree`` (else the masses
        :meth:`Force.bind` gives, else 1).
    scaling_ratio : float, optional
        ForceAtlas2's ``scaling_ratio`` used for the layout; default the layout's (when it calls
        :meth:`Force.bind`), else 2.0 as ``forceatlas2``.

    Raises
    ------
    LayoutError
        If a utility is not finite, all utilities are equal, ``direction`` is zero or not a pair,
        ``strength`` or ``scaling_ratio`` is negative, or (on :meth:`validate`) the utilities or
        the graph do not have one entry per node.

    Examples
    --------
    >>> import numpy as np
    >>> tilt = UtilityGradient([1.0, 3.0], scaling_ratio=1.0)  # z = -1, +1; unit masses
    >>> tilt(np.zeros((2, 2), np.float32)).tolist()
    [[-1.0, 0.0], [1.0, 0.0]]
    """

    def __init__(self, utility, strength: float = 1.0, direction=(1.0, 0.0), graph=None,
                 scaling_ratio: float | None = None):
        name = type(self).__name__
        u = np.asarray(utility, dtype=np.float64).ravel()
        bad = np.flatnonzero(~np.isfinite(u))
        if bad.size:
            raise LayoutError(f"{name}: utility[{bad[0]}] = {u[bad[0]]} is not finite")
        if u.size < 2 or np.ptp(u) == 0:
            raise LayoutError(f"{name}: the utilities are all equal ({u.size} values); there is no gradient to follow")
        e = np.asarray(direction, dtype=np.float64).ravel()
        if e.shape != (2,) or not np.isfinite(e).all() or not np.hypot(*e) > 0:
            raise LayoutError(f"{name}: direction = {direction!r} must be a non-zero pair (dx, dy)")
        self.z = (u - u.mean()) / u.std()
        self.direction = e / np.hypot(*e)
        self.strength = check_strength(strength, name)
        self._calibrate(graph, scaling_ratio)

    def validate(self, n_nodes: int) -> None:
        """Check that the utilities (and the graph, if given) have one entry per node.

        Parameters
        ----------
        n_nodes : int
            Number of nodes of the graph being laid out.

        Raises
        ------
        LayoutError
            If the number of utilities or the graph's node count differs from ``n_nodes``.
        """
        if self.z.size != n_nodes:
            raise LayoutError(
                f"UtilityGradient: {self.z.size} utilities for a graph with {n_nodes} nodes; give one per node row"
            )
        check_masses(self.masses, n_nodes, type(self).__name__)

    def compute(self, positions):
        """The push ``strength · k_r · m_i · mean(m) · z_i`` along ``direction`` (independent of positions).

        Parameters
        ----------
        positions : ndarray, shape ``(n_nodes, 2)``
            Node positions (NumPy, or CuPy on the GPU backend); only their number and kind count.

        Returns
        -------
        ndarray, shape ``(n_nodes, 2)``
            The force on each node, in layout units.
        """
        xp = array_namespace(positions)
        m = masses_like(xp, self.masses, len(positions))
        magnitude = self.strength * self.scaling_ratio * float(m.mean()) * m * xp.asarray(self.z)
        return magnitude[:, None] * xp.asarray(self.direction)[None, :]

    def __repr__(self) -> str:
        return f"UtilityGradient(n_nodes={self.z.size}, direction={self.direction.tolist()}, strength={self.strength})"


class CallableForce(Force):
    """Wrap any function ``fn(positions) -> (n_nodes, 2)`` as a force.

    Parameters
    ----------
    fn : callable
        Called with the ``(n_nodes, 2) float32`` positions each iteration; must return an array
        of the same shape with finite values.

    Raises
    ------
    LayoutError
        If ``fn`` is not callable, or returns an array of the wrong shape or with non-finite
        values.
    """

    def __init__(self, fn):
        if not callable(fn):
            raise LayoutError(f"CallableForce needs a callable, got {type(fn).__name__}")
        self.fn = fn

    def compute(self, positions):
        """The wrapped function's result on ``positions``.

        Parameters
        ----------
        positions : ndarray, shape ``(n_nodes, 2)``
            Node positions (NumPy, or CuPy on the GPU backend).

        Returns
        -------
        ndarray, shape ``(n_nodes, 2)``
            The force on each node, in layout units.
        """
        xp = array_namespace(positions)
        out = xp.asarray(self.fn(positions))
        if out.shape != positions.shape:
            raise LayoutError(
                f"CallableForce: {getattr(self.fn, '__name__', self.fn)!r} returned shape {out.shape}; "
                f"it must return {positions.shape} (one 2-D force per node row)"
            )
        if not bool(xp.isfinite(out).all()):
            raise LayoutError(f"CallableForce: {getattr(self.fn, '__name__', self.fn)!r} returned non-finite forces")
        return out

    def __repr__(self) -> str:
        return f"CallableForce({getattr(self.fn, '__name__', self.fn)!r})"


def node_masses(graph) -> np.ndarray:
    """ForceAtlas2's node masses, ``1 + degree`` (distinct neighbours), as ``(n_nodes,) float64``.

    Parameters
    ----------
    graph : graph
        Anything :func:`~alchemist.layout.forceatlas2` accepts (NetworkX graph, alchemist
        ``Graph``, SciPy sparse matrix, edge arrays).

    Returns
    -------
    ndarray, shape ``(n_nodes,)``
        The mass of each node row.

    Raises
    ------
    LayoutError
        If ``graph`` is not a graph the layout accepts.

    Examples
    --------
    >>> import networkx as nx
    >>> node_masses(nx.path_graph(3)).tolist()
    [2.0, 3.0, 2.0]
    """
    return 1.0 + as_layout_graph(graph).degree.astype(np.float64)
