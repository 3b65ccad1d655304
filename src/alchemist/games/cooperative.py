"""Cooperative (transferable-utility) games in characteristic-function form.

A game with ``n`` players is a float64 array ``v`` of length ``2**n``: ``v[S]`` is the worth of
the coalition whose members are the set bits of the integer ``S`` (player ``i`` is bit ``1 << i``);
``v[0] = 0`` for the empty coalition and ``v[2**n - 1]`` is the grand coalition's worth.

Solution concepts: Shapley value (exact, Numba over bitmasks on the CPU, a CUDA kernel on the GPU;
or Monte Carlo permutation sampling with a confidence interval), Banzhaf index, core (membership,
non-emptiness), least core and nucleolus (sequential linear programs with HiGHS), and the
superadditivity and convexity checks.

References
----------
M. Maschler, E. Solan, S. Zamir, *Game Theory* (2013): ch. 16 (coalitional games), 17 (core),
18 (Shapley value), 20 (nucleolus; §20.3 its computation by sequential LPs).
L. S. Shapley, "A value for n-person games" (1953). J. F. Banzhaf, Rutgers Law Rev. 19 (1965).
M. Maschler, B. Peleg, L. S. Shapley, "Geometric properties of the kernel, nucleolus and related
solution concepts", Math. Oper. Res. 4 (1979) 303–338. S. S. Fatima et al., "A linear
approximation method for the Shapley value", AIJ 172 (2008) (Monte Carlo sampling, variance).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit, prange
from scipy.optimize import linprog

from alchemist.backend import resolve_backend
from alchemist.errors import EmptyCoreError, InvalidGameError, NoEquilibriumFoundError

__all__ = [
    "CoalitionalGame",
    "weighted_voting_game",
    "shapley_value",
    "ShapleyEstimate",
    "banzhaf_index",
    "core_is_empty",
    "in_core",
    "least_core",
    "normalized_worths",
    "nucleolus",
    "is_superadditive",
    "is_convex",
]

#: Largest number of players for the exact solution concepts over all 2^n coalitions.
MAX_PLAYERS = 30


class CoalitionalGame:
    """A transferable-utility game: ``n`` players and a characteristic function over bitmasks.

    Parameters
    ----------
    n : int
        Number of players, ``1 <= n <= 30``.
    v : array_like, shape ``(2**n,)``
        Worth of each coalition, indexed by its bitmask (player ``i`` is bit ``1 << i``); or a
        callable ``v(members: tuple[int, ...]) -> float`` evaluated on every coalition; or a dict
        ``{frozenset(members) or tuple: worth}`` (missing coalitions are worth 0).
    players : sequence of str, optional
        Player names.

    Attributes
    ----------
    v : ndarray, shape ``(2**n,)``, float64 (read-only)
    n : int

    Raises
    ------
    InvalidGameError
        ``n`` out of range, ``v`` of the wrong length, non-finite worths, or ``v[0] != 0``.

    Examples
    --------
    The glove game with one left-glove owner (player 0) and two right-glove owners:

    >>> g = CoalitionalGame(3, lambda S: float(0 in S and len(S) >= 2))
    >>> g.v.tolist()
    [0.0, 0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0]
    """

    def __init__(self, n: int, v, players=None):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= MAX_PLAYERS:
            raise InvalidGameError(f"number of players n={n!r} must be an integer between 1 and {MAX_PLAYERS}")
        n = int(n)
        size = 1 << n
        if callable(v):
            arr = np.array([float(v(_members(S, n))) for S in range(size)])
        elif isinstance(v, dict):
            arr = np.zeros(size)
            for key, worth in v.items():
                S = sum(1 << int(i) for i in key)
                if S >= size:
                    raise InvalidGameError(f"coalition {sorted(key)} names a player >= n={n}")
                arr[S] = float(worth)
        else:
            try:
                arr = np.asarray(v, dtype=np.float64)
            except (TypeError, ValueError) as exc:
                raise InvalidGameError(f"characteristic function is not numeric ({exc})") from None
        if arr.shape != (size,):
            raise InvalidGameError(
                f"characteristic function has shape {arr.shape}; a {n}-player game needs a 1-D array "
                f"of 2**{n} = {size} worths indexed by coalition bitmask"
            )
        if not np.all(np.isfinite(arr)):
            bad = int(np.flatnonzero(~np.isfinite(arr))[0])
            raise InvalidGameError(f"v[{bad}] (coalition {list(_members(bad, n))}) = {arr[bad]} is not finite")
        if arr[0] != 0:
            raise InvalidGameError(f"v[0] = {arr[0]}: the empty coalition must be worth 0")
        arr = np.array(arr, dtype=np.float64, order="C", copy=True)  # never freeze the caller's array
        arr.setflags(write=False)
        self.n = n
        self.v = arr
        self.players = [str(p) for p in players] if players is not None else [str(i) for i in range(n)]
        if len(self.players) != n:
            raise InvalidGameError(f"{len(self.players)} player names for {n} players")

    @property
    def grand_coalition(self) -> int:
        """Bitmask of the grand coalition, ``2**n - 1``.

        Returns
        -------
        int

        Raises
        ------
        None

        Examples
        --------
        >>> CoalitionalGame(3, lambda S: float(len(S) >= 2)).grand_coalition
        7
        """
        return (1 << self.n) - 1

    def worth(self, members) -> float:
        """``v(S)`` for an iterable of player indices.

        Parameters
        ----------
        members : iterable of int
            Player indices in ``0 … n-1`` (order and repeats do not matter).

        Returns
        -------
        float

        Raises
        ------
        InvalidGameError
            An index is not a player of the game.

        Examples
        --------
        >>> glove = CoalitionalGame(3, lambda S: float(0 in S and len(S) >= 2))
        >>> glove.worth([0, 2]), glove.worth([1, 2])
        (1.0, 0.0)
        """
        S = 0
        for i in members:
            if not 0 <= int(i) < self.n:
                raise InvalidGameError(f"player {i} is not in a {self.n}-player game")
            S |= 1 << int(i)
        return float(self.v[S])

    def __repr__(self) -> str:
        return f"<CoalitionalGame: {self.n} players, v(N) = {self.v[-1]:g}>"

    def _repr_html_(self) -> str:
        import html

        rows = "".join(
            f"<tr><td>{{{html.escape(', '.join(self.players[i] for i in _members(S, self.n)))}}}</td><td>{self.v[S]:g}</td></tr>"
            for S in range(1, min(len(self.v), 65))
        )
        more = "<p>(first 64 coalitions)</p>" if len(self.v) > 65 else ""
        return f"<div><p>{self.n}-player coalitional game</p><table><tr><th>S</th><th>v(S)</th></tr>{rows}</table>{more}</div>"


def weighted_voting_game(weights, quota) -> CoalitionalGame:
    """The simple game ``[quota; w_1, ..., w_n]``: ``v(S) = 1`` if ``sum_{i in S} w_i >= quota``.

    Parameters
    ----------
    weights : array_like, shape ``(n,)``
        Non-negative voting weights.
    quota : float
        Positive quota.

    Returns
    -------
    CoalitionalGame
        A simple game (worths 0 or 1).

    Raises
    ------
    InvalidGameError
        Negative or non-finite weights, a non-positive quota, or more than 30 players.

    Examples
    --------
    >>> weighted_voting_game([50, 49, 1], 51).v.tolist()
    [0.0, 0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0]
    """
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 1 or len(w) == 0 or not np.all(np.isfinite(w)) or np.any(w < 0):
        raise InvalidGameError(f"weights {weights!r} must be a non-empty 1-D array of non-negative finite numbers")
    if not np.isfinite(quota) or quota <= 0:
        raise InvalidGameError(f"quota {quota!r} must be a positive number")
    if len(w) > MAX_PLAYERS:
        raise InvalidGameError(f"{len(w)} players: weighted voting games are limited to {MAX_PLAYERS}")
    sums = _subset_sums(w)
    return CoalitionalGame(len(w), (sums >= quota - 1e-12 * max(1.0, quota)).astype(np.float64))


class ShapleyEstimate(NamedTuple):
    """Monte Carlo Shapley value: estimate, standard error and a confidence interval per player.

    What :func:`shapley_value` returns with ``method="monte_carlo"``.

    Parameters
    ----------
    value : (n,) float64
        Mean marginal contribution of each player over the sampled permutations.
    stderr : (n,) float64
        Standard error of each mean.
    ci_low, ci_high : (n,) float64
        Normal-approximation confidence interval at ``confidence``.
    n_samples : int
        Number of permutations sampled.
    confidence : float
        Level of the interval, in (0, 1).

    Examples
    --------
    >>> majority = CoalitionalGame(3, lambda S: float(len(S) >= 2))
    >>> est = shapley_value(majority, method="monte_carlo", n_samples=2000, seed=0)
    >>> est.n_samples, bool(abs(est.value - 1 / 3).max() < 4 * est.stderr.max())
    (2000, True)
    """

    value: np.ndarray
    stderr: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    n_samples: int
    confidence: float


def shapley_value(game: CoalitionalGame, method: str = "exact", n_samples: int = 10_000,
                  confidence: float = 0.95, seed=None, backend: str = "auto"):
    """The Shapley value.

    ``phi_i = sum_{S not containing i} |S|! (n - |S| - 1)! / n! * (v(S + i) - v(S))``.

    Parameters
    ----------
    game : CoalitionalGame
    method : {"exact", "monte_carlo"}
        ``"exact"`` sums over all ``2**n`` coalitions (``O(n 2^n)``; 20 players take well under a
        second on one CPU core, 25 on a GPU). ``"monte_carlo"`` averages marginal contributions
        over ``n_samples`` uniformly random orderings of the players.
    n_samples : int
        Permutations sampled (Monte Carlo).
    confidence : float
        Level of the normal-approximation confidence interval (Monte Carlo).
    seed : int or numpy.random.Generator, optional
    backend : {"auto", "cpu", "cuda"}
        Exact method on the GPU with ``"cuda"`` (Numba CUDA kernel).

    Returns
    -------
    ndarray, shape ``(n,)``, float64 for ``"exact"``; :class:`ShapleyEstimate` for Monte Carlo.

    Raises
    ------
    InvalidGameError
        Unknown method, ``n_samples < 2`` or ``confidence`` outside (0, 1).

    Examples
    --------
    >>> shapley_value(weighted_voting_game([50, 49, 1], 51)).round(4)
    array([0.6667, 0.1667, 0.1667])
    """
    _check_game(game)
    if method == "exact":
        n = game.n
        weights = np.array([math.factorial(s) * math.factorial(n - s - 1) / math.factorial(n) for s in range(n)])
        if resolve_backend(backend) == "cuda":
            from alchemist.games._cuda import semivalue_gpu

            return semivalue_gpu(game.v, n, weights)
        return _semivalue_kernel(game.v, n, weights)
    if method == "monte_carlo":
        if n_samples < 2:
            raise InvalidGameError(f"n_samples={n_samples} must be at least 2")
        if not 0 < confidence < 1:
            raise InvalidGameError(f"confidence={confidence} must be between 0 and 1")
        rng = np.random.default_rng(seed)
        perms = rng.permuted(np.tile(np.arange(game.n, dtype=np.int64), (int(n_samples), 1)), axis=1)
        mean, var = _permutation_contributions(game.v, perms)
        stderr = np.sqrt(var / n_samples)
        from scipy.stats import norm

        z = float(norm.ppf(0.5 + confidence / 2))
        return ShapleyEstimate(mean, stderr, mean - z * stderr, mean + z * stderr, int(n_samples), float(confidence))
    raise InvalidGameError(f"unknown method {method!r}; use 'exact' or 'monte_carlo'")


def banzhaf_index(game: CoalitionalGame, normalized: bool = True, backend: str = "auto") -> np.ndarray:
    """The Banzhaf index: ``beta_i = sum_{S not containing i} (v(S + i) - v(S)) / 2**(n-1)``.

    Parameters
    ----------
    game : CoalitionalGame
    normalized : bool
        Divide by the sum over players (the normalized Banzhaf index of voting power), as usual
        for simple games; else return the raw Banzhaf value.

    Returns
    -------
    ndarray, shape ``(n,)``, float64

    Raises
    ------
    InvalidGameError
        ``game`` is not a :class:`CoalitionalGame`, or ``normalized`` when every marginal
        contribution is 0.

    References
    ----------
    Banzhaf, J. F. (1965). "Weighted voting doesn't work: a mathematical analysis", Rutgers Law
    Review 19; Penrose (1946).

    Examples
    --------
    >>> banzhaf_index(weighted_voting_game([50, 49, 1], 51))
    array([0.6, 0.2, 0.2])
    >>> banzhaf_index(weighted_voting_game([50, 49, 1], 51), normalized=False)
    array([0.75, 0.25, 0.25])
    """
    _check_game(game)
    n = game.n
    weights = np.full(n, 1.0 / 2 ** (n - 1))
    if resolve_backend(backend) == "cuda":
        from alchemist.games._cuda import semivalue_gpu

        raw = semivalue_gpu(game.v, n, weights)
    else:
        raw = _semivalue_kernel(game.v, n, weights)
    if normalized:
        total = raw.sum()
        if total == 0:
            raise InvalidGameError("every marginal contribution is 0: the normalized Banzhaf index is undefined")
        return raw / total
    return raw


def in_core(game: CoalitionalGame, x, tol: float = 1e-9) -> bool:
    """Whether the payoff vector ``x`` is in the core: efficient (``x(N) = v(N)``) and
    coalitionally rational (``x(S) >= v(S)`` for every ``S``), within ``tol`` (Gillies 1959;
    Maschler, Solan & Zamir 2013, §17.1).

    Parameters
    ----------
    game : CoalitionalGame
    x : (n,) array_like
        Payoff of each player.
    tol : float
        Tolerance on each constraint, relative to the scale of the game (``max |v0|`` of the
        0-normalised game, see :func:`normalized_worths`), so the answer is the same for
        ``a * v(S) + sum_{i in S} b_i`` and ``a * x + b`` as for ``v`` and ``x`` (``a > 0``).

    Returns
    -------
    bool

    Raises
    ------
    InvalidGameError
        ``game`` is not a :class:`CoalitionalGame`, or ``x`` does not have shape ``(n,)``.

    Examples
    --------
    The glove game's core is the single point where the left-glove owner takes everything:

    >>> glove = CoalitionalGame(3, lambda S: float(0 in S and len(S) >= 2))
    >>> in_core(glove, [1, 0, 0]), in_core(glove, [0.5, 0.25, 0.25])
    (True, False)
    """
    _check_game(game)
    x = np.asarray(x, dtype=np.float64)
    if x.shape != (game.n,):
        raise InvalidGameError(f"payoff vector has shape {x.shape}; the game has {game.n} players")
    v0, singles, scale = normalized_worths(game)
    sums = _subset_sums((x - singles) / scale)
    return bool(abs(sums[-1] - v0[-1]) <= tol and np.all(sums >= v0 - tol))


def least_core(game: CoalitionalGame):
    """The least core: minimize ``eps`` subject to ``x(S) >= v(S) - eps`` for every proper
    non-empty ``S`` and ``x(N) = v(N)`` (one LP, HiGHS; Maschler, Peleg & Shapley 1979).

    Parameters
    ----------
    game : CoalitionalGame

    Returns
    -------
    (x, eps) : ((n,) float64, float)
        A payoff vector of the least core and the least ``eps``; the core is empty iff ``eps > 0``.

    Raises
    ------
    InvalidGameError
        ``game`` is not a :class:`CoalitionalGame`.
    NoEquilibriumFoundError
        The LP solver fails.

    Examples
    --------
    Three-player majority game (any two players win 1): the core is empty.

    >>> majority = CoalitionalGame(3, lambda S: float(len(S) >= 2))
    >>> x, eps = least_core(majority)
    >>> x.round(4), round(eps, 4)
    (array([0.3333, 0.3333, 0.3333]), 0.3333)
    """
    _check_game(game)
    v0, singles, scale = normalized_worths(game)
    x, eps = _least_core_lp(v0, game.n)
    return x * scale + singles, eps * scale


def core_is_empty(game: CoalitionalGame, tol: float = 1e-9) -> bool:
    """True when no efficient payoff vector gives every coalition at least its worth
    (Bondareva 1963, Shapley 1967; decided by the least-core LP: empty iff its value is positive).

    Parameters
    ----------
    game : CoalitionalGame
    tol : float
        Tolerance on the least-core value, relative to the scale of the game (``max |v0|`` of the
        0-normalised game, :func:`normalized_worths`): the answer does not depend on the unit.

    Returns
    -------
    bool

    Raises
    ------
    InvalidGameError
        ``game`` is not a :class:`CoalitionalGame`.

    Examples
    --------
    >>> core_is_empty(CoalitionalGame(3, lambda S: float(len(S) >= 2)))
    True
    >>> core_is_empty(weighted_voting_game([50, 49, 1], 51))   # player 0 is a veto player
    False
    """
    _check_game(game)
    if game.n == 1:
        return False
    v0, _, _ = normalized_worths(game)
    _, eps = _least_core_lp(v0, game.n)
    return bool(eps > tol)


def nucleolus(game: CoalitionalGame, tol: float = 1e-9) -> np.ndarray:
    """The nucleolus: the imputation that lexicographically minimizes the sorted excesses
    ``e(S, x) = v(S) - x(S)`` (Schmeidler 1969).

    Computed by the sequential LPs of Maschler, Peleg & Shapley (1979) (Maschler–Solan–Zamir
    2013, §20.3): at stage ``k`` minimize the largest excess ``t`` over the coalitions not yet
    fixed; a coalition whose excess equals ``t`` at every optimum of the stage (tested by one more
    LP per tight coalition) is fixed at that excess. Stops when the fixed coalitions determine
    ``x`` (their indicator vectors span ``R^n``).

    Parameters
    ----------
    game : CoalitionalGame
    tol : float
        Tolerance of the imputation-set check, relative to the scale of the game. The LPs are
        solved on the 0-normalised game scaled to ``max |v0| = 1`` (:func:`normalized_worths`)
        and mapped back, so the nucleolus of ``a * v(S) + sum_{i in S} b_i`` is ``a * nu + b``
        (``a > 0``) whatever the unit (HiGHS's tolerances are absolute).

    Returns
    -------
    ndarray, shape ``(n,)``, float64

    Raises
    ------
    EmptyCoreError
        If the imputation set is empty (``sum_i v({i}) > v(N)``).
    InvalidGameError
        ``game`` is not a :class:`CoalitionalGame`.
    NoEquilibriumFoundError
        An LP of the sequence fails (HiGHS's message).

    Examples
    --------
    ``v(01) = 60, v(02) = 80, v(12) = 100, v(N) = 120``: the core is the single point
    ``(20, 40, 60)``, which is then the nucleolus.

    >>> game = CoalitionalGame(3, {(0, 1): 60, (0, 2): 80, (1, 2): 100, (0, 1, 2): 120})
    >>> nucleolus(game).round(6)
    array([20., 40., 60.])
    """
    _check_game(game)
    n = game.n
    v0, singles, unit = normalized_worths(game)
    if v0[-1] < -tol:
        raise EmptyCoreError(
            f"the imputation set is empty: the players' stand-alone worths sum to {singles.sum():g} > "
            f"v(N) = {game.v[-1]:g}"
        )
    if n == 1:
        return np.array([game.v[1]])
    return _nucleolus_lp(v0, n) * unit + singles


def is_superadditive(game: CoalitionalGame, tol: float = 1e-12) -> bool:
    """``v(S ∪ T) >= v(S) + v(T)`` for all disjoint ``S, T`` (checks all ``3**n`` pairs).

    Parameters
    ----------
    game : CoalitionalGame
    tol : float
        Tolerance relative to the scale of the game (``max |v0|``, :func:`normalized_worths`).

    Returns
    -------
    bool

    Raises
    ------
    InvalidGameError
        ``game`` is not a :class:`CoalitionalGame`.

    Examples
    --------
    >>> is_superadditive(CoalitionalGame(3, lambda S: float(len(S) >= 2)))
    True
    >>> is_superadditive(CoalitionalGame(2, [0, 1, 1, 1]))
    False
    """
    _check_game(game)
    return bool(_superadditive_kernel(normalized_worths(game)[0], game.n, tol))


def is_convex(game: CoalitionalGame, tol: float = 1e-12) -> bool:
    """Supermodularity, ``v(S ∪ T) + v(S ∩ T) >= v(S) + v(T)``, checked by the equivalent local
    condition ``v(S+i+j) - v(S+j) >= v(S+i) - v(S)`` for all ``S`` and ``i, j`` not in ``S``
    (Shapley 1971, "Cores of convex games", Int. J. Game Theory 1). A convex game's core
    contains its Shapley value.

    Parameters
    ----------
    game : CoalitionalGame
    tol : float
        Tolerance relative to the scale of the game (``max |v0|``, :func:`normalized_worths`).

    Returns
    -------
    bool

    Raises
    ------
    InvalidGameError
        ``game`` is not a :class:`CoalitionalGame`.

    Examples
    --------
    >>> is_convex(CoalitionalGame(3, lambda S: float(len(S) >= 2)))
    False
    >>> is_convex(CoalitionalGame(2, [0, 0, 0, 1]))
    True
    """
    _check_game(game)
    return bool(_convex_kernel(normalized_worths(game)[0], game.n, tol))


def normalized_worths(game: CoalitionalGame):
    """The 0-normalised game scaled to unit size: ``v0(S) = (v(S) - sum_{i in S} v({i})) / s``.

    Games related by ``w(S) = a * v(S) + sum_{i in S} b_i`` (``a > 0``) are strategically
    equivalent: their cores, least cores and nucleoli are related by ``x -> a * x + b``
    (Maschler, Solan & Zamir 2013, §16.2). The routines here solve the normalised game, whose
    worths are of order 1, so LP and comparison tolerances are relative to the game's scale.

    Parameters
    ----------
    game : CoalitionalGame

    Returns
    -------
    (v0, singles, s) : ((2**n,) float64, (n,) float64, float)
        The normalised worths, the stand-alone worths ``v({i})`` and the scale
        ``s = max |v(S) - sum_{i in S} v({i})|`` (1 when that is 0, an additive game).

    Raises
    ------
    InvalidGameError
        ``game`` is not a :class:`CoalitionalGame`.

    Examples
    --------
    >>> v0, singles, s = normalized_worths(CoalitionalGame(2, [0, 1e-9, 2e-9, 5e-9]))
    >>> v0.round(12).tolist(), singles.tolist(), s
    ([0.0, 0.0, 0.0, 1.0], [1e-09, 2e-09], 2e-09)
    """
    _check_game(game)
    singles = np.array([game.v[1 << i] for i in range(game.n)])
    v0 = game.v - _subset_sums(singles)
    scale = float(np.abs(v0).max()) or 1.0
    return v0 / scale, singles, scale

# ---------------------------------------------------------------------------- helpers
def _check_game(game) -> None:
    if not isinstance(game, CoalitionalGame):
        raise InvalidGameError(f"expected a CoalitionalGame, got {type(game).__name__}; build one with CoalitionalGame(n, v)")


def _members(S: int, n: int) -> tuple:
    return tuple(i for i in range(n) if S >> i & 1)


def _subset_sums(w: np.ndarray) -> np.ndarray:
    """``sums[S] = sum_{i in S} w[i]`` for all ``2**n`` bitmasks (doubling construction)."""
    sums = np.zeros(1, dtype=np.float64)
    for wi in w:
        sums = np.concatenate([sums, sums + wi])
    return sums


def _least_core_lp(v, n):
    coalitions = np.arange(1, (1 << n) - 1)
    if len(coalitions) == 0:
        return np.array([v[-1]]), 0.0
    M = ((coalitions[:, None] >> np.arange(n)) & 1).astype(np.float64)
    A_ub = np.concatenate([-M, -np.ones((len(coalitions), 1))], axis=1)  # -x(S) - eps <= -v(S)
    b_ub = -v[coalitions]
    A_eq = np.concatenate([np.ones((1, n)), np.zeros((1, 1))], axis=1)
    c = np.zeros(n + 1)
    c[-1] = 1.0
    res = linprog(c, A_ub=A_ub, b_ub=b_ub, A_eq=A_eq, b_eq=[v[-1]],
                  bounds=[(None, None)] * (n + 1), method="highs")
    if res.status != 0:
        raise NoEquilibriumFoundError(f"HiGHS failed on the least-core LP: {res.message}")
    return res.x[:n], float(res.x[-1])


def _nucleolus_lp(v, n):
    """The sequential LPs on a 0-normalised game with worths of order 1 (imputations x >= 0)."""
    coalitions = np.arange(1, (1 << n) - 1)
    M = ((coalitions[:, None] >> np.arange(n)) & 1).astype(np.float64)
    worth = v[coalitions]
    free = np.ones(len(coalitions), dtype=bool)
    fixed_value = np.zeros(len(coalitions))
    bounds = [(0.0, None)] * n + [(None, None)]
    for _stage in range(len(coalitions) + 1):
        A_eq, b_eq = _fixed_constraints(M, worth, free, fixed_value, v[-1], n)
        # variables (x, t): v(S) - x(S) <= t for free S  ->  -x(S) - t <= -v(S)
        A_ub = np.concatenate([-M[free], -np.ones((free.sum(), 1))], axis=1)
        b_ub = -worth[free]
        c = np.zeros(n + 1)
        c[-1] = 1.0
        res = linprog(c, A_ub=A_ub, b_ub=b_ub, A_eq=A_eq, b_eq=b_eq, bounds=bounds, method="highs")
        if res.status != 0:
            raise NoEquilibriumFoundError(f"HiGHS failed on a nucleolus stage LP: {res.message}")
        t = float(res.x[-1])
        x = res.x[:n]
        # candidates: free coalitions tight at this optimum; fix those tight at every optimum
        tight = np.flatnonzero(free)[np.abs(worth[free] - M[free] @ x - t) <= 1e-7]
        newly = []
        for idx in tight:
            # maximize x(S) (minimize its excess) with the stage value t imposed
            A_ub2 = np.concatenate([-M[free], np.zeros((free.sum(), 1))], axis=1)
            b_ub2 = -worth[free] + t
            c2 = np.concatenate([-M[idx], [0.0]])
            r2 = linprog(c2, A_ub=A_ub2, b_ub=b_ub2, A_eq=A_eq, b_eq=b_eq, bounds=bounds, method="highs")
            if r2.status == 0 and worth[idx] - (-r2.fun) >= t - 1e-7:
                newly.append(idx)
        if not newly:  # numerical safety: fix the tight set of this optimum
            newly = list(tight)
        free[newly] = False
        fixed_value[newly] = t
        if np.linalg.matrix_rank(np.concatenate([M[~free], np.ones((1, n))])) == n:
            A_eq, b_eq = _fixed_constraints(M, worth, free, fixed_value, v[-1], n)
            sol = np.linalg.lstsq(A_eq[:, :n], b_eq, rcond=None)[0]
            return sol
    raise NoEquilibriumFoundError("the sequential LPs did not determine the nucleolus")


def _fixed_constraints(M, worth, free, fixed_value, vN, n):
    rows = [np.concatenate([np.ones(n), [0.0]])]
    rhs = [vN]
    for idx in np.flatnonzero(~free):
        rows.append(np.concatenate([M[idx], [0.0]]))
        rhs.append(worth[idx] - fixed_value[idx])  # x(S) = v(S) - e_S
    return np.array(rows), np.array(rhs)


# ---------------------------------------------------------------------------- kernels
@njit(cache=True, parallel=True)
def _semivalue_kernel(v, n, weights):
    """``phi_i = sum_{S not containing i} weights[|S|] * (v[S | 1<<i] - v[S])``, parallel over i."""
    out = np.zeros(n)
    size = 1 << n
    for i in prange(n):
        bit = 1 << i
        acc = 0.0
        # enumerate S without bit i: insert a zero at position i into t = 0 .. 2^(n-1)-1
        low_mask = bit - 1
        for t in range(size >> 1):
            S = ((t & ~low_mask) << 1) | (t & low_mask)
            acc += weights[_popcount(S)] * (v[S | bit] - v[S])
        out[i] = acc
    return out


@njit(cache=True, inline="always")
def _popcount(x):
    x = x - ((x >> 1) & 0x5555555555555555)
    x = (x & 0x3333333333333333) + ((x >> 2) & 0x3333333333333333)
    x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0F
    return (x * 0x0101010101010101) >> 56 & 0xFF


@njit(cache=True, parallel=True)
def _permutation_contributions(v, perms):
    """Mean and sample variance of each player's marginal contribution over sampled orderings."""
    n_samples, n = perms.shape
    contrib = np.empty((n_samples, n))
    for k in prange(n_samples):
        S = 0
        for pos in range(n):
            i = perms[k, pos]
            T = S | (1 << i)
            contrib[k, i] = v[T] - v[S]
            S = T
    mean = np.zeros(n)
    var = np.zeros(n)
    for i in range(n):
        s = 0.0
        for k in range(n_samples):
            s += contrib[k, i]
        mu = s / n_samples
        ss = 0.0
        for k in range(n_samples):
            d = contrib[k, i] - mu
            ss += d * d
        mean[i] = mu
        var[i] = ss / (n_samples - 1)
    return mean, var


@njit(cache=True)
def _superadditive_kernel(v, n, tol):
    size = 1 << n
    full = size - 1
    for S in range(1, size):
        rest = full & ~S
        T = rest
        while T > 0:
            if T > S:  # each unordered pair once
                if v[S | T] < v[S] + v[T] - tol:
                    return False
            T = (T - 1) & rest
    return True


@njit(cache=True)
def _convex_kernel(v, n, tol):
    size = 1 << n
    for S in range(size):
        for i in range(n):
            bi = 1 << i
            if S & bi:
                continue
            for j in range(i + 1, n):
                bj = 1 << j
                if S & bj:
                    continue
                if v[S | bi | bj] - v[S | bj] < v[S | bi] - v[S] - tol:
                    return False
    return True
