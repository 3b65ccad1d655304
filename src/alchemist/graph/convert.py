"""Conversions: building a :class:`~alchemist.graph.Graph` from edges, arrays and NetworkX
graphs, and back to NetworkX (as NetworkX's own ``convert.py``); induced subgraphs.

Each builder makes the events that build the graph as columns (``graph_created``, a
``node_added`` before each node's first edge, one ``edge_added`` per edge) and applies them in one
column-wise step (:mod:`alchemist.graph.bulk`), so the graph's history is the same as if they had
been applied one by one. These are the bodies of the ``Graph.from_*`` class methods and of
:meth:`Graph.to_networkx <alchemist.graph.Graph.to_networkx>`, which document them; ``cls`` is
the class to build.
"""

from __future__ import annotations

import math
from typing import Iterable

import numpy as np

from alchemist.errors import DuplicateIdError, GraphError, InvalidEventError
from alchemist.graph import bulk
from alchemist.graph._columns import Column
from alchemist.graph._common import ALIVE, CREATED, EDGE, IMPLICIT_ID, NODE, jsonable, release_memory
from alchemist.graph.bulk import Batch
from alchemist.graph.csr import has_parallel

__all__ = ["from_arrays", "from_codes", "from_edge_list", "from_edges", "from_networkx", "induced", "load_edge_arrays",
           "load_edge_codes", "to_networkx"]


def from_edges(cls, edges: Iterable[tuple], *, graph_id: str = "graph", directed: bool = False,
               timestamps: Iterable[float] | None = None):
    """The body of :meth:`Graph.from_edges <alchemist.graph.Graph.from_edges>`.

    Parameters
    ----------
    cls : type
        The Graph class (or subclass) to build.
    edges : iterable of tuple
        ``(source, target)`` or ``(source, target, weight)``; ids are converted with ``str``.
    graph_id : str
        The new graph's aggregate id.
    directed : bool
        Whether the edges are directed.
    timestamps : iterable of float, optional
        Unix seconds of each edge, in input order.

    Returns
    -------
    Graph
        Nodes in order of first appearance; edge ids ``e0, e1, …`` in input order; weight 1.0
        where none is given.

    Raises
    ------
    GraphError
        An edge tuple has the wrong length, or ``timestamps`` has the wrong length.
    InvalidEventError
        A weight is not a finite number.

    Examples
    --------
    >>> from alchemist.graph import Graph
    >>> g = from_edges(Graph, [("a", "b", 2.0), ("b", "c")])
    >>> g.node_ids, g.edge_ids, g.version
    (['a', 'b', 'c'], ['e0', 'e1'], 6)
    >>> g.edge_index()
    (array([0, 1]), array([1, 2]), array([2., 1.]))
    """
    edges = list(edges)
    for i, edge in enumerate(edges):
        if len(edge) not in (2, 3):
            raise GraphError(f"edge {i} is {edge!r}; give (source, target) or (source, target, weight)")
    import pyarrow as pa

    src = pa.array([str(e[0]) for e in edges], type=pa.string())
    dst = pa.array([str(e[1]) for e in edges], type=pa.string())
    try:
        weights = np.array([float(e[2]) if len(e) == 3 else 1.0 for e in edges], dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidEventError(f"an edge weight is not a number ({exc})") from None
    times = None if timestamps is None else np.asarray(list(timestamps), dtype=np.float64)
    graph = cls(graph_id, directed=directed)
    load_edge_arrays(graph, src, dst, weights, times, where="edge")
    return graph


def from_edge_list(cls, edges, *, graph_id: str = "graph", directed: bool = False,
                   third: str = "timestamp"):
    """The body of :meth:`Graph.from_edge_list <alchemist.graph.Graph.from_edge_list>`.

    Parameters
    ----------
    cls : type
        The Graph class to build.
    edges : EdgeList
        What :func:`alchemist.graph.io.read_edge_list` returns.
    graph_id : str
    directed : bool
    third : {"timestamp", "weight"}
        What the edge list's third column means (Unix seconds or a weight).

    Returns
    -------
    Graph
        Edge ids ``e<line index>``; :attr:`version` counts the events a replay would make.

    Raises
    ------
    InvalidEventError
        A weight (``third="weight"``) is not finite; the message names the line index.

    Examples
    --------
    >>> import numpy as np
    >>> from alchemist.graph import EdgeList, Graph
    >>> edges = EdgeList(np.array(["1", "2"], dtype=object), np.array(["2", "3"], dtype=object),
    ...                  np.array([10.0, 20.0]), "inline")
    >>> g = from_edge_list(Graph, edges)
    >>> g.node_ids, g.edge_ids, g.version
    (['1', '2', '3'], ['e0', 'e1'], 6)
    """
    import pyarrow as pa

    n = len(edges)
    src = edges.source if isinstance(edges.source, pa.Array) else pa.array(edges.source, type=pa.string())
    dst = edges.target if isinstance(edges.target, pa.Array) else pa.array(edges.target, type=pa.string())
    if edges.third is not None and third == "timestamp":
        times, weights = np.asarray(edges.third, dtype=np.float64), np.ones(n)
    else:
        times = None
        weights = np.asarray(edges.third, dtype=np.float64) if edges.third is not None else np.ones(n)
    graph = cls(graph_id, directed=directed)
    load_edge_arrays(graph, src, dst, weights, times, where=f"{edges.path}: edge line index")
    if n >= 500_000:
        release_memory()
    return graph


def from_arrays(cls, source, target, weight=None, *, node_ids: Iterable | None = None,
                graph_id: str = "graph", directed: bool = False):
    """The body of :meth:`Graph.from_arrays <alchemist.graph.Graph.from_arrays>`.

    Parameters
    ----------
    cls : type
        The Graph class to build.
    source, target : (n_edges,) integer arrays
        Node rows.
    weight : (n_edges,) float array, optional
        1.0 per edge by default.
    node_ids : iterable of str, optional
        Ids of rows ``0 … n_nodes-1`` (isolated ones included); ``str(row)`` by default.
    graph_id : str
    directed : bool

    Returns
    -------
    Graph

    Raises
    ------
    GraphError
        Arrays of different lengths, negative rows, or rows beyond ``node_ids``.
    DuplicateIdError
        An id appears twice in ``node_ids``.
    InvalidEventError
        A weight is not finite (the message names the edge).

    Examples
    --------
    >>> import numpy as np
    >>> from alchemist.graph import Graph
    >>> g = from_arrays(Graph, np.array([0, 1]), np.array([1, 2]), node_ids=["x", "y", "z", "w"])
    >>> g.node_ids, g.number_of_edges()
    (['x', 'y', 'z', 'w'], 2)
    """
    graph = cls(graph_id, directed=directed)
    _load_arrays(graph, source, target, weight, node_ids)
    if graph.version >= 500_000:
        release_memory()
    return graph


def from_networkx(cls, G, *, graph_id: str = "graph", weight: str = "weight"):
    """The body of :meth:`Graph.from_networkx <alchemist.graph.Graph.from_networkx>`.

    Parameters
    ----------
    cls : type
        The Graph class to build.
    G : networkx.Graph, DiGraph, MultiGraph or MultiDiGraph
    graph_id : str
    weight : str
        The edge attribute that holds the weight (1.0 where absent).

    Returns
    -------
    Graph
        Node ids ``str(node)``; ``label``, ``weight`` and ``relationship``/``type`` attributes
        become the label, weight and relationship; other attributes become properties.

    Raises
    ------
    InvalidEventError
        A weight is not a finite number (the message names the edge).

    Examples
    --------
    >>> import networkx as nx
    >>> from alchemist.graph import Graph
    >>> G = nx.Graph()
    >>> G.add_edge(1, 2, weight=3.0, relationship="KNOWS")
    >>> G.add_node(9, label="Lonely")
    >>> g = from_networkx(Graph, G)
    >>> g.node_ids, g.edge("e0")["weight"], g.edge("e0")["relationship"]
    (['1', '2', '9'], 3.0, 'KNOWS')
    """
    import pyarrow as pa

    graph = cls(graph_id, directed=G.is_directed(), name=str(G.graph.get("name", "")))
    node_list = list(G.nodes(data=True))
    ids = [str(n) for n, _ in node_list]
    labels = [str(d.get("label", "")) for _, d in node_list]
    nprops = [{k: jsonable(v) for k, v in d.items() if k != "label"} for _, d in node_list]
    edge_iter = list(G.edges(keys=True, data=True) if G.is_multigraph() else (
        (u, v, None, d) for u, v, d in G.edges(data=True)))
    given = [d.get("id") for *_, d in edge_iter]
    use_given = all(isinstance(x, str) and x for x in given) and len(set(given)) == len(given)
    eids = given if use_given else [None] * len(edge_iter)
    weights = []
    for i, (u, v, _, d) in enumerate(edge_iter):
        try:
            w = float(d.get(weight, 1.0))
        except (TypeError, ValueError):
            raise InvalidEventError(f"edge ({u!r}, {v!r}) has a {weight} {d.get(weight)!r} that is not a number") from None
        if not math.isfinite(w):
            raise InvalidEventError(f"edge ({u!r}, {v!r}) has a non-finite {weight} {w!r}")
        weights.append(w)
    skip = {weight, "relationship", "type", "id"} if use_given else {weight, "relationship", "type"}
    eprops = [{k: jsonable(x) for k, x in d.items() if k not in skip} for *_, d in edge_iter]
    rels = [str(d.get("relationship", d.get("type", ""))) for *_, d in edge_iter]
    nn, ne = len(ids), len(edge_iter)
    kinds = np.concatenate([[CREATED], np.full(nn, NODE), np.full(ne, EDGE)]).astype(np.int8)
    a = pa.array([None] + ids + [str(u) for u, *_ in edge_iter], type=pa.string())
    b = pa.array([None] * (1 + nn) + [str(v) for _, v, *_ in edge_iter], type=pa.string())
    bulk.apply(graph, Batch(
        kinds, a, b,
        edge_ids=pa.array([None] * (1 + nn) + eids, type=pa.string()),
        label=[""] + labels + [""] * ne, relationship=[""] * (1 + nn) + rels,
        weight=np.concatenate([np.ones(1 + nn), np.asarray(weights, np.float64)]),
        props=[None] + nprops + eprops, times=None,
        created=[{"directed": G.is_directed(), "name": graph.name}]))
    return graph


def to_networkx(graph):
    """The body of :meth:`Graph.to_networkx <alchemist.graph.Graph.to_networkx>`.

    Parameters
    ----------
    graph : Graph

    Returns
    -------
    networkx.Graph, DiGraph, MultiGraph or MultiDiGraph
        A multigraph only when two edges join the same pair; edge ids in the ``id`` attribute,
        weights in ``weight``, labels, relationships and properties as attributes.

    Raises
    ------
    None
        NetworkX is a required dependency.

    Examples
    --------
    >>> from alchemist.graph import Graph
    >>> H = to_networkx(Graph.from_edges([("a", "b", 2.0), ("b", "c")]))
    >>> type(H).__name__, sorted(H.edges(data="weight"))
    ('Graph', [('a', 'b', 2.0), ('b', 'c', 1.0)])
    """
    import networkx as nx

    src, dst, w = graph.edge_index()
    multi = has_parallel(src, dst, graph.directed)
    G = (nx.MultiDiGraph() if multi else nx.DiGraph()) if graph.directed else (
        nx.MultiGraph() if multi else nx.Graph())
    if graph.name:
        G.graph["name"] = graph.name
    rows = graph._live_node_raw()
    words = graph._labels.words
    for r in rows.tolist():
        attrs = graph._node_props.get(r)
        label = words[graph._node_label[r]]
        if label:
            attrs["label"] = label
        G.add_node(graph._node_ids[r], **attrs)
    ids = graph.node_ids
    rels = graph._rels.words
    for k, e in enumerate(graph._live_edge_raw().tolist()):
        attrs = graph._edge_props.get(e)
        attrs["weight"] = float(w[k])
        attrs["id"] = graph._edge_id(e)
        rel = rels[graph._edge_rel[e]]
        if rel:
            attrs["relationship"] = rel
        G.add_edge(ids[src[k]], ids[dst[k]], **attrs)
    return G


def induced(graph, rows: np.ndarray, edge_positions: np.ndarray, *, graph_id: str | None = None):
    """A new graph of the live node ``rows`` and the live edges at ``edge_positions``
    (positions in :meth:`Graph.edge_index` order), made by taking rows of the columns: its history
    is ``node_added`` for each node, then ``edge_added`` for each edge.

    Parameters
    ----------
    graph : Graph
    rows : (k,) int64
        Sorted node rows (in ``graph.nodes`` order).
    edge_positions : (m,) int64
        Edges whose two ends are among ``rows``.
    graph_id : str, optional
        The new graph's id; ``graph.graph_id`` by default.

    Returns
    -------
    Graph
        Labels, properties, weights, relationships and positions kept.

    Raises
    ------
    None
        The rows are trusted (the caller, :func:`alchemist.graph.queries.subgraph`, checks ids).
    """
    raw = graph._live_node_raw()[rows]
    eraw = np.sort(graph._live_edge_raw()[edge_positions])
    g = type(graph)(graph_id or graph.graph_id, directed=graph.directed, strict=graph.strict,
                    keep_log=graph.keep_log, name=graph.name)
    nn, ne = raw.shape[0], eraw.shape[0]
    remap = np.full(len(graph._node_ids), -1, dtype=np.int64)
    remap[raw] = np.arange(nn)
    g._node_ids = [graph._node_ids[r] for r in raw.tolist()]
    g._node_index = None
    g._labels, g._rels = graph._labels.copy(), graph._rels.copy()
    g._node_label = graph._node_label.take(raw)
    g._node_time = graph._node_time.take(raw)
    g._node_added = Column.of(np.arange(1, nn + 1, dtype=np.int64))
    g._node_removed = Column(np.int64, fill=ALIVE, lazy=True)
    g._node_removed.pad_to(nn)
    g._node_props = graph._node_props.take(raw)
    g._src = Column.of(remap[graph._src.view()[eraw]])
    g._dst = Column.of(remap[graph._dst.view()[eraw]])
    g._weight = graph._weight.take(eraw)
    g._edge_rel = graph._edge_rel.take(eraw)
    g._edge_time = graph._edge_time.take(eraw)
    g._edge_added = Column.of(np.arange(nn + 1, nn + ne + 1, dtype=np.int64))
    g._edge_removed = Column(np.int64, fill=ALIVE, lazy=True)
    g._edge_removed.pad_to(ne)
    g._edge_props = graph._edge_props.take(eraw)
    explicit = graph._edge_explicit
    for new, old in enumerate(eraw.tolist()):
        if old != new or old in explicit:
            eid = explicit.get(old) or f"e{old}"
            if eid != f"e{new}":
                g._edge_explicit[new] = eid
                g._edge_index[eid] = new
    g._pattern_max = max((int(m.group(1)) for e in g._edge_index if (m := IMPLICIT_ID.fullmatch(e))), default=-1)
    times = np.concatenate([g._node_time.view(), g._edge_time.view()])
    g._vtime = Column(np.float64, fill=np.nan, lazy=True)
    g._vtime.extend(times)
    g._n_alive_nodes, g._n_alive_edges = nn, ne
    g.version = nn + ne
    if graph._pos is not None:
        g._pos = graph.positions[rows].copy()
    return g


def from_codes(cls, source, target, names, timestamps=None, *, graph_id: str = "graph", directed: bool = False):
    """A graph from an edge list given as integer codes into a list of node ids.

    The same graph as :func:`from_edge_list` of the edge list ``names[source[i]] names[target[i]]
    timestamps[i]`` (the same node order, edge ids ``e0, e1, …``, times, versions), built without
    turning the codes back into strings: what a consumer that collected an edge list's events as
    codes (:class:`alchemist.cim.fold.GraphFold`) or a snapshot reader holds.

    Parameters
    ----------
    cls : type
        The Graph class to build.
    source, target : (n_edges,) integer arrays
        Codes of each edge's ends: ``names[code]`` is the node id. Every code ``0 … len(names) - 1``
        is used by some edge.
    names : sequence of str
        The node id of each code (a list, or a pyarrow string array).
    timestamps : (n_edges,) float array, optional
        Unix seconds of each edge.
    graph_id : str
    directed : bool

    Returns
    -------
    Graph
        Nodes in order of first appearance (source before target, line by line); weight 1.0.

    Raises
    ------
    GraphError
        Arrays of different lengths, a code outside ``names``, or a name no edge uses.
    DuplicateIdError
        A name appears twice in ``names``.

    Examples
    --------
    >>> import numpy as np
    >>> from alchemist.graph import Graph
    >>> g = from_codes(Graph, np.array([1, 0]), np.array([0, 2]), ["b", "a", "c"], np.array([10.0, 20.0]))
    >>> g.node_ids, g.edge_ids, g.version, g.edge_index()[:2]
    (['a', 'b', 'c'], ['e0', 'e1'], 6, (array([0, 1]), array([1, 2])))
    """
    if not isinstance(names, list):
        names = names.to_pylist() if hasattr(names, "to_pylist") else list(names)
    if len(set(names)) != len(names):
        seen: set = set()
        for x in names:
            if x in seen:
                raise DuplicateIdError(f"node {x!r} appears twice in names")
            seen.add(x)
    src, dst = np.asarray(source), np.asarray(target)
    n = src.shape[0]
    times = None if timestamps is None else np.asarray(timestamps, dtype=np.float64)
    if src.ndim != 1 or dst.shape != src.shape or (times is not None and times.shape != src.shape):
        raise GraphError(f"source, target and timestamps must be 1-D arrays of one length, got {src.shape}, "
                         f"{dst.shape} and {None if times is None else times.shape}")
    if n and (min(src.min(), dst.min()) < 0 or max(src.max(), dst.max()) >= len(names)):
        raise GraphError(f"a code lies outside 0 … {len(names) - 1} (the names given)")
    graph = cls(graph_id, directed=directed)
    load_edge_codes(graph, src, dst, names, None, times, where="edge")
    if n >= 500_000:
        release_memory()
    return graph


def load_edge_arrays(graph, src, dst, weights: np.ndarray, times: np.ndarray | None, *, where: str) -> None:
    """The events of an edge list (graph_created, node_added before first use, edge_added)
    built as columns and applied in one bulk step.

    Parameters
    ----------
    graph : Graph
        An empty graph.
    src, dst : (n_edges,) pyarrow string arrays
        Endpoint ids.
    weights : (n_edges,) float64
    times : (n_edges,) float64 or None
        Unix seconds of each edge.
    where : str
        How an error names an edge (e.g. ``"edge"`` or ``"<file>: edge line index"``).

    Returns
    -------
    None

    Raises
    ------
    GraphError
        ``weights`` or ``times`` has a length other than ``n_edges``.
    InvalidEventError
        A weight is not finite, or an end is null (the message names it by ``where``).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(src)
    if weights.shape[0] != n or (times is not None and times.shape[0] != n):
        raise GraphError(f"{n} edges but {weights.shape[0]} weights / timestamps")
    ends = pa.concat_arrays([src.cast(pa.string()), dst.cast(pa.string())])
    if ends.null_count:
        k = int(np.flatnonzero(ends.is_null().to_numpy(zero_copy_only=False))[0]) % n
        raise InvalidEventError(f"{where} {k}: a source or target is null")
    encoded = pc.dictionary_encode(ends)
    del ends
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    names = encoded.dictionary.to_pylist()
    del encoded
    load_edge_codes(graph, codes[:n], codes[n:], names, weights, times, where=where)


def load_edge_codes(graph, src: np.ndarray, dst: np.ndarray, names: list, weights: np.ndarray | None,
                    times: np.ndarray | None, *, where: str) -> None:
    """The events of an edge list whose ends are codes into ``names``, applied to the columns.

    The state is that of the events ``graph_created``, then per edge a ``node_added`` for each end
    met for the first time (source first) with the edge's time, and the ``edge_added`` (id
    ``e<line>``): node rows in order of first appearance, versions in event order. The columns
    are written in place, sized once (no string is made or looked up again).

    Parameters
    ----------
    graph : Graph
        An empty graph.
    src, dst : (n_edges,) integer arrays
        Codes of the ends (``0 … len(names) - 1``, each used).
    names : list of str
        Distinct node ids by code.
    weights : (n_edges,) float64 or None
        1.0 when None.
    times : (n_edges,) float64 or None
        Unix seconds of each edge.
    where : str
        How an error names an edge.

    Returns
    -------
    None

    Raises
    ------
    GraphError
        The graph is not empty, or a name is used by no edge.
    InvalidEventError
        A weight is not finite (the message names it by ``where``).
    """
    from alchemist.events.times import rfc3339

    if graph.version or graph._node_ids or graph._src.size:
        raise GraphError(f"graph {graph.graph_id!r} is not empty: an edge list is loaded into a new graph")
    n, n_names = int(src.shape[0]), len(names)
    if weights is not None:
        bad = ~np.isfinite(weights)
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            raise InvalidEventError(f"{where} {k} has a non-finite weight {weights[k]!r}")
    # first slot (2i: source of edge i, 2i + 1: its target) of each code; rows follow it
    first = np.full(n_names, 2 * n, dtype=np.int64)
    for start in range(0, n, _BLOCK):  # in blocks: the slot numbers are temporaries of one block
        slots = np.arange(2 * start, 2 * min(n, start + _BLOCK), 2, dtype=np.int64)
        np.minimum.at(first, src[start:start + _BLOCK], slots)
        slots += 1
        np.minimum.at(first, dst[start:start + _BLOCK], slots)
    if n_names and first.max() >= 2 * n:
        unused = int(np.flatnonzero(first >= 2 * n)[0])
        raise GraphError(f"node {names[unused]!r} is used by no edge")
    order = np.argsort(first, kind="stable")          # row -> code
    first = first[order]                              # first slot of each row
    row_of = np.empty(n_names, dtype=np.int64)
    row_of[order] = np.arange(n_names)
    ids = names if bool((order == np.arange(n_names)).all()) else [names[c] for c in order.tolist()]
    del order
    line = first // 2                                 # edge line where each row appears first
    # event positions: 0 graph_created, then per line its new nodes (in slot order) and its edge
    edge_pos = np.bincount(line, minlength=n).astype(np.int64)
    new_two = edge_pos[line] == 2
    edge_pos += 1
    np.cumsum(edge_pos, out=edge_pos)                 # position of edge_added of each line
    node_pos = edge_pos[line] - 1
    node_pos -= new_two & (first % 2 == 0)            # the source of a line with two new ends
    del new_two
    total = 1 + n + n_names
    v0 = graph.version
    # nodes
    nn = n_names
    graph._node_ids.extend(ids)
    if graph._node_index_live is not None and nn:
        graph._node_index_live = None                 # built again on first use
    graph._node_label.pad_to(nn)
    if times is None:
        graph._node_time.pad_to(nn)
    else:
        graph._node_time.extend(times[line])
    graph._node_added.extend(v0 + 1 + node_pos)
    graph._node_removed.pad_to(nn)
    graph._n_alive_nodes += nn
    # edges
    np.take(row_of, src, out=graph._src.spare(n))
    graph._src.claim(n)
    np.take(row_of, dst, out=graph._dst.spare(n))
    graph._dst.claim(n)
    del row_of
    w = graph._weight.spare(n)
    w[:] = 1.0 if weights is None else weights
    graph._weight.claim(n)
    graph._edge_rel.pad_to(n)
    if times is None:
        graph._edge_time.pad_to(n)
    else:
        graph._edge_time.extend(times)
    added = graph._edge_added.spare(n)
    np.add(edge_pos, v0 + 1, out=added)
    graph._edge_added.claim(n)
    graph._edge_removed.pad_to(n)
    graph._n_alive_edges += n
    # graph_created, history
    graph._undo.append((v0 + 1, "meta", -1, (graph.directed, graph.name)))
    if times is None:
        graph._vtime.pad_to(v0 + total)
    else:
        t = graph._vtime.spare(total) if not graph._vtime.is_uniform or np.isfinite(times).any() else None
        if t is None:
            graph._vtime.pad_to(v0 + total)
        else:
            t[0] = times[0] if n else np.nan
            t[edge_pos] = times
            t[node_pos] = times[line]
            graph._vtime.claim(total)
    if graph._vseq is not None:
        graph._vseq.pad_to(v0 + total)
    graph.version = v0 + total
    if times is not None and n:
        finite = np.flatnonzero(np.isfinite(times))
        if finite.shape[0]:
            graph.last_timestamp = rfc3339(float(times[finite[-1]]))
    graph._cache.clear()


_BLOCK = 1 << 16
"""Edges per block of :func:`load_edge_codes`'s first-appearance pass."""


def _load_arrays(graph, source, target, weight, node_ids) -> None:
    import pyarrow as pa

    s = np.asarray(source, dtype=np.int64)
    t = np.asarray(target, dtype=np.int64)
    if s.shape != t.shape or s.ndim != 1:
        raise GraphError(f"source and target must be 1-D arrays of one length, got {s.shape} and {t.shape}")
    w = np.ones(s.shape[0]) if weight is None else np.asarray(weight, dtype=np.float64)
    if w.shape != s.shape:
        raise GraphError(f"{s.shape[0]} edges but {w.shape[0]} weights")
    if not np.isfinite(w).all():
        k = int(np.flatnonzero(~np.isfinite(w))[0])
        raise InvalidEventError(f"edge {k} has a non-finite weight {w[k]!r}")
    if node_ids is not None:
        ids = [str(x) for x in node_ids]
        bad = (s < 0) | (s >= len(ids)) | (t < 0) | (t >= len(ids))
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            raise GraphError(f"edge {k} ({s[k]}, {t[k]}) refers to a row outside 0 … {len(ids) - 1}")
        _append_rows(graph, ids, s, t, w)
        return
    if s.size and min(s.min(), t.min()) < 0:
        raise GraphError("node rows must be non-negative; pass node_ids= for custom ids")
    load_edge_arrays(graph, pa.array(s).cast(pa.string()), pa.array(t).cast(pa.string()), w, None, where="edge")


def _append_rows(graph, ids: list[str], src: np.ndarray, dst: np.ndarray, weight: np.ndarray) -> None:
    """node_added for each of ``ids``, then edge_added for each (src, dst) pair of rows of
    ``ids`` (implicit edge ids), applied straight to the columns: no string work."""
    if len(set(ids)) != len(ids):
        seen: set[str] = set()
        for x in ids:
            if x in seen:
                raise DuplicateIdError(f"node {x!r} appears twice in node_ids")
            seen.add(x)
    clash = graph._node_index.keys() & set(ids)
    if clash:
        raise DuplicateIdError(f"node {sorted(clash)[0]!r} already exists")
    if graph._pattern_max >= graph._src.size and src.shape[0]:
        clash_e = [f"e{r}" for r in range(graph._src.size, graph._src.size + src.shape[0]) if f"e{r}" in graph._edge_index]
        if clash_e:
            raise DuplicateIdError(f"edge {clash_e[0]!r} already exists")
    v0, n0, nn, m = graph.version, len(graph._node_ids), len(ids), src.shape[0]
    graph._node_ids.extend(ids)
    graph._node_index.update(zip(ids, range(n0, n0 + nn)))
    graph._node_label.extend(np.zeros(nn, np.int32))
    graph._node_time.extend(np.full(nn, np.nan))
    graph._node_added.extend(v0 + 1 + np.arange(nn))
    graph._node_removed.pad_to(n0 + nn)
    graph._src.extend(n0 + src)
    graph._dst.extend(n0 + dst)
    graph._weight.extend(weight)
    graph._edge_rel.extend(np.zeros(m, np.int32))
    graph._edge_time.extend(np.full(m, np.nan))
    graph._edge_added.extend(v0 + nn + 1 + np.arange(m))
    graph._edge_removed.pad_to(graph._src.size)
    graph._vtime.extend(np.full(nn + m, np.nan))
    if graph._vseq is not None:
        graph._vseq.pad_to(v0 + nn + m)
    graph._n_alive_nodes += nn
    graph._n_alive_edges += m
    graph.version = v0 + nn + m
    graph._cache.clear()
