"""Louvain on the CPU: the levels of local moving and aggregation, then refinement, over the
kernels of :mod:`alchemist.graph._louvain_kernels` (and :mod:`alchemist.graph._leiden_kernels`).

O(n + m) array work per level besides the kernels (no scipy matrices).
"""

from __future__ import annotations

import numpy as np

from alchemist.errors import GraphError
from alchemist.graph import _leiden_kernels as leiden_kernels, _louvain_kernels as kernels
from alchemist.graph._threads import threads_for
from alchemist.graph.access import cached

__all__ = ["louvain_levels", "compact"]


def louvain_levels(graph, w: np.ndarray, *, resolution: float, seed, threshold: float,
                   max_levels: int, move=None, leiden: bool = False, key: str | None = None) -> np.ndarray:
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
        A smaller graph refines its level 0 too unless it is sparse
        (:data:`LEIDEN_SPARSE_ENTRIES_PER_NODE`), and its level 1 goes through one more Leiden
        iteration once Louvain is done (:func:`_iteration`), if of
        :data:`LEIDEN_ITERATE_MIN_NODES` nodes or more and at most
        :data:`LEIDEN_ITERATE_MAX_ENTRIES` entries.
    key : str, optional
        Where ``w`` comes from (a weight column's name, or ``"unweighted"``): when given, and
        the graph has fewer than :data:`CACHE_MAX_ENTRIES` adjacency entries, the level-0
        adjacency (12 bytes an entry, two entries an edge) is cached on the graph under it until
        the graph changes, so that calls with other seeds or resolutions do not build it again.

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
    # one thread fewer for each core other processes keep busy (see alchemist.graph._threads), where the
    # batched moves run hundreds of parallel regions (a smaller graph's one or two cost less than the check)
    with threads_for(2 * src.shape[0] >= kernels.PARALLEL_MIN_ENTRIES):
        def build():
            return kernels.louvain_adjacency(src, dst, np.asarray(w, dtype=np.float64), n)

        if key is not None and 2 * src.shape[0] < CACHE_MAX_ENTRIES:
            indptr, indices, data, k = cached(graph, f"louvain_adjacency:{key}", build)
        else:
            indptr, indices, data, k = build()
        m2 = float(k.sum())
        rng = np.random.default_rng(seed)
        if m2 == 0:
            return np.arange(n, dtype=np.int64)
        small = indices.shape[0] < LEIDEN_MIN_ENTRIES
        sparse = indices.shape[0] < LEIDEN_SPARSE_ENTRIES_PER_NODE * n
        return _multilevel((indptr, indices, data, k), rng, resolution, m2, threshold, max_levels,
                           move or kernels.louvain_move, LEIDEN_LEVELS if leiden else 0,
                           iterate=1 if leiden and small else None, min_entries=None if sparse else 0)[0]


#: Graphs of fewer adjacency entries than this keep Louvain's level-0 adjacency cached (``key``): at
#: most 48 MB, and on small graphs its build is a fifth of a call (ego-Facebook: 0.9 of 4.7 ms).
CACHE_MAX_ENTRIES = 4_000_000
#: With ``leiden=True``, the first levels (1: level 0 only) that aggregate on Leiden's refinement of
#: their communities (``louvain_refine``) rather than on the communities themselves (R-MAT scale 17,
#: seeds 0-4: modularity 0.1240 → 0.1250, 0.30 → 0.38 s; soc-Slashdot0902: 0.3493 → 0.3534); refining
#: every level gained no more and cost more time.
LEIDEN_LEVELS = 1
#: ... and only on levels of at least this many adjacency entries, or on level 0 of a graph that is not
#: sparse (below). A graph under this size (its levels are cheap) also has its level 1 iterated (below).
LEIDEN_MIN_ENTRIES = 400_000
#: With ``leiden=True``, a graph under :data:`LEIDEN_MIN_ENTRIES` entries has its level 1, if it has at
#: most this many entries, go through one more Leiden iteration once its nodes have moved again on
#: the way down (Traag et al.'s ``n_iterations=2``, on that level): its communities are refined,
#: aggregated on the refinement and the levels above run again from them, so that parts of a
#: community can move on their own (CA-GrQc, seeds 1000-1060: median modularity 0.86522 → 0.86616
#: for 0.6 ms, PLM refined 0.86576; iterating levels 2 and 3 as well gained nothing more; iterating
#: level 0: 0.86663 for 1.9 ms, as long as PLM refined takes). On the large graphs it cost more than
#: it gained (R-MAT scale 17, iterating every coarse level: +35 % time for +0.0004).
LEIDEN_ITERATE_MAX_ENTRIES = 20_000
#: ... and at least this many nodes: on a level of a few dozen (wiki-Vote's level 1) the iteration
#: found nothing and cost 0.5 ms.
LEIDEN_ITERATE_MIN_NODES = 200
#: With ``leiden=True``, a graph of fewer than this many adjacency entries per node (an average degree
#: under 16) aggregates level 0 on its communities, as Louvain, whatever its size: its many small,
#: loose communities refine into many more sub-communities, and the longer climb through the levels
#: ends lower (CA-GrQc, 61 seeds: median modularity 0.86522 → 0.86492 refined; 0.86606 against
#: 0.86616 with the level-1 iteration, for 0.9 ms more). Denser graphs gain from refining level 0
#: (medians over seeds 1000-1060 against PLM refined's over 31 seeds, 2 threads: ego-Facebook
#: 0.83546 → 0.83567 with the level-1 iteration, PLM refined 0.83552; email-Eu-core 0.41585 →
#: 0.41637, PLM refined 0.41610; wiki-Vote 0.42433 → 0.42500, PLM refined 0.4164 with its 2 threads
#: truly parallel, 0.42571 when they run one after the other, as on one thread).
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
