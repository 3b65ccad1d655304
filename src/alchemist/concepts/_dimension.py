"""Per-dimension distances of the combined metric, written once for the CPU and the GPU.

Plain Python, compiled by ``numba.njit`` for the CPU kernels of
:mod:`alchemist.concepts.categorize` and by ``numba.cuda.jit(device=True)`` for the CUDA kernels
of :mod:`alchemist.concepts._cuda_kernels`. Dimension kinds as in
:class:`~alchemist.concepts.ConceptualSpace`: continuous, circular (``period > 0``: distances
wrap around) and categorical (0 for the same value, else 1).
"""

from __future__ import annotations

__all__ = ["difference", "interval_gap"]


def difference(a, b, period, categorical):
    """Distance between two coordinates on one dimension.

    Parameters
    ----------
    a, b : float
        The coordinates.
    period : float
        Period of a circular dimension, 0 otherwise.
    categorical : bool
        Whether the dimension is categorical.

    Returns
    -------
    float
        ``|a - b|``; on a circular dimension the shorter way round; on a categorical one 0 or 1.

    Examples
    --------
    >>> difference(350.0, 10.0, 360.0, False), difference(2.0, 3.0, 0.0, True)
    (20.0, 1.0)
    """
    t = abs(a - b)
    if categorical:
        return 1.0 if t > 0 else 0.0
    if period > 0:
        t = t % period
        t = min(t, period - t)
    return t


def interval_gap(x, lo, hi, period, categorical):
    """Distance from a coordinate to an interval ``[lo, hi]`` on one dimension (0 inside).

    Parameters
    ----------
    x : float
        The coordinate.
    lo, hi : float
        The interval (a cuboid's side; infinite bounds allowed).
    period : float
        Period of a circular dimension, 0 otherwise.
    categorical : bool
        Whether the dimension is categorical (the gap is then 1 outside).

    Returns
    -------
    float
        The gap to the nearer end, the shorter way round on a circular dimension.

    Examples
    --------
    >>> interval_gap(5.0, 1.0, 2.0, 0.0, False), interval_gap(355.0, 10.0, 20.0, 360.0, False)
    (3.0, 15.0)
    """
    if lo <= x <= hi:
        return 0.0
    if categorical:
        return 1.0
    if period > 0:
        a = abs(x - lo) % period
        b = abs(x - hi) % period
        return min(min(a, period - a), min(b, period - b))
    return lo - x if x < lo else x - hi
