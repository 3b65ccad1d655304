"""The event-sourced, columnar :class:`Graph` (DESIGN.md §5).

A Graph is the fold of a CIM graph's events. Nodes and edges live in NumPy columns (endpoints as
int64 row numbers, weights as float64, timestamps as float64 Unix seconds) plus Python lists for
ids, labels and properties; a CSR adjacency is rebuilt lazily when a query needs it.

Row order: ``graph.nodes`` lists the live nodes in the order they were added; every per-node
array alchemist returns (positions, scores, labels) follows that order, and
:meth:`Graph.edge_index` gives edge endpoints as row numbers in it.

Applying events is idempotent by event id (an event applied once is skipped when it comes
again) and atomic per call: :meth:`Graph.apply` checks every event against the state it would
meet before it changes anything, so a bad event never leaves a half-applied batch behind.
"""

from __future__ import annotations

import math
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
from alchemist.graph._columns import Column

__all__ = ["Graph", "ApplyResult"]

_EMPTY: dict[str, Any] = {}


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
        :class:`~alchemist.errors.NodeNotFoundError`; when False the endpoint is created (as
        NetworkX's ``add_edge`` does).
    keep_log : bool
        Keep the applied events so that :meth:`at` can rebuild earlier states.

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
        self.positions: np.ndarray | None = None
        self._log: list[Event] = []
        self._applied: set[str] = set()
        # nodes
        self._node_ids: list[str] = []
        self._node_index: dict[str, int] = {}
        self._node_label: list[str] = []
        self._node_props: list[dict[str, Any]] = []
        self._node_alive = Column(np.bool_)
        self._node_time = Column(np.float64, fill=np.nan)
        self._node_version = Column(np.int64)
        # edges
        self._edge_ids: list[str] = []
        self._edge_index: dict[str, int] = {}
        self._edge_rel: list[str] = []
        self._edge_props: list[dict[str, Any]] = []
        self._src = Column(np.int64)
        self._dst = Column(np.int64)
        self._weight = Column(np.float64)
        self._edge_time = Column(np.float64, fill=np.nan)
        self._edge_alive = Column(np.bool_)
        self._edge_version = Column(np.int64)
        self._prefix_version = 0  # versions 1 … this were bulk-loaded (no event log)
        self._n_alive_nodes = 0
        self._n_alive_edges = 0
        self._cache: dict[str, Any] = {}

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_edges(cls, edges: Iterable[tuple], *, graph_id: str = "graph", directed: bool = False,
                   timestamps: Iterable[float] | None = None) -> "Graph":
        """Build a graph from ``(source, target)`` or ``(source, target, weight)`` tuples.

        Node ids are converted to strings; edge ids are ``e0, e1, ...`` in input order. The
        graph's history is the events that build it: a ``node_added`` before each node's first
        edge, one ``edge_added`` per edge.
        """
        graph = cls(graph_id, directed=directed)
        graph._bulk_add_edges(list(edges), None if timestamps is None else list(timestamps))
        return graph

    @classmethod
    def from_edge_list(cls, edges, *, graph_id: str = "graph", directed: bool = False,
                       third: str = "timestamp") -> "Graph":
        """Build a graph from an :class:`~alchemist.graph.io.EdgeList` in one vectorized step.

        The result is the state the events of a replay of the file would give (``graph_created``,
        then per line a ``node_added`` for each endpoint not seen before and one ``edge_added``
        with id ``e<line index>``), and :attr:`version` counts those events, but the events are
        not materialised: :meth:`at` rebuilds earlier states from the columns.
        """
        import pandas as pd

        n_edges = len(edges)
        graph = cls(graph_id, directed=directed)
        ends = np.empty(2 * n_edges, dtype=object)
        ends[0::2], ends[1::2] = edges.source, edges.target
        codes, uniques = pd.factorize(ends, sort=False)
        codes = codes.astype(np.int64)
        first = np.zeros(2 * n_edges, dtype=bool)
        first_pos = np.full(len(uniques), 2 * n_edges, dtype=np.int64)
        np.minimum.at(first_pos, codes, np.arange(2 * n_edges))
        first[first_pos] = True
        new_per_line = first.reshape(-1, 2).sum(axis=1) if n_edges else np.zeros(0, np.int64)
        edge_version = 1 + np.cumsum(new_per_line + 1)
        node_version = 1 + np.cumsum(first.astype(np.int64)) + (np.arange(2 * n_edges) // 2)
        if edges.third is not None and third == "timestamp":
            times, weights = edges.third, np.ones(n_edges)
        else:
            times = np.full(n_edges, np.nan)
            weights = edges.third if edges.third is not None else np.ones(n_edges)
        if not np.isfinite(weights).all():
            bad = int(np.flatnonzero(~np.isfinite(weights))[0])
            raise GraphError(f"edge {bad} of {edges.path} has a non-finite weight {weights[bad]!r}")
        graph._node_ids = [str(u) for u in uniques]
        graph._node_index = {u: i for i, u in enumerate(graph._node_ids)}
        graph._node_label = [""] * len(uniques)
        graph._node_props = [_EMPTY] * len(uniques)
        graph._node_alive.extend(np.ones(len(uniques), dtype=bool))
        graph._node_time.extend(np.repeat(times, 2)[first_pos] if n_edges else [])
        graph._node_version.extend(node_version[first_pos])
        graph._edge_ids = [f"e{i}" for i in range(n_edges)]
        graph._edge_index = {e: i for i, e in enumerate(graph._edge_ids)}
        graph._edge_rel = [""] * n_edges
        graph._edge_props = [_EMPTY] * n_edges
        graph._src.extend(codes[0::2])
        graph._dst.extend(codes[1::2])
        graph._weight.extend(weights)
        graph._edge_time.extend(times)
        graph._edge_alive.extend(np.ones(n_edges, dtype=bool))
        graph._edge_version.extend(edge_version)
        graph._n_alive_nodes, graph._n_alive_edges = len(uniques), n_edges
        graph.version = graph._prefix_version = int(edge_version[-1]) if n_edges else 1
        if n_edges and np.isfinite(times[-1]):
            from alchemist.events import rfc3339

            graph.last_timestamp = rfc3339(float(np.nanmax(times)))
        return graph

    @classmethod
    def from_networkx(cls, G, *, graph_id: str = "graph", weight: str = "weight") -> "Graph":
        """Convert a NetworkX graph (``Graph``, ``DiGraph``, ``MultiGraph``, ``MultiDiGraph``).

        Node ids become strings (``str(node)``); node and edge attributes become properties,
        except ``label`` (the node label), ``weight`` (the edge weight, default 1.0) and
        ``relationship``/``type`` (the edge type). Isolated nodes are kept.
        """
        graph = cls(graph_id, directed=G.is_directed(), keep_log=True)
        events: list[Event] = [new_event("graph_created", graph_id, {"directed": G.is_directed()},
                                         timestamp=0)]
        for node, data in G.nodes(data=True):
            props = {k: _jsonable(v) for k, v in data.items() if k != "label"}
            events.append(new_event("node_added", graph_id, {
                "node_id": str(node), "label": str(data.get("label", "")), "properties": props}, timestamp=0))
        edge_iter = G.edges(keys=True, data=True) if G.is_multigraph() else (
            (u, v, None, d) for u, v, d in G.edges(data=True))
        for i, (u, v, key, data) in enumerate(edge_iter):
            props = {k: _jsonable(x) for k, x in data.items() if k not in (weight, "relationship", "type")}
            w = float(data.get(weight, 1.0))
            rel = str(data.get("relationship", data.get("type", "")))
            events.append(new_event("edge_added", graph_id, {
                "edge_id": f"e{i}" if key is None else f"e{i}:{key}", "source": str(u), "target": str(v),
                "relationship": rel, "weight": w, "properties": props}, timestamp=0))
        graph.apply(events)
        return graph

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
            A malformed event (``errors="raise"``).
        NodeNotFoundError, EdgeNotFoundError, DuplicateIdError
            An event that does not fit the state: an edge to an unknown node (``strict``), the
            removal or update of an unknown node or edge, a node or edge id added twice.
        """
        if isinstance(events, Event):
            events = [events]
        if errors not in ("raise", "collect"):
            raise ValueError(f"errors={errors!r}; use 'raise' or 'collect'")
        result = ApplyResult()
        accepted: list[Event] = []
        state = _Overlay(self)
        seen_in_call: set[str] = set()
        for event in events:
            if not isinstance(event, Event):
                raise TypeError(f"Graph.apply takes alchemist.events.Event objects, not {type(event).__name__}")
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
        if kind == "edge_added":
            for end in (p["source"], p["target"]):
                if end not in self._node_index:
                    self._add_node(end, "", _EMPTY, t)
            self._add_edge(p["edge_id"], p["source"], p["target"], p.get("relationship", ""),
                           float(p.get("weight", 1.0)), p.get("properties", _EMPTY), t)
        elif kind == "node_added":
            label = p.get("label") or (p.get("labels") or [""])[0]
            self._add_node(p["node_id"], label, p.get("properties", _EMPTY), t)
        elif kind == "node_updated":
            row = self._node_index[p["node_id"]]
            if p.get("label") is not None:
                self._node_label[row] = p["label"]
            if p.get("properties"):
                self._node_props[row] = {**self._node_props[row], **p["properties"]}
        elif kind == "node_removed":
            row = self._node_index.pop(p["node_id"])
            self._node_alive[row] = False
            self._n_alive_nodes -= 1
            alive = self._edge_alive.view()
            incident = np.flatnonzero(alive & ((self._src.view() == row) | (self._dst.view() == row)))
            for e in incident:
                self._edge_alive[e] = False
                self._edge_index.pop(self._edge_ids[e], None)
            self._n_alive_edges -= incident.shape[0]
        elif kind == "edge_updated":
            e = self._edge_index[p["edge_id"]]
            if p.get("weight") is not None:
                self._weight[e] = float(p["weight"])
            if p.get("relationship") is not None:
                self._edge_rel[e] = p["relationship"]
            if p.get("properties"):
                self._edge_props[e] = {**self._edge_props[e], **p["properties"]}
        elif kind == "edge_removed":
            e = self._edge_index.pop(p["edge_id"])
            self._edge_alive[e] = False
            self._n_alive_edges -= 1
        elif kind == "graph_created":
            self.directed = bool(p.get("directed", self.directed))
            self.name = p.get("name", self.name) or self.name
        elif kind == "layout_applied":
            positions = p.get("positions") or {}
            if positions:
                rows = self._live_rows_map()
                pos = np.full((self._n_alive_nodes, 2), np.nan, dtype=np.float32)
                for node_id, xy in positions.items():
                    r = self._node_index.get(node_id)
                    if r is not None:
                        pos[rows[r]] = xy[:2]
                self.positions = pos
        elif kind in ("conceptual_position_set", "strategy_assigned", "utility_updated"):
            row = self._node_index[p["node_id"]]
            key = {"conceptual_position_set": "coordinates", "strategy_assigned": "strategy",
                   "utility_updated": "utility"}[kind]
            self._node_props[row] = {**self._node_props[row], key: p[key]}
        elif kind == "coalition_formed":
            for member in p["members"]:
                row = self._node_index[member]
                self._node_props[row] = {**self._node_props[row], "coalition": p["coalition_id"]}
        # other known types (conceptual_space_created, concept_added, ...) are recorded only
        self._applied.add(event.event_id)
        if self.keep_log:
            self._log.append(event)
        self.version += 1
        self.last_cid = event.cid
        self.last_timestamp = event.timestamp
        if event.sequence is not None:
            self.last_sequence = event.sequence

    def _add_node(self, node_id: str, label: str, props: Mapping[str, Any], t: float) -> None:
        self._node_index[node_id] = len(self._node_ids)
        self._node_ids.append(node_id)
        self._node_label.append(label)
        self._node_props.append(dict(props) if props else _EMPTY)
        self._node_alive.append(True)
        self._node_time.append(t)
        self._node_version.append(self.version + 1)
        self._n_alive_nodes += 1

    def _add_edge(self, edge_id, source, target, rel, weight, props, t) -> None:
        self._edge_index[edge_id] = len(self._edge_ids)
        self._edge_ids.append(edge_id)
        self._edge_rel.append(rel)
        self._edge_props.append(dict(props) if props else _EMPTY)
        self._src.append(self._node_index[source])
        self._dst.append(self._node_index[target])
        self._weight.append(weight)
        self._edge_time.append(t)
        self._edge_alive.append(True)
        self._edge_version.append(self.version + 1)
        self._n_alive_edges += 1

    def _bulk_add_edges(self, edges: list[tuple], timestamps: list[float] | None) -> None:
        events: list[Event] = [new_event("graph_created", self.graph_id, {"directed": self.directed}, timestamp=0)]
        known: set[str] = set()
        for i, edge in enumerate(edges):
            if len(edge) not in (2, 3):
                raise GraphError(f"edge {i} is {edge!r}; give (source, target) or (source, target, weight)")
            u, v = str(edge[0]), str(edge[1])
            w = float(edge[2]) if len(edge) == 3 else 1.0
            t = 0 if timestamps is None else timestamps[i]
            for node in (u, v):
                if node not in known:
                    known.add(node)
                    events.append(new_event("node_added", self.graph_id, {"node_id": node}, timestamp=t))
            events.append(new_event("edge_added", self.graph_id,
                                    {"edge_id": f"e{i}", "source": u, "target": v, "weight": w}, timestamp=t))
        self.apply(events)

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

    @property
    def node_ids(self) -> list[str]:
        """Ids of the live nodes in row order."""
        if "node_ids" not in self._cache:
            alive = self._node_alive.view()
            ids = self._node_ids
            self._cache["node_ids"] = [ids[r] for r in np.flatnonzero(alive)] if not alive.all() else list(ids)
        return self._cache["node_ids"]

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

    @property
    def nodes(self):
        """Live nodes as a polars DataFrame: ``id``, ``label``, ``degree``, ``first_seen`` and one
        column per property key. Row order = row order of every per-node array."""
        import polars as pl

        rows = np.flatnonzero(self._node_alive.view())
        data: dict[str, Any] = {
            "id": [self._node_ids[r] for r in rows],
            "label": [self._node_label[r] for r in rows],
            "degree": self.degree(),
            "first_seen": _datetimes(self._node_time.view()[rows]),
        }
        data.update(_property_columns([self._node_props[r] for r in rows], reserved=data))
        return pl.DataFrame(data, strict=False)

    @property
    def edges(self):
        """Live edges as a polars DataFrame: ``id``, ``source``, ``target``, ``relationship``,
        ``weight``, ``timestamp`` and one column per property key."""
        import polars as pl

        rows = np.flatnonzero(self._edge_alive.view())
        ids = self._node_ids
        src, dst = self._src.view()[rows], self._dst.view()[rows]
        data: dict[str, Any] = {
            "id": [self._edge_ids[r] for r in rows],
            "source": [ids[s] for s in src],
            "target": [ids[d] for d in dst],
            "relationship": [self._edge_rel[r] for r in rows],
            "weight": self._weight.view()[rows],
            "timestamp": _datetimes(self._edge_time.view()[rows]),
        }
        data.update(_property_columns([self._edge_props[r] for r in rows], reserved=data))
        return pl.DataFrame(data, strict=False)

    def node(self, node_id: str) -> dict[str, Any]:
        """One node's id, label and properties.

        Raises
        ------
        NodeNotFoundError
        """
        raw = self._node_index.get(node_id)
        if raw is None:
            raise NodeNotFoundError(f"node {node_id!r} is not in graph {self.graph_id!r}")
        return {"id": node_id, "label": self._node_label[raw], **self._node_props[raw]}

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
            alive = self._edge_alive.view()
            remap = self._live_rows_map()
            if alive.all():
                src, dst, w = self._src.view(), self._dst.view(), self._weight.view()
            else:
                src, dst, w = self._src.view()[alive], self._dst.view()[alive], self._weight.view()[alive]
            self._cache["edge_index"] = (remap[src], remap[dst], w.copy())
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
        if "csr" not in self._cache:
            self._cache["csr"] = _build_csr(*self.edge_index(), self._n_alive_nodes, self.directed)
        return self._cache["csr"]

    def degree(self) -> np.ndarray:
        """``(n_nodes,)`` int64 degree of each live node (out-degree when directed; a self-loop
        counts twice when undirected, as in NetworkX)."""
        src, dst, _ = self.edge_index()
        n = self._n_alive_nodes
        deg = np.bincount(src, minlength=n)
        if not self.directed:
            deg = deg + np.bincount(dst, minlength=n)
        return deg.astype(np.int64)

    def _live_rows_map(self) -> np.ndarray:
        if "live_rows" not in self._cache:
            alive = self._node_alive.view()
            remap = np.full(alive.shape[0], -1, dtype=np.int64)
            remap[alive] = np.arange(int(alive.sum()), dtype=np.int64)
            self._cache["live_rows"] = remap
        return self._cache["live_rows"]

    # ------------------------------------------------------------------ history
    @property
    def events(self) -> list[Event]:
        """The applied events, in order (empty when ``keep_log=False``)."""
        return list(self._log)

    def at(self, version: int | None = None, *, timestamp=None, sequence: int | None = None) -> "Graph":
        """The graph as it was after ``version`` events, at a time, or at a stream sequence.

        Parameters
        ----------
        version : int, optional
            Number of applied events (0 … :attr:`version`).
        timestamp : str, float or datetime, optional
            Every event with a timestamp at or before this time (RFC 3339, Unix seconds or datetime).
        sequence : int, optional
            Every event with a JetStream sequence at or before this one.

        Raises
        ------
        GraphError
            When the graph keeps no log, or the version is out of range.
        """
        if not self.keep_log and self.version > self._prefix_version:
            raise GraphError("this Graph was created with keep_log=False and cannot rebuild earlier states")
        given = [x is not None for x in (version, timestamp, sequence)]
        if sum(given) != 1:
            raise GraphError("give exactly one of version=, timestamp= or sequence=")
        prefix = self._prefix_version
        if version is not None:
            if not 0 <= version <= self.version:
                raise GraphError(f"version {version} is outside 0 … {self.version}")
            past = self._prefix_state(node_keep=self._node_version.view() <= version,
                                      edge_keep=self._edge_version.view() <= version,
                                      version=min(version, prefix))
            chosen = self._log[: max(version - prefix, 0)]
        elif sequence is not None:
            past = self._prefix_state(None, None, prefix)
            chosen = [e for e in self._log if e.sequence is not None and e.sequence <= sequence]
        else:
            limit = _seconds(timestamp) if not isinstance(timestamp, (int, float)) else float(timestamp)
            node_t, edge_t = self._node_time.view(), self._edge_time.view()
            past = self._prefix_state(node_keep=node_t <= limit, edge_keep=edge_t <= limit, version=None)
            chosen = [e for e in self._log if _seconds(e.timestamp) <= limit]
        past.apply(chosen)
        return past

    def _prefix_state(self, node_keep, edge_keep, version) -> "Graph":
        """A new Graph holding the bulk-loaded part, filtered by the masks (rows of the prefix)."""
        past = Graph(self.graph_id, directed=self.directed, strict=self.strict, name=self.name)
        if not self._prefix_version:
            return past
        n_pre = int(np.searchsorted(self._node_version.view(), self._prefix_version, side="right"))
        e_pre = int(np.searchsorted(self._edge_version.view(), self._prefix_version, side="right"))
        nk = np.ones(n_pre, bool) if node_keep is None else node_keep[:n_pre]
        ek = np.ones(e_pre, bool) if edge_keep is None else edge_keep[:e_pre]
        nodes = np.flatnonzero(nk)
        remap = np.full(n_pre, -1, dtype=np.int64)
        remap[nodes] = np.arange(nodes.shape[0])
        erows = np.flatnonzero(ek)
        past._node_ids = [self._node_ids[r] for r in nodes]
        past._node_index = {u: i for i, u in enumerate(past._node_ids)}
        past._node_label = [self._node_label[r] for r in nodes]
        past._node_props = [self._node_props[r] for r in nodes]
        past._node_alive.extend(np.ones(nodes.shape[0], bool))
        past._node_time.extend(self._node_time.view()[nodes])
        past._node_version.extend(self._node_version.view()[nodes])
        past._edge_ids = [self._edge_ids[r] for r in erows]
        past._edge_index = {e: i for i, e in enumerate(past._edge_ids)}
        past._edge_rel = [self._edge_rel[r] for r in erows]
        past._edge_props = [self._edge_props[r] for r in erows]
        past._src.extend(remap[self._src.view()[erows]])
        past._dst.extend(remap[self._dst.view()[erows]])
        past._weight.extend(self._weight.view()[erows])
        past._edge_time.extend(self._edge_time.view()[erows])
        past._edge_alive.extend(np.ones(erows.shape[0], bool))
        past._edge_version.extend(self._edge_version.view()[erows])
        past._n_alive_nodes, past._n_alive_edges = nodes.shape[0], erows.shape[0]
        if version is None:
            version = int(max(past._node_version.view().max(initial=0), past._edge_version.view().max(initial=0)))
        past.version = past._prefix_version = version
        return past

    # ------------------------------------------------------------------ interop
    def to_networkx(self):
        """A NetworkX ``Graph``/``DiGraph`` (``MultiGraph``/``MultiDiGraph`` when there are
        parallel edges) with labels, properties, weights and edge ids (``id`` attribute)."""
        import networkx as nx

        src, dst, w = self.edge_index()
        multi = _has_parallel(src, dst, self.directed)
        G = (nx.MultiDiGraph() if multi else nx.DiGraph()) if self.directed else (
            nx.MultiGraph() if multi else nx.Graph())
        rows = np.flatnonzero(self._node_alive.view())
        for r in rows:
            attrs = dict(self._node_props[r])
            if self._node_label[r]:
                attrs["label"] = self._node_label[r]
            G.add_node(self._node_ids[r], **attrs)
        ids = self.node_ids
        erows = np.flatnonzero(self._edge_alive.view())
        for k, e in enumerate(erows):
            attrs = dict(self._edge_props[e])
            attrs["weight"] = float(w[k])
            attrs["id"] = self._edge_ids[e]
            if self._edge_rel[e]:
                attrs["relationship"] = self._edge_rel[e]
            G.add_edge(ids[src[k]], ids[dst[k]], **attrs)
        return G

    def __repr__(self) -> str:
        kind = "directed" if self.directed else "undirected"
        return (f"<alchemist.Graph {self.graph_id!r}: {self._n_alive_nodes:,} nodes, "
                f"{self._n_alive_edges:,} edges, {kind}, version {self.version:,}>")

    def _repr_html_(self) -> str:
        import html

        kind = "directed" if self.directed else "undirected"
        return (
            "<div class='alchemist-graph'><b>alchemist.Graph</b> "
            f"<code>{html.escape(self.graph_id)}</code><br>"
            f"{self._n_alive_nodes:,} nodes · {self._n_alive_edges:,} edges · {kind} · "
            f"version {self.version:,}"
            + (f" · last event {html.escape(self.last_timestamp)}" if self.last_timestamp else "")
            + "</div>"
        )

    def memory_usage(self) -> int:
        """Approximate bytes held by the graph's arrays (ids and properties not included)."""
        cols = (self._node_alive, self._node_time, self._src, self._dst, self._weight, self._edge_time,
                self._edge_alive)
        return sum(c.nbytes() for c in cols)

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

    def has_node(self, node_id: str) -> bool:
        if node_id in self.removed_nodes:
            return False
        return node_id in self.added_nodes or node_id in self.g._node_index

    def has_edge(self, edge_id: str) -> bool:
        if edge_id in self.removed_edges:
            return False
        return edge_id in self.added_edges or edge_id in self.g._edge_index

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
                if p["node_id"] in self.added_nodes:
                    raise GraphError(
                        f"event {event.event_id}: node {p['node_id']!r} is removed in the same batch that adds "
                        "it; apply the batches separately")
                self.removed_nodes.add(p["node_id"])
        elif kind in ("edge_updated", "edge_removed"):
            if not self.has_edge(p["edge_id"]):
                raise EdgeNotFoundError(f"event {event.event_id} ({kind}): edge {p['edge_id']!r} is not in the graph")
            if kind == "edge_removed":
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


def _datetimes(seconds: np.ndarray) -> np.ndarray:
    out = np.full(seconds.shape[0], np.datetime64("NaT"), dtype="datetime64[ms]")
    ok = np.isfinite(seconds)
    out[ok] = (seconds[ok] * 1000).astype("int64").astype("datetime64[ms]")
    return out


def _property_columns(props: list[dict[str, Any]], reserved: Mapping[str, Any]) -> dict[str, list]:
    keys: dict[str, None] = {}
    for p in props:
        if p:
            keys.update(dict.fromkeys(p))
    return {(k if k not in reserved else f"property_{k}"): [p.get(k) for p in props] for k in keys}


def _build_csr(src, dst, w, n, directed):
    if directed:
        rows, cols, ww = src, dst, w
    else:
        loop = src == dst
        rows = np.concatenate([src, dst[~loop]])
        cols = np.concatenate([dst, src[~loop]])
        ww = np.concatenate([w, w[~loop]])
    order = np.lexsort((cols, rows))
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    return indptr, cols[order].astype(np.int64), ww[order].astype(np.float64)


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
