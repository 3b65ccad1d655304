"""A connection to the CIM: one facade over the parts that talk to NATS JetStream.

:func:`connect` returns a :class:`Connection` usable from a notebook cell or a script without
``await``: the asyncio NATS client runs on a private event loop in a background thread
(:class:`~alchemist.cim.loop.LoopThread`), and every method blocks until its coroutine is done
(async code awaits the ``*_async`` variants instead). With no URL, :func:`connect` starts the
embedded ``nats-server`` (:class:`~alchemist.cim.server.EmbeddedServer`) and stops it on
:meth:`Connection.close`.

The parts, each in its own module:

- :mod:`alchemist.cim.client` opens the NATS client with every option (servers, credentials, TLS);
- :mod:`alchemist.cim.streams` defines the streams and sets them up;
- :mod:`alchemist.cim.publisher` sends events (retries, circuit breaker, outbox);
- :mod:`alchemist.cim.consumer` folds a graph's events, dead-letters poison and follows live graphs.

Other modules (objects, snapshots, agents, widgets) use the public accessors :attr:`Connection.nc`,
:attr:`Connection.js`, :attr:`Connection.loop` and :meth:`Connection.run`.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any, Awaitable, Callable, Iterable, TypeVar

from alchemist.cim.client import open_client
from alchemist.cim.consumer import Consumer, GraphFeed, to_seconds
from alchemist.cim.loop import LoopThread
from alchemist.cim.observability import log, serve_metrics
from alchemist.cim.options import ConnectOptions, redact_url
from alchemist.cim.publisher import Publisher, PublishResult, fit_batches, message_limit, message_stream
from alchemist.cim.resilience import CircuitBreaker, Outbox
from alchemist.cim.server import EmbeddedServer, alchemist_home
from alchemist.cim.streams import (
    DLQ_STREAM,
    GRAPH_STREAM,
    INSIGHTS_CONSUMER,
    INSIGHTS_STREAM,
    StreamNames,
    dlq_stream_config,
    ensure_streams,
    insights_stream_config,
    stream_config,
)
from alchemist.errors import CIMError
from alchemist.events import DEFAULT_SUBJECTS, Event, SubjectTemplate, encode_event, parse_rfc3339

__all__ = [
    "connect", "Connection", "PublishResult", "GraphFeed", "GRAPH_STREAM", "INSIGHTS_STREAM", "DLQ_STREAM",
    "INSIGHTS_CONSUMER", "stream_config", "insights_stream_config", "dlq_stream_config",
]

T = TypeVar("T")


def connect(url: str | None = None, *, servers: list[str] | str | None = None, name: str = "information-alchemist",
            creds: str | None = None, nkey: str | None = None, user: str | None = None,
            password: str | None = None, token: str | None = None, tls_ca: str | None = None,
            tls_cert: str | None = None, tls_key: str | None = None, max_reconnects: int = 60,
            reconnect_wait: float = 2.0, timeout: float = 5.0, subjects: SubjectTemplate = DEFAULT_SUBJECTS,
            data_dir: str | None = None, replicas: int | None = None, outbox: str | Path | None = None,
            retry_attempts: int = 4, breaker: CircuitBreaker | None = None,
            metrics_port: int | None = None, stream_name: str = GRAPH_STREAM,
            use_existing_streams: bool = False) -> "Connection":
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
    stream_name : str
        Name of the graph-events stream (another one than ``GRAPH_EVENTS`` when that name is taken
        on a shared CIM, e.g. by the original Information Alchemist).
    use_existing_streams : bool
        Read and write, as it is, a stream alchemist did not create whose subjects cover alchemist's
        (e.g. ``GRAPH_EVENTS`` on ``graph.>`` of the original app, ``CIM_GRAPH_EVENTS`` on
        ``local.cim.>`` of cim-graph with ``subjects=SubjectTemplate(prefix="local.cim.")``).
        Without it, such a stream raises :class:`~alchemist.errors.StreamConflictError`; alchemist
        never changes a stream or consumer it did not create.

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
    StreamConflictError
        A stream alchemist did not create has its stream name or overlapping subjects; the
        message names it and the option (``stream_name``, ``use_existing_streams``, ``subjects``)
        that resolves it.

    See Also
    --------
    Connection : what it returns.
    alchemist.cim.options : the environment variables read.

    Notes
    -----
    What it costs: with no URL, starting ``nats-server`` (a fraction of a second); two TCP
    connections to the server (a probe that fails fast on a wrong URL or credential, then the
    client kept, see :func:`~alchemist.cim.client.open_client`); then, to set up the streams
    (:func:`~alchemist.cim.streams.ensure_streams`), the account's stream list
    (``$JS.API.STREAM.LIST``, paged, to find overlapping subjects), one ``STREAM.INFO`` per
    stream (graph events, ``AI_INSIGHTS``, ``ALCHEMIST_DLQ``), a ``STREAM.CREATE`` for each that
    is missing, and a ``CONSUMER.INFO`` (and ``CREATE``) for the ``AI_INSIGHTS`` durable
    consumer: six JetStream API round trips on a server already set up (two ``STREAM.LIST``
    pages, three ``STREAM.INFO``, one ``CONSUMER.INFO``); and, when the outbox holds messages
    from an earlier session, their publishes (:meth:`Connection.flush_outbox`).

    Examples
    --------
    With no URL (and no ``$ALCHEMIST_NATS_URL``), an embedded server is started and stopped:

    >>> import tempfile
    >>> import alchemist
    >>> tmp = tempfile.mkdtemp()
    >>> connection = alchemist.connect(data_dir=tmp + "/jetstream", outbox=tmp + "/outbox.sqlite")
    >>> connection  # doctest: +ELLIPSIS
    <alchemist.Connection nats://127.0.0.1:... (embedded, connected)>
    >>> connection.streams
    StreamNames(graph='GRAPH_EVENTS', insights='AI_INSIGHTS', dlq='ALCHEMIST_DLQ')
    >>> connection.close()
    >>> connection.server.running
    False

    A server that does not answer:

    >>> from alchemist.cim.server import free_port
    >>> alchemist.connect(f"nats://127.0.0.1:{free_port()}", timeout=0.5)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    alchemist.errors.CIMConnectionError: cannot reach a NATS server at nats://127.0.0.1:...
    """
    options = ConnectOptions.resolve(url, servers, name=name, creds=creds, nkey=nkey, user=user, password=password,
                                     token=token, tls_ca=tls_ca, tls_cert=tls_cert, tls_key=tls_key,
                                     max_reconnects=max_reconnects, reconnect_wait=reconnect_wait, timeout=timeout)
    replicas = replicas or int(os.environ.get("ALCHEMIST_NATS_REPLICAS", "1"))
    server = None
    if not options.servers:
        server = EmbeddedServer(data_dir=data_dir).start()
        options.servers = [server.url]
    loop = LoopThread()
    holder: dict[str, Any] = {}
    where = ",".join(options.redacted_servers())

    async def on_reconnect() -> None:
        log("cim.reconnected", servers=where)
        connection = holder.get("connection")
        if connection is not None:
            connection.breaker.success()
            if len(connection.outbox):
                asyncio.get_running_loop().create_task(connection.publisher.flush_outbox())

    async def on_disconnect() -> None:
        log("cim.disconnected", servers=where)

    try:
        nc = loop.run(open_client(options, on_reconnect=on_reconnect, on_disconnect=on_disconnect))
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
        connection.ensure_streams(replicas=replicas, stream_name=stream_name, use_existing=use_existing_streams)
        if len(connection.outbox):
            connection.flush_outbox()
    except BaseException:
        connection.close()
        raise
    if metrics_port is not None:
        connection.metrics_url = f"http://127.0.0.1:{serve_metrics(metrics_port)}/metrics"
    log("cim.connected", servers=",".join(options.redacted_servers()), embedded=server is not None)
    return connection


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
    streams : StreamNames
        The streams used (graph events, insights, dead letters).
    publisher : Publisher
        The sending side (retries, circuit breaker, outbox).
    consumer : Consumer
        The reading side (folds, dead letters, live feeds).
    js : nats.js.JetStreamContext
    loop : LoopThread
        The event loop every call runs on.

    Parameters
    ----------
    nc : nats.aio.client.Client
        A connected client.
    loop : LoopThread
        The loop ``nc`` runs on.
    options : ConnectOptions
    server : EmbeddedServer or None
        Stopped by :meth:`close`.
    subjects : SubjectTemplate
    outbox : Outbox
    retry_attempts : int
    breaker : CircuitBreaker

    Notes
    -----
    Every blocking method runs a coroutine on :attr:`loop` and waits for it; calling one from
    that loop (an agent's async handler, a ``nats`` callback) raises
    :class:`~alchemist.errors.CIMError`: await the ``*_async`` variant there. The connection is
    a context manager (closed on exit).

    Examples
    --------
    >>> import tempfile
    >>> import alchemist
    >>> tmp = tempfile.mkdtemp()
    >>> with alchemist.connect(data_dir=tmp + "/jetstream", outbox=tmp + "/outbox.sqlite") as connection:
    ...     event = connection.append("g", "node_added", {"node_id": "a"})
    ...     print(connection.graph("g", live=False), event.sequence)
    <alchemist.Graph 'g': 1 nodes, 0 edges, undirected, version 1> 1
    >>> connection  # doctest: +ELLIPSIS
    <alchemist.Connection nats://127.0.0.1:... (embedded, closed)>
    """

    def __init__(self, nc, *, loop: LoopThread, options: ConnectOptions, server: EmbeddedServer | None,
                 subjects: SubjectTemplate, outbox: Outbox, retry_attempts: int, breaker: CircuitBreaker):
        self._nc = nc
        self.js = nc.jetstream(publish_async_max_pending=4000)
        self.loop = loop
        self.options = options
        self.url = redact_url(options.servers[0])
        self.server = server
        self.subjects = subjects
        self.outbox = outbox
        self.breaker = breaker
        self.services: list = []  # nats.micro services registered with serve_agent
        self.metrics_url: str | None = None
        self.publisher = Publisher(self.js, subjects=subjects, outbox=outbox, breaker=breaker,
                                   retry_attempts=retry_attempts, where=self.url,
                                   connected=lambda: self._nc is not None and self._nc.is_connected)
        self.consumer = Consumer(self)
        self.streams = StreamNames()
        self._objects = None

    @property
    def nc(self):
        """The ``nats.aio.client.Client`` (None once closed)."""
        return self._nc

    @property
    def retry_attempts(self) -> int:
        """Attempts (with exponential backoff) before a publish counts as failed."""
        return self.publisher.retry_attempts

    @property
    def dead_lettered(self) -> int:
        """Messages and events this connection sent to the dead-letter stream."""
        return self.consumer.dead_lettered

    @property
    def feeds(self) -> dict[str, GraphFeed]:
        """The live graphs, by graph id."""
        return self.consumer.feeds

    def run(self, coro: Awaitable[T], timeout: float | None = None) -> T:
        """Run a coroutine on the connection's event loop and wait for its result.

        Parameters
        ----------
        coro : awaitable
            E.g. a ``nats`` call on :attr:`nc` or :attr:`js`.
        timeout : float, optional
            Seconds to wait (None: as long as it takes).

        Returns
        -------
        object
            What ``coro`` returns; what it raises is raised here.

        Raises
        ------
        CIMError
            The connection is closed, or this was called from the connection's own loop.
        """
        if self._nc is None:
            coro.close()  # type: ignore[attr-defined]
            raise CIMError("this connection is closed; call alchemist.connect() again")
        return self.loop.run(coro, timeout)

    async def run_async(self, coro: Awaitable[T]) -> T:
        """Await a coroutine run on the connection's event loop, from any event loop.

        Parameters
        ----------
        coro : awaitable

        Returns
        -------
        object
            What ``coro`` returns.

        Raises
        ------
        CIMError
            The connection is closed.
        """
        if self._nc is None:
            coro.close()  # type: ignore[attr-defined]
            raise CIMError("this connection is closed; call alchemist.connect() again")
        return await self.loop.arun(coro)

    # ------------------------------------------------------------------ streams
    @property
    def graph_stream(self) -> str:
        """Name of the graph-events stream this connection publishes to and reads from."""
        return self.streams.graph

    def ensure_streams(self, replicas: int = 1, *, stream_name: str = GRAPH_STREAM,
                       use_existing: bool = False) -> StreamNames:
        """Set up the graph-events stream, ``AI_INSIGHTS`` (with its durable consumer) and
        ``ALCHEMIST_DLQ`` without changing what alchemist did not create (idempotent; see
        :func:`alchemist.cim.streams.ensure_streams`), and use them from now on.

        Parameters
        ----------
        replicas : int
        stream_name : str
            Name of the graph-events stream.
        use_existing : bool
            Use, as it is, a stream alchemist did not create whose subjects cover alchemist's.

        Returns
        -------
        StreamNames

        Raises
        ------
        StreamConflictError
            A stream alchemist did not create is in the way.

        Notes
        -----
        The account's stream list (``$JS.API.STREAM.LIST``, paged), one ``STREAM.INFO`` per
        stream, a ``STREAM.CREATE`` or ``UPDATE`` for each that is missing or alchemist's and out
        of date, and the ``AI_INSIGHTS`` durable consumer's ``CONSUMER.INFO`` (and ``CREATE``).
        """
        self.streams = self.run(ensure_streams(self.js, self.subjects, replicas, graph_stream=stream_name,
                                               use_existing=use_existing))
        self.publisher.stream = self.streams.graph
        return self.streams

    def stream_info(self, graph_id: str | None = None, stream: str | None = None):
        """JetStream's ``StreamInfo`` of the graph-events stream (or ``stream``), with per-subject
        counts for one graph when ``graph_id`` is given.

        One ``$JS.API.STREAM.INFO`` request (one round trip).

        Parameters
        ----------
        graph_id : str, optional
            Fill ``info.state.subjects`` with the message count of each of the graph's subjects.
        stream : str, optional
            Another stream than the graph-events one.

        Returns
        -------
        nats.js.api.StreamInfo

        Raises
        ------
        nats.js.errors.NotFoundError
            No stream of that name.

        Examples
        --------
        >>> import tempfile
        >>> import alchemist
        >>> tmp = tempfile.mkdtemp()
        >>> connection = alchemist.connect(data_dir=tmp + "/jetstream", outbox=tmp + "/outbox.sqlite")
        >>> _ = connection.append("g", "node_added", {"node_id": "a"})
        >>> _ = connection.append("g", "node_added", {"node_id": "b"})
        >>> info = connection.stream_info("g")
        >>> info.state.messages, info.state.subjects
        (2, {'graph.events.g.node_added': 2})
        >>> connection.close()
        """
        filt = self.subjects.aggregate_filter(graph_id) if graph_id else None
        return self.run(self.js.stream_info(stream or self.graph_stream, subjects_filter=filt))

    # ------------------------------------------------------------------ publishing
    def publish(self, event: Event, *, expected_sequence: int | None = None) -> int | None:
        """Publish one event and wait for its acknowledgement.

        The event is stored as it is: its ``previous_cid`` is not set here, and a reader refuses
        (dead-letters) an event whose ``previous_cid`` is not the graph's event before it. To add
        to a graph that has events, use :meth:`append`, which chains and checks the version.

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

        Notes
        -----
        One JetStream publish on ``<prefix>events.<graph>.<event type>`` (DESIGN.md §2) with
        headers ``Nats-Msg-Id`` (the event id: JetStream stores an event once within its
        2-minute duplicate window), ``Cim-Event-Id``, ``Cim-Event-Type``, ``Cim-Aggregate-Id``,
        ``Cim-Correlation-Id``, ``Cim-Causation-Id``, ``Cim-Cid`` and, with
        ``expected_sequence``, ``Nats-Expected-Last-Subject-Sequence`` (with the graph's subject
        filter); one round trip for the acknowledgement. A transient failure is retried
        ``retry_attempts`` times with exponential backoff; when they all fail (or the circuit
        breaker is open) the event goes to the outbox.

        References
        ----------
        .. [1] NATS documentation, "JetStream Model Deep Dive" (message deduplication, optimistic
           concurrency with ``Nats-Expected-Last-Subject-Sequence``),
           https://docs.nats.io/using-nats/developer/develop_jetstream/model_deep_dive

        Examples
        --------
        >>> import tempfile
        >>> import alchemist
        >>> tmp = tempfile.mkdtemp()
        >>> connection = alchemist.connect(data_dir=tmp + "/jetstream", outbox=tmp + "/outbox.sqlite")
        >>> from alchemist.events import new_event
        >>> event = new_event("node_added", "g", {"node_id": "a"})
        >>> connection.publish(event)
        1
        >>> connection.publish(event)  # the same event id: stored once
        1
        >>> late = new_event("node_added", "g", {"node_id": "b"})
        >>> connection.publish(late, expected_sequence=0)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        alchemist.errors.ConcurrencyError: another writer appended to 'g' first: ...
        >>> connection.close()
        """
        return self.run(self.publisher.publish_one(event, expected_sequence))

    async def publish_async(self, event: Event, *, expected_sequence: int | None = None) -> int | None:
        """:meth:`publish` for async code (from any event loop).

        Parameters
        ----------
        event : Event
        expected_sequence : int, optional

        Returns
        -------
        int or None

        Raises
        ------
        ConcurrencyError, CIMConnectionError
            As :meth:`publish`.
        """
        return await self.run_async(self.publisher.publish_one(event, expected_sequence))

    def publish_many(self, events: Iterable[Event], *, batch: int = 1000,
                     progress: bool | Callable[[int], Any] = False, total: int | None = None,
                     window: int = 2048, window_bytes: int | None = None, wait: float | None = None) -> PublishResult:
        """Publish events with acknowledgement, ``batch`` events per JetStream message.

        ``batch=1`` sends one message per event (what a live CIM emits); larger batches wrap
        events in ``events_batch`` messages (de-duplicated by batch id; the events keep their
        ids and CIDs). Publishing is asynchronous with at most ``window`` acknowledgements in
        flight. When the server stops answering, the unacknowledged messages are resent in order
        as soon as it answers again (the circuit breaker's trial), waiting at most ``wait``
        seconds per outage; after that, they and the rest go to the outbox, in order, and
        ``result.queued`` counts their events (``result.complete`` is False).

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
        window_bytes : int, optional
            Maximum bytes awaiting their acknowledgement (16 MiB by default).
        wait : float, optional
            Seconds to wait for an absent server per outage (60 by default; 0: queue at once).

        Returns
        -------
        PublishResult

        Raises
        ------
        ValueError
            ``batch`` is smaller than 1.
        MessageTooLargeError
            One event alone is larger than a message may be (the server's ``max_payload``, 1 MiB
            by default): the events before it are stored, it and the ones after it are not. A
            batch closes early rather than grow past that size.

        Notes
        -----
        Cost: one JetStream publish per message (a batch of ``batch`` events, header
        ``Cim-Event-Count``), acknowledged asynchronously: about ``n_events / batch`` messages
        and no round trip waited for per message while the window is open.

        Examples
        --------
        >>> import tempfile
        >>> import alchemist
        >>> tmp = tempfile.mkdtemp()
        >>> connection = alchemist.connect(data_dir=tmp + "/jetstream", outbox=tmp + "/outbox.sqlite")
        >>> from alchemist.events import new_event
        >>> events = [new_event("node_added", "h", {"node_id": str(i)}) for i in range(5)]
        >>> result = connection.publish_many(events, batch=2)
        >>> result.published, result.messages, result.complete
        (5, 3, True)
        >>> connection.close()
        """
        if batch < 1:
            raise ValueError(f"batch={batch}; it must be at least 1")
        records = ((e.aggregate_id, e.event_id, e.event_type, e.cid, e.correlation_id, e.causation_id,
                    encode_event(e)) for e in events)
        messages = message_stream(self.subjects, records, batch, message_limit(self._nc))
        return self.run(self.publisher.publish_stream(messages, progress, total, window, window_bytes=window_bytes,
                                                      wait=wait))

    def publish_records(self, records, graph_id: str, *, batch: int = 1000, progress=False,
                        total: int | None = None, window: int = 2048, window_bytes: int | None = None,
                        wait: float | None = None) -> PublishResult:
        """Publish pre-encoded root events of one graph (``WireEvent`` records from
        :func:`~alchemist.events.wire.edge_list_records`); see :meth:`publish_many`.

        Parameters
        ----------
        records : iterable of WireEvent
        graph_id : str
        batch, progress, total, window, window_bytes, wait
            As :meth:`publish_many`.

        Returns
        -------
        PublishResult

        Raises
        ------
        ValueError
            ``batch`` is smaller than 1.
        MessageTooLargeError
            One event alone is larger than a message may be.
        """
        if batch < 1:
            raise ValueError(f"batch={batch}; it must be at least 1")
        stream = ((graph_id, r.event_id, r.event_type, r.cid, r.event_id, r.event_id, r.data) for r in records)
        messages = message_stream(self.subjects, stream, batch, message_limit(self._nc))
        return self.run(self.publisher.publish_stream(messages, progress, total, window, window_bytes=window_bytes,
                                                      wait=wait))

    def publish_batches(self, batches, graph_id: str, *, progress=False, total: int | None = None,
                        window: int = 2048, window_bytes: int | None = None, wait: float | None = None
                        ) -> PublishResult:
        """Publish ready-made ``events_batch`` messages of one graph: ``(batch_id, data, n_events)``
        (e.g. from :func:`~alchemist.events.wire.edge_list_batches`); see :meth:`publish_many`.

        A message larger than the server's ``max_payload`` is split into smaller batches.

        Parameters
        ----------
        batches : iterable of (str, bytes, int)
        graph_id : str
        progress, total, window, window_bytes, wait
            As :meth:`publish_many`.

        Returns
        -------
        PublishResult

        Raises
        ------
        MessageTooLargeError
            One event alone is larger than a message may be.
        """
        messages = fit_batches(self.subjects, graph_id, batches, message_limit(self._nc))
        return self.run(self.publisher.publish_stream(messages, progress, total, window, window_bytes=window_bytes,
                                                      wait=wait))

    def aggregate_sequence(self, graph_id: str) -> int:
        """Stream sequence of the aggregate's last event (0 when it has none): the version a writer
        passes as ``expected_sequence``.

        One ``$JS.API.STREAM.MSG.GET`` request (the last message on the graph's subjects).

        Parameters
        ----------
        graph_id : str

        Returns
        -------
        int

        Raises
        ------
        CIMError
            The connection is closed.

        Examples
        --------
        >>> import tempfile
        >>> import alchemist
        >>> tmp = tempfile.mkdtemp()
        >>> connection = alchemist.connect(data_dir=tmp + "/jetstream", outbox=tmp + "/outbox.sqlite")
        >>> connection.aggregate_sequence("g")
        0
        >>> _ = connection.append("g", "node_added", {"node_id": "a"})
        >>> connection.aggregate_sequence("g")
        1
        >>> connection.close()
        """
        return self.run(self.consumer.last_sequence(graph_id))

    def append(self, graph_id: str, event_type: str, payload: dict | None = None, *,
               correlation_id: str | None = None, causation_id: str | None = None, attempts: int = 5) -> Event:
        """Append one event to a graph's chain: its ``previous_cid`` is the CID of the graph's last
        stored event and it is stored only if no other writer appended in between (optimistic
        concurrency on the aggregate's last sequence); on a conflict the chain head is read again
        and the append retried, up to ``attempts`` times.

        This is how code outside a replay adds to a live graph (consumers refuse an event whose
        ``previous_cid`` is not the aggregate's previous event, DESIGN.md §9).

        Parameters
        ----------
        graph_id : str
        event_type : str
            One of :data:`alchemist.events.EVENT_TYPES`.
        payload : dict, optional
        correlation_id, causation_id : str, optional
            For a derived event (e.g. the insight that proposed it); a root event by default.
        attempts : int
            Appends tried before giving up on conflicts.

        Returns
        -------
        Event
            The stored event, with its ``sequence``.

        Raises
        ------
        ConcurrencyError
            Other writers appended first ``attempts`` times in a row.
        CIMConnectionError
            The server could not be reached (an append cannot wait in the outbox: its chain
            position would be stale).
        InvalidEventError
            The payload does not fit the event type.

        Notes
        -----
        Cost per attempt: two ``$JS.API.STREAM.MSG.GET`` requests (the version, then the chain
        head) and one publish with ``Nats-Expected-Last-Subject-Sequence`` (see :meth:`publish`
        for the headers): three round trips.

        References
        ----------
        .. [1] NATS documentation, "JetStream Model Deep Dive" (optimistic concurrency),
           https://docs.nats.io/using-nats/developer/develop_jetstream/model_deep_dive

        Examples
        --------
        >>> import tempfile
        >>> import alchemist
        >>> tmp = tempfile.mkdtemp()
        >>> connection = alchemist.connect(data_dir=tmp + "/jetstream", outbox=tmp + "/outbox.sqlite")
        >>> first = connection.append("g", "node_added", {"node_id": "a"})
        >>> second = connection.append("g", "node_added", {"node_id": "b"})
        >>> second.sequence, second.previous_cid == first.cid
        (2, True)
        >>> connection.append("g", "node_added", {"label": "no node id"})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        alchemist.errors.InvalidEventError: ...
        >>> connection.close()
        """
        import msgspec

        from alchemist.errors import ConcurrencyError
        from alchemist.events import new_event

        attempts = max(1, attempts)
        for _ in range(attempts):
            # the version first, then the head: a head newer than the version means another writer
            # appended in between (read again); a poison last message leaves the head older, which
            # is right (it is not part of the chain) while the version still guards the append
            version = self.aggregate_sequence(graph_id)
            last = self.last_event(graph_id)
            if last is not None and int(last.sequence or 0) > version:
                continue
            event = new_event(event_type, graph_id, payload or {}, correlation_id=correlation_id,
                              causation_id=causation_id, previous_cid=None if last is None else last.cid)
            try:
                sequence = self.publish(event, expected_sequence=version)
            except ConcurrencyError:
                continue
            return msgspec.structs.replace(event, sequence=sequence)
        raise ConcurrencyError(f"other writers appended to {graph_id!r} first {attempts} times in a row; "
                               "retry later or with more attempts=")

    def flush_outbox(self, timeout: float | None = None, *, progress=False) -> int:
        """Send the outbox's messages in order; returns how many this call sent.

        A flush already in progress (one starts on every reconnect) is waited for first.

        Parameters
        ----------
        timeout : float, optional
            Seconds to keep trying while the server does not answer (a trial whenever the circuit
            breaker allows one) until the outbox is empty; None: one pass that stops at the first
            message that still fails, keeping it and the rest.
        progress : bool or callable
            A progress bar (or callback) over the messages sent.

        Returns
        -------
        int
            Messages sent by this call; ``len(connection.outbox)`` messages
            (``connection.outbox.events()`` events) are left.

        Raises
        ------
        CIMError
            The connection is closed.

        Notes
        -----
        One JetStream publish per message, in the order they were queued, each removed once
        acknowledged (an entry sent twice across a crash is stored once: its ``Nats-Msg-Id``).
        This is the relay half of the transactional outbox pattern.

        References
        ----------
        .. [1] C. Richardson, *Microservices Patterns*, Manning (2018), §3.3.7, "Transactional
           outbox" and "Polling publisher".

        Examples
        --------
        >>> import tempfile
        >>> import alchemist
        >>> tmp = tempfile.mkdtemp()
        >>> connection = alchemist.connect(data_dir=tmp + "/jetstream", outbox=tmp + "/outbox.sqlite")
        >>> from alchemist.events import encode_event, headers_for, new_event
        >>> event = new_event("node_added", "g", {"node_id": "a"})  # queued while the server was away
        >>> _ = connection.outbox.put(connection.subjects.subject("g", "node_added"), encode_event(event),
        ...                           headers_for(event))
        >>> connection.flush_outbox(), len(connection.outbox)
        (1, 0)
        >>> [e.event_id == event.event_id for e in connection.events("g")]
        [True]
        >>> connection.close()
        """
        return self.run(self.publisher.flush_outbox(wait=True, timeout=timeout, progress=progress))

    # ------------------------------------------------------------------ consuming
    def graph(self, graph_id: str, *, live: bool = True, from_sequence: int | None = None, from_time=None,
              snapshot: bool = False, durable: str | None = None, progress: bool = False,
              fetch_batch: int = 1000, idle_timeout: float = 2.0):
        """The graph folded from its events on the stream, optionally kept up to date.

        Replays the graph's events (from the start, from ``from_sequence`` or ``from_time``, or
        from the latest snapshot when ``snapshot``) through a pull consumer; events are
        acknowledged after they are applied and an event id already applied is skipped (exactly
        once in effect). Each message is judged alone: one that cannot be decoded or verified, or
        an event that cannot be applied (unknown type, schema violation, CID mismatch, not
        applicable to the graph, or any error while folding it), is dead-lettered once in
        ``ALCHEMIST_DLQ`` on ``alchemist.dlq.<graph>.<sequence>[.<event token>]`` with the reason
        (see :mod:`alchemist.cim.deadletters`) and the read goes on. Returns when the consumer
        has caught up.

        Parameters
        ----------
        graph_id : str
        live : bool
            Keep applying new events in the background; ``connection.feeds[graph_id]`` has the
            lock, ``wait_for``, and ``state``/``error`` (a feed that fails restarts from its last
            applied sequence; see :class:`~alchemist.cim.consumer.GraphFeed`).
        from_sequence : int, optional
            A partial read: only the events stored at or after this stream sequence. What they
            refer to from before (an edge's endpoints) is created as bare nodes; an event that
            does not fit this partial state is listed in ``graph.skipped``, not dead-lettered
            (only a read of the whole history judges it). For the whole graph from a point on,
            use ``snapshot=True``.
        from_time : str, float or datetime, optional
            A partial read from the first message stored at or after this time (as above).
        snapshot : bool
            Start from the latest snapshot (:meth:`save_snapshot`) and replay the tail only.
        durable : str, optional
            Name of a durable consumer. The first time, it is created (starting as the other
            arguments say); later, it resumes: the server keeps its last acknowledged stream
            sequence, and the graph is rebuilt from the latest snapshot plus the events after it up
            to that sequence (read again without acknowledging), then the consumer continues
            right after it. Nothing is kept locally. Its start arguments are those it was created
            with.
        progress : bool
            Show a progress bar while catching up.
        fetch_batch : int
            Messages per pull request (at most; ``connection.consumer.fetch_bytes`` bounds the bytes).
        idle_timeout : float
            Seconds a pull waits for messages while catching up.

        Returns
        -------
        Graph
            With ``graph.rejected``: ``(sequence, event_id, reason)`` of what was dead-lettered,
            and ``graph.skipped`` (partial reads).

        Raises
        ------
        CIMError
            ``durable`` names a consumer of another graph or one alchemist did not create.
        DeadLetterError
            A dead letter could not be stored (server or ``ALCHEMIST_DLQ`` unavailable after
            retries); nothing from that message on was acknowledged.

        See Also
        --------
        graph_at : the graph as it was.
        events : the events themselves.

        Notes
        -----
        Cost: one ``$JS.API.CONSUMER.CREATE`` (a pull consumer filtered on
        ``<prefix>events.<graph>.>``) and ``CONSUMER.INFO`` requests for the pending count, one
        pull request (one round trip) per ``fetch_batch`` messages and a last one that finds
        nothing, one acknowledgement per pull, one acknowledged publish per dead letter (a graph
        stored in one message: seven requests in all); with
        ``snapshot``, a KV get and the snapshot's object (see :func:`~alchemist.cim.snapshots.load_snapshot`).
        The events are folded in causal order (``previous_cid``) and exactly once by event id.

        References
        ----------
        .. [1] M. Fowler, "Event Sourcing" (2005), https://martinfowler.com/eaaDev/EventSourcing.html
        .. [2] NATS ADR-13, "Pull Subscribe internals",
           https://github.com/nats-io/nats-architecture-and-design/blob/main/adr/ADR-13.md

        Examples
        --------
        >>> import pathlib, tempfile
        >>> import alchemist
        >>> tmp = tempfile.mkdtemp()
        >>> path = pathlib.Path(tmp, "g.txt")
        >>> _ = path.write_text("1 2\\n2 3\\n3 1\\n")
        >>> connection = alchemist.connect(data_dir=tmp + "/jetstream", outbox=tmp + "/outbox.sqlite")
        >>> connection.replay(path).published  # graph_created, 3 node_added, 3 edge_added
        7
        >>> graph = connection.graph("g")  # live
        >>> graph
        <alchemist.Graph 'g': 3 nodes, 3 edges, directed, version 7>
        >>> event = connection.append("g", "node_added", {"node_id": "4"})
        >>> connection.feeds["g"].wait_for(event.sequence)
        True
        >>> graph.number_of_nodes(), graph.rejected
        (4, [])
        >>> connection.close()
        """
        feed = self.run(self.consumer.open_feed(graph_id, live=live, from_sequence=from_sequence, from_time=from_time,
                                                snapshot=snapshot, durable=durable, progress=progress,
                                                fetch_batch=fetch_batch, idle_timeout=idle_timeout))
        return feed.graph

    async def graph_async(self, graph_id: str, *, live: bool = True, from_sequence: int | None = None,
                          from_time=None, snapshot: bool = False, durable: str | None = None,
                          fetch_batch: int = 1000, idle_timeout: float = 2.0):
        """:meth:`graph` for async code (from any event loop).

        Parameters
        ----------
        graph_id : str
        live, from_sequence, from_time, snapshot, durable, fetch_batch, idle_timeout
            As :meth:`graph` (no progress bar).

        Returns
        -------
        Graph

        Raises
        ------
        CIMError, DeadLetterError
            As :meth:`graph`.
        """
        feed = await self.run_async(self.consumer.open_feed(
            graph_id, live=live, from_sequence=from_sequence, from_time=from_time, snapshot=snapshot,
            durable=durable, progress=False, fetch_batch=fetch_batch, idle_timeout=idle_timeout))
        return feed.graph

    def graph_at(self, graph_id: str, *, sequence: int | None = None, timestamp=None):
        """Time travel: the graph as it was at a stream sequence (every event stored at or before
        it) or at a time (every event whose timestamp is at or before it).

        A read up to a sequence judges the events it reads like a whole read (it reads a prefix of
        the history); a read up to a time does not dead-letter events the graph refuses (an event
        may depend on one with a later timestamp): they are listed in ``graph.skipped``.

        Parameters
        ----------
        graph_id : str
        sequence : int, optional
            A stream sequence.
        timestamp : str, float or datetime, optional
            RFC 3339, Unix seconds, or a datetime (naive = UTC).

        Returns
        -------
        Graph
            Not live.

        Raises
        ------
        ValueError
            Unless exactly one of ``sequence`` and ``timestamp`` is given.
        DeadLetterError
            A read up to a sequence could not store a dead letter.

        Notes
        -----
        Cost: a whole read (see :meth:`graph`) that stops at ``sequence``; a read up to a time
        reads every event of the graph.

        Examples
        --------
        >>> import pathlib, tempfile
        >>> import alchemist
        >>> tmp = tempfile.mkdtemp()
        >>> path = pathlib.Path(tmp, "g.txt")
        >>> _ = path.write_text("1 2 100\\n2 3 200\\n3 1 300\\n")  # source target unix-time
        >>> connection = alchemist.connect(data_dir=tmp + "/jetstream", outbox=tmp + "/outbox.sqlite")
        >>> _ = connection.replay(path, batch=1)  # one message per event: sequences 1 to 7
        >>> connection.graph_at("g", sequence=4)  # graph_created, nodes 1 and 2, edge 1-2
        <alchemist.Graph 'g': 2 nodes, 1 edges, directed, version 4>
        >>> connection.graph_at("g", timestamp="1970-01-01T00:02:30Z")  # 150 s: the first line only
        <alchemist.Graph 'g': 2 nodes, 1 edges, directed, version 4>
        >>> connection.graph_at("g")
        Traceback (most recent call last):
        ...
        ValueError: give exactly one of sequence= or timestamp=
        >>> connection.close()
        """
        if (sequence is None) == (timestamp is None):
            raise ValueError("give exactly one of sequence= or timestamp=")
        if sequence is not None:
            accept = (lambda e: (e.sequence or 0) <= sequence)
        else:
            limit = to_seconds(timestamp)
            accept = (lambda e: parse_rfc3339(e.timestamp).timestamp() <= limit)
        feed = self.run(self.consumer.open_feed(graph_id, live=False, from_sequence=None, from_time=None,
                                                snapshot=False, durable=None, progress=False, fetch_batch=1000,
                                                idle_timeout=2.0, accept=accept, stop_after=sequence,
                                                judge=sequence is not None))
        return feed.graph

    def events(self, graph_id: str, *, from_sequence: int | None = None) -> list[Event]:
        """A graph's events in stream order (each with its ``sequence``), once each, verified;
        what cannot be decoded or verified is left out (and dead-lettered).

        Parameters
        ----------
        graph_id : str
        from_sequence : int, optional
            Only the events stored at or after this stream sequence.

        Returns
        -------
        list of Event
            The events of an ``events_batch`` message each on their own, with the batch's
            sequence.

        Raises
        ------
        DeadLetterError
            A dead letter could not be stored.

        Notes
        -----
        Cost: as a read of :meth:`graph` (one consumer, one pull per 1,000 messages), without
        folding: the events are not checked against the graph nor their chain.

        Examples
        --------
        >>> import pathlib, tempfile
        >>> import alchemist
        >>> tmp = tempfile.mkdtemp()
        >>> path = pathlib.Path(tmp, "g.txt")
        >>> _ = path.write_text("1 2\\n2 3\\n3 1\\n")
        >>> connection = alchemist.connect(data_dir=tmp + "/jetstream", outbox=tmp + "/outbox.sqlite")
        >>> _ = connection.replay(path)
        >>> events = connection.events("g")
        >>> [e.event_type for e in events[:4]]
        ['graph_created', 'node_added', 'node_added', 'edge_added']
        >>> {e.sequence for e in events}  # one events_batch message
        {1}
        >>> connection.close()
        """
        collected: list[Event] = []

        def keep(event: Event) -> bool:
            collected.append(event)
            return False

        self.run(self.consumer.open_feed(graph_id, live=False, from_sequence=from_sequence, from_time=None,
                                         snapshot=False, durable=None, progress=False, fetch_batch=1000,
                                         idle_timeout=2.0, accept=keep, causal=False))
        return collected

    def replay(self, source, graph_id: str | None = None, *, batch: int = 1000, progress: bool = False,
               directed: bool = True, wait: float | None = None, chunk: int | None = None,
               window_bytes: int | None = None) -> PublishResult:
        """Publish a SNAP-style edge list as CIM events, ``chunk`` events generated at a time
        (see :func:`alchemist.cim.replay.replay_edge_list` for the arguments); ``result.queued``
        counts the events left in the outbox when the server stayed away longer than ``wait``.

        The event ids are deterministic (from the graph id and the line), so a replay of the
        same file resumes after the last event it finds on the stream.

        Parameters
        ----------
        source : str, Path, EdgeList or WirePlan
        graph_id : str, optional
            The file name without extensions by default.
        batch, progress, directed, wait, chunk, window_bytes
            See :func:`~alchemist.cim.replay.replay_edge_list`.

        Returns
        -------
        PublishResult

        Raises
        ------
        EdgeListFormatError
            The file is missing, empty or malformed.
        ValueError
            ``batch`` is smaller than 1.

        Notes
        -----
        Cost: one ``STREAM.MSG.GET`` (the graph's last event, to resume), then one publish per
        ``batch`` events, acknowledged asynchronously (see :meth:`publish_many`).

        Examples
        --------
        >>> import pathlib, tempfile
        >>> import alchemist
        >>> tmp = tempfile.mkdtemp()
        >>> path = pathlib.Path(tmp, "g.txt")
        >>> _ = path.write_text("1 2\\n2 3\\n3 1\\n")
        >>> connection = alchemist.connect(data_dir=tmp + "/jetstream", outbox=tmp + "/outbox.sqlite")
        >>> result = connection.replay(path)
        >>> result.published, result.messages, result.complete
        (7, 1, True)
        >>> connection.replay(path).duplicates  # already there: nothing sent
        7
        >>> connection.close()
        """
        from alchemist.cim.replay import replay_edge_list
        from alchemist.events.wire import DEFAULT_CHUNK

        return replay_edge_list(self, source, graph_id=graph_id, batch=batch, progress=progress, directed=directed,
                                wait=wait, chunk=chunk or DEFAULT_CHUNK, window_bytes=window_bytes)

    def import_graph(self, source, graph_id: str | None = None, *, directed: bool = True,
                     wait: float | None = None) -> PublishResult:
        """Import an edge list as one ``graph_imported`` event carrying the CID of an Arrow object
        (see :func:`alchemist.cim.replay.import_edge_list`): the fastest way in for large files;
        ``wait`` as in :meth:`publish_many`.

        Parameters
        ----------
        source : str, Path or EdgeList
        graph_id : str, optional
        directed : bool
        wait : float, optional

        Returns
        -------
        PublishResult

        Raises
        ------
        EdgeListFormatError
            The file is missing, empty or malformed.

        Examples
        --------
        >>> import pathlib, tempfile
        >>> import alchemist
        >>> tmp = tempfile.mkdtemp()
        >>> path = pathlib.Path(tmp, "g.txt")
        >>> _ = path.write_text("1 2\\n2 3\\n3 1\\n")
        >>> connection = alchemist.connect(data_dir=tmp + "/jetstream", outbox=tmp + "/outbox.sqlite")
        >>> connection.import_graph(path).published  # the events the object holds
        7
        >>> connection.graph("g", live=False)
        <alchemist.Graph 'g': 3 nodes, 3 edges, directed, version 7>
        >>> connection.close()
        """
        from alchemist.cim.replay import import_edge_list

        return import_edge_list(self, source, graph_id=graph_id, directed=directed, wait=wait)

    def last_event(self, graph_id: str) -> Event | None:
        """The most recent event stored for a graph, or None when it has none.

        One ``$JS.API.STREAM.MSG.GET`` request (more after a poison last message, see
        :meth:`Consumer.last_event <alchemist.cim.consumer.Consumer.last_event>`).

        Parameters
        ----------
        graph_id : str

        Returns
        -------
        Event or None
            Decoded, not verified.

        Raises
        ------
        CIMError
            The connection is closed.
        """
        return self.run(self.consumer.last_event(graph_id))

    # ------------------------------------------------------------------ objects, snapshots, agents
    @property
    def objects(self):
        """The content-addressed :class:`~alchemist.cim.objects.ObjectStore` (made on first use)."""
        if self._objects is None:
            from alchemist.cim.objects import ObjectStore

            self._objects = ObjectStore(self)
        return self._objects

    def save_snapshot(self, graph, *, sequence: int | None = None) -> dict:
        """Store a graph snapshot (Arrow IPC) and point the KV entry ``<graph_id>`` at it; see
        :mod:`alchemist.cim.snapshots`. Returns ``{"cid", "sequence", "version"}``.

        Parameters
        ----------
        graph : Graph
            A graph read from this connection (its folded event ids are stored with it).
        sequence : int, optional
            The last stream sequence folded in (``graph.last_sequence`` by default).

        Returns
        -------
        dict

        Raises
        ------
        CIMError
            The connection is closed.

        Notes
        -----
        Cost: an object-store put (no chunk sent when the same bytes are stored), the KV
        bucket's ``STREAM.CREATE`` (idempotent) and one KV put on
        ``$KV.alchemist-snapshots.<graph_id>``; see :func:`alchemist.cim.snapshots.save_snapshot`.

        Examples
        --------
        >>> import pathlib, tempfile
        >>> import alchemist
        >>> tmp = tempfile.mkdtemp()
        >>> path = pathlib.Path(tmp, "g.txt")
        >>> _ = path.write_text("1 2\\n2 3\\n3 1\\n")
        >>> connection = alchemist.connect(data_dir=tmp + "/jetstream", outbox=tmp + "/outbox.sqlite")
        >>> _ = connection.replay(path)
        >>> graph = connection.graph("g", live=False)
        >>> pointer = connection.save_snapshot(graph)
        >>> pointer["version"], pointer["cid"] in connection.objects
        (7, True)
        >>> connection.graph("g", live=False, snapshot=True).number_of_edges()
        3
        >>> connection.close()
        """
        from alchemist.cim.snapshots import save_snapshot

        return save_snapshot(self, graph, sequence=sequence)

    def serve_agent(self, agent) -> None:
        """Register an :class:`~alchemist.cim.agents.Agent` as a NATS micro service (in the background).

        See :func:`alchemist.cim.agents.serve` (subjects ``$SRV.*`` and
        ``alchemist.agents.<name>.<capability>``); the service stops with :meth:`close`.

        Parameters
        ----------
        agent : Agent

        Returns
        -------
        None

        Raises
        ------
        CIMError
            The connection is closed.
        """
        from alchemist.cim.agents import serve

        self.run(serve(self, agent))

    def discover_agents(self, capability: str | None = None, timeout: float = 0.5) -> list[dict]:
        """The agents that answer ``$SRV.INFO`` (optionally only those with a capability).

        See :func:`alchemist.cim.agents.discover`: one request, replies gathered for
        ``timeout`` seconds.

        Parameters
        ----------
        capability : str, optional
        timeout : float
            Seconds.

        Returns
        -------
        list of dict

        Raises
        ------
        CIMError
            The connection is closed.
        """
        from alchemist.cim.agents import discover

        return self.run(discover(self, capability, timeout))

    def request(self, agent: str, capability: str, payload: dict | None = None, *, timeout: float = 5.0,
                correlation_id: str | None = None, causation_id: str | None = None) -> dict:
        """Call an agent (request/reply with correlation and causation headers).

        One core-NATS request on ``alchemist.agents.<agent>.<capability>`` with headers
        ``Cim-Request-Id``, ``Cim-Correlation-Id`` and ``Cim-Causation-Id``: one round trip
        (see :func:`alchemist.cim.agents.request`).

        Parameters
        ----------
        agent : str
            The agent's name.
        capability : str
        payload : dict, optional
            Sent as JSON.
        timeout : float
            Seconds.
        correlation_id, causation_id : str, optional
            Carried in the headers (a new request id by default).

        Returns
        -------
        dict
            The agent's answer, with its reply headers under ``"_headers"``.

        Raises
        ------
        AgentTimeout
            No agent answered within ``timeout`` seconds (or none is registered).
        AgentError
            The agent answered with an error.

        Examples
        --------
        >>> import pathlib, tempfile
        >>> import alchemist
        >>> tmp = tempfile.mkdtemp()
        >>> path = pathlib.Path(tmp, "g.txt")
        >>> _ = path.write_text("1 2\\n2 3\\n3 1\\n")
        >>> connection = alchemist.connect(data_dir=tmp + "/jetstream", outbox=tmp + "/outbox.sqlite")
        >>> _ = connection.replay(path)
        >>> from alchemist.cim.agents import AnalysisAgent
        >>> connection.serve_agent(AnalysisAgent())
        >>> answer = connection.request("analysis", "communities", {"graph_id": "g"}, correlation_id="c-1")
        >>> answer["communities"], answer["_headers"]["Cim-Correlation-Id"]
        ([['1', '2', '3']], 'c-1')
        >>> connection.request("translator", "translate", timeout=0.5)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        alchemist.errors.AgentTimeout: no agent 'translator' answered 'translate' within 0.5 s ...
        >>> connection.close()
        """
        from alchemist.cim.agents import request

        return self.run(request(self, agent, capability, payload or {}, timeout, correlation_id, causation_id))

    def consume_insights(self, handler: Callable[[dict], Any], *, max_messages: int | None = None,
                         timeout: float = 1.0, nak_delay: float = 5.0) -> dict:
        """Consume ``AI_INSIGHTS`` with the durable ``information-alchemist`` consumer: ack each
        insight ``handler`` accepted, nak (redeliver after ``nak_delay`` seconds) when it raises,
        dead-letter once and terminate one that is not a JSON object. Returns
        ``{"acked": n, "naked": n, "dead_lettered": n}`` when no message came for ``timeout``
        seconds or ``max_messages`` were taken (see :func:`alchemist.cim.agents.consume_insights`).

        Parameters
        ----------
        handler : callable
            ``handler(insight: dict)``; raising means "not now" (nak).
        max_messages : int, optional
        timeout : float
            Seconds without a message before it returns.
        nak_delay : float
            Seconds before a nak'ed insight comes again.

        Returns
        -------
        dict

        Raises
        ------
        CIMError
            The connection is closed.

        Examples
        --------
        >>> import pathlib, tempfile
        >>> import alchemist
        >>> tmp = tempfile.mkdtemp()
        >>> path = pathlib.Path(tmp, "g.txt")
        >>> _ = path.write_text("1 2\\n2 3\\n3 1\\n")
        >>> connection = alchemist.connect(data_dir=tmp + "/jetstream", outbox=tmp + "/outbox.sqlite")
        >>> _ = connection.replay(path)
        >>> from alchemist.cim.agents import AnalysisAgent
        >>> connection.serve_agent(AnalysisAgent())
        >>> _ = connection.request("analysis", "central_nodes", {"graph_id": "g"})
        >>> kinds = []
        >>> connection.consume_insights(lambda insight: kinds.append(insight["kind"]), timeout=0.5)
        {'acked': 1, 'naked': 0, 'dead_lettered': 0}
        >>> kinds
        ['central_nodes']
        >>> connection.close()
        """
        from alchemist.cim.agents import consume_insights

        return self.run(consume_insights(self, handler, max_messages, timeout, nak_delay))

    # ------------------------------------------------------------------ life cycle
    def close(self) -> None:
        """Stop the live graphs, drain and close the NATS connection, stop the embedded server.

        Also stops the agents served and closes the outbox file (its entries stay for the next
        connection). Errors while closing are swallowed: a connection whose server is gone still
        closes. Calling it again does nothing more.

        Returns
        -------
        None
        """
        if self._nc is not None:
            try:
                self.loop.run(self._shutdown(), timeout=15)
            except Exception:
                pass
            self._nc = None
        self.loop.stop()
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

    # ------------------------------------------------------------------ internals
    async def _shutdown(self) -> None:
        await self.consumer.stop_all()
        for service in self.services:
            try:
                await service.stop()
            except Exception:
                pass
        try:
            await asyncio.wait_for(self._nc.flush(), timeout=5)
        except Exception:
            pass
        try:
            await self._nc.close()
        except Exception:  # nats-py raises e.g. BrokenPipeError when the server is gone; close anyway
            pass
        current = asyncio.current_task()
        rest = [t for t in asyncio.all_tasks() if t is not current]
        for task in rest:
            task.cancel()
        await asyncio.gather(*rest, return_exceptions=True)
