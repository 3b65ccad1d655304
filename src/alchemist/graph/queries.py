"""Local queries on a :class:`~alchemist.graph.Graph`: neighbours, k-hop neighbourhoods,
shortest paths, label and property search, induced subgraphs.

The traversals run as Numba kernels on the graph's CSR adjacency (built once, lazily, and
cached until the graph changes): breadth-first search for unweighted paths and neighbourhoods
(Cormen et al., *Introduction to Algorithms*, 3rd ed., §22.2), and bidirectional Dijkstra with
binary heaps for weighted paths (Dijkstra 1959; the bidirectional stopping rule of Goldberg &
Harrelson, "Computing the shortest path: A* search meets graph theory", SODA 2005, §3). Each is
also a :class:`Graph` method (``graph.shortest_path(a, b)``).

Directions: on a directed graph ``direction="out"`` follows edges forward, ``"in"`` backward and
``"both"`` ignores direction; on an undirected graph all three are the same. Parallel edges count
once for neighbours and, for weighted paths, the lightest one is used. Self-loops make a node its
own neighbour.
"""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from alchemist.errors import GraphError, NoPathError
from alchemist.graph import _query_kernels as kernels
from alchemist.graph import convert, gpu
from alchemist.graph.core import cached, csr_with_edges, label_mask
from alchemist.graph.csr import build_csr

__all__ = [
    "neighbors", "k_hop", "shortest_path", "shortest_path_length", "find_nodes", "subgraph",
]

_DIRECTIONS = ("out", "in", "both")


def neighbors(graph, node: str, *, direction: str = "out") -> list[str]:
    """Ids of the neighbours of ``node``, in row order, each once.

    Parameters
    ----------
    graph : Graph
    node : str
    direction : {"out", "in", "both"}
        Which edges of a directed graph to follow (ignored when undirected).

    Returns
    -------
    list of str

    Raises
    ------
    NodeNotFoundError
        ``node`` is not in the graph.
    GraphError
        An unknown ``direction``.

    Examples
    --------
    >>> from alchemist.graph import Graph
    >>> g = Graph.from_edges([("a", "b"), ("a", "c"), ("c", "a")], directed=True)
    >>> neighbors(g, "a"), neighbors(g, "a", direction="in")
    (['b', 'c'], ['c'])
    """
    row = graph.node_row(node)
    parts = [indices[indptr[row]: indptr[row + 1]] for indptr, indices in _adjacency(graph, direction)]
    rows = np.unique(np.concatenate(parts)) if parts else np.zeros(0, np.int64)
    ids = graph.node_ids
    return [ids[r] for r in rows.tolist()]


def k_hop(graph, nodes: str | Iterable[str], k: int = 1, *, direction: str = "both",
          include_self: bool = True) -> list[str]:
    """The nodes within ``k`` hops of ``nodes`` (breadth-first search, Cormen et al., *Introduction
    to Algorithms*, 3rd ed., §22.2).

    Parameters
    ----------
    graph : Graph
    nodes : str or iterable of str
        One or several seed nodes.
    k : int
        Number of hops, ``>= 0``.
    direction : {"both", "out", "in"}
        Which edges of a directed graph to follow (ignored when undirected).
    include_self : bool
        Whether the seeds are part of the answer.

    Returns
    -------
    list of str
        Ordered by hop distance, then by row.

    Raises
    ------
    NodeNotFoundError
        A seed is not in the graph (the message names it).
    GraphError
        ``k`` is negative or ``direction`` unknown.

    Examples
    --------
    A 4-cycle ``a–b–c–d–a`` with a tail ``d–e``:

    >>> from alchemist.graph import Graph
    >>> g = Graph.from_edges([("a", "b"), ("b", "c"), ("c", "d"), ("a", "d"), ("d", "e")])
    >>> k_hop(g, "a", 1)
    ['a', 'b', 'd']
    >>> k_hop(g, "a", 2, include_self=False)
    ['b', 'd', 'c', 'e']
    """
    if int(k) != k or k < 0:
        raise GraphError(f"k={k!r}: the number of hops must be a non-negative integer")
    seeds = graph.node_rows([nodes] if isinstance(nodes, str) else list(nodes))
    dist = _distances_bfs(graph, seeds, direction, max_depth=int(k))
    reached = np.flatnonzero(dist >= (0 if include_self else 1))
    reached = reached[np.argsort(dist[reached], kind="stable")]
    ids = graph.node_ids
    return [ids[r] for r in reached.tolist()]


def shortest_path(graph, source: str, target: str, *, weight: str | None = None,
                  direction: str = "out") -> list[str]:
    """A shortest path from ``source`` to ``target``, as node ids (both ends included).

    Unweighted: breadth-first search (Cormen et al., §22.2). Weighted: bidirectional Dijkstra
    (Dijkstra 1959, "A note on two problems in connexion with graphs", Numer. Math. 1; stopping
    rule of Goldberg & Harrelson 2005, SODA, §3).

    Parameters
    ----------
    graph : Graph
    source, target : str
        Node ids.
    weight : None or "weight"
        None: fewest edges (breadth-first search). ``"weight"``: least total edge weight
        (bidirectional Dijkstra; weights must be non-negative).
    direction : {"out", "in", "both"}
        ``"out"`` follows directed edges forward (the usual meaning of a path).

    Returns
    -------
    list of str

    Raises
    ------
    NodeNotFoundError
        ``source`` or ``target`` is not in the graph.
    NoPathError
        No path joins them (e.g. they lie in different components).
    GraphError
        A negative edge weight with ``weight="weight"`` (the message names the edge).

    Examples
    --------
    The direct edge ``a–c`` is one hop but weighs 5; ``a–b–c`` weighs 2:

    >>> from alchemist.graph import Graph
    >>> g = Graph.from_edges([("a", "b", 1.0), ("a", "c", 5.0), ("b", "c", 1.0)])
    >>> shortest_path(g, "a", "c")
    ['a', 'c']
    >>> shortest_path(g, "a", "c", weight="weight")
    ['a', 'b', 'c']
    """
    path, _ = _shortest(graph, source, target, weight, direction)
    ids = graph.node_ids
    return [ids[r] for r in path.tolist()]


def shortest_path_length(graph, source: str, target: str | None = None, *, weight: str | None = None,
                         direction: str = "out", backend: str = "auto"):
    """Length of a shortest path (edges, or total weight with ``weight="weight"``).

    Parameters
    ----------
    graph : Graph
    source : str
        Node id.
    target : str, optional
        Node id; when omitted, the lengths to every node are returned.
    weight : None or "weight"
        None: number of edges (breadth-first search); ``"weight"``: total edge weight (Dijkstra).
    direction : {"out", "in", "both"}
        As :func:`shortest_path`.
    backend : {"auto", "cpu", "cuda"}
        Where the single-source search (no ``target``) runs: on the GPU a level-synchronous BFS or
        a work-list Bellman–Ford (:mod:`alchemist.graph.gpu`), with the CPU's lengths exactly;
        ``"auto"``: the GPU when one is available. A search with ``target`` runs on the CPU.

    Returns
    -------
    float
        With ``target``: the length (raises :class:`NoPathError` when unreachable).
    (n_nodes,) float64
        Without ``target``: the length to every node in row order, ``inf`` where unreachable
        (single-source BFS or Dijkstra).

    Raises
    ------
    NodeNotFoundError, NoPathError, GraphError
        As :func:`shortest_path`.
    BackendError
        ``backend="cuda"`` without a CUDA device (see :func:`alchemist.backend.resolve_backend`).

    Examples
    --------
    >>> from alchemist.graph import Graph
    >>> g = Graph.from_edges([("a", "b", 1.0), ("a", "c", 5.0), ("b", "c", 1.0), ("x", "y", 1.0)])
    >>> shortest_path_length(g, "a", "c", weight="weight")
    2.0
    >>> shortest_path_length(g, "a")
    array([ 0.,  1.,  1., inf, inf])
    """
    on_device = gpu.on_device(backend)
    if target is not None:
        _, length = _shortest(graph, source, target, weight, direction)
        return length
    s = graph.node_row(source)
    if weight is None:
        dist = _distances_bfs(graph, np.array([s]), direction, -1, on_device).astype(np.float64)
        dist[dist < 0] = np.inf
        return dist
    _check_weight(graph, weight)
    (indptr, indices), = _adjacency(graph, direction, merged=True)
    w = _weights(graph, direction)
    return gpu.kernel("dijkstra_all", "cuda" if on_device else "cpu")(indptr, indices, w, s)


def find_nodes(graph, label: str | Iterable[str] | None = None, *, where=None, id_contains: str | None = None,
               **properties: Any) -> list[str]:
    """Ids of the nodes that match every condition given, in row order.

    Parameters
    ----------
    graph : Graph
    label : str or iterable of str, optional
        The node's label is this one (or one of these).
    where : polars expression, optional
        A filter on :attr:`Graph.nodes`, e.g. ``pl.col("age") > 30``.
    id_contains : str, optional
        A substring of the node id.
    **properties
        ``key=value``: the property equals the value (on its typed column).

    Returns
    -------
    list of str

    Raises
    ------
    GraphError
        A property key that no node has (the message lists the keys there are).

    Examples
    --------
    >>> import polars as pl
    >>> from alchemist.events import new_event
    >>> from alchemist.graph import Graph
    >>> g = Graph("g")
    >>> _ = g.apply([
    ...     new_event("node_added", "g", {"node_id": "ada", "label": "Person", "properties": {"age": 36}}),
    ...     new_event("node_added", "g", {"node_id": "bob", "label": "Person", "properties": {"age": 25}}),
    ...     new_event("node_added", "g", {"node_id": "acme", "label": "Company"})])
    >>> find_nodes(g, "Person"), find_nodes(g, age=36), find_nodes(g, id_contains="a")
    (['ada', 'bob'], ['ada'], ['ada', 'acme'])
    >>> find_nodes(g, where=pl.col("age") > 30)
    ['ada']
    """
    n = graph.number_of_nodes()
    keep = np.ones(n, dtype=bool)
    if label is not None:
        wanted = {label} if isinstance(label, str) else set(label)
        keep &= label_mask(graph, wanted)
    for key, value in properties.items():
        values, present = graph.node_property(key)
        if isinstance(values, np.ndarray):
            try:
                match = values == value
            except (TypeError, ValueError):
                match = np.zeros(n, dtype=bool)
            keep &= present & np.asarray(match, dtype=bool)
        else:
            keep &= present & np.fromiter((v == value for v in values), dtype=bool, count=n)
    if id_contains is not None:
        import pyarrow as pa
        import pyarrow.compute as pc

        ids = cached(graph, "ids_arrow", lambda: pa.array(graph.node_ids, type=pa.string()))
        keep &= pc.match_substring(ids, id_contains).to_numpy(zero_copy_only=False)
    if where is not None:
        frame = cached(graph, "nodes_frame", lambda: graph.nodes)
        import polars as pl

        keep &= frame.select(where.fill_null(False).alias("_m"))["_m"].to_numpy().astype(bool) if isinstance(
            where, pl.Expr) else np.asarray(where, dtype=bool)
    ids = graph.node_ids
    return [ids[r] for r in np.flatnonzero(keep).tolist()]


def subgraph(graph, nodes: Iterable[str], *, graph_id: str | None = None):
    """The subgraph induced by ``nodes``: those nodes (labels, properties, positions) and every
    edge whose two ends are among them (ids, relationships, weights, properties kept).

    The result is a new Graph whose history is the ``node_added``/``edge_added`` events that
    build it; nodes keep their relative row order.

    Parameters
    ----------
    graph : Graph
    nodes : iterable of str
        Node ids (duplicates are ignored).
    graph_id : str, optional
        Id of the new graph; the source graph's id by default.

    Returns
    -------
    Graph

    Raises
    ------
    NodeNotFoundError
        An id is not in the graph (the message names it).

    Examples
    --------
    >>> from alchemist.graph import Graph
    >>> g = Graph.from_edges([("a", "b"), ("b", "c"), ("c", "d"), ("a", "d")])
    >>> s = subgraph(g, ["a", "b", "c"])
    >>> s.node_ids, s.edge_ids
    (['a', 'b', 'c'], ['e0', 'e1'])
    """
    rows = np.unique(graph.node_rows(list(nodes)))
    n = graph.number_of_nodes()
    mask = np.zeros(n, dtype=np.bool_)
    mask[rows] = True
    indptr, indices, _, edge_pos = csr_with_edges(graph)
    positions = kernels.induced_edges(indptr, indices, edge_pos, mask, rows)
    return convert.induced(graph, rows, np.unique(positions), graph_id=graph_id)


# ---------------------------------------------------------------------- helpers
def _adjacency(graph, direction: str, merged: bool = False):
    """CSR pairs ``(indptr, indices)`` to follow; one merged pair for ``direction="both"`` on
    a directed graph when ``merged`` (built once and cached)."""
    if direction not in _DIRECTIONS:
        raise GraphError(f"direction={direction!r}; use 'out', 'in' or 'both'")
    if not graph.directed or direction == "out":
        return [graph.csr()[:2]]
    if direction == "in":
        return [graph.csr_in()[:2]]
    if not merged:
        return [graph.csr()[:2], graph.csr_in()[:2]]
    return [_both(graph)[:2]]


def _both(graph):
    """CSR of a directed graph with both directions merged (cached until the graph changes)."""
    return cached(graph, "csr_both", lambda: build_csr(*graph.edge_index(), graph.number_of_nodes(), False)[:3])


def _weights(graph, direction):
    if not graph.directed or direction == "out":
        return graph.csr()[2]
    if direction == "in":
        return graph.csr_in()[2]
    return _both(graph)[2]


def _check_weight(graph, weight):
    if weight != "weight":
        raise GraphError(f"weight={weight!r}; use None (hop count) or 'weight' (the edge weights)")
    w = graph.edge_index()[2]
    low, pos = cached(graph, "min_weight", lambda: (float(w.min()), int(np.argmin(w))) if w.shape[0] else (0.0, -1))
    if low < 0:
        raise GraphError(f"edge {graph.edge_ids[pos]!r} has a negative weight {low}; Dijkstra needs "
                         "non-negative weights")


def _distances_bfs(graph, seeds: np.ndarray, direction: str, max_depth: int, on_device: bool = False) -> np.ndarray:
    adj = _adjacency(graph, direction, merged=True)
    (indptr, indices), = adj
    bfs = gpu.kernel("bfs", "cuda") if on_device else kernels.bfs
    return bfs(indptr, indices, seeds.astype(np.int64), max_depth, -1)[0]


def _shortest(graph, source, target, weight, direction):
    s, t = graph.node_row(source), graph.node_row(target)
    (indptr, indices), = _adjacency(graph, direction, merged=True)
    reverse = {"out": "in", "in": "out", "both": "both"}[direction]
    (rptr, rind), = _adjacency(graph, reverse, merged=True)
    if weight is None:
        length, meet, pf, pb = kernels.bfs_bidirectional(indptr, indices, rptr, rind, s, t)
    else:
        _check_weight(graph, weight)
        w, rw = _weights(graph, direction), _weights(graph, reverse)
        length, meet, pf, pb = kernels.dijkstra_bidirectional(indptr, indices, w, rptr, rind, rw, s, t)
    if meet < 0:
        raise NoPathError(f"no path from {source!r} to {target!r}")
    forward = _walk_back(pf, s, meet)
    backward = _walk_back(pb, t, meet)[::-1]
    return np.concatenate([forward, backward[1:]]), float(length)


def _walk_back(parent: np.ndarray, start: int, end: int) -> np.ndarray:
    path = [end]
    while path[-1] != start:
        path.append(int(parent[path[-1]]))
    return np.asarray(path[::-1], dtype=np.int64)

