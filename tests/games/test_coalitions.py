"""Hedonic games on graphs: merge-and-split, stability (against brute-force definitions),
layout forces and events."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest

from alchemist.errors import InvalidGameError
from alchemist.games import (
    coalition_attraction,
    coalition_events,
    competition_repulsion,
    hedonic_game,
    is_core_stable,
    is_individually_stable,
    is_nash_stable,
    merge_and_split,
)


def two_camps():
    g = nx.Graph()
    for a, b in itertools.combinations("abc", 2):
        g.add_edge(a, b, weight=2.0)
    for a, b in itertools.combinations("xyz", 2):
        g.add_edge(a, b, weight=1.5)
    g.add_edge("a", "x", weight=-3.0)
    g.add_edge("c", "z", weight=-1.0)
    return g


def brute_core_stable(W, labels):
    n = len(labels)
    u = np.array([sum(W[i, j] for j in range(n) if labels[j] == labels[i] and j != i) for i in range(n)])
    for r in range(1, n + 1):
        for S in itertools.combinations(range(n), r):
            if all(sum(W[i, j] for j in S if j != i) > u[i] for i in S):
                return False
    return True


def test_merge_and_split_finds_the_two_camps():
    game = hedonic_game(two_camps())
    labels = merge_and_split(game)
    ids = game.node_ids
    camps = {frozenset(ids[i] for i in np.flatnonzero(labels == c)) for c in np.unique(labels)}
    assert camps == {frozenset("abc"), frozenset("xyz")}
    assert is_nash_stable(game, labels) and is_individually_stable(game, labels) and is_core_stable(game, labels)
    # from the grand coalition, splitting off the camps helps a, x, c, z and hurts nobody
    start = merge_and_split(game, np.zeros(6, dtype=np.int64))
    assert {frozenset(ids[i] for i in np.flatnonzero(start == c)) for c in np.unique(start)} == camps


def test_stability_checks_match_definitions_on_random_graphs():
    rng = np.random.default_rng(2)
    for trial in range(8):
        n = 7
        W = np.zeros((n, n))
        g = nx.Graph()
        g.add_nodes_from(range(n))
        for i, j in itertools.combinations(range(n), 2):
            if rng.random() < 0.5:
                w = float(rng.integers(-3, 4))
                g.add_edge(i, j, weight=w)
                W[i, j] = W[j, i] = w
        game = hedonic_game(g)
        labels = rng.integers(0, 3, size=n)
        assert is_core_stable(game, labels) == brute_core_stable(W, labels)
        u = np.array([sum(W[i, j] for j in range(n) if labels[j] == labels[i] and j != i) for i in range(n)])
        nash = all(u[i] >= 0 for i in range(n)) and all(
            sum(W[i, j] for j in range(n) if labels[j] == c) <= u[i] for i in range(n) for c in set(labels) if c != labels[i])
        assert is_nash_stable(game, labels) == nash
        final = merge_and_split(game, labels)
        # merge-and-split outcomes are never Pareto-improvable by one merge of two coalitions
        for a, b in itertools.combinations(np.unique(final), 2):
            A, B = np.flatnonzero(final == a), np.flatnonzero(final == b)
            ga = [W[i, B].sum() for i in A]
            gb = [W[i, A].sum() for i in B]
            assert not (min(ga + gb) >= 0 and max(ga + gb) > 0)


def test_edge_index_graph_object():
    class Tiny:
        directed = False

        def edge_index(self):
            return np.array([0, 1]), np.array([1, 2]), np.array([1.0, 1.0])

        def number_of_nodes(self):
            return 4

    game = hedonic_game(Tiny())
    labels = merge_and_split(game)
    assert labels[0] == labels[1] == labels[2] != labels[3]
    with pytest.raises(InvalidGameError, match="networkx"):
        hedonic_game(object())


def test_layout_forces():
    import alchemist.layout.forces as forces
    att = coalition_attraction([[0, 1], [2, 3]], 5, strength=2.0)
    assert isinstance(att, forces.GroupAttraction)
    np.testing.assert_array_equal(att.labels, [0, 0, 1, 1, -1])
    pos = np.array([[0, 0], [2, 0], [0, 4], [0, 6], [9, 9]], dtype=np.float32)
    f = att(pos) if callable(att) else att.compute(pos)
    np.testing.assert_allclose(np.asarray(f)[0], [2.0, 0.0])  # pulled toward the centroid (1, 0)
    rep = competition_repulsion([[0, 4]], strength=1.0)
    assert isinstance(rep, forces.PairRepulsion)
    with pytest.raises(InvalidGameError, match="two coalitions"):
        coalition_attraction([[0, 1], [1, 2]], 3)


def test_coalition_events_payloads():
    events = coalition_events("g1", {"camp-a": ["a", "b"], "camp-x": ["x"]}, values={"camp-a": 4.0},
                              strategies={"a": "cooperate"}, utilities={"a": 2.0})
    kinds = [e["event_type"] for e in events]
    assert kinds == ["coalition_formed", "coalition_formed", "strategy_assigned", "utility_updated"]
    assert events[0]["payload"] == {"coalition_id": "camp-a", "members": ["a", "b"], "value": 4.0}
    assert events[1]["payload"]["value"] is None
    assert events[2]["payload"] == {"node_id": "a", "strategy": "cooperate"}
    assert events[3]["payload"] == {"node_id": "a", "utility": 2.0}
    assert all(e["aggregate_id"] == "g1" for e in events)
    with pytest.raises(InvalidGameError, match="graph_id"):
        coalition_events("", [])
