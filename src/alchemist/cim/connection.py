"""A connection to the CIM: NATS JetStream streams, publishing and consuming graph events.

:func:`connect` returns a :class:`Connection` usable from a notebook cell or a script without
``await``: the asyncio NATS client runs on a private event loop in a background thread, and every
method blocks until its coroutine is done (async code awaits the ``*_async`` variants instead).
With no URL, :func:`connect` starts the embedded ``nats-server``
(:class:`~alchemist.cim.server.EmbeddedServer`) and stops it on :meth:`Connection.close`.

Streams (DESIGN.md §2): ``GRAPH_EVENTS`` on ``graph.events.>`` (limits retention, file storage,
30 days, 2-minute duplicate window), ``AI_INSIGHTS`` on ``ai.insights.>`` (work queue, durable
pull consumer ``information-alchemist`` on ``ai.insights.graph``) and ``ALCHEMIST_DLQ`` on
``alchemist.dlq.>`` (dead letters, with the reason in headers).
"""

from __future__ import annotations

import asyncio
import gc
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Awaitable, Callable, Iterable, TypeVar

from alchemist.cim.fold import GraphFold
from alchemist.cim.observability import METRICS, log, serve_metrics
from alchemist.cim.options import ConnectOptions, redact_url
from alchemist.cim.resilience import CircuitBreaker, Outbox
from alchemist.cim.server import EmbeddedServer, alchemist_home
from alchemist.errors import (
    CIMAuthenticationError,
    CIMConnectionError,
    CIMError,
    ConcurrencyError,
)
from alchemist.events import (
    BATCH_TYPE,
    DEFAULT_SUBJECTS,
    Event,
    SubjectTemplate,
    decode_message,
    decode_messages,
    encode_event,
    headers_for,
    parse_rfc3339,
)

__all__ = [
    "connect", "Connection", "PublishResult", "GraphFeed", "GRAPH_STREAM", "INSIGHTS_STREAM", "DLQ_STREAM",
    "INSIGHTS_CONSUMER", "stream_config", "insights_stream_config", "dlq_stream_config",
]

T = TypeVar("T")

GRAPH_STREAM = "GRAPH_EVENTS"
INSIGHTS_STREAM = "AI_INSIGHTS"
INSIGHTS_CONSUMER = "information-alchemist"
INSIGHTS_SUBJECT = "ai.insights.graph"
DLQ_STREAM = "ALCHEMIST_DLQ"
DLQ_PREFIX = "alchemist.dlq"
_DAY = 24 * 3600
_WRONG_LAST_SEQUENCE = 10071


def stream_config(subjects: SubjectTemplate = DEFAULT_SUBJECTS, replicas: int = 1):
    """The ``GRAPH_EVENTS`` stream of DESIGN.md §2: limits retention, file storage, 30-day max
    age, 2-minute duplicate window, on ``graph.events.>``."""
    from nats.js.api import RetentionPolicy, StorageType, StreamConfig

    return StreamConfig(name=GRAPH_STREAM, subjects=[subjects.stream_filter("events")],
                        retention=RetentionPolicy.LIMITS, storage=StorageType.FILE, max_age=30 * _DAY,
                        duplicate_window=120, num_replicas=replicas)


def insights_stream_config(replicas: int = 1):
    """``AI_INSIGHTS``: work-queue retention on ``ai.insights.>``, file storage, 30 days."""
    from nats.js.api import RetentionPolicy, StorageType, StreamConfig

    return StreamConfig(name=INSIGHTS_STREAM, subjects=["ai.insights.>"], retention=RetentionPolicy.WORK_QUEUE,
                        storage=StorageType.FILE, max_age=30 * _DAY, duplicate_window=120, num_replicas=replicas)


def dlq_stream_config(replicas: int = 1):
    """``ALCHEMIST_DLQ``: dead letters on ``alchemist.dlq.>``, limits retention, 30 days."""
    from nats.js.api import RetentionPolicy, StorageType, StreamConfig

    return StreamConfig(name=DLQ_STREAM, subjects=[DLQ_PREFIX + ".>"], retention=RetentionPolicy.LIMITS,
                        storage=StorageType.FILE, max_age=30 * _DAY, num_replicas=replicas)


@dataclass
class PublishResult:
    """Outcome of publishing events: ``published`` (new events stored), ``duplicates`` (events the
    stream already had), ``messages`` (JetStream messages sent), ``last_sequence``, ``seconds``
    and ``queued`` (events put in the local outbox because the server was down)."""

    published: int = 0
    duplicates: int = 0
    messages: int = 0
    last_sequence: int = 0
    seconds: float = 0.0
    queued: int = 0

    @property
    def events_per_second(self) -> float:
        total = self.published + self.duplicates
        return total / self.seconds if self.seconds > 0 else float("nan")


def connect(url: str | None = None, *, servers: list[str] | str | None = None, name: str = "information-alchemist",
            creds: str | None = None, nkey: str | None = None, user: str | None = None,
            password: str | None = None, token: str | None = None, tls_ca: str | None = None,
            tls_cert: str | None = None, tls_key: str | None = None, max_reconnects: int = 60,
            reconnect_wait: float = 2.0, timeout: float = 5.0, subjects: SubjectTemplate = DEFAULT_SUBJECTS,
            data_dir: str | None = None, replicas: int | None = None, outbox: str | Path | None = None,
            retry_attempts: int = 4, breaker: CircuitBreaker | None = None,
            metrics_port: int | None = None) -> "Connection":
    """Connect to the CIM.

    Parameters
    ----------
    url : str, optional
        ``nats://host:port`` (or ``tls://``) of a CIM server; several comma separated. Read from
        ``$ALCHEMIST_NATS_URL`` (or ``$NATS_URL``) when omitted; when there is none, an embedded
        ``nats-server`` with JetStream is started (storage under ``$ALCHEMIST_HOME``, default
        ``./.alchemist``) and stopped by :meth:`Connection.close`.
    servers : list of str, optional
        Instead of ``url``: the servers of a cluster.
    name : str
        Client name shown by the server.
    creds, nkey : str, optional
        Paths of a ``.creds`` file or an NKey seed file (``$NATS_CREDS``, ``$NATS_NKEY``).
    user, password, token : str, optional
        ``$NATS_USER``, ``$NATS_PASSWORD``, ``$NATS_TOKEN``. Never logged nor shown in reprs.
    tls_ca, tls_cert, tls_key : str, optional
        PEM paths: CA bundle to verify the server, client certificate and key (``$NATS_CA``,
        ``$NATS_CERT``, ``$NATS_KEY``).
    max_reconnects : int
        Reconnection attempts after a connection is lost (-1: forever).
    reconnect_wait : float
        Seconds between reconnection attempts.
    timeout : float
        Seconds to wait for the first connection.
    subjects : SubjectTemplate
        The subject convention (DESIGN.md §2).
    data_dir : str, optional
        Storage folder of the embedded server.
    replicas : int, optional
        Replicas of the streams created (a cluster); ``$ALCHEMIST_NATS_REPLICAS``, else 1.
    outbox : str or Path, optional
        SQLite file of the durable outbox; ``$ALCHEMIST_HOME/outbox.sqlite`` by default.
    retry_attempts : int
        Attempts (with exponential backoff) before a publish counts as failed.
    breaker : CircuitBreaker, optional
        Opens after consecutive failed publishes; while open, events go to the outbox.
    metrics_port : int, optional
        Serve Prometheus metrics over HTTP on this port (0: a free one; see ``metrics_url``).

    Returns
    -------
    Connection

    Raises
    ------
    CIMConnectionError
        No server answers at the URL within ``timeout`` (or the TLS handshake fails).
    CIMAuthenticationError
        The server refused the credentials.
    ServerStartError
        The embedded server could not start.
    """
    options = ConnectOptions.resolve(url, servers, name=name, creds=creds, nkey=nkey, user=user, password=password,
                                     token=token, tls_ca=tls_ca, tls_cert=tls_cert, tls_key=tls_key,
                                     max_reconnects=max_reconnects, reconnect_wait=reconnect_wait, timeout=timeout)
    replicas = replicas or int(os.environ.get("ALCHEMIST_NATS_REPLICAS", "1"))
    server = None
    if not options.servers:
        server = EmbeddedServer(data_dir=data_dir).start()
        options.servers = [server.url]
    loop = _LoopThread()
    try:
        holder: dict[str, Any] = {}
        nc = loop.run(_open(options, holder))
    except BaseException:
        loop.stop()
        if server is not None:
            server.stop()
        raise
    outbox_path = Path(outbox) if outbox is not None else alchemist_home() / "outbox.sqlite"
    connection = Connection(nc, loop=loop, options=options, server=server, subjects=subjects,
                            outbox=Outbox(outbox_path), retry_attempts=retry_attempts,
                            breaker=breaker or CircuitBreaker())
    holder["connection"] = connection
    try:
        connection.ensure_streams(replicas=replicas)
        if len(connection.outbox):
            connection.flush_outbox()
    except BaseException:
        connection.close()
        raise
    if metrics_port is not None:
        connection.metrics_url = f"http://127.0.0.1:{serve_metrics(metrics_port)}/metrics"
    log("cim.connected", servers=",".join(options.redacted_servers()), embedded=server is not None)
    return connection


class GraphFeed:
    """The background subscription that keeps a live graph up to date.

    Attributes
    ----------
    graph : Graph
    lock : threading.Lock
        Held while events are applied; hold it to read a consistent state.
    dead_lettered : int
    last_sequence : int or None
    """

    def __init__(self, connection: "Connection", fold: GraphFold):
        self.connection = connection
        self.fold = fold
        self.lock = threading.Lock()
        self.task: asyncio.Task | None = None
        self.sub = None
        self.subject, self.config, self.durable = "", None, None
        self.cseq = 0  # consumer sequence of the last message taken
        self.gap = False
        self.message_bytes = 1
        self.dead_lettered = 0
        self._changed = threading.Condition(self.lock)

    @property
    def graph(self):
        return self.fold.graph

    @property
    def last_sequence(self) -> int | None:
        return self.fold.last_sequence

    def wait_for(self, sequence: int, timeout: float = 10.0) -> bool:
        """Block until the graph has applied stream sequence ``sequence``; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while (self.fold.last_sequence or 0) < sequence:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
        return True

    def stop(self) -> None:
        """Stop following the stream (the graph keeps its state)."""
        if self.task is not None and self.connection._nc is not None:
            self.connection._loop.loop.call_soon_threadsafe(self.task.cancel)
        self.task = None

    def __repr__(self) -> str:
        state = "live" if self.task is not None else "stopped"
        return f"<GraphFeed {self.fold.graph_id!r} {state}, last sequence {self.fold.last_sequence}>"


class Connection:
    """A live connection to the CIM. Create it with :func:`connect`.

    Attributes
    ----------
    url : str
        The server URL, credentials masked.
    server : EmbeddedServer or None
        The embedded server this connection started, if any.
    subjects : SubjectTemplate
    outbox : Outbox
    breaker : CircuitBreaker
    dead_lettered : int
        Messages and events this connection sent to the dead-letter stream.
    feeds : dict of str to GraphFeed
        The live graphs.
    """

    def __init__(self, nc, *, loop: "_LoopThread", options: ConnectOptions, server: EmbeddedServer | None,
                 subjects: SubjectTemplate, outbox: Outbox, retry_attempts: int, breaker: CircuitBreaker):
        self._nc = nc
        self._js = nc.jetstream(publish_async_max_pending=4000)
        self._loop = loop
        self.options = options
        self.url = redact_url(options.servers[0])
        self.server = server
        self.subjects = subjects
        self.outbox = outbox
        self.breaker = breaker
        self.retry_attempts = retry_attempts
        self.dead_lettered = 0
        self.feeds: dict[str, GraphFeed] = {}
        self.metrics_url: str | None = None
        self._objects = None
        self._flush_lock: asyncio.Lock | None = None  # made on the connection's loop

    # ------------------------------------------------------------------ streams
    def ensure_streams(self, replicas: int = 1) -> None:
        """Create or update ``GRAPH_EVENTS``, ``AI_INSIGHTS`` (with its durable consumer) and
        ``ALCHEMIST_DLQ`` (idempotent)."""
        self._run(self._ensure_streams(replicas))

    def stream_info(self, graph_id: str | None = None, stream: str = GRAPH_STREAM):
        """JetStream's ``StreamInfo`` (per-subject counts for one graph when ``graph_id`` is given)."""
        filt = self.subjects.aggregate_filter(graph_id) if graph_id else None
        return self._run(self._js.stream_info(stream, subjects_filter=filt))

    # ------------------------------------------------------------------ publishing
    def publish(self, event: Event, *, expected_sequence: int | None = None) -> int | None:
        """Publish one event and wait for its acknowledgement.

        Parameters
        ----------
        event : Event
        expected_sequence : int, optional
            Optimistic concurrency: the stream sequence of the aggregate's last event as this
            writer saw it (0 for a new aggregate; :meth:`aggregate_sequence` gives it). The event
            is stored only if no other event of the aggregate was stored since.

        Returns
        -------
        int or None
            The event's stream sequence; None when the server is unreachable and the event went
            to the durable outbox (it is sent, in order, when the server is back).

        Raises
        ------
        ConcurrencyError
            ``expected_sequence`` is stale: another writer appended first; nothing was written.
        CIMConnectionError
            With ``expected_sequence``, the server could not be reached (a concurrency check
            cannot wait in the outbox).
        """
        return self._run(self._publish_one(event, expected_sequence))

    async def publish_async(self, event: Event, *, expected_sequence: int | None = None) -> int | None:
        """:meth:`publish` for async code."""
        return await self._arun(self._publish_one(event, expected_sequence))

    def publish_many(self, events: Iterable[Event], *, batch: int = 1000,
                     progress: bool | Callable[[int], Any] = False, total: int | None = None,
                     window: int = 2048) -> PublishResult:
        """Publish events with acknowledgement, ``batch`` events per JetStream message.

        ``batch=1`` sends one message per event (what a live CIM emits); larger batches wrap
        events in ``events_batch`` messages (de-duplicated by batch id; the events keep their
        ids and CIDs). Publishing is asynchronous with at most ``window`` acknowledgements in
        flight. A failure resends from the first unacknowledged message with retries; what
        still cannot be sent goes to the outbox, in order.

        Parameters
        ----------
        events : iterable of Event
            Events of one or several aggregates (a batch never mixes aggregates).
        batch : int
            Events per message (≥ 1).
        progress : bool or callable
            Show a tqdm bar, or call ``progress(n_events_done)`` as acknowledgements arrive.
        total : int, optional
            Number of events, for the progress bar.
        window : int
            Maximum messages awaiting their acknowledgement.
        """
        if batch < 1:
            raise ValueError(f"batch={batch}; it must be at least 1")
        records = ((e.aggregate_id, e.event_id, e.event_type, e.cid, e.correlation_id, e.causation_id,
                    encode_event(e)) for e in events)
        return self._run(self._publish_stream(self._messages(records, batch), progress, total, window))

    def publish_records(self, records, graph_id: str, *, batch: int = 1000, progress=False,
                        total: int | None = None, window: int = 2048) -> PublishResult:
        """Publish pre-encoded root events of one graph (``WireEvent`` records from
        :func:`~alchemist.cim.replay.edge_list_records`); see :meth:`publish_many`."""
        if batch < 1:
            raise ValueError(f"batch={batch}; it must be at least 1")
        stream = ((graph_id, r.event_id, r.event_type, r.cid, r.event_id, r.event_id, r.data) for r in records)
        return self._run(self._publish_stream(self._messages(stream, batch), progress, total, window))

    def publish_batches(self, batches, graph_id: str, *, progress=False, total: int | None = None,
                        window: int = 2048) -> PublishResult:
        """Publish ready-made ``events_batch`` messages of one graph: ``(batch_id, data, n_events)``
        (e.g. from :func:`~alchemist.cim.replay.edge_list_batches`); see :meth:`publish_many`."""
        messages = (self._batch_message(graph_id, batch_id, data, count) for batch_id, data, count in batches)
        return self._run(self._publish_stream(messages, progress, total, window))

    def aggregate_sequence(self, graph_id: str) -> int:
        """Stream sequence of the aggregate's last event (0 when it has none): the version a writer
        passes as ``expected_sequence``."""
        last = self.last_event(graph_id)
        return 0 if last is None else int(last.sequence or 0)

    def flush_outbox(self) -> int:
        """Send the outbox's messages in order; returns how many this call sent (stops at the
        first that still fails, keeping it and the rest). A flush already in progress (one starts
        on every reconnect) is waited for first, so the outbox is as empty as the server allows
        when this returns."""
        return self._run(self._flush_outbox(wait=True))

    # ------------------------------------------------------------------ consuming
    def graph(self, graph_id: str, *, live: bool = True, from_sequence: int | None = None, from_time=None,
              snapshot: bool = False, durable: str | None = None, progress: bool = False,
              fetch_batch: int = 1000, idle_timeout: float = 2.0):
        """The graph folded from its events on the stream, optionally kept up to date.

        Replays the graph's events (from the start, from ``from_sequence`` or ``from_time``, or
        from the latest snapshot when ``snapshot``) through a pull consumer; events are
        acknowledged after they are applied, an event id already applied is skipped (exactly once
        in effect), and poison messages (undecodable, unknown type, schema violation, CID
        mismatch, not applicable to the graph) are terminated and copied to ``alchemist.dlq.<graph>``
        with the reason. Returns when the consumer has caught up.

        Parameters
        ----------
        graph_id : str
        live : bool
            Keep applying new events in the background (see ``connection.feeds[graph_id]`` for
            the lock and ``wait_for``).
        from_sequence : int, optional
            Start at this stream sequence.
        from_time : str, float or datetime, optional
            Start at the first message stored at or after this time.
        snapshot : bool
            Start from the latest snapshot (:meth:`save_snapshot`) and replay the tail only.
        durable : str, optional
            Name of a durable consumer to (re)create instead of an ephemeral one.
        progress : bool
            Show a progress bar while catching up.
        fetch_batch : int
            Messages per pull request.

        Returns
        -------
        Graph
            With ``graph.rejected``: ``(sequence, event_id, reason)`` of what was dead-lettered.
        """
        feed = self._run(self._open_feed(graph_id, live=live, from_sequence=from_sequence, from_time=from_time,
                                         snapshot=snapshot, durable=durable, progress=progress,
                                         fetch_batch=fetch_batch, idle_timeout=idle_timeout))
        return feed.graph

    async def graph_async(self, graph_id: str, *, live: bool = True, from_sequence: int | None = None,
                          from_time=None, snapshot: bool = False, durable: str | None = None,
                          fetch_batch: int = 1000, idle_timeout: float = 2.0):
        """:meth:`graph` for async code (from any event loop)."""
        feed = await self._arun(self._open_feed(graph_id, live=live, from_sequence=from_sequence, from_time=from_time,
                                                snapshot=snapshot, durable=durable, progress=False,
                                                fetch_batch=fetch_batch, idle_timeout=idle_timeout))
        return feed.graph

    def graph_at(self, graph_id: str, *, sequence: int | None = None, timestamp=None):
        """Time travel: the graph as it was at a stream sequence (every event stored at or before
        it) or at a time (every event whose timestamp is at or before it).

        Raises
        ------
        ValueError
            Unless exactly one of ``sequence`` and ``timestamp`` is given.
        """
        if (sequence is None) == (timestamp is None):
            raise ValueError("give exactly one of sequence= or timestamp=")
        if sequence is not None:
            accept = (lambda e: (e.sequence or 0) <= sequence)
        else:
            limit = _to_seconds(timestamp)
            accept = (lambda e: parse_rfc3339(e.timestamp).timestamp() <= limit)
        feed = self._run(self._open_feed(graph_id, live=False, from_sequence=None, from_time=None, snapshot=False,
                                         durable=None, progress=False, fetch_batch=1000, idle_timeout=2.0,
                                         accept=accept, stop_after=sequence))
        return feed.graph

    def events(self, graph_id: str, *, from_sequence: int | None = None) -> list[Event]:
        """A graph's events in stream order (each with its ``sequence``), once each, verified;
        what cannot be decoded or verified is left out (and dead-lettered)."""
        collected: list[Event] = []

        def keep(event: Event) -> bool:
            collected.append(event)
            return False

        self._run(self._open_feed(graph_id, live=False, from_sequence=from_sequence, from_time=None, snapshot=False,
                                  durable=None, progress=False, fetch_batch=1000, idle_timeout=2.0, accept=keep,
                                  causal=False))
        return collected

    def replay(self, source, graph_id: str | None = None, *, batch: int = 1000, progress: bool = False,
               directed: bool = True) -> PublishResult:
        """Publish a SNAP-style edge list as CIM events (see :mod:`alchemist.cim.replay`)."""
        from alchemist.cim.replay import replay_edge_list

        return replay_edge_list(self, source, graph_id=graph_id, batch=batch, progress=progress, directed=directed)

    def import_graph(self, source, graph_id: str | None = None, *, directed: bool = True) -> PublishResult:
        """Import an edge list as one ``graph_imported`` event carrying the CID of an Arrow object
        (see :func:`alchemist.cim.replay.import_edge_list`): the fastest way in for large files."""
        from alchemist.cim.replay import import_edge_list

        return import_edge_list(self, source, graph_id=graph_id, directed=directed)

    def last_event(self, graph_id: str) -> Event | None:
        """The most recent event stored for a graph, or None when it has none."""
        return self._run(self._last_event(graph_id))

    # ------------------------------------------------------------------ objects, snapshots, agents
    @property
    def objects(self):
        """The content-addressed :class:`~alchemist.cim.objects.ObjectStore`."""
        if self._objects is None:
            from alchemist.cim.objects import ObjectStore

            self._objects = ObjectStore(self)
        return self._objects

    def save_snapshot(self, graph, *, sequence: int | None = None) -> dict:
        """Store a graph snapshot (Arrow IPC) and point the KV entry ``<graph_id>`` at it; see
        :mod:`alchemist.cim.snapshots`. Returns ``{"cid", "sequence", "version"}``."""
        from alchemist.cim.snapshots import save_snapshot

        return save_snapshot(self, graph, sequence=sequence)

    def serve_agent(self, agent) -> None:
        """Register an :class:`~alchemist.cim.agents.Agent` as a NATS micro service (in the background)."""
        from alchemist.cim.agents import serve

        self._run(serve(self, agent))

    def discover_agents(self, capability: str | None = None, timeout: float = 0.5) -> list[dict]:
        """The agents that answer ``$SRV.INFO`` (optionally only those with a capability)."""
        from alchemist.cim.agents import discover

        return self._run(discover(self, capability, timeout))

    def request(self, agent: str, capability: str, payload: dict | None = None, *, timeout: float = 5.0,
                correlation_id: str | None = None, causation_id: str | None = None) -> dict:
        """Call an agent (request/reply with correlation and causation headers).

        Raises
        ------
        AgentTimeout
            No agent answered within ``timeout`` seconds (or none is registered).
        AgentError
            The agent answered with an error.
        """
        from alchemist.cim.agents import request

        return self._run(request(self, agent, capability, payload or {}, timeout, correlation_id, causation_id))

    def consume_insights(self, handler: Callable[[dict], Any], *, max_messages: int | None = None,
                         timeout: float = 1.0, nak_delay: float = 5.0) -> dict:
        """Consume ``AI_INSIGHTS`` with the durable ``information-alchemist`` consumer: ack each
        insight ``handler`` accepted, nak (redeliver after ``nak_delay`` seconds) when it raises.
        Returns ``{"acked": n, "naked": n}`` when no message came for ``timeout`` seconds or
        ``max_messages`` were handled."""
        from alchemist.cim.agents import consume_insights

        return self._run(consume_insights(self, handler, max_messages, timeout, nak_delay))

    # ------------------------------------------------------------------ life cycle
    def close(self) -> None:
        """Stop the live graphs, drain and close the NATS connection, stop the embedded server."""
        if self._nc is not None:
            try:
                self._loop.run(self._shutdown(), timeout=15)
            except Exception:
                pass
            self._nc = None
        self._loop.stop()
        self.outbox.close()
        if self.server is not None:
            self.server.stop()

    def __enter__(self) -> "Connection":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        where = "embedded" if self.server is not None else "remote"
        state = "connected" if self._nc is not None and self._nc.is_connected else (
            "reconnecting" if self._nc is not None else "closed")
        return f"<alchemist.Connection {self.url} ({where}, {state})>"

    # ------------------------------------------------------------------ async internals
    async def _shutdown(self) -> None:
        tasks = [f.task for f in self.feeds.values() if f.task is not None]
        for feed in self.feeds.values():
            feed.task = None
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        for service in self.__dict__.get("_services", []):
            try:
                await service.stop()
            except Exception:
                pass
        try:
            await asyncio.wait_for(self._nc.flush(), timeout=5)
        except Exception:
            pass
        await self._nc.close()
        current = asyncio.current_task()
        rest = [t for t in asyncio.all_tasks() if t is not current]
        for task in rest:
            task.cancel()
        await asyncio.gather(*rest, return_exceptions=True)

    def _run(self, coro: Awaitable[T], timeout: float | None = None) -> T:
        if self._nc is None:
            coro.close()  # type: ignore[attr-defined]
            raise CIMError("this connection is closed; call alchemist.connect() again")
        return self._loop.run(coro, timeout)

    async def _arun(self, coro: Awaitable[T]) -> T:
        if self._nc is None:
            raise CIMError("this connection is closed; call alchemist.connect() again")
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self._loop.loop))

    async def _ensure_streams(self, replicas: int) -> None:
        from nats.js.api import AckPolicy, ConsumerConfig
        from nats.js.errors import NotFoundError

        for config in (stream_config(self.subjects, replicas), insights_stream_config(replicas),
                       dlq_stream_config(replicas)):
            try:
                await self._js.stream_info(config.name)
                await self._js.update_stream(config)
            except NotFoundError:
                await self._js.add_stream(config)
        await self._js.add_consumer(INSIGHTS_STREAM, ConsumerConfig(
            durable_name=INSIGHTS_CONSUMER, filter_subject=INSIGHTS_SUBJECT, ack_policy=AckPolicy.EXPLICIT,
            ack_wait=60, max_deliver=10))

    # publishing --------------------------------------------------------
    async def _publish_one(self, event: Event, expected_sequence: int | None) -> int | None:
        subject = self.subjects.subject(event.aggregate_id, event.event_type)
        headers = headers_for(event)
        if expected_sequence is not None:
            headers["Nats-Expected-Last-Subject-Sequence"] = str(int(expected_sequence))
            headers["Nats-Expected-Last-Subject-Sequence-Subject"] = self.subjects.aggregate_filter(event.aggregate_id)
        data = encode_event(event)
        if expected_sequence is None and (len(self.outbox) or not self.breaker.allow()):
            return await self._to_outbox(subject, data, headers, flush=True)
        try:
            ack = await self._send_with_retry(subject, data, headers)
        except ConcurrencyError:
            raise
        except _TRANSIENT as exc:
            if expected_sequence is not None:
                raise CIMConnectionError(
                    f"cannot publish event {event.event_id} with expected_sequence={expected_sequence}: the server "
                    f"at {self.url} does not answer ({exc.__class__.__name__}); retry when it is back") from None
            return await self._to_outbox(subject, data, headers, flush=False)
        METRICS.published.labels(GRAPH_STREAM).inc()
        return ack.seq

    async def _send_with_retry(self, subject: str, data: bytes, headers: dict[str, str]):
        """Publish with acknowledgement, retrying transient failures with exponential backoff."""
        from nats.js.errors import APIError
        from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential

        start = time.perf_counter()
        retrying = AsyncRetrying(stop=stop_after_attempt(self.retry_attempts),
                                 wait=wait_exponential(multiplier=0.2, max=2.0),
                                 retry=retry_if_exception_type(_TRANSIENT), reraise=True)
        try:
            async for attempt in retrying:
                with attempt:
                    try:
                        ack = await self._js.publish(subject, data, headers=headers, timeout=2.0)
                    except APIError as exc:
                        if exc.err_code == _WRONG_LAST_SEQUENCE:
                            raise ConcurrencyError(
                                f"another writer appended to {headers.get('Cim-Aggregate-Id')!r} first: {exc.description}"
                                "; reload the aggregate (aggregate_sequence) and retry") from None
                        raise
        except _TRANSIENT:
            self.breaker.failure()
            log("cim.publish_failed", subject=subject, breaker=self.breaker.state)
            raise
        self.breaker.success()
        METRICS.publish_latency.observe(time.perf_counter() - start)
        return ack

    async def _to_outbox(self, subject: str, data: bytes, headers: dict[str, str], flush: bool) -> int | None:
        self.outbox.put(subject, data, headers)
        METRICS.outbox_depth.set(len(self.outbox))
        log("cim.outboxed", subject=subject, depth=len(self.outbox))
        if flush and self.breaker.allow():
            await self._flush_outbox()
        return None

    async def _flush_outbox(self, wait: bool = False) -> int:
        """Send the outbox in order. One flush runs at a time: with ``wait`` a caller waits for
        the one in progress (e.g. started on reconnect) and then sends what is still queued;
        without it, it leaves the work to that flush."""
        if self._flush_lock is None:
            self._flush_lock = asyncio.Lock()
        if self._flush_lock.locked() and not wait:
            return 0
        sent = 0
        async with self._flush_lock:
            try:
                while True:
                    entries = self.outbox.peek(500)
                    if not entries:
                        break
                    for entry in entries:
                        try:
                            await self._send_with_retry(entry.subject, entry.data, entry.headers)
                        except ConcurrencyError as exc:
                            log("cim.outbox_conflict", subject=entry.subject, error=str(exc))
                        except _TRANSIENT:
                            return sent
                        self.outbox.remove(entry.id)
                        sent += 1
            finally:
                METRICS.outbox_depth.set(len(self.outbox))
                if sent:
                    log("cim.outbox_flushed", sent=sent)
        return sent

    def _messages(self, records, batch: int):
        """``(subject, data, headers, n_events)`` messages of event records, ``batch`` events per
        message; records are ``(aggregate_id, event_id, event_type, cid, correlation_id,
        causation_id, data)`` and a batch never mixes aggregates."""
        subjects = self.subjects

        def message_of(chunk: list[tuple]) -> tuple[str, bytes, dict, int]:
            if len(chunk) == 1 and batch == 1:
                agg, eid, etype, cid, corr, caus, data = chunk[0]
                headers = {"Nats-Msg-Id": eid, "Cim-Event-Id": eid, "Cim-Event-Type": etype, "Cim-Aggregate-Id": agg,
                           "Cim-Correlation-Id": corr, "Cim-Causation-Id": caus, "Cim-Cid": cid}
                return subjects.subject(agg, etype), data, headers, 1
            agg = chunk[0][0]
            batch_id = f"batch-{chunk[0][1]}-{chunk[-1][1]}-{len(chunk)}"
            data = b'{"batch_id":"' + batch_id.encode() + b'","event_type":"' + BATCH_TYPE.encode() + \
                b'","events":[' + b",".join([r[6] for r in chunk]) + b"]}"
            return self._batch_message(agg, batch_id, data, len(chunk))

        chunk: list[tuple] = []
        aggregate = None
        for record in records:
            if chunk and (len(chunk) >= batch or record[0] != aggregate):
                yield message_of(chunk)
                chunk = []
            aggregate = record[0]
            chunk.append(record)
        if chunk:
            yield message_of(chunk)

    def _batch_message(self, aggregate_id: str, batch_id: str, data: bytes, count: int):
        headers = {"Nats-Msg-Id": batch_id, "Cim-Event-Type": BATCH_TYPE, "Cim-Aggregate-Id": aggregate_id,
                   "Cim-Event-Count": str(count)}
        return self.subjects.subject(aggregate_id, BATCH_TYPE), data, headers, count

    async def _publish_stream(self, messages, progress, total, window: int) -> PublishResult:
        """Publish ``(subject, data, headers, n_events)`` messages with at most ``window``
        acknowledgements in flight; what fails is resent in order, then outboxed."""
        result = PublishResult()
        bar = _progress_bar(progress, total, "publish", "events")
        start = time.perf_counter()
        in_flight: list[tuple[asyncio.Future, tuple[int, str, bytes, dict], int]] = []
        failed: list[tuple[int, str, bytes, dict, int]] = []  # (message index, subject, data, headers, events)
        js = self._js

        def settle(entry) -> None:
            future, message, count = entry
            exc = future.exception() if not future.cancelled() else asyncio.CancelledError()
            if exc is not None:
                failed.append((*message, count))
                self.breaker.failure()
                return
            ack = future.result()
            if ack.duplicate:
                result.duplicates += count
            else:
                result.published += count
            result.last_sequence = max(result.last_sequence, ack.seq)
            if bar is not None:
                bar(count)

        async def drain(keep: int) -> None:
            # wait for the oldest acknowledgements; when one does not come in time, the server is
            # gone: every acknowledgement still missing counts as failed (they are resent)
            while len(in_flight) > keep:
                head = in_flight[0][0]
                if not head.done():
                    await asyncio.wait([head], timeout=5.0)
                if not head.done():
                    await asyncio.wait([f for f, _m, _c in in_flight], timeout=1.0)
                    for future, _m, _c in in_flight:
                        if not future.done():
                            future.cancel()
                    while in_flight:
                        settle(in_flight.pop(0))
                    return
                settle(in_flight.pop(0))

        index = 0

        async def send(subject: str, data: bytes, headers: dict, count: int) -> None:
            nonlocal index
            index += 1
            if failed or len(self.outbox) or not self.breaker.allow():
                failed.append((index, subject, data, headers, count))
                return
            try:
                future = await js.publish_async(subject, data, headers=headers, stream=GRAPH_STREAM)
            except Exception:
                failed.append((index, subject, data, headers, count))
                return
            in_flight.append((future, (index, subject, data, headers), count))
            result.messages += 1
            if len(in_flight) >= window:
                await drain(window // 2)

        for message in messages:
            await send(*message)
        await drain(0)
        if failed:
            failed.sort(key=lambda f: f[0])
            await self._resend([f[1:] for f in failed], result, bar)
        result.seconds = time.perf_counter() - start
        METRICS.published.labels(GRAPH_STREAM).inc(result.published)
        if bar is not None:
            bar(None)
        return result

    async def _resend(self, failed, result: PublishResult, bar) -> None:
        """Send what failed in order, each with retries; the rest to the outbox once one still fails."""
        log("cim.resend", messages=len(failed))
        to_outbox = bool(len(self.outbox)) or not self.breaker.allow()
        for subject, data, headers, count in failed:
            if not to_outbox:
                try:
                    ack = await self._send_with_retry(subject, data, headers)
                except _TRANSIENT:
                    to_outbox = True
                else:
                    result.messages += 1
                    if ack.duplicate:
                        result.duplicates += count
                    else:
                        result.published += count
                    result.last_sequence = max(result.last_sequence, ack.seq)
                    if bar is not None:
                        bar(count)
                    continue
            self.outbox.put(subject, data, headers)
            result.queued += count
        METRICS.outbox_depth.set(len(self.outbox))

    async def _last_event(self, graph_id: str) -> Event | None:
        from nats.js.errors import NotFoundError

        try:
            msg = await self._js.get_last_msg(GRAPH_STREAM, self.subjects.aggregate_filter(graph_id))
        except NotFoundError:
            return None
        events = decode_message(msg.data, dict(msg.headers or {}), sequence=msg.seq, verify=False)
        if not events:
            return None
        import msgspec

        return msgspec.structs.replace(events[-1], sequence=msg.seq)

    # consuming ---------------------------------------------------------
    async def _open_feed(self, graph_id: str, *, live: bool, from_sequence, from_time, snapshot: bool, durable,
                         progress, fetch_batch: int, idle_timeout: float, accept=None, stop_after=None,
                         causal: bool = True) -> GraphFeed:
        from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

        fold = None
        if snapshot:
            from alchemist.cim.snapshots import load_snapshot_async

            loaded = await load_snapshot_async(self, graph_id)
            if loaded is not None:
                graph, applied_ids, seq = loaded
                fold = GraphFold(graph_id, graph, applied_ids=applied_ids)
                fold.last_sequence = seq
                from_sequence = seq + 1
        if fold is None:
            fold = GraphFold(graph_id, accept=accept, causal=causal)
        feed = GraphFeed(self, fold)
        subject = self.subjects.aggregate_filter(graph_id)
        config = ConsumerConfig(ack_policy=AckPolicy.ALL, filter_subject=subject, max_ack_pending=-1, ack_wait=60,
                                inactive_threshold=None if durable else 300.0)
        if from_sequence is not None:
            config.deliver_policy, config.opt_start_seq = DeliverPolicy.BY_START_SEQUENCE, int(from_sequence)
        elif from_time is not None:
            import datetime as _dt

            config.deliver_policy = DeliverPolicy.BY_START_TIME
            config.opt_start_time = _dt.datetime.fromtimestamp(_to_seconds(from_time), _dt.timezone.utc).isoformat()
        else:
            config.deliver_policy = DeliverPolicy.ALL
        if durable:
            config.durable_name = durable
        feed.subject, feed.config, feed.durable = subject, config, durable
        pending = await self._subscribe(feed)
        bar = _progress_bar(progress, pending, "consume", "messages")
        stop = False
        try:
            # ask for exactly what is pending: a pull for more than the server has waits its expiry
            while True:
                while pending > 0:
                    msgs = await self._fetch_feed(feed, min(fetch_batch, pending), idle_timeout)
                    if not msgs:
                        break
                    stop = await self._apply(feed, msgs, stop_after)
                    if bar is not None:
                        bar(len(msgs))
                    pending = _pending(msgs[-1].reply)
                    if stop or feed.gap:
                        break
                if stop_after is not None and stop:
                    break
                info = await feed.sub.consumer_info()
                if not feed.gap and info.delivered.consumer_seq <= feed.cseq:
                    break
                pending = await self._resubscribe(feed)  # messages were dropped on the way: fetch them again
        finally:
            if bar is not None:
                bar(None)
        graph = fold.graph
        graph.rejected = fold.rejected  # type: ignore[attr-defined]
        graph.applied_event_ids = fold.applied_ids  # type: ignore[attr-defined]  (for snapshots)
        if live and stop_after is None:
            old = self.feeds.get(graph_id)
            if old is not None:
                old.stop()
            self.feeds[graph_id] = feed
            feed.task = asyncio.get_running_loop().create_task(self._follow(feed, fetch_batch))
        else:
            await feed.sub.unsubscribe()
        return feed

    async def _subscribe(self, feed: GraphFeed) -> int:
        """(Re)create the feed's pull subscription; returns the messages pending for it."""
        from nats.js.errors import NotFoundError

        if feed.durable:
            try:
                await self._js.delete_consumer(GRAPH_STREAM, feed.durable)
            except NotFoundError:
                pass
        feed.sub = await self._js.pull_subscribe(feed.subject, durable=feed.durable, stream=GRAPH_STREAM,
                                                 config=feed.config, pending_bytes_limit=_PENDING_BYTES)
        feed.cseq, feed.gap = 0, False
        return (await feed.sub.consumer_info()).num_pending

    async def _resubscribe(self, feed: GraphFeed) -> int:
        """Start the feed again right after the last stream sequence it applied (the messages a
        slow client dropped are delivered again; ids already applied are skipped)."""
        from nats.js.api import DeliverPolicy

        log("cim.resubscribe", graph=feed.fold.graph_id, after=feed.fold.last_sequence)
        try:
            await feed.sub.unsubscribe()
        except Exception:
            pass
        config = feed.config
        if feed.fold.last_sequence:
            config.deliver_policy, config.opt_start_seq = DeliverPolicy.BY_START_SEQUENCE, feed.fold.last_sequence + 1
            config.opt_start_time = None
        return await self._subscribe(feed)

    async def _fetch_feed(self, feed: GraphFeed, batch: int, timeout: float):
        """Fetch at most ``batch`` messages and about ``_FETCH_BYTES`` bytes; keep only the ones
        whose consumer sequence continues the feed's (a gap means the client dropped messages:
        ``feed.gap`` is set and the caller resubscribes)."""
        batch = max(1, min(batch, _FETCH_BYTES // max(feed.message_bytes, 1)))
        msgs = await self._fetch(feed.sub, batch, timeout)
        if not msgs:
            return msgs
        feed.message_bytes = max(1, sum(len(m.data) for m in msgs) // len(msgs))
        for k, m in enumerate(msgs):
            cseq = _consumer_sequence(m.reply)
            if cseq != feed.cseq + 1:
                feed.gap = True
                return msgs[:k]
            feed.cseq = cseq
        return msgs

    async def _fetch(self, sub, batch: int, timeout: float):
        from nats.errors import TimeoutError as NatsTimeout

        try:
            return await sub.fetch(batch=batch, timeout=timeout)
        except NatsTimeout:
            return []

    async def _follow(self, feed: GraphFeed, fetch_batch: int) -> None:
        from nats.errors import ConnectionClosedError

        try:
            while True:
                try:
                    if feed.gap:
                        await self._resubscribe(feed)
                    # wait for the next message, then take what is pending behind it at once
                    msgs = await self._fetch_feed(feed, 1, 5.0)
                    while msgs and not feed.gap and _pending(msgs[-1].reply) and len(msgs) < fetch_batch:
                        more = await self._fetch_feed(feed, min(fetch_batch - len(msgs),
                                                                _pending(msgs[-1].reply)), 1.0)
                        if not more:
                            break
                        msgs.extend(more)
                except (ConnectionClosedError, asyncio.CancelledError):
                    raise
                except Exception as exc:  # reconnecting: keep following
                    log("cim.follow_error", graph=feed.fold.graph_id, error=exc.__class__.__name__)
                    await asyncio.sleep(0.5)
                    continue
                if msgs:
                    await self._apply(feed, msgs, None)
        except (asyncio.CancelledError, ConnectionClosedError):
            try:
                await feed.sub.unsubscribe()
            except Exception:
                pass

    async def _resolve_imports(self, events: list[Event]) -> dict:
        """Arrow tables of the ``graph_imported`` events' objects (or the error reading each)."""
        out: dict = {}
        for event in events:
            if event.event_type != "graph_imported":
                continue
            key = event.payload.get("object_cid")
            try:
                data = self.objects.cache.get(key)
                if data is None:
                    data = await self.objects._get(key, None)
                    from alchemist.events.cid import verify_cid

                    verify_cid(data, key)
                import pyarrow as pa

                out[key] = pa.ipc.open_stream(data).read_all()
            except Exception as exc:  # dead-lettered with this reason
                out[key] = exc
        return out

    async def _apply(self, feed: GraphFeed, msgs, stop_after: int | None) -> bool:
        """Decode, verify, fold and acknowledge one fetch; dead-letter the poison. True when a
        time-travel consumer has passed ``stop_after``."""
        fold, graph_id = feed.fold, feed.fold.graph_id
        stop = False
        sequences = [_stream_sequence(m.reply) for m in msgs]  # nats-py's m.metadata costs ~25 µs a message
        if stop_after is not None and sequences[-1] > stop_after:
            keep = [k for k, q in enumerate(sequences) if q <= stop_after]
            msgs, sequences = [msgs[k] for k in keep], [sequences[k] for k in keep]
            stop = True
        batch = [(m.data, m.headers, q) for m, q in zip(msgs, sequences)]
        pending = _pending(msgs[-1].reply) if msgs else 0
        collecting = gc.isenabled()
        gc.disable()  # decoding creates many young objects that all survive: collections are pure cost
        try:
            events, rejected = decode_messages(batch)
            imports = await self._resolve_imports(events) if any(
                e.event_type == "graph_imported" for e in events) else None
            METRICS.received.labels(graph_id).inc(len(events))
            with feed.lock:
                refused = fold.feed(events, caught_up=pending == 0, imports=imports)
                feed._changed.notify_all()
        finally:
            if collecting:
                gc.enable()
        poison = {seq for seq, event, _ in rejected if event is None}
        for seq, event, exc in rejected:
            self._dead_letter(feed, seq, event, exc, batch)
        for event, exc in refused:
            self._dead_letter(feed, event.sequence, event, exc, batch)
        METRICS.applied.labels(graph_id).inc(len(events) - len(refused))
        if poison:
            for m, q in zip(msgs, sequences):
                if q in poison:
                    self._loop.loop.create_task(m.term())
        if msgs:
            if sequences[-1] not in poison:
                self._loop.loop.create_task(msgs[-1].ack())
            METRICS.consumer_lag.labels(graph_id).set(pending)
            fold.last_sequence = max(fold.last_sequence or 0, sequences[-1])
        return stop

    def _dead_letter(self, feed: GraphFeed, seq, event, exc: Exception, batch) -> None:
        feed.fold.reject(seq, event, exc)
        feed.dead_lettered += 1
        self.dead_lettered += 1
        reason = exc.__class__.__name__
        METRICS.dead_lettered.labels(reason).inc()
        if event is not None:
            data = encode_event(event)
        else:
            data = next((d for d, _h, s in batch if s == seq), b"")
        headers = {"Alchemist-Dlq-Reason": str(exc)[:1000], "Alchemist-Dlq-Error": reason,
                   "Alchemist-Dlq-Stream-Sequence": str(seq), "Alchemist-Dlq-Graph": feed.fold.graph_id}
        if event is not None:
            headers["Cim-Event-Id"] = event.event_id
        subject = f"{DLQ_PREFIX}.{feed.fold.graph_id}"
        self._loop.loop.create_task(self._nc.publish(subject, data, headers=headers))
        log("cim.dead_lettered", graph=feed.fold.graph_id, sequence=seq, error=reason)


def _ack_tokens(reply: str) -> list[str]:
    """Tokens of a JetStream ack subject, in the v1 layout ``$JS.ACK.<stream>.<consumer>.<delivered>.
    <stream seq>.<consumer seq>.<time>.<pending>`` (the v2 layout adds a domain and an account hash
    after ``ACK`` and a random token at the end)."""
    tokens = reply.split(".")
    if len(tokens) >= 12:
        del tokens[2:4]
    return tokens


def _stream_sequence(reply: str) -> int:
    return int(_ack_tokens(reply)[5])


def _consumer_sequence(reply: str) -> int:
    return int(_ack_tokens(reply)[6])


_FETCH_BYTES = 32 * 2**20  # bytes asked for per pull (bulk messages are ~0.4 MB each)
_PENDING_BYTES = 512 * 2**20  # client-side buffer of a pull subscription before it drops messages


def _pending(reply: str) -> int:
    return int(_ack_tokens(reply)[8])


_TRANSIENT: tuple[type[BaseException], ...] = ()


def _transient_errors() -> tuple[type[BaseException], ...]:
    import nats.errors as ne
    from nats.js.errors import ServiceUnavailableError

    return (ne.TimeoutError, ne.NoRespondersError, ne.ConnectionClosedError, ne.ConnectionReconnectingError,
            ne.OutboundBufferLimitError, ne.StaleConnectionError, ServiceUnavailableError, asyncio.TimeoutError,
            ConnectionError)


_TRANSIENT = _transient_errors()


def _to_seconds(value) -> float:
    import datetime as _dt

    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, _dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=_dt.timezone.utc)).timestamp()
    return parse_rfc3339(str(value)).timestamp()


def _progress_bar(progress, total, description: str, unit: str):
    """A function ``update(n)`` (``update(None)`` closes) for a tqdm bar or a user callback."""
    if not progress:
        return None
    if callable(progress) and progress is not True:
        done = [0]

        def call(n):
            if n is not None:
                done[0] += n
                progress(done[0])

        return call
    from tqdm.auto import tqdm

    bar = tqdm(total=total, desc=description, unit=f" {unit}", unit_scale=True, leave=False)

    def update(n):
        if n is None:
            bar.close()
        else:
            bar.update(n)

    return update


async def _open(options: ConnectOptions, holder: dict):
    """Connect with nats-py; classify a failure as wrong credentials or unreachable server."""
    import nats
    from nats.errors import NoServersError

    errors: list[BaseException] = []
    where = ", ".join(options.redacted_servers())

    async def on_error(exc: BaseException) -> None:
        errors.append(exc)

    async def on_reconnect() -> None:
        connection = holder.get("connection")
        if connection is not None:
            log("cim.reconnected", servers=where)
            connection.breaker.success()
            if len(connection.outbox):
                asyncio.get_running_loop().create_task(connection._flush_outbox())

    async def on_disconnect() -> None:
        log("cim.disconnected", servers=where)

    kwargs = options.nats_kwargs()
    try:
        # the first connection is tried once per server: a wrong URL or credential fails promptly
        nc = await asyncio.wait_for(nats.connect(**{**kwargs, "allow_reconnect": False}, error_cb=on_error),
                                    timeout=options.timeout + 1)
        await nc.close()
        return await nats.connect(**kwargs, error_cb=on_error, reconnected_cb=on_reconnect,
                                  disconnected_cb=on_disconnect)
    except Exception as exc:  # nats-py raises a variety of errors here
        text = " ".join(f"{e.__class__.__name__} {e}" for e in [exc, *errors]).lower()
        if any(w in text for w in ("authorization", "authentication", "permissions violation", "user credentials")):
            raise CIMAuthenticationError(
                f"the NATS server at {where} refused the credentials (check user/password, token, creds or nkey)"
            ) from None
        if any(w in text for w in ("ssl", "tls", "certificate", "secure")):
            raise CIMConnectionError(f"TLS with the NATS server at {where} failed: {_short(exc, errors)}") from None
        if isinstance(exc, (NoServersError, OSError, asyncio.TimeoutError)) or "connect" in text:
            raise CIMConnectionError(f"cannot reach a NATS server at {where}: {_short(exc, errors)}") from None
        raise CIMConnectionError(f"connecting to {where} failed: {_short(exc, errors)}") from None


def _short(exc: BaseException, errors: list[BaseException]) -> str:
    parts = [f"{e.__class__.__name__}: {e}".strip(": ") for e in [*errors, exc]]
    return "; ".join(dict.fromkeys(parts))[:400]


class _LoopThread:
    """An asyncio event loop running forever in a daemon thread; ``run`` blocks on a coroutine."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="alchemist-nats", daemon=True)
        self.thread.start()

    def run(self, coro: Awaitable[T], timeout: float | None = None) -> T:
        if threading.current_thread() is self.thread:
            raise CIMError("a blocking Connection method was called from its own event loop; await the *_async "
                           "variant instead")
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout)
        except KeyboardInterrupt:
            future.cancel()
            raise

    def stop(self) -> None:
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5)
        if not self.loop.is_running() and not self.loop.is_closed():
            self.loop.close()
