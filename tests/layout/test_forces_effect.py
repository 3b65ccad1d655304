"""Each semantic/strategic force at its default strength visibly changes a ForceAtlas2 layout.

The graph is a planted partition (three communities of 60 nodes, p_in = 0.08, p_out = 0.03) laid
out with ForceAtlas2's defaults for 300 iterations from the same seed, with and without the force.
Every measured quantity is computed here from the positions with SciPy (pairwise distances,
rank correlation), independently of the force's code. The factors quoted in the forces'
docstrings and in notebooks/07-documents-and-forces.ipynb are the ones these tests print
(``pytest -s``).
"""

import networkx as nx
import numpy as np
import pytest
from scipy.spatial.distance import pdist, squareform
from scipy.stats import pearsonr, spearmanr

from alchemist.layout import forceatlas2
from alchemist.layout.forces import GroupRepulsion, PairRepulsion, TemporalAttraction, UtilityGradient

SIZES = [60, 60, 60]
N = sum(SIZES)


@pytest.fixture(scope="module")
def graph():
    p = [[0.08, 0.03, 0.03], [0.03, 0.08, 0.03], [0.03, 0.03, 0.08]]
    return nx.stochastic_block_model(SIZES, p, seed=3)


@pytest.fixture(scope="module")
def base(graph):
    return forceatlas2(graph, 300, seed=1)


def layout(graph, force):
    return forceatlas2(graph, 300, seed=1, forces=[force])


def within_between(pos, labels):
    """Mean distance between members of the same group over mean distance across groups."""
    d = squareform(pdist(pos))
    same = labels[:, None] == labels[None, :]
    off = ~np.eye(len(labels), dtype=bool)
    return d[same & off].mean() / d[~same].mean()


def test_category_repulsion_separates_categories(graph, base):
    labels = np.repeat(np.arange(3), SIZES)
    before = within_between(base, labels)
    after = within_between(layout(graph, GroupRepulsion(labels, graph=graph)), labels)
    print(f"category: within/between {before:.3f} -> {after:.3f} (x{after / before:.2f})")
    assert before > 0.8  # ForceAtlas2 alone barely separates such weak communities
    assert after < 0.7 * before


def test_competition_repulsion_pushes_competitors_apart(graph, base):
    edges = np.array(sorted(graph.edges()))
    pairs = edges[np.random.default_rng(5).choice(len(edges), 10, replace=False)]  # competitors that interact

    def pair_ratio(pos):
        return np.linalg.norm(pos[pairs[:, 0]] - pos[pairs[:, 1]], axis=1).mean() / pdist(pos).mean()

    before = pair_ratio(base)
    after = pair_ratio(layout(graph, PairRepulsion(pairs[:, 0], pairs[:, 1], graph=graph)))
    print(f"competition: pair distance / mean distance {before:.3f} -> {after:.3f} (x{after / before:.2f})")
    assert after > 1.5 * before


def test_temporal_attraction_brings_close_timestamps_together(graph, base):
    times = np.random.default_rng(7).uniform(0, 100, N)  # unrelated to the graph
    force = TemporalAttraction(times)  # defaults: k = 10, tau = median neighbour gap, strength = 1
    # temporal neighbours, found here by sorting (not the force's k-d tree): the 5 nearest in time
    order = np.argsort(np.abs(times[:, None] - times[None, :]), axis=1)[:, 1:6]
    rows, cols = np.repeat(np.arange(N), 5), order.ravel()

    def near_ratio(pos):
        return np.linalg.norm(pos[rows] - pos[cols], axis=1).mean() / pdist(pos).mean()

    pos = layout(graph, force)
    before, after = near_ratio(base), near_ratio(pos)
    rho_before = spearmanr(pdist(times[:, None]), pdist(base))[0]
    rho_after = spearmanr(pdist(times[:, None]), pdist(pos))[0]
    print(f"temporal: temporal-neighbour distance / mean distance {before:.3f} -> {after:.3f} "
          f"(x{after / before:.2f}); Spearman(|dt|, distance) {rho_before:.3f} -> {rho_after:.3f}")
    assert after < 0.7 * before
    assert rho_after > rho_before + 0.05


def test_utility_gradient_orders_nodes_along_the_direction(graph, base):
    utility = np.random.default_rng(11).normal(size=N)
    pos = layout(graph, UtilityGradient(utility, graph=graph, direction=(1.0, 0.0)))
    top, bottom = utility > np.quantile(utility, 2 / 3), utility < np.quantile(utility, 1 / 3)

    def shift(p):  # top third's mean x minus bottom third's, in standard deviations of x
        return (p[top, 0].mean() - p[bottom, 0].mean()) / p[:, 0].std()

    r_before, r_after = pearsonr(base[:, 0], utility)[0], pearsonr(pos[:, 0], utility)[0]
    print(f"utility: top-bottom x shift {shift(base):.3f} -> {shift(pos):.3f} sd; "
          f"corr(x, utility) {r_before:.3f} -> {r_after:.3f}")
    assert abs(shift(base)) < 0.5
    assert shift(pos) > 1.0
    assert r_after > 0.5


def test_default_strengths_act_without_graph_through_the_layouts_masses(graph, base):
    """category_repulsion / competition_repulsion at their defaults, given no graph: ForceAtlas2 binds its
    own masses (Force.bind), which are the graph's 1 + degree, so the layout is the one with graph=."""
    from alchemist.concepts.graph import category_repulsion
    from alchemist.games import competition_repulsion

    labels = np.repeat(np.arange(3), SIZES)
    bound = layout(graph, category_repulsion(labels))
    np.testing.assert_array_equal(bound, layout(graph, GroupRepulsion(labels, graph=graph)))
    assert within_between(bound, labels) < 0.7 * within_between(base, labels)
    pairs = np.array(sorted(graph.edges()))[:10]
    np.testing.assert_array_equal(layout(graph, competition_repulsion(pairs)),
                                  layout(graph, PairRepulsion(pairs[:, 0], pairs[:, 1], graph=graph)))
