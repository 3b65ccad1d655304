"""Provenance: which events made a node or an edge what it is, what caused each, and the tree of a correlation.

Every CIM event carries a ``correlation_id`` (the conversation it belongs to: a user's command and
everything it led to) and a ``causation_id`` (what caused it: itself for a command, the event it
was derived from, or the agent suggestion whose acceptance appended it — see
:func:`alchemist.cim.suggestions.accept_suggestion`), and, when a person caused it through the
gateway, ``metadata["actor"]``.

- :func:`provenance` reads a graph's events (a local :class:`~alchemist.graph.Graph`'s own
  history or a stream) and keeps the ones about one node or edge, in order, each with its
  :class:`Cause`: a command (with its actor), an event (its type, sequence and actor), an agent's
  suggestion (the agent, the suggestion's kind and the recorded decision) or an unknown id.
- :func:`correlation_tree` is the causation tree of one correlation, a NetworkX ``DiGraph`` from
  cause to effect (:func:`alchemist.widgets.provenance_view.correlation_view` draws it).

The reads stream (:meth:`Connection.scan_events <alchemist.cim.reading.ReadingMixin.scan_events>`):
memory is the matching events and one pull's messages, whatever the stream's length.

References: C. Richardson, *Microservices Patterns* (2018), ch. 6 (correlation and causation ids);
G. Young, "CQRS Documents" (2010), "Event Sourcing" (the stream as the audit log); W3C PROV-DM
(2013), the *wasGeneratedBy* / *wasInformedBy* / *wasAssociatedWith* relations this mirrors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from alchemist.errors import EdgeNotFoundError, GraphError, NodeNotFoundError
from alchemist.events import Event
from alchemist.graph.event_frames import EventFrameBuilder, actor_of

__all__ = ["Cause", "Provenance", "provenance", "correlation_tree", "touches", "NODE_EVENT_TYPES",
           "EDGE_EVENT_TYPES"]

NODE_EVENT_TYPES = ("node_added", "node_updated", "node_removed", "conceptual_position_set", "strategy_assigned",
                    "utility_updated", "layout_applied", "coalition_formed")
"""Event types that make a node what it is (``payload.node_id``; a layout's ``positions``; a coalition's
``members``)."""

EDGE_EVENT_TYPES = ("edge_added", "edge_updated", "edge_removed", "node_removed")
"""Event types that make an edge what it is (``payload.edge_id``; the removal of an end, which removes it)."""

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,128}$")  # a suggestion id is a NATS subject token


@dataclass(frozen=True)
class Cause:
    """What caused an event (the referent of its ``causation_id``).

    Parameters
    ----------
    kind : {"command", "event", "suggestion", "unknown"}
        ``command``: a root event (``causation_id == event_id``), caused by a user's command;
        ``event``: another event of the graph; ``suggestion``: an agent's suggestion that was
        accepted (a decision is recorded for it); ``unknown``: none of these could be found.
    id : str
        The causation id.
    event_type : str, optional
        The causing event's type (``event``).
    sequence : int, optional
        The causing event's stream sequence (``event``).
    actor : str, optional
        Who issued the command or the causing event (``metadata["actor"]``).
    agent : str, optional
        The agent that made the suggestion (``suggestion``).
    suggestion_kind : str, optional
        ``"layout"``, ``"communities"``, … (``suggestion``).
    decision : str, optional
        The suggestion's last recorded decision (``"applied"``, ``"accepted"``, ``"failed"``).
    """

    kind: str
    id: str
    event_type: str | None = None
    sequence: int | None = None
    actor: str | None = None
    agent: str | None = None
    suggestion_kind: str | None = None
    decision: str | None = None

    def describe(self) -> str:
        """One line for a person, e.g. ``"suggestion 0193… (communities) by agent analysis, applied"``.

        Returns
        -------
        str
        """
        if self.kind == "command":
            return f"command by {self.actor}" if self.actor else "command"
        if self.kind == "event":
            by = f" by {self.actor}" if self.actor else ""
            return f"event {self.event_type} #{self.sequence} {self.id[:13]}…{by}"
        if self.kind == "suggestion":
            return (f"suggestion {self.id[:13]}… ({self.suggestion_kind}) by agent {self.agent}, "
                    f"{self.decision}")
        return f"unknown cause {self.id[:24]}"


@dataclass
class Provenance:
    """The events that made a node or an edge what it is, in order, with their causes.

    Parameters
    ----------
    graph_id : str
    item : str
        The node or edge id.
    kind : {"node", "edge"}
    events : list of Event
        In the order they were applied (stream order).
    causes : dict of str to Cause
        By the id of the event they caused.

    Attributes
    ----------
    frame : polars.DataFrame
        One row per event: the columns of an events frame (``sequence, time, type, aggregate,
        event_id, correlation, causation, cid, previous_cid, actor, payload``) and ``cause_kind``,
        ``cause_type``, ``cause_actor``, ``agent``, ``suggestion_kind``.
    """

    graph_id: str
    item: str
    kind: str
    events: list[Event] = field(default_factory=list)
    causes: dict[str, Cause] = field(default_factory=dict)

    def cause_of(self, event: Event) -> Cause:
        """The cause of one of the events.

        Parameters
        ----------
        event : Event

        Returns
        -------
        Cause
        """
        return self.causes[event.event_id]

    @property
    def frame(self):
        """The events as a polars frame, with their causes.

        Returns
        -------
        polars.DataFrame
            The columns of an events frame (:func:`~alchemist.graph.event_frames.event_frame_schema`)
            and ``cause_kind``, ``cause_type``, ``cause_actor``, ``agent``, ``suggestion_kind``
            (strings, null where they do not apply).
        """
        import polars as pl

        builder = EventFrameBuilder()
        for event in self.events:
            builder.add(event)
        causes = [self.cause_of(e) for e in self.events]
        extra = {name: pl.Series(name, [getattr(c, attr) for c in causes], dtype=pl.String())
                 for name, attr in (("cause_kind", "kind"), ("cause_type", "event_type"),
                                    ("cause_actor", "actor"), ("agent", "agent"),
                                    ("suggestion_kind", "suggestion_kind"))}
        return builder.frame().with_columns(**extra)

    def __len__(self) -> int:
        return len(self.events)

    def __iter__(self):
        return iter(self.events)

    def __repr__(self) -> str:
        lines = [f"<Provenance of {self.kind} {self.item!r} in graph {self.graph_id!r}: {len(self.events)} events>"]
        for e in self.events:
            actor = actor_of(e)
            by = f" by {actor}" if actor else ""
            sequence = "-" if e.sequence is None else f"#{e.sequence}"
            lines.append(f"  {sequence:>8} {e.timestamp:<27} {e.event_type:<14}{by}  ← {self.cause_of(e).describe()}")
        return "\n".join(lines)


def provenance(source, item: str, *, graph_id: str | None = None, kind: str | None = None) -> Provenance:
    """The events that made a node or an edge what it is, with what caused each.

    A node's events are those whose ``payload.node_id`` is the node (added, updated, removed, its
    conceptual position, strategy, utility), the layouts that place it and the coalitions that
    hold it; an edge's are those whose ``payload.edge_id`` is the edge and the removal of one of
    its ends after it was added. Each event's ``causation_id`` is followed to its :class:`Cause`:
    itself (a command, with ``metadata["actor"]``), another event of the graph, or an agent's
    suggestion (its decision record on ``ai.insights.decisions.<id>``, :func:`~alchemist.cim.suggestions.decision_of`).

    Parameters
    ----------
    source : Connection or Graph
        A connection (the graph's events read from the stream) or a local graph (its own
        :attr:`~alchemist.graph.Graph.events`; a graph built in bulk has none).
    item : str
        The node or edge id.
    graph_id : str, optional
        The graph, with a connection.
    kind : {"node", "edge"}, optional
        What ``item`` is; by default whichever has events (a node when the id is both).

    Returns
    -------
    Provenance
        ``events``, ``causes``, ``frame`` and a readable repr.

    Raises
    ------
    GraphError
        A connection without ``graph_id``, ``kind`` not "node" or "edge", or a local graph that
        does not keep all its events (read in bulk from a stream, built by ``from_edges``…: ask
        the connection instead).
    NodeNotFoundError, EdgeNotFoundError
        No event concerns ``item`` (of the given ``kind``, or as either).
    DeadLetterError
        A stream read could not store a dead letter.

    Notes
    -----
    Cost, on a connection: one read of the graph's events (as
    :meth:`~alchemist.cim.reading.ReadingMixin.events`), one ``STREAM.MSG.GET`` per distinct
    causation id that is neither a command nor one of the item's own events, and one more read of
    the graph when some of those are events outside the item's own. Memory: the item's events.

    Examples
    --------
    >>> from alchemist import Graph, new_event
    >>> g = Graph("g")
    >>> add = new_event("node_added", "g", {"node_id": "a"}, metadata={"actor": "ana"}, timestamp=0)
    >>> update = add.derive("node_updated", {"node_id": "a", "label": "hub"}, timestamp=60, previous_cid=add.cid)
    >>> _ = g.apply([add, new_event("node_added", "g", {"node_id": "b"}, timestamp=30), update])
    >>> p = provenance(g, "a")
    >>> [(e.event_type, p.cause_of(e).kind) for e in p.events]
    [('node_added', 'command'), ('node_updated', 'event')]
    >>> p.frame.select("type", "actor", "cause_kind", "cause_actor").rows()
    [('node_added', 'ana', 'command', 'ana'), ('node_updated', None, 'event', 'ana')]
    >>> provenance(g, "z")
    Traceback (most recent call last):
    ...
    alchemist.errors.NodeNotFoundError: no event of graph 'g' concerns a node or an edge 'z'; ...
    """
    if kind not in (None, "node", "edge"):
        raise GraphError(f"kind={kind!r}; give 'node', 'edge' or None (whichever has events)")
    scan, gid, connection = _reader(source, graph_id)
    matcher = _Matcher(item)
    scan(matcher.visit, None)
    chosen = kind or ("node" if matcher.nodes or not matcher.edges else "edge")
    events = matcher.nodes if chosen == "node" else matcher.edges
    if not events:
        what = "a node or an edge" if kind is None else f"a {kind}"
        error = EdgeNotFoundError if kind == "edge" else NodeNotFoundError
        raise error(f"no event of graph {gid!r} concerns {what} {item!r}; check the id (graph.node_ids, "
                    "graph.edge_ids) and that the graph's events are kept (a graph built in bulk has none)")
    return Provenance(gid, item, chosen, events, _causes(events, connection, lambda keep: scan(None, keep)))


def correlation_tree(source, correlation_id: str, *, graph_id=None):
    """The causation tree of one correlation: its events (and their causes) linked from cause to effect.

    Parameters
    ----------
    source : Connection or Graph
        A connection (events read from the stream) or a local graph (its own events).
    correlation_id : str
    graph_id : str or list of str, optional
        The graph(s) whose events to read, with a connection (a correlation may span graphs).

    Returns
    -------
    networkx.DiGraph
        A node per event of the correlation (its event id; attributes ``kind="event"``,
        ``event_type``, ``sequence``, ``time``, ``aggregate``, ``actor`` when known, ``label``) and
        per cause outside them (``kind`` ``"suggestion"`` with ``agent`` and ``suggestion_kind``;
        ``"command"`` for the correlation id itself, the command that opened the conversation
        when a root event's ``causation_id`` is its ``correlation_id``; ``"event"`` for an event
        of another correlation; ``"unknown"``); an edge ``cause → effect`` per event whose
        ``causation_id`` is not its own id, so the edges are exactly the events' causation links.
        Every node has at most one parent: a forest; ``tree.graph`` has ``correlation_id`` and
        ``roots`` (in order).

    Raises
    ------
    GraphError
        A connection without ``graph_id``, or a local graph that does not keep all its events.
    ValueError
        ``correlation_id`` is not a non-empty string.

    Examples
    --------
    >>> from alchemist import Graph, new_event
    >>> g = Graph("g")
    >>> root = new_event("node_added", "g", {"node_id": "a"}, correlation_id="c")
    >>> child = root.derive("node_added", {"node_id": "b"}, previous_cid=root.cid)
    >>> grandchild = child.derive("edge_added", {"edge_id": "ab", "source": "a", "target": "b"},
    ...                           previous_cid=child.cid)
    >>> _ = g.apply([root, child, grandchild])
    >>> tree = correlation_tree(g, "c")  # the root's causation is "c": the command that opened it
    >>> tree.graph["roots"], tree.nodes["c"]["kind"]
    (['c'], 'command')
    >>> import networkx as nx
    >>> [(tree.nodes[u]["label"], tree.nodes[v]["label"]) for u, v in nx.bfs_edges(tree, "c")]
    [('command c', 'node_added a'), ('node_added a', 'node_added b'), ('node_added b', 'edge_added ab')]
    """
    import networkx as nx

    if not isinstance(correlation_id, str) or not correlation_id:
        raise ValueError(f"correlation_id={correlation_id!r}; give a correlation id (an event's correlation_id)")
    graph_ids = [graph_id] if graph_id is None or isinstance(graph_id, str) else list(graph_id)
    readers = [_reader(source, gid) for gid in graph_ids]
    connection = readers[0][2]
    readers = [scan for scan, _, _ in readers]
    events: list[Event] = []
    for scan in readers:
        scan(events.append, lambda e: e.correlation_id == correlation_id)
    causes = _causes(events, connection, lambda keep: [scan(None, keep) for scan in readers])
    tree = nx.DiGraph(correlation_id=correlation_id, roots=[])
    for e in events:
        tree.add_node(e.event_id, **_event_attributes(e))
    for e in events:
        cause = causes[e.event_id]
        if cause.id == e.event_id:  # a command's own event: a root
            continue
        if cause.id not in tree:
            tree.add_node(cause.id, **_cause_attributes(cause))
        tree.add_edge(cause.id, e.event_id)
    tree.graph["roots"] = [n for n in tree if tree.in_degree(n) == 0]
    return tree


def touches(event: Event, item: str, kind: str) -> bool:
    """Whether an event concerns node ``item`` (``kind="node"``) or edge ``item`` directly.

    Parameters
    ----------
    event : Event
    item : str
    kind : {"node", "edge"}

    Returns
    -------
    bool
        See :func:`provenance` for which events concern a node or an edge (the removal of an
        edge's end is judged by :func:`provenance`, which knows the edge's ends).

    Examples
    --------
    >>> from alchemist import new_event
    >>> touches(new_event("layout_applied", "g", {"positions": {"a": [0, 1]}}), "a", "node")
    True
    >>> touches(new_event("edge_added", "g", {"edge_id": "e", "source": "a", "target": "b"}), "a", "node")
    False
    """
    p = event.payload
    t = event.event_type
    if kind == "edge":
        return t in ("edge_added", "edge_updated", "edge_removed") and p.get("edge_id") == item
    if t == "layout_applied":
        return item in (p.get("positions") or {})
    if t == "coalition_formed":
        return item in (p.get("members") or ())
    return t in NODE_EVENT_TYPES and p.get("node_id") == item


# ---------------------------------------------------------------------------------------- helpers
class _Matcher:
    """Keeps the events about one id, as a node and as an edge, in one pass."""

    def __init__(self, item: str):
        self.item = item
        self.nodes: list[Event] = []
        self.edges: list[Event] = []
        self.ends: tuple[str, str] | None = None  # the edge's ends while it exists

    def visit(self, event: Event) -> None:
        if touches(event, self.item, "node"):
            self.nodes.append(event)
        if touches(event, self.item, "edge"):
            self.edges.append(event)
            if event.event_type == "edge_added":
                self.ends = (event.payload.get("source"), event.payload.get("target"))
            elif event.event_type == "edge_removed":
                self.ends = None
        elif (self.ends is not None and event.event_type == "node_removed"
              and event.payload.get("node_id") in self.ends):
            self.edges.append(event)  # removing an end removes the edge
            self.ends = None


def _reader(source, graph_id):
    """``(scan(visit, keep), graph id, connection or None)`` for a connection or a local graph."""
    if hasattr(source, "scan_events"):
        if not graph_id:
            raise GraphError("a connection holds many graphs: give graph_id=")

        def scan(visit, keep):
            return source.scan_events(graph_id, visit or _ignore, keep=keep)

        return scan, graph_id, source
    if not hasattr(source, "events"):
        raise GraphError(f"source is a {type(source).__name__}; give a Connection (with graph_id=) or a Graph")
    kept, version = len(source.events), int(getattr(source, "version", 0))
    if kept < version:  # a bulk read or build keeps its effect, not its events: an answer would be partial
        gid = getattr(source, "graph_id", graph_id)
        raise GraphError(f"graph {gid!r} keeps {kept} of its {version} events (a graph read from a stream in "
                         "bulk, built by a from_* constructor or with keep_log=False does not keep them); ask the "
                         f"stream: provenance(connection, item, graph_id={gid!r})")

    def scan_local(visit, keep):
        n = 0
        for event in source.events:
            if keep is None or keep(event):
                if visit is not None:
                    visit(event)
                n += 1
        return n

    return scan_local, getattr(source, "graph_id", graph_id), None


def _causes(events: list[Event], connection, scan_all) -> dict[str, Cause]:
    """The cause of each event, by the event's id: itself (or its correlation's origin) a command,
    one of ``events``, then recorded suggestions, then events found by ``scan_all(keep)``."""
    causes: dict[str, Cause] = {}
    own = {e.event_id: e for e in events}
    for e in events:
        c = e.causation_id
        if c == e.event_id:
            causes[e.event_id] = Cause("command", c, actor=actor_of(e))
        elif c in own:
            causes[e.event_id] = _event_cause(own[c])
    outside = {e.causation_id for e in events if e.event_id not in causes}
    found = _resolve(outside, connection, scan_all)
    for e in events:
        if e.event_id in causes:
            continue
        cause = found[e.causation_id]
        if cause.kind == "unknown" and e.causation_id == e.correlation_id:  # the command that opened it
            cause = Cause("command", e.causation_id, actor=actor_of(e))
        causes[e.event_id] = cause
    return causes


def _resolve(ids: set[str], connection, scan_all) -> dict[str, Cause]:
    """Causes of ids that are not events at hand: recorded suggestions, then events found by a scan."""
    found: dict[str, Cause] = {}
    if connection is not None:
        from alchemist.cim.suggestions import decision_of

        for cid in sorted(ids):
            record = decision_of(connection, cid) if _TOKEN.match(cid) else None
            if record is not None:
                found[cid] = Cause("suggestion", cid, agent=record.agent or None,
                                   suggestion_kind=record.kind or None, decision=record.decision)
    rest = ids - set(found)
    if rest:
        def keep(event: Event) -> bool:
            if event.event_id in rest:
                found[event.event_id] = _event_cause(event)
            return False

        scan_all(keep)
    for cid in ids - set(found):
        found[cid] = Cause("unknown", cid)
    return found


def _ignore(event: Event) -> None:
    return None


def _event_cause(event: Event) -> Cause:
    return Cause("event", event.event_id, event_type=event.event_type, sequence=event.sequence,
                 actor=actor_of(event))


def _item_of(event: Event) -> str:
    p = event.payload
    return str(p.get("node_id") or p.get("edge_id") or p.get("coalition_id") or "")


def _event_attributes(event: Event) -> dict:
    attrs = {"kind": "event", "event_type": event.event_type, "time": event.timestamp,
             "aggregate": event.aggregate_id, "label": f"{event.event_type} {_item_of(event)}".strip()}
    if event.sequence is not None:
        attrs["sequence"] = int(event.sequence)
    actor = actor_of(event)
    if actor is not None:
        attrs["actor"] = actor
    return attrs


def _cause_attributes(cause: Cause) -> dict:
    label = f"command {cause.id[:24]}" + (f" by {cause.actor}" if cause.actor else "")
    attrs = {"kind": cause.kind, "label": label if cause.kind == "command" else cause.describe()}
    for name in ("event_type", "sequence", "actor", "agent", "suggestion_kind", "decision"):
        value = getattr(cause, name)
        if value is not None:
            attrs[name] = value
    return attrs
