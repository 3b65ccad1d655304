"""The base of :mod:`alchemist.games`: the :class:`NormalFormGame` container, the conversion every
algorithm starts with (:func:`as_game`), the default tolerance and the payoff range that scales it.

Every other module of the package imports from here, and this module imports none of them (the
facade methods of :class:`NormalFormGame` import their algorithm when called), so the package's
modules import downward only.
"""

from __future__ import annotations

import html
import itertools
from fractions import Fraction

import numpy as np

from alchemist.errors import InvalidGameError

__all__ = ["DEFAULT_TOL", "NormalFormGame", "as_game", "payoff_range", "normalized_game"]

#: Default absolute tolerance (relative to the payoff range) for equilibrium checks.
DEFAULT_TOL = 1e-8


class NormalFormGame:
    """A finite game in normal form with ``n >= 2`` players.

    Parameters
    ----------
    *payoffs : array_like
        Either two matrices ``A, B`` of shape ``(m, n)`` (a bimatrix game: row player's and column
        player's payoffs), one matrix ``A`` (the zero-sum game ``(A, -A)``), or one sequence
        ``[P1, ..., Pn]`` of ``n`` arrays, each of shape ``(a_1, ..., a_n)``, with ``P_p`` the
        payoffs of player ``p`` indexed by the pure action profile. Converted to float64.
    players : sequence of str, optional
        Player names (default ``"Player 1"``, ...).
    strategies : sequence of sequence of str, optional
        Action labels per player (default ``"1"``, ``"2"``, ...).
    title : str, optional
        Title, as in Gambit's files.
    exact_payoffs : sequence of object arrays of :class:`fractions.Fraction`, optional
        The payoffs as exact rationals (kept by :func:`read_nfg` so that decimal payoffs such as
        ``7.6`` can be verified exactly); by default the exact value of each float.

    Attributes
    ----------
    payoffs : tuple of ndarray
        ``n_players`` float64 arrays of shape :attr:`shape` (read-only).
    shape : tuple of int
        Number of actions of each player.
    n_players : int

    Raises
    ------
    InvalidGameError
        Ragged or non-numeric payoffs, non-finite payoffs, fewer than two players, an array whose
        number of dimensions is not the number of players, arrays of different shapes, a player
        without actions, or labels of the wrong length.

    Examples
    --------
    >>> g = NormalFormGame([[1, -1], [-1, 1]])          # matching pennies (zero-sum)
    >>> g.shape, g.n_players
    ((2, 2), 2)
    >>> g[0, 1]
    array([-1.,  1.])
    """

    def __init__(self, *payoffs, players=None, strategies=None, title: str = "", exact_payoffs=None):
        arrays = _payoff_arrays(payoffs)
        self.payoffs = tuple(arrays)
        self.n_players = len(arrays)
        self.shape = tuple(int(a) for a in arrays[0].shape)
        if players is None:
            players = [f"Player {p + 1}" for p in range(self.n_players)]
        players = [str(p) for p in players]
        if len(players) != self.n_players:
            raise InvalidGameError(
                f"{len(players)} player names given for a {self.n_players}-player game; give one name per player"
            )
        if strategies is None:
            strategies = [[str(s + 1) for s in range(k)] for k in self.shape]
        strategies = [[str(s) for s in labels] for labels in strategies]
        if len(strategies) != self.n_players or any(len(s) != k for s, k in zip(strategies, self.shape)):
            raise InvalidGameError(
                f"strategy labels of lengths {[len(s) for s in strategies]} do not match the game's shape "
                f"{self.shape}; give one label per action of each player"
            )
        self.players = players
        self.strategies = strategies
        self.title = str(title)
        if exact_payoffs is not None:
            exact_payoffs = tuple(np.asarray(e, dtype=object) for e in exact_payoffs)
            if len(exact_payoffs) != self.n_players or any(e.shape != self.shape for e in exact_payoffs):
                raise InvalidGameError("exact_payoffs must have the same number and shapes as the payoffs")
        self._exact = exact_payoffs

    # ------------------------------------------------------------------ views
    @property
    def nums_actions(self) -> tuple:
        """Number of actions of each player (QuantEcon's name for :attr:`shape`).

        Returns
        -------
        tuple of int

        Raises
        ------
        None
        """
        return self.shape

    @property
    def exact_payoffs(self) -> tuple:
        """The payoffs as object arrays of :class:`fractions.Fraction` (exact rationals).

        From the file for a game read by :func:`~alchemist.games.read_nfg`, else converted exactly
        from the float64 payoffs (``Fraction(float)``), once.

        Returns
        -------
        tuple of ndarray
            One object array of shape :attr:`shape` per player.

        Raises
        ------
        None

        Examples
        --------
        >>> NormalFormGame([[0.5, 0], [0, 1]], [[1, 0], [0, 1]]).exact_payoffs[0][0, 0]
        Fraction(1, 2)
        """
        if self._exact is None:
            conv = np.vectorize(Fraction, otypes=[object])
            self._exact = tuple(conv(a) for a in self.payoffs)
        return self._exact

    @property
    def is_two_player(self) -> bool:
        """Whether the game has exactly two players (the bimatrix algorithms need it).

        Returns
        -------
        bool

        Raises
        ------
        None
        """
        return self.n_players == 2

    def is_zero_sum(self, tol: float = 0.0) -> bool:
        """True when the payoffs of all players sum to zero at every profile (within ``tol``).

        Parameters
        ----------
        tol : float
            Absolute tolerance.

        Returns
        -------
        bool

        Raises
        ------
        None

        Examples
        --------
        >>> NormalFormGame([[1, -1], [-1, 1]], [[-1, 1], [1, -1]]).is_zero_sum()
        True
        """
        return bool(np.all(np.abs(np.sum(self.payoffs, axis=0)) <= tol))

    def payoff_profile_array(self) -> np.ndarray:
        """All payoff vectors in C order of profiles (the last player's action varies fastest).

        Returns
        -------
        (prod(shape), n_players) float64

        Raises
        ------
        None

        Examples
        --------
        >>> bos = NormalFormGame([[3, 0], [0, 2]], [[2, 0], [0, 3]])
        >>> bos.payoff_profile_array().tolist()
        [[3.0, 2.0], [0.0, 0.0], [0.0, 0.0], [2.0, 3.0]]
        """
        return np.stack([a.reshape(-1) for a in self.payoffs], axis=1)

    def __getitem__(self, profile) -> np.ndarray:
        """Payoff vector ``(n_players,)`` at a pure profile (a tuple of action indices)."""
        if not isinstance(profile, tuple):
            profile = (profile,)
        if len(profile) != self.n_players:
            raise InvalidGameError(f"profile {profile!r} has {len(profile)} actions; the game has {self.n_players} players")
        return np.array([a[profile] for a in self.payoffs])

    def __eq__(self, other) -> bool:
        if not isinstance(other, NormalFormGame):
            return NotImplemented
        return self.shape == other.shape and all(np.array_equal(a, b) for a, b in zip(self.payoffs, other.payoffs))

    __hash__ = None

    def __repr__(self) -> str:
        shape = "×".join(map(str, self.shape))
        title = f" {self.title!r}" if self.title else ""
        return f"<NormalFormGame{title}: {self.n_players} players, {shape} actions>"

    def _repr_html_(self) -> str:
        """An HTML table: the bimatrix for two players, a list of payoff vectors for more."""
        esc = html.escape
        head = f"<b>{esc(self.title)}</b> " if self.title else ""
        caption = f"{head}{self.n_players}-player game, {'×'.join(map(str, self.shape))} actions"
        fmt = _fmt_payoff
        rows = []
        if self.n_players == 2:
            A, B = self.payoffs
            rows.append(
                "<tr><th>" + esc(self.players[0]) + " \\ " + esc(self.players[1]) + "</th>"
                + "".join(f"<th>{esc(s)}</th>" for s in self.strategies[1]) + "</tr>"
            )
            for i, label in enumerate(self.strategies[0][:50]):
                cells = "".join(f"<td>{fmt(A[i, j])}, {fmt(B[i, j])}</td>" for j in range(min(self.shape[1], 50)))
                rows.append(f"<tr><th>{esc(label)}</th>{cells}</tr>")
        else:
            rows.append("<tr>" + "".join(f"<th>{esc(p)}</th>" for p in self.players) + "<th>payoffs</th></tr>")
            for profile in itertools.islice(itertools.product(*map(range, self.shape)), 100):
                labels = "".join(f"<td>{esc(self.strategies[p][s])}</td>" for p, s in enumerate(profile))
                pay = ", ".join(fmt(a[profile]) for a in self.payoffs)
                rows.append(f"<tr>{labels}<td>({pay})</td></tr>")
        more = "" if max(self.shape) <= 50 and int(np.prod(self.shape)) <= 100 else "<p>(truncated)</p>"
        return f"<div><p>{caption}</p><table>{''.join(rows)}</table>{more}</div>"

    # ------------------------------------------------------------------ facade (nashpy style)
    # The methods below are the one upward reference of the package: the algorithms sit above this
    # module (they take a NormalFormGame), so each method imports its algorithm when called.
    def is_nash(self, profile, tol: float = DEFAULT_TOL, exact: bool = False) -> bool:
        """Shorthand for :func:`~alchemist.games.normal_form.is_nash` ``(self, profile, ...)``.

        Parameters
        ----------
        profile : sequence of array_like
            One mixed strategy per player.
        tol : float
            Tolerance, scaled by the payoff range.
        exact : bool
            Check in exact rational arithmetic.

        Returns
        -------
        bool

        Raises
        ------
        InvalidGameError
            The profile does not have one probability vector of the right length per player.

        Examples
        --------
        >>> bos = NormalFormGame([[3, 0], [0, 2]], [[2, 0], [0, 3]])
        >>> bos.is_nash([[0.6, 0.4], [0.4, 0.6]])
        True
        """
        from alchemist.games.normal_form import is_nash

        return is_nash(self, profile, tol=tol, exact=exact)

    def pure_nash(self, **kwargs):
        """Shorthand for :func:`~alchemist.games.pure.pure_nash` ``(self, **kwargs)``.

        Parameters
        ----------
        **kwargs
            The keyword arguments of :func:`~alchemist.games.pure.pure_nash`.

        Returns
        -------
        (k, n_players) int64 array, or a list of profiles
            As :func:`~alchemist.games.pure.pure_nash` (action indices; mixed with ``mixed=True``).

        Raises
        ------
        InvalidGameError
            As :func:`~alchemist.games.pure.pure_nash` (e.g. a game with the wrong number of players).

        Examples
        --------
        >>> bos = NormalFormGame([[3, 0], [0, 2]], [[2, 0], [0, 3]])
        >>> bos.pure_nash().tolist()
        [[0, 0], [1, 1]]
        """
        from alchemist.games.pure import pure_nash

        return pure_nash(self, **kwargs)

    def support_enumeration(self, **kwargs):
        """Shorthand for :func:`~alchemist.games.support_enumeration.support_enumeration` ``(self, **kwargs)``.

        Parameters
        ----------
        **kwargs
            The keyword arguments of :func:`~alchemist.games.support_enumeration.support_enumeration`.

        Returns
        -------
        list of tuples
            As :func:`~alchemist.games.support_enumeration.support_enumeration`.

        Raises
        ------
        InvalidGameError
            As :func:`~alchemist.games.support_enumeration.support_enumeration` (e.g. a game with the wrong number of players).

        Examples
        --------
        >>> bos = NormalFormGame([[3, 0], [0, 2]], [[2, 0], [0, 3]])
        >>> len(bos.support_enumeration())
        3
        """
        from alchemist.games.support_enumeration import support_enumeration

        return support_enumeration(self, **kwargs)

    def vertex_enumeration(self, **kwargs):
        """Shorthand for :func:`~alchemist.games.vertex_enumeration.vertex_enumeration` ``(self, **kwargs)``.

        Parameters
        ----------
        **kwargs
            The keyword arguments of :func:`~alchemist.games.vertex_enumeration.vertex_enumeration`.

        Returns
        -------
        list of tuples
            As :func:`~alchemist.games.vertex_enumeration.vertex_enumeration`.

        Raises
        ------
        InvalidGameError
            As :func:`~alchemist.games.vertex_enumeration.vertex_enumeration` (e.g. a game with the wrong number of players).

        Examples
        --------
        >>> bos = NormalFormGame([[3, 0], [0, 2]], [[2, 0], [0, 3]])
        >>> [x.round(2).tolist() for x, _ in bos.vertex_enumeration()]
        [[1.0, 0.0], [0.6, 0.4], [0.0, 1.0]]
        """
        from alchemist.games.vertex_enumeration import vertex_enumeration

        return vertex_enumeration(self, **kwargs)

    def lemke_howson(self, label: int = 0, **kwargs):
        """Shorthand for :func:`~alchemist.games.lemke_howson.lemke_howson` ``(self, label, ...)``.

        Parameters
        ----------
        label : int
            The dropped label, in ``0 … m + n - 1``.
        **kwargs
            The other keyword arguments of :func:`~alchemist.games.lemke_howson.lemke_howson`.

        Returns
        -------
        (x, y)
            One equilibrium, ``(m,)`` and ``(n,)`` float64.

        Raises
        ------
        InvalidGameError
            Not a two-player game, or a label out of range.
        NoEquilibriumFoundError
            The path does not finish within ``max_iter`` pivots.

        Examples
        --------
        >>> bos = NormalFormGame([[3, 0], [0, 2]], [[2, 0], [0, 3]])
        >>> [s.tolist() for s in bos.lemke_howson(label=0)]
        [[1.0, 0.0], [1.0, 0.0]]
        """
        from alchemist.games.lemke_howson import lemke_howson

        return lemke_howson(self, label=label, **kwargs)


def as_game(game, n_players: int | None = None) -> NormalFormGame:
    """Accept a :class:`NormalFormGame` (or the arguments of one) and check the player count.

    Parameters
    ----------
    game : NormalFormGame, tuple of payoff arrays, or one payoff array
    n_players : int, optional
        The number of players the caller needs.

    Returns
    -------
    NormalFormGame

    Raises
    ------
    InvalidGameError
        Invalid payoffs, or a player count other than ``n_players`` (the message names the
        n-player algorithms).

    Examples
    --------
    >>> as_game(([[3, 0], [0, 2]], [[2, 0], [0, 3]]), 2)
    <NormalFormGame: 2 players, 2×2 actions>
    """
    if not isinstance(game, NormalFormGame):
        if isinstance(game, tuple):
            game = NormalFormGame(*game)
        else:
            game = NormalFormGame(game)
    if n_players is not None and game.n_players != n_players:
        raise InvalidGameError(
            f"this algorithm needs a {n_players}-player game; got {game.n_players} players "
            "(use pure_nash, iterated_dominance, fictitious_play or logit_qre for n players)"
        )
    return game


def payoff_range(game: NormalFormGame) -> float:
    """Largest ``max - min`` of a player's payoffs (cached: the payoff arrays are read-only).

    Parameters
    ----------
    game : NormalFormGame

    Returns
    -------
    float
        In payoff units; the algorithms scale their tolerances by it.

    Raises
    ------
    None

    Examples
    --------
    >>> payoff_range(NormalFormGame([[3, 0], [0, 2]], [[2, 0], [0, 3]]))
    3.0
    """
    cached = game.__dict__.get("_payoff_range")
    if cached is None:
        cached = game.__dict__["_payoff_range"] = float(max(np.ptp(a) for a in game.payoffs))
    return cached



def normalized_game(game: NormalFormGame) -> NormalFormGame:
    """The game with each player's payoffs mapped affinely onto [0, 1] (cached).

    Nash equilibria, best responses and supports are invariant under a positive affine map
    ``a * u_p + b`` of each player's payoffs; solving the normalised game makes pivot, feasibility
    and best-response tolerances relative to the payoff scale, so an algorithm gives the same
    answer for ``a * A + b`` as for ``A`` whatever ``a > 0`` and ``b``. A player whose payoffs
    are all equal (indifferent everywhere) gets zeros.

    Parameters
    ----------
    game : NormalFormGame

    Returns
    -------
    NormalFormGame
        Same shape, players and strategy labels; payoffs ``(u_p - min u_p) / (max u_p - min u_p)``.

    Raises
    ------
    None

    Examples
    --------
    >>> g = NormalFormGame([[3e12, 0], [0, 2e12]], [[2, 0], [0, 3]])
    >>> [a.tolist() for a in normalized_game(g).payoffs]
    [[[1.0, 0.0], [0.0, 0.6666666666666666]], [[0.6666666666666666, 0.0], [0.0, 1.0]]]
    """
    cached = game.__dict__.get("_normalized")
    if cached is None:
        arrays = []
        for a in game.payoffs:
            lo, width = float(a.min()), float(np.ptp(a))
            arrays.append((a - lo) / width if width > 0 else np.zeros_like(a))
        given = arrays if len(arrays) == 2 else [arrays]  # NormalFormGame(A, B) or NormalFormGame([P1, ..., Pn])
        cached = NormalFormGame(*given, players=game.players, strategies=game.strategies, title=game.title)
        cached.__dict__["_normalized"] = cached
        game.__dict__["_normalized"] = cached
    return cached

def _fmt_payoff(v: float) -> str:
    return str(int(v)) if float(v).is_integer() and abs(v) < 1e15 else f"{v:.6g}"


def _as_float_array(obj, what: str) -> np.ndarray:
    try:
        arr = np.asarray(obj, dtype=np.float64)
    except (ValueError, TypeError) as exc:
        raise InvalidGameError(
            f"{what} is ragged or not numeric ({exc}); give a rectangular array of numbers"
        ) from None
    if not np.all(np.isfinite(arr)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
        raise InvalidGameError(f"{what} has a non-finite payoff {arr[bad]!r} at index {bad}; payoffs must be finite numbers")
    return arr


def _payoff_arrays(args) -> list:
    if len(args) == 0:
        raise InvalidGameError("no payoffs given; use NormalFormGame(A, B) or NormalFormGame([P1, ..., Pn])")
    if len(args) == 2:
        A = _as_float_array(args[0], "payoff matrix A")
        B = _as_float_array(args[1], "payoff matrix B")
        arrays = [A, B]
    elif len(args) == 1:
        obj = args[0]
        if isinstance(obj, (list, tuple)) and len(obj) > 0 and all(_is_array_like(o) for o in obj) and \
                _looks_like_list_of_payoff_arrays(obj):
            arrays = [_as_float_array(o, f"payoff array of player {p + 1}") for p, o in enumerate(obj)]
        else:
            A = _as_float_array(obj, "payoff matrix A")
            if A.ndim != 2:
                raise InvalidGameError(
                    f"a single payoff array must be a matrix (a zero-sum game); got {A.ndim} dimensions. "
                    "For n players pass a list [P1, ..., Pn] of n-dimensional arrays"
                )
            arrays = [A, -A]
    else:
        raise InvalidGameError(
            f"{len(args)} positional payoff arguments; use NormalFormGame(A, B) for two players or "
            "NormalFormGame([P1, ..., Pn]) for n players"
        )
    n = len(arrays)
    if n < 2:
        raise InvalidGameError(f"a game needs at least 2 players; got {n} payoff array")
    for p, a in enumerate(arrays):
        if a.ndim != n:
            raise InvalidGameError(
                f"payoff array of player {p + 1} has {a.ndim} dimensions but there are {n} players; "
                f"each array must be indexed by the action profile, shape (a_1, ..., a_{n})"
            )
        if a.shape != arrays[0].shape:
            raise InvalidGameError(
                f"payoff array of player {p + 1} has shape {a.shape}, player 1's has {arrays[0].shape}; "
                "all payoff arrays must have the same shape"
            )
    if 0 in arrays[0].shape:
        raise InvalidGameError(f"payoff arrays of shape {arrays[0].shape}: every player needs at least one action")
    out = []
    for a in arrays:
        a = np.array(a, dtype=np.float64, order="C", copy=True)  # never freeze the caller's array
        a.setflags(write=False)
        out.append(a)
    return out


def _is_array_like(o) -> bool:
    return isinstance(o, (list, tuple, np.ndarray))


def _looks_like_list_of_payoff_arrays(obj) -> bool:
    """``[P1, ..., Pn]`` (n arrays of n dims) versus a single nested list matrix ``[[..], [..]]``."""
    n = len(obj)
    try:
        ndims = [np.ndim(o) for o in obj]
    except ValueError:  # ragged inner lists
        return False
    return n >= 2 and ndims[0] >= 2 and all(d == ndims[0] for d in ndims)
