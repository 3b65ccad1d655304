"""Louvain's batched parallel local moving (``_louvain_kernels.louvain_move`` on levels of
``PARALLEL_MIN_ENTRIES`` adjacency entries or more): the same result on every thread count, a true local
optimum, the gain it reports, and modularity against NetworkX and a planted partition."""

from __future__ import annotations

import networkx as nx
import numba
import numpy as np
import pytest

from alchemist.events import new_event
from alchemist.graph import Graph, louvain, modularity
from alchemist.graph import _leiden_kernels, _louvain, _louvain_kernels as kernels


def _planted(seed, groups=250, size=100, k_in=8, k_out=2):
    """``groups × size`` nodes; each node draws ``k_in`` partners in its group and ``k_out`` anywhere."""
    rng = np.random.default_rng(seed)
    n = groups * size
    src = np.repeat(np.arange(n), k_in + k_out)
    group = src // size
    inside = group * size + rng.integers(0, size, src.shape[0])
    anywhere = rng.integers(0, n, src.shape[0])
    dst = np.where(np.tile(np.arange(k_in + k_out) < k_in, n), inside, anywhere)
    keep = src != dst
    return n, src[keep], dst[keep], np.arange(n) // size


def _level0(n, src, dst):
    w = np.ones(src.shape[0])
    return kernels.louvain_adjacency(src, dst, w, n)


def _nx_graph(n, src, dst):
    G = nx.MultiGraph()
    G.add_nodes_from(range(n))
    G.add_edges_from(zip(src.tolist(), dst.tolist()))
    return G


def _sets(labels):
    return [set(np.flatnonzero(labels == c).tolist()) for c in np.unique(labels)]


def test_parallel_move_is_the_same_on_one_and_two_threads():
    n, src, dst, _ = _planted(0)
    assert 2 * src.shape[0] >= kernels.PARALLEL_MIN_ENTRIES
    indptr, indices, data, k = _level0(n, src, dst)
    order = np.random.default_rng(3).permutation(n)
    before = numba.get_num_threads()
    try:
        results = []
        for threads in (1, 2):
            numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
            results.append(kernels.louvain_move(indptr, indices, data, k, np.arange(n), order, 1.0, float(k.sum())))
    finally:
        numba.set_num_threads(before)
    assert np.array_equal(results[0][0], results[1][0])
    assert results[0][1] == results[1][1]


def test_parallel_move_ends_in_a_local_optimum_and_reports_its_gain():
    n, src, dst, _ = _planted(1)
    indptr, indices, data, k = _level0(n, src, dst)
    m2 = float(k.sum())
    comm, gained = kernels.louvain_move(indptr, indices, data, k, np.arange(n),
                                        np.random.default_rng(0).permutation(n), 1.0, m2)
    G = _nx_graph(n, src, dst)
    q_before = nx.community.modularity(G, [{v} for v in range(n)])
    q_after = nx.community.modularity(G, _sets(comm))
    assert gained == pytest.approx(q_after - q_before, abs=1e-9)
    # a local optimum up to the fast local move's known slack (a node is not queued again when a
    # non-neighbour leaves a community next to it): few nodes gain by moving, and only a trifle
    tot = np.bincount(comm, weights=k, minlength=n)
    worst = 0.0
    movable = 0
    for i in range(n):
        nbrs = indices[indptr[i]:indptr[i + 1]]
        w_to = {}
        for nb, x in zip(nbrs.tolist(), data[indptr[i]:indptr[i + 1]].tolist()):
            w_to[comm[nb]] = w_to.get(comm[nb], 0.0) + x
        ci = comm[i]
        stay = w_to.get(ci, 0.0) - (tot[ci] - k[i]) * k[i] / m2
        best = max([(x - tot[c] * k[i] / m2) - stay for c, x in w_to.items() if c != ci], default=0.0)
        movable += best > 1e-9
        worst = max(worst, best / k[i])
    assert movable <= 0.005 * n
    assert worst <= 0.01


def test_louvain_finds_the_planted_partition_on_a_parallel_level():
    n, src, dst, planted = _planted(2)
    g = Graph.from_arrays(src, dst, node_ids=[str(i) for i in range(n)])
    ours = louvain(g, seed=0)
    G = _nx_graph(n, src, dst)
    q_planted = nx.community.modularity(G, _sets(planted))
    q_ours = nx.community.modularity(G, _sets(ours))
    assert q_ours >= q_planted - 0.005  # a heuristic: about as good as the planted partition
    assert modularity(g, ours) == pytest.approx(q_ours, abs=1e-9)
    # the planted groups are found: almost every pair of nodes of a group ends in one community
    same = np.mean([np.bincount(ours[planted == c]).max() / 100 for c in range(250)])
    assert same > 0.95


@pytest.mark.parametrize("make", [nx.karate_club_graph, nx.les_miserables_graph, nx.florentine_families_graph,
                                  lambda: nx.connected_caveman_graph(12, 6)])
def test_batched_moves_stay_within_the_tolerance_of_networkx(monkeypatch, make):
    # small graphs through the batched path (batches of 4 nodes), against NetworkX's Louvain
    monkeypatch.setattr(kernels, "PARALLEL_MIN_ENTRIES", 1)
    monkeypatch.setattr(kernels, "BATCH_MIN", 4)
    G = nx.Graph(nx.convert_node_labels_to_integers(make()))
    nx.set_edge_attributes(G, 1.0, "weight")
    g = Graph.from_edges([(str(a), str(b)) for a, b in G.edges()])
    ids = [int(x) for x in g.node_ids]
    labels = louvain(g, seed=0, weight=None)
    ours = nx.community.modularity(G, [{ids[i] for i in np.flatnonzero(labels == c)} for c in np.unique(labels)])
    theirs = nx.community.modularity(G, nx.community.louvain_communities(G, seed=0))
    assert ours >= theirs - 0.02


def test_parallel_aggregate_is_the_same_on_one_and_two_threads_and_keeps_modularity():
    n, src, dst, planted = _planted(3)
    indptr, indices, data, k = _level0(n, src, dst)
    assert indices.shape[0] >= kernels.PARALLEL_MIN_ENTRIES
    c = int(planted.max()) + 1
    before = numba.get_num_threads()
    try:
        results = []
        for threads in (1, 2):
            numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
            results.append(kernels.louvain_aggregate(indptr, indices, data, planted, c))
    finally:
        numba.set_num_threads(before)
    assert all(np.array_equal(a, b) for a, b in zip(*results))
    optr, oind, odata, kk = results[0]
    # the singleton partition of the aggregate has the planted partition's modularity (NetworkX's)
    m2 = float(k.sum())
    inner = sum(odata[j] for a in range(c) for j in range(optr[a], optr[a + 1]) if oind[j] == a)
    q = inner / m2 - ((kk / m2) ** 2).sum()
    assert q == pytest.approx(nx.community.modularity(_nx_graph(n, src, dst), _sets(planted)), abs=1e-9)
    assert kk == pytest.approx(np.bincount(planted, weights=k, minlength=c))


def test_parallel_adjacency_is_the_same_on_one_and_two_threads_and_is_a_plus_a_transposed():
    n, src, dst, _ = _planted(4)
    src = np.concatenate([src, np.arange(50)])  # 50 self-loops
    dst = np.concatenate([dst, np.arange(50)])
    w = np.random.default_rng(4).random(src.shape[0])
    assert 2 * src.shape[0] >= kernels.PARALLEL_MIN_ENTRIES
    before = numba.get_num_threads()
    try:
        results = []
        for threads in (1, 2):
            numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
            results.append(kernels.louvain_adjacency(src, dst, w, n))
    finally:
        numba.set_num_threads(before)
    assert all(np.array_equal(a, b) for a, b in zip(*results))
    indptr, indices, data, k = results[0]
    # the same entries as A + Aᵀ built by NumPy (row, column, weight sorted)
    rows = np.concatenate([src, dst])
    theirs = np.lexsort((np.concatenate([w, w]), np.concatenate([dst, src]), rows))
    ours = np.lexsort((data, indices, np.repeat(np.arange(n), np.diff(indptr))))
    assert np.array_equal(np.repeat(np.arange(n), np.diff(indptr))[ours], rows[theirs])
    assert np.array_equal(indices[ours], np.concatenate([dst, src])[theirs])
    assert np.array_equal(data[ours], np.concatenate([w, w])[theirs])
    assert k == pytest.approx(np.bincount(src, w, n) + np.bincount(dst, w, n))


def _refine(indptr, indices, data, k, comm, seed):
    n = indptr.shape[0] - 1
    order = np.random.default_rng(seed).permutation(n)
    return _leiden_kernels.louvain_refine(indptr, indices, data, k, comm, order, 1.0, float(k.sum()))


def test_refine_merges_singletons_greedily_into_well_connected_sub_communities():
    # two triangles 0-1-2, 3-4-5 joined by 2-3, all in one community (total degree 14), plus the
    # edge 6-7 in another; 2m = 16. Visiting 0…7 in order (by hand): 0 joins 1 (gain 1 - 2·2/16
    # beats joining 2: 1 - 2·3/16); 2 may not join {0, 1} (its weight to the rest, 2, is under
    # 4·10/16) and joins 3; 4 joins 5 (1 - 2·2/16 beats joining {2, 3}: 1 - 2·6/16); 6 joins 7.
    src = np.array([0, 1, 2, 3, 4, 5, 2, 6])
    dst = np.array([1, 2, 0, 4, 5, 3, 3, 7])
    indptr, indices, data, k = _level0(8, src, dst)
    comm = np.array([0, 0, 0, 0, 0, 0, 1, 1])
    ref = _leiden_kernels.louvain_refine(indptr, indices, data, k, comm, np.arange(8), 1.0, float(k.sum()))
    assert sorted(map(sorted, _sets(ref))) == [[0, 1], [2, 3], [4, 5], [6, 7]]
    # two separate triangles in one community: no sub-community spans both, in any order
    src, dst = np.array([0, 1, 2, 3, 4, 5]), np.array([1, 2, 0, 4, 5, 3])
    indptr, indices, data, k = _level0(6, src, dst)
    for seed in range(10):
        ref = _refine(indptr, indices, data, k, np.zeros(6, dtype=np.int64), seed)
        assert not set(ref[:3].tolist()) & set(ref[3:].tolist())


def test_refine_is_the_same_on_one_and_two_threads_and_keeps_within_communities_and_well_connected():
    n, src, dst, planted = _planted(5)
    indptr, indices, data, k = _level0(n, src, dst)
    assert indices.shape[0] >= kernels.PARALLEL_MIN_ENTRIES
    comm = planted // 2  # communities of two planted groups each
    before = numba.get_num_threads()
    try:
        results = []
        for threads in (1, 2):
            numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
            results.append(_refine(indptr, indices, data, k, comm, 0))
    finally:
        numba.set_num_threads(before)
    assert np.array_equal(results[0], results[1])
    ref = results[0]
    # each sub-community lies within one community
    assert all(np.unique(comm[ref == r]).shape[0] == 1 for r in np.unique(ref)[:500])
    pairs = np.unique(ref * (comm.max() + 1) + comm)
    assert pairs.shape[0] == np.unique(ref).shape[0]
    # each sub-community of several nodes is well connected to the rest of its community (NumPy)
    rows = np.repeat(np.arange(n), np.diff(indptr))
    same = (comm[rows] == comm[indices]) & (ref[rows] != ref[indices])
    ext = np.bincount(ref[rows[same]], weights=data[same], minlength=n)
    rtot = np.bincount(ref, weights=k, minlength=n)
    ctot = np.bincount(comm, weights=k)
    sizes = np.bincount(ref, minlength=n)
    big = np.flatnonzero(sizes > 1)
    m2 = float(k.sum())
    assert np.all(ext[big] >= rtot[big] * (ctot[comm[big]] - rtot[big]) / m2 - 1e-9)
    # singletons merged: far fewer sub-communities than nodes, and none joins two planted groups' worth
    assert np.unique(ref).shape[0] < n / 2
    assert sizes.max() <= 200


def test_leiden_levels_are_the_same_on_one_and_two_threads_and_find_the_planted_partition():
    n, src, dst, planted = _planted(6)
    g = Graph.from_arrays(src, dst, node_ids=[str(i) for i in range(n)])
    assert 2 * src.shape[0] >= _louvain.LEIDEN_MIN_ENTRIES
    results = _leiden_on_one_and_two_threads(g, src.shape[0], seed=0)
    assert np.array_equal(results[0], results[1])
    G = _nx_graph(n, src, dst)
    q_planted = nx.community.modularity(G, _sets(planted))
    q_leiden = nx.community.modularity(G, _sets(results[0]))
    assert q_leiden >= q_planted - 0.005
    assert modularity(g, results[0]) == pytest.approx(q_leiden, abs=1e-9)


@pytest.mark.parametrize("make", [nx.karate_club_graph, nx.les_miserables_graph, nx.florentine_families_graph,
                                  lambda: nx.connected_caveman_graph(12, 6),
                                  lambda: nx.gnm_random_graph(2000, 6000, seed=1)])
def test_leiden_levels_stay_within_the_tolerance_of_networkx(monkeypatch, make):
    # small graphs through the Leiden refinement (and the batched moves), against NetworkX's Louvain
    monkeypatch.setattr(_louvain, "LEIDEN_MIN_ENTRIES", 1)
    monkeypatch.setattr(kernels, "PARALLEL_MIN_ENTRIES", 1)
    monkeypatch.setattr(kernels, "PARALLEL_SETUP_MIN_ENTRIES", 1)
    monkeypatch.setattr(_leiden_kernels, "PARALLEL_SETUP_MIN_ENTRIES", 1)
    monkeypatch.setattr(kernels, "BATCH_MIN", 4)
    G = nx.Graph(nx.convert_node_labels_to_integers(make()))
    G.remove_nodes_from(list(nx.isolates(G)))
    nx.set_edge_attributes(G, 1.0, "weight")
    g = Graph.from_edges([(str(a), str(b)) for a, b in G.edges()])
    ids = [int(x) for x in g.node_ids]
    labels = _louvain.louvain_levels(g, np.ones(g.number_of_edges()), resolution=1.0, seed=0, threshold=1e-7,
                                     max_levels=32, leiden=True)
    ours = nx.community.modularity(G, [{ids[i] for i in np.flatnonzero(labels == c)} for c in np.unique(labels)])
    theirs = nx.community.modularity(G, nx.community.louvain_communities(G, seed=0))
    assert ours >= theirs - 0.02
    assert modularity(g, labels) == pytest.approx(ours, abs=1e-9)


def test_public_louvain_with_leiden_finds_the_planted_partition_and_stays_near_networkx_on_a_small_graph():
    n, src, dst, planted = _planted(7)
    g = Graph.from_arrays(src, dst, node_ids=[str(i) for i in range(n)])
    ours = louvain(g, seed=1, leiden=True)
    G = _nx_graph(n, src, dst)
    q = nx.community.modularity(G, _sets(ours))
    assert q >= nx.community.modularity(G, _sets(planted)) - 0.005
    assert modularity(g, ours) == pytest.approx(q, abs=1e-9)
    assert np.mean([np.bincount(ours[planted == c]).max() / 100 for c in range(250)]) > 0.95
    karate = nx.Graph(list(nx.karate_club_graph().edges()))  # unweighted, as `small`
    small = Graph.from_edges([(str(u), str(v)) for u, v in karate.edges()])
    labels = louvain(small, seed=3, leiden=True)
    ids = [int(x) for x in small.node_ids]
    q_small = nx.community.modularity(karate, [{ids[i] for i in np.flatnonzero(labels == c)} for c in np.unique(labels)])
    assert modularity(small, labels) == pytest.approx(q_small, abs=1e-9)
    assert q_small >= nx.community.modularity(karate, nx.community.louvain_communities(karate, seed=0)) - 0.02


def _sparse_groups(seed, groups=400, size=12):
    """A collaboration-like graph (CA-GrQc's shape): many small groups, sparse inside, a few links out."""
    G = nx.random_partition_graph([size] * groups, 0.35, 0.0004, seed=seed)
    G.remove_nodes_from(list(nx.isolates(G)))
    return nx.convert_node_labels_to_integers(G)


def test_leiden_iteration_of_a_level_gains_exactly_what_it_reports_and_never_loses():
    G = _sparse_groups(0)
    n = G.number_of_nodes()
    src, dst = np.array(list(G.edges())).T
    indptr, indices, data, k = _level0(n, src, dst)
    m2 = float(k.sum())
    rng = np.random.default_rng(0)
    labels, _ = kernels.louvain_move(indptr, indices, data, k, np.arange(n), rng.permutation(n), 1.0, m2)
    labels = _louvain.compact(labels)
    after, gained = _louvain._iteration((indptr, indices, data, k), labels, rng, 1.0, m2, 1e-7, 32,
                                        kernels.louvain_move)
    q0 = nx.community.modularity(G, _sets(labels))
    q1 = nx.community.modularity(G, _sets(after))
    assert gained >= 0.0
    assert q1 == pytest.approx(q0 + gained, abs=1e-9)
    assert gained > 1e-4  # the refined level's parts found better communities


def test_leiden_on_a_small_sparse_graph_beats_the_default_over_seeds_and_matches_networkx():
    G = _sparse_groups(1)
    src, dst = np.array(list(G.edges())).T
    g = Graph.from_arrays(src, dst, node_ids=[str(i) for i in range(G.number_of_nodes())])
    assert 2 * src.shape[0] < _louvain.LEIDEN_MIN_ENTRIES
    ids = np.array([int(x) for x in g.node_ids])
    q_default, q_leiden = [], []
    for seed in range(7):
        for out, leiden in ((q_default, False), (q_leiden, True)):
            labels = louvain(g, seed=seed, leiden=leiden)
            q = nx.community.modularity(G, [set(ids[labels == c].tolist()) for c in np.unique(labels)])
            assert modularity(g, labels) == pytest.approx(q, abs=1e-9)
            out.append(q)
    assert np.median(q_leiden) > np.median(q_default)
    theirs = nx.community.modularity(G, nx.community.louvain_communities(G, seed=0))
    assert np.median(q_leiden) >= theirs - 0.005


def test_leiden_on_a_small_dense_graph_refines_level_0_and_beats_the_default_over_seeds():
    # an LFR benchmark graph (Lancichinetti, Fortunato & Radicchi 2008) of average degree about 49
    G = _dense_graph()
    truth = {frozenset(G.nodes[v]["community"]) for v in G}
    G.remove_edges_from(list(nx.selfloop_edges(G)))
    src, dst = np.array(list(G.edges())).T
    n = G.number_of_nodes()
    g = Graph.from_arrays(src, dst, node_ids=[str(i) for i in range(n)])
    entries = _level0(n, src, dst)[1].shape[0]
    assert _louvain.LEIDEN_SPARSE_ENTRIES_PER_NODE * n <= entries < _louvain.LEIDEN_MIN_ENTRIES
    ids = np.array([int(x) for x in g.node_ids])
    q = {False: [], True: []}
    for seed in range(7):
        for leiden in (False, True):
            labels = louvain(g, seed=seed, leiden=leiden)
            q[leiden].append(nx.community.modularity(G, [set(ids[labels == c].tolist()) for c in np.unique(labels)]))
            assert modularity(g, labels) == pytest.approx(q[leiden][-1], abs=1e-9)
    assert np.median(q[True]) > np.median(q[False])  # 0.3709 against 0.3694
    assert np.median(q[True]) >= nx.community.modularity(G, truth) - 0.01


def test_compact_numbers_labels_in_order_of_their_values():
    labels = np.random.default_rng(0).integers(-50, 10_000, 5_000)
    expected = np.unique(labels, return_inverse=True)[1].ravel()  # NumPy's own ranks of the values
    assert np.array_equal(_louvain.compact(labels), expected)
    assert np.array_equal(_louvain.compact(labels.astype(np.int32)), expected)
    assert _louvain.compact(np.zeros(0, dtype=np.int64)).shape == (0,)


def _dense_graph():
    return nx.Graph(nx.LFR_benchmark_graph(2000, 2.5, 1.5, 0.4, average_degree=40, max_degree=200, min_community=20,
                                           max_community=200, seed=3))


@pytest.mark.parametrize("make", [lambda: _sparse_groups(2), _dense_graph])
def test_leiden_iterations_are_the_same_on_one_and_two_threads(monkeypatch, make):
    # small sparse (level 1 iterated) and dense (level 0 refined, level 1 iterated) graphs, through
    # the parallel kernels
    monkeypatch.setattr(kernels, "PARALLEL_MIN_ENTRIES", 1)
    monkeypatch.setattr(kernels, "PARALLEL_SETUP_MIN_ENTRIES", 1)
    monkeypatch.setattr(_leiden_kernels, "PARALLEL_SETUP_MIN_ENTRIES", 1)
    monkeypatch.setattr(kernels, "BATCH_MIN", 4)
    G = make()
    G.remove_edges_from(list(nx.selfloop_edges(G)))
    src, dst = np.array(list(G.edges())).T
    g = Graph.from_arrays(src, dst, node_ids=[str(i) for i in range(G.number_of_nodes())])
    results = _leiden_on_one_and_two_threads(g, src.shape[0], seed=4)
    assert np.array_equal(results[0], results[1])


def _leiden_on_one_and_two_threads(g, m, seed):
    """``louvain_levels(leiden=True)`` of ``g`` (``m`` edges of weight 1) on 1, then 2 Numba threads."""
    before = numba.get_num_threads()
    try:
        results = []
        for threads in (1, 2):
            numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
            results.append(_louvain.louvain_levels(g, np.ones(m), resolution=1.0, seed=seed,
                                                   threshold=1e-7, max_levels=32, leiden=True))
    finally:
        numba.set_num_threads(before)
    return results


def test_the_cached_level_0_adjacency_gives_what_a_fresh_graph_gives_and_follows_changes():
    # two 12-node cliques joined by one edge; repeated calls reuse the adjacency cached on the graph
    cliques = [(a, b) for base in (0, 12) for a in range(base, base + 12) for b in range(a + 1, base + 12)]
    edges = [(str(a), str(b)) for a, b in cliques + [(0, 12)]]
    g = Graph.from_edges(edges)
    first = [louvain(g, seed=s, leiden=leiden).tolist() for s in range(3) for leiden in (False, True)]
    again = [louvain(g, seed=s, leiden=leiden).tolist() for s in range(3) for leiden in (False, True)]
    fresh = [louvain(Graph.from_edges(edges), seed=s, leiden=leiden).tolist() for s in range(3) for leiden in (False, True)]
    assert first == again == fresh
    assert len(set(first[0][:12])) == 1 and len(set(first[0][12:])) == 1 and first[0][0] != first[0][12]
    # a change clears the cache: tie the cliques together with many edges, and they merge as on a fresh graph
    bridges = [(str(a), str(b)) for a in range(12) for b in range(12, 24) if (a + b) % 2 == 0 and (a, b) != (0, 12)]
    g.apply([new_event("edge_added", g.graph_id, {"edge_id": f"bridge{i}", "source": a, "target": b})
             for i, (a, b) in enumerate(bridges)])
    assert louvain(g, seed=0).tolist() == louvain(Graph.from_edges(edges + bridges), seed=0).tolist()
