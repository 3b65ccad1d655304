"""Publishing CIM events: acknowledged sends, retries, the circuit breaker and the outbox.

:class:`Publisher` owns everything on the way out of a :class:`~alchemist.cim.Connection`: one
event with optional optimistic concurrency (:meth:`Publisher.publish_one`), streams of messages
with a window of acknowledgements in flight (:meth:`Publisher.publish_stream`), transient failures
retried with exponential backoff (tenacity), a :class:`~alchemist.cim.resilience.CircuitBreaker`
that sends events to the durable :class:`~alchemist.cim.resilience.Outbox` while the server is
away, and the outbox flushed in order (:meth:`Publisher.flush_outbox`).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass

import msgspec

from alchemist.cim.observability import METRICS, log, progress_bar
from alchemist.cim.resilience import CircuitBreaker, Outbox
from alchemist.cim.streams import GRAPH_STREAM
from alchemist.errors import CIMConnectionError, ConcurrencyError, MessageTooLargeError
from alchemist.events import BATCH_TYPE, Event, SubjectTemplate, encode_event, headers_for

__all__ = [
    "PublishResult", "Publisher", "TRANSIENT_ERRORS", "message_stream", "message_limit", "fit_batches",
    "batch_message", "DEFAULT_WAIT", "WINDOW_EVENTS", "WINDOW_BYTES",
]

_WRONG_LAST_SEQUENCE = 10071

DEFAULT_WAIT = 60.0
"""Seconds a stream publish waits for an absent server (per outage) before queueing the rest."""

WINDOW_BYTES = 16 * 1024 * 1024
"""Bytes of messages awaiting their acknowledgement at most (they are kept for a resend)."""

WINDOW_EVENTS = 10_000
"""Events awaiting their acknowledgement at most. When the server goes away, messages sent after a
lost one may be stored before it is resent, so this also bounds how far out of order a publisher
can store a graph's events — what a consumer must be able to park
(:data:`alchemist.cim.chain.DEFAULT_MAX_PARKED` is 5 times this)."""

ACK_TIMEOUT = 5.0
"""Seconds a stream publish waits for the oldest acknowledgement while connected; then (or at
once when the connection is lost) every message not acknowledged is resent."""


@dataclass
class PublishResult:
    """Outcome of publishing events.

    Attributes
    ----------
    published : int
        New events stored on the server.
    duplicates : int
        Events the stream already had (JetStream de-duplication, or skipped on resume).
    messages : int
        JetStream messages sent.
    last_sequence : int
        The highest stream sequence acknowledged.
    seconds : float
    queued : int
        Events put in the local durable outbox because the server did not answer in time: they
        are stored only once :meth:`~alchemist.cim.Connection.flush_outbox` (or a later
        connection) sends them. ``complete`` is False while any are.

    Parameters
    ----------
    published, duplicates, messages, last_sequence, queued : int
    seconds : float

    Examples
    --------
    >>> result = PublishResult(published=900, duplicates=100, messages=1, seconds=0.5)
    >>> result.complete, result.events_per_second
    (True, 2000.0)
    >>> PublishResult(published=10, queued=5).complete
    False
    """

    published: int = 0
    duplicates: int = 0
    messages: int = 0
    last_sequence: int = 0
    seconds: float = 0.0
    queued: int = 0

    @property
    def complete(self) -> bool:
        """Whether every event published is stored on the server (none left ``queued``).

        Returns
        -------
        bool
        """
        return self.queued == 0

    @property
    def events_per_second(self) -> float:
        """Events acknowledged (published or duplicate) per second.

        Returns
        -------
        float
            NaN when no time was measured.
        """
        total = self.published + self.duplicates
        return total / self.seconds if self.seconds > 0 else float("nan")


def _transient_errors() -> tuple[type[BaseException], ...]:
    import nats.errors as ne
    from nats.js.errors import NoStreamResponseError, ServiceUnavailableError

    return (ne.TimeoutError, ne.NoRespondersError, ne.ConnectionClosedError, ne.ConnectionReconnectingError,
            ne.OutboundBufferLimitError, ne.StaleConnectionError, ServiceUnavailableError, NoStreamResponseError,
            asyncio.TimeoutError, ConnectionError)


TRANSIENT_ERRORS: tuple[type[BaseException], ...] = _transient_errors()
"""Exceptions that mean "the server did not answer now" (retried, then outboxed)."""


def batch_message(subjects: SubjectTemplate, aggregate_id: str, batch_id: str, data: bytes, count: int):
    """``(subject, data, headers, count)`` of one ``events_batch`` message of an aggregate.

    Parameters
    ----------
    subjects : SubjectTemplate
    aggregate_id : str
    batch_id : str
        ``Nats-Msg-Id`` of the message: JetStream stores a batch once within its duplicate window.
    data : bytes
        The ``events_batch`` JSON.
    count : int
        Events in it (header ``Cim-Event-Count``).

    Returns
    -------
    tuple of (str, bytes, dict, int)

    Examples
    --------
    >>> from alchemist.events import DEFAULT_SUBJECTS
    >>> subject, _, headers, _ = batch_message(DEFAULT_SUBJECTS, "g", "batch-1", b"{}", 2)
    >>> subject, headers["Nats-Msg-Id"], headers["Cim-Event-Count"]
    ('graph.events.g.events_batch', 'batch-1', '2')
    """
    headers = {"Nats-Msg-Id": batch_id, "Cim-Event-Type": BATCH_TYPE, "Cim-Aggregate-Id": aggregate_id,
               "Cim-Event-Count": str(count)}
    return subjects.subject(aggregate_id, BATCH_TYPE), data, headers, count


def message_stream(subjects: SubjectTemplate, records, batch: int, max_bytes: int | None = None):
    """``(subject, data, headers, n_events)`` messages of event records.

    Parameters
    ----------
    subjects : SubjectTemplate
    records : iterable of tuple
        ``(aggregate_id, event_id, event_type, cid, correlation_id, causation_id, data)``.
    batch : int
        At most this many events per message (1: one plain message per event); a batch never
        mixes aggregates.
    max_bytes : int, optional
        At most this many bytes of event data per message (the server's ``max_payload``, at
        most :data:`alchemist.events.envelope.MAX_MESSAGE_BYTES`): a batch closes early rather
        than grow past it.

    Yields
    ------
    (subject, data, headers, n_events)

    Raises
    ------
    MessageTooLargeError
        One event alone is larger than ``max_bytes`` (raised when the generator reaches it; the
        messages before it were yielded). Store large content in the object store and refer to
        it by CID.
    """

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
        return batch_message(subjects, agg, batch_id, data, len(chunk))

    overhead = 256  # the events_batch wrapper and its batch id, with room to spare
    chunk: list[tuple] = []
    size = 0
    aggregate = None
    for record in records:
        n = len(record[6])
        if max_bytes is not None and n + overhead > max_bytes:
            if chunk:
                yield message_of(chunk)
                chunk = []
            raise MessageTooLargeError(
                f"event {record[1]} is {n:,} bytes, more than the {max_bytes - overhead:,} a message may carry "
                "(the server's max_payload); put large content in the object store (connection.objects.put) and "
                "refer to it by CID")
        if chunk and (len(chunk) >= batch or record[0] != aggregate
                      or (max_bytes is not None and size + n + 1 + overhead > max_bytes)):
            yield message_of(chunk)
            chunk, size = [], 0
        aggregate = record[0]
        chunk.append(record)
        size += n + 1
    if chunk:
        yield message_of(chunk)


def fit_batches(subjects: SubjectTemplate, aggregate_id: str, batches, max_bytes: int):
    """``(subject, data, headers, n_events)`` messages of ready-made ``events_batch`` messages
    ``(batch_id, data, n_events)``, each one larger than ``max_bytes`` split into smaller batches
    (its events' bytes are kept as they are; the new batch ids follow the usual
    ``batch-<first id>-<last id>-<count>`` form).

    Parameters
    ----------
    subjects : SubjectTemplate
    aggregate_id : str
    batches : iterable of (str, bytes, int)
        E.g. :func:`~alchemist.events.wire.edge_list_batches`.
    max_bytes : int
        :func:`message_limit` of the connection.

    Yields
    ------
    (subject, data, headers, n_events)

    Raises
    ------
    MessageTooLargeError
        One event alone is larger than ``max_bytes``.
    """
    for batch_id, data, count in batches:
        if len(data) <= max_bytes:
            yield batch_message(subjects, aggregate_id, batch_id, data, count)
            continue
        raws = msgspec.json.decode(data, type=_Batch).events
        ids = msgspec.json.decode(b"[" + b",".join(bytes(r) for r in raws) + b"]",
                                  type=list[_EventId])
        records = ((aggregate_id, e.event_id, "", "", "", "", bytes(r)) for e, r in zip(ids, raws))
        yield from message_stream(subjects, records, len(raws) + 1, max_bytes)


class _EventId(msgspec.Struct):
    event_id: str


class _Batch(msgspec.Struct):
    events: list[msgspec.Raw]


def message_limit(nc) -> int:
    """The bytes one message may carry to ``nc``'s server: its ``max_payload`` (1 MiB by default)
    less room for headers, and never more than the decoder accepts
    (:data:`alchemist.events.envelope.MAX_MESSAGE_BYTES`).

    Parameters
    ----------
    nc : nats.aio.client.Client or None
        A connected client (its ``max_payload`` comes from the server's ``INFO``).

    Returns
    -------
    int
        Bytes, 4 KiB under the smaller limit.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> message_limit(SimpleNamespace(max_payload=1024 * 1024))
    1044480
    """
    from alchemist.events import envelope

    server = getattr(nc, "max_payload", None) or envelope.MAX_MESSAGE_BYTES
    return min(int(server), envelope.MAX_MESSAGE_BYTES) - 4096


class Publisher:
    """The sending side of a connection (runs on the connection's event loop).

    Parameters
    ----------
    js : nats.js.JetStreamContext
    subjects : SubjectTemplate
    outbox : Outbox
    breaker : CircuitBreaker
    retry_attempts : int
        Attempts (with exponential backoff) before a publish counts as failed.
    where : str
        The server, credentials masked (for messages).
    stream : str
        The graph-events stream.
    connected : callable, optional
        ``connected() -> bool``: whether the client holds a connection now (a stream publish
        stops waiting for acknowledgements as soon as it does not).

    Notes
    -----
    Every publish is a JetStream publish on ``<prefix>events.<graph>.<event type>`` (or
    ``.events_batch``) with ``Nats-Msg-Id`` for de-duplication and the ``Cim-*`` headers
    (:func:`~alchemist.events.headers_for`). Transient failures (:data:`TRANSIENT_ERRORS`) are
    retried with exponential backoff (0.2 s doubled, at most 2 s); a publish that still fails
    counts as a failure of the circuit breaker, and while it is open events go to the outbox,
    flushed in order when the server answers again.

    References
    ----------
    .. [1] M. T. Nygard, *Release It!*, 2nd ed. (2018), ch. 5, "Circuit Breaker" and
       "Timeouts".
    .. [2] C. Richardson, *Microservices Patterns* (2018), §3.3.7, "Transactional outbox".
    .. [3] NATS documentation, "JetStream Model Deep Dive" (publish acknowledgements,
       de-duplication, expected last subject sequence),
       https://docs.nats.io/using-nats/developer/develop_jetstream/model_deep_dive
    """

    def __init__(self, js, *, subjects: SubjectTemplate, outbox: Outbox, breaker: CircuitBreaker,
                 retry_attempts: int, where: str, stream: str = GRAPH_STREAM, connected=None):
        self.js = js
        self.stream = stream  # the graph-events stream (a connection setting; see streams.ensure_streams)
        self.subjects = subjects
        self.outbox = outbox
        self.breaker = breaker
        self.retry_attempts = retry_attempts
        self.where = where
        self.connected = connected or (lambda: True)
        self._flush_lock: asyncio.Lock | None = None  # made on the connection's loop

    async def publish_one(self, event: Event, expected_sequence: int | None) -> int | None:
        """Publish one event; its stream sequence, or None when it went to the outbox (see
        :meth:`alchemist.cim.Connection.publish`).

        With ``expected_sequence``, the headers ``Nats-Expected-Last-Subject-Sequence`` and
        ``Nats-Expected-Last-Subject-Sequence-Subject`` (the graph's subject filter) are added.
        Without it, while the outbox holds messages or the breaker is open the event joins the
        outbox (so events stay in order).

        Parameters
        ----------
        event : Event
        expected_sequence : int or None

        Returns
        -------
        int or None

        Raises
        ------
        ConcurrencyError
            ``expected_sequence`` is stale (JetStream error 10071).
        CIMConnectionError
            With ``expected_sequence``, the server did not answer after the retries.
        """
        subject = self.subjects.subject(event.aggregate_id, event.event_type)
        headers = headers_for(event)
        if expected_sequence is not None:
            headers["Nats-Expected-Last-Subject-Sequence"] = str(int(expected_sequence))
            headers["Nats-Expected-Last-Subject-Sequence-Subject"] = self.subjects.aggregate_filter(event.aggregate_id)
        data = encode_event(event)
        if expected_sequence is None and (len(self.outbox) or not self.breaker.allow()):
            return await self._to_outbox(subject, data, headers, flush=True)
        try:
            ack = await self.send_with_retry(subject, data, headers)
        except ConcurrencyError:
            raise
        except TRANSIENT_ERRORS as exc:
            if expected_sequence is not None:
                raise CIMConnectionError(
                    f"cannot publish event {event.event_id} with expected_sequence={expected_sequence}: the server "
                    f"at {self.where} does not answer ({exc.__class__.__name__}); retry when it is back") from None
            return await self._to_outbox(subject, data, headers, flush=False)
        METRICS.published.labels(self.stream).inc()
        return ack.seq

    async def send_with_retry(self, subject: str, data: bytes, headers: dict[str, str], attempts: int | None = None):
        """Publish with acknowledgement, retrying transient failures with exponential backoff.

        ``attempts`` overrides ``retry_attempts`` (1: a single call, e.g. the breaker's trial).

        Parameters
        ----------
        subject : str
        data : bytes
        headers : dict of str to str
        attempts : int, optional

        Returns
        -------
        nats.js.api.PubAck
            ``stream``, ``seq`` and ``duplicate``.

        Raises
        ------
        ConcurrencyError
            The server refused an expected-last-sequence header.
        TRANSIENT_ERRORS
            Still failing after ``retry_attempts`` (the breaker counts a failure).
        """
        from nats.js.errors import APIError
        from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential

        start = time.perf_counter()
        retrying = AsyncRetrying(stop=stop_after_attempt(attempts or self.retry_attempts),
                                 wait=wait_exponential(multiplier=0.2, max=2.0),
                                 retry=retry_if_exception_type(TRANSIENT_ERRORS), reraise=True)
        try:
            async for attempt in retrying:
                with attempt:
                    try:
                        ack = await self.js.publish(subject, data, headers=headers, timeout=2.0)
                    except APIError as exc:
                        if exc.err_code == _WRONG_LAST_SEQUENCE:
                            raise ConcurrencyError(
                                f"another writer appended to {headers.get('Cim-Aggregate-Id')!r} first: {exc.description}"
                                "; reload the aggregate (aggregate_sequence) and retry") from None
                        raise
        except TRANSIENT_ERRORS:
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
            await self.flush_outbox()
        return None

    async def wait_for_trial(self, deadline: float) -> bool:
        """Sleep until the circuit breaker allows a trial call (at least 50 ms).

        Parameters
        ----------
        deadline : float
            A ``time.monotonic()`` time not to sleep past.

        Returns
        -------
        bool
            True when a trial may be made now; False when it would come after ``deadline`` (the
            sleep then ended at the deadline).
        """
        delay = self.breaker.seconds_until_trial()
        remaining = deadline - time.monotonic()
        if delay > remaining:
            await asyncio.sleep(max(0.0, remaining))
            return False
        await asyncio.sleep(max(delay, 0.05))
        return True

    async def flush_outbox(self, wait: bool = False, timeout: float | None = None, progress=False) -> int:
        """Send the outbox in order; returns how many messages this call sent.

        One flush runs at a time: with ``wait`` a caller waits for the one in progress (e.g.
        started on reconnect) and then sends what is still queued; without it, it leaves the work
        to that flush.

        Parameters
        ----------
        wait : bool
            Wait for a flush in progress instead of returning 0.
        timeout : float, optional
            Seconds to keep trying while the server does not answer (waiting for the circuit
            breaker's trial between attempts); None stops at the first message that still fails.
        progress : bool or callable
            A progress bar (or callback) over the messages sent.

        Returns
        -------
        int
            Messages sent (and acknowledged) by this call; ``len(outbox)`` is what is left.

        Raises
        ------
        sqlite3.Error
            The outbox file cannot be read or written (a server failure is not raised: it stops
            the flush).

        Notes
        -----
        Per pass, up to 500 entries: the first sent alone with its acknowledgement awaited (the
        breaker's trial), the others asynchronously with their acknowledgements awaited together
        (at most 10 s); acknowledged entries are removed in one transaction. An entry refused
        with a stale expected sequence is logged and dropped.
        """
        if self._flush_lock is None:
            self._flush_lock = asyncio.Lock()
        if self._flush_lock.locked() and not wait:
            return 0
        deadline = time.monotonic() + (timeout or 0.0)
        sent = 0
        bar = progress_bar(progress, len(self.outbox), "flush outbox", "messages")
        async with self._flush_lock:
            try:
                while True:
                    entries = self.outbox.peek(500)
                    if not entries:
                        break
                    done, stop = await self._send_entries(entries)
                    self.outbox.remove_many(done)
                    sent += len(done)
                    if bar is not None and done:
                        bar(len(done))
                    if stop:
                        if timeout is None or not await self.wait_for_trial(deadline):
                            break
            finally:
                METRICS.outbox_depth.set(len(self.outbox))
                if bar is not None:
                    bar(None)
                if sent:
                    log("cim.outbox_flushed", sent=sent, left=len(self.outbox))
        return sent

    async def _send_entries(self, entries) -> tuple[list[int], bool]:
        """Send outbox entries: the first one acknowledged (a trial that waits with retries), the
        rest with their acknowledgements awaited together. Returns the ids acknowledged (or refused
        for good: a stale expected sequence is logged and dropped) and whether the server failed."""
        done: list[int] = []
        head, rest = entries[0], entries[1:]
        try:
            await self.send_with_retry(head.subject, head.data, head.headers, attempts=1)
        except ConcurrencyError as exc:
            log("cim.outbox_conflict", subject=head.subject, error=str(exc))
        except TRANSIENT_ERRORS:
            return done, True
        done.append(head.id)
        futures = []
        for entry in rest:
            try:
                future = await self.js.publish_async(entry.subject, entry.data, headers=dict(entry.headers))
                futures.append((entry, future))
            except Exception:
                break
        failed = False
        if futures:
            await asyncio.wait([f for _e, f in futures], timeout=10.0)
        for entry, future in futures:
            if future.done() and not future.cancelled() and future.exception() is None:
                done.append(entry.id)
            else:
                if not future.done():
                    future.cancel()
                failed = True
        if len(futures) < len(rest):
            failed = True
        if failed:
            self.breaker.failure()
        else:
            self.breaker.success()
        return done, failed

    async def publish_stream(self, messages, progress, total, window: int, *, window_bytes: int | None = None,
                             wait: float | None = None) -> PublishResult:
        """Publish ``(subject, data, headers, n_events)`` messages with at most ``window``
        acknowledgements (and ``window_bytes`` bytes) in flight.

        When acknowledgements stop coming (the server is gone), the messages not acknowledged are
        resent in order once the circuit breaker allows a trial and it succeeds; the publisher
        waits for that at most ``wait`` seconds per outage. After that, they and every message
        still to come go to the durable outbox, in order (``PublishResult.queued``).

        Parameters
        ----------
        messages : iterable of (subject, data, headers, n_events)
        progress : bool or callable
        total : int or None
            Events expected (for the progress bar).
        window : int
            Messages awaiting their acknowledgement at most.
        window_bytes : int, optional
            Bytes awaiting their acknowledgement at most (:data:`WINDOW_BYTES` by default): with the
            chunked generators, the memory bound of a replay.
        wait : float, optional
            Seconds to wait for an absent server per outage (:data:`DEFAULT_WAIT` by default; 0
            queues at the first outage).

        Returns
        -------
        PublishResult

        Raises
        ------
        MessageTooLargeError
            From ``messages`` (an event larger than a message may be), after the messages before
            it are settled.
        """
        window_bytes = WINDOW_BYTES if window_bytes is None else window_bytes
        wait = DEFAULT_WAIT if wait is None else wait
        result = PublishResult()
        bar = progress_bar(progress, total, "publish", "events")
        start = time.perf_counter()
        in_flight: deque = deque()  # (future, message) oldest first; message = (index, subject, data, headers, n)
        held = [0, 0]  # bytes and events of the messages in flight
        retry: list = []  # messages to send again (not acknowledged)
        backlog: deque = deque()  # messages to send before new ones
        js = self.js

        def counted(ack, count: int) -> None:
            if ack.duplicate:
                result.duplicates += count
            else:
                result.published += count
            result.last_sequence = max(result.last_sequence, ack.seq)
            if bar is not None:
                bar(count)

        def settle(future, message) -> None:
            held[0] -= len(message[2])
            held[1] -= message[4]
            exc = future.exception() if not future.cancelled() else asyncio.CancelledError()
            if exc is not None:
                retry.append(message)
                self.breaker.failure()
                return
            counted(future.result(), message[4])

        async def drain(keep: int, keep_bytes: int, keep_events: int = 0) -> None:
            # wait for the oldest acknowledgements; when one does not come in time, the server is
            # gone: every acknowledgement still missing counts as failed (the messages are resent)
            while in_flight and (len(in_flight) > keep or held[0] > keep_bytes or held[1] > keep_events):
                head = in_flight[0][0]
                waited = 0.0
                while not head.done() and waited < ACK_TIMEOUT and self.connected():
                    await asyncio.wait([head], timeout=0.25)
                    waited += 0.25
                if not head.done():
                    await asyncio.wait([f for f, _m in in_flight], timeout=1.0)
                    while in_flight:
                        future, message = in_flight.popleft()
                        if not future.done():
                            future.cancel()
                        settle(future, message)
                    return
                settle(*in_flight.popleft())

        outgoing: list = []  # messages on their way to the outbox, written 256 at a time

        def to_outbox(message) -> None:
            _i, subject, data, headers, count = message
            outgoing.append((subject, data, headers))
            result.queued += count
            if len(outgoing) >= 256:
                self.outbox.put_many(outgoing)
                outgoing.clear()

        queue_all = False
        if len(self.outbox):  # older events first
            await self.flush_outbox(wait=True, timeout=wait)
            queue_all = bool(len(self.outbox))
        index = 0
        source = iter(messages)
        stopped: BaseException | None = None  # what the message source raised (after what it gave is settled)
        while True:
            if retry and not queue_all:
                await drain(0, 0)
                retry.sort(key=lambda m: m[0])
                log("cim.resend", messages=len(retry), breaker=self.breaker.state)
                deadline = time.monotonic() + wait
                while True:  # one message at a time until the server answers (the breaker's trial)
                    message = retry[0]
                    try:
                        ack = await self.send_with_retry(*message[1:4], attempts=1)
                    except TRANSIENT_ERRORS:
                        if await self.wait_for_trial(deadline):
                            continue
                        queue_all = True
                        log("cim.server_gone", waited=wait, queued_from=message[0])
                        break
                    result.messages += 1
                    counted(ack, message[4])
                    break
                if not queue_all:
                    retry.pop(0)
                backlog.extendleft(reversed(retry))
                retry.clear()
            if backlog:
                message = backlog.popleft()
            else:
                try:
                    item = next(source, None) if stopped is None else None
                except Exception as exc:  # e.g. an event too large: settle what was sent, then raise
                    stopped, item = exc, None
                if item is None:
                    await drain(0, 0)
                    if retry and not queue_all:
                        continue
                    break
                index += 1
                message = (index, *item)
            if queue_all:
                to_outbox(message)
                continue
            _i, subject, data, headers, count = message
            if not self.connected():  # reconnecting: the client would hold it and send it after the retries
                retry.append(message)
                self.breaker.failure()
                continue
            try:
                future = await js.publish_async(subject, data, headers=dict(headers), stream=self.stream)
            except Exception:
                retry.append(message)
                self.breaker.failure()
                continue
            in_flight.append((future, message))
            held[0] += len(data)
            held[1] += count
            result.messages += 1
            if len(in_flight) >= window or held[0] > window_bytes or held[1] > WINDOW_EVENTS:
                await drain(window // 2, window_bytes // 2, WINDOW_EVENTS // 2)
        for message in sorted(retry, key=lambda m: m[0]):  # after giving up: in order, after the backlog
            to_outbox(message)
        retry.clear()
        self.outbox.put_many(outgoing)
        if result.queued:
            METRICS.outbox_depth.set(len(self.outbox))
            log("cim.queued", events=result.queued, outbox=str(self.outbox.path))
        result.seconds = time.perf_counter() - start
        METRICS.published.labels(self.stream).inc(result.published)
        if bar is not None:
            bar(None)
        if stopped is not None:
            raise stopped
        return result
