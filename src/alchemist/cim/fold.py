"""Folding a stream of CIM events into a :class:`~alchemist.Graph`, exactly once.

:class:`GraphFold` is what a consumer feeds with decoded, verified events. It remembers every
event id it has applied (a redelivered or re-published event is skipped, whatever its stream
sequence) and collects the events that cannot be applied (with the reason) for the dead-letter
stream.

Order: events are folded in causal order, following the CID chain (each event's
``previous_cid``); an event that arrives before its predecessor waits for it.

Bulk path: while a graph is being built from nothing, events in the shape a replay of an edge
list produces (``graph_created``; a bare ``node_added`` for each endpoint just before its first
edge, with that edge's timestamp; ``edge_added`` with ids ``e0, e1, ...``, weight 1 and no
properties) are only collected as columns and turned into a Graph in one vectorised step with
:meth:`Graph.from_edge_list`, which yields the same state as applying them one by one. The
first event outside that shape ends the bulk path: the collected prefix is materialised and this
event and every later one go through :meth:`Graph.apply`, which checks each against the state.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from alchemist.errors import EventError, GraphError, InvalidEventError
from alchemist.events import Event, parse_rfc3339
from alchemist.events.times import parse_seconds

__all__ = ["GraphFold"]

_EDGE_KEYS = frozenset({"edge_id", "source", "target", "weight"})


class GraphFold:
    """Apply events to a graph exactly once, with a vectorised path for bulk builds.

    Parameters
    ----------
    graph_id : str
    graph : Graph, optional
        Continue an existing graph (e.g. one loaded from a snapshot); a new one otherwise.
    applied_ids : iterable of str, optional
        Event ids already folded into ``graph``.
    accept : callable, optional
        ``accept(event) -> bool``; events it rejects are skipped silently (time travel).

    Attributes
    ----------
    rejected : list of (sequence, event_id, reason)
        Events that could not be applied (their error message is the reason).
    duplicates : int
        Events skipped because their id was applied before.
    applied : int
    """

    def __init__(self, graph_id: str, graph=None, *, applied_ids=(), accept: Callable[[Event], bool] | None = None,
                 causal: bool = True):
        self.graph_id = graph_id
        self._graph = graph
        self._seen: set[str] = set(applied_ids)
        self.accept = accept
        self.causal = causal
        self._head: str | None = None if graph is None else graph.last_cid
        self._cids: set[int] = set()
        self._waiting: dict[str, list[Event]] = {}
        self._parked_ids: set[str] = set()
        self.rejected: list[tuple[int | None, str | None, str]] = []
        self.duplicates = 0
        self.applied = 0
        self.last_sequence: int | None = None
        self._bulk = _Bulk() if graph is None or graph.version == 0 else None

    @property
    def applied_ids(self) -> set[str]:
        """Ids of every event folded in (for snapshots)."""
        return self._seen

    @property
    def parked(self) -> int:
        """Events held back until the event their ``previous_cid`` names arrives."""
        return len(self._parked_ids)

    def feed(self, events: list[Event], *, caught_up: bool = False, imports: dict | None = None
             ) -> list[tuple[Event, Exception]]:
        """Fold verified events in; returns the ones rejected by the graph, with their errors.

        Events are applied in causal order: an event whose ``previous_cid`` names an event not
        folded yet (a publisher's retry can store events out of order) waits for it. With
        ``caught_up`` (the stream has nothing pending), the events still waiting are applied in
        stream order: their predecessor is missing from the stream. ``imports`` maps the
        ``object_cid`` of ``graph_imported`` events to their resolved Arrow tables (or to the
        error that prevented resolving them).
        """
        seen, parked = self._seen, self._parked_ids
        ids = [e.event_id for e in events]
        batch_ids = set(ids)
        if len(batch_ids) == len(ids) and seen.isdisjoint(batch_ids) and parked.isdisjoint(batch_ids):
            fresh = list(events)  # the common case, checked with set operations
        else:
            fresh = []
            batch_ids = set()
            for event in events:
                eid = event.event_id
                if eid in seen or eid in batch_ids or eid in parked:
                    self.duplicates += 1
                    continue
                batch_ids.add(eid)
                fresh.append(event)
        if events and events[-1].sequence is not None:
            self.last_sequence = events[-1].sequence
        if self.causal:
            fresh = self._in_causal_order(fresh)
            if caught_up and parked:
                fresh += self._release()
        if self.accept is not None:
            fresh = [e for e in fresh if self.accept(e)]
        if not fresh:
            return []
        rejected: list[tuple[Event, Exception]] = []
        if imports:
            return self._feed_with_imports(fresh, imports)
        if self._bulk is not None:
            taken = self._bulk.take(fresh, self.graph_id)
            seen.update(e.event_id for e in fresh[:taken])
            self.applied += taken
            if taken == len(fresh):
                return []
            self._materialise()
            fresh = fresh[taken:]
        result = self._graph_or_new().apply(fresh, errors="collect")
        bad = {id(e) for e, _ in result}
        for event in fresh:
            if id(event) not in bad:
                seen.add(event.event_id)
        self.applied += result.applied
        self.duplicates += result.duplicates
        for event, exc in result:
            rejected.append((event, exc))
        return rejected

    def _feed_with_imports(self, events: list[Event], imports: dict) -> list[tuple[Event, Exception]]:
        """Fold events around ``graph_imported`` ones, whose tables go to ``Graph.apply_columns``."""
        rejected: list[tuple[Event, Exception]] = []
        run: list[Event] = []
        for event in events + [None]:
            if event is not None and event.event_type != "graph_imported":
                run.append(event)
                continue
            if run:
                rejected += self.feed(run, imports=None)
                run = []
            if event is None:
                break
            table = imports.get(event.payload.get("object_cid"))
            if table is None or isinstance(table, Exception):
                rejected.append((event, table or InvalidEventError(
                    f"graph_imported {event.event_id}: object {event.payload.get('object_cid')} could not be read")))
                continue
            self._materialise()
            graph = self._graph_or_new()
            try:
                result = graph.apply_columns(table)
            except (EventError, GraphError) as exc:
                rejected.append((event, exc))
                continue
            self._seen.add(event.event_id)
            if table.num_rows and "event_id" in table.column_names:
                self._seen.update(x for x in table.column("event_id").to_pylist() if x is not None)
            self.applied += result.applied
            graph.last_cid, graph.last_timestamp = event.cid, event.timestamp
            graph.last_sequence = event.sequence
        return rejected

    def _in_causal_order(self, events: list[Event]) -> list[Event]:
        cids, waiting = self._cids, self._waiting
        head = self._head
        if not waiting and events:  # the common case: the chain continues through the whole batch
            if events[0].previous_cid == head:
                chained = all(a.cid == b.previous_cid for a, b in zip(events, events[1:]))
                if chained:
                    cids.update([hash(e.cid) for e in events])
                    self._head = events[-1].cid
                    return events
        out: list[Event] = []
        add = cids.add
        for event in events:
            p = event.previous_cid
            if p == head and not waiting:  # the common case: the chain continues
                out.append(event)
                head = event.cid
                add(hash(head))
                continue
            if p is None or p == head or hash(p) in cids:
                stack = [event]
                while stack:
                    e = stack.pop()
                    out.append(e)
                    head = e.cid
                    cids.add(hash(head))
                    if waiting:
                        followers = waiting.pop(head, None)
                        if followers:
                            for f in followers:
                                self._parked_ids.discard(f.event_id)
                            stack.extend(reversed(followers))
            else:
                waiting.setdefault(p, []).append(event)
                self._parked_ids.add(event.event_id)
        self._head = head
        return out

    def _release(self) -> list[Event]:
        """The waiting events, in stream order (their predecessors never came)."""
        rest = sorted((e for group in self._waiting.values() for e in group), key=lambda e: e.sequence or 0)
        self._waiting.clear()
        self._parked_ids.clear()
        for e in rest:
            self._cids.add(hash(e.cid))
        if rest:
            self._head = rest[-1].cid
        return rest

    def reject(self, sequence: int | None, event: Event | None, exc: Exception) -> None:
        """Record a dead-lettered event or message."""
        self.rejected.append((sequence, None if event is None else event.event_id, str(exc)))

    @property
    def graph(self):
        """The graph (the bulk prefix, if any, materialised first)."""
        self._materialise()
        return self._graph_or_new()

    def _graph_or_new(self):
        if self._graph is None:
            from alchemist.graph import Graph

            self._graph = Graph(self.graph_id, strict=True)
        return self._graph

    def _materialise(self) -> None:
        bulk, self._bulk = self._bulk, None
        if bulk is None or bulk.count == 0:
            return
        self._graph = bulk.build(self.graph_id)


class _Bulk:
    """Columns of the edge-list-shaped prefix of a graph's events."""

    def __init__(self):
        self.count = 0
        self.directed = False
        self.name = ""
        self.created = False
        self.sources: list[str] = []
        self.targets: list[str] = []
        self.stamps: list[str] = []
        self.known: set[str] = set()
        self.pending: list[Event] = []  # node_added events awaiting their endpoint's first edge
        self.last: Event | None = None

    def take(self, events: list[Event], graph_id: str) -> int:
        """Take the longest prefix of ``events`` that keeps the edge-list shape; return its length."""
        k = 0
        if not self.created:
            first = events[0]
            if first.event_type != "graph_created" or first.aggregate_id != graph_id:
                return 0
            self.created = True
            self.directed = bool(first.payload.get("directed", False))
            self.name = first.payload.get("name", "") or ""
            self.last = first
            k = 1
        known, pending, sources, targets, stamps = self.known, self.pending, self.sources, self.targets, self.stamps
        n_edges = len(sources)
        for event in events[k:]:
            kind, p = event.event_type, event.payload
            if event.aggregate_id != graph_id:
                break
            if kind == "edge_added":
                # exactly the four keys with weight 1 and the next edge id; the time in whole seconds
                # (YYYY-MM-DDTHH:MM:SSZ, 20 characters: decoding checked it is RFC 3339)
                ts = event.timestamp
                try:
                    if len(p) != 4 or p["weight"] != 1.0 or p["edge_id"] != "e" + str(n_edges) or len(ts) != 20 \
                            or ts[19] != "Z":
                        break
                    u, v = p["source"], p["target"]
                except KeyError:
                    break
                if pending:
                    fresh = [n for n in ((u, v) if u != v else (u,)) if n not in known]
                    if [e.payload["node_id"] for e in pending] != fresh or any(e.timestamp != ts for e in pending):
                        break
                    known.update(fresh)
                    pending.clear()
                elif u not in known or v not in known:
                    break
                sources.append(u)
                targets.append(v)
                stamps.append(ts)
                n_edges += 1
            elif kind == "node_added":
                node = p.get("node_id")
                if len(p) != 1 or len(pending) > 1 or node in known or (
                        pending and pending[0].payload["node_id"] == node):
                    break
                pending.append(event)
            else:
                break
            k += 1
        self.count += k
        if k:
            self.last = events[k - 1]
        return k

    def build(self, graph_id: str):
        from alchemist.graph import Graph
        from alchemist.graph.io import EdgeList

        seconds = _seconds_many(self.stamps)
        edges = EdgeList(np.array(self.sources, dtype=object), np.array(self.targets, dtype=object), seconds,
                         path=graph_id)
        graph = Graph.from_edge_list(edges, graph_id=graph_id, directed=self.directed)
        graph.name = self.name
        last = self.last
        if self.pending:  # bare nodes at the end of the prefix: apply them as events
            graph.apply(self.pending)
        graph.last_cid = last.cid
        graph.last_timestamp = last.timestamp
        graph.last_sequence = last.sequence
        return graph


def _seconds_many(stamps: list[str]) -> np.ndarray:
    """Unix seconds of RFC 3339 UTC strings ending in ``Z``: vectorised for the plain
    ``YYYY-MM-DDTHH:MM:SSZ`` form, one by one otherwise (the same values either way)."""
    if not stamps:
        return np.zeros(0)
    try:
        text = np.array(stamps, dtype="S20")
    except UnicodeEncodeError:
        text = None
    if text is not None:
        seconds, valid = parse_seconds(text.view(np.uint8).reshape(-1, 20))
        if valid.all():
            return seconds.astype(np.float64)
    return np.array([parse_rfc3339(s).timestamp() for s in stamps])
