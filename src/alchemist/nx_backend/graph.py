"""The graph type of alchemist's NetworkX backend: a NetworkX graph as endpoint arrays.

NetworkX converts its graph once per call (or once per graph, cached in ``G.__networkx_cache__``
when ``nx.config.cache_converted_graphs`` is on, the default) with :func:`convert_from_nx`; the
algorithms then build the alchemist :class:`~alchemist.graph.Graph` they run on, one per weight
attribute, cached on the converted graph. Memory: ``O(n_nodes + n_edges)`` per weight attribute.
"""

from __future__ import annotations

import numpy as np

__all__ = ["BackendGraph", "convert_from_nx", "convert_to_nx"]


class BackendGraph:
    """A NetworkX ``Graph`` or ``DiGraph`` converted for alchemist's kernels.

    Parameters
    ----------
    nodes : list
        The NetworkX node objects; row ``i`` of every array is ``nodes[i]``.
    src, dst : (n_edges,) int64 ndarray
        Edge endpoints as rows.
    weights : dict of str to (n_edges,) float64 ndarray
        Numeric edge attributes that were converted (missing values take the default NetworkX
        asked for).
    directed : bool
    graph : dict
        The graph attributes (``G.graph``) when NetworkX asked to preserve them.
    original : networkx.Graph, optional
        The graph converted from, returned by :func:`convert_to_nx`.
    """

    __networkx_backend__ = "alchemist"

    def __init__(self, nodes, src, dst, weights, *, directed, graph=None, original=None):
        self.nodes = list(nodes)
        self.index = {node: row for row, node in enumerate(self.nodes)}
        self.src, self.dst = src, dst
        self.weights = weights
        self.directed = bool(directed)
        self.graph = dict(graph or {})
        self.original = original
        self._alchemist: dict = {}

    def is_directed(self) -> bool:
        """Whether edges have a direction (NetworkX's protocol)."""
        return self.directed

    def is_multigraph(self) -> bool:
        """Always False: the backend converts simple graphs only."""
        return False

    def number_of_nodes(self) -> int:
        """Number of nodes."""
        return len(self.nodes)

    def __len__(self) -> int:
        return len(self.nodes)

    def __contains__(self, node) -> bool:
        try:
            return node in self.index
        except TypeError:  # an unhashable "node" (NetworkX's `nodes in G` test)
            return False

    def __iter__(self):
        return iter(self.nodes)

    def alchemist(self, weight: str | None = None):
        """The alchemist Graph of this graph, edge weights from attribute ``weight`` (1.0 when None).

        Parameters
        ----------
        weight : str, optional
            An edge attribute NetworkX converted (see ``weights``).

        Returns
        -------
        alchemist.Graph
            Node ids ``"0" … "n-1"`` (rows), edges in NetworkX's edge order; cached.

        Raises
        ------
        NotImplementedError
            The attribute was not converted or is not numeric (NetworkX then falls back).
        """
        if weight not in self._alchemist:
            from alchemist.graph import Graph

            if weight is not None and weight not in self.weights:
                raise NotImplementedError(f"edge attribute {weight!r} was not converted to numbers")
            w = None if weight is None else self.weights[weight]
            self._alchemist[weight] = Graph.from_arrays(self.src, self.dst, w, node_ids=[str(i) for i in
                                                        range(len(self.nodes))], directed=self.directed)
        return self._alchemist[weight]

    def rows(self, nodes) -> np.ndarray:
        """Rows of NetworkX node objects (KeyError for an unknown one)."""
        return np.fromiter((self.index[n] for n in nodes), dtype=np.int64)


def convert_from_nx(G, *, edge_attrs=None, node_attrs=None, preserve_edge_attrs=False, preserve_node_attrs=False,
                    preserve_graph_attrs=False, name=None, graph_name=None) -> BackendGraph:
    """Convert a NetworkX graph for alchemist's kernels (the backend protocol's ``convert_from_nx``).

    Parameters
    ----------
    G : networkx.Graph or networkx.DiGraph
    edge_attrs : dict of str to default, optional
        The edge attributes the called function reads, with the value of an edge that lacks one
        (NetworkX passes e.g. ``{"weight": 1}`` for ``pagerank(G, weight="weight")``).
    preserve_edge_attrs : bool
        Convert every numeric edge attribute.
    preserve_graph_attrs : bool
        Keep ``G.graph``.
    node_attrs, preserve_node_attrs, name, graph_name
        Part of the protocol; node attributes are not used by the functions the backend runs.

    Returns
    -------
    BackendGraph

    Raises
    ------
    NotImplementedError
        A multigraph (NetworkX then runs its own implementation).

    Examples
    --------
    >>> import networkx as nx
    >>> bg = convert_from_nx(nx.path_graph(3), edge_attrs={"weight": 1})
    >>> bg.nodes, bg.src.tolist(), bg.dst.tolist(), bg.weights["weight"].tolist()
    ([0, 1, 2], [0, 1], [1, 2], [1.0, 1.0])
    """
    if G.is_multigraph():
        raise NotImplementedError("alchemist's NetworkX backend converts Graph and DiGraph, not multigraphs")
    nodes = list(G)
    index = {node: row for row, node in enumerate(nodes)}
    edges = list(G.edges(data=True))
    m = len(edges)
    src = np.fromiter((index[u] for u, _, _ in edges), dtype=np.int64, count=m)
    dst = np.fromiter((index[v] for _, v, _ in edges), dtype=np.int64, count=m)
    wanted = dict(edge_attrs or {})
    if preserve_edge_attrs:
        for _, _, data in edges:
            for key in data:
                wanted.setdefault(key, 1)
    weights = {}
    for attr, default in wanted.items():
        if attr is None:
            continue
        values = [data.get(attr, default) for _, _, data in edges]
        try:
            array = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError):
            continue  # not numeric: a function asking for it falls back to NetworkX
        if array.shape == (m,) and np.isfinite(array).all():
            weights[attr] = array
    return BackendGraph(nodes, src, dst, weights, directed=G.is_directed(),
                        graph=G.graph if preserve_graph_attrs else None, original=G)


def convert_to_nx(obj, *, name=None):
    """A result of the backend as NetworkX expects it (the protocol's ``convert_to_nx``).

    Parameters
    ----------
    obj : object
        A :class:`BackendGraph` (the NetworkX graph it came from, or one rebuilt from its arrays)
        or any other result (returned as it is: the functions already return NetworkX's types).
    name : str, optional
        The function's name.

    Returns
    -------
    object
    """
    if not isinstance(obj, BackendGraph):
        return obj
    if obj.original is not None:
        return obj.original
    import networkx as nx

    G = nx.DiGraph() if obj.directed else nx.Graph()
    G.graph.update(obj.graph)
    G.add_nodes_from(obj.nodes)
    attrs = list(obj.weights)
    for e in range(obj.src.shape[0]):
        G.add_edge(obj.nodes[obj.src[e]], obj.nodes[obj.dst[e]], **{a: float(obj.weights[a][e]) for a in attrs})
    return G
