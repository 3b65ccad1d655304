"""Louvain on the CPU: the levels of local moving and aggregation, then refinement, over the
kernels of :mod:`alchemist.graph._louvain_kernels` (and :mod:`alchemist.graph._leiden_kernels`).

O(n + m) array work per level besides the kernels (no scipy matrices).
"""

from __future__ import annotations

import numpy as np

from alchemist.errors import GraphError
from alchemist.graph import _leiden_kernels as leiden_kernels, _louvain_kernels as kernels

__all__ = ["louvain_levels", "compact"]


def louvain_levels(graph, w: np.ndarray, *, resolution: float, seed, threshold: float,
                   max_levels: int, move=None, leiden: bool = False) -> np.ndarray:
    """Louvain on the CPU, on A + Aᵀ: queue-based local moving (``louvain_move``) and
    aggregation (``louvain_aggregate``) level after level, then refinement from the coarsest
    level down (each level's nodes start in the communities found above and move again, as
    networkit's PLM with ``refine=True``; Staudt & Meyerhenke 2016, "Engineering parallel
    algorithms for community detection in massive networks", IEEE TPDS 27(1)).

    Parameters
    ----------
    graph : Graph
    w : (n_edges,) float64
        Edge weights in :meth:`Graph.edge_index` order.
    resolution : float
    seed : int or None
        Seeds the node order of each level.
    threshold : float
        A level that gains less modularity than this is the last.
    max_levels : int
        Maximum number of aggregation levels.
    move : callable, optional
        The local-moving kernel, ``kernels.louvain_move`` by default; the GPU path passes its own
        with the same arguments and results (:func:`alchemist.graph.gpu.louvain_move`).
    leiden : bool
        Aggregate the first :data:`LEIDEN_LEVELS` levels (those of :data:`LEIDEN_MIN_ENTRIES`
        adjacency entries or more) on Leiden's refinement of their communities
        (``louvain_refine``: each community split into well-connected sub-communities; Traag,
        Waltman & van Eck 2019, Sci. Rep. 9, 5233), the next level's nodes starting in the
        community they were refined from: higher modularity where communities are loose (R-MAT
        scale 17: 0.1250 against 0.1240, PLM refined's 0.1244) for about a third more time there.
        A smaller graph does the same if it is dense (:data:`LEIDEN_DENSE_ENTRIES_PER_NODE`);
        if it is sparse (:data:`LEIDEN_SPARSE_ENTRIES_PER_NODE`), its level 0 goes through one
        more Leiden iteration once Louvain is done (:func:`_iteration`); in between, its level 1
        does, if of :data:`LEIDEN_ITERATE_MIN_NODES` nodes or more and at most
        :data:`LEIDEN_ITERATE_MAX_ENTRIES` entries.

    Returns
    -------
    (n_nodes,) int64
        Community of each node (not yet numbered by size).

    Raises
    ------
    GraphError
        A negative edge weight (the message names the edge).

    Examples
    --------
    >>> from alchemist.graph import Graph
    >>> g = Graph.from_edges([("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"),
    ...                       ("d", "e"), ("e", "f"), ("f", "d")])
    >>> louvain_levels(g, np.ones(7), resolution=1.0, seed=0, threshold=1e-7, max_levels=32).tolist()
    [0, 0, 0, 1, 1, 1]
    """
    if w.shape[0] and w.min() < 0:
        raise GraphError(f"edge {graph.edge_ids[int(np.argmin(w))]!r} has a negative weight; Louvain needs w >= 0")
    n = graph.number_of_nodes()
    src, dst, _ = graph.edge_index()
    indptr, indices, data, k = kernels.louvain_adjacency(src, dst, np.asarray(w, dtype=np.float64), n)
    m2 = float(k.sum())
    rng = np.random.default_rng(seed)
    if m2 == 0:
        return np.arange(n, dtype=np.int64)
    small = indices.shape[0] < LEIDEN_MIN_ENTRIES
    dense = indices.shape[0] >= LEIDEN_DENSE_ENTRIES_PER_NODE * n
    sparse = indices.shape[0] < LEIDEN_SPARSE_ENTRIES_PER_NODE * n
    iterate = (0 if sparse else 1) if leiden and small else None
    return _multilevel((indptr, indices, data, k), rng, resolution, m2, threshold, max_levels,
                       move or kernels.louvain_move, LEIDEN_LEVELS if leiden else 0, iterate=iterate,
                       min_entries=0 if dense else None)[0]


#: With ``leiden=True``, the first levels (1: level 0 only) that aggregate on Leiden's refinement of
#: their communities (``louvain_refine``) rather than on the communities themselves (R-MAT scale 17,
#: seeds 0-4: modularity 0.1240 → 0.1250, 0.30 → 0.38 s; soc-Slashdot0902: 0.3493 → 0.3534); refining
#: every level gained no more and cost more time.
LEIDEN_LEVELS = 1
#: ... and only on levels of at least this many adjacency entries: below, the extra level costs more
#: time than the refinement gains (wiki-Vote's 201K entries: 7 → 13 ms for 0.4268 → 0.4274;
#: CA-GrQc and email-Eu-core gained nothing).
LEIDEN_MIN_ENTRIES = 400_000
#: With ``leiden=True`` on a graph under :data:`LEIDEN_MIN_ENTRIES` (which has no Leiden refinement
#: of level 0, unless dense) of average degree 16 or more, level 1, if it has at most this many entries,
#: goes through one more Leiden iteration once its nodes have moved again on the way down (Traag et
#: al.'s ``n_iterations=2``, on that level): its communities are refined, aggregated on the
#: refinement and the levels above run again from them, so that parts of a community can move on
#: their own (CA-GrQc, seeds 0-29: modularity 0.86505 → 0.86591 for 0.7 ms; iterating levels 2 and
#: 3 as well gained nothing more). On the large graphs it cost more than it gained (R-MAT scale 17,
#: iterating every coarse level: +35 % time for +0.0004).
LEIDEN_ITERATE_MAX_ENTRIES = 20_000
#: ... and at least this many nodes: on a level of a few dozen (wiki-Vote's and email-Eu-core's
#: level 1) the iteration found nothing and cost 0.5 ms.
LEIDEN_ITERATE_MIN_NODES = 200
#: With ``leiden=True``, a graph of at least this many adjacency entries per node (an average degree of
#: 40 or more) aggregates level 0 on Leiden's refinement whatever its size: its communities are
#: dense, so the refinement leaves few sub-communities and the extra level is cheap (ego-Facebook:
#: about 590 sub-communities of 4,039 nodes, against wiki-Vote's 1,600 of 7,115 and CA-GrQc's 1,740
#: of 5,242). With its level 1 iterated (below), ego-Facebook, seeds 100-129: modularity 0.83547 →
#: 0.83570, PLM refined 0.83552, 6.3 → 8.0 ms, PLM refined 9.1-9.4 ms (refined only: 0.83555).
#: wiki-Vote and email-Eu-core gain nothing robust within their time (refining wiki-Vote's level 0:
#: 0.42539 → 0.42565, PLM refined 0.4257 or 0.4169 run to run, for 45 % more time).
LEIDEN_DENSE_ENTRIES_PER_NODE = 40
#: With ``leiden=True``, a small graph of fewer than this many adjacency entries per node (an average
#: degree under 16) goes through one more Leiden iteration of level 0 itself, rather than of level 1:
#: its levels are cheap, and its many small communities gain most from the refinement (CA-GrQc,
#: seeds 0-29: modularity 0.86505 → 0.86669, PLM refined 0.8652-0.8658 run to run, 3.1 → 5.0 ms, PLM
#: refined 4.5-9 ms; iterating level 1 only: 0.86591 in 3.7 ms; either, with the iteration stopped
#: after 2 or 3 levels: no better than level 1's).
LEIDEN_SPARSE_ENTRIES_PER_NODE = 16


def _multilevel(level0, rng, resolution, m2, threshold, max_levels, move, leiden_levels=0, *, iterate=None,
                start=None, min_entries=None):
    """Louvain's levels from singletons on ``level0`` (CSR arrays and degrees), then refinement
    from the coarsest level down (as networkit's PLM with ``refine=True``): each level's nodes
    start in the communities found above and move again. The first ``leiden_levels`` levels
    (of ``min_entries`` adjacency entries or more, :data:`LEIDEN_MIN_ENTRIES` by default)
    aggregate on Leiden's refinement of their communities (each community split into
    well-connected sub-communities; Traag, Waltman & van Eck 2019), the next level's nodes
    starting in the community they were refined from. Level ``iterate`` (0 or 1; if of
    :data:`LEIDEN_ITERATE_MIN_NODES` nodes or more, and level 1 of at most
    :data:`LEIDEN_ITERATE_MAX_ENTRIES` entries), once its nodes have moved again, goes through one
    more Leiden iteration (:func:`_iteration`). With ``start`` (a partition of ``level0``'s nodes, in a local optimum of
    the local moving), the levels start there: level 0 does not move first. Returns a partition
    of ``level0``'s nodes and the modularity gained."""
    indptr, indices, data, k = level0
    min_entries = LEIDEN_MIN_ENTRIES if min_entries is None else min_entries
    levels = []  # (graph of the level, its nodes' nodes in the next level)
    total = 0.0
    fresh = start is None  # the level starts from singletons
    start = np.arange(indptr.shape[0] - 1, dtype=np.int64) if start is None else start
    comm = start
    for depth in range(max_levels):
        size = indptr.shape[0] - 1
        order = rng.permutation(size).astype(np.int64)
        if depth or fresh:
            comm, gained = move(indptr, indices, data, k, start, order, float(resolution), m2)
        else:  # a Leiden iteration: level 0 starts in a local optimum
            gained = 0.0
        total += gained
        comm = compact(comm)
        c = int(comm.max()) + 1
        if c == size:
            if fresh and levels:  # nothing merged: the level below, aggregated as Louvain, ends here
                comm = levels.pop()[1]
            break
        coarse, cc = comm, c
        if depth < leiden_levels and indices.shape[0] >= min_entries:
            refined = compact(leiden_kernels.louvain_refine(indptr, indices, data, k, comm, order, float(resolution), m2))
            if int(refined.max()) + 1 < size:  # else aggregate on the communities, as Louvain
                coarse, cc = refined, int(refined.max()) + 1
        if gained < threshold and cc == c and fresh:  # from singletons, too little gained: the last level
            break
        fresh = cc == c
        levels.append(((indptr, indices, data, k), coarse))
        start = np.empty(cc, dtype=np.int64)
        start[coarse] = comm
        indptr, indices, data, k = kernels.louvain_aggregate(indptr, indices, data, coarse, cc)
    else:  # max_levels reached: a level aggregated as Louvain ends there; after Leiden's refinement, the
        comm = levels.pop()[1] if fresh else start  # aggregate's nodes stay in the communities they start in
    labels = comm  # a partition of the last level's nodes
    for level in range(len(levels) - 1, -1, -1):
        (indptr, indices, data, k), coarse = levels[level]
        order = rng.permutation(coarse.shape[0]).astype(np.int64)
        labels, gained = move(indptr, indices, data, k, compact(labels[coarse]), order, float(resolution), m2)
        total += gained
        if (level == iterate and coarse.shape[0] >= LEIDEN_ITERATE_MIN_NODES
                and (level == 0 or indices.shape[0] <= LEIDEN_ITERATE_MAX_ENTRIES)):
            labels, gained = _iteration((indptr, indices, data, k), compact(labels), rng, resolution, m2, threshold,
                                        max_levels, move)
            total += gained
    return compact(labels), total


def _iteration(level, labels, rng, resolution, m2, threshold, max_levels, move):
    """One more Leiden iteration on ``level`` from ``labels`` (a local optimum of its local
    moving; Traag, Waltman & van Eck 2019, whose ``n_iterations=2`` runs the whole algorithm again
    from the partition found): the communities are refined into well-connected sub-communities,
    the level is aggregated on them, and the levels above (each refined likewise) run from the
    communities, then move back down. The modularity never drops (every move gains; the
    refinement only changes what is aggregated). Returns the partition and the gain."""
    return _multilevel(level, rng, resolution, m2, threshold, max_levels, move, max_levels, start=labels,
                       min_entries=0)


def compact(labels: np.ndarray) -> np.ndarray:
    """Labels renumbered ``0 … k-1`` (in order of the old label values).

    Parameters
    ----------
    labels : (n,) int

    Returns
    -------
    (n,) int64

    Raises
    ------
    None

    Examples
    --------
    >>> compact(np.array([5, 2, 5])).tolist()
    [1, 0, 1]
    """
    labels = np.asarray(labels)
    if labels.dtype.kind not in "iu":
        labels = labels.astype(np.int64)
    return kernels.compact_labels(labels)  # O(n + range), no sort, one compiled call
