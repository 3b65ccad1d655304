"""The NetworkX functions alchemist's backend runs, with NetworkX's signatures and return types.

Each function takes the :class:`~alchemist.nx_backend.graph.BackendGraph` NetworkX converted and
the arguments of the NetworkX function of the same name, runs alchemist's kernel, and returns what
NetworkX returns (dicts keyed by the NetworkX node objects, lists or generators of sets, Python
numbers). Arguments a kernel does not support are declined by :func:`can_run` (NetworkX then runs
its own implementation, or another backend), never ignored — except ``nstart`` of ``pagerank``,
which changes only the starting vector (the answer agrees within ``tol`` either way).
"""

from __future__ import annotations

import inspect
import numbers

import numpy as np

__all__ = ["FUNCTIONS", "can_run"]


def _nx():
    import networkx as nx

    return nx


def _weight_column(G, weight):
    """(alchemist Graph, the weight argument for alchemist) for a NetworkX ``weight`` argument."""
    if weight is None:
        return G.alchemist(None), None
    return G.alchemist(weight), "weight"


def _as_dict(G, values, cast=float) -> dict:
    return {node: cast(v) for node, v in zip(G.nodes, values.tolist())}


def _int_seed(seed) -> int | None:
    """An int seed from what NetworkX's ``py_random_state`` / ``np_random_state`` passed."""
    if seed is None or isinstance(seed, numbers.Integral):
        return seed
    if hasattr(seed, "getrandbits"):
        return seed.getrandbits(31)
    if hasattr(seed, "integers"):
        return int(seed.integers(2**31))
    return int(seed.randint(2**31))


# ------------------------------------------------------------------ link analysis, centrality
def pagerank(G, alpha=0.85, personalization=None, max_iter=100, tol=1.0e-06, nstart=None, weight="weight",
             dangling=None):
    """``networkx.pagerank`` on alchemist's power-iteration kernel (see :func:`alchemist.graph.pagerank`)."""
    from alchemist.errors import GraphError
    from alchemist.graph import pagerank as kernel

    nx = _nx()
    if len(G) == 0:
        return {}
    graph, w = _weight_column(G, weight)
    p = None
    if personalization is not None:
        p = np.array([personalization.get(n, 0) for n in G.nodes], dtype=float)
        if p.sum() == 0:
            raise ZeroDivisionError("the personalization vector sums to zero")
    try:
        x = kernel(graph, alpha, weight=w, tol=tol, max_iter=max_iter, personalization=p)
    except GraphError as exc:
        if "did not converge" in str(exc):
            raise nx.PowerIterationFailedConvergence(max_iter) from None
        raise
    return _as_dict(G, x)


def betweenness_centrality(G, k=None, normalized=True, weight=None, endpoints=False, seed=None):
    """``networkx.betweenness_centrality`` (hop counts, exact or ``k`` sampled sources drawn as NetworkX draws them)."""
    from alchemist.graph import betweenness_centrality as kernel

    if len(G) == 0:
        return {}
    graph = G.alchemist(None)
    sources = None
    if k is not None:
        import random

        rng = seed if hasattr(seed, "sample") else random.Random(seed)
        sources = [str(row) for row in G.rows(rng.sample(list(G.nodes), k))]
    return _as_dict(G, kernel(graph, normalized=normalized, sources=sources))


# ------------------------------------------------------------------ communities
def louvain_communities(G, weight="weight", resolution=1, threshold=1.0e-07, max_level=None, seed=None):
    """``networkx.community.louvain_communities`` on alchemist's Louvain kernel (a list of sets)."""
    from alchemist.graph import louvain as kernel

    if len(G) == 0:
        return []
    graph, w = _weight_column(G, weight)
    labels = kernel(graph, resolution=resolution, weight=w, seed=_int_seed(seed), threshold=threshold)
    return _sets(G, labels)


def modularity(G, communities, weight="weight", resolution=1):
    """``networkx.community.modularity`` (raises ``NotAPartition`` as NetworkX does)."""
    from alchemist.graph import modularity as kernel

    nx = _nx()
    if not isinstance(communities, list):
        communities = list(communities)
    labels = np.full(len(G), -1, dtype=np.int64)
    for c, community in enumerate(communities):
        for node in community:
            row = G.index.get(node)
            if row is None or labels[row] != -1:
                raise nx.NetworkXError(f"{communities} is not a valid partition of the graph")
            labels[row] = c
    if (labels < 0).any():
        raise nx.NetworkXError(f"{communities} is not a valid partition of the graph")
    graph, w = _weight_column(G, weight)
    if graph.number_of_edges() == 0:
        raise ZeroDivisionError("modularity of a graph without edges")
    return float(kernel(graph, labels, resolution=resolution, weight=w))


def _sets(G, labels) -> list[set]:
    groups: dict[int, set] = {}
    for node, label in zip(G.nodes, np.asarray(labels).tolist()):
        groups.setdefault(label, set()).add(node)
    return list(groups.values())


# ------------------------------------------------------------------ clustering
def clustering(G, nodes=None, weight=None):
    """``networkx.clustering`` of an undirected graph (a dict, or one number for a single node)."""
    from alchemist.graph import clustering as kernel

    values = kernel(G.alchemist(None))
    if nodes is not None and nodes in G:
        return float(values[G.index[nodes]])
    if nodes is None:
        return _as_dict(G, values)
    return {n: float(values[G.index[n]]) for n in nodes}


def average_clustering(G, nodes=None, weight=None, count_zeros=True):
    """``networkx.average_clustering`` of an undirected graph (``ZeroDivisionError`` when empty)."""
    from alchemist.graph import clustering as kernel

    values = kernel(G.alchemist(None))
    if nodes is not None:
        values = values[G.rows(nodes)]
    if not count_zeros:
        values = values[values > 0]
    if values.shape[0] == 0:
        raise ZeroDivisionError("average clustering of no nodes")
    return float(values.sum() / values.shape[0])


def transitivity(G):
    """``networkx.transitivity`` of an undirected graph."""
    from alchemist.graph import transitivity as kernel

    return float(kernel(G.alchemist(None))) if len(G) else 0


# ------------------------------------------------------------------ components
def connected_components(G):
    """``networkx.connected_components``: a generator of sets, largest first."""
    from alchemist.graph import connected_components as kernel

    labels = kernel(G.alchemist(None)) if len(G) else np.zeros(0, dtype=np.int64)
    yield from _sets(G, labels)


def strongly_connected_components(G):
    """``networkx.strongly_connected_components``: a generator of sets, largest first."""
    from alchemist.graph import strongly_connected_components as kernel

    labels = kernel(G.alchemist(None)) if len(G) else np.zeros(0, dtype=np.int64)
    yield from _sets(G, labels)


# ------------------------------------------------------------------ shortest paths
_METHODS = ("dijkstra", "bellman-ford")


def _path_call(G, source, weight, fn, *args, **kwargs):
    from alchemist.errors import NodeNotFoundError, NoPathError

    nx = _nx()
    if source not in G:
        raise nx.NodeNotFound(f"Source {source} is not in G")
    if weight is not None and weight in G.weights and (G.weights[weight] < 0).any():
        raise ValueError("Contradictory paths found: negative weights?")
    graph, w = _weight_column(G, weight)
    try:
        return fn(graph, str(G.index[source]), *args, weight=w, **kwargs)
    except NoPathError:
        raise nx.NetworkXNoPath(f"No path between {source} and {args[0] if args else '?'}.") from None
    except NodeNotFoundError as exc:
        raise nx.NodeNotFound(str(exc)) from None


def shortest_path(G, source=None, target=None, weight=None, method="dijkstra"):
    """``networkx.shortest_path`` with both ``source`` and ``target`` (a list of nodes)."""
    from alchemist.graph import shortest_path as kernel

    nx = _nx()
    if method not in _METHODS:
        raise ValueError(f"method not supported: {method}")
    if target not in G:
        raise nx.NodeNotFound(f"Target {target} is not in G")
    path = _path_call(G, source, weight, kernel, str(G.index[target]))
    return [G.nodes[int(row)] for row in path]


def shortest_path_length(G, source=None, target=None, weight=None, method="dijkstra"):
    """``networkx.shortest_path_length`` from a ``source`` (to one ``target``, or a dict to all reachable)."""
    from alchemist.graph import shortest_path_length as kernel

    nx = _nx()
    if method not in _METHODS:
        raise ValueError(f"method not supported: {method}")
    cast = int if weight is None else float
    if target is not None:
        if target not in G:
            raise nx.NodeNotFound(f"Target {target} is not in G")
        return cast(_path_call(G, source, weight, kernel, str(G.index[target])))
    lengths = _path_call(G, source, weight, kernel)
    return {G.nodes[row]: cast(d) for row, d in enumerate(lengths.tolist()) if np.isfinite(d)}


def single_source_dijkstra_path_length(G, source, cutoff=None, weight="weight"):
    """``networkx.single_source_dijkstra_path_length``: a dict of distances to the reachable nodes."""
    from alchemist.graph import shortest_path_length as kernel

    lengths = _path_call(G, source, weight, kernel)
    return {G.nodes[row]: float(d) for row, d in enumerate(lengths.tolist())
            if np.isfinite(d) and (cutoff is None or d <= cutoff)}


# ------------------------------------------------------------------ layout
def forceatlas2_layout(G, pos=None, *, max_iter=100, jitter_tolerance=1.0, scaling_ratio=2.0, gravity=1.0,
                       distributed_action=False, strong_gravity=False, node_mass=None, node_size=None, weight=None,
                       dissuade_hubs=False, linlog=False, seed=None, dim=2, store_pos_as=None):
    """``networkx.forceatlas2_layout`` on alchemist's Barnes–Hut ForceAtlas2 (a dict of 2-d positions)."""
    from alchemist.layout import forceatlas2

    if len(G) == 0:
        return {}
    graph = G.alchemist(weight)
    initial = None
    if pos is not None:
        initial = np.array([pos[n] for n in G.nodes], dtype=np.float64)
    xy = forceatlas2(graph, max_iter, scaling_ratio=scaling_ratio, gravity=gravity, strong_gravity=strong_gravity,
                     lin_log=linlog, dissuade_hubs=dissuade_hubs, jitter_tolerance=jitter_tolerance,
                     edge_weight_influence=1.0 if weight is not None else 0.0, initial_positions=initial,
                     seed=_int_seed(seed))
    return {node: np.asarray(xy[row], dtype=np.float64) for row, node in enumerate(G.nodes)}


FUNCTIONS = {f.__name__: f for f in (
    pagerank, betweenness_centrality, louvain_communities, modularity, clustering, average_clustering,
    transitivity, connected_components, strongly_connected_components, shortest_path, shortest_path_length,
    single_source_dijkstra_path_length, forceatlas2_layout)}
_SIGNATURES = {name: inspect.signature(fn) for name, fn in FUNCTIONS.items()}  # bound on every dispatched call


def _checks(name: str, a: dict, G) -> bool | str:
    """True, or why the backend declines these arguments (NetworkX then runs another implementation)."""
    weight = a.get("weight")
    if weight is not None and not isinstance(weight, str):
        return "weight must be an attribute name (a weight function is not supported)"
    if name == "pagerank" and a.get("dangling") is not None:
        return "dangling= is not supported"
    if name == "betweenness_centrality" and (weight is not None or a.get("endpoints")):
        return "weighted betweenness and endpoints=True are not supported"
    if name in ("louvain_communities", "modularity") and G.is_directed():
        return "directed modularity is not supported"
    if name == "louvain_communities" and a.get("max_level") is not None:
        return "max_level= is not supported"
    if name in ("clustering", "average_clustering", "transitivity") and (G.is_directed() or weight is not None):
        return "clustering of directed or weighted graphs is not supported"
    if name in ("shortest_path", "shortest_path_length"):
        if a.get("source") is None or (name == "shortest_path" and a.get("target") is None):
            return "only paths from a given source (and, for shortest_path, to a given target)"
        if weight is not None and a.get("method", "dijkstra") != "dijkstra":
            return "only Dijkstra for weighted paths"
    if name == "forceatlas2_layout":
        if a.get("dim", 2) != 2 or a.get("store_pos_as") is not None or a.get("distributed_action"):
            return "only 2-d layouts, without store_pos_as or distributed_action"
        if a.get("node_mass") is not None or a.get("node_size") is not None:
            return "node_mass/node_size are not supported"
        pos = a.get("pos")
        if pos is not None and any(n not in pos for n in G):
            return "pos must give every node a position"
    return True


def can_run(name, args, kwargs) -> bool | str:
    """Whether the backend runs ``name`` with these arguments (NetworkX's ``can_run`` protocol).

    Parameters
    ----------
    name : str
        The NetworkX function.
    args, kwargs
        Its arguments (graphs still NetworkX graphs).

    Returns
    -------
    bool or str
        True, or a string saying why not (NetworkX logs it and uses another implementation).
    """
    signature = _SIGNATURES.get(name)
    if signature is None:
        return False
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError as exc:
        return str(exc)
    G = next(iter(bound.arguments.values()))
    if getattr(G, "is_multigraph", lambda: False)():
        return "multigraphs are not supported"
    return _checks(name, bound.arguments, G)
