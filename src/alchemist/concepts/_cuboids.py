"""The crisp geometry of a concept's core: a union of axis-parallel cuboids.

Bechberger & Kühnberger (arXiv:1706.06366, Def. 6): the cuboids of a core must share a common
intersection (the core is then star-shaped around it); a set of cuboids that does not is
repaired (§5.1), and cuboids inside another are dropped, as the reference implementation's
``simplify`` does. :func:`interval_gaps` gives the per-dimension distance of points to a
cuboid, the building block of the distance to the core.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # annotations only
    from alchemist.concepts.space import ConceptualSpace

__all__ = ["common_intersection", "interval_gaps", "repair", "simplify"]


def interval_gaps(space: ConceptualSpace, x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Per-dimension distance of points to cuboids (0 inside), by dimension kind.

    Parameters
    ----------
    space : ConceptualSpace
        The space (its periods and kinds).
    x : ndarray, shape ``(..., n_dims)``
        Points (broadcast against the cuboids).
    lo, hi : ndarray, shape ``(..., n_dims)``
        Cuboid bounds (``±inf`` on unconstrained dimensions).

    Returns
    -------
    ndarray
        The gap per dimension: the shorter way round on circular dimensions, 0 or 1 on
        categorical ones.
    """
    with np.errstate(invalid="ignore"):
        gap = np.maximum(np.maximum(lo - x, x - hi), 0.0)
    gap = np.nan_to_num(gap, nan=0.0, posinf=0.0)
    circ = space.periods > 0
    if circ.any():
        outside = gap > 0
        wrapped = np.minimum(space.differences(x, np.where(np.isfinite(lo), lo, x)),
                             space.differences(x, np.where(np.isfinite(hi), hi, x)))
        gap = np.where(circ & outside, wrapped, gap)
    cat = np.array([k == "categorical" for k in space.kinds])
    if cat.any():
        gap = np.where(cat, (gap > 0).astype(np.float64), gap)
    return gap


def common_intersection(lo: np.ndarray, hi: np.ndarray) -> bool:
    """Whether cuboids share a common intersection.

    Parameters
    ----------
    lo, hi : ndarray, shape ``(n_cuboids, n_dims)``
        The cuboids' bounds.

    Returns
    -------
    bool

    Examples
    --------
    >>> import numpy as np
    >>> common_intersection(np.array([[0, 0], [1, 1]]), np.array([[2, 2], [3, 3]]))
    True
    """
    return bool(np.all(lo.max(axis=0) <= hi.min(axis=0)))


def simplify(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Drop the cuboids contained in another kept cuboid (the reference's ``simplify``).

    Parameters
    ----------
    lo, hi : ndarray, shape ``(n_cuboids, n_dims)``
        The cuboids' bounds.

    Returns
    -------
    lo, hi : ndarray
        The kept cuboids, in their order.

    Examples
    --------
    >>> import numpy as np
    >>> lo, hi = simplify(np.array([[0, 0], [1, 1]]), np.array([[3, 3], [2, 2]]))
    >>> lo.tolist(), hi.tolist()
    ([[0, 0]], [[3, 3]])
    """
    keep = np.ones(len(lo), bool)
    for i in range(len(lo)):
        for j in range(len(lo)):
            if i == j or not keep[j]:
                continue
            if np.all(lo[j] <= lo[i]) and np.all(hi[i] <= hi[j]):
                keep[i] = False
                break
    return lo[keep], hi[keep]


def repair(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Extend each cuboid to contain the mean of the cuboids' midpoints (arXiv:1706.06366, §5.1).

    Parameters
    ----------
    lo, hi : ndarray, shape ``(n_cuboids, n_dims)``
        The cuboids' bounds.

    Returns
    -------
    lo, hi : ndarray
        Unchanged when the cuboids already share an intersection; else every cuboid widened to
        the mean midpoint on the dimensions where it is finite.

    Examples
    --------
    >>> import numpy as np
    >>> lo, hi = repair(np.array([[0.0], [4.0]]), np.array([[1.0], [5.0]]))
    >>> lo.tolist(), hi.tolist()  # both now reach 2.5
    ([[0.0], [2.5]], [[2.5], [5.0]])
    """
    if common_intersection(lo, hi):
        return lo, hi
    with np.errstate(invalid="ignore"):
        mid = (0.5 * (lo + hi)).mean(axis=0)
    finite = np.isfinite(mid)
    lo = np.where(finite, np.minimum(lo, np.where(finite, mid, 0.0)), lo)
    hi = np.where(finite, np.maximum(hi, np.where(finite, mid, 0.0)), hi)
    return lo, hi
