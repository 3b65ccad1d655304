"""Read and write Gambit's ``.nfg`` strategic-form game files.

Both variants of the format are supported: the *payoff* variant (a flat list of payoffs, every
player's payoff at each profile, player 1's action changing fastest) and the *outcome* variant
(a list of named outcomes followed by one outcome number per profile, 0 meaning the null outcome
with zero payoffs). Payoffs are parsed as exact rationals (integers, decimals such as ``7.6``,
fractions such as ``3/2``), kept in :attr:`NormalFormGame.exact_payoffs`.

Reference: The Gambit Project, "Game representation formats",
https://gambitproject.readthedocs.io/en/latest/formats.html (strategic games, ``.nfg``).
"""

from __future__ import annotations

import os
import re
from fractions import Fraction

import numpy as np

from alchemist.errors import InvalidGameError, NFGFormatError
from alchemist.games._base import NormalFormGame

__all__ = ["read_nfg", "write_nfg", "parse_nfg"]


def read_nfg(path) -> NormalFormGame:
    """Read a Gambit ``.nfg`` file (payoff or outcome variant).

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    NormalFormGame
        With the file's title, player names and strategy labels, float64 payoffs and exact
        rational payoffs (:attr:`NormalFormGame.exact_payoffs`).

    Raises
    ------
    NFGFormatError
        If the file is malformed; the message names the file, the 1-based line and the token.
    FileNotFoundError
        If the file does not exist.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from alchemist.games import NormalFormGame
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = pathlib.Path(tmp) / "bos.nfg"
    ...     write_nfg(NormalFormGame([[3, 0], [0, 2]], [[2, 0], [0, 3]]), path)
    ...     game = read_nfg(path)
    >>> game.payoffs[1].tolist(), game.exact_payoffs[0][0, 0]
    ([[2.0, 0.0], [0.0, 3.0]], Fraction(3, 1))
    """
    path = os.fspath(path)
    with open(path, encoding="utf-8", errors="replace") as fh:
        text = fh.read()
    return parse_nfg(text, path=path)


def write_nfg(game: NormalFormGame, path, outcomes: bool = False) -> None:
    """Write ``game`` as a Gambit ``.nfg`` file.

    Parameters
    ----------
    game : NormalFormGame
    path : str or os.PathLike
    outcomes : bool
        Write the outcome variant (one named outcome per distinct payoff vector, then the outcome
        number of each profile) instead of the flat payoff list.

    Returns
    -------
    None

    Raises
    ------
    OSError
        The file cannot be written.

    Notes
    -----
    Payoffs are written exactly: from :attr:`NormalFormGame.exact_payoffs` when the game was read
    from a file, else as the shortest decimal that round-trips the float (``repr``).

    Examples
    --------
    See :func:`read_nfg` (a round trip) and :func:`format_nfg` (the text).
    """
    with open(os.fspath(path), "w", encoding="utf-8") as fh:
        fh.write(format_nfg(game, outcomes=outcomes))


def format_nfg(game: NormalFormGame, outcomes: bool = False) -> str:
    """The text of :func:`write_nfg` as a string.

    Parameters
    ----------
    game : NormalFormGame
    outcomes : bool
        Write the outcome variant (see :func:`write_nfg`).

    Returns
    -------
    str
        Gambit's NFG version 1 format (``NFG 1 R "title" { players } ...``), payoffs listed with
        player 1's action varying fastest, as Gambit orders them.

    Raises
    ------
    None

    Examples
    --------
    >>> from alchemist.games import NormalFormGame
    >>> print(format_nfg(NormalFormGame([[3, 0], [0, 2]], [[2, 0], [0, 3]])).splitlines()[-1])
    3 2 0 0 0 0 2 3
    """
    q = _quote
    lines = [f"NFG 1 R {q(game.title)} {{ {' '.join(q(p) for p in game.players)} }}", ""]
    lines.append("{ " + "\n".join("{ " + " ".join(q(s) for s in labels) + " }" for labels in game.strategies) + "\n}")
    lines.append('""')
    lines.append("")
    if game._exact is not None:
        cols = [np.ravel(e, order="F") for e in game._exact]
        fmt = _fmt_exact
    else:
        cols = [np.ravel(a, order="F") for a in game.payoffs]
        fmt = _fmt_float
    n_profiles = len(cols[0])
    if not outcomes:
        lines.append(" ".join(fmt(c[k]) for k in range(n_profiles) for c in cols))
    else:
        index: dict = {}
        numbers = []
        for k in range(n_profiles):
            key = tuple(fmt(c[k]) for c in cols)
            numbers.append(index.setdefault(key, len(index) + 1))
        lines.append("{")
        for key in index:
            lines.append('{ "" ' + ", ".join(key) + " }")
        lines.append("}")
        lines.append(" ".join(map(str, numbers)))
    return "\n".join(lines) + "\n"


def parse_nfg(text: str, path: str | None = None) -> NormalFormGame:
    """Parse the text of a ``.nfg`` file (see :func:`read_nfg`).

    Parameters
    ----------
    text : str
        The file's contents.
    path : str, optional
        Named in error messages (``<string>`` when None).

    Returns
    -------
    NormalFormGame
        With exact rational payoffs (:attr:`NormalFormGame.exact_payoffs`).

    Raises
    ------
    NFGFormatError
        Malformed text; the message names the 1-based line and the token.

    Examples
    --------
    >>> game = parse_nfg('NFG 1 R "PD" { "A" "B" } { 2 2 }  3 3  5 0  0 5  1 1')
    >>> game.title, game.payoffs[0].tolist()
    ('PD', [[3.0, 0.0], [5.0, 1.0]])
    """
    tokens = _Tokens(text, path)
    tokens.expect_word("NFG")
    version = tokens.next()
    if version.value != "1":
        tokens.fail(version, "unsupported NFG version; expected 1")
    kind = tokens.next()
    if kind.value not in ("D", "R"):
        tokens.fail(kind, "expected the number type D or R after 'NFG 1'")
    title = tokens.expect_string()
    tokens.expect("{")
    players = []
    while tokens.peek().value != "}":
        players.append(tokens.expect_string())
    tokens.next()
    if len(players) < 2:
        tokens.fail(tokens.last, f"the game has {len(players)} player(s); an .nfg game needs at least 2")
    tokens.expect("{")
    strategies: list = []
    if tokens.peek().value == "{":
        for _ in players:
            tokens.expect("{")
            labels = []
            while tokens.peek().value != "}":
                labels.append(tokens.expect_string())
            tokens.next()
            if not labels:
                tokens.fail(tokens.last, "a player has no strategies")
            strategies.append(labels)
        tokens.expect("}")
    else:
        counts = []
        while tokens.peek().value != "}":
            tok = tokens.next()
            if not re.fullmatch(r"\d+", tok.value) or int(tok.value) < 1:
                tokens.fail(tok, "expected a positive number of strategies")
            counts.append(int(tok.value))
        tokens.next()
        if len(counts) != len(players):
            tokens.fail(tokens.last, f"{len(counts)} strategy counts for {len(players)} players")
        strategies = [[str(s + 1) for s in range(c)] for c in counts]
    if len(strategies) != len(players):
        tokens.fail(tokens.last, f"{len(strategies)} strategy lists for {len(players)} players")
    if not tokens.at_end() and tokens.peek().kind == "string":
        tokens.next()  # the optional comment
    shape = tuple(len(s) for s in strategies)
    n_players = len(players)
    n_profiles = int(np.prod(shape))
    if not tokens.at_end() and tokens.peek().value == "{":
        flat = _parse_outcomes(tokens, n_players, n_profiles)
    else:
        flat = []
        for _ in range(n_profiles * n_players):
            flat.append(tokens.expect_number())
    if not tokens.at_end():
        tokens.fail(tokens.peek(), f"unexpected token after the {n_profiles} profiles")
    exact = np.empty((n_profiles, n_players), dtype=object)
    for k in range(n_profiles):
        for p in range(n_players):
            exact[k, p] = flat[k * n_players + p]
    exact_arrays = [exact[:, p].reshape(shape, order="F") for p in range(n_players)]
    floats = [np.array(e, dtype=np.float64) for e in exact_arrays]
    try:
        return NormalFormGame(floats, players=players, strategies=strategies, title=title, exact_payoffs=exact_arrays)
    except InvalidGameError as exc:  # e.g. a payoff too large for float64
        raise NFGFormatError(f"{path or '<string>'}: {exc}", path=path) from None


# ---------------------------------------------------------------------------- helpers
class _Token:
    __slots__ = ("kind", "value", "line")

    def __init__(self, kind, value, line):
        self.kind, self.value, self.line = kind, value, line


_TOKEN_RE = re.compile(r'\s+|"((?:[^"\\]|\\.)*)"|([{}])|(,)|([^\s{}",]+)', re.S)


class _Tokens:
    def __init__(self, text: str, path: str | None):
        self.path = path
        self.items: list = []
        line = 1
        pos = 0
        while pos < len(text):
            m = _TOKEN_RE.match(text, pos)
            if m is None:  # an unterminated quote
                raise NFGFormatError(
                    f"{path or '<string>'}, line {line}: unterminated string starting {text[pos:pos + 20]!r}",
                    path=path, line=line,
                )
            s, br, comma, word = m.group(1), m.group(2), m.group(3), m.group(4)
            if s is not None:
                self.items.append(_Token("string", s.replace('\\"', '"').replace("\\\\", "\\"), line))
            elif br is not None:
                self.items.append(_Token("brace", br, line))
            elif word is not None:
                self.items.append(_Token("word", word, line))
            line += m.group(0).count("\n")
            pos = m.end()
        self.end_line = self.items[-1].line if self.items else line  # report EOF at the last token
        self.i = 0
        self.last = _Token("eof", "<end of file>", line)

    def at_end(self) -> bool:
        return self.i >= len(self.items)

    def peek(self) -> _Token:
        if self.at_end():
            return _Token("eof", "<end of file>", self.end_line)
        return self.items[self.i]

    def next(self) -> _Token:
        tok = self.peek()
        if tok.kind == "eof":
            self.fail(tok, "the file ends too early")
        self.i += 1
        self.last = tok
        return tok

    def fail(self, tok: _Token, message: str):
        raise NFGFormatError(
            f"{self.path or '<string>'}, line {tok.line}, token {tok.value!r}: {message}", path=self.path, line=tok.line
        )

    def expect(self, value: str) -> _Token:
        tok = self.next()
        if tok.value != value or tok.kind == "string":
            self.fail(tok, f"expected {value!r}")
        return tok

    def expect_word(self, value: str) -> _Token:
        tok = self.next()
        if tok.value != value:
            self.fail(tok, f"expected {value!r} (is this a Gambit .nfg file?)")
        return tok

    def expect_string(self) -> str:
        tok = self.next()
        if tok.kind != "string":
            self.fail(tok, "expected a quoted string")
        return tok.value

    def expect_number(self) -> Fraction:
        tok = self.next()
        if tok.kind != "word":
            self.fail(tok, "expected a number (payoff)")
        try:
            return Fraction(tok.value)
        except (ValueError, ZeroDivisionError):
            self.fail(tok, "expected a number (payoff)")


def _parse_outcomes(tokens: _Tokens, n_players: int, n_profiles: int) -> list:
    tokens.expect("{")
    outcomes = [[Fraction(0)] * n_players]  # outcome 0: the null outcome
    while tokens.peek().value != "}":
        tokens.expect("{")
        tokens.expect_string()
        pay = []
        while tokens.peek().value != "}":
            pay.append(tokens.expect_number())
        close = tokens.next()
        if len(pay) != n_players:
            tokens.fail(close, f"outcome {len(outcomes)} has {len(pay)} payoffs; the game has {n_players} players")
        outcomes.append(pay)
    tokens.next()
    flat = []
    for _ in range(n_profiles):
        tok = tokens.next()
        if not re.fullmatch(r"\d+", tok.value) or int(tok.value) >= len(outcomes):
            tokens.fail(tok, f"expected an outcome number between 0 and {len(outcomes) - 1}")
        flat.extend(outcomes[int(tok.value)])
    return flat


def _quote(s: str) -> str:
    return '"' + str(s).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _fmt_exact(v) -> str:
    v = Fraction(v)
    return str(v.numerator) if v.denominator == 1 else f"{v.numerator}/{v.denominator}"


def _fmt_float(v: float) -> str:
    v = float(v)
    return str(int(v)) if v.is_integer() and abs(v) < 2**53 else repr(v)
