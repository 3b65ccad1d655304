"""Layout metrics against hand cases and independent brute-force computations."""

import itertools

import networkx as nx
import numpy as np
import pytest

from alchemist.errors import LayoutError
from alchemist.layout.metrics import edge_crossings, neighborhood_preservation, stress


def test_neighborhood_preservation_hand_cases():
    path = (3, [0, 1], [1, 2])
    assert neighborhood_preservation(path, [[0, 0], [1, 0], [2, 0]]) == 1.0
    # nodes at x = 0, 3, 1: node 0's nearest is 2 (its neighbour is 1) -> 0; node 1's two nearest
    # are {2, 0} = its neighbours -> 1; node 2's nearest is 0 (its neighbour is 1) -> 0
    assert neighborhood_preservation(path, [[0, 0], [3, 0], [1, 0]]) == pytest.approx(1 / 3)
    # isolated nodes are left out; k fixed
    assert neighborhood_preservation((4, [0], [1]), [[0, 0], [1, 0], [5, 5], [9, 9]], k=1) == 1.0


def test_neighborhood_preservation_against_brute_force():
    g = nx.karate_club_graph()
    pos = np.random.default_rng(1).random((34, 2))
    d = np.linalg.norm(pos[:, None] - pos[None], axis=2)
    np.fill_diagonal(d, np.inf)
    scores = []
    for i, node in enumerate(g):
        nb = {list(g).index(v) for v in g[node]}
        near = set(np.argsort(d[i])[: len(nb)])
        scores.append(len(nb & near) / len(nb | near))
    assert neighborhood_preservation(g, pos) == pytest.approx(np.mean(scores))


def test_stress_is_zero_for_an_isometric_layout_at_any_scale():
    path = (5, [0, 1, 2, 3], [1, 2, 3, 4])
    line = np.array([[i, 0.0] for i in range(5)])
    assert stress(path, line, n_pivots=5) == pytest.approx(0.0, abs=1e-12)
    assert stress(path, 3.0 * line + 7.0, n_pivots=5) == pytest.approx(0.0, abs=1e-12)


def test_stress_against_networkx_distances():
    g = nx.karate_club_graph()
    pos = np.random.default_rng(2).random((34, 2))
    nodes = list(g)
    d, x = [], []
    lengths = dict(nx.all_pairs_shortest_path_length(g))
    for i, j in itertools.product(range(34), range(34)):
        if i != j:
            d.append(lengths[nodes[i]][nodes[j]])
            x.append(np.linalg.norm(pos[i] - pos[j]))
    d, x = np.array(d, float), np.array(x)
    s = np.sum(x / d) / np.sum(x**2 / d**2)
    expected = np.mean((s * x - d) ** 2 / d**2)
    assert stress(g, pos, n_pivots=34, seed=0) == pytest.approx(expected, rel=1e-9)


def test_edge_crossings_hand_case_and_sampling():
    k4 = nx.complete_graph(4)
    square = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], float)
    assert edge_crossings(k4, square, sample=None) == 1.0  # only the two diagonals cross
    g = nx.gnm_random_graph(60, 150, seed=3)
    pos = np.random.default_rng(3).random((60, 2))
    edges = list(g.edges())

    def cross(e, f):
        if set(e) & set(f):
            return False
        p1, p2, q1, q2 = pos[e[0]], pos[e[1]], pos[f[0]], pos[f[1]]
        o = lambda a, b, c: np.sign((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]))
        return o(p1, p2, q1) * o(p1, p2, q2) < 0 and o(q1, q2, p1) * o(q1, q2, p2) < 0

    exact = sum(cross(e, f) for e, f in itertools.combinations(edges, 2))
    assert edge_crossings(g, pos, sample=None) == exact
    assert edge_crossings(g, pos, sample=200_000, seed=1) == pytest.approx(exact, rel=0.05)


def test_metrics_bad_input():
    with pytest.raises(LayoutError, match="shape"):
        neighborhood_preservation((3, [0], [1]), np.zeros((2, 2)))
    with pytest.raises(LayoutError, match=r"positions\[1\]"):
        stress((3, [0], [1]), [[0, 0], [np.nan, 0], [1, 1]])
    with pytest.raises(LayoutError, match="k = 0"):
        neighborhood_preservation((3, [0], [1]), np.zeros((3, 2)), k=0)
    with pytest.raises(LayoutError, match="sample"):
        edge_crossings((3, [0], [1]), np.zeros((3, 2)), sample=0)
