"""Quality measures of a graph layout: neighbourhood preservation, stress, edge crossings.

All take a graph in any form that :func:`alchemist.layout.forceatlas2` accepts (edges are
undirected, self-loops ignored, parallel edges merged) and ``(n_nodes, 2)`` positions.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import shortest_path
from scipy.spatial import cKDTree

from alchemist.errors import LayoutError
from alchemist.layout._input import as_layout_graph

__all__ = ["neighborhood_preservation", "stress", "edge_crossings"]


def neighborhood_preservation(graph, positions, k: int | None = None) -> float:
    """Mean Jaccard similarity of each node's graph neighbours and its nearest neighbours in the layout.

    For node ``i`` with graph neighbourhood ``N(i)`` (``deg(i) > 0``), the layout neighbourhood
    ``L(i)`` is the ``k_i`` nearest other nodes in the plane, with ``k_i = deg(i)`` when ``k`` is
    None, else ``k``; the score is the mean of ``|N ∩ L| / |N ∪ L|`` over the nodes with at
    least one neighbour. 1 means every node's nearest points are exactly its neighbours.

    Parameters
    ----------
    graph : graph in any form accepted by :func:`~alchemist.layout.forceatlas2`
    positions : array_like, shape (n_nodes, 2)
    k : int, optional
        Fixed layout-neighbourhood size (>= 1); default: each node's degree.

    Returns
    -------
    float in [0, 1] (NaN for a graph without edges).

    Raises
    ------
    LayoutError
        If ``positions`` has the wrong shape or non-finite values, or ``k < 1``.

    References
    ----------
    .. [1] A. Kruiger, P. Rauber, R. Martins, A. Kerren, S. Kobourov, A. Telea, "Graph Layouts by
       t-SNE", Computer Graphics Forum 36(3), 2017 — the neighbourhood preservation metric.
    Examples
    --------
    >>> neighborhood_preservation((3, [0, 1], [1, 2]), [[0, 0], [1, 0], [2, 0]])  # a path drawn straight
    1.0
    """
    g = as_layout_graph(graph)
    pos = _positions(positions, g.n_nodes)
    if k is not None and (int(k) != k or k < 1):
        raise LayoutError(f"k = {k!r} must be a positive integer (or None for each node's degree)")
    rows = np.flatnonzero(g.degree > 0)
    if rows.size == 0:
        return float("nan")
    tree = cKDTree(pos)
    sizes = g.degree[rows] if k is None else np.full(rows.size, int(k))
    sizes = np.minimum(sizes, g.n_nodes - 1)
    # query in buckets of k rounded up to a power of two: the work stays O(sum of degrees)
    bucket_k = np.minimum(2 ** np.ceil(np.log2(sizes + 1)).astype(np.int64), g.n_nodes)
    total = 0.0
    for kq in np.unique(bucket_k):
        sel = np.flatnonzero(bucket_k == kq)
        _, nearest = tree.query(pos[rows[sel]], k=int(kq))
        nearest = nearest.reshape(sel.size, int(kq))
        for r, cand in zip(sel, nearest):
            i = rows[r]
            nb = g.indices[g.indptr[i]: g.indptr[i + 1]]
            cand = cand[cand != i][: sizes[r]]
            inter = np.intersect1d(nb, cand, assume_unique=True).size
            total += inter / (nb.size + cand.size - inter)
    return total / rows.size


def stress(graph, positions, n_pivots: int = 100, seed: int | None = None) -> float:
    """Scale-normalized stress of a layout against graph distances from sampled pivot nodes.

    With ``d_ij`` the unweighted shortest-path distance (breadth-first search from each of
    ``n_pivots`` random pivots ``i`` to every reachable ``j``) and ``x_ij`` the layout distance,
    the layout is first rescaled by the optimal factor ``s = Σ x d^-1 / Σ x² d^-2`` (which
    minimizes the stress over uniform scalings), then
    ``stress = Σ (s x_ij - d_ij)² / d_ij² / #pairs``: a mean relative squared error, 0 for a
    perfect isometric layout, comparable across layouts of different scale.

    Parameters
    ----------
    graph : graph in any form accepted by :func:`~alchemist.layout.forceatlas2`
    positions : array_like, shape (n_nodes, 2)
    n_pivots : int
        Number of pivot nodes (all nodes when larger than the graph).
    seed : int, optional
        Seed of the pivot sample.

    Returns
    -------
    float >= 0 (NaN when no pair of distinct nodes is connected).

    Raises
    ------
    LayoutError
        If ``positions`` is malformed or ``n_pivots < 1``.

    References
    ----------
    .. [1] E. Gansner, Y. Koren, S. North, "Graph Drawing by Stress Majorization", GD 2004.
    .. [2] U. Brandes, C. Pich, "Eigensolver Methods for Progressive Multidimensional Scaling of
       Large Data", GD 2006 — pivot sampling.
    .. [3] R. Gove, "It Pays to Be Lazy: Reusing Force Approximations to Compute Better Graph
       Layouts Faster", 2018 — scale-normalized stress.
    Examples
    --------
    >>> stress((3, [0, 1], [1, 2]), [[0, 0], [1, 0], [2, 0]])  # isometric: graph distances 1, 1, 2
    0.0
    """
    g = as_layout_graph(graph)
    pos = _positions(positions, g.n_nodes)
    if int(n_pivots) != n_pivots or n_pivots < 1:
        raise LayoutError(f"n_pivots = {n_pivots!r} must be a positive integer")
    if g.n_nodes < 2:
        return float("nan")
    rng = np.random.default_rng(seed)
    pivots = rng.choice(g.n_nodes, size=min(int(n_pivots), g.n_nodes), replace=False)
    adj = csr_matrix((np.ones_like(g.weights), g.indices, g.indptr), shape=(g.n_nodes, g.n_nodes))
    dist = shortest_path(adj, method="D", unweighted=True, indices=pivots)
    x = np.linalg.norm(pos[pivots][:, None, :] - pos[None, :, :], axis=2)
    ok = np.isfinite(dist) & (dist > 0)
    d = dist[ok]
    x = x[ok]
    if d.size == 0:
        return float("nan")
    den = np.sum(x * x / (d * d))
    scale = np.sum(x / d) / den if den > 0 else 1.0
    return float(np.mean((scale * x - d) ** 2 / (d * d)))


def edge_crossings(graph, positions, sample: int | None = 100_000, seed: int | None = None) -> float:
    """Number of pairs of edges whose straight-line drawings cross (estimated by sampling).

    Two edges cross when their segments intersect properly (edges sharing an endpoint never
    count). With ``sample`` = None, or at least the number of edge pairs, every pair is tested
    and the exact count is returned; otherwise ``sample`` random pairs are tested and the count
    is extrapolated to all ``m (m - 1) / 2`` pairs.

    Parameters
    ----------
    graph : graph in any form accepted by :func:`~alchemist.layout.forceatlas2`
    positions : array_like, shape (n_nodes, 2)
    sample : int or None
        Number of edge pairs to test (default 100,000).
    seed : int, optional
        Seed of the pair sample.

    Returns
    -------
    float — the exact count (an integer value) or its unbiased estimate.

    Raises
    ------
    LayoutError
        If ``positions`` is malformed or ``sample < 1``.
    Examples
    --------
    >>> square = [[0, 0], [1, 0], [1, 1], [0, 1]]
    >>> edge_crossings((4, [0, 1], [2, 3]), square)  # the two diagonals
    1.0
    """
    g = as_layout_graph(graph)
    pos = _positions(positions, g.n_nodes)
    if sample is not None and (int(sample) != sample or sample < 1):
        raise LayoutError(f"sample = {sample!r} must be a positive integer or None")
    m = g.src.size
    n_pairs = m * (m - 1) // 2
    if n_pairs == 0:
        return 0.0
    if sample is None or sample >= n_pairs:
        a, b = np.triu_indices(m, k=1)
        scale = 1.0
    else:
        rng = np.random.default_rng(seed)
        a = rng.integers(0, m, size=int(sample))
        b = rng.integers(0, m - 1, size=int(sample))
        b = np.where(b >= a, b + 1, b)  # a different edge, uniformly
        scale = n_pairs / sample
    hits = _crossing(pos, g.src[a], g.dst[a], g.src[b], g.dst[b])
    return float(hits.sum() * scale)


# --------------------------------------------------------------------------- helpers
def _positions(positions, n):
    pos = np.asarray(positions, dtype=np.float64)
    if pos.shape != (n, 2):
        raise LayoutError(f"positions has shape {pos.shape}; it must be ({n}, 2), one row per node")
    bad = np.flatnonzero(~np.isfinite(pos).all(axis=1))
    if bad.size:
        raise LayoutError(f"positions[{bad[0]}] = {pos[bad[0]]} is not finite")
    return pos


def _orient(p, q, r):
    return np.sign((q[:, 0] - p[:, 0]) * (r[:, 1] - p[:, 1]) - (q[:, 1] - p[:, 1]) * (r[:, 0] - p[:, 0]))


def _crossing(pos, a1, a2, b1, b2):
    """Proper intersection of segments (a1, a2) and (b1, b2); pairs sharing an endpoint do not count."""
    shared = (a1 == b1) | (a1 == b2) | (a2 == b1) | (a2 == b2)
    p1, p2, q1, q2 = pos[a1], pos[a2], pos[b1], pos[b2]
    o1 = _orient(p1, p2, q1)
    o2 = _orient(p1, p2, q2)
    o3 = _orient(q1, q2, p1)
    o4 = _orient(q1, q2, p2)
    return ~shared & (o1 * o2 < 0) & (o3 * o4 < 0)
