"""The graphs a gateway instance serves: live, event-sourced graphs read from the CIM, and the
appends that change them under optimistic concurrency.

A graph's **version** is the JetStream stream sequence of its last stored event (what
:meth:`Connection.aggregate_sequence <alchemist.cim.Connection.aggregate_sequence>` returns and
``Nats-Expected-Last-Subject-Sequence`` compares): the value a client reads as ``Graph.version``,
passes back as ``expectedVersion``, and asks for in a time-travel query (``graph(id, version:)``).

Each graph read is folded once per instance by a live :class:`~alchemist.cim.GraphFeed` (the
connection's own, shared with anything else in the process that follows that graph) and read
under the feed's lock in a worker thread. A read first asks the server for the graph's version
(one ``STREAM.MSG.GET``) and waits until the feed has applied it, so a client reads its own
writes, through any instance. A past version is :meth:`Graph.at <alchemist.Graph.at>` of the live
graph (O(rows), no replay), kept in a small cache.
"""

from __future__ import annotations

import asyncio
import collections
import threading
from typing import Any, Callable

from alchemist.errors import CIMError, ConcurrencyError, GraphError
from alchemist.gateway.graphql_api.guards import VersionConflictError, with_timeout

__all__ = ["GraphStore", "Snapshot"]

PAST_CACHE = 4
"""Past versions of graphs kept per instance (each a full copy of the graph's tables)."""


class Snapshot:
    """A graph pinned at a version: what one response reads, field after field.

    Parameters
    ----------
    graph_id : str
    version : int
        The stream sequence of the last event it includes.
    pinned : bool
        A past version asked for (time travel), not the latest at the time of the request.
    """

    __slots__ = ("graph_id", "version", "pinned")

    def __init__(self, graph_id: str, version: int, pinned: bool = False):
        self.graph_id, self.version, self.pinned = graph_id, int(version), pinned


class GraphStore:
    """Live graphs over one connection, and the appends that change them.

    Parameters
    ----------
    connection : alchemist.cim.Connection
    settings : GatewaySettings
        ``request_timeout_s`` bounds each read.
    """

    def __init__(self, connection, settings):
        self.connection, self.settings = connection, settings
        self._opening: dict[str, asyncio.Task] = {}
        self._past: collections.OrderedDict = collections.OrderedDict()
        self._past_lock = threading.Lock()

    # ------------------------------------------------------------------ versions and feeds
    async def version(self, graph_id: str) -> int:
        """The graph's version on the CIM (0: it has no events). One round trip.

        Parameters
        ----------
        graph_id : str

        Returns
        -------
        int

        Raises
        ------
        GraphError
            ``graph_id`` cannot be a NATS subject token.
        """
        try:
            return await self.connection.run_async(self.connection.consumer.last_sequence(graph_id))
        except ValueError as exc:
            raise GraphError(str(exc)) from None

    async def feed(self, graph_id: str, version: int | None = None):
        """The live feed of ``graph_id``, caught up to ``version`` (opened on first use).

        Parameters
        ----------
        graph_id : str
        version : int, optional
            Wait until the feed has applied this stream sequence.

        Returns
        -------
        GraphFeed

        Raises
        ------
        asyncio.TimeoutError
            The feed did not reach ``version`` within ``request_timeout_s``.
        """
        feed = self.connection.feeds.get(graph_id)
        if feed is None or feed.state in ("stopped", "failed"):
            # one fold per graph, shared by the requests that wait for it, and not cancelled with them
            task = self._opening.get(graph_id)
            if task is None or task.done():
                task = asyncio.ensure_future(self.connection.graph_async(graph_id, live=True))
                self._opening[graph_id] = task
                task.add_done_callback(lambda t: self._opened(graph_id, t))
            try:
                await asyncio.wait_for(asyncio.shield(task), self.settings.request_timeout_s)
            except asyncio.TimeoutError:
                raise asyncio.TimeoutError(
                    f"reading graph {graph_id!r} from the CIM takes longer than the gateway's request_timeout_s "
                    f"of {self.settings.request_timeout_s} s; it goes on: ask again in a moment") from None
            feed = self.connection.feeds[graph_id]
        if version and (feed.last_sequence or 0) < version:
            reached = await with_timeout(self.settings, feed.wait_for, version, self.settings.request_timeout_s,
                                         what=f"catching up with graph {graph_id!r}")
            if not reached:
                raise CIMError(f"graph {graph_id!r}: the live feed stopped before version {version} ({feed!r})")
        return feed

    def _opened(self, graph_id: str, task: asyncio.Task) -> None:
        if self._opening.get(graph_id) is task:
            del self._opening[graph_id]
        if not task.cancelled():
            task.exception()  # retrieved: a failed fold is reported to the requests that waited, and retried

    async def snapshot(self, graph_id: str, version: int | None = None, at=None) -> Snapshot:
        """The graph's latest version (read from the server), or the past one asked for.

        Parameters
        ----------
        graph_id : str
        version : int, optional
            Time travel: the state after the last event stored at or before this stream sequence.
        at : datetime or str, optional
            Time travel: the state at this time.

        Returns
        -------
        Snapshot

        Raises
        ------
        KeyError
            The graph has no events (:class:`~alchemist.gateway.responses.GraphNotFoundError`).
        GraphError
            ``version`` is negative, or both ``version`` and ``at`` are given.
        """
        from alchemist.gateway.responses import GraphNotFoundError

        if version is not None and at is not None:
            raise GraphError("give version or at, not both")
        if version is not None and version < 0:
            raise GraphError(f"version {version} is negative; versions are stream sequences from 1")
        latest = await self.version(graph_id)
        if latest == 0:
            raise GraphNotFoundError(f"graph {graph_id!r} has no events on the CIM; create it with createGraph")
        await self.feed(graph_id, latest)
        if version is None and at is None:
            return Snapshot(graph_id, latest)
        past = await self.read(Snapshot(graph_id, latest), lambda g: g.at(sequence=version) if at is None
                               else g.at(timestamp=at))
        snap = Snapshot(graph_id, past.last_sequence or 0, pinned=True)
        self._remember(snap, past)
        return snap

    # ------------------------------------------------------------------ reads
    async def read(self, snap: Snapshot, function: Callable[[Any], Any], *, what: str = "the read") -> Any:
        """``function(graph)`` on the graph as ``snap`` pins it, in a worker thread within the timeout.

        The live graph is read under its feed's lock while it is still at ``snap.version``;
        once newer events have landed, the pinned version is made once with :meth:`Graph.at
        <alchemist.Graph.at>` and cached.

        Parameters
        ----------
        snap : Snapshot
        function : callable
            ``function(graph) -> object``; must not keep the graph.
        what : str
            Named in a timeout's message.

        Returns
        -------
        object
        """
        feed = await self.feed(snap.graph_id, snap.version)

        def run():
            with feed.lock:
                graph = feed.graph
                if (graph.last_sequence or 0) == snap.version:
                    return function(graph)
            past = self._recall(snap)
            if past is None:
                with feed.lock:
                    past = feed.graph.at(sequence=snap.version)
                self._remember(snap, past)
            return function(past)

        return await with_timeout(self.settings, run, what=what)

    def _remember(self, snap: Snapshot, graph) -> None:
        with self._past_lock:
            self._past[(snap.graph_id, snap.version)] = graph
            self._past.move_to_end((snap.graph_id, snap.version))
            while len(self._past) > PAST_CACHE:
                self._past.popitem(last=False)

    def _recall(self, snap: Snapshot):
        with self._past_lock:
            return self._past.get((snap.graph_id, snap.version))

    async def graph_ids(self) -> list[str]:
        """Ids of every graph with events on the stream, sorted.

        One ``STREAM.INFO`` request with the subjects of the graph events (one subject per graph
        and event type).

        Returns
        -------
        list of str
        """
        subjects = self.connection.subjects
        filter_ = subjects.stream_filter()
        info = await self.connection.run_async(
            self.connection.js.stream_info(self.connection.graph_stream, subjects_filter=filter_))
        probe = subjects.subject("AGGREGATE", "EVENT").split(".")
        where = probe.index("AGGREGATE")
        ids = {s.split(".")[where] for s in (info.state.subjects or {}) if len(s.split(".")) == len(probe)}
        return sorted(ids)

    async def created(self, graph_id: str) -> dict:
        """The payload of the graph's last ``graph_created`` event (empty when it has none).

        Parameters
        ----------
        graph_id : str

        Returns
        -------
        dict
        """
        from nats.js.errors import NotFoundError

        from alchemist.events import decode_message

        subject = self.connection.subjects.subject(graph_id, "graph_created")
        try:
            msg = await self.connection.run_async(self.connection.js.get_last_msg(self.connection.graph_stream,
                                                                                  subject))
        except NotFoundError:
            return {}
        events = decode_message(msg.data, msg.headers or {}, verify=False)
        return dict(events[-1].payload) if events else {}

    # ------------------------------------------------------------------ writes
    async def append(self, graph_id: str, event_type: str, payload: dict, *, actor: str,
                     expected_version: int | None, check: Callable[[Any], None] | None = None,
                     attempts: int = 5):
        """Append one event to the graph's chain, checked against the graph it will follow.

        With ``expected_version`` the event is stored only if the graph is still at that version
        (:class:`VersionConflictError` otherwise, nothing written); without it, a writer that came
        first makes this one read the graph again, check again and retry (``attempts`` times).

        Parameters
        ----------
        graph_id : str
        event_type : str
        payload : dict
        actor : str
            Recorded as ``metadata["actor"]`` of the event (the stream is the audit log).
        expected_version : int or None
            0 for a graph that must not exist yet.
        check : callable, optional
            ``check(graph)`` raises when the event does not apply to the graph at the version it
            will follow (a node that exists, an edge whose end is missing): validate, then write.
        attempts : int

        Returns
        -------
        Event
            The stored event, with its ``sequence`` (the graph's new version).

        Raises
        ------
        VersionConflictError
            ``expected_version`` is stale.
        ConcurrencyError
            Other writers came first ``attempts`` times in a row.
        CIMConnectionError
            The server could not be reached (an append never waits in the outbox).
        InvalidEventError, GraphError
            The payload does not fit the event type or ``check`` refused it.

        Notes
        -----
        Cost per attempt: one ``STREAM.MSG.GET`` (the version) and one publish with
        ``Nats-Expected-Last-Subject-Sequence``; the chain head (``previous_cid``) and the check
        come from the live graph once it has applied that version (a last message it could not
        apply costs one more ``STREAM.MSG.GET`` for the head).
        """
        import msgspec

        from alchemist.events import new_event

        connection = self.connection
        for _ in range(max(1, attempts)):
            version = await self.version(graph_id)
            if expected_version is not None and version != expected_version:
                raise VersionConflictError(graph_id, expected_version, version)
            head = None
            if version:  # the live graph knows the chain head when it has applied the last message
                def checked(g):
                    if check is not None:
                        check(g)
                    return g.last_cid if (g.last_sequence or 0) == version else None
                head = await self.read(Snapshot(graph_id, version), checked, what=f"checking the {event_type}")
            elif check is not None:
                check(None)
            if version and head is None:  # its last message is not applied (poison): ask the server
                last = await connection.run_async(connection.consumer.last_event(graph_id))
                if last is not None and int(last.sequence or 0) > version:
                    continue  # another writer appended between the two requests
                head = None if last is None else last.cid
            event = new_event(event_type, graph_id, payload, previous_cid=head,
                              metadata={"actor": actor})
            try:
                sequence = await connection.publish_async(event, expected_sequence=version)
            except ConcurrencyError:
                if expected_version is not None:
                    raise VersionConflictError(graph_id, expected_version, await self.version(graph_id)) from None
                continue
            return msgspec.structs.replace(event, sequence=sequence)
        raise ConcurrencyError(f"other writers changed graph {graph_id!r} first {attempts} times in a row; retry, "
                               "or pass expectedVersion to be told at once")
