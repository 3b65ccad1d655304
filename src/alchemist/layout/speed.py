"""The adaptive global speed of ForceAtlas2, shared by the CPU loop and the CUDA kernels.

Written in plain Python with :mod:`math` only, so that the same function is called on the host
and compiled as a CUDA device function (``cuda.jit(device=True)(adapt_speed)``).
"""

from __future__ import annotations

import math

__all__ = ["adapt_speed"]


def adapt_speed(swinging, traction, n, speed, efficiency, jitter):
    """Global speed update of ForceAtlas2 (Gephi ``ForceAtlas2.java``, ``fa2`` 1.x).

    Returns ``(speed, efficiency)`` for the next move, from the total swinging and effective
    traction of this iteration's forces.
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
