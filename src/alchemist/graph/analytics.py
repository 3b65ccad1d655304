"""Whole-graph analytics: degree statistics, components, PageRank, betweenness, clustering and
Louvain communities with modularity.

Every function takes a :class:`~alchemist.graph.Graph` and returns arrays in node row order
(the order of ``graph.nodes``). The kernels are Numba, parallel over both cores where the work
splits (PageRank's pull step, betweenness sources, clustering nodes); components are a
union–find (weak) and Tarjan's algorithm (strong) over the edge arrays. Results agree with
NetworkX within the tolerances stated in each docstring (the tests check them on real graphs).

Conventions on awkward input: self-loops and parallel edges count as NetworkX counts them on a
multigraph for degrees and PageRank (weights of parallel edges add up); clustering and
betweenness use the simple graph underneath (each neighbour once, no self-loops), as NetworkX
does; Louvain and modularity treat a directed graph as undirected (A + Aᵀ). An empty graph gives
empty arrays; isolated nodes get PageRank from teleportation only, clustering 0, their own
community.
"""

from __future__ import annotations

import random
from typing import Iterable, Sequence

import numpy as np

from alchemist.errors import GraphError
from alchemist.graph import _analytics_cpu as cpu
from alchemist.graph import _louvain
from alchemist.graph import _analytics_kernels as kernels
from alchemist.graph import gpu
from alchemist.graph.core import cached
from alchemist.graph.csr import build_csr
from alchemist.graph._threads import threads_spin

__all__ = [
    "degree_statistics", "connected_components", "strongly_connected_components", "pagerank",
    "betweenness_centrality", "clustering", "average_clustering", "transitivity", "louvain", "modularity",
    "edge_weights",
]


def degree_statistics(graph) -> dict:
    """Summary of the degree distribution.

    Parameters
    ----------
    graph : Graph
        Any graph; self-loops count twice in an undirected degree (NetworkX's convention).

    Returns
    -------
    dict
        ``n_nodes``, ``n_edges``, ``density``, ``self_loops``, ``isolated``, and for each of
        ``degree`` (undirected) or ``in_degree``/``out_degree`` (directed) a dict with ``min``,
        ``max``, ``mean``, ``median``, ``std`` and ``p99``. Density is ``m / (n (n-1))`` when
        directed, ``2m / (n (n-1))`` otherwise (NetworkX's ``density``).

    Raises
    ------
    None
        Every graph has statistics; on an empty graph the summaries are of an empty array.

    Examples
    --------
    Two triangles joined by the edge ``c–d``:

    >>> from alchemist.graph import Graph, degree_statistics
    >>> g = Graph.from_edges([("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"),
    ...                       ("d", "e"), ("e", "f"), ("f", "d")])
    >>> s = degree_statistics(g)
    >>> s["n_edges"], round(s["density"], 4), s["degree"]["max"], s["isolated"]
    (7, 0.4667, 3, 0)
    """
    src, dst, _ = graph.edge_index()
    n, m = graph.number_of_nodes(), graph.number_of_edges()
    out = {"n_nodes": n, "n_edges": m,
           "density": 0.0 if n < 2 else (m if graph.directed else 2 * m) / (n * (n - 1)),
           "self_loops": int((src == dst).sum())}
    if graph.directed:
        outd = np.bincount(src, minlength=n)
        ind = np.bincount(dst, minlength=n)
        out["in_degree"], out["out_degree"] = _summary(ind), _summary(outd)
        out["isolated"] = int(((ind + outd) == 0).sum())
    else:
        deg = graph.degree()
        out["degree"] = _summary(deg)
        out["isolated"] = int((deg == 0).sum())
    return out


def connected_components(graph, *, backend: str = "auto") -> np.ndarray:
    """Connected components (weakly connected when directed), by union–find over the edges
    (union by index, path halving; Tarjan & van Leeuwen 1984, "Worst-case analysis of set union
    algorithms", J. ACM 31(2)), O(m α(n)).

    Parameters
    ----------
    graph : Graph
    backend : {"auto", "cpu", "cuda"}
        Where the kernels run (:func:`alchemist.graph.gpu.kernel`); ``"auto"``: the GPU when one is available.

    Returns
    -------
    (n_nodes,) int64
        Component label of each node, numbered by decreasing size (0 = largest), ties by first row.
        The same labels on either backend.

    Raises
    ------
    BackendError
        ``backend="cuda"`` without a CUDA device (see :func:`alchemist.backend.resolve_backend`).

    See Also
    --------
    strongly_connected_components

    Examples
    --------
    >>> from alchemist.graph import Graph, connected_components
    >>> g = Graph.from_edges([("a", "b"), ("b", "c"), ("x", "y")])
    >>> connected_components(g)
    array([0, 0, 0, 1, 1])
    """
    return _components(graph, "weak", backend)


def strongly_connected_components(graph, *, backend: str = "auto") -> np.ndarray:
    """Strongly connected components of a directed graph; for an undirected graph the same as
    :func:`connected_components`.

    Tarjan's algorithm (Tarjan 1972, "Depth-first search and linear graph algorithms", SIAM J.
    Comput. 1(2)) with an explicit stack, over an out-adjacency cached on the graph; O(n + m).

    Parameters
    ----------
    graph : Graph
    backend : {"auto", "cpu", "cuda"}
        Where the kernels run (:func:`alchemist.graph.gpu.kernel`); ``"auto"``: the GPU when one is available.

    Returns
    -------
    (n_nodes,) int64
        Labels numbered by decreasing size (0 = largest), ties by first row; the same on either backend.

    Raises
    ------
    BackendError
        ``backend="cuda"`` without a CUDA device (see :func:`alchemist.backend.resolve_backend`).

    Examples
    --------
    A directed 3-cycle with a tail ``c → d``: the cycle is one component, ``d`` another.

    >>> from alchemist.graph import Graph, strongly_connected_components
    >>> g = Graph.from_edges([("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")], directed=True)
    >>> strongly_connected_components(g)
    array([0, 0, 0, 1])
    """
    return _components(graph, "strong" if graph.directed else "weak", backend)


def pagerank(graph, alpha: float = 0.85, *, weight: str | None = "weight", tol: float = 1.0e-6,
             max_iter: int = 100, personalization: Sequence[float] | None = None, backend: str = "auto") -> np.ndarray:
    """PageRank by power iteration (Page, Brin, Motwani & Winograd 1999, "The PageRank citation
    ranking: bringing order to the web", Stanford InfoLab 1999-66; NetworkX's conventions).

    Each step pulls ``alpha * Σ_{u→v} x_u w_uv / W_u`` along in-edges (parallel over nodes),
    spreads the rank of dangling nodes (no out-weight) by ``personalization``, and teleports with
    probability ``1 - alpha``. Stops when the L1 change is below ``n * tol``, as NetworkX does;
    results match ``networkx.pagerank`` to about ``tol`` per node.

    Parameters
    ----------
    graph : Graph
        An undirected edge counts in both directions; a self-loop is one edge ``u → u``.
    alpha : float
        Damping factor in (0, 1).
    weight : str or None
        The edge column holding the weights (``"weight"``, or a numeric edge property; parallel
        edges add up), or None / False to count every edge as 1 (see :func:`edge_weights`).
    tol : float
        Convergence tolerance per node (the L1 change must fall below ``n_nodes * tol``).
    max_iter : int
        Maximum number of power-iteration steps.
    personalization : (n_nodes,) array, optional
        Teleport distribution (normalised here); uniform by default.
    backend : {"auto", "cpu", "cuda"}
        Where the kernels run (:func:`alchemist.graph.gpu.kernel`); ``"auto"``: the GPU when one is available.

    Returns
    -------
    (n_nodes,) float64
        Sums to 1; empty for an empty graph. The CUDA path agrees with the CPU to 1e-6 per node
        (relative).

    Raises
    ------
    GraphError
        ``alpha`` outside (0, 1), a ``weight`` that is not a numeric edge column, a negative
        weight, a bad personalization, or no convergence within ``max_iter`` (NetworkX raises
        too).
    BackendError
        ``backend="cuda"`` without a CUDA device (see :func:`alchemist.backend.resolve_backend`).

    Examples
    --------
    >>> import numpy as np
    >>> from alchemist.graph import Graph, pagerank
    >>> g = Graph.from_edges([("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")], directed=True)
    >>> np.round(pagerank(g), 4)
    array([0.2138, 0.2646, 0.3079, 0.2138])
    """
    if not 0 < alpha < 1:
        raise GraphError(f"alpha={alpha}; the damping factor must lie in (0, 1)")
    run = gpu.kernel("pagerank_kernel", backend)
    n = graph.number_of_nodes()
    if n == 0:
        return np.zeros(0)
    w = edge_weights(graph, weight)
    if w.shape[0] and w.min() < 0:
        raise GraphError(f"edge {graph.edge_ids[int(np.argmin(w))]!r} has a negative weight; PageRank needs w >= 0")
    indptr, cols, ww, out_w, unit = cpu.pull_adjacency(graph, w, key=weight or "unweighted")  # row v: in-neighbours u
    if personalization is None:
        p = np.full(n, 1.0 / n)
    else:
        p = np.asarray(personalization, dtype=np.float64)
        if p.shape != (n,) or not np.isfinite(p).all() or p.min() < 0 or p.sum() <= 0:
            raise GraphError(f"personalization must be {n} non-negative finite numbers with a positive sum")
        p = p / p.sum()
    if run is not kernels.pagerank_kernel:  # the device kernel reads a weight per entry
        x, iters, err = run(indptr, cols, np.ones(cols.shape[0]) if unit else ww, out_w, p, float(alpha), float(tol),
                            int(max_iter))
    elif cols.shape[0] < _PARALLEL_PAGERANK:
        x, iters, err = kernels.pagerank_serial(indptr, cols, ww, out_w, p, float(alpha), float(tol), int(max_iter), unit)
    else:  # an empty ww: every weight 1
        x, iters, err = run(indptr, cols, ww, out_w, p, float(alpha), float(tol), int(max_iter))
    if err >= n * tol:
        raise GraphError(f"PageRank did not converge in {max_iter} iterations (L1 change {err:.3g}); raise max_iter")
    return x


#: Adjacency entries from which PageRank's step runs in parallel (below, one thread: starting the
#: parallel regions of each step costs more than the second core saves). With spinning threads,
#: 40,000 (ego-Facebook's 176K entries: 1.57 -> 0.83 ms; CA-GrQc's 58K: 1.23 -> 0.66 ms;
#: email-Eu-core's 26K: 0.37 serial against 0.51 ms); with sleeping ones (a passive wait policy),
#: 200,000.
_PARALLEL_PAGERANK = 40_000 if threads_spin() else 200_000
#: The same for the triangle count (O(m^1.5) work: parallel sooner).
_PARALLEL_TRIANGLES = 100_000


def betweenness_centrality(graph, k: int | None = None, *, normalized: bool = True, seed: int | None = None,
                           sources: Iterable[str] | None = None) -> np.ndarray:
    """Betweenness centrality by Brandes' algorithm (Brandes 2001, "A faster algorithm for
    betweenness centrality", J. Math. Sociol. 25(2)), exact or from ``k`` sampled sources
    (Brandes & Pich 2007), with hop-count shortest paths and NetworkX's scaling
    (``endpoints=False``).

    Parameters
    ----------
    graph : Graph
        Parallel edges and self-loops are ignored (the simple graph underneath).
    k : int, optional
        Number of source nodes to sample; all nodes when None (exact). The sample is
        ``random.Random(seed).sample(graph.node_ids, k)`` — what NetworkX draws for a graph with
        the same node order and seed, so the two agree exactly.
    normalized : bool
        Divide by the number of ordered (directed) or unordered (undirected) pairs of other nodes,
        ``(n-1)(n-2)``, as NetworkX does; otherwise undirected values are halved only.
    seed : int, optional
        Seed of the source sample.
    sources : iterable of str, optional
        Explicit sources (instead of ``k``/``seed``).

    Returns
    -------
    (n_nodes,) float64
        Empty for an empty graph.

    Raises
    ------
    GraphError
        ``k`` outside 1 … n_nodes.
    NodeNotFoundError
        A source id is not in the graph.

    Examples
    --------
    Two triangles joined by ``c–d``: every path between them runs through ``c`` and ``d``
    (6 of the 10 pairs of other nodes).

    >>> from alchemist.graph import Graph, betweenness_centrality
    >>> g = Graph.from_edges([("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"),
    ...                       ("d", "e"), ("e", "f"), ("f", "d")])
    >>> betweenness_centrality(g)
    array([0. , 0. , 0.6, 0.6, 0. , 0. ])
    """
    n = graph.number_of_nodes()
    if n == 0:
        return np.zeros(0)
    if sources is not None:
        src_rows = graph.node_rows(list(sources))
        sampled = True
    elif k is None or k == n:
        src_rows = np.arange(n, dtype=np.int64)
        sampled = False
    else:
        if not 1 <= k <= n:
            raise GraphError(f"k={k}: the number of sampled sources must lie in 1 … {n}")
        src_rows = graph.node_rows(random.Random(seed).sample(graph.node_ids, k))
        sampled = True
    indptr, indices = _simple_csr(graph, "out")
    rptr, rind = _simple_csr(graph, "in") if graph.directed else (indptr, indices)
    bc = kernels.brandes(indptr, indices, rptr, rind, src_rows.astype(np.int64))
    # rescale as networkx._rescale with endpoints=False
    N = n - 1
    if N < 2:
        return bc
    kk = src_rows.shape[0] if sampled else N + 1
    correction = 1 if graph.directed else 2
    if not sampled:
        scale = 1 / (N * (N - 1)) if normalized else 1 / correction
        return bc * scale
    is_source = np.zeros(n, dtype=bool)
    is_source[src_rows] = True
    if normalized:
        s_src = 1 / ((kk - 1) * (N - 1)) if kk > 1 else np.nan
        s_non = 1 / (kk * (N - 1))
    else:
        s_src = N / ((kk - 1) * correction) if kk > 1 else np.nan
        s_non = N / (kk * correction)
    return np.where(is_source, bc * s_src, bc * s_non)


def clustering(graph, *, backend: str = "auto") -> np.ndarray:
    """Local clustering coefficient of each node (Watts & Strogatz 1998, "Collective dynamics of
    'small-world' networks", Nature 393): the fraction of pairs of neighbours that are adjacent, on
    the simple undirected graph underneath (direction, weights, parallel edges and self-loops
    ignored). Equals ``networkx.clustering`` on ``G.to_undirected()`` with self-loops removed.

    Parameters
    ----------
    graph : Graph
    backend : {"auto", "cpu", "cuda"}
        Where the kernels run (:func:`alchemist.graph.gpu.kernel`); ``"auto"``: the GPU when one is available.

    Returns
    -------
    (n_nodes,) float64
        In [0, 1]; 0 for nodes with fewer than two neighbours. The same triangle counts on
        either backend (results within 1e-12).

    Raises
    ------
    BackendError
        ``backend="cuda"`` without a CUDA device (see :func:`alchemist.backend.resolve_backend`).

    Examples
    --------
    >>> from alchemist.graph import Graph, clustering
    >>> g = Graph.from_edges([("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")])
    >>> clustering(g)
    array([1.        , 1.        , 0.33333333, 0.        ])
    """
    tri, deg = _triangles(graph, backend)
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.where(deg > 1, 2.0 * tri / (deg * (deg - 1.0)), 0.0)
    return c


def average_clustering(graph, *, backend: str = "auto") -> float:
    """Mean of :func:`clustering` over all nodes (NetworkX's ``average_clustering``, zeros included).

    Parameters
    ----------
    graph : Graph
    backend : {"auto", "cpu", "cuda"}
        As :func:`clustering`.

    Returns
    -------
    float
        0.0 for an empty graph.

    Raises
    ------
    BackendError
        ``backend="cuda"`` without a CUDA device (see :func:`alchemist.backend.resolve_backend`).

    Examples
    --------
    >>> from alchemist.graph import Graph, average_clustering
    >>> g = Graph.from_edges([("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")])
    >>> round(average_clustering(g), 4)
    0.5833
    """
    c = clustering(graph, backend=backend)
    return float(c.mean()) if c.shape[0] else 0.0


def transitivity(graph, *, backend: str = "auto") -> float:
    """Global clustering: 3 × triangles / connected triples (NetworkX's ``transitivity``; Newman,
    Strogatz & Watts 2001, Phys. Rev. E 64, 026118), on the simple undirected graph underneath.

    Parameters
    ----------
    graph : Graph
    backend : {"auto", "cpu", "cuda"}
        As :func:`clustering`.

    Returns
    -------
    float
        In [0, 1]; 0.0 when there is no connected triple.

    Raises
    ------
    BackendError
        ``backend="cuda"`` without a CUDA device (see :func:`alchemist.backend.resolve_backend`).

    Examples
    --------
    One triangle and 5 connected triples (3 closed ones and ``a–c–d``, ``b–c–d``):

    >>> from alchemist.graph import Graph, transitivity
    >>> g = Graph.from_edges([("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")])
    >>> transitivity(g)
    0.6
    """
    tri, deg = _triangles(graph, backend)
    triples = float((deg * (deg - 1)).sum())
    return 0.0 if triples == 0 else float(2.0 * tri.sum() / triples)


def louvain(graph, *, resolution: float = 1.0, weight: str | None = "weight", seed: int | None = 0,
            threshold: float = 1.0e-7, max_levels: int = 32, backend: str = "auto", leiden: bool = False
            ) -> np.ndarray:
    """Community detection by the Louvain method (Blondel, Guillaume, Lambiotte & Lefebvre 2008,
    "Fast unfolding of communities in large networks", J. Stat. Mech. P10008).

    Phase 1 (Numba kernel) moves single nodes to the neighbouring community with the largest
    modularity gain, from a queue that starts with every node in a random order and takes back
    the neighbours of each node that moves, until no move gains (the fast local move of Traag,
    Waltman & van Eck 2019, Sci. Rep. 9, 5233; on a level of 400,000 adjacency entries or more, the
    nodes of each batch of the queue choose in parallel and their moves are applied in queue
    order, each checked against the current state, so the result depends on ``seed`` but not on
    the number of threads); phase 2 merges each community into one node
    (Numba aggregation, in parallel); the two repeat until nothing moves or a level gains less than
    ``threshold``. Then each level, from the coarsest down, moves its nodes again starting from
    the communities found above (the refinement of networkit's PLM; Staudt & Meyerhenke 2016,
    IEEE TPDS 27(1)). A directed graph is treated as undirected (A + Aᵀ). On a graph under 2M
    edges the level-0 adjacency is cached until the graph changes (12 bytes an adjacency entry),
    so calls with other seeds or resolutions start at phase 1.
    Modularity of the result is within about 0.02 of ``networkx.community.louvain_communities``
    on the test graphs (both are heuristics; neither is always ahead).

    Parameters
    ----------
    graph : Graph
    resolution : float
        γ in ``Q = Σ_c [L_c / m − γ (d_c / 2m)²]``; > 1 favours smaller communities.
    weight : str or None
        The edge column holding the weights (``"weight"`` or a numeric edge property), or None /
        False to count every edge as 1 (see :func:`edge_weights`).
    seed : int, optional
        Seeds the node order.
    threshold : float
        Minimum modularity gain of a level to go on to the next.
    max_levels : int
        Maximum number of aggregation levels.
    backend : {"auto", "cpu", "cuda"}
        Where the kernels run (:func:`alchemist.graph.gpu.kernel`); ``"auto"``: the GPU when one is available.
        On the GPU: cuGraph's ``louvain`` when cuGraph is installed, else the same levels with
        phase 1 by :func:`alchemist.graph.gpu.louvain_move`; modularity within 0.02 of the CPU path's.
    leiden : bool
        Aggregate the first level (on graphs of 200,000 edges or more) on Leiden's refinement of
        its communities into well-connected sub-communities (Traag, Waltman & van Eck 2019,
        Sci. Rep. 9, 5233): higher modularity where communities are loose (R-MAT scale 17:
        0.1250 against 0.1240, above networkit's PLM with refinement) for about 35 % more time.
        A smaller graph does the same unless its average degree is under 16, and its level 1
        goes through one more Leiden iteration once Louvain is done (refined, aggregated on the
        refinement, the levels above run again), if of 200 nodes or more and 20,000 adjacency
        entries or fewer (medians over 61 seeds: ego-Facebook 0.8357 against 0.8355 by default,
        CA-GrQc 0.8662 against 0.8652). cuGraph ignores it.

    Returns
    -------
    (n_nodes,) int64
        Community of each node, numbered by decreasing size (0 = largest).

    Raises
    ------
    GraphError
        A ``weight`` that is not a numeric edge column, a negative edge weight or a
        non-positive resolution.
    BackendError
        ``backend="cuda"`` without a CUDA device (see :func:`alchemist.backend.resolve_backend`).

    See Also
    --------
    modularity

    Examples
    --------
    >>> from alchemist.graph import Graph, louvain
    >>> g = Graph.from_edges([("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"),
    ...                       ("d", "e"), ("e", "f"), ("f", "d")])
    >>> louvain(g, seed=0)
    array([0, 0, 0, 1, 1, 1])
    """
    if resolution <= 0:
        raise GraphError(f"resolution={resolution}; it must be positive")
    move = gpu.kernel("louvain_move", backend)
    n = graph.number_of_nodes()
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if move is gpu.louvain_move and gpu.has_cugraph():
        A = _symmetric_matrix(graph, weight)
        return _by_size(gpu.cugraph_louvain(A, resolution=resolution, threshold=threshold, max_levels=max_levels))
    return _by_size(_louvain.louvain_levels(graph, edge_weights(graph, weight), resolution=resolution, seed=seed,
                                            threshold=threshold, max_levels=max_levels, move=move,
                                            leiden=leiden, key=weight or "unweighted"))


def modularity(graph, communities, *, resolution: float = 1.0, weight: str | None = "weight") -> float:
    """Newman–Girvan modularity of a partition (Newman 2006, "Modularity and community structure
    in networks", PNAS 103(23); NetworkX's ``modularity`` on the undirected graph):
    ``Q = Σ_c [L_c / m − γ (d_c / 2m)²]``.

    Parameters
    ----------
    graph : Graph
        A directed graph is treated as undirected.
    communities : (n_nodes,) sequence of labels, or an iterable of sets of node ids
        A partition of the nodes: one community label (int or str) per node in node row order
        (a list such as ``[0, 0, 1]`` or an array, e.g. :func:`louvain`'s result), or the
        communities as collections of node ids.
    resolution : float
        γ in the formula above.
    weight : str or None
        The edge column holding the weights (``"weight"`` or a numeric edge property), or None /
        False to count every edge as 1 (see :func:`edge_weights`).

    Returns
    -------
    float
        In [-1/2, 1]; 0.0 for a graph without edges.

    Raises
    ------
    GraphError
        The communities do not cover every node exactly once (the message names a node), a
        label list of the wrong length, or a ``weight`` that is not a numeric edge column.

    Examples
    --------
    Two triangles joined by one edge, split into the triangles: ``2 (3/7 − (7/14)²) = 5/14``.

    >>> from alchemist.graph import Graph, modularity
    >>> g = Graph.from_edges([("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"),
    ...                       ("d", "e"), ("e", "f"), ("f", "d")])
    >>> round(modularity(g, [{"a", "b", "c"}, {"d", "e", "f"}]), 6)
    0.357143
    """
    n = graph.number_of_nodes()
    labels = _labels_of(graph, communities)
    src, dst, _ = graph.edge_index()
    w = edge_weights(graph, weight)
    m = float(w.sum())
    if m == 0 or n == 0:
        return 0.0
    deg = np.bincount(src, weights=w, minlength=n) + np.bincount(dst, weights=w, minlength=n)
    same = labels[src] == labels[dst]
    c = int(labels.max()) + 1
    L = np.bincount(labels[src][same], weights=w[same], minlength=c)
    d = np.bincount(labels, weights=deg, minlength=c)
    return float((L / m - resolution * (d / (2 * m)) ** 2).sum())


def edge_weights(graph, weight: str | None = "weight") -> np.ndarray:
    """The edge weights an analytic uses, in edge order (the order of ``graph.edge_index()``).

    Parameters
    ----------
    graph : Graph
    weight : str or None
        ``"weight"`` (the edges' weight column), the name of another numeric edge column
        (a property every edge has), or None / False for 1 on every edge.

    Returns
    -------
    (n_edges,) float64

    Raises
    ------
    GraphError
        ``weight`` names no edge column, a column that is not numeric, or one with missing values
        (the message names the column and lists the numeric edge columns).

    Examples
    --------
    >>> from alchemist.graph import Graph
    >>> g = Graph.from_edges([("a", "b", 2.0), ("b", "c")])
    >>> edge_weights(g, "weight"), edge_weights(g, None)
    (array([2., 1.]), array([1., 1.]))
    >>> edge_weights(g, "wieght")
    Traceback (most recent call last):
    ...
    alchemist.errors.GraphError: weight='wieght' is not an edge column; the numeric edge columns are ['weight'] (pass weight=None to count every edge as 1)
    """
    _, _, w = graph.edge_index()
    if weight is None or weight is False:
        return np.ones(w.shape[0])
    if weight == "weight":
        return np.asarray(w, dtype=np.float64)
    frame = graph.edges
    numeric = [c for c, t in frame.schema.items() if t.is_numeric() and c not in ("source", "target")]
    if not isinstance(weight, str) or weight not in frame.columns:
        raise GraphError(f"weight={weight!r} is not an edge column; the numeric edge columns are {numeric} "
                         "(pass weight=None to count every edge as 1)")
    if weight not in numeric:
        raise GraphError(f"edge column {weight!r} is {frame.schema[weight]}, not numeric; the numeric edge "
                         f"columns are {numeric}")
    column = frame[weight]
    if column.null_count():
        raise GraphError(f"edge column {weight!r} has no value on {column.null_count()} edges; give every edge "
                         "a value or pass weight=None")
    return column.cast(float).to_numpy().astype(np.float64)


# ---------------------------------------------------------------------- helpers
def _summary(deg: np.ndarray) -> dict:
    if deg.shape[0] == 0:
        return {"min": 0, "max": 0, "mean": 0.0, "median": 0.0, "std": 0.0, "p99": 0.0}
    return {"min": int(deg.min()), "max": int(deg.max()), "mean": float(deg.mean()),
            "median": float(np.median(deg)), "std": float(deg.std()), "p99": float(np.percentile(deg, 99))}


def _components(graph, connection: str, backend: str = "auto") -> np.ndarray:
    on_device = gpu.on_device(backend)
    n = graph.number_of_nodes()
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    src, dst, _ = graph.edge_index()
    if on_device:
        return _by_size(gpu.component_labels(n, src, dst, graph.directed, connection))
    return cpu.component_labels(graph, connection)


def _by_size(labels: np.ndarray) -> np.ndarray:
    """Renumber labels by decreasing size, ties by first appearance. O(n + c) for labels in
    ``0 … c-1`` with ``c`` at most ``n`` (as the kernels return them); others by a sort."""
    labels = np.asarray(labels).ravel()
    n = labels.shape[0]
    counted = n and labels.dtype.kind in "iu"
    low, high = (int(labels.min()), int(labels.max())) if counted else (0, -1)
    if counted and 0 <= low and high < n:
        inverse, counts = labels, np.bincount(labels, minlength=high + 1)
        first = np.full(high + 1, n, dtype=np.int64)
        np.minimum.at(first, labels, np.arange(n))
    else:
        _, first, inverse, counts = np.unique(labels, return_index=True, return_inverse=True, return_counts=True)
    order = np.lexsort((first, -counts))[:int(np.count_nonzero(counts))]  # absent labels sort last
    rank = np.empty(counts.shape[0], dtype=np.int64)
    rank[order] = np.arange(order.shape[0])
    return rank[inverse.ravel()]


def _simple_csr(graph, direction: str):
    """CSR of the simple graph (each neighbour once, no self-loops), cached on the graph.
    ``direction``: "out", "in" or "undirected" (both directions of a directed graph merged)."""

    def build():
        if direction == "undirected" and graph.directed:
            indptr, indices, _, _ = build_csr(*graph.edge_index(), graph.number_of_nodes(), False)
        else:
            indptr, indices, _ = graph.csr_in() if direction == "in" else graph.csr()
        return _dedupe_csr(indptr, indices)

    return cached(graph, f"simple_csr_{direction}", build)


def _dedupe_csr(indptr, indices):
    """Drop self-loops and repeated neighbours from a CSR whose rows are sorted."""
    n = indptr.shape[0] - 1
    rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr))
    keep = rows != indices
    if indices.shape[0]:
        keep[1:] &= ~((rows[1:] == rows[:-1]) & (indices[1:] == indices[:-1]))
    rows, cols = rows[keep], indices[keep]
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=ptr[1:])
    return ptr, cols.astype(np.int64)


def _triangles(graph, backend="auto"):
    indptr, indices = _simple_csr(graph, "undirected")
    deg = np.diff(indptr).astype(np.float64)
    run = gpu.kernel("triangle_kernel", backend)
    if run is not kernels.triangle_kernel:
        return run(indptr, indices), deg
    if indices.shape[0] < _PARALLEL_TRIANGLES:
        return kernels.triangles_serial(indptr, indices), deg
    import numba

    return run(indptr, indices, 4 * numba.get_num_threads()), deg


def _symmetric_matrix(graph, weight):
    import scipy.sparse as sp

    n = graph.number_of_nodes()
    src, dst, _ = graph.edge_index()
    w = edge_weights(graph, weight)
    if w.shape[0] and w.min() < 0:
        raise GraphError(f"edge {graph.edge_ids[int(np.argmin(w))]!r} has a negative weight; Louvain needs w >= 0")
    # A + Aᵀ: a self-loop of weight w gets A_ii = 2w, so row sums are weighted degrees
    return sp.coo_matrix((np.concatenate([w, w]), (np.concatenate([src, dst]), np.concatenate([dst, src]))),
                         shape=(n, n))


def _labels_of(graph, communities) -> np.ndarray:
    n = graph.number_of_nodes()
    if _is_label_list(communities):
        labels = np.asarray(communities)
        if labels.shape != (n,):
            raise GraphError(f"a label list needs one community label per node ({n}), got shape {labels.shape}")
        return np.unique(labels, return_inverse=True)[1].ravel()
    labels = np.full(n, -1, dtype=np.int64)
    for c, members in enumerate(communities):
        rows = graph.node_rows(list(members))
        if (labels[rows] >= 0).any():
            bad = graph.node_ids[int(rows[labels[rows] >= 0][0])]
            raise GraphError(f"node {bad!r} is in more than one community")
        labels[rows] = c
    if (labels < 0).any():
        raise GraphError(f"node {graph.node_ids[int(np.flatnonzero(labels < 0)[0])]!r} is in no community")
    return labels


def _is_label_list(communities) -> bool:
    """An array or list of scalar labels (one per node), not a list of node-id collections."""
    if isinstance(communities, np.ndarray):
        return communities.dtype.kind in "iuUSb" or (communities.dtype.kind == "O" and communities.ndim == 1
                                                      and all(isinstance(v, (str, int, np.integer)) for v in communities))
    if isinstance(communities, (list, tuple)) and communities:
        return all(isinstance(v, (str, int, np.integer)) and not isinstance(v, bool) for v in communities)
    return False
