"""Array helpers shared by the extra layout forces (:mod:`alchemist.layout.forces`).

Validation of force arguments (strengths, node rows, group labels, timestamps) and the array
operations the forces share on NumPy and CuPy (pair scatter, group centroids, masses).
"""

from __future__ import annotations

import numpy as np

from alchemist.errors import LayoutError


def array_namespace(array):
    """NumPy or CuPy, whichever ``array`` belongs to."""
    if type(array).__module__.startswith("cupy"):
        import cupy

        return cupy
    return np


def check_strength(strength, name: str) -> float:
    s = float(strength)
    if not np.isfinite(s) or s < 0:
        raise LayoutError(f"{name}: strength = {strength!r} must be a finite non-negative number")
    return s


def pair_indices(i, j, name: str):
    i = np.asarray(i).ravel()
    j = np.asarray(j).ravel()
    if i.shape != j.shape:
        raise LayoutError(f"{name}: i has {i.size} entries and j has {j.size}; give one j per i")
    for arr, label in ((i, "i"), (j, "j")):
        if arr.size and not np.issubdtype(arr.dtype, np.integer):
            raise LayoutError(f"{name}: {label} must hold integer node rows, got dtype {arr.dtype}")
    return i.astype(np.int64), j.astype(np.int64)


def check_indices(i, j, n_nodes: int, name: str) -> None:
    for arr, label in ((i, "i"), (j, "j")):
        bad = np.flatnonzero((arr < 0) | (arr >= n_nodes))
        if bad.size:
            raise LayoutError(
                f"{name}: {label}[{bad[0]}] = {arr[bad[0]]} is not a node row of a graph with {n_nodes} nodes"
            )


def group_labels(labels, name: str):
    labels = np.asarray(labels).ravel()
    if labels.size and not np.issubdtype(labels.dtype, np.integer):
        raise LayoutError(f"{name}: labels must be integers (-1 = no group), got dtype {labels.dtype}")
    labels = labels.astype(np.int64)
    bad = np.flatnonzero(labels < -1)
    if bad.size:
        raise LayoutError(f"{name}: labels[{bad[0]}] = {labels[bad[0]]}; use -1 for 'no group' and 0, 1, ... for groups")
    return labels


def check_labels(labels, n_nodes: int, name: str) -> None:
    if labels.size != n_nodes:
        raise LayoutError(f"{name}: {labels.size} labels for a graph with {n_nodes} nodes; give one label per node row")


def scatter_pairs(xp, n: int, i, j, f):
    """Sum pair forces ``f`` (on ``i``; ``-f`` on ``j``) into an ``(n, 2)`` array."""
    out = xp.empty((n, 2), dtype=xp.float64)
    for d in range(2):
        out[:, d] = xp.bincount(i, weights=f[:, d], minlength=n) - xp.bincount(j, weights=f[:, d], minlength=n)
    return out


def group_centroids(xp, p, labels):
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


def masses_like(xp, masses, n: int):
    """The ``(n,) float64`` masses on the positions' device (ones when the graph was not given)."""
    return xp.ones(n, dtype=xp.float64) if masses is None else xp.asarray(masses)


def check_masses(masses, n_nodes: int, name: str) -> None:
    if masses is not None and masses.size != n_nodes:
        raise LayoutError(
            f"{name}: graph= has {masses.size} nodes but the layout has {n_nodes}; pass the graph being laid out"
        )


def timestamps_seconds(times, name: str) -> np.ndarray:
    """Timestamps as ``(n,) float64``: numbers as they are, datetimes (or ISO strings) in seconds."""
    t = np.asarray(times)
    if t.dtype.kind in "USO":
        try:
            t = t.astype("datetime64[ns]")
        except ValueError as exc:
            raise LayoutError(f"{name}: times must be numbers or datetimes; {exc}") from None
    if t.dtype.kind == "M":
        bad = np.flatnonzero(np.isnat(t))
        if bad.size:
            raise LayoutError(f"{name}: times[{bad[0]}] is NaT; give every node a timestamp")
        t = (t - t.min()) / np.timedelta64(1, "s")
    t = np.asarray(t, dtype=np.float64)
    if t.ndim != 1 or t.size < 2:
        raise LayoutError(f"{name}: times must be one timestamp per node (at least two), got shape {t.shape}")
    bad = np.flatnonzero(~np.isfinite(t))
    if bad.size:
        raise LayoutError(f"{name}: times[{bad[0]}] = {t[bad[0]]} is not finite")
    return t
