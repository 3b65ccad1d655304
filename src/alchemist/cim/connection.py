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

``Connection``'s own methods are grouped by what they do: :mod:`alchemist.cim.publishing`
(publish, append, replay, the outbox), :mod:`alchemist.cim.reading` (graphs, time travel, events)
and :mod:`alchemist.cim.services` (objects, snapshots, agents, insights) hold them as mixins.

Other modules (objects, snapshots, agents, widgets) use the public accessors :attr:`Connection.nc`,
:attr:`Connection.js`, :attr:`Connection.loop` and :meth:`Connection.run`.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any, Awaitable, TypeVar

from alchemist.cim.client import open_client
from alchemist.cim.consumer import Consumer, GraphFeed
from alchemist.cim.loop import LoopThread
from alchemist.cim.observability import log, serve_metrics
from alchemist.cim.options import ConnectOptions, redact_url
from alchemist.cim.profiles import Profile, get_profile
from alchemist.cim.profiles.reading import DialectMixin
from alchemist.cim.publisher import Publisher, PublishResult
from alchemist.cim.publishing import PublishingMixin
from alchemist.cim.reading import ReadingMixin
from alchemist.cim.resilience import CircuitBreaker, Outbox
from alchemist.cim.server import EmbeddedServer, alchemist_home
from alchemist.cim.services import ServicesMixin
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
from alchemist.events import DEFAULT_SUBJECTS, SubjectTemplate

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
            use_existing_streams: bool = False, profile: "str | Profile" = "alchemist") -> "Connection":
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
    profile : str or Profile
        The dialect spoken (:mod:`alchemist.cim.profiles`): ``"alchemist"`` (alchemist's own
        envelopes and streams), ``"cim-graph"``, ``"cim-domain-graph"`` or ``"alchemist-rs"`` (the
        original app). With a dialect, alchemist's own streams are not set up, ``graph()`` folds the
        dialect's messages and ``append()`` writes them where the profile allows.

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
    profile = get_profile(profile)
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
    connection.profile = profile
    try:
        if profile.name == "alchemist":  # a dialect's streams belong to its crate (DESIGN.md §9)
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


class Connection(DialectMixin, PublishingMixin, ReadingMixin, ServicesMixin):
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
        self.profile: Profile = get_profile("alchemist")
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
