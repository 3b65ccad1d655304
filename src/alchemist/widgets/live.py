"""Live CIM events for the widgets: follow one graph's events as they are stored on JetStream.

:class:`EventStream` opens its own NATS client, with every option of the connection it is given
(all its servers, token, user/password, NKey, creds file, TLS: :func:`alchemist.cim.client.open_client`
on ``connection.options``), on a background event loop, and reads the graph's subject with an
*ordered consumer* (an ephemeral push consumer that JetStream redelivers in order, with flow
control), so each delivered message carries its stream sequence and the number of messages still
pending — the consumer lag. Listeners get batches of decoded events; the widgets apply and display
them at their own pace.

:func:`replay_live` publishes a real timestamped edge list at a fixed rate in a background thread,
so that a notebook can show a graph arriving as a live stream.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any, Callable

from alchemist.errors import CIMError, WidgetError

__all__ = ["EventStream", "replay_live"]


class EventStream:
    """Follow one graph's events on the CIM.

    Parameters
    ----------
    connection : Connection
        :func:`alchemist.connect`'s result, or anything with ``subjects`` (a
        :class:`~alchemist.events.SubjectTemplate`) and either ``options`` (a
        :class:`~alchemist.cim.ConnectOptions`: servers, credentials and TLS are all used) or a
        ``url`` with no credentials beyond those the URL itself carries.
    graph_id : str
        The aggregate id.
    deliver : {"all", "new"}
        Start from the graph's first stored event, or only take events published from now on.
    stream : str, optional
        The JetStream stream holding graph events (default: the connection's ``graph_stream``,
        else ``"GRAPH_EVENTS"``).
    timeout : float
        Seconds to wait for the subscription once the server has answered.

    Raises
    ------
    CIMAuthenticationError
        The server refused the connection's credentials.
    CIMConnectionError
        No server of the connection answered (within ``connection.options.timeout`` seconds), or
        the TLS handshake failed.
    CIMError
        The server answered but the subscription failed (e.g. no such stream), or did not complete
        within ``timeout`` seconds.
    WidgetError
        ``deliver`` or ``connection`` is not usable.

    Attributes
    ----------
    delivered : int — messages received.
    events : int — events decoded (a batch message carries many).
    rejected : int — messages that could not be decoded.
    lag : int — messages stored but not yet delivered (JetStream's ``num_pending``).
    last_sequence : int — stream sequence of the last message.

    Notes
    -----
    Cost: two TCP connections (:func:`~alchemist.cim.client.open_client`), one
    ``$JS.API.CONSUMER.CREATE`` of an ordered consumer (ephemeral, push, flow control,
    idle heartbeats) filtered on ``<prefix>events.<graph>.>``; then the messages are pushed,
    with no acknowledgement (an ordered consumer acknowledges nothing: it is recreated from
    the last stream sequence on a gap). Each message's ``$JS.ACK`` reply subject gives its
    stream sequence and ``num_pending`` (the lag).

    References
    ----------
    .. [1] NATS documentation, "Consumers" (ordered consumers),
       https://docs.nats.io/nats-concepts/jetstream/consumers

    Examples
    --------
    >>> import tempfile, time
    >>> import alchemist
    >>> tmp = tempfile.mkdtemp()
    >>> connection = alchemist.connect(data_dir=tmp + "/jetstream", outbox=tmp + "/outbox.sqlite")
    >>> _ = connection.append("g", "node_added", {"node_id": "a"})
    >>> received = []
    >>> with EventStream(connection, "g") as stream:
    ...     stop = stream.subscribe(lambda events, info: received.extend(e.payload["node_id"] for e in events))
    ...     _ = connection.append("g", "node_added", {"node_id": "b"})
    ...     deadline = time.monotonic() + 10
    ...     while len(received) < 2 and time.monotonic() < deadline:
    ...         time.sleep(0.02)
    ...     print(received, stream.last_sequence, stream.lag)
    ['a', 'b'] 2 0
    >>> connection.close()

    With a remote CIM, the stream uses every option of the connection:

    >>> conn = alchemist.connect("tls://cim.example:4222", creds="me.creds", tls_ca="ca.pem")  # doctest: +SKIP
    >>> with EventStream(conn, "g") as stream:  # doctest: +SKIP
    ...     stop = stream.subscribe(lambda events, info: print(len(events), info["lag"]))
    """

    def __init__(self, connection, graph_id: str, *, deliver: str = "all", stream: str | None = None,
                 timeout: float = 10.0):
        if deliver not in ("all", "new"):
            raise WidgetError(f"deliver={deliver!r}; use 'all' (from the first event) or 'new'")
        options = _options_of(connection)
        subjects = getattr(connection, "subjects", None)
        if subjects is None:
            raise WidgetError(f"{connection!r} has no subjects; pass alchemist.connect()'s connection")
        stream = stream or getattr(connection, "graph_stream", None) or "GRAPH_EVENTS"
        self.graph_id = graph_id
        self.subject = subjects.aggregate_filter(graph_id)
        self.delivered = self.events = self.rejected = self.lag = self.last_sequence = 0
        self._listeners: list[Callable[[list, dict], Any]] = []
        self._backlog: list[tuple[list, dict]] = []
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="alchemist-event-stream", daemon=True)
        self._thread.start()
        self._nc = None
        self._sub = None
        self._where = ", ".join(options.redacted_servers())
        try:
            # connecting is bounded by the options' timeout (open_client tries the servers once, then
            # raises a CIM error naming them), the subscription by ``timeout``; this wait is a backstop
            self._call(self._open(options, deliver, stream, timeout), options.timeout + timeout + 5)
        except BaseException as exc:
            self.close()
            if isinstance(exc, TimeoutError):  # concurrent.futures.TimeoutError is TimeoutError (3.11)
                raise CIMError(f"the event stream of {graph_id!r} at {self._where} did not open in time; is the "
                               "server up and JetStream enabled?") from None
            raise

    def subscribe(self, listener: Callable[[list, dict], Any]) -> Callable[[], None]:
        """Call ``listener(events, info)`` for each message (``info``: ``sequence``, ``lag``,
        ``error`` for an undecodable message). Messages that arrived before the first listener are
        handed to it first. Returns a function that unsubscribes.

        The listener runs on the stream's event-loop thread, one message at a time; an
        exception it raises is dropped (a listener's bug does not stop the stream).

        Parameters
        ----------
        listener : callable
            ``listener(events: list of Event, info: dict)``; ``events`` is empty for a message
            that could not be decoded.

        Returns
        -------
        callable
            ``unsubscribe()``, which may be called more than once.
        """
        with self._lock:
            backlog, self._backlog = self._backlog, []
            for events, info in backlog:
                listener(events, info)
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def close(self) -> None:
        """Stop the consumer and the background loop.

        Unsubscribes (the server removes the ordered consumer) and closes the stream's own NATS
        client; errors while closing are swallowed. Calling it again does nothing more.

        Returns
        -------
        None
        """
        if self._nc is not None:
            try:
                self._call(self._shutdown(), 5)
            except Exception:
                pass
            self._nc = None
        if self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)

    def __enter__(self) -> "EventStream":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"<EventStream {self.subject}: {self.delivered:,} messages, {self.events:,} events, "
                f"lag {self.lag:,}>")

    # ------------------------------------------------------------------ internals
    def _call(self, coro, timeout: float | None):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    async def _open(self, options, deliver: str, stream: str, timeout: float) -> None:
        from nats.js.api import DeliverPolicy

        from alchemist.cim.client import open_client

        self._nc = await open_client(options, name="alchemist-widgets")
        js = self._nc.jetstream(timeout=timeout)
        policy = DeliverPolicy.ALL if deliver == "all" else DeliverPolicy.NEW
        try:
            self._sub = await js.subscribe(self.subject, stream=stream, ordered_consumer=True, deliver_policy=policy,
                                           cb=self._on_message)
        except Exception as exc:  # nats-py: NotFoundError, APIError, TimeoutError, ...
            raise CIMError(f"cannot follow {self.subject} on stream {stream!r} at {self._where}: "
                           f"{exc.__class__.__name__}: {exc}".rstrip(": ")) from None

    async def _shutdown(self) -> None:
        if self._sub is not None:
            await self._sub.unsubscribe()
        await self._nc.close()
        current = asyncio.current_task()
        tasks = [task for task in asyncio.all_tasks() if task is not current]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _on_message(self, msg) -> None:
        from alchemist.errors import EventError
        from alchemist.events import decode_message

        meta = msg.metadata
        seq = meta.sequence.stream
        info: dict[str, Any] = {"sequence": seq, "lag": int(meta.num_pending)}
        try:
            events = decode_message(msg.data, dict(msg.headers or {}), sequence=seq)
        except EventError as exc:
            events, info["error"] = [], str(exc)
            self.rejected += 1
        self.delivered += 1
        self.events += len(events)
        self.lag = int(meta.num_pending)
        self.last_sequence = seq
        with self._lock:
            listeners = list(self._listeners)
            if not listeners:
                self._backlog.append((events, info))
        for listener in listeners:
            try:
                listener(events, info)
            except Exception:  # a listener's bug must not stop the stream
                pass


def _options_of(connection):
    """The :class:`~alchemist.cim.ConnectOptions` to open a client like ``connection``'s."""
    from alchemist.cim.options import ConnectOptions

    options = getattr(connection, "options", None)
    if isinstance(options, ConnectOptions):
        return options
    url = getattr(connection, "url", None)
    if not url:
        raise WidgetError(f"{connection!r} has neither options nor url; pass alchemist.connect()'s connection")
    if "***" in url:
        raise WidgetError(f"{connection!r} has only a redacted url ({url}); pass alchemist.connect()'s connection, "
                          "whose options carry the credentials")
    return ConnectOptions.resolve(url)


def replay_live(connection, source, graph_id: str | None = None, *, rate: float = 2000.0, batch: int = 50,
                limit: int | None = None, directed: bool = True) -> threading.Thread:
    """Publish a SNAP-style timestamped edge list as CIM events at about ``rate`` events/s.

    Runs in a daemon thread (returned, already started; ``thread.done`` is an Event set at the end,
    ``thread.published`` counts events). ``limit`` stops after that many events. Events are the
    deterministic ones of :func:`alchemist.cim.edge_list_events`, so a second replay of the same
    file publishes nothing new (JetStream de-duplicates them).

    Parameters
    ----------
    connection : Connection
    source : str, Path or EdgeList
        A SNAP edge list ``src dst [unixtime]`` (plain or gzipped), or one already read.
    graph_id : str, optional
        The file name without extensions by default.
    rate : float
        Events per second, about (the thread sleeps when it is ahead).
    batch : int
        Events per :meth:`Connection.publish_many <alchemist.cim.connection.Connection.publish_many>`
        call, sent as one ``events_batch`` message.
    limit : int, optional
        Stop after about this many events (whole batches).
    directed : bool
        Recorded in the ``graph_created`` event.

    Returns
    -------
    threading.Thread
        With ``done`` (a :class:`threading.Event`), ``published`` and ``graph_id``. An error
        while publishing ends the thread (``done`` is still set).

    Raises
    ------
    EdgeListFormatError
        ``source`` is missing, empty or malformed (raised here, before the thread starts).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import alchemist
    >>> tmp = tempfile.mkdtemp()
    >>> path = pathlib.Path(tmp, "g.txt")
    >>> _ = path.write_text("1 2 100\\n2 3 200\\n3 1 300\\n")
    >>> connection = alchemist.connect(data_dir=tmp + "/jetstream", outbox=tmp + "/outbox.sqlite")
    >>> thread = replay_live(connection, path, rate=100, batch=2)
    >>> thread.done.wait(10), thread.published, thread.graph_id
    (True, 7, 'g')
    >>> connection.graph("g", live=False)
    <alchemist.Graph 'g': 3 nodes, 3 edges, directed, version 7>
    >>> connection.close()
    """
    from pathlib import Path

    from alchemist.cim import edge_list_events
    from alchemist.graph import read_edge_list

    edges = read_edge_list(source) if isinstance(source, (str, Path)) else source
    graph_id = graph_id or Path(getattr(edges, "path", "graph")).name.split(".")[0]
    done = threading.Event()

    def run() -> None:
        chunk: list = []
        start = time.perf_counter()
        try:
            for event in edge_list_events(edges, graph_id, directed=directed):
                chunk.append(event)
                if len(chunk) >= batch:
                    _send(chunk)
                    chunk = []
                    ahead = thread.published / rate - (time.perf_counter() - start)
                    if ahead > 0:
                        time.sleep(ahead)
                if limit is not None and thread.published + len(chunk) >= limit:
                    break
            if chunk:
                _send(chunk)
        finally:
            done.set()

    def _send(chunk: list) -> None:
        connection.publish_many(chunk, batch=len(chunk))
        thread.published += len(chunk)

    thread = threading.Thread(target=run, name="alchemist-replay-live", daemon=True)
    thread.published = 0  # type: ignore[attr-defined]
    thread.done = done  # type: ignore[attr-defined]
    thread.graph_id = graph_id  # type: ignore[attr-defined]
    thread.start()
    return thread
