"""Extra forces that plug into :func:`alchemist.layout.forceatlas2`.

A force is any callable ``force(positions) -> displacement force`` with ``positions`` an
``(n_nodes, 2) float32`` array (row i = node row i) that returns an ``(n_nodes, 2) float32``
array. :func:`~alchemist.layout.forceatlas2` calls every force of its ``forces=`` argument once
per iteration, after the ForceAtlas2 forces (repulsion, gravity, attraction) are computed and
before the adaptive speed step, and adds the result to the ForceAtlas2 force. The extra forces
therefore take part in the swinging/traction measure of the speed step like any other force
(Jacomy et al. 2014, "Adaptive speed").

The classes below are the building blocks that the conceptual-space and game-theory modules
use: attraction by conceptual similarity (:class:`PairAttraction` with similarity weights),
repulsion between categories (:class:`GroupRepulsion`), attraction within coalitions
(:class:`GroupAttraction`), repulsion between competitors (:class:`PairRepulsion`). Their
functional forms follow ForceAtlas2's own: springs are linear in distance like ForceAtlas2's
attraction (``F = -k w d``) and repulsions fall off as ``1/d`` like its repulsion
(``F = k / d``), so that ``strength`` is on the scale of ``scaling_ratio``.

Forces work on NumPy arrays and, on the GPU backend, on CuPy arrays (they only use array
operations that both libraries share).
"""

from __future__ import annotations

import numpy as np

from alchemist.errors import LayoutError

__all__ = [
    "Force",
    "PairAttraction",
    "PairRepulsion",
    "GroupAttraction",
    "GroupRepulsion",
    "CallableForce",
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
        self.i, self.j = _pair_indices(i, j, type(self).__name__)
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
        self.strength = _strength(strength, type(self).__name__)

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
        _check_indices(self.i, self.j, n_nodes, type(self).__name__)

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
        xp = _namespace(positions)
        p = positions.astype(xp.float64)
        i, j = xp.asarray(self.i), xp.asarray(self.j)
        w = xp.asarray(self.weight)[:, None]
        f = -self.strength * w * (p[i] - p[j])
        return _scatter(xp, len(p), i, j, f)

    def __repr__(self) -> str:
        return f"PairAttraction(n_pairs={self.i.size}, strength={self.strength})"


class PairRepulsion(Force):
    """Repulsion between node pairs: ``F_i = strength * (p_i - p_j) / |p_i - p_j|^2``, ``F_j = -F_i``.

    Magnitude ``strength / d``: ForceAtlas2's repulsion law (Jacomy et al. 2014, eq. 1) with unit
    masses, for chosen pairs (e.g. competitors). Coincident pairs exert no force.

    Parameters
    ----------
    i, j : array_like of int, shape (n_pairs,)
        Node rows of the pairs.
    strength : float
        Global factor (default 1.0), non-negative.

    Raises
    ------
    LayoutError
        If ``i`` and ``j`` differ in length, ``strength`` is negative, or (on :meth:`validate`)
        an index is outside the graph.
    """

    def __init__(self, i, j, strength: float = 1.0):
        self.i, self.j = _pair_indices(i, j, type(self).__name__)
        self.strength = _strength(strength, type(self).__name__)

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
        _check_indices(self.i, self.j, n_nodes, type(self).__name__)

    def compute(self, positions):
        """The pairs' repulsions, ``strength · (p_i - p_j) / d²`` on ``i`` and the opposite on ``j``.

        Parameters
        ----------
        positions : ndarray, shape ``(n_nodes, 2)``
            Node positions (NumPy, or CuPy on the GPU backend).

        Returns
        -------
        ndarray, shape ``(n_nodes, 2)``
            The force on each node, in layout units.
        """
        xp = _namespace(positions)
        p = positions.astype(xp.float64)
        i, j = xp.asarray(self.i), xp.asarray(self.j)
        d = p[i] - p[j]
        d2 = (d * d).sum(axis=1)
        inv = xp.where(d2 > 0, 1.0 / xp.where(d2 > 0, d2, 1.0), 0.0)
        f = self.strength * d * inv[:, None]
        return _scatter(xp, len(p), i, j, f)

    def __repr__(self) -> str:
        return f"PairRepulsion(n_pairs={self.i.size}, strength={self.strength})"


class _GroupForce(Force):
    """A force defined by a group label per node row (-1: no group) and a strength."""

    def __init__(self, labels, strength: float = 1.0):
        self.labels = _labels(labels, type(self).__name__)
        self.strength = _strength(strength, type(self).__name__)

    def validate(self, n_nodes: int) -> None:
        _check_labels(self.labels, n_nodes, type(self).__name__)


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
        xp = _namespace(positions)
        p = positions.astype(xp.float64)
        labels = xp.asarray(self.labels)
        centroids, _ = _centroids(xp, p, labels)
        member = labels >= 0
        f = xp.zeros_like(p)
        f[member] = -self.strength * (p[member] - centroids[labels[member]])
        return f

    def __repr__(self) -> str:
        return f"GroupAttraction(n_groups={int(self.labels.max(initial=-1)) + 1}, strength={self.strength})"


class GroupRepulsion(_GroupForce):
    """Repulsion between group centroids, applied to every member of each group.

    Each member of group ``g`` receives ``strength * sum_{h != g} (c_g - c_h) / |c_g - c_h|^2``,
    with ``c_g`` the centroid of group ``g`` (ForceAtlas2's ``1/d`` repulsion law between
    centroids). Groups with coincident centroids exert no force on each other.

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
    """

    def compute(self, positions):
        """The repulsion of the other groups' centroids, the same on every member of a group.

        Parameters
        ----------
        positions : ndarray, shape ``(n_nodes, 2)``
            Node positions (NumPy, or CuPy on the GPU backend).

        Returns
        -------
        ndarray, shape ``(n_nodes, 2)``
            The force on each node, in layout units.
        """
        xp = _namespace(positions)
        p = positions.astype(xp.float64)
        labels = xp.asarray(self.labels)
        centroids, counts = _centroids(xp, p, labels)
        present = counts > 0
        d = centroids[:, None, :] - centroids[None, :, :]  # (g, h, 2)
        d2 = (d * d).sum(axis=2)
        ok = (d2 > 0) & present[:, None] & present[None, :]
        inv = xp.where(ok, 1.0 / xp.where(ok, d2, 1.0), 0.0)
        group_force = self.strength * (d * inv[:, :, None]).sum(axis=1)  # (g, 2)
        member = labels >= 0
        f = xp.zeros_like(p)
        f[member] = group_force[labels[member]]
        return f

    def __repr__(self) -> str:
        return f"GroupRepulsion(n_groups={int(self.labels.max(initial=-1)) + 1}, strength={self.strength})"


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
        xp = _namespace(positions)
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


# --------------------------------------------------------------------------- helpers
def _namespace(array):
    """NumPy or CuPy, whichever ``array`` belongs to."""
    if type(array).__module__.startswith("cupy"):
        import cupy

        return cupy
    return np


def _strength(strength, name: str) -> float:
    s = float(strength)
    if not np.isfinite(s) or s < 0:
        raise LayoutError(f"{name}: strength = {strength!r} must be a finite non-negative number")
    return s


def _pair_indices(i, j, name: str):
    i = np.asarray(i).ravel()
    j = np.asarray(j).ravel()
    if i.shape != j.shape:
        raise LayoutError(f"{name}: i has {i.size} entries and j has {j.size}; give one j per i")
    for arr, label in ((i, "i"), (j, "j")):
        if arr.size and not np.issubdtype(arr.dtype, np.integer):
            raise LayoutError(f"{name}: {label} must hold integer node rows, got dtype {arr.dtype}")
    return i.astype(np.int64), j.astype(np.int64)


def _check_indices(i, j, n_nodes: int, name: str) -> None:
    for arr, label in ((i, "i"), (j, "j")):
        bad = np.flatnonzero((arr < 0) | (arr >= n_nodes))
        if bad.size:
            raise LayoutError(
                f"{name}: {label}[{bad[0]}] = {arr[bad[0]]} is not a node row of a graph with {n_nodes} nodes"
            )


def _labels(labels, name: str):
    labels = np.asarray(labels).ravel()
    if labels.size and not np.issubdtype(labels.dtype, np.integer):
        raise LayoutError(f"{name}: labels must be integers (-1 = no group), got dtype {labels.dtype}")
    labels = labels.astype(np.int64)
    bad = np.flatnonzero(labels < -1)
    if bad.size:
        raise LayoutError(f"{name}: labels[{bad[0]}] = {labels[bad[0]]}; use -1 for 'no group' and 0, 1, ... for groups")
    return labels


def _check_labels(labels, n_nodes: int, name: str) -> None:
    if labels.size != n_nodes:
        raise LayoutError(f"{name}: {labels.size} labels for a graph with {n_nodes} nodes; give one label per node row")


def _scatter(xp, n: int, i, j, f):
    """Sum pair forces ``f`` (on ``i``; ``-f`` on ``j``) into an ``(n, 2)`` array."""
    out = xp.empty((n, 2), dtype=xp.float64)
    for d in range(2):
        out[:, d] = xp.bincount(i, weights=f[:, d], minlength=n) - xp.bincount(j, weights=f[:, d], minlength=n)
    return out


def _centroids(xp, p, labels):
    """Centroid ``(n_groups, 2)`` and member count ``(n_groups,)`` of each group (label >= 0)."""
    member = labels >= 0
    lab = labels[member]
    n_groups = int(lab.max()) + 1 if lab.size else 0
    counts = xp.bincount(lab, minlength=n_groups).astype(xp.float64)
    sums = xp.stack(
        [xp.bincount(lab, weights=p[member, d], minlength=n_groups) for d in range(2)], axis=1
    ).reshape(n_groups, 2)
    centroids = sums / xp.maximum(counts, 1.0)[:, None]
    return centroids, counts
