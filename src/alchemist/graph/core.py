"""The event-sourced, columnar :class:`Graph` (DESIGN.md §5).

A Graph is the fold of a CIM graph's events. Nodes and edges live in NumPy columns indexed by
*raw row* (rows are appended, never moved): endpoints as int64 raw node rows, weights float64,
times float64 Unix seconds, labels and relationship types as int32 codes into a vocabulary,
properties as one typed column per key (:class:`~alchemist.graph._columns.PropertyTable`).
Every row carries the version that added it and the version that removed it, so that
:meth:`Graph.at` rebuilds any earlier state by slicing the row prefix and undoing the few
in-place updates recorded after it, with no replay from version 0.

Row order: ``graph.nodes`` lists the live nodes in the order they were added; every per-node
array alchemist returns (positions, scores, labels) follows that order, and
:meth:`Graph.edge_index` gives edge endpoints as row numbers in it.

Applying events is idempotent by event id (an event applied once is skipped when it comes
again) and atomic per call: :meth:`Graph.apply` checks every event against the state it would
meet before it changes anything, so a bad event never leaves a half-applied batch behind.
Batches made only of ``node_added`` / ``edge_added`` (and ``graph_created``) events are checked
and applied with vectorized Arrow/NumPy operations; :meth:`Graph.apply_columns` takes such
events as a table (Arrow, polars, pandas) and skips the per-event Python objects entirely.

Edge ids: an edge whose id is ``"e<raw row>"`` (what the SNAP readers and :meth:`from_edges`
assign) stores no string at all; other ids are kept in a dict. Both look up the same way.

This module lays out the columns and holds the constructors, event application and history; the
reads are in two base classes of :class:`Graph`: :class:`~alchemist.graph.access.AccessMixin`
(sizes, id/row lookups, degree, CSR) and :class:`~alchemist.graph.views.ViewsMixin` (node and
edge tables, positions, NetworkX, files, reprs). The code that writes the columns lives beside it:
:mod:`~alchemist.graph.mutation` (events one at a time), :mod:`~alchemist.graph.bulk` (column-wise:
a plan that checks, then a commit that applies), :mod:`~alchemist.graph.history` (:meth:`Graph.at`)
and :mod:`~alchemist.graph.convert` (the ``from_*`` builders, NetworkX, induced subgraphs). The
query and I/O methods import their module when called: those modules import this one.
"""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from alchemist.events import Event
from alchemist.graph import bulk, convert, history, mutation
from alchemist.graph._columns import Column, PropertyTable, Vocabulary
from alchemist.graph._common import ALIVE, BULK_MIN, as_arrow_table
from alchemist.graph.access import AccessMixin, cached, csr_with_edges, label_mask
from alchemist.graph.mutation import ApplyResult
from alchemist.graph.views import ViewsMixin

__all__ = ["Graph", "ApplyResult", "cached", "csr_with_edges", "label_mask"]


class Graph(AccessMixin, ViewsMixin):
    """An event-sourced, columnar property graph.

    Parameters
    ----------
    graph_id : str
        The aggregate id of the graph on the CIM (``graph.events.<graph_id>.*``).
    directed : bool
        Whether edges are directed. Parallel edges and self-loops are kept (each edge has its own
        id); algorithms document how they treat them.
    strict : bool
        When True (default), an ``edge_added`` whose endpoint is not a node raises
        :class:`~alchemist.errors.NodeNotFoundError` naming the id; when False the endpoint is
        created (as NetworkX's ``add_edge`` does).
    keep_log : bool
        Keep the applied :class:`~alchemist.events.Event` objects (:attr:`events`). Time travel
        (:meth:`at`) works either way: it uses the version stamps of the rows.
    name : str
        A display name.

    Notes
    -----
    Defined behaviour on awkward input: self-loops are kept (degree counts one twice when
    undirected, as NetworkX does); parallel edges are kept as separate edges with their own ids;
    isolated nodes are kept; an edge to an unknown node raises ``NodeNotFoundError`` (strict) or
    creates the node; a non-finite weight raises ``InvalidEventError``; removing a node removes its
    edges.

    Examples
    --------
    >>> g = Graph.from_edges([("a", "b"), ("b", "c")])
    >>> g.number_of_nodes(), g.number_of_edges(), g.version
    (3, 2, 6)

    An empty graph grows by events; with ``strict=False`` an edge creates its endpoints:

    >>> from alchemist import new_event
    >>> h = Graph("h", directed=True, strict=False)
    >>> _ = h.apply(new_event("edge_added", "h", {"edge_id": "ab", "source": "a", "target": "b"}))
    >>> h
    <alchemist.Graph 'h': 2 nodes, 1 edges, directed, version 1>

    See Also
    --------
    alchemist.graph.access.AccessMixin : sizes, lookups, degree and CSR (inherited).
    alchemist.graph.views.ViewsMixin : tables, positions, NetworkX and files (inherited).
    """

    def __init__(self, graph_id: str = "graph", *, directed: bool = False, strict: bool = True,
                 keep_log: bool = True, name: str = ""):
        self.graph_id = graph_id
        self.directed = directed
        self.strict = strict
        self.name = name
        self.keep_log = keep_log
        self.version = 0
        self.last_sequence: int | None = None
        self.last_cid: str | None = None
        self.last_timestamp: str | None = None
        self.duplicates_skipped = 0
        # history
        self._log: list[Event] = []
        self._log_version = Column(np.int64)
        self._applied: dict[str, int] = {}
        self._vtime = Column(np.float64, fill=np.nan, lazy=True)  # timestamp of version v at [v - 1]
        self._vseq: Column | None = None                 # stream sequence of version v at [v - 1]
        self._undo: list[tuple] = []                     # (version, what, raw row, old value)
        # nodes (raw rows)
        self._node_ids: list[str] = []
        self._ids_table = None                           # id -> raw row (NodeTable), built on first bulk call
        self._node_index_live: dict[str, int] | None = {}  # id -> raw row of live nodes; None: built on use
        self._labels = Vocabulary()
        self._node_label = Column(np.int32, lazy=True)
        self._node_time = Column(np.float64, fill=np.nan, lazy=True)
        self._node_added = Column(np.int64)
        self._node_removed = Column(np.int64, fill=ALIVE, lazy=True)
        self._node_props = PropertyTable()
        self._pos: np.ndarray | None = None              # (raw rows, 2) float32
        # edges (raw rows)
        self._edge_explicit_d: dict[int, str] = {}       # raw row -> id, when it is not "e<row>"
        self._edge_index_d: dict[str, int] = {}          # explicit id -> raw row (live only)
        self._edge_pending: list[tuple] = []             # (rows, pyarrow ids) of bulk calls, not yet in the dicts
        self._pattern_max = -1                           # largest k of explicit ids "e<k>"
        self._src = Column(np.int64)
        self._dst = Column(np.int64)
        self._weight = Column(np.float64)
        self._rels = Vocabulary()
        self._edge_rel = Column(np.int32, lazy=True)
        self._edge_time = Column(np.float64, fill=np.nan, lazy=True)
        self._edge_added = Column(np.int64)
        self._edge_removed = Column(np.int64, fill=ALIVE, lazy=True)
        self._edge_props = PropertyTable()
        self._n_alive_nodes = 0
        self._n_alive_edges = 0
        self._cache: dict[str, Any] = {}

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_edges(cls, edges: Iterable[tuple], *, graph_id: str = "graph", directed: bool = False,
                   timestamps: Iterable[float] | None = None) -> "Graph":
        """Build a graph from ``(source, target)`` or ``(source, target, weight)`` tuples.

        Node ids are converted to strings; edge ids are ``e0, e1, ...`` in input order. The
        graph's history is the events that build it: ``graph_created``, then a ``node_added``
        before each node's first edge and one ``edge_added`` per edge (:attr:`version` counts them).

        Parameters
        ----------
        edges : iterable of tuple
            ``(source, target)`` or ``(source, target, weight)``; the weight defaults to 1.0.
        graph_id : str
        directed : bool
        timestamps : iterable of float, optional
            Unix seconds of each edge (the ``timestamp`` column of :attr:`edges`).

        Returns
        -------
        Graph

        Raises
        ------
        GraphError
            An edge tuple has the wrong length, or ``timestamps`` has the wrong length.
        InvalidEventError
            A weight is not a finite number.

        Examples
        --------
        >>> g = Graph.from_edges([("a", "b"), ("b", "c", 2.5)], directed=True)
        >>> g.node_ids, g.edge_ids, g.version
        (['a', 'b', 'c'], ['e0', 'e1'], 6)
        >>> g.edge("e1")["weight"]
        2.5
        """
        return convert.from_edges(cls, edges, graph_id=graph_id, directed=directed, timestamps=timestamps)

    @classmethod
    def from_edge_list(cls, edges, *, graph_id: str = "graph", directed: bool = False,
                       third: str = "timestamp") -> "Graph":
        """Build a graph from an :class:`~alchemist.graph.io.EdgeList` in one vectorized step.

        The result is the state the events of a replay of the file give
        (:func:`alchemist.cim.edge_list_events`: ``graph_created``, then per line a
        ``node_added`` for each endpoint not seen before and one ``edge_added`` with id
        ``e<line index>``), and :attr:`version` counts those events; the events themselves are
        not materialised.

        Parameters
        ----------
        edges : EdgeList
            What :func:`alchemist.graph.io.read_edge_list` returns.
        graph_id : str
        directed : bool
        third : {"timestamp", "weight"}
            What the third column means: Unix seconds (the edges' timestamps) or the weight.

        Returns
        -------
        Graph

        Raises
        ------
        InvalidEventError
            A weight (``third="weight"``) is not finite; the message names the line.

        Examples
        --------
        >>> import numpy as np
        >>> from alchemist.graph.io import EdgeList
        >>> lines = EdgeList(np.array(["1", "2"], dtype=object), np.array(["2", "3"], dtype=object),
        ...                  np.array([10.0, 20.0]), "messages.txt")
        >>> g = Graph.from_edge_list(lines)
        >>> g.version, g.edges.select("id", "source", "target").rows()
        (6, [('e0', '1', '2'), ('e1', '2', '3')])
        >>> Graph.from_edge_list(lines, third="weight").edges["weight"].to_list()
        [10.0, 20.0]
        """
        return convert.from_edge_list(cls, edges, graph_id=graph_id, directed=directed, third=third)

    @classmethod
    def from_arrays(cls, source, target, weight=None, *, node_ids: Iterable | None = None,
                    graph_id: str = "graph", directed: bool = False) -> "Graph":
        """Build a graph from integer endpoint arrays (rows ``0 … n_nodes-1``).

        Parameters
        ----------
        source, target : (n_edges,) integer arrays
            Node rows.
        weight : (n_edges,) float array, optional
            1.0 for every edge when omitted.
        node_ids : iterable of str, optional
            Ids of rows ``0 … n_nodes-1`` (all of them are added, isolated ones included, in this
            order); ``str(row)`` by default, with the nodes added in order of first appearance.
        graph_id : str
        directed : bool

        Returns
        -------
        Graph
            Edge ids ``e0, e1, …`` in array order.

        Raises
        ------
        GraphError
            Endpoints are negative or beyond ``node_ids``.
        InvalidEventError
            A weight is not finite (the message names the edge).

        Examples
        --------
        >>> import numpy as np
        >>> g = Graph.from_arrays(np.array([0, 1]), np.array([1, 2]), node_ids=["a", "b", "c", "d"])
        >>> g.node_ids, g.degree()
        (['a', 'b', 'c', 'd'], array([1, 2, 1, 0]))
        """
        return convert.from_arrays(cls, source, target, weight, node_ids=node_ids, graph_id=graph_id, directed=directed)

    @classmethod
    def from_networkx(cls, G, *, graph_id: str = "graph", weight: str = "weight") -> "Graph":
        """Convert a NetworkX graph (``Graph``, ``DiGraph``, ``MultiGraph``, ``MultiDiGraph``).

        Node ids become strings (``str(node)``); node and edge attributes become properties,
        except ``label`` (the node label), ``weight`` (the edge weight, default 1.0) and
        ``relationship``/``type`` (the edge type). Isolated nodes are kept. Edge ids are the
        ``id`` attribute when every edge has a distinct one, else ``e0, e1, …``.

        Parameters
        ----------
        G : networkx.Graph, DiGraph, MultiGraph or MultiDiGraph
            Directed when ``G.is_directed()``.
        graph_id : str
        weight : str
            The edge attribute read as the weight.

        Returns
        -------
        Graph

        Raises
        ------
        InvalidEventError
            A weight is not a finite number (the message names the edge).

        Examples
        --------
        >>> import networkx as nx
        >>> g = Graph.from_networkx(nx.path_graph(3))
        >>> g.node_ids, g.edges.select("id", "source", "target").rows()
        (['0', '1', '2'], [('e0', '0', '1'), ('e1', '1', '2')])
        """
        return convert.from_networkx(cls, G, graph_id=graph_id, weight=weight)

    @classmethod
    def from_frames(cls, nodes=None, edges=None, **options) -> "Graph":
        """Build a graph from node and edge tables (polars, pandas, Arrow).

        Parameters
        ----------
        nodes, edges : DataFrame or pyarrow.Table, optional
            One row per node (an ``id`` column) and per edge (``source``, ``target``, optionally
            ``id``, ``label``/``relationship``, ``weight``); other columns become properties.
        **options
            ``directed``, ``graph_id``, ``strict`` and the column names of
            :func:`alchemist.graph.io.from_frames`.

        Returns
        -------
        Graph

        Raises
        ------
        GraphFormatError
            A named column is missing.
        NodeNotFoundError
            An edge endpoint is not in the node table (``strict``).

        Examples
        --------
        >>> import polars as pl
        >>> g = Graph.from_frames(pl.DataFrame({"id": ["a", "b"], "label": ["Person", "Place"]}),
        ...                       pl.DataFrame({"source": ["a"], "target": ["b"], "weight": [2.0]}))
        >>> g.node("b"), g.edge("e0")["weight"]
        ({'id': 'b', 'label': 'Place'}, 2.0)
        """
        from alchemist.graph.io import from_frames

        return from_frames(nodes, edges, **options)

    @classmethod
    def from_arrow(cls, nodes=None, edges=None, **options) -> "Graph":
        """Build a graph from Arrow tables or Arrow stream exporters (:func:`alchemist.graph.arrow.from_arrow`).

        Examples
        --------
        >>> g = Graph.from_edges([("a", "b")])
        >>> Graph.from_arrow(*g.to_arrow()).node_ids
        ['a', 'b']
        """
        from alchemist.graph.arrow import from_arrow

        return from_arrow(nodes, edges, **options)

    # ------------------------------------------------------------------ queries (graph/queries.py)
    def neighbors(self, node: str, *, direction: str = "out") -> list[str]:
        """Ids of the neighbours of ``node``, in row order, each once
        (:func:`alchemist.graph.queries.neighbors`).

        Parameters
        ----------
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
        >>> g = Graph.from_edges([("a", "b"), ("a", "c"), ("c", "a")], directed=True)
        >>> g.neighbors("a"), g.neighbors("a", direction="in"), g.neighbors("b", direction="both")
        (['b', 'c'], ['c'], ['a'])
        """
        from alchemist.graph.queries import neighbors

        return neighbors(self, node, direction=direction)

    def k_hop(self, nodes, k: int = 1, *, direction: str = "both", include_self: bool = True) -> list[str]:
        """The nodes within ``k`` hops of ``nodes`` (breadth-first search;
        :func:`alchemist.graph.queries.k_hop`).

        Parameters
        ----------
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
            A seed is not in the graph.
        GraphError
            ``k`` is negative or ``direction`` unknown.

        Examples
        --------
        >>> g = Graph.from_edges([("a", "b"), ("b", "c"), ("c", "d"), ("d", "e")])
        >>> g.k_hop("a", 2), g.k_hop(["a", "e"], 1, include_self=False)
        (['a', 'b', 'c'], ['b', 'd'])
        """
        from alchemist.graph.queries import k_hop

        return k_hop(self, nodes, k, direction=direction, include_self=include_self)

    def shortest_path(self, source: str, target: str, *, weight: str | None = None,
                      direction: str = "out") -> list[str]:
        """A shortest path from ``source`` to ``target`` as node ids, both ends included
        (breadth-first search, or bidirectional Dijkstra with ``weight="weight"``;
        :func:`alchemist.graph.queries.shortest_path`).

        Parameters
        ----------
        source, target : str
        weight : None or "weight"
            None: fewest edges. ``"weight"``: least total edge weight (non-negative weights).
        direction : {"out", "in", "both"}
            ``"out"`` follows directed edges forward.

        Returns
        -------
        list of str

        Raises
        ------
        NodeNotFoundError
            ``source`` or ``target`` is not in the graph.
        NoPathError
            No path joins them.
        GraphError
            A negative weight with ``weight="weight"``.

        Examples
        --------
        >>> g = Graph.from_edges([("a", "b", 1.0), ("a", "c", 5.0), ("b", "c", 1.0)])
        >>> g.shortest_path("a", "c"), g.shortest_path("a", "c", weight="weight")
        (['a', 'c'], ['a', 'b', 'c'])
        """
        from alchemist.graph.queries import shortest_path

        return shortest_path(self, source, target, weight=weight, direction=direction)

    def shortest_path_length(self, source: str, target: str | None = None, *, weight: str | None = None,
                             direction: str = "out"):
        """Length of a shortest path: edges, or total weight with ``weight="weight"``
        (:func:`alchemist.graph.queries.shortest_path_length`).

        Parameters
        ----------
        source : str
        target : str, optional
            When omitted, the lengths to every node are returned.
        weight : None or "weight"
        direction : {"out", "in", "both"}

        Returns
        -------
        float or (n_nodes,) float64 ndarray
            The length to ``target``; without ``target``, the length to every node in row order,
            ``inf`` where unreachable.

        Raises
        ------
        NodeNotFoundError, NoPathError, GraphError
            As :meth:`shortest_path`.

        Examples
        --------
        >>> g = Graph.from_edges([("a", "b", 1.0), ("a", "c", 5.0), ("b", "c", 1.0), ("x", "y", 1.0)])
        >>> g.shortest_path_length("a", "c", weight="weight")
        2.0
        >>> g.shortest_path_length("a")
        array([ 0.,  1.,  1., inf, inf])
        """
        from alchemist.graph.queries import shortest_path_length

        return shortest_path_length(self, source, target, weight=weight, direction=direction)

    def find_nodes(self, label=None, *, where=None, id_contains: str | None = None, **properties) -> list[str]:
        """Ids of the nodes that match every condition given, in row order
        (:func:`alchemist.graph.queries.find_nodes`).

        Parameters
        ----------
        label : str or iterable of str, optional
            The node's label is this one (or one of these).
        where : polars expression, optional
            A filter on :attr:`nodes`, e.g. ``pl.col("age") > 30``.
        id_contains : str, optional
            A substring of the node id.
        **properties
            ``key=value``: the property equals the value.

        Returns
        -------
        list of str

        Raises
        ------
        GraphError
            A property key that no node has (the message lists the keys there are).

        Examples
        --------
        >>> from alchemist import new_event
        >>> g = Graph("g")
        >>> _ = g.apply([new_event("node_added", "g", {"node_id": "ada", "label": "Person",
        ...                                            "properties": {"age": 36}}),
        ...              new_event("node_added", "g", {"node_id": "acme", "label": "Company"})])
        >>> g.find_nodes("Person"), g.find_nodes(age=36), g.find_nodes(id_contains="a")
        (['ada'], ['ada'], ['ada', 'acme'])
        """
        from alchemist.graph.queries import find_nodes

        return find_nodes(self, label, where=where, id_contains=id_contains, **properties)

    def subgraph(self, nodes, *, graph_id: str | None = None) -> "Graph":
        """The subgraph induced by ``nodes``: those nodes and every edge with both ends among
        them, with labels, properties, positions, ids and weights kept
        (:func:`alchemist.graph.queries.subgraph`).

        Parameters
        ----------
        nodes : iterable of str
            Node ids (duplicates are ignored).
        graph_id : str, optional
            Id of the new graph; this graph's id by default.

        Returns
        -------
        Graph
            A new graph whose history is the events that build it; nodes keep their relative order.

        Raises
        ------
        NodeNotFoundError
            An id is not in the graph.

        Examples
        --------
        >>> g = Graph.from_edges([("a", "b"), ("b", "c"), ("c", "d"), ("a", "d")])
        >>> s = g.subgraph(["d", "a", "b"])
        >>> s.node_ids, s.edge_ids
        (['a', 'b', 'd'], ['e0', 'e3'])
        """
        from alchemist.graph.queries import subgraph

        return subgraph(self, nodes, graph_id=graph_id)

    # ------------------------------------------------------------------ event application
    def apply(self, events: Event | Iterable[Event], *, errors: str = "raise") -> ApplyResult:
        """Apply CIM events to the graph.

        Parameters
        ----------
        events : Event or iterable of Event
            In order. Events whose ``event_id`` was applied before are skipped.
        errors : {"raise", "collect"}
            ``"raise"``: the call is atomic — every event is checked against the state it would
            meet first, and on the first bad one nothing at all is applied and the error is
            raised. ``"collect"``: bad events are skipped and returned with their errors, the
            good ones are applied (what a stream consumer needs to dead-letter poison messages).

        Returns
        -------
        ApplyResult
            The rejected ``(event, error)`` pairs, with ``.applied`` and ``.duplicates`` counts.

        Raises
        ------
        UnknownEventTypeError, InvalidEventError
            A malformed event (``errors="raise"``), e.g. a non-finite weight.
        NodeNotFoundError, EdgeNotFoundError, DuplicateIdError
            An event that does not fit the state: an edge to an unknown node (``strict``), the
            removal or update of an unknown node or edge, a node or edge id added twice. The
            message names the event and the id.
        TypeError
            An item is not an :class:`~alchemist.events.Event`.
        ValueError
            An unknown ``errors``.

        Notes
        -----
        A call of at least 64 events made only of ``node_added``, ``edge_added`` and
        ``graph_created`` is checked and applied column-wise (about ten times faster); any
        other call is applied event by event. Both give the same state and the same errors.

        Examples
        --------
        >>> from alchemist import new_event
        >>> g = Graph("g")
        >>> a = new_event("node_added", "g", {"node_id": "a"})
        >>> b = new_event("node_added", "g", {"node_id": "b"})
        >>> ab = new_event("edge_added", "g", {"edge_id": "ab", "source": "a", "target": "b"})
        >>> result = g.apply([a, b, ab])
        >>> result.applied, g.version, g.apply(a).duplicates  # an event applied twice is skipped
        (3, 3, 1)

        A bad event stops the whole call (``"raise"``) or is handed back (``"collect"``):

        >>> c = new_event("node_added", "g", {"node_id": "c"})
        >>> bad = new_event("edge_added", "g", {"edge_id": "x", "source": "a", "target": "zz"})
        >>> g.apply([c, bad])
        Traceback (most recent call last):
        ...
        alchemist.errors.NodeNotFoundError: event ...: edge 'x' refers to unknown node 'zz' ...
        >>> "c" in g
        False
        >>> result = g.apply([c, bad], errors="collect")
        >>> result.applied, [(event.payload["edge_id"], type(error).__name__) for event, error in result]
        (1, [('x', 'NodeNotFoundError')])
        """
        if isinstance(events, Event):
            events = [events]
        if errors not in ("raise", "collect"):
            raise ValueError(f"errors={errors!r}; use 'raise' or 'collect'")
        events = events if isinstance(events, list) else list(events)
        for event in events:
            if type(event) is not Event and not isinstance(event, Event):
                raise TypeError(f"Graph.apply takes alchemist.events.Event objects, not {type(event).__name__}")
        if len(events) >= BULK_MIN:
            result = bulk.apply_events(self, events)
            if result is not None:
                return result
        return mutation.apply_one_by_one(self, events, errors)

    def apply_columns(self, table, *, errors: str = "raise") -> ApplyResult:
        """Apply ``node_added`` / ``edge_added`` events given as a table, column-wise.

        The fast path for imports and replays (millions of events per second from memory): no
        per-event Python objects are made.

        Parameters
        ----------
        table : pyarrow.Table, polars.DataFrame, pandas.DataFrame or dict of arrays
            One row per event, in order. Columns (all optional but the ids):

            - ``event_type``: ``"node_added"`` or ``"edge_added"`` (default: ``edge_added`` when
              the table has ``source`` and ``target``, else ``node_added``);
            - ``node_id`` (node rows); ``edge_id``, ``source``, ``target`` (edge rows; a missing
              or null ``edge_id`` gives the id ``e<edge row>``);
            - ``label`` (node rows), ``relationship`` and ``weight`` (edge rows, default 1.0);
            - ``event_id`` (idempotency: ids applied before are skipped), ``timestamp`` (Unix
              seconds, Arrow timestamp or RFC 3339 string), ``sequence``;
            - any other column is a property (a typed column; nulls mean "not set").
        errors : {"raise", "collect"}
            As in :meth:`apply`; ``"collect"`` goes through the per-event path.

        Returns
        -------
        ApplyResult

        Raises
        ------
        InvalidEventError
            A missing id column, an unknown ``event_type``, a null id or a non-finite weight; the
            message names the row.
        NodeNotFoundError, DuplicateIdError
            As in :meth:`apply`; the message names the row and the id.
        ValueError
            An unknown ``errors``.

        Examples
        --------
        >>> g = Graph("g")
        >>> g.apply_columns({"node_id": ["a", "b", "c"]}).applied
        3
        >>> result = g.apply_columns({"source": ["a", "b"], "target": ["b", "c"], "weight": [1.0, 3.0],
        ...                           "since": [2019, None]})
        >>> result.applied, g.version, g.events
        (2, 5, [])
        >>> g.edges.select("id", "source", "target", "weight", "since").rows()
        [('e0', 'a', 'b', 1.0, 2019), ('e1', 'b', 'c', 3.0, None)]
        """
        if errors not in ("raise", "collect"):
            raise ValueError(f"errors={errors!r}; use 'raise' or 'collect'")
        table = as_arrow_table(table)
        if errors == "collect":
            return self.apply(bulk.table_events(self.graph_id, table), errors="collect")
        return bulk.apply_columns(self, table)

    # ------------------------------------------------------------------ history
    @property
    def events(self) -> list[Event]:
        """The applied events, in order.

        Empty when ``keep_log=False``; events applied with :meth:`apply_columns` or a bulk
        constructor (:meth:`from_edges`, …) are not materialised, so they are not listed (their
        effect is still in the version stamps that :meth:`at` reads).

        Returns
        -------
        list of Event
            A new list (the log itself is not exposed).

        Examples
        --------
        >>> from alchemist import new_event
        >>> g = Graph("g")
        >>> _ = g.apply([new_event("node_added", "g", {"node_id": x}) for x in "ab"])
        >>> [event.payload["node_id"] for event in g.events]
        ['a', 'b']
        >>> Graph.from_edges([("a", "b")]).events
        []
        """
        return list(self._log)

    def at(self, version: int | None = None, *, timestamp=None, sequence: int | None = None) -> "Graph":
        """The graph as it was after ``version`` events, at a time, or at a stream sequence.

        Every row records the version that added it and the one that removed it, so the past
        state is the prefix of rows added by then, with later removals cleared and the in-place
        updates (weights, labels, properties, positions) made after it undone — O(rows) with no
        replay of events. The result is a full Graph whose own history ends at that version.

        Parameters
        ----------
        version : int, optional
            Number of applied events (0 … :attr:`version`).
        timestamp : str, float or datetime, optional
            RFC 3339, Unix seconds or datetime: the state after the longest run of events from the
            start whose timestamps are at or before it (every event at or before it when the
            stream's timestamps are in order, as JetStream's are). Events without a time (bulk
            loads of untimed edge lists) belong with the event before them.
        sequence : int, optional
            The state after the last event with a JetStream sequence at or before this one.

        Returns
        -------
        Graph
            A new graph; this one is unchanged.

        Raises
        ------
        GraphError
            Not exactly one of the three is given, or the version is outside 0 … :attr:`version`.

        Examples
        --------
        >>> from alchemist import new_event
        >>> g = Graph("g")
        >>> _ = g.apply([new_event("node_added", "g", {"node_id": "a"}, timestamp=0),
        ...              new_event("node_added", "g", {"node_id": "b"}, timestamp=10),
        ...              new_event("edge_added", "g", {"edge_id": "ab", "source": "a", "target": "b"},
        ...                        timestamp=20)])
        >>> g.at(1).node_ids, g.at(timestamp=15).number_of_nodes(), g.at(timestamp=15).number_of_edges()
        (['a'], 2, 0)
        >>> g.at(timestamp="1970-01-01T00:00:25Z").edge_ids, g.at(3).version
        (['ab'], 3)
        """
        return history.at(self, version, timestamp=timestamp, sequence=sequence)
