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

This module holds the columns and everything that reads them; the code that writes them lives
beside it: :mod:`~alchemist.graph.mutation` (events one at a time), :mod:`~alchemist.graph.bulk`
(column-wise: a plan that checks, then a commit that applies), :mod:`~alchemist.graph.history`
(:meth:`Graph.at`) and :mod:`~alchemist.graph.convert` (the ``from_*`` builders, NetworkX, induced
subgraphs). The query and I/O methods import their module when called: those modules import
this one.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Iterator

import numpy as np

from alchemist.errors import EdgeNotFoundError, GraphError, NodeNotFoundError
from alchemist.events import Event
from alchemist.graph import bulk, convert, history, mutation
from alchemist.graph._columns import Column, PropertyTable, Vocabulary
from alchemist.graph._common import (
    ALIVE,
    BULK_MIN,
    IMPLICIT_ID,
    as_arrow_table,
    datetimes,
    polars_frame,
    summary_html,
)
from alchemist.graph.csr import build_csr
from alchemist.graph.mutation import ApplyResult

__all__ = ["Graph", "ApplyResult", "cached", "csr_with_edges", "label_mask"]


class Graph:
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
        before each node's first edge and one ``edge_added`` per edge.

        Raises
        ------
        GraphError
            An edge tuple has the wrong length.
        InvalidEventError
            A weight is not a finite number.
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

        Raises
        ------
        InvalidEventError
            A weight (``third="weight"``) is not finite; the message names the line.
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
        node_ids : iterable of str, optional
            Ids of rows ``0 … n_nodes-1`` (all of them are added, isolated ones included, in this
            order); ``str(row)`` by default, with the nodes added in order of first appearance.

        Raises
        ------
        GraphError
            Endpoints are negative or beyond ``node_ids``.
        InvalidEventError
            A weight is not finite (the message names the edge).
        """
        return convert.from_arrays(cls, source, target, weight, node_ids=node_ids, graph_id=graph_id, directed=directed)

    @classmethod
    def from_networkx(cls, G, *, graph_id: str = "graph", weight: str = "weight") -> "Graph":
        """Convert a NetworkX graph (``Graph``, ``DiGraph``, ``MultiGraph``, ``MultiDiGraph``).

        Node ids become strings (``str(node)``); node and edge attributes become properties,
        except ``label`` (the node label), ``weight`` (the edge weight, default 1.0) and
        ``relationship``/``type`` (the edge type). Isolated nodes are kept. Edge ids are the
        ``id`` attribute when every edge has a distinct one, else ``e0, e1, …``.

        Raises
        ------
        InvalidEventError
            A weight is not a finite number (the message names the edge).
        """
        return convert.from_networkx(cls, G, graph_id=graph_id, weight=weight)

    @classmethod
    def from_frames(cls, nodes=None, edges=None, **options) -> "Graph":
        """Build a graph from node and edge tables (polars, pandas, Arrow); see
        :func:`alchemist.graph.io.from_frames` for the columns and options."""
        from alchemist.graph.io import from_frames

        return from_frames(nodes, edges, **options)

    def to_frames(self, backend: str = "polars"):
        """``(nodes, edges)`` tables, polars or pandas (``backend="pandas"``), with positions as
        ``x``, ``y`` columns when the graph has them."""
        from alchemist.graph.io import to_frames

        return to_frames(self, backend=backend)

    def to_pandas(self):
        """``(nodes, edges)`` as pandas DataFrames."""
        return self.to_frames("pandas")

    def write(self, path, *, format: str | None = None):
        """Write the graph to a file; the format follows the extension (see
        :func:`alchemist.graph.io.write_graph`)."""
        from alchemist.graph.io import write_graph

        return write_graph(self, path, format=format)

    # ------------------------------------------------------------------ queries (graph/queries.py)
    def neighbors(self, node: str, *, direction: str = "out") -> list[str]:
        """Neighbour ids of ``node``; see :func:`alchemist.graph.queries.neighbors`."""
        from alchemist.graph.queries import neighbors

        return neighbors(self, node, direction=direction)

    def k_hop(self, nodes, k: int = 1, *, direction: str = "both", include_self: bool = True) -> list[str]:
        """Nodes within ``k`` hops; see :func:`alchemist.graph.queries.k_hop`."""
        from alchemist.graph.queries import k_hop

        return k_hop(self, nodes, k, direction=direction, include_self=include_self)

    def shortest_path(self, source: str, target: str, *, weight: str | None = None,
                      direction: str = "out") -> list[str]:
        """A shortest path as node ids; see :func:`alchemist.graph.queries.shortest_path`."""
        from alchemist.graph.queries import shortest_path

        return shortest_path(self, source, target, weight=weight, direction=direction)

    def shortest_path_length(self, source: str, target: str | None = None, *, weight: str | None = None,
                             direction: str = "out"):
        """Shortest-path length(s); see :func:`alchemist.graph.queries.shortest_path_length`."""
        from alchemist.graph.queries import shortest_path_length

        return shortest_path_length(self, source, target, weight=weight, direction=direction)

    def find_nodes(self, label=None, *, where=None, id_contains: str | None = None, **properties) -> list[str]:
        """Ids of nodes matching a label / properties; see :func:`alchemist.graph.queries.find_nodes`."""
        from alchemist.graph.queries import find_nodes

        return find_nodes(self, label, where=where, id_contains=id_contains, **properties)

    def subgraph(self, nodes, *, graph_id: str | None = None) -> "Graph":
        """The induced subgraph; see :func:`alchemist.graph.queries.subgraph`."""
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

        Notes
        -----
        A call of at least 64 events made only of ``node_added``, ``edge_added`` and
        ``graph_created`` is checked and applied column-wise (about ten times faster); any
        other call is applied event by event. Both give the same state and the same errors.
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
        """
        if errors not in ("raise", "collect"):
            raise ValueError(f"errors={errors!r}; use 'raise' or 'collect'")
        table = as_arrow_table(table)
        if errors == "collect":
            return self.apply(bulk.table_events(self.graph_id, table), errors="collect")
        return bulk.apply_columns(self, table)

    def _edge_row(self, edge_id: str) -> int | None:
        """Raw row of the live edge ``edge_id``, or None."""
        row = self._edge_index.get(edge_id)
        if row is not None:
            return row
        m = IMPLICIT_ID.fullmatch(edge_id) if isinstance(edge_id, str) else None
        if m:
            k = int(m.group(1))
            if k < self._src.size and k not in self._edge_explicit and self._edge_removed[k] == ALIVE:
                return k
        return None

    def _edge_id(self, row: int) -> str:
        return self._edge_explicit.get(row) or f"e{row}"

    @property
    def _node_index(self) -> dict[str, int]:
        """Id -> raw row of the live nodes, a dict built on first use after a bulk call."""
        index = self._node_index_live
        if index is None:
            ids = self._node_ids
            if self._n_alive_nodes == len(ids):
                index = dict(zip(ids, range(len(ids))))
            else:
                removed = self._node_removed.view()
                live = np.flatnonzero(removed == ALIVE).tolist() + list(range(removed.shape[0], len(ids)))
                index = {ids[r]: r for r in live}
            self._node_index_live = index
        return index

    @_node_index.setter
    def _node_index(self, index: dict[str, int] | None) -> None:
        self._node_index_live = index

    @property
    def _edge_explicit(self) -> dict[int, str]:
        """Raw row -> explicit edge id (rows whose id is not ``e<row>``), all rows ever added."""
        if self._edge_pending:
            self._take_pending_edge_ids()
        return self._edge_explicit_d

    @_edge_explicit.setter
    def _edge_explicit(self, value: dict[int, str]) -> None:
        self._take_pending_edge_ids()
        self._edge_explicit_d = value

    @property
    def _edge_index(self) -> dict[str, int]:
        """Explicit edge id -> raw row, live edges only."""
        if self._edge_pending:
            self._take_pending_edge_ids()
        return self._edge_index_d

    @_edge_index.setter
    def _edge_index(self, value: dict[str, int]) -> None:
        self._take_pending_edge_ids()
        self._edge_index_d = value

    def _take_pending_edge_ids(self) -> None:
        """Move the explicit edge ids of bulk calls into the two dicts (every pending id is live:
        a removal reads the dicts first)."""
        pending, self._edge_pending = self._edge_pending, []
        for rows, ids in pending:
            rows, ids = rows.tolist(), ids.to_pylist()
            self._edge_explicit_d.update(zip(rows, ids))
            self._edge_index_d.update(zip(ids, rows))

    # ------------------------------------------------------------------ sizes and tables
    def number_of_nodes(self) -> int:
        """Number of live nodes."""
        return self._n_alive_nodes

    def number_of_edges(self) -> int:
        """Number of live edges (parallel edges counted separately)."""
        return self._n_alive_edges

    def __len__(self) -> int:
        return self._n_alive_nodes

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._node_index

    def has_edge_id(self, edge_id: str) -> bool:
        """Whether a live edge has this id."""
        return self._edge_row(edge_id) is not None

    @property
    def node_ids(self) -> list[str]:
        """Ids of the live nodes in row order."""
        if "node_ids" not in self._cache:
            rows = self._live_node_raw()
            ids = self._node_ids
            self._cache["node_ids"] = list(ids) if rows.shape[0] == len(ids) else [ids[r] for r in rows.tolist()]
        return self._cache["node_ids"]

    @property
    def edge_ids(self) -> list[str]:
        """Ids of the live edges in edge order (the order of :meth:`edge_index`)."""
        explicit = self._edge_explicit
        return [explicit.get(r) or f"e{r}" for r in self._live_edge_raw().tolist()]

    def node_row(self, node_id: str) -> int:
        """Row of ``node_id`` in :attr:`nodes` and in every per-node array.

        Raises
        ------
        NodeNotFoundError
            If the node is not in the graph.
        """
        raw = self._node_index.get(node_id)
        if raw is None:
            raise NodeNotFoundError(f"node {node_id!r} is not in graph {self.graph_id!r}")
        return int(self._live_rows_map()[raw])

    def node_rows(self, node_ids: Iterable[str]) -> np.ndarray:
        """``(k,)`` int64 rows of several nodes.

        Raises
        ------
        NodeNotFoundError
            Naming the first id that is not in the graph.
        """
        index = self._node_index
        node_ids = list(node_ids)
        raw = [index.get(x, -1) for x in node_ids]
        arr = np.asarray(raw, dtype=np.int64)
        if (arr < 0).any():
            bad = [x for x, r in zip(node_ids, raw) if r < 0]
            raise NodeNotFoundError(f"node {bad[0]!r} is not in graph {self.graph_id!r}")
        return self._live_rows_map()[arr]

    @property
    def labels(self) -> np.ndarray:
        """``(n_nodes,)`` object array: the label of each live node (``""`` when none)."""
        words = np.asarray(self._labels.words, dtype=object)
        return words[self._node_label.view()[self._live_node_raw()]]

    @property
    def relationships(self) -> np.ndarray:
        """``(n_edges,)`` object array: the relationship type of each live edge."""
        words = np.asarray(self._rels.words, dtype=object)
        return words[self._edge_rel.view()[self._live_edge_raw()]]

    @property
    def nodes(self):
        """Live nodes as a polars DataFrame: ``id``, ``label``, ``degree``, ``first_seen`` and one
        typed column per property key (nulls where a node lacks it). Row order = row order of
        every per-node array."""
        rows = self._live_node_raw()
        data: dict[str, Any] = {
            "id": self.node_ids,
            "label": self._labels.decode(self._node_label.view()[rows]),
            "degree": self.degree(),
            "first_seen": datetimes(self._node_time.view()[rows]),
        }
        return polars_frame(data, self._node_props, rows, len(self._node_ids))

    @property
    def edges(self):
        """Live edges as a polars DataFrame: ``id``, ``source``, ``target``, ``relationship``,
        ``weight``, ``timestamp`` and one typed column per property key."""
        rows = self._live_edge_raw()
        ids = np.asarray(self._node_ids, dtype=object)
        data: dict[str, Any] = {
            "id": self.edge_ids,
            "source": ids[self._src.view()[rows]].tolist(),
            "target": ids[self._dst.view()[rows]].tolist(),
            "relationship": self._rels.decode(self._edge_rel.view()[rows]),
            "weight": self._weight.view()[rows],
            "timestamp": datetimes(self._edge_time.view()[rows]),
        }
        return polars_frame(data, self._edge_props, rows, self._src.size)

    def node(self, node_id: str) -> dict[str, Any]:
        """One node's id, label and properties.

        Raises
        ------
        NodeNotFoundError
        """
        raw = self._node_index.get(node_id)
        if raw is None:
            raise NodeNotFoundError(f"node {node_id!r} is not in graph {self.graph_id!r}")
        return {"id": node_id, "label": self._labels.words[self._node_label[raw]], **self._node_props.get(raw)}

    def edge(self, edge_id: str) -> dict[str, Any]:
        """One edge's id, endpoints, relationship, weight and properties.

        Raises
        ------
        EdgeNotFoundError
        """
        e = self._edge_row(edge_id)
        if e is None:
            raise EdgeNotFoundError(f"edge {edge_id!r} is not in graph {self.graph_id!r}")
        return {"id": edge_id, "source": self._node_ids[self._src[e]], "target": self._node_ids[self._dst[e]],
                "relationship": self._rels.words[self._edge_rel[e]], "weight": float(self._weight[e]),
                **self._edge_props.get(e)}

    def node_property(self, key: str) -> tuple[np.ndarray | list, np.ndarray]:
        """A node property as a typed column: ``(values, present)`` in node row order.

        ``values`` is a NumPy array (bool, int64 or float64) when every value has that type, else
        a list; ``present`` is an ``(n_nodes,)`` bool mask of the nodes that have the property.

        Raises
        ------
        GraphError
            No node has this property (the message lists the keys there are).
        """
        if key not in self._node_props.columns:
            raise GraphError(f"no node property {key!r}; properties: {sorted(self._node_props.columns)}")
        return self._node_props.column(key, self._live_node_raw(), len(self._node_ids))

    # ------------------------------------------------------------------ positions
    @property
    def positions(self) -> np.ndarray | None:
        """``(n_nodes, 2)`` float32 node positions (the last ``layout_applied`` or what was
        assigned), NaN for nodes without one; None when the graph has none."""
        if self._pos is None:
            return None
        pos = self._pos
        if pos.shape[0] < len(self._node_ids):
            grown = np.full((len(self._node_ids), 2), np.nan, dtype=np.float32)
            grown[: pos.shape[0]] = pos
            self._pos = pos = grown
        return pos[self._live_node_raw()]

    @positions.setter
    def positions(self, value) -> None:
        if value is None:
            self._pos = None
            return
        arr = np.asarray(value, dtype=np.float32)
        if arr.shape != (self._n_alive_nodes, 2):
            raise GraphError(f"positions must have shape ({self._n_alive_nodes}, 2), got {arr.shape}")
        pos = np.full((len(self._node_ids), 2), np.nan, dtype=np.float32)
        pos[self._live_node_raw()] = arr
        self._pos = pos

    # ------------------------------------------------------------------ arrays for kernels
    def edge_index(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Live edges as arrays for kernels.

        Returns
        -------
        src, dst : (n_edges,) int64
            Endpoint rows (row order of :attr:`nodes`).
        weight : (n_edges,) float64
        """
        if "edge_index" not in self._cache:
            rows = self._live_edge_raw()
            src, dst, w = self._src.view(), self._dst.view(), self._weight.view()
            if rows.shape[0] != src.shape[0]:
                src, dst, w = src[rows], dst[rows], w[rows]
            if self._n_alive_nodes != len(self._node_ids):
                remap = self._live_rows_map()
                src, dst = remap[src], remap[dst]
            for arr in (src, dst, w):
                arr.flags.writeable = False  # views of the columns: copy before changing them
            self._cache["edge_index"] = (src, dst, w)
        return self._cache["edge_index"]

    def csr(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Adjacency in CSR form, rebuilt lazily after changes.

        For an undirected graph every edge appears in both endpoints' rows; for a directed graph
        rows hold out-neighbours. Parallel edges appear once each; self-loops once.

        Returns
        -------
        indptr : (n_nodes + 1,) int64
        indices : (nnz,) int64 — neighbour rows, sorted within each row
        weights : (nnz,) float64
        """
        return csr_with_edges(self)[:3]

    def csr_in(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """In-neighbour CSR of a directed graph (the transpose of :meth:`csr`); for an undirected
        graph the same as :meth:`csr`."""
        if not self.directed:
            return self.csr()
        if "csr_in" not in self._cache:
            src, dst, w = self.edge_index()
            self._cache["csr_in"] = build_csr(dst, src, w, self._n_alive_nodes, True)[:3]
        return self._cache["csr_in"]

    def degree(self) -> np.ndarray:
        """``(n_nodes,)`` int64 degree of each live node (out-degree when directed; a self-loop
        counts twice when undirected, as in NetworkX)."""
        src, dst, _ = self.edge_index()
        n = self._n_alive_nodes
        deg = np.bincount(src, minlength=n)
        if not self.directed:
            deg = deg + np.bincount(dst, minlength=n)
        return deg.astype(np.int64)

    def _live_node_raw(self) -> np.ndarray:
        if "live_nodes" not in self._cache:
            removed = self._node_removed.view()
            self._cache["live_nodes"] = (np.arange(removed.shape[0]) if self._n_alive_nodes == removed.shape[0]
                                         else np.flatnonzero(removed == ALIVE))
        return self._cache["live_nodes"]

    def _live_edge_raw(self) -> np.ndarray:
        if "live_edges" not in self._cache:
            removed = self._edge_removed.view()
            self._cache["live_edges"] = (np.arange(removed.shape[0]) if self._n_alive_edges == removed.shape[0]
                                         else np.flatnonzero(removed == ALIVE))
        return self._cache["live_edges"]

    def _live_rows_map(self) -> np.ndarray:
        if "live_rows" not in self._cache:
            rows = self._live_node_raw()
            remap = np.full(len(self._node_ids), -1, dtype=np.int64)
            remap[rows] = np.arange(rows.shape[0], dtype=np.int64)
            self._cache["live_rows"] = remap
        return self._cache["live_rows"]

    # ------------------------------------------------------------------ history
    @property
    def events(self) -> list[Event]:
        """The applied events, in order (empty when ``keep_log=False``; events applied with
        :meth:`apply_columns` or a bulk constructor are not materialised)."""
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

        Raises
        ------
        GraphError
            Not exactly one of the three is given, or the version is outside 0 … :attr:`version`.
        """
        return history.at(self, version, timestamp=timestamp, sequence=sequence)

    # ------------------------------------------------------------------ interop
    def to_networkx(self):
        """A NetworkX ``Graph``/``DiGraph`` (``MultiGraph``/``MultiDiGraph`` when there are
        parallel edges) with labels, properties, weights and edge ids (``id`` attribute)."""
        return convert.to_networkx(self)

    def __repr__(self) -> str:
        kind = "directed" if self.directed else "undirected"
        return (f"<alchemist.Graph {self.graph_id!r}: {self._n_alive_nodes:,} nodes, "
                f"{self._n_alive_edges:,} edges, {kind}, version {self.version:,}>")

    def _repr_html_(self) -> str:
        """A notebook summary: sizes, degree range, labels and relationship types, properties."""
        return summary_html(self, [("labels", self._labels, self._node_label.view()),
                                   ("relationships", self._rels, self._edge_rel.view())],
                            [("node properties", self._node_props), ("edge properties", self._edge_props)])

    def memory_usage(self) -> int:
        """Approximate bytes held by the graph's arrays (node id strings not included)."""
        cols = (self._node_label, self._node_time, self._node_added, self._node_removed, self._src, self._dst,
                self._weight, self._edge_rel, self._edge_time, self._edge_added, self._edge_removed, self._vtime)
        total = sum(c.nbytes() for c in cols) + self._node_props.nbytes() + self._edge_props.nbytes()
        if self._pos is not None:
            total += self._pos.nbytes
        if self._ids_table is not None:
            total += self._ids_table.nbytes()
        for key in ("edge_index", "csr", "csr_in"):  # caches built by queries and kernels
            if key in self._cache:
                total += sum(a.nbytes for a in self._cache[key])
        return total

    def __iter__(self) -> Iterator[str]:
        return iter(self.node_ids)


# ---------------------------------------------------------------------- accessors for the package


def cached(graph: Graph, key: str, build: Callable[[], Any]) -> Any:
    """A value derived from ``graph``'s current state: ``build()`` on first use, then kept until
    the graph changes (every change clears the cache). For the queries and analytics modules.

    Parameters
    ----------
    graph : Graph
    key : str
        Names the value; distinct per kind of value (``"csr_both"``, ``"simple_csr_out"`` …).
    build : callable
        Computes the value from the graph.

    Returns
    -------
    object
        What ``build`` returned, now or on an earlier call since the last change.
    """
    cache = graph._cache
    if key not in cache:
        cache[key] = build()
    return cache[key]


def csr_with_edges(graph: Graph) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(indptr, indices, weights, edge)``: :meth:`Graph.csr` plus, per entry, the position of
    its edge in :meth:`Graph.edge_index` order."""
    return cached(graph, "csr", lambda: build_csr(*graph.edge_index(), graph._n_alive_nodes, graph.directed))


def label_mask(graph: Graph, labels: Iterable[str]) -> np.ndarray:
    """``(n_nodes,)`` bool: which live nodes carry one of ``labels`` (compared as vocabulary codes,
    not strings)."""
    codes = [graph._labels.codes[w] for w in labels if w in graph._labels.codes]
    rows = graph._live_node_raw()
    return np.isin(graph._node_label.view()[rows], np.asarray(codes, dtype=np.int32))
