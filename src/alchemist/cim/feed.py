"""Feeds: the subscription that folds one graph's events and, for a live graph, follows them
(:class:`GraphFeed`); and one subscription over every graph's events (:class:`EventFeed`).

:class:`GraphFeed` holds the fold (the graph), the lock that guards it, and what its
:class:`~alchemist.cim.consumer.Consumer` task is doing (:data:`FEED_STATES`), with the error
that last stopped it.
"""

from __future__ import annotations

import asyncio
import threading
import time

from alchemist.cim.fold import GraphFold

__all__ = ["GraphFeed", "EventFeed", "FEED_STATES"]

FEED_STATES = ("catching up", "live", "restarting", "stopped", "failed")
"""What a :class:`GraphFeed` can be doing: reading up to the end of the stream, following it,
waiting to restart after an error, stopped (by :meth:`GraphFeed.stop`, the connection closing, or
because it was a one-off read), or failed (too many restarts without progress)."""


class GraphFeed:
    """The subscription that folds one graph's events, and for a live graph keeps following them.

    Attributes
    ----------
    graph : Graph
    lock : threading.Lock
        Held while events are applied; hold it to read a consistent state.
    state : str
        One of :data:`FEED_STATES`.
    error : Exception or None
        The last error that made the feed restart or fail (None while it never failed).
    restarts : int
        Times the feed restarted after an error.
    dead_lettered : int
        Messages and events this feed dead-lettered.
    skipped : list of (sequence, event_id, reason)
        Events a partial read (``from_sequence``/``from_time``) could not apply to its partial
        state: not judged, so not dead-lettered.
    last_sequence : int or None
        Stream sequence of the last message applied.

    Parameters
    ----------
    consumer : Consumer
        The connection's consumer, which runs the feed's task.
    fold : GraphFold
        The fold that applies the events to the graph.
    judge : bool
        Dead-letter what cannot be applied (a read of the whole history); False for a partial
        read, whose refusals go to ``skipped``.

    See Also
    --------
    alchemist.cim.connection.Connection.graph : opens a feed (``connection.feeds[graph_id]``).

    Examples
    --------
    >>> import tempfile
    >>> import alchemist
    >>> tmp = tempfile.mkdtemp()
    >>> connection = alchemist.connect(data_dir=tmp + "/jetstream", outbox=tmp + "/outbox.sqlite")
    >>> _ = connection.append("g", "node_added", {"node_id": "a"})
    >>> graph = connection.graph("g")  # live: followed in the background
    >>> feed = connection.feeds["g"]
    >>> feed.state, feed.last_sequence
    ('live', 1)
    >>> event = connection.append("g", "node_added", {"node_id": "b"})
    >>> feed.wait_for(event.sequence, timeout=10)
    True
    >>> with feed.lock:
    ...     graph.number_of_nodes()
    2
    >>> feed.stop()
    >>> feed.state
    'stopped'
    >>> connection.close()
    """

    def __init__(self, consumer, fold: GraphFold, *, judge: bool = True):
        self.consumer = consumer
        self.fold = fold
        self.judge = judge
        self.lock = threading.Lock()
        self.task: asyncio.Task | None = None
        self.sub = None
        self.subject, self.config, self.durable = "", None, None
        self.cseq = 0  # consumer sequence of the last message taken
        self.gap = False
        self.message_bytes = 0  # largest message seen (0: none yet)
        self.dead_lettered = 0
        self.skipped: list[tuple[int | None, str | None, str]] = []
        self.state = "catching up"
        self.error: BaseException | None = None
        self.restarts = 0
        self._changed = threading.Condition(self.lock)

    @property
    def graph(self):
        """The graph folded so far (hold :attr:`lock` to read a consistent state)."""
        return self.fold.graph

    @property
    def last_sequence(self) -> int | None:
        """Stream sequence of the last message applied (None before the first)."""
        return self.fold.last_sequence

    def wait_for(self, sequence: int, timeout: float = 10.0) -> bool:
        """Block until the graph has applied stream sequence ``sequence``.

        Parameters
        ----------
        sequence : int
        timeout : float
            Seconds.

        Returns
        -------
        bool
            False on timeout, or at once when the feed is stopped or failed before that (it
            does not raise: ``feed.error`` says why a feed failed).
        """
        deadline = time.monotonic() + timeout
        with self._changed:
            while (self.fold.last_sequence or 0) < sequence:
                left = deadline - time.monotonic()
                if left <= 0 or self.state in ("stopped", "failed"):
                    return False
                self._changed.wait(left)
        return True

    def stop(self) -> None:
        """Stop following the stream (the graph keeps its state).

        Cancels the feed's task on the connection's loop (from any thread); no round trip is
        waited for.

        Returns
        -------
        None
        """
        task, self.task = self.task, None
        self._set_state("stopped")
        if task is not None and not self.consumer.loop.loop.is_closed():
            self.consumer.loop.loop.call_soon_threadsafe(task.cancel)

    def _set_state(self, state: str, error: BaseException | None = None) -> None:
        with self._changed:
            self.state = state
            if error is not None:
                self.error = error
            self._changed.notify_all()

    def __repr__(self) -> str:
        why = "" if self.error is None or self.state == "live" else (
            f" after {self.error.__class__.__name__}: {str(self.error)[:200]}")
        return f"<GraphFeed {self.fold.graph_id!r} {self.state}{why}, last sequence {self.fold.last_sequence}>"


class EventFeed:
    """Every graph's events as they are stored (or those of some graphs, of some types): one
    subscription over the graph-events subjects, whatever the number of graphs.

    Made by :meth:`Connection.event_feed <alchemist.cim.reading.ReadingMixin.event_feed>`. Each event
    carries its graph's id (``event.aggregate_id``) and its stream ``sequence``; the events of an
    ``events_batch`` message come one by one. Iterate (blocks until :meth:`close`), or
    :meth:`get` / :meth:`take` with a timeout.

    Parameters
    ----------
    connection : Connection
    graphs : "*", str or list of str
        Every graph (``"*"``), one, or several (read through the wildcard subject and kept by id).
    event_types : list of str, optional
        Only these event types (the others, inside batches too, are left out).
    deliver : {"new", "all"}
        Only events stored from now on, or from the stream's first message.
    from_sequence : int, optional
        From this stream sequence on (instead of ``deliver``).
    max_pending : int
        Events kept until taken; past it the oldest are dropped (counted in :attr:`dropped`).

    Attributes
    ----------
    subject : str
        The subject filter of the subscription (``graph.events.>`` for several graphs).
    delivered : int
        Messages received.
    events : int
        Events kept (after the graph and type filters).
    rejected : int
        Messages that could not be decoded or verified (an observer leaves them where they are;
        the graph reads dead-letter them).
    dropped : int
        Events dropped because ``max_pending`` were waiting.
    last_sequence : int
        Stream sequence of the last message received.
    graph_ids : set of str
        The graphs whose events came.

    Raises
    ------
    ValueError
        ``deliver`` is not ``"new"`` or ``"all"``, or ``max_pending`` is below 1.
    CIMError
        The subscription could not be made (no such stream, the connection closed).

    Notes
    -----
    Cost: one ``$JS.API.CONSUMER.CREATE`` of an *ordered consumer* (an ephemeral push consumer
    with flow control that JetStream recreates from the last sequence on a gap; nothing is
    acknowledged) on the connection's own NATS client and event loop; then the messages are pushed.
    The graph and type filters are applied in the client: every message under the subject is
    delivered and decoded (a batch's events are kept or left one by one).

    References
    ----------
    .. [1] NATS documentation, "Consumers" (ordered consumers),
       https://docs.nats.io/nats-concepts/jetstream/consumers

    Examples
    --------
    >>> import tempfile
    >>> import alchemist
    >>> tmp = tempfile.mkdtemp()
    >>> connection = alchemist.connect(data_dir=tmp + "/jetstream", outbox=tmp + "/outbox.sqlite")
    >>> feed = connection.event_feed("*")
    >>> _ = connection.append("g1", "node_added", {"node_id": "a"})
    >>> _ = connection.append("g2", "node_added", {"node_id": "b"})
    >>> [(e.aggregate_id, e.payload["node_id"]) for e in feed.take(2, timeout=10)]
    [('g1', 'a'), ('g2', 'b')]
    >>> feed.close()
    >>> connection.close()
    """

    def __init__(self, connection, graphs="*", *, event_types=None, deliver: str = "new",
                 from_sequence: int | None = None, max_pending: int = 1_000_000):
        import collections

        if deliver not in ("new", "all"):
            raise ValueError(f"deliver={deliver!r}; use 'new' (events stored from now on) or 'all' (from the first)")
        if int(max_pending) < 1:
            raise ValueError(f"max_pending={max_pending!r}; at least 1 event must be able to wait")
        self.connection = connection
        subjects = connection.subjects
        if graphs == "*" or graphs is None:
            self.graphs: frozenset[str] | None = None
        else:
            self.graphs = frozenset([graphs] if isinstance(graphs, str) else graphs)
            if not self.graphs:
                raise ValueError("graphs=[] names no graph; pass '*' for every graph")
        self.subject = (subjects.aggregate_filter(next(iter(self.graphs))) if self.graphs and len(self.graphs) == 1
                        else subjects.stream_filter())
        self.event_types = frozenset(event_types) if event_types is not None else None
        self.max_pending = int(max_pending)
        self.delivered = self.events = self.rejected = self.dropped = self.last_sequence = 0
        self.graph_ids: set[str] = set()
        self._queue: collections.deque = collections.deque()
        self._ready = threading.Condition()
        self._closed = False
        self._sub = None
        connection.run(self._open(deliver, from_sequence))

    # ------------------------------------------------------------------ taking events
    def get(self, timeout: float | None = None):
        """The next event, waiting at most ``timeout`` seconds (None: until one comes, or the feed or
        its connection closes).

        Parameters
        ----------
        timeout : float, optional

        Returns
        -------
        Event or None
            None on timeout or once closed with nothing left.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._ready:
            while not self._queue:
                nc = self.connection.nc
                if self._closed or nc is None or nc.is_closed:  # closed, or its connection is
                    return None
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return None
                self._ready.wait(0.5 if left is None else min(left, 0.5))
            return self._queue.popleft()

    def take(self, count: int, timeout: float = 10.0) -> list:
        """Up to ``count`` events, waiting until that many came or ``timeout`` seconds passed.

        Parameters
        ----------
        count : int
        timeout : float

        Returns
        -------
        list of Event
            In the order they were stored.
        """
        deadline = time.monotonic() + timeout
        out = []
        while len(out) < count:
            event = self.get(max(0.0, deadline - time.monotonic()))
            if event is None:
                break
            out.append(event)
        return out

    def __iter__(self):
        while True:
            event = self.get()
            if event is None:
                return
            yield event

    def close(self) -> None:
        """Unsubscribe (the server removes the ordered consumer); iteration ends once the events
        already received are taken. Calling it again does nothing.

        Returns
        -------
        None
        """
        with self._ready:
            if self._closed:
                return
            self._closed = True
            self._ready.notify_all()
        sub, self._sub = self._sub, None
        nc = self.connection.nc
        if sub is not None and nc is not None and not nc.is_closed:
            try:
                self.connection.run(sub.unsubscribe(), timeout=5)
            except Exception:  # the connection is closing: the server drops the consumer with it
                pass

    def __enter__(self) -> "EventFeed":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return (f"<EventFeed {self.subject} {state}: {self.events:,} events from {len(self.graph_ids):,} graphs, "
                f"{len(self._queue):,} waiting, last sequence {self.last_sequence}>")

    # ------------------------------------------------------------------ internals
    async def _open(self, deliver: str, from_sequence: int | None) -> None:
        from nats.js.api import ConsumerConfig, DeliverPolicy

        from alchemist.errors import CIMError

        options = {"deliver_policy": DeliverPolicy.ALL if deliver == "all" else DeliverPolicy.NEW}
        if from_sequence is not None:
            options = {"config": ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                                                opt_start_seq=int(from_sequence))}
        stream = getattr(self.connection, "graph_stream", None) or "GRAPH_EVENTS"
        try:
            self._sub = await self.connection.js.subscribe(self.subject, stream=stream, ordered_consumer=True,
                                                           cb=self._on_message, **options)
        except Exception as exc:  # nats-py: NotFoundError, APIError, TimeoutError, ...
            raise CIMError(f"cannot follow {self.subject} on stream {stream!r}: {exc.__class__.__name__}: "
                           f"{exc}".rstrip(": ") + "; is the stream there (connection.ensure_streams())?") from None

    async def _on_message(self, msg) -> None:
        from alchemist.events import decode_message

        seq = msg.metadata.sequence.stream
        self.delivered += 1
        self.last_sequence = seq
        try:
            events = decode_message(msg.data, dict(msg.headers or {}), sequence=seq)
        except Exception:  # an observer leaves a bad message where it is (graph reads dead-letter it)
            self.rejected += 1
            return
        graphs, types = self.graphs, self.event_types
        kept = [e for e in events if (graphs is None or e.aggregate_id in graphs)
                and (types is None or e.event_type in types)]
        if not kept:
            return
        with self._ready:
            for event in kept:
                if event.sequence is None:
                    event = _with_sequence(event, seq)
                self._queue.append(event)
                self.graph_ids.add(event.aggregate_id)
            self.events += len(kept)
            while len(self._queue) > self.max_pending:
                self._queue.popleft()
                self.dropped += 1
            self._ready.notify_all()


def _with_sequence(event, sequence: int):
    import msgspec

    return msgspec.structs.replace(event, sequence=sequence)
