"""The adaptive global speed of ForceAtlas2, shared by the CPU loop and the CUDA kernels.

Written in plain Python with :mod:`math` only, so that the same function is called on the host
and compiled as a CUDA device function (``cuda.jit(device=True)(adapt_speed)``).
"""

from __future__ import annotations

import math

__all__ = ["adapt_speed"]


def adapt_speed(swinging, traction, n, speed, efficiency, jitter):
    """Global speed update of ForceAtlas2 (Gephi ``ForceAtlas2.java``, ``fa2`` 1.x).

    Jacomy et al. 2014, § "Adaptive speed": the speed grows while the forces keep their
    direction (traction) and shrinks when they oscillate (swinging), within a tolerance scaled by
    ``jitter`` and the graph's size; ``efficiency`` damps the change.

    Parameters
    ----------
    swinging : float
        ``Σ m_i |F_i(t-1) - F_i(t)|`` over the free nodes.
    traction : float
        ``Σ m_i |F_i(t-1) + F_i(t)| / 2`` over the free nodes.
    n : float
        Number of free nodes.
    speed : float
        The current global speed.
    efficiency : float
        The current speed efficiency.
    jitter : float
        Jitter tolerance (1 by default in :func:`alchemist.layout.forceatlas2`).

    Returns
    -------
    (float, float)
        ``(speed, efficiency)`` for the next move.

    Examples
    --------
    >>> adapt_speed(10.0, 10.0, 100, 1.0, 1.0, 1.0)  # as much swing as traction: slow down
    (0.7071067811865476, 0.7)
    """
    estimated = 0.05 * math.sqrt(n)
    min_jt = math.sqrt(estimated)
    max_jt = 10.0
    if n > 0 and traction > 0:
        jt = jitter * max(min_jt, min(max_jt, estimated * traction / (n * n)))
    else:
        jt = jitter * min_jt
    min_efficiency = 0.05
    if traction > 0 and swinging / traction > 2.0:
        if efficiency > min_efficiency:
            efficiency *= 0.5
        jt = max(jt, jitter)
    target = math.inf if swinging == 0 else jt * efficiency * traction / swinging
    if swinging > jt * traction:
        if efficiency > min_efficiency:
            efficiency *= 0.7
    elif speed < 1000:
        efficiency *= 1.3
    speed = speed + min(target - speed, 0.5 * speed)
    return speed, efficiency
