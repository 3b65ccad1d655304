"""Folding a stream of CIM events into a :class:`~alchemist.Graph`, exactly once.

:class:`GraphFold` is what a consumer feeds with decoded, verified events. Its
:class:`~alchemist.cim.chain.CausalChain` admits them: in causal order (each event's
``previous_cid`` names its predecessor; an event that arrives before its predecessor waits for
it, for a bounded time), each once (a redelivered or re-published event is skipped), and refuses,
each once with a specific error, forks, conflicting duplicates and events whose predecessor is
not a CID or never came (see :mod:`alchemist.cim.chain` for the rules, the wait and the bounded
de-duplication window). The refused events, and the events the graph's state rejects, are what
:meth:`GraphFold.feed` returns: the consumer dead-letters them.

Bulk path: while a graph is being built from nothing, events in the shape a replay of an edge
list produces (``graph_created``; a bare ``node_added`` for each endpoint just before its first
edge, with that edge's timestamp; ``edge_added`` with ids ``e0, e1, ...``, weight 1 and no
properties) are only collected as columns (node ids as int32 codes into the list of node ids,
times as float64 seconds: about 16 bytes an edge) and turned into a Graph in one vectorised step
with :func:`alchemist.graph.convert.from_codes` (the state :meth:`Graph.from_edge_list` gives, no
string made again), which yields the same state as applying them one by one. The first event outside that shape ends the bulk path: the collected prefix is materialised and this
event and every later one go through :meth:`Graph.apply`, which checks each against the state.
"""

from __future__ import annotations

import time
from typing import Callable

import numpy as np

from alchemist.cim.chain import DEFAULT_MAX_PARKED, DEFAULT_WINDOW, CausalChain
from alchemist.errors import EventError, GraphError, InvalidEventError
from alchemist.events import Event, parse_rfc3339
from alchemist.events.times import parse_seconds

__all__ = ["GraphFold"]


class GraphFold:
    """Apply a graph's events exactly once, in chain order, with a vectorised path for bulk builds.

    Parameters
    ----------
    graph_id : str
    graph : Graph, optional
        Continue an existing graph (e.g. one loaded from a snapshot; its ``last_cid`` is the
        chain's head); a new one otherwise.
    applied_ids : iterable of str, optional
        Event ids already folded into ``graph`` (the last ``window`` are remembered).
    accept : callable, optional
        ``accept(event) -> bool``; events it rejects are skipped silently (time travel). They
        still pass the chain.
    causal : bool
        False: no chain rule (events pass in stream order, de-duplicated; e.g. to list them).
    mid_stream : bool
        The read starts after the graph's first event (from a stream sequence or a time) and
        ``graph`` has no ``last_cid``: the first event fed anchors the chain whatever its
        ``previous_cid``.
    chain_wait : float
        Seconds an event whose predecessor has not arrived waits, once the consumer has caught
        up, before it is refused (:class:`~alchemist.errors.UnknownPredecessorError`). 0 (a read
        that ends when caught up: refused then); a live feed uses a few seconds (a publisher's
        retry may store the predecessor later) and calls :meth:`expire_parked` when idle.
    max_parked : int
        At most this many events wait at once; beyond that the oldest is refused.
    window : int
        Ids and CIDs of the last ``window`` (to ``2 · window``) events are remembered for
        de-duplication and fork detection; older redeliveries are refused, never applied twice
        (:mod:`alchemist.cim.chain`).
    clock : callable
        Monotonic seconds (``time.monotonic``), for the wait.

    Attributes
    ----------
    rejected : list of (sequence, event_id, reason)
        Events that could not be applied (their error message is the reason).
    applied : int
        Events applied to the graph.
    last_sequence : int or None
        Stream sequence of the last event fed.

    Examples
    --------
    >>> from alchemist.events import new_event
    >>> a = new_event("graph_created", "g", {}, timestamp=0)
    >>> b = new_event("node_added", "g", {"node_id": "x"}, timestamp=1, previous_cid=a.cid)
    >>> fork = new_event("node_added", "g", {"node_id": "y"}, timestamp=2, previous_cid=a.cid)
    >>> fold = GraphFold("g")
    >>> fold.feed([a, b, b])  # the second b is a redelivery: skipped
    []
    >>> [(e.payload["node_id"], type(x).__name__) for e, x in fold.feed([fork])]
    [('y', 'ForkError')]
    >>> fold.graph.node_ids, fold.applied, fold.duplicates
    (['x'], 2, 1)
    """

    def __init__(self, graph_id: str, graph=None, *, applied_ids=(), accept: Callable[[Event], bool] | None = None,
                 causal: bool = True, mid_stream: bool = False, chain_wait: float = 0.0,
                 max_parked: int = DEFAULT_MAX_PARKED, window: int = DEFAULT_WINDOW,
                 clock: Callable[[], float] = time.monotonic):
        self.graph_id = graph_id
        self._graph = graph
        self.accept = accept
        self.causal = causal
        self.chain_wait = float(chain_wait)
        self.chain = CausalChain(head=None if graph is None else graph.last_cid, window=window, enforce=causal,
                                 mid_stream=mid_stream, max_parked=max_parked, clock=clock)
        self.chain.recent.add_ids(applied_ids)
        self.rejected: list[tuple[int | None, str | None, str]] = []
        self.applied = 0
        self._graph_duplicates = 0
        self.last_sequence: int | None = None
        self._imports: dict = {}  # resolved objects of parked graph_imported events
        self._bulk = _Bulk() if graph is None or graph.version == 0 else None

    @property
    def applied_ids(self) -> list[str]:
        """Ids of the most recent events folded in (the de-duplication window: the last ``window``
        to ``2 · window``), for snapshots."""
        return self.chain.recent.ids()

    @property
    def parked(self) -> int:
        """Events held back until the event their ``previous_cid`` names arrives."""
        return self.chain.parked

    @property
    def duplicates(self) -> int:
        """Events skipped because the same event (same id, same CID) was fed before."""
        return self.chain.duplicates + self._graph_duplicates

    def feed(self, events: list[Event], *, caught_up: bool = False, imports: dict | None = None
             ) -> list[tuple[Event, Exception]]:
        """Fold verified events in; return the ones refused, each with its error.

        Parameters
        ----------
        events : list of Event
            Verified events of this graph, in stream order (each with its ``sequence``).
        caught_up : bool
            The stream has nothing pending behind these events: the events parked for at least
            ``chain_wait`` seconds are refused (their predecessor is missing from the stream).
        imports : dict, optional
            Maps the ``object_cid`` of ``graph_imported`` events to their resolved Arrow tables
            (or to the error that prevented resolving them).

        Returns
        -------
        list of (Event, Exception)
            Every event refused by this call, each once per fold (what the consumer
            dead-letters): :class:`~alchemist.errors.ConflictingDuplicateError`,
            :class:`~alchemist.errors.ForkError`, :class:`~alchemist.errors.ChainError`,
            :class:`~alchemist.errors.UnknownPredecessorError` from the chain, and the graph's
            errors (:class:`~alchemist.errors.NodeNotFoundError`, ...). Redelivered events are
            skipped silently (:attr:`duplicates`).
        """
        if events and events[-1].sequence is not None:
            self.last_sequence = events[-1].sequence
        ready, refused = self.chain.admit(events)
        if caught_up and self.chain.parked:
            refused += self.chain.expire(self.chain_wait)
        if self.accept is not None:
            ready = [e for e in ready if self.accept(e)]
        if imports:
            self._imports.update(imports)
        if ready:
            if self._imports:
                refused += self._apply_with_imports(ready)
            else:
                refused += self._apply(ready)
        if self._imports:
            waiting = {e.payload.get("object_cid") for e in self.chain.parked_events()
                       if e.event_type == "graph_imported"}
            self._imports = {k: v for k, v in self._imports.items() if k in waiting}
        return refused

    def expire_parked(self, max_age: float | None = None) -> list[tuple[Event, Exception]]:
        """Refuse the events that have waited for their predecessor at least ``max_age`` seconds.

        A live feed calls this when a fetch comes back empty, so that a parked event is refused
        about ``chain_wait`` seconds after it arrived even if nothing else arrives.

        Parameters
        ----------
        max_age : float, optional
            ``chain_wait`` by default; 0 refuses every parked event.

        Returns
        -------
        list of (Event, UnknownPredecessorError)
            With the parked events that named them; nothing is applied.
        """
        return self.chain.expire(self.chain_wait if max_age is None else float(max_age))

    def _apply(self, events: list[Event]) -> list[tuple[Event, Exception]]:
        """Apply admitted events: the bulk columns while they keep the edge-list shape, then the
        graph. The chain has admitted them: an unexpected exception while applying one refuses
        that event alone (never the batch, never silently)."""
        if self._bulk is not None:
            taken = self._bulk.take(events, self.graph_id)
            self.applied += taken
            if taken == len(events):
                return []
            self._materialise()
            events = events[taken:]
        graph = self._graph_or_new()
        try:
            results = [(events, graph.apply(events, errors="collect"))]
        except Exception:
            results = []
            for event in events:
                try:
                    results.append(([event], graph.apply([event], errors="collect")))
                except Exception as exc:
                    results.append(([event], [(event, exc)]))
        refused: list[tuple[Event, Exception]] = []
        for _, result in results:
            self.applied += getattr(result, "applied", 0)
            self._graph_duplicates += getattr(result, "duplicates", 0)
            refused += list(result)
        return refused

    def _apply_with_imports(self, events: list[Event]) -> list[tuple[Event, Exception]]:
        """Apply events around ``graph_imported`` ones, whose tables go to ``Graph.apply_columns``."""
        rejected: list[tuple[Event, Exception]] = []
        run: list[Event] = []
        for event in events + [None]:
            if event is not None and event.event_type != "graph_imported":
                run.append(event)
                continue
            if run:
                rejected += self._apply(run)
                run = []
            if event is None:
                break
            table = self._imports.pop(event.payload.get("object_cid"), None)
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
            if table.num_rows and "event_id" in table.column_names:
                self.chain.recent.add_ids(table.column("event_id").to_pylist())
            self.applied += result.applied
            graph.last_cid, graph.last_timestamp = event.cid, event.timestamp
            graph.last_sequence = event.sequence
        return rejected

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
    """Columns of the edge-list-shaped prefix of a graph's events, stored compactly: the ends as
    int32 codes (``codes`` numbers the node ids in order of first appearance), the times as float64
    seconds, turned into arrays every ``_CHUNK`` edges (16 bytes an edge)."""

    _CHUNK = 1 << 16

    def __init__(self):
        self.count = 0
        self.directed = False
        self.name = ""
        self.created = False
        self.codes: dict[str, int] = {}   # node id -> code
        self.sources: list[int] = []      # codes of the edges since the last chunk (the dict's int objects)
        self.targets: list[int] = []
        self.stamps: list[str] = []       # times of the edges since the last chunk
        self.chunks: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # (sources, targets, seconds)
        self.edges = 0
        self.pending: list[Event] = []    # node_added events awaiting their endpoint's first edge
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
        codes, pending = self.codes, self.pending
        add_source, add_target, add_stamp = self.sources.append, self.targets.append, self.stamps.append
        n_edges = self.edges
        for event in events[k:]:
            kind, p = event.event_type, event.payload
            if event.aggregate_id != graph_id:
                break
            if kind == "edge_added":
                # exactly the four keys with weight 1 and the next edge id; the time in whole seconds
                # (YYYY-MM-DDTHH:MM:SSZ, 20 characters: decoding checked it is RFC 3339); both ends
                # known (KeyError: not in this shape)
                ts = event.timestamp
                try:
                    if len(p) != 4 or p["weight"] != 1.0 or p["edge_id"] != "e" + str(n_edges) or len(ts) != 20 \
                            or ts[19] != "Z":
                        break
                    u, v = p["source"], p["target"]
                    if pending:
                        fresh = [n for n in ((u, v) if u != v else (u,)) if n not in codes]
                        if [e.payload["node_id"] for e in pending] != fresh or any(e.timestamp != ts for e in pending):
                            break
                        for n in fresh:
                            codes[n] = len(codes)
                        pending.clear()
                    cu, cv = codes[u], codes[v]
                except (KeyError, TypeError):
                    break
                add_source(cu)
                add_target(cv)
                add_stamp(ts)
                n_edges += 1
            elif kind == "node_added":
                node = p.get("node_id")
                if len(p) != 1 or type(node) is not str or len(pending) > 1 or node in codes or (
                        pending and pending[0].payload["node_id"] == node):
                    break
                pending.append(event)
            else:
                break
            k += 1
        self.count += k
        self.edges = n_edges
        if k:
            self.last = events[k - 1]
        if len(self.stamps) >= self._CHUNK:
            self._close_chunk()
        return k

    def _close_chunk(self) -> None:
        """Turn the edges collected since the last chunk into arrays (int32 codes, float64 seconds)."""
        if self.stamps:
            self.chunks.append((np.array(self.sources, dtype=np.int32), np.array(self.targets, dtype=np.int32),
                                _seconds_many(self.stamps)))
            self.sources, self.targets, self.stamps = [], [], []

    def build(self, graph_id: str):
        """The Graph of the collected prefix: built straight from the codes and the node ids
        (:func:`alchemist.graph.convert.from_codes`, the same state as
        :meth:`Graph.from_edge_list <alchemist.graph.Graph.from_edge_list>` of the edge list), each
        chunk freed as it is copied."""
        from alchemist.graph import Graph
        from alchemist.graph.convert import from_codes

        self._close_chunk()
        chunks, self.chunks = self.chunks, []
        src, dst, seconds = (np.empty(self.edges, np.int32), np.empty(self.edges, np.int32),
                             np.empty(self.edges, np.float64))
        at = 0
        while chunks:
            s, d, t = chunks.pop(0)
            src[at:at + s.shape[0]], dst[at:at + s.shape[0]], seconds[at:at + s.shape[0]] = s, d, t
            at += s.shape[0]
            del s, d, t
        names, self.codes = list(self.codes), {}
        graph = from_codes(Graph, src, dst, names, seconds, graph_id=graph_id, directed=self.directed)
        del src, dst, seconds, names
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
    ``YYYY-MM-DDTHH:MM:SSZ`` form (:func:`~alchemist.events.times.parse_seconds`), one by one
    otherwise (the same values either way)."""
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
