"""The per-node and per-edge arithmetic of ForceAtlas2, written once for the CPU and the GPU.

Plain Python over :mod:`math`, so that each function is compiled twice from the same source:
``numba.njit(inline="always")`` for the CPU kernels (:mod:`alchemist.layout._attraction`,
:mod:`alchemist.layout._repulsion`, :mod:`alchemist.layout._loop`, :mod:`alchemist.layout._tree`)
and ``numba.cuda.jit(device=True)`` for the CUDA kernels (:mod:`alchemist.layout._cuda`), as
:func:`alchemist.layout.speed.adapt_speed` already is. Inlined into a kernel, a law compiles
to the instructions the kernel had when the formula was written in it, so the CPU results are
the same bit for bit.

The formulas are those of Jacomy et al. 2014 (PLOS ONE 9(6): e98679) as Gephi's
``ForceAtlas2.java`` and the ``fa2`` package implement them; see
:mod:`alchemist.layout.force_atlas` for the model.
"""

from __future__ import annotations

import math

__all__ = ["attraction", "gravity_factor", "overlap_repulsion", "local_speed", "swing_traction", "spread_bits"]


def attraction(dx, dy, w, coef, m_src, size_a, size_b, dissuade, lin_log, overlap, fx, fy):
    """Add the attraction of one edge to the running force ``(fx, fy)`` of its end ``a``.

    Parameters
    ----------
    dx, dy : float
        ``x_a - x_b``, ``y_a - y_b``.
    w : float
        Edge weight (already raised to the weight influence ``δ``).
    coef : float
        Attraction coefficient (1, or the mean mass with ``dissuade``: "outbound attraction
        distribution").
    m_src : float
        Mass of the edge's source (the smaller row), the divisor with ``dissuade``.
    size_a, size_b : float
        Node sizes (used with ``overlap`` only).
    dissuade, lin_log, overlap : bool
        Dissuade hubs, LinLog mode, prevent overlap.
    fx, fy : float
        The force so far.

    Returns
    -------
    (float, float)
        ``(fx, fy)`` plus ``f (dx, dy)``, ``f = -coef w`` (linear) or ``-coef w log(1 + d) / d``
        (LinLog), divided by ``m_src`` with ``dissuade``, with ``d`` the distance between the
        nodes' borders under ``overlap``; unchanged when the nodes touch (``overlap``) or
        coincide (LinLog).

    Examples
    --------
    >>> attraction(3.0, 4.0, 1.0, 1.0, 1.0, 0.0, 0.0, False, False, False, 0.0, 0.0)
    (-3.0, -4.0)
    """
    f = -coef * w
    if dissuade:
        f /= m_src
    if overlap:
        dist = math.sqrt(dx * dx + dy * dy) - size_a - size_b
        if dist <= 0:
            return fx, fy
        if lin_log:
            f *= math.log(1.0 + dist) / dist
    elif lin_log:
        dist = math.sqrt(dx * dx + dy * dy)
        if dist <= 0:
            return fx, fy
        f *= math.log(1.0 + dist) / dist
    return fx + dx * f, fy + dy * f


def gravity_factor(x, y, m, kr, gravity, strong):
    """Gravity toward the origin as a factor ``f``: the force is ``-f (x, y)``.

    Parameters
    ----------
    x, y : float
        Position of the node.
    m : float
        Its mass (``1 + degree``).
    kr, gravity : float
        Repulsion scaling ``k_r`` and gravity ``k_g``.
    strong : bool
        Strong gravity (``F = k_r k_g m d``) instead of ``F = k_g m``.

    Returns
    -------
    float
        ``k_r k_g m`` (strong), ``k_g m / d`` (``d > 0``), else 0.

    Examples
    --------
    >>> gravity_factor(3.0, 4.0, 2.0, 1.0, 1.0, False)  # |F| = k_g m = 2 at distance 5
    0.4
    """
    if strong:
        return kr * m * gravity
    d = math.sqrt(x * x + y * y)
    return m * gravity / d if d > 0 else 0.0


def overlap_repulsion(dist, m):
    """Repulsion factor between nodes whose borders are ``dist`` apart, per unit of the
    receiving node's ``k_r m_i`` (prevent overlap): ``m / dist^2``, or ``100 m`` when they touch.

    Parameters
    ----------
    dist : float
        Distance between the borders (centre distance minus the sizes).
    m : float
        Mass of the source (a node or a cell).

    Returns
    -------
    float
        The factor ``f``: the force is ``k_r m_i f (dx, dy)``.

    Examples
    --------
    >>> overlap_repulsion(2.0, 3.0), overlap_repulsion(-1.0, 3.0)
    (0.75, 300.0)
    """
    return m / (dist * dist) if dist > 0 else 100.0 * m


def local_speed(speed, m, dfx, dfy, size, overlap):
    """The step factor of one node: ``s / (1 + sqrt(s · swing_i))`` (§ "Adaptive speed").

    Parameters
    ----------
    speed : float
        Global speed ``s``.
    m : float
        Mass of the node.
    dfx, dfy : float
        Previous force minus this force (the node's swinging is ``m |dF|``).
    size : float
        Node size; with ``overlap`` the step is at most ``10 / size``.
    overlap : bool
        Prevent overlap.

    Returns
    -------
    float
        The factor by which the node's force moves it.

    Examples
    --------
    >>> local_speed(1.0, 1.0, 0.0, 3.0, 0.0, False)  # 1 / (1 + sqrt(3))
    0.36602540378443865
    """
    sw = m * math.sqrt(dfx * dfx + dfy * dfy)
    factor = speed / (1.0 + math.sqrt(speed * sw))
    if overlap and size > 0:
        factor = min(factor, 10.0 / size)
    return factor


def swing_traction(m, ox, oy, fx, fy):
    """Swinging ``m |F_old - F|`` and effective traction ``m |F_old + F| / 2`` of one node.

    Parameters
    ----------
    m : float
        Mass.
    ox, oy : float
        Previous iteration's force.
    fx, fy : float
        This iteration's force.

    Returns
    -------
    (float, float)
        ``(swinging, traction)``.

    Examples
    --------
    >>> swing_traction(2.0, 1.0, 0.0, -1.0, 0.0)  # the force reversed: all swing, no traction
    (4.0, 0.0)
    """
    swinging = m * math.sqrt((ox - fx) * (ox - fx) + (oy - fy) * (oy - fy))
    traction = 0.5 * m * math.sqrt((ox + fx) * (ox + fx) + (oy + fy) * (oy + fy))
    return swinging, traction


def spread_bits(v):
    """Spread the low 31 bits of ``v`` to the even bit positions of a 64-bit integer (one axis
    of a Morton code).

    Parameters
    ----------
    v : int
        A non-negative integer (bits above 31 are dropped).

    Returns
    -------
    int
        Bit ``k`` of ``v`` at bit ``2 k``.

    Examples
    --------
    >>> bin(spread_bits(0b1011))
    '0b1000101'
    """
    v &= 0x7FFFFFFF
    v = (v | (v << 16)) & 0x0000FFFF0000FFFF
    v = (v | (v << 8)) & 0x00FF00FF00FF00FF
    v = (v | (v << 4)) & 0x0F0F0F0F0F0F0F0F
    v = (v | (v << 2)) & 0x3333333333333333
    v = (v | (v << 1)) & 0x5555555555555555
    return v
