"""Logit quantal response equilibria, traced along the principal branch.

* :func:`logit_qre` — the logit QRE on the principal branch at one or more precisions ``lam``
  (McKelvey & Palfrey 1995), followed from the centroid at ``lam = 0`` by a predictor–corrector
  path follower in arc length whose step adapts to the branch's curvature (Turocy 2005;
  Allgower & Georg 1990, ch. 6) — the logit tracing procedure that Gambit's ``gambit-logit``
  implements.

References
----------
McKelvey, R. D. & Palfrey, T. R. (1995). "Quantal response equilibria for normal form games",
Games Econ. Behav. 10(1), 6–38.

Turocy, T. L. (2005). "A dynamic homotopy interpretation of the logistic quantal response
equilibrium correspondence", Games Econ. Behav. 51(2), 243–263.

Allgower, E. L. & Georg, K. (1990). *Numerical Continuation Methods*, Springer, §6.1 (steplength
adaptation by the corrector's distance and contraction).
"""

from __future__ import annotations

import numpy as np

from alchemist.errors import InvalidGameError, NoEquilibriumFoundError
from alchemist.games._base import as_game, payoff_range

__all__ = ["logit_qre"]

# steplength adaptation (Allgower & Georg 1990, §6.1; the constants Gambit's path tracer uses)
_MAX_DIST = 0.4  # largest first Newton correction accepted, relative to the step
_MAX_CONTR = 0.6  # largest contraction ratio of two successive Newton corrections
_MAX_DECEL = 1.1  # largest factor by which a step shrinks or grows after an accepted step
_H_START = 0.03
_H_MIN = 1e-10
_H_MAX = 1.0
_MAX_POINTS = 200_000


def logit_qre(game, lam, max_step: float = _H_MAX, tol: float = 1e-10):
    """Logit quantal response equilibrium on the principal branch at precision ``lam``.

    ``sigma_p(a) ∝ exp(lam * u_p(a, sigma_{-p}))`` for every player ``p``. The principal branch
    is the curve of logit QRE that starts at the centroid (``lam = 0``); as ``lam -> inf`` it
    tends to a Nash equilibrium (the logit tracing procedure; McKelvey & Palfrey 1995, Turocy
    2005). It is followed by arc length in ``(log sigma, mu)`` with ``mu = lam * R`` (``R`` the
    game's payoff range, so that the trace does not depend on the payoff unit): an Euler
    predictor along the tangent, Gauss–Newton corrections back onto the curve, and a step that
    shrinks where the corrector needs to travel far or contracts slowly (high curvature) and
    grows where the curve is straight (Allgower & Georg 1990, §6.1). The branch may fold back
    (``lam`` not monotone along it): the point returned for a ``lam`` is the *first* point of
    the branch at that precision, the one Gambit's ``logit_solve_lambda`` returns. The trace
    does not depend on the ``lam`` asked for — asking for ``lam = 2`` alone or on a grid gives
    the same point (each target is solved on a copy, with the branch's own steps unchanged).
    At a bifurcation of a non-generic game (a symmetric game breaking its symmetry, e.g.
    Gambit's ``sh3.nfg`` at ``lam ≈ 1.72``, or ``2x2x2.nfg`` at ``lam ≈ 0.597`` where Gambit
    stops) the trace keeps the direction of its tangent, so it may continue on another branch
    than Gambit's tracer; the point returned is a logit QRE either way.

    Parameters
    ----------
    game : NormalFormGame (n players)
    lam : float or array_like of increasing floats (>= 0)
        Precision(s), in 1 / payoff units.
    max_step : float
        Largest arc-length step of the trace (in the normalised coordinates; default 1).
    tol : float
        Newton tolerance on the equilibrium equations (log-probability units).

    Returns
    -------
    tuple of ndarray (one mixed strategy per player), or a list of such tuples when ``lam`` is
    an array.

    Raises
    ------
    InvalidGameError
        ``game`` is not a valid game, ``lam`` is negative, not finite or not increasing, or
        ``max_step`` is not positive.
    NoEquilibriumFoundError
        The branch cannot be followed past some ``lam`` (a singular point; the message names
        the precision reached).

    References
    ----------
    McKelvey & Palfrey (1995), GEB 10(1); Turocy (2005), GEB 51(2); Allgower & Georg (1990),
    *Numerical Continuation Methods*, §6.1.

    Examples
    --------
    Prisoner's dilemma at ``lam = 5``: both players defect with probability 0.994.

    >>> from alchemist.games import NormalFormGame
    >>> pd = NormalFormGame([[3, 0], [5, 1]], [[3, 5], [0, 1]])
    >>> [s.round(3) for s in logit_qre(pd, 5.0)]
    [array([0.006, 0.994]), array([0.006, 0.994])]
    """
    game = as_game(game)
    lams = np.atleast_1d(np.asarray(lam, dtype=np.float64))
    if lams.ndim != 1 or np.any(lams < 0) or not np.all(np.isfinite(lams)) or np.any(np.diff(lams) < 0):
        raise InvalidGameError(f"lam {lam!r} must be non-negative, finite and increasing")
    if not max_step > 0:
        raise InvalidGameError(f"max_step {max_step!r} must be positive")
    scale = payoff_range(game)
    sizes = list(game.shape)
    centroid = np.concatenate([np.full(k, -np.log(k)) for k in sizes])
    if scale == 0.0:  # every player indifferent everywhere: the centroid at every precision
        out = [_profile(centroid, sizes) for _ in lams]
    else:
        system = _LogitSystem([a / scale for a in game.payoffs], sizes)
        out = [_profile(z, sizes) for z in _trace(system, centroid, lams * scale, max_step, tol, scale)]
    return out[0] if np.ndim(lam) == 0 else out


# ---------------------------------------------------------------------------- helpers
def _profile(z, sizes):
    parts = np.split(z, np.cumsum(sizes)[:-1])
    return tuple(np.exp(p - p.max()) / np.exp(p - p.max()).sum() for p in parts)


class _LogitSystem:
    """H(z, mu) = 0 on log-probabilities ``z`` (all players' actions stacked) and precision mu.

    For player ``p`` with actions ``0..k-1``: ``z_pj - z_p0 - mu (u_pj - u_p0) = 0`` for
    ``j >= 1`` and ``sum_j exp(z_pj) - 1 = 0`` (Turocy 2005, eq. 4, in logarithms).
    """

    def __init__(self, payoffs, sizes):
        self.payoffs = payoffs
        self.sizes = sizes
        self.offsets = np.concatenate([[0], np.cumsum(sizes)])
        self.n = int(self.offsets[-1])

    def _strategies(self, z):
        return [np.exp(z[self.offsets[p]:self.offsets[p + 1]]) for p in range(len(self.sizes))]

    def values(self, z, mu):
        """H(z, mu), shape (n,)."""
        sig = self._strategies(z)
        out = np.empty(self.n)
        for p, k in enumerate(self.sizes):
            u = _contract_all_but(self.payoffs[p], sig, (p,))
            o = self.offsets[p]
            out[o] = sig[p].sum() - 1.0
            out[o + 1:o + k] = z[o + 1:o + k] - z[o] - mu * (u[1:] - u[0])
        return out

    def jacobian(self, z, mu):
        """dH/d(z, mu), shape (n, n + 1)."""
        sig = self._strategies(z)
        J = np.zeros((self.n, self.n + 1))
        for p, k in enumerate(self.sizes):
            o = self.offsets[p]
            J[o, o:o + k] = sig[p]
            rows = slice(o + 1, o + k)
            J[rows, o] = -1.0
            J[rows, o + 1:o + k] = np.eye(k - 1)
            u = _contract_all_but(self.payoffs[p], sig, (p,))
            J[rows, -1] = -(u[1:] - u[0])
            for q, kq in enumerate(self.sizes):
                if q == p:
                    continue
                # d u_pj / d sigma_qk: contract every axis but p and q, then chain d sigma / d z
                du = _contract_all_but(self.payoffs[p], sig, (p, q))
                if q < p:
                    du = du.T
                oq = self.offsets[q]
                J[rows, oq:oq + kq] = -mu * (du[1:] - du[0]) * sig[q]
        return J


def _contract_all_but(payoff, strategies, keep):
    arr = payoff
    for q in range(len(strategies) - 1, -1, -1):
        if q not in keep:
            arr = np.tensordot(arr, strategies[q], axes=([q], [0]))
    return arr


def _tangent(J, previous):
    """Unit null vector of J (n x n+1) oriented along ``previous``; with the QR factors of J^T."""
    Q, R = np.linalg.qr(J.T, mode="complete")
    t = Q[:, -1]
    if np.dot(t, previous) < 0:
        t = -t
    return t, Q, R


def _newton_step(J, H):
    """Minimal-norm solution of J d = H (the Gauss–Newton step of Allgower & Georg)."""
    return np.linalg.lstsq(J, H, rcond=None)[0]


def _correct(system, x, tol, max_iter=20):
    """Newton on H(., mu) with mu fixed; None when it does not converge."""
    z, mu = x[:-1].copy(), x[-1]
    for _ in range(max_iter):
        H = system.values(z, mu)
        if np.max(np.abs(H)) < tol:
            return z
        z -= np.linalg.solve(system.jacobian(z, mu)[:, :-1], H)
    return z if np.max(np.abs(system.values(z, mu))) < tol else None


def _trace(system, z0, targets, max_step, tol, scale):
    """Follow the branch from (z0, 0) and return z at the first crossing of each target mu."""
    results = []
    pending = list(targets)
    while pending and pending[0] == 0.0:
        results.append(z0.copy())
        pending.pop(0)
    x = np.concatenate([z0, [0.0]])
    J = system.jacobian(z0, 0.0)
    direction = np.zeros(system.n + 1)
    direction[-1] = 1.0  # start towards increasing precision
    t, _, _ = _tangent(J, direction)
    h = min(_H_START, max_step)
    for _ in range(_MAX_POINTS):
        if not pending:
            return results
        accepted = _corrected_step(system, x, t, h, tol)
        if accepted is None:
            h /= 2.0
            if h < _H_MIN:
                raise NoEquilibriumFoundError(
                    f"the logit QRE branch could not be followed past lambda={x[-1] / scale:g} "
                    "(a singular point of the branch: the game is not generic there)"
                )
            continue
        y, decel = accepted
        if y[-1] < 0:
            raise NoEquilibriumFoundError(
                f"the logit QRE branch turned back to lambda=0 after lambda={x[-1] / scale:g}"
            )
        # targets crossed by this step: solve each on a copy, the trace itself stays as it is
        while pending and x[-1] < pending[0] <= y[-1]:
            target = pending.pop(0)
            w = (target - x[-1]) / (y[-1] - x[-1])
            start = np.concatenate([(1 - w) * x[:-1] + w * y[:-1], [target]])
            z = _correct(system, start, tol)
            if z is None:
                raise NoEquilibriumFoundError(f"the logit QRE at lambda={target / scale:g} did not converge")
            results.append(z)
        t, _, _ = _tangent(system.jacobian(y[:-1], y[-1]), t)
        x = y
        h = min(max_step, h / max(decel, 1.0 / _MAX_DECEL))
    raise NoEquilibriumFoundError(f"the logit QRE branch needed over {_MAX_POINTS} steps to reach lambda={pending[0] / scale:g}")


def _corrected_step(system, x, t, h, tol):
    """Predictor x + h t, Gauss–Newton corrector; (point, deceleration) or None to halve h."""
    y = x + h * t
    decel = 1.0 / _MAX_DECEL
    previous = None
    for k in range(30):
        H = system.values(y[:-1], y[-1])
        d = _newton_step(system.jacobian(y[:-1], y[-1]), H)
        dist = float(np.linalg.norm(d))
        if k == 0:
            if dist > _MAX_DIST * max(h, 1e-3):
                return None
            decel = max(decel, np.sqrt(dist / (_MAX_DIST * max(h, 1e-3))) * _MAX_DECEL)
        elif previous > 0:
            contr = dist / (previous + 1e-300)
            if contr > _MAX_CONTR:
                return None
            decel = max(decel, np.sqrt(contr / _MAX_CONTR) * _MAX_DECEL)
        y = y - d
        previous = dist
        if dist < tol and np.max(np.abs(system.values(y[:-1], y[-1]))) < tol:
            return y, min(decel, 2.0)
    return None
