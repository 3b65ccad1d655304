"""A connection to the CIM: NATS JetStream streams, publishing and consuming graph events.

:func:`connect` returns a :class:`Connection` usable from a notebook cell or a script without
``await``: the asyncio NATS client runs on a private event loop in a background thread, and every
method blocks until its coroutine is done. With no URL, :func:`connect` starts the embedded
``nats-server`` (:class:`~alchemist.cim.server.EmbeddedServer`) and stops it on :meth:`close`.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Iterable, TypeVar

from alchemist.cim.server import EmbeddedServer
from alchemist.errors import CIMAuthenticationError, CIMConnectionError, CIMError, EventError, GraphError
from alchemist.events import (
    BATCH_TYPE,
    DEFAULT_SUBJECTS,
    Event,
    SubjectTemplate,
    decode_message,
    encode_batch,
    encode_event,
    headers_for,
)

__all__ = ["connect", "Connection", "PublishResult", "GRAPH_STREAM", "stream_config"]

T = TypeVar("T")

GRAPH_STREAM = "GRAPH_EVENTS"
_DAY = 24 * 3600


def stream_config(subjects: SubjectTemplate = DEFAULT_SUBJECTS, replicas: int = 1):
    """The ``GRAPH_EVENTS`` stream of DESIGN.md §2: limits retention, file storage, 30-day max
    age, 2-minute duplicate window, on ``graph.events.>``."""
    from nats.js.api import RetentionPolicy, StorageType, StreamConfig

    return StreamConfig(
        name=GRAPH_STREAM,
        subjects=[subjects.stream_filter("events")],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        max_age=30 * _DAY,
        duplicate_window=120,
        num_replicas=replicas,
    )


@dataclass
class PublishResult:
    """Outcome of publishing events: ``published`` (new events stored), ``duplicates`` (events the
    stream already had), ``messages`` (JetStream messages sent), ``last_sequence`` and ``seconds``."""

    published: int = 0
    duplicates: int = 0
    messages: int = 0
    last_sequence: int = 0
    seconds: float = 0.0

    @property
    def events_per_second(self) -> float:
        total = self.published + self.duplicates
        return total / self.seconds if self.seconds > 0 else float("nan")


def connect(url: str | None = None, *, subjects: SubjectTemplate = DEFAULT_SUBJECTS, name: str = "information-alchemist",
            data_dir: str | None = None, timeout: float = 5.0, replicas: int = 1, **options: Any) -> "Connection":
    """Connect to the CIM.

    Parameters
    ----------
    url : str, optional
        ``nats://host:port`` of a CIM cluster; ``$ALCHEMIST_NATS_URL`` when omitted; when both are
        absent, an embedded ``nats-server`` with JetStream is started (storage under
        ``$ALCHEMIST_HOME``, default ``./.alchemist``) and stopped by :meth:`Connection.close`.
    subjects : SubjectTemplate
        The subject convention (DESIGN.md §2).
    name : str
        Client name shown by the server.
    data_dir : str, optional
        Storage folder of the embedded server.
    timeout : float
        Seconds to wait for the connection.
    replicas : int
        Replicas of the streams created (for a cluster).
    **options
        Passed to ``nats.connect`` (``user``, ``password``, ``token``, ``user_credentials``, ``tls`` …).

    Returns
    -------
    Connection

    Raises
    ------
    CIMConnectionError
        The server cannot be reached within ``timeout``.
    CIMAuthenticationError
        The server refused the credentials.
    ServerStartError
        The embedded server could not start.
    """
    url = url or os.environ.get("ALCHEMIST_NATS_URL")
    server = None
    if url is None:
        server = EmbeddedServer(data_dir=data_dir).start()
        url = server.url
    loop = _LoopThread()
    try:
        nc = loop.run(_open(url, name=name, timeout=timeout, **options))
    except BaseException:
        loop.stop()
        if server is not None:
            server.stop()
        raise
    connection = Connection(nc, loop=loop, url=url, server=server, subjects=subjects)
    connection.ensure_streams(replicas=replicas)
    return connection


class Connection:
    """A live connection to the CIM. Create it with :func:`connect`.

    Attributes
    ----------
    url : str
    server : EmbeddedServer or None
        The embedded server this connection started, if any.
    subjects : SubjectTemplate
    """

    def __init__(self, nc, *, loop: "_LoopThread", url: str, server: EmbeddedServer | None,
                 subjects: SubjectTemplate):
        self._nc = nc
        self._js = nc.jetstream(publish_async_max_pending=4000)
        self._loop = loop
        self.url = url
        self.server = server
        self.subjects = subjects

    # ------------------------------------------------------------------ streams
    def ensure_streams(self, replicas: int = 1) -> None:
        """Create or update the ``GRAPH_EVENTS`` stream (idempotent)."""
        self._run(self._ensure_streams(replicas))

    def stream_info(self, graph_id: str | None = None):
        """JetStream's ``StreamInfo`` of ``GRAPH_EVENTS`` (per-subject counts for one graph)."""
        filt = self.subjects.aggregate_filter(graph_id) if graph_id else None
        return self._run(self._js.stream_info(GRAPH_STREAM, subjects_filter=filt))

    # ------------------------------------------------------------------ publishing
    def publish(self, event: Event) -> int:
        """Publish one event and wait for its acknowledgement; returns its stream sequence."""
        return self._run(self._publish_one(event))

    def publish_many(self, events: Iterable[Event], *, batch: int = 1000, progress: bool | Callable[[int], Any] = False,
                     total: int | None = None) -> PublishResult:
        """Publish events with acknowledgement, ``batch`` events per JetStream message.

        ``batch=1`` sends one message per event (what a live CIM emits); larger batches wrap
        events in ``events_batch`` messages (de-duplicated by batch id; the events keep their
        ids and CIDs). Publishing is asynchronous with a bounded window of acknowledgements in
        flight.

        Parameters
        ----------
        events : iterable of Event
        batch : int
            Events per message (≥ 1).
        progress : bool or callable
            Show a tqdm bar, or call ``progress(n_events_done)`` as acknowledgements arrive.
        total : int, optional
            Number of events, for the progress bar.
        """
        if batch < 1:
            raise ValueError(f"batch={batch}; it must be at least 1")
        return self._run(self._publish_many(events, batch, progress, total))

    # ------------------------------------------------------------------ consuming
    def graph(self, graph_id: str, *, durable: str | None = None, progress: bool = False,
              fetch_batch: int = 256, idle_timeout: float = 2.0):
        """Replay a graph's events from the stream into a new :class:`~alchemist.Graph`.

        A durable pull consumer (``alchemist_<graph_id>`` unless ``durable`` is given) is
        (re)created to deliver every event of the graph from the start; events are acknowledged
        after they are applied. Returns when the consumer has caught up with the stream.
        Undecodable or invalid messages are skipped and counted in ``graph.rejected``.
        """
        from alchemist.graph import Graph

        graph = Graph(graph_id, strict=True)
        graph.rejected = []  # type: ignore[attr-defined]
        self._run(self._consume(graph, durable or f"alchemist_{graph_id}", progress, fetch_batch, idle_timeout))
        return graph

    def replay(self, source, graph_id: str | None = None, *, batch: int = 1000, progress: bool = False,
               directed: bool = True) -> PublishResult:
        """Publish a SNAP-style edge list as CIM events (see :mod:`alchemist.cim.replay`)."""
        from alchemist.cim.replay import replay_edge_list

        return replay_edge_list(self, source, graph_id=graph_id, batch=batch, progress=progress, directed=directed)

    def last_event(self, graph_id: str) -> Event | None:
        """The most recent event stored for a graph, or None when it has none."""
        return self._run(self._last_event(graph_id))

    # ------------------------------------------------------------------ life cycle
    def close(self) -> None:
        """Drain and close the NATS connection and stop the embedded server, if any."""
        if self._nc is not None:
            try:
                self._run(self._nc.drain(), timeout=10)
            except Exception:
                pass
            self._nc = None
        self._loop.stop()
        if self.server is not None:
            self.server.stop()

    def __enter__(self) -> "Connection":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        where = "embedded" if self.server is not None else "remote"
        state = "connected" if self._nc is not None and self._nc.is_connected else "closed"
        return f"<alchemist.Connection {self.url} ({where}, {state})>"

    # ------------------------------------------------------------------ async internals
    def _run(self, coro: Awaitable[T], timeout: float | None = None) -> T:
        if self._nc is None:
            raise CIMError("this connection is closed; call alchemist.connect() again")
        return self._loop.run(coro, timeout)

    async def _ensure_streams(self, replicas: int) -> None:
        from nats.js.errors import NotFoundError

        config = stream_config(self.subjects, replicas)
        try:
            await self._js.stream_info(GRAPH_STREAM)
            await self._js.update_stream(config)
        except NotFoundError:
            await self._js.add_stream(config)

    async def _publish_one(self, event: Event) -> int:
        ack = await self._js.publish(self.subjects.subject(event.aggregate_id, event.event_type),
                                     encode_event(event), headers=headers_for(event), stream=GRAPH_STREAM)
        return ack.seq

    async def _publish_many(self, events, batch, progress, total) -> PublishResult:
        result = PublishResult()
        bar = _progress_bar(progress, total, "publish", "events")
        start = time.perf_counter()
        pending: list[tuple[asyncio.Future, int]] = []

        def settle(done: list[tuple[asyncio.Future, int]]) -> None:
            for future, count in done:
                ack = future.result()
                if ack.duplicate:
                    result.duplicates += count
                else:
                    result.published += count
                result.last_sequence = max(result.last_sequence, ack.seq)
                if bar is not None:
                    bar(count)

        async def send(chunk: list[Event]) -> None:
            if len(chunk) == 1 and batch == 1:
                event = chunk[0]
                subject = self.subjects.subject(event.aggregate_id, event.event_type)
                payload, headers = encode_event(event), headers_for(event)
            else:
                batch_id, payload = encode_batch(chunk)
                first = chunk[0]
                subject = self.subjects.subject(first.aggregate_id, BATCH_TYPE)
                headers = {"Nats-Msg-Id": batch_id, "Cim-Event-Type": BATCH_TYPE,
                           "Cim-Aggregate-Id": first.aggregate_id, "Cim-Event-Count": str(len(chunk))}
            future = await self._js.publish_async(subject, payload, headers=headers, stream=GRAPH_STREAM)
            pending.append((future, len(chunk)))
            result.messages += 1

        chunk: list[Event] = []
        aggregate = None
        for event in events:
            if chunk and (len(chunk) >= batch or event.aggregate_id != aggregate):
                await send(chunk)
                chunk = []
            aggregate = event.aggregate_id
            chunk.append(event)
            if len(pending) >= 2048:
                done = [p for p in pending if p[0].done()]
                if len(done) < 512:
                    await asyncio.wait([p[0] for p in pending[:512]])
                    done = [p for p in pending if p[0].done()]
                settle(done)
                pending[:] = [p for p in pending if not p[0].done()]
        if chunk:
            await send(chunk)
        if pending:
            await asyncio.wait([p[0] for p in pending])
            settle(pending)
        result.seconds = time.perf_counter() - start
        if bar is not None:
            bar(None)
        return result

    async def _last_event(self, graph_id: str) -> Event | None:
        from nats.js.errors import NotFoundError

        try:
            msg = await self._js.get_last_msg(GRAPH_STREAM, self.subjects.aggregate_filter(graph_id))
        except NotFoundError:
            return None
        events = decode_message(msg.data, dict(msg.headers or {}), sequence=msg.seq, verify=False)
        return events[-1] if events else None

    async def _consume(self, graph, durable: str, progress, fetch_batch: int, idle_timeout: float) -> None:
        from nats.errors import TimeoutError as NatsTimeout
        from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
        from nats.js.errors import NotFoundError

        subject = self.subjects.aggregate_filter(graph.graph_id)
        try:
            await self._js.delete_consumer(GRAPH_STREAM, durable)
        except NotFoundError:
            pass
        info = await self._js.stream_info(GRAPH_STREAM, subjects_filter=subject)
        target = sum((info.state.subjects or {}).values())
        config = ConsumerConfig(durable_name=durable, deliver_policy=DeliverPolicy.ALL,
                                ack_policy=AckPolicy.ALL, filter_subject=subject, max_ack_pending=-1,
                                ack_wait=60)
        sub = await self._js.pull_subscribe(subject, durable=durable, stream=GRAPH_STREAM, config=config)
        bar = _progress_bar(progress, target, "consume", "messages")
        seen = 0
        try:
            while seen < target:
                try:
                    msgs = await sub.fetch(batch=fetch_batch, timeout=idle_timeout)
                except NatsTimeout:
                    break
                for msg in msgs:
                    try:
                        events = decode_message(msg.data, dict(msg.headers or {}),
                                                sequence=msg.metadata.sequence.stream)
                    except EventError as exc:
                        graph.rejected.append((msg.metadata.sequence.stream, exc))
                        continue
                    if len(events) > 1:
                        seq = msg.metadata.sequence.stream
                        events = [_with_sequence(e, seq) for e in events]
                    for event, exc in graph.apply(events, errors="collect"):
                        graph.rejected.append((event.sequence, exc))
                if msgs:
                    await msgs[-1].ack()
                    seen += len(msgs)
                    if bar is not None:
                        bar(len(msgs))
                    if msgs[-1].metadata.num_pending == 0:
                        break
        finally:
            if bar is not None:
                bar(None)
            await sub.unsubscribe()


def _with_sequence(event: Event, sequence: int) -> Event:
    import msgspec

    return msgspec.structs.replace(event, sequence=sequence)


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


async def _open(url: str, *, name: str, timeout: float, **options: Any):
    import nats
    from nats.errors import NoServersError

    errors: list[BaseException] = []

    async def on_error(exc: BaseException) -> None:
        errors.append(exc)

    try:
        return await nats.connect(url, name=name, connect_timeout=timeout, max_reconnect_attempts=options.pop(
            "max_reconnect_attempts", 60), allow_reconnect=True, error_cb=on_error, **options)
    except Exception as exc:  # nats-py raises a variety of errors here
        text = " ".join(str(e) for e in [exc, *errors]).lower()
        if "authorization" in text or "authentication" in text or "permissions" in text:
            raise CIMAuthenticationError(f"the NATS server at {url} refused the credentials: {exc or errors}") from None
        if isinstance(exc, (NoServersError, OSError, asyncio.TimeoutError)) or "connect" in text:
            raise CIMConnectionError(f"cannot reach a NATS server at {url}: {exc or errors}") from None
        raise CIMConnectionError(f"connecting to {url} failed: {exc!r}") from None


class _LoopThread:
    """An asyncio event loop running forever in a daemon thread; ``run`` blocks on a coroutine."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="alchemist-nats", daemon=True)
        self.thread.start()

    def run(self, coro: Awaitable[T], timeout: float | None = None) -> T:
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
