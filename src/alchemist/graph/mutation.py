"""Applying events one at a time: the per-event path of :meth:`Graph.apply <alchemist.graph.Graph.apply>`.

Validate first, then apply: :class:`Overlay` checks every event of a call against the state it
would meet (the graph plus what the earlier events of the call add and remove) without changing
the graph; only when the whole call passes (or, with ``errors="collect"``, for the events that
pass) does :func:`mutate` write the rows. The column-wise path for large all-add calls is
:mod:`alchemist.graph.bulk`.

The functions take the :class:`~alchemist.graph.Graph` whose columns they write: they are its
implementation, split out of :mod:`alchemist.graph.core`, and use its column layout.
"""

from __future__ import annotations

from typing import Any, Mapping

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
from alchemist.events import Event
from alchemist.events.times import to_seconds
from alchemist.events.types import validate_payload
from alchemist.graph._columns import Column
from alchemist.graph._common import ALIVE, EMPTY, IMPLICIT_ID

__all__ = ["ApplyResult", "Overlay", "add_edge", "add_node", "apply_one_by_one", "mutate", "note_sequences",
           "remove_edge_row", "set_node_props"]


class ApplyResult(list):
    """What :meth:`Graph.apply` did: a list of ``(event, error)`` for the events it rejected
    (only with ``errors="collect"``), plus counters ``applied`` and ``duplicates``.

    Parameters
    ----------
    iterable : iterable of (Event, Exception), optional
        As for ``list``.

    Attributes
    ----------
    applied : int
        Events applied by the call.
    duplicates : int
        Events skipped because their id was applied before.

    Examples
    --------
    >>> from alchemist.events import new_event
    >>> from alchemist.graph import Graph
    >>> g = Graph("g")
    >>> e = new_event("node_added", "g", {"node_id": "a"})
    >>> r = g.apply([e, e])
    >>> list(r), r.applied, r.duplicates
    ([], 1, 1)
    """

    applied: int = 0
    duplicates: int = 0


def apply_one_by_one(graph, events: list[Event], errors: str) -> ApplyResult:
    """Check every event of ``events`` against the state it meets, then apply those that pass.

    With ``errors="raise"`` the first bad event raises before anything is applied; with
    ``"collect"`` bad events are returned with their errors. Events applied before (by id) count
    as duplicates.

    Parameters
    ----------
    graph : Graph
    events : list of Event
    errors : {"raise", "collect"}

    Returns
    -------
    ApplyResult

    Raises
    ------
    EventError, GraphError
        With ``errors="raise"``: the first bad event's error (as :meth:`Overlay.check`).
    """
    result = ApplyResult()
    accepted: list[Event] = []
    state = Overlay(graph)
    seen_in_call: set[str] = set()
    for event in events:
        if event.event_id in graph._applied or event.event_id in seen_in_call:
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
        mutate(graph, event)
    result.applied = len(accepted)
    graph.duplicates_skipped += result.duplicates
    if accepted:
        graph._cache.clear()
    return result


def mutate(graph, event: Event) -> None:
    """Write one checked event into ``graph`` (a new version), recording what undo needs.

    Parameters
    ----------
    graph : Graph
    event : Event
        An event that passed :meth:`Overlay.check`.

    Returns
    -------
    None

    Raises
    ------
    None
        Checks are :meth:`Overlay.check`'s job.
    """
    p = event.payload
    kind = event.event_type
    t = to_seconds(event.timestamp)
    v = graph.version + 1
    if kind == "edge_added":
        for end in (p["source"], p["target"]):
            if end not in graph._node_index:
                add_node(graph, end, "", EMPTY, t, v)
        add_edge(graph, p["edge_id"], p["source"], p["target"], p.get("relationship", "") or "",
                       float(p.get("weight", 1.0)), p.get("properties") or EMPTY, t, v)
    elif kind == "node_added":
        labels = p.get("labels") or []
        label = p.get("label") or (labels[0] if labels else "")
        props = p.get("properties") or EMPTY
        if len(labels) > 1:
            props = {**props, "labels": list(labels)}
        add_node(graph, p["node_id"], label, props, t, v)
    elif kind == "node_updated":
        row = graph._node_index[p["node_id"]]
        if p.get("label") is not None:
            graph._undo.append((v, "node_label", row, int(graph._node_label[row])))
            graph._node_label[row] = graph._labels.code(p["label"])
        if p.get("properties"):
            set_node_props(graph, row, p["properties"], v)
    elif kind == "node_removed":
        row = graph._node_index.pop(p["node_id"])
        graph._node_removed[row] = v
        graph._n_alive_nodes -= 1
        alive = graph._edge_removed.view() == ALIVE
        incident = np.flatnonzero(alive & ((graph._src.view() == row) | (graph._dst.view() == row)))
        for e in incident.tolist():
            remove_edge_row(graph, e, v)
    elif kind == "edge_updated":
        e = graph._edge_row(p["edge_id"])
        if p.get("weight") is not None:
            graph._undo.append((v, "edge_weight", e, float(graph._weight[e])))
            graph._weight[e] = float(p["weight"])
        if p.get("relationship") is not None:
            graph._undo.append((v, "edge_rel", e, int(graph._edge_rel[e])))
            graph._edge_rel[e] = graph._rels.code(p["relationship"])
        if p.get("properties"):
            old = graph._edge_props.set(e, p["properties"])
            graph._undo.append((v, "edge_props", e, old))
    elif kind == "edge_removed":
        remove_edge_row(graph, graph._edge_row(p["edge_id"]), v)
    elif kind == "graph_created":
        graph._undo.append((v, "meta", -1, (graph.directed, graph.name)))
        graph.directed = bool(p.get("directed", graph.directed))
        graph.name = p.get("name", graph.name) or graph.name
    elif kind == "layout_applied":
        positions = p.get("positions") or {}
        if positions:
            graph._undo.append((v, "positions", -1, None if graph._pos is None else graph._pos.copy()))
            pos = np.full((len(graph._node_ids), 2), np.nan, dtype=np.float32)
            for node_id, xy in positions.items():
                r = graph._node_index.get(node_id)
                if r is not None:
                    pos[r] = xy[:2]
            graph._pos = pos
    elif kind in ("conceptual_position_set", "strategy_assigned", "utility_updated"):
        row = graph._node_index[p["node_id"]]
        key = {"conceptual_position_set": "coordinates", "strategy_assigned": "strategy",
               "utility_updated": "utility"}[kind]
        set_node_props(graph, row, {key: p[key]}, v)
    elif kind == "coalition_formed":
        for member in p["members"]:
            set_node_props(graph, graph._node_index[member], {"coalition": p["coalition_id"]}, v)
    # other known types (conceptual_space_created, concept_added, ...) are recorded only
    graph._applied[event.event_id] = v
    if graph.keep_log:
        graph._log.append(event)
        graph._log_version.append(v)
    graph._vtime.append(t)
    if event.sequence is not None:
        note_sequences(graph, np.array([event.sequence], dtype=np.int64))
    elif graph._vseq is not None:
        graph._vseq.append(-1)
    graph.version = v
    graph.last_cid = event.cid
    graph.last_timestamp = event.timestamp
    if event.sequence is not None:
        graph.last_sequence = event.sequence


def set_node_props(graph, row: int, props: Mapping[str, Any], v: int) -> None:
    """Set properties of node row ``row`` at version ``v`` (undo keeps the old values).

    Parameters
    ----------
    graph : Graph
    row : int
        Raw node row.
    props : mapping
    v : int
        The version making the change.

    Returns
    -------
    None

    Raises
    ------
    None
    """
    old = graph._node_props.set(row, dict(props))
    graph._undo.append((v, "node_props", row, old))


def add_node(graph, node_id: str, label: str, props: Mapping[str, Any], t: float, v: int) -> None:
    """Append one node row.

    Parameters
    ----------
    graph : Graph
    node_id, label : str
    props : mapping
    t : float
        Unix seconds of the event (NaN when unknown).
    v : int
        The version adding it.

    Returns
    -------
    None

    Raises
    ------
    None
        The id is trusted new (checked by :meth:`Overlay.check`).
    """
    row = len(graph._node_ids)
    graph._node_index[node_id] = row
    graph._node_ids.append(node_id)
    graph._node_label.append(graph._labels.code(label or ""))
    graph._node_time.append(t)
    graph._node_added.append(v)
    graph._node_removed.append(ALIVE)
    if props:
        graph._node_props.set_many(np.array([row]), [dict(props)])
    graph._n_alive_nodes += 1


def add_edge(graph, edge_id, source, target, rel, weight, props, t, v) -> None:
    """Append one edge row (an explicit id goes to the id dicts).

    Parameters
    ----------
    graph : Graph
    edge_id, source, target, rel : str
        Edge id, endpoint node ids (both present) and relationship type.
    weight : float
    props : mapping
    t : float
        Unix seconds of the event.
    v : int
        The version adding it.

    Returns
    -------
    None

    Raises
    ------
    None
    """
    row = graph._src.size
    if edge_id != f"e{row}":
        graph._edge_explicit[row] = edge_id
        graph._edge_index[edge_id] = row
        m = IMPLICIT_ID.fullmatch(edge_id)
        if m:
            graph._pattern_max = max(graph._pattern_max, int(m.group(1)))
    graph._src.append(graph._node_index[source])
    graph._dst.append(graph._node_index[target])
    graph._weight.append(weight)
    graph._edge_rel.append(graph._rels.code(rel))
    graph._edge_time.append(t)
    graph._edge_added.append(v)
    graph._edge_removed.append(ALIVE)
    if props:
        graph._edge_props.set_many(np.array([row]), [dict(props)])
    graph._n_alive_edges += 1


def remove_edge_row(graph, e: int, v: int) -> None:
    """Mark edge row ``e`` removed at version ``v``.

    Parameters
    ----------
    graph : Graph
    e : int
        Raw edge row (live).
    v : int

    Returns
    -------
    None

    Raises
    ------
    None
    """
    graph._edge_removed[e] = v
    explicit = graph._edge_explicit.get(e)
    if explicit is not None:
        graph._edge_index.pop(explicit, None)
    graph._n_alive_edges -= 1


def note_sequences(graph, seqs: np.ndarray) -> None:
    """Record the stream sequences of the events after :attr:`version` (-1: none).

    Parameters
    ----------
    graph : Graph
    seqs : (k,) int64
        One per event about to be applied.

    Returns
    -------
    None

    Raises
    ------
    None
    """
    if graph._vseq is None:
        graph._vseq = Column(np.int64, fill=-1)
    graph._vseq.pad_to(graph.version)
    graph._vseq.extend(seqs)


class Overlay:
    """Ids that exist after the events checked so far in one ``apply`` call, without mutating
    the graph: validate first, then apply.

    Parameters
    ----------
    graph : Graph
        The graph the call applies to; it is only read.
    """

    def __init__(self, graph):
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
            alive = g._edge_removed.view() == ALIVE
            for r in np.flatnonzero(alive & ((g._src.view() == raw) | (g._dst.view() == raw))).tolist():
                self.removed_edges.add(g._edge_id(r))

    def has_node(self, node_id: str) -> bool:
        """Whether ``node_id`` exists after the events checked so far.

        Parameters
        ----------
        node_id : str

        Returns
        -------
        bool

        Raises
        ------
        None
        """
        if node_id in self.removed_nodes:
            return False
        return node_id in self.added_nodes or node_id in self.g._node_index

    def has_edge(self, edge_id: str) -> bool:
        """Whether ``edge_id`` exists after the events checked so far.

        Parameters
        ----------
        edge_id : str

        Returns
        -------
        bool

        Raises
        ------
        None
        """
        if edge_id in self.removed_edges:
            return False
        return edge_id in self.added_edges or self.g._edge_row(edge_id) is not None

    def check(self, event: Event) -> None:
        """Check ``event`` against the state it would meet and record what it adds and removes.

        Parameters
        ----------
        event : Event

        Returns
        -------
        None

        Raises
        ------
        InvalidEventError
            The event belongs to another aggregate, its payload does not satisfy its type's schema
            (a non-finite weight, a missing id), or its timestamp is not RFC 3339.
        DuplicateIdError
            A node or edge id that exists already.
        NodeNotFoundError
            An edge endpoint (strict graph), a node to update or remove, or a coalition member that
            is not there.
        EdgeNotFoundError
            An edge to update or remove that is not there.
        UnknownEventTypeError
            An event type that is not registered, or a ``graph_imported`` event (to be resolved
            through the object store first).
        """
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
        to_seconds(event.timestamp)
