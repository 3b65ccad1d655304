"""NormalFormGame, .nfg files and equilibrium verification."""

from __future__ import annotations

import glob
from fractions import Fraction

import numpy as np
import pytest

from alchemist.errors import InvalidGameError, NFGFormatError
from alchemist.games import NormalFormGame, is_nash, read_nfg, regret, write_nfg
from alchemist.games.nfg import parse_nfg

import pygambit

NFG_FILES = "gambit_games/contrib/games/{}.nfg"


def test_two_and_n_player_construction():
    g = NormalFormGame([[1, 2], [3, 4]], [[5, 6], [7, 8]])
    assert g.shape == (2, 2) and g.n_players == 2
    np.testing.assert_array_equal(g[1, 0], [3, 7])
    z = NormalFormGame([[1, -1], [-1, 1]])
    assert z.is_zero_sum()
    P = np.arange(24, dtype=float).reshape(2, 3, 4)
    g3 = NormalFormGame([P, -P, P * 2])
    assert g3.shape == (2, 3, 4) and g3.n_players == 3
    np.testing.assert_array_equal(g3[1, 2, 3], [23, -23, 46])


@pytest.mark.parametrize(
    "args, match",
    [
        (([[1, 2], [3]], [[1, 2], [3, 4]]), "ragged"),
        (([[1, np.nan], [3, 4]], [[1, 2], [3, 4]]), "non-finite"),
        (([[1, np.inf], [3, 4]], [[1, 2], [3, 4]]), "non-finite"),
        (([[1, 2], [3, 4]], [[1, 2, 3], [3, 4, 5]]), "same shape"),
        (([np.zeros((2, 2, 2)), np.zeros((2, 2, 2))],), "dimensions"),
        (([np.zeros((2, 2)), np.zeros((2, 2)), np.zeros((2, 2))],), "3 players"),
        ((np.zeros((2, 0)), np.zeros((2, 0))), "at least one action"),
        ((np.zeros(3),), "matrix"),
        (([["a", "b"], ["c", "d"]], [[1, 2], [3, 4]]), "not numeric"),
    ],
)
def test_bad_payoffs_raise(args, match):
    with pytest.raises(InvalidGameError, match=match):
        NormalFormGame(*args)


def test_repr_html_escapes_labels():
    g = NormalFormGame([[1, 2], [3, 4]], [[0, 0], [0, 0]], title="<b>x</b> & y",
                       players=["<p1>", "p2"], strategies=[["<script>", "b"], ["c", "d&"]])
    html = g._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "&lt;b&gt;x&lt;/b&gt; &amp; y" in html and "d&amp;" in html
    assert "1, 0" in html and "4, 0" in html
    g3 = NormalFormGame([np.ones((2, 2, 2))] * 3, players=["a<", "b", "c"])
    assert "a&lt;" in g3._repr_html_()


def test_is_nash_tolerance_and_exact():
    mp = NormalFormGame([[1, -1], [-1, 1]])
    half = np.array([0.5, 0.5])
    assert is_nash(mp, (half, half))
    assert not is_nash(mp, (np.array([0.6, 0.4]), half))
    third = Fraction(1, 3)
    rps = NormalFormGame([[0, -1, 1], [1, 0, -1], [-1, 1, 0]])
    assert is_nash(rps, ([third] * 3, [third] * 3), exact=True)
    # 0.3333 is close but not exactly an equilibrium
    approx = np.array([0.3333, 0.3333, 0.3334])
    assert is_nash(rps, (approx, approx), tol=1e-3)
    assert not is_nash(rps, (approx, approx), exact=True)
    assert regret(rps, ([third] * 3, [third] * 3), exact=True).tolist() == [0, 0]
    with pytest.raises(InvalidGameError, match="2 players"):
        is_nash(rps, (approx,))
    with pytest.raises(InvalidGameError, match="probability vector"):
        is_nash(rps, (np.array([1.0, 1.0, 0.0]), approx))


def test_read_nfg_matches_pygambit_on_every_file(shared_data):
    root = shared_data("gambit_games")
    files = sorted(glob.glob(str(root / "**" / "*.nfg"), recursive=True))
    assert len(files) >= 40
    for f in files:
        ours = read_nfg(f)
        theirs = pygambit.read_nfg(f)
        assert ours.title == theirs.title
        # pygambit renames empty labels ("" -> "_1"); we keep the file's labels as written
        same = lambda a, b: a == b or (a == "" and b.startswith("_"))  # noqa: E731
        assert all(map(same, ours.players, [p.label for p in theirs.players]))
        for mine, p in zip(ours.strategies, theirs.players):
            assert all(map(same, mine, [s.label for s in p.strategies]))
        for mine, arr in zip(ours.exact_payoffs, theirs.to_arrays()):
            expected = np.vectorize(lambda r: Fraction(str(r)), otypes=[object])(arr)
            assert (mine == expected).all(), f


def test_outcome_variant_and_round_trip(shared_data, tmp_path):
    pd = read_nfg(shared_data(NFG_FILES.format("pd")))  # outcome variant
    np.testing.assert_array_equal(pd.payoffs[0], [[9, 0], [10, 1]])
    np.testing.assert_array_equal(pd.payoffs[1], [[9, 10], [0, 1]])
    e07 = read_nfg(shared_data(NFG_FILES.format("e07")))  # payoff variant, decimals
    assert e07.exact_payoffs[0][0, 0] == Fraction(38, 5)
    for game in (pd, e07, read_nfg(shared_data(NFG_FILES.format("5x4x3")))):
        for outcomes in (False, True):
            path = tmp_path / f"g{outcomes}.nfg"
            write_nfg(game, path, outcomes=outcomes)
            back = read_nfg(path)
            assert back == game and back.strategies == game.strategies and back.players == game.players
            theirs = pygambit.read_nfg(str(path))
            for mine, arr in zip(game.exact_payoffs, theirs.to_arrays()):
                assert (mine == np.vectorize(lambda r: Fraction(str(r)), otypes=[object])(arr)).all()
    # a float game written without exact payoffs round-trips bit for bit
    g = NormalFormGame(np.random.default_rng(1).random((3, 2)), np.random.default_rng(2).random((3, 2)))
    path = tmp_path / "float.nfg"
    write_nfg(g, path)
    assert read_nfg(path) == g


@pytest.mark.parametrize(
    "text, line, token",
    [
        ('NFX 1 R "t" { "a" "b" } { 2 2 }\n1 2 3 4 5 6 7 8\n', 1, "NFX"),
        ('NFG 1 R "t" { "a" "b" }\n{ 2 2 }\n\n1 2 3 4 5 x 7 8\n', 4, "x"),
        ('NFG 1 R "t" { "a" "b" } { 2 2 }\n1 2 3 4 5 6 7\n', 2, "<end of file>"),
        ('NFG 1 R "t" { "a" "b" } { 2 2 }\n1 2 3 4 5 6 7 8 9\n', 2, "9"),
        ('NFG 1 R "t" { "a" "b" } { { "1" "2" } { "1" } }\n{ { "" 1, 2 } }\n1 1 7\n', 3, "7"),
        ('NFG 1 R "t" { "a" "b" } { { "1" "2" } { "1" } }\n{ { "" 1, 2, 3 } }\n1 1\n', 2, "}"),
        ('NFG 2 R "t" { "a" "b" } { 2 2 }\n', 1, "2"),
        ('NFG 1 R "t" { "a" } { 2 }\n1 2\n', 1, "}"),
    ],
)
def test_malformed_nfg_names_line_and_token(text, line, token):
    with pytest.raises(NFGFormatError) as info:
        parse_nfg(text, path="bad.nfg")
    assert info.value.line == line
    assert f"line {line}" in str(info.value) and repr(token) in str(info.value) and "bad.nfg" in str(info.value)
