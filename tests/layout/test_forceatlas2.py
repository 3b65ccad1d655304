"""ForceAtlas2: Barnes–Hut against exact repulsion, forces against hand formulas and the `fa2` package."""

import warnings

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

from alchemist.errors import LayoutError
from alchemist.layout import _attraction, _loop, _repulsion, _tree, force_atlas, forceatlas2, incremental_layout
from alchemist.layout.forces import CallableForce, GroupAttraction

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fa2 import ForceAtlas2


def exact_repulsion(pos, mass, kr, rows=slice(None)):
    """All-pairs ForceAtlas2 repulsion k_r m_i m_j / d along the unit vector on the nodes ``rows``
    (default: all), from every node (NumPy, float64)."""
    d = pos[rows, None, :] - pos[None, :, :]
    d2 = (d**2).sum(axis=2)
    d2[d2 == 0] = np.inf  # the diagonal and coincident pairs exert no force
    return kr * mass[rows, None] * (mass[None, :, None] * d / d2[:, :, None]).sum(axis=1)


def bh_repulsion(pos, mass, theta, kr=2.0):
    n = len(pos)
    ws = _tree.make_workspace(n)
    n_cells = _tree.build_tree(pos, mass, np.zeros(n), theta, *ws)
    codes, order, _s, _t, parent, cells, pts = ws
    force = np.zeros((n, 2))
    groups = _repulsion.group_cells(n_cells, cells)
    _repulsion.repulsion(order, n_cells, parent, cells, pts, groups, theta, kr, False, force, 2)
    return force


@pytest.fixture(scope="module")
def clustered():
    rng = np.random.default_rng(3)
    centres = rng.normal(scale=20, size=(6, 2))
    pos = np.concatenate([c + rng.normal(scale=2, size=(50, 2)) for c in centres])
    mass = 1.0 + rng.integers(0, 10, size=len(pos)).astype(float)
    return pos, mass


def test_barnes_hut_with_theta_zero_is_exact(clustered):
    pos, mass = clustered
    np.testing.assert_allclose(bh_repulsion(pos, mass, 0.0), exact_repulsion(pos, mass, 2.0), rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(bh_repulsion(pos, mass, 1e-3), exact_repulsion(pos, mass, 2.0), rtol=1e-5, atol=1e-9)


def test_barnes_hut_theta_default_within_a_few_percent(clustered):
    pos, mass = clustered
    exact = exact_repulsion(pos, mass, 2.0)
    approx = bh_repulsion(pos, mass, 1.2)
    rel = np.linalg.norm(approx - exact, axis=1) / np.linalg.norm(exact, axis=1)
    assert np.median(rel) < 0.03
    assert np.linalg.norm(approx - exact) / np.linalg.norm(exact) < 0.05


def test_local_expansion_matches_the_series_and_the_field():
    # sources well outside the unit disk, targets inside: the p-term expansion of
    # phi(w) = sum_t m_t / (w - a_t) about 0 is c_k = -sum_t m_t / a_t^(k+1) (NumPy, complex128)
    rng = np.random.default_rng(5)
    a = 3.0 * np.exp(2j * np.pi * rng.random(40)) * (1 + rng.random(40))
    m = 1 + rng.random(40)
    p = _repulsion.EXPANSION_ORDER
    coef = np.zeros(2 * p)
    for at, mt in zip(a, m):
        _repulsion._p2l(coef, at.real, at.imag, mt)
    want = np.array([-(m / a ** (k + 1)).sum() for k in range(p)])
    np.testing.assert_allclose(coef[0::2] + 1j * coef[1::2], want, rtol=1e-12)
    # shifting the centre by delta keeps the polynomial: Q(w') = P(w' + delta)
    delta = 0.3 - 0.2j
    out = np.empty(2 * p)
    _repulsion._shift(coef, delta.real, delta.imag, out)
    w = 0.25 * np.exp(2j * np.pi * rng.random(7))
    P = np.polynomial.polynomial.polyval(w + delta, want)
    Q = np.polynomial.polynomial.polyval(w, out[0::2] + 1j * out[1::2])
    np.testing.assert_allclose(Q, P, rtol=1e-12)
    # and it approximates the field itself within the truncation bound rho^p / (1 - rho) * sum m / |a|
    field = (m[None, :] / (w[:, None] + delta - a[None, :])).sum(axis=1)
    rho = np.abs(w + delta).max() / np.abs(a).min()
    assert np.abs(P - field).max() <= rho**p / (1 - rho) * (m / np.abs(a)).sum()


def test_repulsion_on_a_deep_tree_is_accurate_and_independent_of_the_thread_split():
    # 20,000 clustered points: many levels above the groups, so most far cells go through the
    # local expansions; the forces are compared with the exact all-pairs sum on 300 of them
    rng = np.random.default_rng(7)
    centres = rng.normal(scale=100, size=(40, 2))
    pos = np.concatenate([c + rng.normal(scale=rng.uniform(0.5, 5), size=(500, 2)) for c in centres])
    mass = 1.0 + rng.integers(0, 20, size=len(pos)).astype(float)
    n = len(pos)
    ws = _tree.make_workspace(n)
    n_cells = _tree.build_tree(pos, mass, np.zeros(n), 1.2, *ws)
    codes, order, _s, _t, parent, cells, pts = ws
    groups = _repulsion.group_cells(n_cells, cells)
    forces = []
    for n_threads in (1, 2, 5):  # 8, 16 and 40 chunks of groups: different splits
        force = np.full((n, 2), np.nan)
        _repulsion.repulsion(order, n_cells, parent, cells, pts, groups, 1.2, 2.0, False, force, n_threads)
        forces.append(force)
    np.testing.assert_array_equal(forces[0], forces[1])
    np.testing.assert_array_equal(forces[0], forces[2])
    sample = rng.choice(n, 300, replace=False)
    exact = exact_repulsion(pos, mass, 2.0, sample)
    rel = np.linalg.norm(forces[0][sample] - exact, axis=1) / np.linalg.norm(exact, axis=1)
    # fa2's Barnes-Hut (Gephi's per-node criterion, same theta) on the same points, as the peer
    from fa2 import fa2util

    nodes = []
    for (x, y), m in zip(pos, mass):
        node = fa2util.Node()
        node.mass, node.x, node.y, node.dx, node.dy, node.old_dx, node.old_dy = m, x, y, 0.0, 0.0, 0.0, 0.0
        nodes.append(node)
    region = fa2util.Region(nodes)
    region.buildSubRegions()
    region.applyForceOnNodes(nodes, 1.2, 2.0)
    peer = np.array([[node.dx, node.dy] for node in nodes])[sample]
    rel_peer = np.linalg.norm(peer - exact, axis=1) / np.linalg.norm(exact, axis=1)
    # measured: ours median 0.8%, 99th percentile 6.6%; fa2's 1.5% and 10.8%
    assert np.median(rel) < 0.015
    assert np.median(rel) <= np.median(rel_peer)
    assert np.percentile(rel, 99) <= np.percentile(rel_peer, 99)


def test_barnes_hut_handles_coincident_points():
    pos = np.array([[0.0, 0.0]] * 20 + [[5.0, 5.0]])
    force = bh_repulsion(pos, np.ones(21), 1.2)
    np.testing.assert_allclose(force, exact_repulsion(pos, np.ones(21), 2.0), rtol=1e-9)


def test_attraction_and_gravity_match_hand_formulas():
    # path 0 - 1 - 2 with weights 2 and 0.5; masses 1 + degree = 2, 3, 2; no repulsion (0 cells)
    pos = np.array([[1.0, 0.0], [0.0, 2.0], [-3.0, -4.0]])
    indptr = np.array([0, 1, 3, 4])
    indices = np.array([1, 0, 2, 1], dtype=np.int32)
    weights = np.array([2.0, 2.0, 0.5, 0.5])
    mass = np.array([2.0, 3.0, 2.0])
    gravity = 1.5
    force = np.full((3, 2), np.nan)

    def run(strong, lin_log):
        _attraction.attraction_gravity(
            0, 3, pos, mass, np.zeros(3), indptr, indices, weights, 2.0, gravity, strong, lin_log, False, 1.0,
            False, force,
        )
        return force.copy()

    def attraction(i, j, w, lin_log):
        d = pos[i] - pos[j]
        if lin_log:
            dist = np.linalg.norm(d)
            return -w * np.log1p(dist) / dist * d
        return -w * d

    for lin_log in (False, True):
        expected = np.array([
            attraction(0, 1, 2.0, lin_log),
            attraction(1, 0, 2.0, lin_log) + attraction(1, 2, 0.5, lin_log),
            attraction(2, 1, 0.5, lin_log),
        ])
        weak = expected - gravity * mass[:, None] * pos / np.linalg.norm(pos, axis=1)[:, None]
        np.testing.assert_allclose(run(False, lin_log), weak, rtol=1e-12)
        strong = expected - 2.0 * gravity * mass[:, None] * pos
        np.testing.assert_allclose(run(True, lin_log), strong, rtol=1e-12)
        if not lin_log:  # the branch-free kernel of the default options, same formulas
            for is_strong, want in ((False, weak), (True, strong)):
                force[:] = np.nan
                _attraction.attraction_linear(0, 3, pos, mass, indptr, indices, weights, 2.0, gravity, is_strong, force)
                np.testing.assert_allclose(force, want, rtol=1e-12)


@pytest.mark.parametrize("n", [1, 2, 17, 1000, 30_000])
@pytest.mark.parametrize("threads", [2, 3])
def test_parallel_tree_build_is_identical_to_serial(n, threads):
    # clustered and coincident points, masses and sizes differing per node
    rng = np.random.default_rng(n)
    pos = np.concatenate([rng.normal(size=(n // 2, 2)), 5 + 1e-3 * rng.random((n - n // 2, 2))])
    pos[: min(n, 40) // 2] = pos[min(n, 40) // 2: 2 * (min(n, 40) // 2)]
    mass, size = 1 + rng.random(n), rng.random(n)
    a, b = _tree.make_workspace(n), _tree.make_workspace(n)
    n_a = _tree.build_tree(pos, mass, size, 1.2, *a)
    n_b = _tree.build_tree_parallel(pos, mass, size, 1.2, *b, threads)
    assert n_a == n_b
    for name, x, y in zip(("codes", "order", "cells", "points", "parent"), (a[0], a[1], a[5][:, :n_a], a[6], a[4][:n_a]),
                          (b[0], b[1], b[5][:, :n_b], b[6], b[4][:n_b])):
        np.testing.assert_array_equal(x, y, err_msg=name)


def test_attraction_shares_cover_the_rows_in_balance():
    # rows of 10, 0, 5, 5, 20 entries: cost = entries + 2 per row = 12, 2, 7, 7, 22 (total 50)
    indptr = np.array([0, 10, 10, 15, 20, 40])
    # two threads, nothing else to do: 25 units each; rows 0-3 cost 12 + 2 + 7 = 21 before row 3, 28 before row 4
    np.testing.assert_array_equal(_attraction._row_shares(indptr, 2, 0), [0, 4, 5])
    # thread 0 also builds the tree (head = 30 units): (50 + 30) / 2 = 40 per thread, 10 rows-units for thread 0
    np.testing.assert_array_equal(_attraction._row_shares(indptr, 2, 30), [0, 1, 5])
    # a head larger than a share: thread 0 takes no rows, the other two 25 units each
    np.testing.assert_array_equal(_attraction._row_shares(indptr, 3, 500), [0, 0, 4, 5])
    np.testing.assert_array_equal(_attraction._row_shares(indptr, 1, 30), [0, 5])


def test_tree_and_attraction_agree_across_thread_counts():
    # the parallel-tree path (n >= PARALLEL_TREE_MIN, 2+ threads) and the side-by-side one (1 thread)
    g = nx.barabasi_albert_graph(_tree.PARALLEL_TREE_MIN + 5, 3, seed=2)
    from alchemist.layout._input import as_layout_graph

    lg = as_layout_graph(g)
    n = lg.n_nodes
    pos = np.random.default_rng(1).random((n, 2)) * 100
    mass = 1.0 + lg.degree
    out = {}
    for threads in (1, 2):
        ws, att = _tree.make_workspace(n), np.full((n, 2), np.nan)
        n_cells = _loop.tree_and_attraction(pos, mass, np.zeros(n), 1.2, *ws, lg.indptr, lg.indices, lg.weights, 2.0,
                                            1.0, False, False, False, 1.0, False, att,
                                            _attraction.attraction_shares(lg.indptr, threads))
        out[threads] = (n_cells, ws[5][:, :n_cells].copy(), att)
    assert out[1][0] == out[2][0]
    np.testing.assert_array_equal(out[1][1], out[2][1])
    np.testing.assert_array_equal(out[1][2], out[2][2])
    # and the attraction is the hand formula: sum_j (x_j - x_i) minus gravity m_i x_i / |x_i|
    A = nx.to_scipy_sparse_array(g, nodelist=range(n), format="csr")
    expected = A @ pos - A.sum(axis=1)[:, None] * pos - mass[:, None] * pos / np.linalg.norm(pos, axis=1)[:, None]
    np.testing.assert_allclose(out[2][2], expected, rtol=1e-9, atol=1e-9 * np.abs(expected).max())


def _fa2(graph, pos, iterations, **kw):
    A = nx.to_scipy_sparse_array(graph, weight="weight", format="csr", dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = ForceAtlas2(verbose=False, **kw)
        return np.array(f.forceatlas2(A, pos=pos.copy(), iterations=iterations))


OPTIONS = [
    ({}, {}),
    ({"linLogMode": True}, {"lin_log": True}),
    ({"outboundAttractionDistribution": True}, {"dissuade_hubs": True}),
    ({"strongGravityMode": True, "gravity": 2.0}, {"strong_gravity": True, "gravity": 2.0}),
    ({"adjustSizes": True}, {"prevent_overlap": True}),
    ({"edgeWeightInfluence": 0.5, "scalingRatio": 5.0}, {"edge_weight_influence": 0.5, "scaling_ratio": 5.0}),
]


@pytest.mark.parametrize("graph", [nx.karate_club_graph(), nx.les_miserables_graph()], ids=["karate", "lesmis"])
@pytest.mark.parametrize("fa2_kw, our_kw", OPTIONS, ids=[str(o[1]) or "default" for o in OPTIONS])
def test_iterations_match_fa2_exact_repulsion(graph, fa2_kw, our_kw):
    pos = np.random.default_rng(0).random((graph.number_of_nodes(), 2))
    for iterations in (1, 5):
        ref = _fa2(graph, pos, iterations, barnesHutOptimize=False, **fa2_kw)
        ours = forceatlas2(graph, iterations, theta=0.0, initial_positions=pos, **our_kw)
        np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-5 * np.abs(ref).max())


def test_one_iteration_matches_fa2_barnes_hut():
    graph = nx.les_miserables_graph()
    pos = np.random.default_rng(1).random((graph.number_of_nodes(), 2)) * 100
    ref = _fa2(graph, pos, 1, barnesHutOptimize=True, barnesHutTheta=1.2)
    ours = forceatlas2(graph, 1, theta=1.2, initial_positions=pos)
    moved_ref = np.linalg.norm(ref - pos, axis=1)
    err = np.linalg.norm(ours - ref, axis=1)
    assert np.median(err / moved_ref) < 0.05


def test_seed_makes_it_deterministic():
    g = nx.les_miserables_graph()
    a = forceatlas2(g, 20, seed=7)
    np.testing.assert_array_equal(a, forceatlas2(g, 20, seed=7))
    assert not np.array_equal(a, forceatlas2(g, 20, seed=8))


def test_input_forms_agree():
    g = nx.les_miserables_graph()
    rows = {v: k for k, v in enumerate(g)}
    src = np.array([rows[u] for u, v in g.edges()])
    dst = np.array([rows[v] for u, v in g.edges()])
    w = np.array([d["weight"] for u, v, d in g.edges(data=True)], dtype=float)
    n = g.number_of_nodes()

    class DuckGraph:
        def number_of_nodes(self):
            return n

        def edge_index(self):
            return src, dst, w

    ref = forceatlas2(g, 10, seed=1)
    np.testing.assert_array_equal(forceatlas2((n, src, dst, w), 10, seed=1), ref)
    np.testing.assert_array_equal(forceatlas2(DuckGraph(), 10, seed=1), ref)
    np.testing.assert_array_equal(forceatlas2(nx.to_scipy_sparse_array(g, weight="weight"), 10, seed=1), ref)
    # a directed edge list (both directions) is the same undirected graph with summed weights
    both = (n, np.concatenate([src, dst]), np.concatenate([dst, src]), np.concatenate([w, w]) / 2)
    np.testing.assert_allclose(forceatlas2(both, 10, seed=1), ref, rtol=1e-6)


def test_self_loops_parallel_edges_isolated_and_empty():
    n = 5
    simple = forceatlas2((n, [0, 1], [1, 2], [2.0, 1.0]), 10, seed=3)
    messy = forceatlas2((n, [0, 1, 1, 3, 0], [1, 2, 0, 3, 1], [1.0, 1.0, 0.5, 9.0, 0.5]), 10, seed=3)
    np.testing.assert_allclose(messy, simple, rtol=1e-6)  # self-loop ignored, 0-1 weights summed
    assert np.isfinite(simple).all() and simple.shape == (5, 2) and simple.dtype == np.float32
    empty = forceatlas2((0, [], []), 10)
    assert empty.shape == (0, 2) and empty.dtype == np.float32
    single = forceatlas2((1, [], []), 5, seed=0)
    assert single.shape == (1, 2) and np.isfinite(single).all()


def test_callback_gets_each_iteration():
    seen = []
    out = forceatlas2(nx.karate_club_graph(), 4, seed=0, callback=lambda i, p: seen.append((i, p.copy())))
    assert [i for i, _ in seen] == [0, 1, 2, 3]
    assert seen[0][1].shape == (34, 2) and seen[0][1].dtype == np.float32
    np.testing.assert_array_equal(seen[-1][1], out)


@pytest.mark.parametrize("graph", [nx.karate_club_graph(), nx.barabasi_albert_graph(1500, 4, seed=1)], ids=["karate", "ba1500"])
def test_one_compiled_loop_equals_iteration_by_iteration(graph, monkeypatch):
    # without a callback the iterations run in blocks, one compiled call each (a whole run for
    # these graphs); with one, one call per iteration carries the speed state and the previous
    # forces over: the positions must agree bit for bit (ba1500 runs on the parallel path when
    # there are 2+ threads)
    plain = forceatlas2(graph, 30, seed=3)
    with monkeypatch.context() as m:  # blocks of one iteration each: many compiled calls
        m.setattr(force_atlas, "_BLOCK_SECONDS", 0.0)
        np.testing.assert_array_equal(forceatlas2(graph, 30, seed=3), plain)
    seen = []
    stepped = forceatlas2(graph, 30, seed=3, callback=lambda i, p: seen.append(p))
    np.testing.assert_array_equal(plain, stepped)
    assert len(seen) == 30 and not np.array_equal(seen[0], seen[-1])


def test_extra_force_enters_the_force_sum():
    # one node at (3, 4) with gravity 1: FA2 force = -m g p / |p| = (-0.6, -0.8). An extra force of
    # (0.6, 0.8) cancels it, so the node must not move; without it the node moves toward 0.
    pos = np.array([[3.0, 4.0]])
    moved = forceatlas2((1, [], []), 1, initial_positions=pos)
    assert np.linalg.norm(moved[0]) < 5.0
    held = forceatlas2((1, [], []), 3, initial_positions=pos, forces=[CallableForce(lambda p: np.full_like(p, 0) + [0.6, 0.8])])
    np.testing.assert_allclose(held, pos, rtol=1e-6)


def test_group_attraction_pulls_groups_together():
    g = nx.les_miserables_graph()
    n = g.number_of_nodes()
    labels = np.where(np.arange(n) % 2 == 0, 0, -1)
    free = forceatlas2(g, 60, seed=2)
    pulled = forceatlas2(g, 60, seed=2, forces=[GroupAttraction(labels, strength=20.0)])

    def spread(p):
        members = p[labels == 0]
        return np.linalg.norm(members - members.mean(axis=0), axis=1).mean() / np.linalg.norm(p - p.mean(axis=0), axis=1).mean()

    assert spread(pulled) < 0.7 * spread(free)


def test_fixed_nodes_do_not_move():
    g = nx.karate_club_graph()
    pos = np.random.default_rng(0).random((34, 2))
    fixed = np.zeros(34, bool)
    fixed[:10] = True
    out = forceatlas2(g, 10, initial_positions=pos, fixed=fixed)
    np.testing.assert_array_equal(out[:10], pos[:10].astype(np.float32))
    assert np.all(np.linalg.norm(out[10:] - pos[10:], axis=1) > 0)


def test_incremental_layout_places_new_nodes_near_their_neighbours():
    g = nx.les_miserables_graph()
    nodes = list(g)
    old = forceatlas2(g, 100, seed=0)
    g2 = g.copy()
    g2.add_edges_from([("new", nodes[0]), ("new", nodes[1]), ("new", nodes[2]), ("newer", "new")])
    out = incremental_layout(g2, old, iterations=10, settle="new", seed=0)
    assert out.shape == (len(g2), 2)
    np.testing.assert_array_equal(out[: len(old)], old)  # settle="new": the old layout is untouched
    extent = np.ptp(old, axis=0).max()
    new_row, newer_row = list(g2).index("new"), list(g2).index("newer")
    assert np.linalg.norm(out[new_row] - old[:3].mean(axis=0)) < 0.25 * extent
    assert np.linalg.norm(out[newer_row] - out[new_row]) < 0.25 * extent
    moved = incremental_layout(g2, old, iterations=5, seed=0)  # neighbours of the new nodes settle too
    neighbours = np.zeros(len(g2), bool)
    neighbours[[0, 1, 2]] = True
    assert np.any(moved[:3] != old[:3])
    np.testing.assert_array_equal(moved[: len(old)][~neighbours[: len(old)]], old[~neighbours[: len(old)]])


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: forceatlas2((3, [0], [1], [np.nan])), "weight nan"),
        (lambda: forceatlas2((3, [0], [1], [-1.0])), "weight -1.0"),
        (lambda: forceatlas2((3, [0], [5])), "dst = 5"),
        (lambda: forceatlas2((3, [0, 1], [1])), "equal length"),
        (lambda: forceatlas2((3, [0.5], [1.0])), "integer node rows"),
        (lambda: forceatlas2((3, [0], [1]), initial_positions=[[0, 0], [1, np.nan], [2, 2]]), r"initial_positions\[1\]"),
        (lambda: forceatlas2((3, [0], [1]), initial_positions=np.zeros((2, 2))), r"shape \(2, 2\)"),
        (lambda: forceatlas2((3, [0], [1]), theta=-1), "theta"),
        (lambda: forceatlas2((3, [0], [1]), scaling_ratio=0), "scaling_ratio"),
        (lambda: forceatlas2((3, [0], [1]), iterations=-2), "iterations"),
        (lambda: forceatlas2((3, [0], [1]), node_size=[1, 2]), "node_size"),
        (lambda: forceatlas2((3, [0], [1]), fixed=[1, 0, 0]), "boolean mask"),
        (lambda: forceatlas2((3, [0], [1]), callback=3), "callback"),
        (lambda: forceatlas2([[0, 1]]), "cannot lay out a list"),
        (lambda: forceatlas2(sp.csr_matrix(np.ones((2, 3)))), "square"),
        (lambda: forceatlas2(sp.csr_matrix(np.array([[0, np.nan], [np.nan, 0]]))), "not finite"),
        (lambda: forceatlas2(nx.Graph([(0, 1, {"weight": "heavy"})])), "heavy"),
    ],
)
def test_bad_input_names_the_value(call, message):
    with pytest.raises(LayoutError, match=message):
        call()


def test_alchemist_graph_input():
    import alchemist

    G = nx.les_miserables_graph()
    g = alchemist.Graph.from_networkx(G)
    rows = {str(v): k for k, v in enumerate(G)}
    perm = np.array([rows[i] for i in g.nodes["id"].to_list()])
    start = np.random.default_rng(4).random((len(G), 2))
    ours = forceatlas2(g, 10, initial_positions=start[perm])
    ref = forceatlas2(G, 10, initial_positions=start)
    np.testing.assert_allclose(ours, ref[perm], rtol=1e-6)


def test_quality_matches_fa2_on_ego_facebook(shared_data):
    from alchemist.layout.metrics import neighborhood_preservation

    edges = np.loadtxt(shared_data("snap_graphs/facebook_combined.txt"), dtype=np.int64)
    n = int(edges.max()) + 1
    graph = (n, edges[:, 0], edges[:, 1])
    A = sp.coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(n, n)).tocsr()
    A = ((A + A.T) > 0).astype(float).tocsr()
    start = np.random.default_rng(0).random((n, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = np.array(ForceAtlas2(verbose=False).forceatlas2(A, pos=start.copy(), iterations=30))
    ours = forceatlas2(graph, 30, initial_positions=start)
    assert np.isfinite(ours).all() and np.ptp(ours, axis=0).max() < 3 * np.ptp(ref, axis=0).max()
    assert neighborhood_preservation(graph, ours) >= 0.95 * neighborhood_preservation(graph, ref)


def test_layout_csr_matches_scipy():
    # the O(n + m) CSR builder against SciPy: self-loops dropped, both directions merged, weights summed
    from alchemist.layout._input import as_layout_graph

    rng = np.random.default_rng(5)
    n, m = 60, 500
    src, dst, w = rng.integers(0, n, m), rng.integers(0, n, m), rng.random(m)
    g = as_layout_graph((n, src, dst, w))
    keep = src != dst
    A = sp.coo_matrix((w[keep], (src[keep], dst[keep])), shape=(n, n)).tocsr()
    S = (A + A.T).tocsr()
    S.sum_duplicates()
    S.sort_indices()
    np.testing.assert_array_equal(g.indptr, S.indptr)
    np.testing.assert_array_equal(g.indices, S.indices)
    np.testing.assert_allclose(g.weights, S.data, rtol=1e-12)
    upper = sp.triu(S, k=1).tocoo()
    np.testing.assert_array_equal(np.column_stack([g.src, g.dst]), np.column_stack([upper.row, upper.col]))


def test_any_array_layout_and_dtype_reach_the_kernels_cast():
    # the CPU kernels are compiled once with explicit float64/int64 C-contiguous signatures (issue 15): a
    # Fortran-order start, a strided node_size and int32 rows with integer weights are cast at the boundary
    # and give the positions of the same call with contiguous float64 arrays
    rng = np.random.default_rng(7)
    n = 60
    src = rng.integers(0, n, 200).astype(np.int32)
    dst = rng.integers(0, n, 200).astype(np.int32)
    weight = rng.integers(1, 4, 200)
    start = np.asfortranarray(rng.random((n, 2)))
    sizes = np.repeat(rng.random(n) + 0.1, 2)[::2]
    assert not start.flags.c_contiguous and not sizes.flags.c_contiguous
    got = forceatlas2((n, src, dst, weight), 20, initial_positions=start, node_size=sizes, prevent_overlap=True,
                      backend="cpu")
    want = forceatlas2((n, src.astype(np.int64), dst.astype(np.int64), weight.astype(np.float64)), 20,
                       initial_positions=np.ascontiguousarray(start), node_size=np.ascontiguousarray(sizes),
                       prevent_overlap=True, backend="cpu")
    np.testing.assert_array_equal(got, want)
