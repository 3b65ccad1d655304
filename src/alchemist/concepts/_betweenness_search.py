"""Betweenness of fuzzy concepts through α-cuts, for any metric dimensions (candidate search).

:mod:`alchemist.concepts._betweenness` evaluates
``f(α) = min_{y ∈ M^α} max_{x ∈ F^α, z ∈ S^α} B(x, y, z)``, ``B = d(x,z) / (d(x,y) + d(y,z))``
(Bechberger & Kühnberger, arXiv:1707.02292, §6), exactly when every domain is one-dimensional.
This module evaluates the same ``f(α)`` when a domain has several dimensions (the combined metric
``d(x, y) = Σ_δ w_δ (Σ_{i∈δ} w_i Δᵢ²)^{1/2}``, Euclidean within a domain, Manhattan across) or a
dimension is circular (``Δᵢ = min(|xᵢ − yᵢ| mod P, P − |xᵢ − yᵢ| mod P)``). ``B`` uses the middle
concept's weights, as in the reference implementation.

What is proven
--------------
1. *The α-cut, parametrised.* A concept's α-cut (``μ₀ e^{−c d_K(x, core)} ≥ α``) is the union over
   its cuboids ``[l, h]`` of ``{x : Σ_δ w_δ ‖gap_δ(x)‖ ≤ R}``, ``R = −ln(α/μ₀)/c`` (the concept's own
   weights inside ``‖·‖`` and ``w_δ``); that set is the Minkowski sum of the cuboid and the
   ball ``{v : N(v) = Σ_δ w_δ ‖v_δ‖ ≤ R}``. Every point ``x(u, v) = l + u∘(h − l) + R v / N(v)``
   with ``u ∈ [0, 1]ⁿ``, ``v ≠ 0`` (``x = l + u∘(h − l)`` for ``v = 0``) lies in the cut (its gap
   is at most ``R v/N(v)`` coordinate-wise, and ``N`` is monotone in ``|vᵢ|``; with a circular
   dimension the wrapped gap is no larger than the unwrapped one), and every boundary point of the
   cut is such an ``x`` (it is its projection onto the cuboid plus a vector of norm exactly ``R``;
   on a circle the nearer end of the interval gives the same form). So any ``(u, v)`` search
   yields feasible points, and a search over all ``(u, v)`` covers the boundary.
2. *The inner maximum lies on the boundary.* Fix ``y`` outside ``F^α`` and ``z``. Along a ray
   ``x = y + t e`` (no circular dimension) ``d(x, y) = t N(e)`` is linear and ``d(x, z)`` convex,
   so ``B = d(x,z)/(d(x,y) + d(y,z))`` is quasi-convex in ``t`` (its sublevel sets
   ``{d(x,z) ≤ s (t N(e) + d(y,z))}`` are intervals). Every ``x ∈ F^α`` lies on a segment of such
   a ray inside ``F^α`` whose ends are on ``∂F^α``; one end is at least as good. Likewise for
   ``z``. If ``y ∈ F^α`` (or ``S^α``), ``x = y`` gives ``B = 1``, the largest possible value
   (triangle inequality), and ``f`` is evaluated as 1 there exactly.
3. *Extreme points.* The cut of one cuboid is the convex hull of the sets ``C_δ`` in which the
   whole budget ``R`` is spent in domain ``δ`` (write ``x_δ = p_δ + v_δ`` with ``p`` in the
   cuboid; with ``t_δ = w_δ‖v_δ‖/R`` the points ``p + v_δ/t_δ`` on domain ``δ``, ``p`` elsewhere,
   lie in ``C_δ`` and average to ``x``). So its extreme points are cuboid corners with one
   domain moved out by ``R/w_δ`` in a direction of that corner's orthant; the candidate sets below
   contain a grid of these and of budget splits between domains.

What is heuristic
-----------------
``B`` is neither convex nor quasi-convex in ``(x, z)`` jointly, and ``y ↦ max B`` has no
convexity that locates its minimum, so the search is local after a dense start:

* candidates for ``x, z`` (and ``y``): per cuboid, budget splits across domains (all of ``R``
  in one domain, and the even split), per domain directions (``±1`` for one dimension, 16
  angles for two, the 26 directions of ``{−1,0,1}³`` beyond), anchored at the cuboid corner of
  the direction's orthant (at 0, 1/2 or 1 along an edge where a direction component is 0 or a
  domain gets no budget); for each ``y`` also, per cuboid, the points towards ``y`` from its
  projection onto the cuboid (on all domains, and on one domain at a time);
* for a fixed ``y``: ``B`` over all candidate pairs, then the best four pairs (and the best of
  a pool of recent maximising pairs) refined by a compass (pattern) search in the ``4n``
  parameters ``(u_x, v_x, u_z, v_z)``, steps halved from 1/4 to 1e-6 (at most 200 sweeps;
  direction steps stop once they move a point by less than 1e-6 of the cut's extent);
* for the minimum over ``y``: the inner value at every ``y`` candidate (pruned as soon as one
  pair shows it cannot be among the three smallest), then a compass search on ``y``'s ``2n``
  parameters from those three (steps 1/4 to 1e-4, likewise; at most 200 trial points each), a trial
  rejected as soon as one pair reaches the current minimum. The minimiser and the pool carry
  over from one level to the next as extra starts.

Both searches are local, so the inner maximum can be under-estimated (its value is attained by
feasible points, so it is never over-estimated) and the outer minimum over-estimated. Accuracy
achieved in ``tests/concepts/test_betweenness_general.py`` against independent brute force
(α-cut boundaries traced by bisection on ``membership`` and all pairs of them; SciPy's
``differential_evolution``) on random spaces with a 2-D Euclidean domain, with a circular hue
dimension, and on Bechberger's apple space: ``f(α)`` within 2e-3 of the brute-force min–max
(within 1e-5 in most cases) and never above our inner maximum at any sampled ``y``; inner
maxima within 1e-6 of the brute force at the median ``y`` and within 2e-3 everywhere (the
largest gaps, ~1e-3, only for ``y`` just outside an outer cut, where ``B`` is near 1), within
1e-4 of differential evolution; on one-dimensional domains the search reproduces the exact
vertex enumeration of :mod:`alchemist.concepts._betweenness` to 1e-4.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from numba import njit

__all__ = ["BetweennessSearch", "search_supported"]

_N_STARTS = 3  # y starts refined by compass search
_N_REFINE = 4  # best candidate pairs refined per y (with the best pair of the pool)
_POOL = 8  # recent maximising pairs, tried first at every y
_MAX_TRIALS = 200  # compass trial points per y start
_MAX_SWEEPS = 200  # compass sweeps per pair refinement
_STEP0 = 0.25
_TOL_PAIR = 1e-6
_TOL_Y = 1e-4
_ONE = 1.0 - 1e-12  # B at or above this counts as 1 (y between x and z up to rounding)
_GAIN = 1e-13  # smallest accepted improvement of a compass step
_ANCHORS = (0.0, 0.5, 1.0)  # positions along a cuboid edge where a direction leaves it free
_MAX_CANDIDATES = 4000  # per concept; larger candidate sets are subsampled


def search_supported(space, dims) -> bool:
    """Whether the α-cut betweenness on ``dims`` can be searched: no categorical dimension."""
    return all(space.kinds[d] != "categorical" for d in dims)


class BetweennessSearch:
    """``f(α)`` for one triple ``(middle, first, second)`` on the dimensions ``dims``.

    Candidate parameters are built once; :meth:`value` and :meth:`inner` evaluate one level.

    Parameters
    ----------
    middle, first, second : Concept
        Concepts on the same domains (see :func:`search_supported`); ``B`` uses ``middle``'s
        weights.
    dims : list of int
        The dimensions they constrain (sorted).
    """

    def __init__(self, middle, first, second, dims):
        sp = middle.space
        self.dims = list(dims)
        self.concepts = (middle, first, second)
        groups = sp.domain_of[self.dims]
        order = sorted(set(groups.tolist()))
        self.dom = np.array([order.index(g) for g in groups], dtype=np.int64)
        self.per = np.ascontiguousarray(sp.periods[self.dims], dtype=np.float64)
        self.circular = bool((self.per > 0).any())
        sw, dw = _weights(middle, self.dims, order)
        self.metric = (self.dom, self.per, sw * sw, dw)
        self._order = order
        self._params = [_candidate_params(k, self.dims, self.dom, order) for k in self.concepts]
        n = len(self.dims)
        self._pool = np.full((_POOL, 2 + 4 * n), -1.0)
        self._at = np.zeros(1, dtype=np.int64)
        self._y_best = np.full(1 + 2 * n, -1.0)

    def geometry(self, concept, alpha: float):
        """``(lo, hi, sw, dw, R)`` of ``concept``'s α-cut; ``alpha = 0`` gives the ``α → 0`` shape
        (a point core, ``R = 1/c``), used only without circular dimensions."""
        sw, dw = _weights(concept, self.dims, self._order)
        n = len(self.dims)
        if alpha == 0.0:
            lo = hi = np.zeros((1, n))
            rad = 1.0 / concept.c
        else:
            lo = np.ascontiguousarray(concept.p_min[:, self.dims])
            hi = np.ascontiguousarray(concept.p_max[:, self.dims])
            rad = max(-math.log(alpha / concept.mu), 0.0) / concept.c
        return (lo, hi, sw, dw, float(rad))

    def _sets(self, alpha):
        out = []
        for concept, (kidx, par) in zip(self.concepts, self._params):
            geo = self.geometry(concept, alpha)
            if alpha == 0.0:  # one point core: the first cuboid's candidates, anchored there
                keep = kidx == 0
                kidx, par = kidx[keep], np.ascontiguousarray(par[keep])
            out.append((geo, kidx, par, _points(geo, kidx, par, self.dom)))
        return out

    def value(self, alpha: float) -> float:
        """``f(α)`` in ``[0, 1]`` (``0 < α ≤`` every μ₀, or ``alpha = 0`` for the limit).

        The minimiser ``y`` and the maximising pairs found at one level are extra starting
        points at the next (levels are usually evaluated in sequence).
        """
        (gy, ky, py, ty), (gx, kx, px, tx), (gz, kz, pz, tz) = self._sets(alpha)
        pool, at, y_best = self._pool, self._at, self._y_best
        if alpha == 0.0:  # one cuboid per concept there: no warm start from the cuboids' levels
            pool, at, y_best = np.full_like(pool, -1.0), np.zeros_like(at), np.full_like(y_best, -1.0)
        return float(_cut_value(gy, ky, py, ty, gx, kx, px, tx, gz, kz, pz, tz, self.metric, pool, at, y_best))

    def inner(self, y, alpha: float) -> float:
        """``max_{x ∈ first^α, z ∈ second^α} B(x, y, z)`` for ``y`` given on ``dims``."""
        _, (gx, kx, px, tx), (gz, kz, pz, tz) = self._sets(alpha)
        y = np.ascontiguousarray(y, dtype=np.float64)
        state = np.empty(2 + 4 * len(self.dims))
        pool = np.full((1, len(state)), -1.0)
        return float(_inner_max(y, gx, kx, px, tx, gz, kz, pz, tz, self.metric, np.inf, True, pool, state))


# ---------------------------------------------------------------------- helpers
def _weights(concept, dims, order):
    """``(sqrt(w_i) per dim, w_δ per domain)`` of ``concept`` on ``dims`` (domains in ``order``)."""
    dim_w, dom_w = concept.weights.arrays(concept.space)
    return np.sqrt(dim_w[dims]), np.array([dom_w[g] for g in order], dtype=np.float64)


def _directions(k: int) -> np.ndarray:
    """Unit directions of a ``k``-dimensional domain (in its weighted coordinates)."""
    if k == 1:
        return np.array([[1.0], [-1.0]])
    if k == 2:
        t = np.arange(16) * (2.0 * math.pi / 16)
        d = np.stack([np.cos(t), np.sin(t)], 1)
        d[np.abs(d) < 1e-12] = 0.0
        return d
    d = np.array([p for p in itertools.product((-1.0, 0.0, 1.0), repeat=k) if any(p)])
    return d / np.linalg.norm(d, axis=1, keepdims=True)


def _splits(m: int) -> list[tuple[float, ...]]:
    """Budget splits across ``m`` domains: all in one domain, and the even split."""
    out = [tuple(float(i == j) for i in range(m)) for j in range(m)]
    if m > 1:
        out.append(tuple(1.0 / m for _ in range(m)))
    return out


def _candidate_params(concept, dims, dom, order):
    """``(cuboid index (N,) int64, params (N, 2n) float64)``: the ``(u, v)`` start set of a concept."""
    sw, dw = _weights(concept, dims, order)
    n, m = len(dims), len(order)
    members = [np.flatnonzero(dom == g) for g in range(m)]
    per_domain_dirs = [_directions(len(idx)) for idx in members]
    rows = []
    for split in _splits(m):
        options = []
        for g, idx in enumerate(members):
            opts = []
            if split[g] == 0.0:
                for corner in itertools.product(_ANCHORS, repeat=len(idx)):
                    opts.append((np.array(corner), np.zeros(len(idx))))
            else:
                for e in per_domain_dirs[g]:
                    free = np.flatnonzero(e == 0.0)
                    for ends in itertools.product(_ANCHORS, repeat=len(free)):
                        u = (e > 0).astype(np.float64)
                        u[free] = ends
                        opts.append((u, split[g] * e / (sw[idx] * dw[g])))
            options.append(opts)
        for combo in itertools.product(*options):
            row = np.empty(2 * n)
            for idx, (u, v) in zip(members, combo):
                row[idx] = u
                row[n + idx] = v
            rows.append(row)
    base = np.array(rows)
    n_cub = concept.p_min.shape[0]
    par = np.tile(base, (n_cub, 1))
    kidx = np.repeat(np.arange(n_cub, dtype=np.int64), len(base))
    if len(par) > _MAX_CANDIDATES:
        keep = np.sort(np.random.default_rng(0).choice(len(par), _MAX_CANDIDATES, replace=False))
        par, kidx = par[keep], kidx[keep]
    return kidx, np.ascontiguousarray(par)


# ---------------------------------------------------------------------- kernels
@njit(cache=True)
def _point(geo, k, par, dom, acc, out):  # pragma: no cover - compiled
    """``x(u, v) = l_k + u∘(h_k − l_k) + R v / N(v)`` (``u`` clipped to ``[0, 1]``)."""
    lo, hi, sw, dw, rad = geo
    n = lo.shape[1]
    m = dw.shape[0]
    for j in range(m):
        acc[j] = 0.0
    for i in range(n):
        s = sw[i] * par[n + i]
        acc[dom[i]] += s * s
    norm = 0.0
    for j in range(m):
        norm += dw[j] * math.sqrt(acc[j])
    scale = rad / norm if norm > 0.0 else 0.0
    for i in range(n):
        u = min(max(par[i], 0.0), 1.0)
        out[i] = lo[k, i] + u * (hi[k, i] - lo[k, i]) + scale * par[n + i]


@njit(cache=True)
def _normalise(par, geo, dom, acc):  # pragma: no cover - compiled
    """Rescale ``v`` to ``N(v) = 1`` (the point is unchanged; keeps compass steps meaningful)."""
    lo, hi, sw, dw, rad = geo
    n = lo.shape[1]
    for j in range(dw.shape[0]):
        acc[j] = 0.0
    for i in range(n):
        s = sw[i] * par[n + i]
        acc[dom[i]] += s * s
    norm = 0.0
    for j in range(dw.shape[0]):
        norm += dw[j] * math.sqrt(acc[j])
    if norm > 0.0:
        for i in range(n):
            par[n + i] /= norm


@njit(cache=True)
def _points(geo, kidx, par, dom):  # pragma: no cover - compiled
    n = par.shape[1] // 2
    out = np.empty((par.shape[0], n))
    acc = np.empty(geo[3].shape[0])
    for p in range(par.shape[0]):
        _point(geo, kidx[p], par[p], dom, acc, out[p])
    return out


@njit(cache=True)
def _dist(a, b, met, acc):  # pragma: no cover - compiled
    """Combined metric ``Σ_δ w_δ (Σ_{i∈δ} w_i Δᵢ²)^{1/2}``, circular ``Δᵢ`` wrapped."""
    dom, per, sw2, dw = met
    for j in range(dw.shape[0]):
        acc[j] = 0.0
    for i in range(a.shape[0]):
        d = abs(a[i] - b[i])
        if per[i] > 0.0:
            d = d % per[i]
            d = min(d, per[i] - d)
        acc[dom[i]] += sw2[i] * d * d
    s = 0.0
    for j in range(dw.shape[0]):
        s += dw[j] * math.sqrt(acc[j])
    return s


@njit(cache=True)
def _in_cut(y, geo, dom, per, acc):  # pragma: no cover - compiled
    """Whether ``y`` lies in the α-cut (the gaps of ``_cuboids.interval_gaps``, circular wrapped)."""
    lo, hi, sw, dw, rad = geo
    n = lo.shape[1]
    for k in range(lo.shape[0]):
        for j in range(dw.shape[0]):
            acc[j] = 0.0
        for i in range(n):
            g = max(lo[k, i] - y[i], y[i] - hi[k, i], 0.0)
            if g > 0.0 and per[i] > 0.0:
                a = abs(y[i] - lo[k, i]) % per[i]
                b = abs(y[i] - hi[k, i]) % per[i]
                g = min(min(a, per[i] - a), min(b, per[i] - b))
            acc[dom[i]] += (sw[i] * g) ** 2
        s = 0.0
        for j in range(dw.shape[0]):
            s += dw[j] * math.sqrt(acc[j])
        if s <= rad * (1.0 + 1e-12) + 1e-300:
            return True
    return False


@njit(cache=True)
def _pair_value(y, gx, gz, state, met, acc, xs, zs):  # pragma: no cover - compiled
    """``B(x, y, z)`` for the pair ``state = [kx, kz, u_x, v_x, u_z, v_z]``."""
    n = y.shape[0]
    dom = met[0]
    _point(gx, int(state[0]), state[2 : 2 + 2 * n], dom, acc, xs)
    _point(gz, int(state[1]), state[2 + 2 * n :], dom, acc, zs)
    den = _dist(xs, y, met, acc) + _dist(y, zs, met, acc)
    if den <= 0.0:
        return 1.0
    return _dist(xs, zs, met, acc) / den


@njit(cache=True)
def _refine_pair(y, gx, gz, state, met, stop, step, acc, xs, zs):  # pragma: no cover - compiled
    """Compass search maximising ``B`` over the pair's ``4n`` parameters (``state`` updated)."""
    n = y.shape[0]
    best = _pair_value(y, gx, gz, state, met, acc, xs, zs)
    tiny = _TOL_PAIR * max(_extent(gx), _extent(gz))
    sweeps = 0
    while step > _TOL_PAIR and best < stop and best < _ONE and sweeps < _MAX_SWEEPS:
        sweeps += 1
        _normalise(state[2 : 2 + 2 * n], gx, met[0], acc)
        _normalise(state[2 + 2 * n :], gz, met[0], acc)
        improved = False
        for c in range(4 * n):
            is_u = (c % (2 * n)) < n
            if not is_u and (gx[4] if c < 2 * n else gz[4]) * step <= tiny:
                continue  # a direction step that moves the point by less than the tolerance
            for sgn in (1.0, -1.0):
                old = state[2 + c]
                new = old + sgn * step
                if is_u:
                    new = min(max(new, 0.0), 1.0)
                    if new == old:
                        continue
                state[2 + c] = new
                v = _pair_value(y, gx, gz, state, met, acc, xs, zs)
                if v > best + _GAIN:
                    best = v
                    improved = True
                    break
                state[2 + c] = old
        if not improved:
            step *= 0.5
    return best


@njit(cache=True)
def _inner_max(y, gx, kx, px, tx, gz, kz, pz, tz, met, stop, refine, pool, best_state):  # pragma: no cover - compiled
    """``max B(x, y, z)`` over the two cuts: 1 if ``y`` lies in either; else the best of the pool's
    pairs and the candidate pairs, refined if ``refine``. Returns as soon as a value ``≥ stop`` is
    reached; the pair reaching the returned value is written to ``best_state``
    (``[kx, kz, params]``; ``kx = −1``: none)."""
    dom, per = met[0], met[1]
    n = y.shape[0]
    acc = np.empty(met[3].shape[0])
    xs = np.empty(n)
    zs = np.empty(n)
    best_state[0] = -1.0
    if _in_cut(y, gx, dom, per, acc) or _in_cut(y, gz, dom, per, acc):
        return 1.0
    stop = min(stop, _ONE)
    top = -1.0
    best_pool = -1
    for r in range(pool.shape[0]):
        if pool[r, 0] >= 0.0:
            v = _pair_value(y, gx, gz, pool[r], met, acc, xs, zs)
            if v > top:
                top = v
                best_pool = r
    trial = np.empty_like(best_state)
    if best_pool >= 0:
        best_state[:] = pool[best_pool]
        if top >= stop:
            return top
        if refine:  # the pool's best pair, refined from a small step: usually decides a rejection
            trial[:] = pool[best_pool]
            v = _refine_pair(y, gx, gz, trial, met, stop, _STEP0 / 64.0, acc, xs, zs)
            if v > top:
                top = v
                best_state[:] = trial
                if top >= stop:
                    return top
    kx, px, tx = _with_feet(y, gx, kx, px, tx, dom, acc)
    kz, pz, tz = _with_feet(y, gz, kz, pz, tz, dom, acc)
    nx, nz = tx.shape[0], tz.shape[0]
    dx = np.empty(nx)
    for p in range(nx):
        dx[p] = _dist(tx[p], y, met, acc)
    dz = np.empty(nz)
    for q in range(nz):
        dz[q] = _dist(y, tz[q], met, acc)
    n_top = _N_REFINE
    vals = np.full(n_top, -1.0)
    ii = np.full(n_top, -1)
    jj = np.full(n_top, -1)
    for p in range(nx):
        for q in range(nz):
            den = dx[p] + dz[q]
            b = _dist(tx[p], tz[q], met, acc) / den if den > 0.0 else 1.0
            if b > vals[n_top - 1]:
                s = n_top - 1
                while s > 0 and vals[s - 1] < b:
                    vals[s] = vals[s - 1]
                    ii[s] = ii[s - 1]
                    jj[s] = jj[s - 1]
                    s -= 1
                vals[s] = b
                ii[s] = p
                jj[s] = q
                if b >= stop:
                    break
        if vals[0] >= stop:
            break
    if vals[0] > top:
        top = vals[0]
        _set_state(best_state, kx[ii[0]], kz[jj[0]], px[ii[0]], pz[jj[0]])
    if top >= stop or not refine:
        return top
    for s in range(n_top):
        if ii[s] < 0:
            continue
        _set_state(trial, kx[ii[s]], kz[jj[s]], px[ii[s]], pz[jj[s]])
        v = _refine_pair(y, gx, gz, trial, met, stop, _STEP0, acc, xs, zs)
        if v > top:
            top = v
            best_state[:] = trial
            if top >= stop:
                return top
    return top


@njit(cache=True)
def _with_feet(y, geo, kidx, par, pts, dom, acc):  # pragma: no cover - compiled
    """The candidates plus, per cuboid, the points of the cut towards ``y`` from its projection
    ``q`` onto the cuboid: ``v = y − q`` on all dimensions, and on one domain at a time."""
    lo, hi = geo[0], geo[1]
    n_cub, n = lo.shape
    m = geo[3].shape[0]
    extra = n_cub * (m + 1)
    base = par.shape[0]
    k2 = np.empty(base + extra, dtype=np.int64)
    p2 = np.empty((base + extra, 2 * n))
    t2 = np.empty((base + extra, n))
    k2[:base] = kidx
    p2[:base] = par
    t2[:base] = pts
    r = base
    for k in range(n_cub):
        for part in range(-1, m):
            for i in range(n):
                width = hi[k, i] - lo[k, i]
                q = min(max(y[i], lo[k, i]), hi[k, i])
                p2[r, i] = (q - lo[k, i]) / width if width > 0.0 else 0.0
                p2[r, n + i] = y[i] - q if (part < 0 or dom[i] == part) else 0.0
            k2[r] = k
            _point(geo, k, p2[r], dom, acc, t2[r])
            r += 1
    return k2, p2, t2


@njit(cache=True)
def _extent(geo):  # pragma: no cover - compiled
    """Largest edge of the cut's bounding box: the length scale of compass tolerances."""
    lo, hi, rad = geo[0], geo[1], geo[4]
    e = 0.0
    for i in range(lo.shape[1]):
        e = max(e, hi[:, i].max() - lo[:, i].min())
    return e + 2.0 * rad


@njit(cache=True)
def _set_state(state, kx, kz, px, pz):  # pragma: no cover - compiled
    m = px.shape[0]
    state[0] = kx
    state[1] = kz
    state[2 : 2 + m] = px
    state[2 + m :] = pz


@njit(cache=True)
def _push(pool, at, state):  # pragma: no cover - compiled
    """Add a pair to the ring buffer ``pool`` (``at[0]``: next row) unless it is there already."""
    if state[0] < 0.0:
        return
    for r in range(pool.shape[0]):
        if np.abs(pool[r] - state).max() <= 1e-12:
            return
    pool[at[0] % pool.shape[0]] = state
    at[0] += 1


@njit(cache=True)
def _cut_value(gy, ky, py, ty, gx, kx, px, tx, gz, kz, pz, tz, met, pool, at, y_best):  # pragma: no cover - compiled
    """``min_y max_{x,z} B``: inner values at the ``y`` candidates (and at ``y_best``, the previous
    level's minimiser ``[k, params]``, if ``k ≥ 0``), then compass search on ``y``'s parameters
    from the ``_N_STARTS`` best. ``pool`` (recent maximising pairs) and ``y_best`` are updated."""
    n = ty.shape[1]
    dom = met[0]
    size = 2 + 4 * n
    state = np.empty(size)
    n_starts = _N_STARTS
    kept_v = np.full(n_starts, np.inf)
    kept_y = np.full((n_starts, 1 + 2 * n), -1.0)
    acc = np.empty(gy[3].shape[0])
    y = np.empty(n)
    n_cand = ty.shape[0]
    for a in range(-1, n_cand):
        if a < 0:
            if y_best[0] < 0.0:
                continue
            _point(gy, int(y_best[0]), y_best[1:], dom, acc, y)
        else:
            y[:] = ty[a]
        v = _inner_max(y, gx, kx, px, tx, gz, kz, pz, tz, met, kept_v[n_starts - 1], False, pool, state)
        if v < kept_v[n_starts - 1]:
            s = n_starts - 1
            while s > 0 and kept_v[s - 1] > v:
                kept_v[s] = kept_v[s - 1]
                kept_y[s] = kept_y[s - 1]
                s -= 1
            kept_v[s] = v
            if a < 0:
                kept_y[s] = y_best
            else:
                kept_y[s, 0] = ky[a]
                kept_y[s, 1:] = py[a]
            _push(pool, at, state)
    result = np.inf
    tiny = _TOL_Y * _extent(gy)
    seen = np.empty((n_starts, n))
    for s in range(n_starts):
        if kept_y[s, 0] < 0.0:
            continue
        k = int(kept_y[s, 0])
        yp = kept_y[s, 1:].copy()
        _point(gy, k, yp, dom, acc, y)
        seen[s] = y
        duplicate = False
        for r in range(s):
            if kept_y[r, 0] >= 0.0 and np.abs(seen[r] - y).max() <= 1e-12:
                duplicate = True
        if duplicate:
            continue
        h = _inner_max(y, gx, kx, px, tx, gz, kz, pz, tz, met, np.inf, True, pool, state)
        _push(pool, at, state)
        step = _STEP0
        trials = 0
        while step > _TOL_Y and 0.0 < h < _ONE and trials < _MAX_TRIALS:
            _normalise(yp, gy, dom, acc)
            improved = False
            for c in range(2 * n):
                if c >= n and gy[4] * step <= tiny:
                    continue  # a direction step that moves y by less than the tolerance
                for sgn in (1.0, -1.0):
                    old = yp[c]
                    new = old + sgn * step
                    if c < n:
                        new = min(max(new, 0.0), 1.0)
                        if new == old:
                            continue
                    yp[c] = new
                    trials += 1
                    _point(gy, k, yp, dom, acc, y)
                    v = _inner_max(y, gx, kx, px, tx, gz, kz, pz, tz, met, h - _GAIN, True, pool, state)
                    _push(pool, at, state)  # the maximiser here, or the pair that blocked the move
                    if v < h - _GAIN:
                        h = v
                        improved = True
                        break
                    yp[c] = old
            if not improved:
                step *= 0.5
        if h < result:
            result = h
            y_best[0] = k
            y_best[1:] = yp
    return min(result, 1.0)
