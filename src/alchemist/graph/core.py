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
"""

from __future__ import annotations

import math
import re
from typing import Any, Iterable, Iterator, Mapping

import numpy as np

from alchemist.errors import (
    DuplicateIdError,
    EdgeNotFoundError,
    EventError,
    GraphError,
    InvalidEventError,
    NodeNotFoundError,
    UnknownEventTypeError,
)
from alchemist.events import Event, new_event, parse_rfc3339
from alchemist.events.types import validate_payload
from alchemist.graph._columns import Column, PropertyTable, Vocabulary

__all__ = ["Graph", "ApplyResult"]

_ALIVE = np.iinfo(np.int64).max
_EMPTY: dict[str, Any] = {}
_IMPLICIT = re.compile(r"e(0|[1-9][0-9]*)")
_BULK_MIN = 64  # below this many events a call takes the per-event path
_NODE, _EDGE, _CREATED = 0, 1, 2
_BULK_KINDS = {"node_added": _NODE, "edge_added": _EDGE, "graph_created": _CREATED}


class ApplyResult(list):
    """What :meth:`Graph.apply` did: a list of ``(event, error)`` for the events it rejected
    (only with ``errors="collect"``), plus counters ``applied`` and ``duplicates``."""

    applied: int = 0
    duplicates: int = 0


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
        self._node_removed = Column(np.int64, fill=_ALIVE, lazy=True)
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
        self._edge_removed = Column(np.int64, fill=_ALIVE, lazy=True)
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
        graph._load_edge_arrays(src, dst, weights, times, where="edge")
        return graph

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
        graph._load_edge_arrays(src, dst, weights, times, where=f"{edges.path}: edge line index")
        if n >= 500_000:
            _release_memory()
        return graph

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
        graph = cls(graph_id, directed=directed)
        graph._load_arrays(source, target, weight, node_ids)
        if graph.version >= 500_000:
            _release_memory()
        return graph

    def _load_arrays(self, source, target, weight, node_ids) -> None:
        import pyarrow as pa

        graph = self
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
            graph._append_rows(ids, s, t, w)
            return
        if s.size and min(s.min(), t.min()) < 0:
            raise GraphError("node rows must be non-negative; pass node_ids= for custom ids")
        else:
            ids = None
        graph._load_edge_arrays(pa.array(s).cast(pa.string()), pa.array(t).cast(pa.string()), w, None, where="edge")

    def _append_rows(self, ids: list[str], src: np.ndarray, dst: np.ndarray, weight: np.ndarray) -> None:
        """node_added for each of ``ids``, then edge_added for each (src, dst) pair of rows of
        ``ids`` (implicit edge ids), applied straight to the columns: no string work."""
        if len(set(ids)) != len(ids):
            seen: set[str] = set()
            for x in ids:
                if x in seen:
                    raise DuplicateIdError(f"node {x!r} appears twice in node_ids")
                seen.add(x)
        clash = self._node_index.keys() & set(ids)
        if clash:
            raise DuplicateIdError(f"node {sorted(clash)[0]!r} already exists")
        if self._pattern_max >= self._src.size and src.shape[0]:
            clash_e = [f"e{r}" for r in range(self._src.size, self._src.size + src.shape[0]) if f"e{r}" in self._edge_index]
            if clash_e:
                raise DuplicateIdError(f"edge {clash_e[0]!r} already exists")
        v0, n0, nn, m = self.version, len(self._node_ids), len(ids), src.shape[0]
        self._node_ids.extend(ids)
        self._node_index.update(zip(ids, range(n0, n0 + nn)))
        self._node_label.extend(np.zeros(nn, np.int32))
        self._node_time.extend(np.full(nn, np.nan))
        self._node_added.extend(v0 + 1 + np.arange(nn))
        self._node_removed.pad_to(n0 + nn)
        self._src.extend(n0 + src)
        self._dst.extend(n0 + dst)
        self._weight.extend(weight)
        self._edge_rel.extend(np.zeros(m, np.int32))
        self._edge_time.extend(np.full(m, np.nan))
        self._edge_added.extend(v0 + nn + 1 + np.arange(m))
        self._edge_removed.pad_to(self._src.size)
        self._vtime.extend(np.full(nn + m, np.nan))
        if self._vseq is not None:
            self._vseq.pad_to(v0 + nn + m)
        self._n_alive_nodes += nn
        self._n_alive_edges += m
        self.version = v0 + nn + m
        self._cache.clear()

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
        import pyarrow as pa

        graph = cls(graph_id, directed=G.is_directed(), name=str(G.graph.get("name", "")))
        node_list = list(G.nodes(data=True))
        ids = [str(n) for n, _ in node_list]
        labels = [str(d.get("label", "")) for _, d in node_list]
        nprops = [{k: _jsonable(v) for k, v in d.items() if k != "label"} for _, d in node_list]
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
        eprops = [{k: _jsonable(x) for k, x in d.items() if k not in skip} for *_, d in edge_iter]
        rels = [str(d.get("relationship", d.get("type", ""))) for *_, d in edge_iter]
        nn, ne = len(ids), len(edge_iter)
        kinds = np.concatenate([[_CREATED], np.full(nn, _NODE), np.full(ne, _EDGE)]).astype(np.int8)
        a = pa.array([None] + ids + [str(u) for u, *_ in edge_iter], type=pa.string())
        b = pa.array([None] * (1 + nn) + [str(v) for _, v, *_ in edge_iter], type=pa.string())
        graph._bulk_apply(
            kinds, a, b,
            edge_ids=pa.array([None] * (1 + nn) + eids, type=pa.string()),
            label=[""] + labels + [""] * ne, relationship=[""] * (1 + nn) + rels,
            weight=np.concatenate([np.ones(1 + nn), np.asarray(weights, np.float64)]),
            props=[None] + nprops + eprops, times=None,
            created=[{"directed": G.is_directed(), "name": graph.name}])
        return graph

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

    def _induced(self, rows: np.ndarray, edge_positions: np.ndarray, *, graph_id: str | None) -> "Graph":
        """A new graph of the live node ``rows`` and the live edges at ``edge_positions``
        (positions in :meth:`edge_index` order), made by taking rows of the columns: its history
        is ``node_added`` for each node, then ``edge_added`` for each edge."""
        raw = self._live_node_raw()[rows]
        eraw = np.sort(self._live_edge_raw()[edge_positions])
        g = Graph(graph_id or self.graph_id, directed=self.directed, strict=self.strict, keep_log=self.keep_log,
                  name=self.name)
        nn, ne = raw.shape[0], eraw.shape[0]
        remap = np.full(len(self._node_ids), -1, dtype=np.int64)
        remap[raw] = np.arange(nn)
        g._node_ids = [self._node_ids[r] for r in raw.tolist()]
        g._node_index = None
        g._labels, g._rels = self._labels.copy(), self._rels.copy()
        g._node_label = self._node_label.take(raw)
        g._node_time = self._node_time.take(raw)
        g._node_added = Column.of(np.arange(1, nn + 1, dtype=np.int64))
        g._node_removed = Column(np.int64, fill=_ALIVE, lazy=True)
        g._node_removed.pad_to(nn)
        g._node_props = self._node_props.take(raw)
        g._src = Column.of(remap[self._src.view()[eraw]])
        g._dst = Column.of(remap[self._dst.view()[eraw]])
        g._weight = self._weight.take(eraw)
        g._edge_rel = self._edge_rel.take(eraw)
        g._edge_time = self._edge_time.take(eraw)
        g._edge_added = Column.of(np.arange(nn + 1, nn + ne + 1, dtype=np.int64))
        g._edge_removed = Column(np.int64, fill=_ALIVE, lazy=True)
        g._edge_removed.pad_to(ne)
        g._edge_props = self._edge_props.take(eraw)
        explicit = self._edge_explicit
        for new, old in enumerate(eraw.tolist()):
            if old != new or old in explicit:
                eid = explicit.get(old) or f"e{old}"
                if eid != f"e{new}":
                    g._edge_explicit[new] = eid
                    g._edge_index[eid] = new
        g._pattern_max = max((int(m.group(1)) for e in g._edge_index if (m := _IMPLICIT.fullmatch(e))), default=-1)
        times = np.concatenate([g._node_time.view(), g._edge_time.view()])
        g._vtime = Column(np.float64, fill=np.nan, lazy=True)
        g._vtime.extend(times)
        g._n_alive_nodes, g._n_alive_edges = nn, ne
        g.version = nn + ne
        if self._pos is not None:
            g._pos = self.positions[rows].copy()
        return g

    def _load_edge_arrays(self, src, dst, weights: np.ndarray, times: np.ndarray | None, *, where: str) -> None:
        """The events of an edge list (graph_created, node_added before first use, edge_added)
        built as columns and applied in one bulk step."""
        import pyarrow as pa
        import pyarrow.compute as pc

        n = len(src)
        if weights.shape[0] != n or (times is not None and times.shape[0] != n):
            raise GraphError(f"{n} edges but {weights.shape[0]} weights / timestamps")
        bad = ~np.isfinite(weights)
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            raise InvalidEventError(f"{where} {k} has a non-finite weight {weights[k]!r}")
        ends = pa.concat_arrays([src.cast(pa.string()), dst.cast(pa.string())])
        codes = pc.dictionary_encode(ends).indices.to_numpy(zero_copy_only=False).astype(np.int64)
        slot = np.empty(2 * n, dtype=np.int64)
        slot[0::2], slot[1::2] = codes[:n], codes[n:]
        first = np.full(int(codes.max()) + 1 if n else 0, 2 * n, dtype=np.int64)
        np.minimum.at(first, slot, np.arange(2 * n))
        is_first = np.zeros(2 * n, dtype=bool)
        is_first[first] = True
        new_per_line = is_first.reshape(n, 2).sum(axis=1)
        # events: created, then per line [node_added for each first endpoint] + edge_added
        per_line = new_per_line + 1
        total = 1 + int(per_line.sum())
        line_start = 1 + np.concatenate([[0], np.cumsum(per_line)[:-1]]) if n else np.zeros(0, np.int64)
        kinds = np.full(total, _NODE, dtype=np.int8)
        kinds[0] = _CREATED
        edge_pos = line_start + new_per_line
        kinds[edge_pos] = _EDGE
        # positions of node_added events: the first-endpoint slots in order
        first_slots = np.flatnonzero(is_first)
        node_pos = line_start[first_slots // 2] + (first_slots % 2) * is_first[first_slots - (first_slots % 2)]
        a_take = np.full(total, -1, dtype=np.int64)
        b_take = np.full(total, -1, dtype=np.int64)
        a_take[edge_pos] = np.arange(n)
        b_take[edge_pos] = n + np.arange(n)
        a_take[node_pos] = np.where(first_slots % 2 == 0, first_slots // 2, n + first_slots // 2)
        a = ends.take(pa.array(a_take, mask=a_take < 0))
        b = ends.take(pa.array(b_take, mask=b_take < 0))
        w = np.ones(total)
        w[edge_pos] = weights
        t = np.full(total, np.nan)
        if times is not None:
            t[edge_pos] = times
            t[node_pos] = times[first_slots // 2]
            t[0] = times[0] if n else np.nan
        self._bulk_apply(kinds, a, b, weight=w, times=t, created=[{"directed": self.directed}])

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
        if len(events) >= _BULK_MIN:
            result = self._apply_bulk_events(events)
            if result is not None:
                return result
        return self._apply_one_by_one(events, errors)

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
        import pyarrow as pa
        import pyarrow.compute as pc

        if errors not in ("raise", "collect"):
            raise ValueError(f"errors={errors!r}; use 'raise' or 'collect'")
        table = _as_arrow_table(table)
        if errors == "collect":
            return self.apply(_table_events(self.graph_id, table), errors="collect")
        names = set(table.column_names)
        n = table.num_rows
        col = (lambda c: _one_array(table.column(c)) if c in names else None)
        if "event_type" in names:
            et = col("event_type").cast(pa.string())
            kinds = np.full(n, -1, dtype=np.int8)
            kinds[pc.equal(et, "node_added").fill_null(False).to_numpy(zero_copy_only=False)] = _NODE
            kinds[pc.equal(et, "edge_added").fill_null(False).to_numpy(zero_copy_only=False)] = _EDGE
            if (kinds < 0).any():
                k = int(np.flatnonzero(kinds < 0)[0])
                raise InvalidEventError(
                    f"row {k}: event_type {et[k].as_py()!r}; apply_columns takes node_added and edge_added "
                    "(use Graph.apply for the other event types)")
        else:
            kinds = np.full(n, _EDGE if {"source", "target"} <= names else _NODE, dtype=np.int8)
        need = (["node_id"] if (kinds == _NODE).any() else []) + (["source", "target"] if (kinds == _EDGE).any() else [])
        for c in need:
            if c not in names:
                raise InvalidEventError(f"apply_columns: the table has no {c!r} column (columns: {sorted(names)})")
        nulls = pa.nulls(n, pa.string())
        a = _string(col("node_id")) if "node_id" in names else nulls
        if (kinds == _EDGE).all():
            a, b = _string(col("source")), _string(col("target"))
        elif (kinds == _EDGE).any():
            a = pc.if_else(pa.array(kinds == _EDGE), _string(col("source")), a)
            b = pc.if_else(pa.array(kinds == _EDGE), _string(col("target")), nulls)
        else:
            b = nulls
        weight = None
        if "weight" in names:
            weight = col("weight").cast(pa.float64())
            weight = (weight.fill_null(1.0) if weight.null_count else weight).to_numpy(zero_copy_only=False)
        times = _arrow_seconds(col("timestamp")) if "timestamp" in names else None
        seq = col("sequence").cast(pa.int64()).fill_null(-1).to_numpy(zero_copy_only=False) if "sequence" in names else None
        reserved = {"event_type", "node_id", "edge_id", "source", "target", "label", "relationship", "weight",
                    "event_id", "timestamp", "sequence"}
        prop_cols = {c: col(c) for c in table.column_names if c not in reserved}
        keep = None
        event_ids = None
        if "event_id" in names:
            event_ids = _string(col("event_id")).to_pylist()
            applied = self._applied
            seen: set[str] = set()
            keep_list = []
            for i, e in enumerate(event_ids):
                if e is None or (e not in applied and e not in seen):
                    keep_list.append(True)
                    if e is not None:
                        seen.add(e)
                else:
                    keep_list.append(False)
            keep_arr = np.asarray(keep_list, dtype=bool)
            if not keep_arr.all():
                keep = keep_arr
        dups = 0 if keep is None else int((~keep).sum())
        if keep is not None:
            idx = pa.array(np.flatnonzero(keep))
            kinds, a, b = kinds[keep], a.take(idx), b.take(idx)
            weight = None if weight is None else weight[keep]
            times = None if times is None else times[keep]
            seq = None if seq is None else seq[keep]
            event_ids = [e for e, k in zip(event_ids, keep.tolist()) if k]
            prop_cols = {c: v.take(idx) for c, v in prop_cols.items()}
        sub = (lambda c: (col(c) if keep is None else col(c).take(idx)) if c in names else None)
        result = ApplyResult()
        result.duplicates = dups
        self.duplicates_skipped += dups
        self._bulk_apply(kinds, a, b, edge_ids=_string(sub("edge_id")) if "edge_id" in names else None,
                         label=sub("label"), relationship=sub("relationship"), weight=weight, times=times,
                         sequences=seq, event_ids=event_ids, prop_columns=prop_cols, where="row")
        result.applied = int(kinds.shape[0])
        return result

    # ---- the per-event path
    def _apply_one_by_one(self, events: list[Event], errors: str) -> ApplyResult:
        result = ApplyResult()
        accepted: list[Event] = []
        state = _Overlay(self)
        seen_in_call: set[str] = set()
        for event in events:
            if event.event_id in self._applied or event.event_id in seen_in_call:
                result.duplicates += 1
                continue
            try:
                state.check(event)
            except (EventError, GraphError) as exc:
                if errors == "raise":
                    raise
                result.append((event, exc))
                continue
            seen_in_call.add(event.event_id)
            accepted.append(event)
        for event in accepted:
            self._mutate(event)
        result.applied = len(accepted)
        self.duplicates_skipped += result.duplicates
        if accepted:
            self._cache.clear()
        return result

    def _mutate(self, event: Event) -> None:
        p = event.payload
        kind = event.event_type
        t = _seconds(event.timestamp)
        v = self.version + 1
        if kind == "edge_added":
            for end in (p["source"], p["target"]):
                if end not in self._node_index:
                    self._add_node(end, "", _EMPTY, t, v)
            self._add_edge(p["edge_id"], p["source"], p["target"], p.get("relationship", "") or "",
                           float(p.get("weight", 1.0)), p.get("properties") or _EMPTY, t, v)
        elif kind == "node_added":
            labels = p.get("labels") or []
            label = p.get("label") or (labels[0] if labels else "")
            props = p.get("properties") or _EMPTY
            if len(labels) > 1:
                props = {**props, "labels": list(labels)}
            self._add_node(p["node_id"], label, props, t, v)
        elif kind == "node_updated":
            row = self._node_index[p["node_id"]]
            if p.get("label") is not None:
                self._undo.append((v, "node_label", row, int(self._node_label[row])))
                self._node_label[row] = self._labels.code(p["label"])
            if p.get("properties"):
                self._set_node_props(row, p["properties"], v)
        elif kind == "node_removed":
            row = self._node_index.pop(p["node_id"])
            self._node_removed[row] = v
            self._n_alive_nodes -= 1
            alive = self._edge_removed.view() == _ALIVE
            incident = np.flatnonzero(alive & ((self._src.view() == row) | (self._dst.view() == row)))
            for e in incident.tolist():
                self._remove_edge_row(e, v)
        elif kind == "edge_updated":
            e = self._edge_row(p["edge_id"])
            if p.get("weight") is not None:
                self._undo.append((v, "edge_weight", e, float(self._weight[e])))
                self._weight[e] = float(p["weight"])
            if p.get("relationship") is not None:
                self._undo.append((v, "edge_rel", e, int(self._edge_rel[e])))
                self._edge_rel[e] = self._rels.code(p["relationship"])
            if p.get("properties"):
                old = self._edge_props.set(e, p["properties"])
                self._undo.append((v, "edge_props", e, old))
        elif kind == "edge_removed":
            self._remove_edge_row(self._edge_row(p["edge_id"]), v)
        elif kind == "graph_created":
            self._undo.append((v, "meta", -1, (self.directed, self.name)))
            self.directed = bool(p.get("directed", self.directed))
            self.name = p.get("name", self.name) or self.name
        elif kind == "layout_applied":
            positions = p.get("positions") or {}
            if positions:
                self._undo.append((v, "positions", -1, None if self._pos is None else self._pos.copy()))
                pos = np.full((len(self._node_ids), 2), np.nan, dtype=np.float32)
                for node_id, xy in positions.items():
                    r = self._node_index.get(node_id)
                    if r is not None:
                        pos[r] = xy[:2]
                self._pos = pos
        elif kind in ("conceptual_position_set", "strategy_assigned", "utility_updated"):
            row = self._node_index[p["node_id"]]
            key = {"conceptual_position_set": "coordinates", "strategy_assigned": "strategy",
                   "utility_updated": "utility"}[kind]
            self._set_node_props(row, {key: p[key]}, v)
        elif kind == "coalition_formed":
            for member in p["members"]:
                self._set_node_props(self._node_index[member], {"coalition": p["coalition_id"]}, v)
        # other known types (conceptual_space_created, concept_added, ...) are recorded only
        self._applied[event.event_id] = v
        if self.keep_log:
            self._log.append(event)
            self._log_version.append(v)
        self._vtime.append(t)
        if event.sequence is not None:
            self._note_sequences(np.array([event.sequence], dtype=np.int64))
        elif self._vseq is not None:
            self._vseq.append(-1)
        self.version = v
        self.last_cid = event.cid
        self.last_timestamp = event.timestamp
        if event.sequence is not None:
            self.last_sequence = event.sequence

    def _set_node_props(self, row: int, props: Mapping[str, Any], v: int) -> None:
        old = self._node_props.set(row, dict(props))
        self._undo.append((v, "node_props", row, old))

    def _add_node(self, node_id: str, label: str, props: Mapping[str, Any], t: float, v: int) -> None:
        row = len(self._node_ids)
        self._node_index[node_id] = row
        self._node_ids.append(node_id)
        self._node_label.append(self._labels.code(label or ""))
        self._node_time.append(t)
        self._node_added.append(v)
        self._node_removed.append(_ALIVE)
        if props:
            self._node_props.set_many(np.array([row]), [dict(props)])
        self._n_alive_nodes += 1

    def _add_edge(self, edge_id, source, target, rel, weight, props, t, v) -> None:
        row = self._src.size
        if edge_id != f"e{row}":
            self._edge_explicit[row] = edge_id
            self._edge_index[edge_id] = row
            m = _IMPLICIT.fullmatch(edge_id)
            if m:
                self._pattern_max = max(self._pattern_max, int(m.group(1)))
        self._src.append(self._node_index[source])
        self._dst.append(self._node_index[target])
        self._weight.append(weight)
        self._edge_rel.append(self._rels.code(rel))
        self._edge_time.append(t)
        self._edge_added.append(v)
        self._edge_removed.append(_ALIVE)
        if props:
            self._edge_props.set_many(np.array([row]), [dict(props)])
        self._n_alive_edges += 1

    def _remove_edge_row(self, e: int, v: int) -> None:
        self._edge_removed[e] = v
        explicit = self._edge_explicit.get(e)
        if explicit is not None:
            self._edge_index.pop(explicit, None)
        self._n_alive_edges -= 1

    def _edge_row(self, edge_id: str) -> int | None:
        """Raw row of the live edge ``edge_id``, or None."""
        row = self._edge_index.get(edge_id)
        if row is not None:
            return row
        m = _IMPLICIT.fullmatch(edge_id) if isinstance(edge_id, str) else None
        if m:
            k = int(m.group(1))
            if k < self._src.size and k not in self._edge_explicit and self._edge_removed[k] == _ALIVE:
                return k
        return None

    def _edge_id(self, row: int) -> str:
        return self._edge_explicit.get(row) or f"e{row}"

    def _note_sequences(self, seqs: np.ndarray) -> None:
        """Record the stream sequences of the events after :attr:`version` (-1: none)."""
        if self._vseq is None:
            self._vseq = Column(np.int64, fill=-1)
        self._vseq.pad_to(self.version)
        self._vseq.extend(seqs)

    # ---- the column-wise path
    def _apply_bulk_events(self, events: list[Event]) -> ApplyResult | None:
        """Check and apply an all-add call column-wise; None when the call does not qualify or
        a check fails (the per-event path then gives the exact outcome)."""
        import pyarrow as pa

        kind_of = _BULK_KINDS
        try:
            kinds = np.fromiter((kind_of[e.event_type] for e in events), dtype=np.int8, count=len(events))
        except KeyError:
            return None
        applied = self._applied
        ids = [e.event_id for e in events]
        fresh = [i not in applied for i in ids]
        keep = np.asarray(fresh, dtype=bool)
        if not keep.all():
            events = [e for e, f in zip(events, fresh) if f]
            kinds = kinds[keep]
            ids = [e.event_id for e in events]
        if len(set(ids)) != len(ids):
            return None
        gid = self.graph_id
        pays = [e.payload for e in events]
        if any(e.aggregate_id != gid for e in events) or any(type(p) is not dict for p in pays):
            return None
        is_node = kinds == _NODE
        is_edge = kinds == _EDGE
        kl = kinds.tolist()
        try:
            a = pa.array([p["node_id"] if k == _NODE else p["source"] if k == _EDGE else None
                          for p, k in zip(pays, kl)], type=pa.string())
            b = pa.array([p["target"] if k == _EDGE else None for p, k in zip(pays, kl)], type=pa.string())
            eids = pa.array([p["edge_id"] if k == _EDGE else None for p, k in zip(pays, kl)], type=pa.string())
            label = pa.array([(p.get("label") or ((p.get("labels") or [""])[0])) if k == _NODE else ""
                              for p, k in zip(pays, kl)], type=pa.string())
            rel = pa.array([p.get("relationship", "") if k == _EDGE else "" for p, k in zip(pays, kl)],
                           type=pa.string())
            wl = [p.get("weight", 1.0) if k == _EDGE else 1.0 for p, k in zip(pays, kl)]
            if any(type(w) not in (float, int) for w in wl):
                return None
            weight = np.asarray(wl, dtype=np.float64)
            times = _arrow_seconds(pa.array([e.timestamp for e in events], type=pa.string()))
        except (KeyError, TypeError, ValueError, pa.ArrowException):
            return None
        if a.null_count != int((kinds == _CREATED).sum()) or b.null_count != int((~is_edge).sum()):
            return None
        if eids.null_count != int((~is_edge).sum()) or rel.null_count or label.null_count:
            return None
        props = [p.get("properties") for p in pays]
        if any(x is not None and type(x) is not dict for x in props):
            return None
        for k in np.flatnonzero(is_node).tolist():
            labels = pays[k].get("labels")
            if labels is not None:
                if type(labels) is not list or any(type(x) is not str for x in labels):
                    return None
                if len(labels) > 1:
                    props[k] = {**(props[k] or {}), "labels": list(labels)}
        created = []
        for k in np.flatnonzero(kinds == _CREATED).tolist():
            try:
                validate_payload("graph_created", pays[k], ids[k])
            except EventError:
                return None
            created.append(pays[k])
        seqs = [e.sequence for e in events]
        sequences = None
        if any(s is not None for s in seqs):
            sequences = np.asarray([-1 if s is None else s for s in seqs], dtype=np.int64)
        try:
            self._bulk_apply(kinds, a, b, edge_ids=eids, label=label, relationship=rel, weight=weight,
                             props=props, times=times, sequences=sequences, event_ids=ids, created=created,
                             where="event", events=events)
        except (EventError, GraphError):
            return None
        result = ApplyResult()
        result.applied = len(events)
        result.duplicates = int((~keep).sum())
        self.duplicates_skipped += result.duplicates
        return result

    def _bulk_apply(self, kinds: np.ndarray, a, b, *, edge_ids=None, label=None, relationship=None,
                    weight: np.ndarray | None = None, props: list | None = None, times: np.ndarray | None = None,
                    sequences: np.ndarray | None = None, event_ids: list | None = None,
                    created: list | None = None, prop_columns: dict | None = None, where: str = "event",
                    events: list[Event] | None = None) -> None:
        """Check, then apply, a sequence of node_added (kind 0), edge_added (1) and
        graph_created (2) events given as columns. ``a`` is the node id (node events) or source
        (edges); ``b`` the target (edges, else null). Raises before any change.

        The ids resolve to raw rows through the graph's id table (:class:`NodeTable`, kept
        between calls): a new id gets the next row, in order of first appearance over the
        interleaved slots (a of event k at 2k, b at 2k + 1). When every event is an edge_added,
        the rows are written straight into the spare room of the edge columns and the per-edge
        columns are never gathered (no ``x[edge positions]`` copies)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        n = int(kinds.shape[0])
        if n == 0:
            return
        v0 = self.version
        is_node, is_edge = kinds == _NODE, kinds == _EDGE
        all_edges = bool(is_edge.all())
        ev_name = (lambda k: f"{where} {k}" if events is None else f"event {events[k].event_id}")
        a = _string(a)
        b = _string(b)
        table = self._id_table()
        n0 = table.size
        if self._node_removed.is_uniform:
            removed = np.zeros(0, np.int64)
        else:
            self._node_removed.pad_to(n0)
            removed = self._node_removed.view()
        if all_edges:  # the edge columns' spare room: nothing changes until claim()
            a_row, b_row = self._src.spare(n), self._dst.spare(n)
            ek = None
        else:
            a_row, b_row = np.empty(n, np.int64), np.empty(n, np.int64)
            ek = np.flatnonzero(is_edge)
        first = table.resolve(a, b, removed, a_row, b_row)
        m = n if all_edges else int(ek.shape[0])
        at_edges = (lambda x: x) if all_edges else (lambda x: x[ek])
        event_of = (lambda j: int(j)) if all_edges else (lambda j: int(ek[j]))

        def id_of(row: int) -> str:
            if row < n0:
                return self._node_ids[row]
            s = int(first[row - n0])
            return (a if s % 2 == 0 else b)[s // 2].as_py()

        try:
            if a.null_count or b.null_count:
                nulls = (a_row < 0) & (kinds != _CREATED) | (b_row < 0) & is_edge
                if nulls.any():
                    k = int(np.flatnonzero(nulls)[0])
                    raise InvalidEventError(f"{ev_name(k)}: a node id, source or target is null")
            first_explicit = (first % 2 == 0) & is_node[first // 2]
            # node_added: the id is new to the graph and this is its first appearance in the call
            if not all_edges:
                nk = np.flatnonzero(is_node)
                r = a_row[nk] - n0
                seen_first = np.full(nk.shape[0], -1, dtype=np.int64)
                seen_first[r >= 0] = first[r[r >= 0]]
                bad = seen_first != 2 * nk
                if bad.any():
                    k = int(nk[np.flatnonzero(bad)[0]])
                    raise DuplicateIdError(f"{ev_name(k)}: node {id_of(int(a_row[k]))!r} already exists")
            # edge_added endpoints: a live node of the graph, or one a node_added earlier in the
            # call adds (only new rows need a look: rows < n0 are live nodes of the graph)
            if self.strict and m and first.shape[0]:
                for side, rows_side in ((0, a_row), (1, b_row)):
                    c = at_edges(rows_side)
                    j_new = np.flatnonzero(c >= n0)
                    if not j_new.shape[0]:
                        continue
                    r = c[j_new] - n0
                    pos = 2 * (j_new if all_edges else ek[j_new]) + side
                    bad = ~(first_explicit[r] & (first[r] < pos))
                    if bad.any():
                        j = int(j_new[np.flatnonzero(bad)[0]])
                        k = event_of(j)
                        raise NodeNotFoundError(
                            f"{ev_name(k)}: edge {self._bulk_edge_name(edge_ids, k, j)!r} refers to unknown node "
                            f"{id_of(int(c[j]))!r} (send node_added first, or use Graph(strict=False) to create "
                            "endpoints)")
            # weights
            w = None if weight is None else at_edges(np.asarray(weight, dtype=np.float64))
            if w is not None and not np.isfinite(w).all():
                j = int(np.flatnonzero(~np.isfinite(w))[0])
                raise InvalidEventError(f"{ev_name(event_of(j))}: (edge_added) weight must be finite, got {w[j]!r}")
            # edge ids: implicit "e<row>" or explicit, new and distinct
            r0 = self._src.size
            rows = r0 + np.arange(m) if (edge_ids is not None or props is not None or prop_columns) else None
            explicit_rows = np.zeros(0, np.int64)   # rows of the explicit ids
            explicit_ids = None                      # the ids (pyarrow strings)
            if edge_ids is not None and m:
                eid = _string(edge_ids)
                if not all_edges:
                    eid = eid.take(pa.array(ek))
                if eid.null_count < m:
                    numbers = _pattern_numbers(eid)
                    implicit = numbers == rows
                    if eid.null_count:
                        implicit |= np.asarray(eid.is_null().to_numpy(zero_copy_only=False))
                    ex = np.flatnonzero(~implicit)
                    if ex.shape[0]:
                        explicit_ids = eid if ex.shape[0] == m else eid.take(pa.array(ex))
                        explicit_rows = rows[ex]
                        pattern_k = numbers[ex]
            if explicit_ids is not None:
                n_ex = len(explicit_ids)
                clash = np.zeros(n_ex, dtype=bool)
                live_ids = self._live_explicit_ids()
                if _repeats_or_hits(explicit_ids, live_ids):  # then find which, in Python
                    seen: set[str] = set()
                    ids_list = explicit_ids.to_pylist()
                    for j, e in enumerate(ids_list):
                        if e in seen:
                            raise DuplicateIdError(f"{ev_name(event_of(explicit_rows[j] - r0))}: edge {e!r} already exists")
                        seen.add(e)
                    live_set = set() if live_ids is None else set(live_ids.to_pylist())
                    clash |= np.fromiter((e in live_set for e in ids_list), dtype=bool, count=n_ex)
                # an explicit "e<k>" clashes with a live edge of the graph, or with row k of this
                # call when row k keeps its implicit id
                if r0:
                    old = (pattern_k >= 0) & (pattern_k < r0)
                    for j in np.flatnonzero(old).tolist():
                        clash[j] |= self._edge_row(explicit_ids[j].as_py()) is not None
                in_call = (pattern_k >= r0) & (pattern_k < r0 + m)
                if in_call.any():
                    is_explicit = np.zeros(m, dtype=bool)
                    is_explicit[explicit_rows - r0] = True
                    clash[in_call] |= ~is_explicit[pattern_k[in_call] - r0]
                if clash.any():
                    j = int(np.flatnonzero(clash)[0])
                    raise DuplicateIdError(
                        f"{ev_name(event_of(explicit_rows[j] - r0))}: edge {explicit_ids[j].as_py()!r} already exists")
            if self._pattern_max >= r0 and m:
                stop = min(r0 + m, self._pattern_max + 1)
                keeps_implicit = np.ones(stop - r0, dtype=bool)
                keeps_implicit[explicit_rows[explicit_rows < stop] - r0] = False
                for r in (r0 + np.flatnonzero(keeps_implicit)).tolist():
                    if f"e{r}" in self._edge_index:
                        raise DuplicateIdError(f"{ev_name(event_of(r - r0))}: edge 'e{r}' already exists")
            # event ids
            if event_ids is not None:
                named = [e for e in event_ids if e is not None]
                if len(set(named)) != len(named):
                    raise InvalidEventError(f"{where}s: event_id values repeat within the call")
        except BaseException:
            table.rollback()
            raise
        # ---- all checks passed: apply
        t_all = None if times is None else np.asarray(times, dtype=np.float64)
        new_arrow = _slot_strings(a, b, first)
        table.commit(new_arrow)
        new_ids = new_arrow.to_pylist()
        nn = len(new_ids)
        self._node_ids.extend(new_ids)
        index = self._node_index_live
        if index is not None:  # a dict smaller than the update is dropped (built again on first use)
            if nn < len(index):
                index.update(zip(new_ids, range(n0, n0 + nn)))
            elif nn:
                self._node_index_live = None
        node_event = first // 2
        explicit_new = first_explicit
        if label is not None:
            label_arr = _string(label)
            lab = pc.dictionary_encode(label_arr.take(pa.array(node_event)).fill_null(""))
            codes_l = self._labels.encode_unique(lab.dictionary.to_pylist(),
                                                 lab.indices.to_numpy(zero_copy_only=False))
            codes_l[~explicit_new] = 0
            self._node_label.extend(codes_l)
        else:
            self._node_label.pad_to(self._node_label.size + nn)
        if t_all is None:
            self._node_time.pad_to(self._node_time.size + nn)
        else:
            self._node_time.extend(t_all[node_event])
        self._node_added.extend(v0 + 1 + node_event)
        self._node_removed.pad_to(len(self._node_ids))
        self._n_alive_nodes += nn
        # edges
        if all_edges:
            self._src.claim(m)
            self._dst.claim(m)
        else:
            self._src.extend(a_row[ek])
            self._dst.extend(b_row[ek])
        if w is None:
            self._weight.spare(m)[:] = 1.0
            self._weight.claim(m)
        else:
            self._weight.extend(w)
        if relationship is not None and m:
            rel_arr = _string(relationship)
            rel = pc.dictionary_encode((rel_arr if all_edges else rel_arr.take(pa.array(ek))).fill_null(""))
            self._edge_rel.extend(self._rels.encode_unique(rel.dictionary.to_pylist(),
                                                           rel.indices.to_numpy(zero_copy_only=False)))
        else:
            self._edge_rel.pad_to(self._edge_rel.size + m)
        if t_all is None:
            self._edge_time.pad_to(self._edge_time.size + m)
        else:
            self._edge_time.extend(at_edges(t_all))
        if all_edges:
            from alchemist.graph._intern import fill_range

            fill_range(self._edge_added.spare(m), v0 + 1)
            self._edge_added.claim(m)
        else:
            self._edge_added.extend(v0 + 1 + ek)
        self._edge_removed.pad_to(self._src.size)
        self._n_alive_edges += m
        if explicit_ids is not None:  # kept as columns: the id dicts take them on first use
            self._edge_pending.append((explicit_rows, explicit_ids))
            self._pattern_max = max(self._pattern_max, int(pattern_k.max()))
        # properties
        if props is not None:
            node_rows = n0 + np.flatnonzero(explicit_new)
            node_props = [props[k] for k in node_event[explicit_new].tolist()]
            if any(node_props):
                self._node_props.set_many(node_rows, node_props)
            edge_props = props if all_edges else [props[k] for k in ek.tolist()]
            if any(edge_props):
                self._edge_props.set_many(rows, edge_props)
        if prop_columns:
            node_take = pa.array(node_event[explicit_new])
            for key, values in prop_columns.items():
                nv = values.take(node_take)
                if nv.null_count < len(nv):
                    self._node_props.set_arrow(key, n0 + np.flatnonzero(explicit_new), nv)
                ev = values if all_edges else values.take(pa.array(ek))
                if ev.null_count < len(ev):
                    self._edge_props.set_arrow(key, rows, ev)
        # graph metadata
        if created:
            for k, payload in zip(np.flatnonzero(kinds == _CREATED).tolist(), created):
                self._undo.append((v0 + 1 + k, "meta", -1, (self.directed, self.name)))
                self.directed = bool(payload.get("directed", self.directed))
                self.name = payload.get("name", self.name) or self.name
        # history
        if event_ids is not None:
            self._applied.update((e, v0 + 1 + k) for k, e in enumerate(event_ids) if e is not None)
        if events is not None and self.keep_log:
            self._log.extend(events)
            self._log_version.extend(v0 + 1 + np.arange(n))
        if t_all is None:
            self._vtime.pad_to(self._vtime.size + n)
        else:
            self._vtime.extend(t_all)
        if sequences is not None:
            self._note_sequences(sequences)
            s = sequences[sequences >= 0]
            if s.shape[0]:
                self.last_sequence = int(s[-1])
        elif self._vseq is not None:
            self._vseq.pad_to(v0 + n)
        self.version = v0 + n
        if events is not None:
            self.last_cid = events[-1].cid
            self.last_timestamp = events[-1].timestamp
        elif t_all is not None and np.isfinite(t_all).any():
            from alchemist.events import rfc3339

            self.last_timestamp = rfc3339(float(t_all[np.isfinite(t_all)][-1]))
        self._cache.clear()
        if n >= 500_000:
            _release_memory()

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
                live = np.flatnonzero(removed == _ALIVE).tolist() + list(range(removed.shape[0], len(ids)))
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

    def _live_explicit_ids(self):
        """The explicit ids of the live edges as one pyarrow StringArray (None when there are none),
        without building the dicts."""
        import pyarrow as pa

        parts = [ids for _, ids in self._edge_pending]
        if self._edge_index_d:
            parts.append(pa.array(list(self._edge_index_d), type=pa.string()))
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else pa.concat_arrays(parts)

    def _id_table(self):
        """The graph's id -> raw row table, brought up to date with rows added one by one."""
        import pyarrow as pa

        from alchemist.graph._intern import NodeTable

        t = self._ids_table
        if t is None or t.ids is not self._node_ids or t.size > len(self._node_ids):
            t = self._ids_table = NodeTable(self._node_ids)
        if t.size < len(self._node_ids):
            t.append(pa.array(self._node_ids[t.size:], type=pa.string()))
        return t

    def _bulk_edge_name(self, edge_ids, k: int, j: int) -> str:
        if edge_ids is not None:
            e = _string(edge_ids)[k].as_py()
            if e is not None:
                return e
        return f"e{self._src.size + j}"

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
            "first_seen": _datetimes(self._node_time.view()[rows]),
        }
        return _frame(data, self._node_props, rows, len(self._node_ids))

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
            "timestamp": _datetimes(self._edge_time.view()[rows]),
        }
        return _frame(data, self._edge_props, rows, self._src.size)

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
        return self._csr_with_edges()[:3]

    def _csr_with_edges(self):
        """``(indptr, indices, weights, edge)``: :meth:`csr` plus, per entry, the position of the
        edge in :meth:`edge_index` order."""
        if "csr" not in self._cache:
            self._cache["csr"] = _build_csr(*self.edge_index(), self._n_alive_nodes, self.directed)
        return self._cache["csr"]

    def csr_in(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """In-neighbour CSR of a directed graph (the transpose of :meth:`csr`); for an undirected
        graph the same as :meth:`csr`."""
        if not self.directed:
            return self.csr()
        if "csr_in" not in self._cache:
            src, dst, w = self.edge_index()
            self._cache["csr_in"] = _build_csr(dst, src, w, self._n_alive_nodes, True)[:3]
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
                                         else np.flatnonzero(removed == _ALIVE))
        return self._cache["live_nodes"]

    def _live_edge_raw(self) -> np.ndarray:
        if "live_edges" not in self._cache:
            removed = self._edge_removed.view()
            self._cache["live_edges"] = (np.arange(removed.shape[0]) if self._n_alive_edges == removed.shape[0]
                                         else np.flatnonzero(removed == _ALIVE))
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
        given = [x is not None for x in (version, timestamp, sequence)]
        if sum(given) != 1:
            raise GraphError("give exactly one of version=, timestamp= or sequence=")
        if version is not None:
            if not 0 <= int(version) <= self.version:
                raise GraphError(f"version {version} is outside 0 … {self.version}")
            v = int(version)
        elif sequence is not None:
            if self._vseq is None:
                v = 0
            else:
                seq = self._vseq.view()
                v = int(np.searchsorted(np.maximum.accumulate(seq), int(sequence), side="right"))
        else:
            limit = float(timestamp) if isinstance(timestamp, (int, float)) else _seconds(timestamp)
            if "time_prefix" not in self._cache:
                t = np.where(np.isnan(self._vtime.view()), -np.inf, self._vtime.view())
                self._cache["time_prefix"] = np.maximum.accumulate(t) if t.shape[0] else t
            v = int(np.searchsorted(self._cache["time_prefix"], limit, side="right"))
        return self._truncate(v)

    def _truncate(self, v: int) -> "Graph":
        past = Graph(self.graph_id, directed=self.directed, strict=self.strict, keep_log=self.keep_log,
                     name=self.name)
        n_pre = int(np.searchsorted(self._node_added.view(), v, side="right"))
        e_pre = int(np.searchsorted(self._edge_added.view(), v, side="right"))
        nr, er = np.arange(n_pre), np.arange(e_pre)
        past._node_ids = self._node_ids[:n_pre]
        past._labels = self._labels.copy()
        past._node_label = self._node_label.take(nr)
        past._node_time = self._node_time.take(nr)
        past._node_added = self._node_added.take(nr)
        removed = self._node_removed.view()[:n_pre].copy()
        removed[removed > v] = _ALIVE
        past._node_removed = Column.of(removed, _ALIVE)
        past._node_props = self._node_props.take(nr)
        past._node_index = None
        past._rels = self._rels.copy()
        for name in ("_src", "_dst", "_weight", "_edge_rel", "_edge_time", "_edge_added"):
            setattr(past, name, getattr(self, name).take(er))
        eremoved = self._edge_removed.view()[:e_pre].copy()
        eremoved[eremoved > v] = _ALIVE
        past._edge_removed = Column.of(eremoved, _ALIVE)
        past._edge_props = self._edge_props.take(er)
        past._edge_explicit = {r: e for r, e in self._edge_explicit.items() if r < e_pre}
        past._edge_index = {e: r for r, e in past._edge_explicit.items() if eremoved[r] == _ALIVE}
        past._pattern_max = max((int(m.group(1)) for e in past._edge_index
                                 if (m := _IMPLICIT.fullmatch(e))), default=-1)
        past._n_alive_nodes = int((removed == _ALIVE).sum())
        past._n_alive_edges = int((eremoved == _ALIVE).sum())
        past._pos = None if self._pos is None else self._pos[:n_pre].copy()
        # undo the in-place updates made after v, newest first
        for ver, what, row, old in reversed(self._undo):
            if ver <= v:
                break
            limit = n_pre if what.startswith("node") else e_pre
            if row < limit:  # rows added after v are not in the past graph
                past._undo_one(what, row, old)
        past._undo = [u for u in self._undo if u[0] <= v]
        # history
        past.version = v
        past._vtime = self._vtime.take(np.arange(v))
        if self._vseq is not None:
            past._vseq = self._vseq.take(np.arange(min(v, self._vseq.size)))
            seq = past._vseq.view()
            past.last_sequence = int(seq[seq >= 0][-1]) if (seq >= 0).any() else None
        past._applied = {e: ver for e, ver in self._applied.items() if ver <= v}
        k = int(np.searchsorted(self._log_version.view(), v, side="right"))
        past._log = self._log[:k]
        past._log_version = self._log_version.take(np.arange(k))
        if k and past._log_version[k - 1] == v:
            past.last_cid = past._log[-1].cid
            past.last_timestamp = past._log[-1].timestamp
        elif v and np.isfinite(past._vtime[v - 1]):
            from alchemist.events import rfc3339

            past.last_timestamp = rfc3339(float(past._vtime[v - 1]))
        return past

    def _undo_one(self, what: str, row: int, old) -> None:
        if what == "node_label":
            self._node_label[row] = old
        elif what == "node_props":
            self._node_props.set_many(np.array([row]), [old])
        elif what == "edge_weight":
            self._weight[row] = old
        elif what == "edge_rel":
            self._edge_rel[row] = old
        elif what == "edge_props":
            self._edge_props.set_many(np.array([row]), [old])
        elif what == "meta":
            self.directed, self.name = old
        elif what == "positions":
            self._pos = None if old is None else old[: len(self._node_ids)].copy()

    # ------------------------------------------------------------------ interop
    def to_networkx(self):
        """A NetworkX ``Graph``/``DiGraph`` (``MultiGraph``/``MultiDiGraph`` when there are
        parallel edges) with labels, properties, weights and edge ids (``id`` attribute)."""
        import networkx as nx

        src, dst, w = self.edge_index()
        multi = _has_parallel(src, dst, self.directed)
        G = (nx.MultiDiGraph() if multi else nx.DiGraph()) if self.directed else (
            nx.MultiGraph() if multi else nx.Graph())
        if self.name:
            G.graph["name"] = self.name
        rows = self._live_node_raw()
        words = self._labels.words
        for r in rows.tolist():
            attrs = self._node_props.get(r)
            label = words[self._node_label[r]]
            if label:
                attrs["label"] = label
            G.add_node(self._node_ids[r], **attrs)
        ids = self.node_ids
        rels = self._rels.words
        for k, e in enumerate(self._live_edge_raw().tolist()):
            attrs = self._edge_props.get(e)
            attrs["weight"] = float(w[k])
            attrs["id"] = self._edge_id(e)
            rel = rels[self._edge_rel[e]]
            if rel:
                attrs["relationship"] = rel
            G.add_edge(ids[src[k]], ids[dst[k]], **attrs)
        return G

    def __repr__(self) -> str:
        kind = "directed" if self.directed else "undirected"
        return (f"<alchemist.Graph {self.graph_id!r}: {self._n_alive_nodes:,} nodes, "
                f"{self._n_alive_edges:,} edges, {kind}, version {self.version:,}>")

    def _repr_html_(self) -> str:
        """A notebook summary: sizes, degree range, labels and relationship types, properties."""
        import html

        kind = "directed" if self.directed else "undirected"
        deg = self.degree()
        rows = [
            ("nodes", f"{self._n_alive_nodes:,}"), ("edges", f"{self._n_alive_edges:,}"), ("kind", kind),
            ("version", f"{self.version:,}"),
        ]
        if deg.shape[0]:
            rows.append(("degree", f"min {deg.min():,} · mean {deg.mean():.2f} · max {deg.max():,}"))
        for title, vocab, codes in (("labels", self._labels, self._node_label.view()),
                                    ("relationships", self._rels, self._edge_rel.view())):
            counts = np.bincount(codes, minlength=len(vocab.words)) if codes.shape[0] else np.zeros(1, int)
            top = [(vocab.words[i], int(counts[i])) for i in np.argsort(-counts)[:6] if counts[i] and vocab.words[i]]
            if top:
                rows.append((title, ", ".join(f"{html.escape(w)} ({c:,})" for w, c in top)))
        for title, table in (("node properties", self._node_props), ("edge properties", self._edge_props)):
            if table.columns:
                rows.append((title, ", ".join(f"{html.escape(k)}: {c.kind}" for k, c in list(table.columns.items())[:12])))
        if self.last_timestamp:
            rows.append(("last event", html.escape(self.last_timestamp)))
        body = "".join(f"<tr><th style='text-align:left'>{k}</th><td style='text-align:left'>{v}</td></tr>"
                       for k, v in rows)
        title = html.escape(self.graph_id) + (f" — {html.escape(self.name)}" if self.name else "")
        return (f"<div class='alchemist-graph'><b>alchemist.Graph</b> <code>{title}</code>"
                f"<table>{body}</table></div>")

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


class _Overlay:
    """Ids that exist after the events checked so far in one ``apply`` call, without mutating
    the graph: validate first, then apply."""

    def __init__(self, graph: Graph):
        self.g = graph
        self.added_nodes: set[str] = set()
        self.removed_nodes: set[str] = set()
        self.added_edges: set[str] = set()
        self.removed_edges: set[str] = set()
        self.edges_of: dict[str, set[str]] = {}  # node id -> edges added to it in this call

    def _remove_node(self, node_id: str) -> None:
        """A node removal removes its edges: those of the graph and those added in this call."""
        self.added_nodes.discard(node_id)
        self.removed_nodes.add(node_id)
        for e in self.edges_of.pop(node_id, ()):
            self.added_edges.discard(e)
            self.removed_edges.add(e)
        raw = self.g._node_index.get(node_id)
        if raw is not None:
            g = self.g
            alive = g._edge_removed.view() == _ALIVE
            for r in np.flatnonzero(alive & ((g._src.view() == raw) | (g._dst.view() == raw))).tolist():
                self.removed_edges.add(g._edge_id(r))

    def has_node(self, node_id: str) -> bool:
        if node_id in self.removed_nodes:
            return False
        return node_id in self.added_nodes or node_id in self.g._node_index

    def has_edge(self, edge_id: str) -> bool:
        if edge_id in self.removed_edges:
            return False
        return edge_id in self.added_edges or self.g._edge_row(edge_id) is not None

    def check(self, event: Event) -> None:
        if event.aggregate_id != self.g.graph_id:
            raise InvalidEventError(
                f"event {event.event_id} belongs to aggregate {event.aggregate_id!r}, not to graph {self.g.graph_id!r}")
        validate_payload(event.event_type, event.payload, event.event_id)
        p = event.payload
        kind = event.event_type
        if kind == "edge_added":
            if self.has_edge(p["edge_id"]):
                raise DuplicateIdError(f"event {event.event_id}: edge {p['edge_id']!r} already exists")
            for end in (p["source"], p["target"]):
                if not self.has_node(end):
                    if self.g.strict:
                        raise NodeNotFoundError(
                            f"event {event.event_id}: edge {p['edge_id']!r} refers to unknown node {end!r} "
                            "(send node_added first, or use Graph(strict=False) to create endpoints)")
                    self.added_nodes.add(end)
                    self.removed_nodes.discard(end)
            self.added_edges.add(p["edge_id"])
            self.removed_edges.discard(p["edge_id"])
            for end in {p["source"], p["target"]}:
                self.edges_of.setdefault(end, set()).add(p["edge_id"])
        elif kind == "node_added":
            if self.has_node(p["node_id"]):
                raise DuplicateIdError(f"event {event.event_id}: node {p['node_id']!r} already exists")
            self.added_nodes.add(p["node_id"])
            self.removed_nodes.discard(p["node_id"])
        elif kind in ("node_updated", "node_removed", "conceptual_position_set", "strategy_assigned",
                      "utility_updated"):
            if not self.has_node(p["node_id"]):
                raise NodeNotFoundError(f"event {event.event_id} ({kind}): node {p['node_id']!r} is not in the graph")
            if kind == "node_removed":
                self._remove_node(p["node_id"])
        elif kind in ("edge_updated", "edge_removed"):
            if not self.has_edge(p["edge_id"]):
                raise EdgeNotFoundError(f"event {event.event_id} ({kind}): edge {p['edge_id']!r} is not in the graph")
            if kind == "edge_removed":
                self.added_edges.discard(p["edge_id"])
                self.removed_edges.add(p["edge_id"])
        elif kind == "coalition_formed":
            for member in p["members"]:
                if not self.has_node(member):
                    raise NodeNotFoundError(f"event {event.event_id}: coalition member {member!r} is not in the graph")
        elif kind == "graph_imported":
            raise UnknownEventTypeError(
                f"event {event.event_id}: graph_imported must be resolved through the object store "
                "(alchemist.cim) before it is applied to a Graph")
        _seconds(event.timestamp)


# ---------------------------------------------------------------------- helpers
def _seconds(timestamp) -> float:
    if isinstance(timestamp, (int, float)):
        return float(timestamp)
    if isinstance(timestamp, str):
        # fast path for the common 'YYYY-MM-DDTHH:MM:SSZ'
        if len(timestamp) == 20 and timestamp[-1] == "Z":
            return _fast_seconds(timestamp)
        return parse_rfc3339(timestamp).timestamp()
    return timestamp.timestamp()


_EPOCH_CACHE: dict[str, float] = {}


def _fast_seconds(ts: str) -> float:
    day = ts[:10]
    base = _EPOCH_CACHE.get(day)
    if base is None:
        base = parse_rfc3339(day + "T00:00:00Z").timestamp()
        if len(_EPOCH_CACHE) < 100_000:
            _EPOCH_CACHE[day] = base
    try:
        return base + int(ts[11:13]) * 3600 + int(ts[14:16]) * 60 + int(ts[17:19])
    except ValueError:
        return parse_rfc3339(ts).timestamp()


def _arrow_seconds(values) -> np.ndarray:
    """float64 Unix seconds of an Arrow column of numbers, timestamps or RFC 3339 strings."""
    import pyarrow as pa

    values = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    if pa.types.is_integer(values.type) or pa.types.is_floating(values.type):
        return values.cast(pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False)
    if pa.types.is_timestamp(values.type):
        us = values.cast(pa.timestamp("us", tz=values.type.tz)).cast(pa.int64())
        return us.cast(pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False) / 1e6
    strings = _string(values)
    try:
        ts = strings.cast(pa.timestamp("us", tz="UTC"))
        secs = ts.cast(pa.int64()).cast(pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False) / 1e6
    except pa.ArrowInvalid:
        secs = np.array([np.nan if s is None else _seconds(s) for s in strings.to_pylist()], dtype=np.float64)
    return secs


def _string(values):
    """A pyarrow StringArray (casting large strings, views and dictionaries)."""
    import pyarrow as pa

    if values is None:
        return None
    if isinstance(values, pa.ChunkedArray):
        values = _one_array(values)
    if not isinstance(values, pa.Array):
        values = pa.array(values, type=pa.string())
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    if values.type != pa.string():
        values = values.cast(pa.string())
    return values


def _repeats_or_hits(ids, known) -> bool:
    """Whether the pyarrow strings ``ids`` may repeat one another or one of ``known`` (strings or
    None): True when two of their 64-bit hashes are equal (sorted, then adjacent ones compared), so
    a False is exact and a True is confirmed by the caller."""
    from alchemist.graph._intern import hash_ids

    h = hash_ids(ids)
    if known is not None:
        h = np.concatenate([h, hash_ids(known)])
    h.sort()
    return bool((h[1:] == h[:-1]).any())


def _one_array(values):
    """A ChunkedArray as one Array (its only chunk as is: no copy)."""
    return values.chunk(0) if values.num_chunks == 1 else values.combine_chunks()


def _slot_strings(a, b, slots: np.ndarray):
    """The strings at interleaved ``slots`` (2k: ``a[k]``, 2k + 1: ``b[k]``) of two StringArrays."""
    import pyarrow as pa

    if not slots.shape[0]:
        return pa.array([], pa.string())
    odd = slots % 2 == 1
    if not odd.any():
        return a.take(pa.array(slots // 2))
    if odd.all():
        return b.take(pa.array(slots // 2))
    return pa.concat_arrays([a, b]).take(pa.array(np.where(odd, len(a) + slots // 2, slots // 2)))


def _release_memory() -> None:
    """Hand the temporaries of a large bulk load back to the operating system: Arrow's pool
    keeps freed blocks, and glibc keeps freed heap memory once its mmap threshold has grown."""
    import ctypes

    import pyarrow as pa

    pa.default_memory_pool().release_unused()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def _pattern_numbers(ids) -> np.ndarray:
    """k for ids of the form ``"e<k>"`` (pyarrow strings), -1 for the others."""
    import pyarrow as pa
    import pyarrow.compute as pc

    out = np.full(len(ids), -1, dtype=np.int64)
    cand = np.flatnonzero(pc.starts_with(ids, "e").fill_null(False).to_numpy(zero_copy_only=False))
    if cand.shape[0]:  # the regular expression only on ids that start with "e"
        sub = ids if cand.shape[0] == len(ids) else ids.take(pa.array(cand))
        match = pc.match_substring_regex(sub, r"^e(0|[1-9][0-9]{0,17})$").fill_null(False)
        digits = pc.if_else(match, pc.utf8_slice_codeunits(sub, 1), pa.scalar("-1"))
        out[cand] = pc.cast(digits, pa.int64()).to_numpy(zero_copy_only=False)
    return out


def _as_arrow_table(table):
    import pyarrow as pa

    if isinstance(table, pa.Table):
        return table
    if isinstance(table, pa.RecordBatch):
        return pa.Table.from_batches([table])
    if isinstance(table, dict):
        return pa.table({k: v if isinstance(v, (pa.Array, pa.ChunkedArray)) else pa.array(
            v.tolist() if isinstance(v, np.ndarray) and v.dtype == object else v) for k, v in table.items()})
    module = type(table).__module__
    if module.startswith("polars"):
        return table.to_arrow()
    if module.startswith("pandas"):
        return pa.Table.from_pandas(table, preserve_index=False)
    raise TypeError(f"apply_columns takes a pyarrow Table, polars or pandas DataFrame or dict, not {type(table).__name__}")


def _table_events(graph_id: str, table) -> list[Event]:
    """The rows of an apply_columns table as Event objects (for errors='collect')."""
    rows = table.to_pylist()
    events = []
    reserved = {"event_type", "event_id", "timestamp", "sequence"}
    for i, row in enumerate(rows):
        kind = row.get("event_type") or ("edge_added" if "source" in row and "target" in row else "node_added")
        if kind == "edge_added":
            payload = {"edge_id": row.get("edge_id") or f"e?{i}", "source": row.get("source"),
                       "target": row.get("target"), "relationship": row.get("relationship") or "",
                       "weight": 1.0 if row.get("weight") is None else row["weight"]}
            skip = reserved | {"node_id", "label", "edge_id", "source", "target", "relationship", "weight"}
        else:
            payload = {"node_id": row.get("node_id"), "label": row.get("label") or ""}
            skip = reserved | {"node_id", "label", "edge_id", "source", "target", "relationship", "weight"}
        props = {k: v for k, v in row.items() if k not in skip and v is not None}
        if props:
            payload["properties"] = props
        t = row.get("timestamp")
        events.append(new_event(kind, graph_id, payload, event_id=row.get("event_id"), validate=False,
                                timestamp=0 if t is None else t))
    return events


def _datetimes(seconds: np.ndarray) -> np.ndarray:
    out = np.full(seconds.shape[0], np.datetime64("NaT"), dtype="datetime64[ms]")
    ok = np.isfinite(seconds)
    out[ok] = (seconds[ok] * 1000).astype("int64").astype("datetime64[ms]")
    return out


def _frame(data: dict[str, Any], table: PropertyTable, rows: np.ndarray, n_total: int):
    """A polars DataFrame of ``data`` plus one typed column per property of ``table``."""
    import polars as pl

    frame = pl.DataFrame(data, strict=False)
    extra = []
    for key, col in table.columns.items():
        name = key if key not in data else f"property_{key}"
        values = col.arrow(rows, n_total)
        if isinstance(values, list):
            try:
                extra.append(pl.Series(name, values, strict=False))
            except Exception:  # mixed JSON values: keep them as Python objects
                extra.append(pl.Series(name, values, dtype=pl.Object))
        else:
            extra.append(pl.Series(name, pl.from_arrow(values)))
    return frame.with_columns(extra) if extra else frame


def _build_csr(src, dst, w, n, directed):
    """CSR of the edges (both directions when undirected, self-loops once), each row's
    neighbours sorted; also the edge position of every entry."""
    m = src.shape[0]
    eid = np.arange(m, dtype=np.int64)
    if directed:
        rows, cols, ww, ee = src, dst, w, eid
    else:
        keep = src != dst
        rows = np.concatenate([src, dst[keep]])
        cols = np.concatenate([dst, src[keep]])
        ww = np.concatenate([w, w[keep]])
        ee = np.concatenate([eid, eid[keep]])
    key = rows.astype(np.int64) * max(n, 1) + cols
    order = np.argsort(key, kind="stable")
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    return indptr, cols[order].astype(np.int64), ww[order].astype(np.float64), ee[order]


def _has_parallel(src, dst, directed) -> bool:
    if src.shape[0] == 0:
        return False
    a, b = (src, dst) if directed else (np.minimum(src, dst), np.maximum(src, dst))
    keys = a * (int(max(a.max(), b.max())) + 1) + b
    return np.unique(keys).shape[0] != keys.shape[0]


def _jsonable(value):
    if isinstance(value, (str, int, float, bool)) or value is None:
        if isinstance(value, float) and not math.isfinite(value):
            return None
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    return str(value)
