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
from dataclasses import dataclass

from alchemist.cim.observability import METRICS, log, progress_bar
from alchemist.cim.resilience import CircuitBreaker, Outbox
from alchemist.cim.streams import GRAPH_STREAM
from alchemist.errors import CIMConnectionError, ConcurrencyError
from alchemist.events import BATCH_TYPE, Event, SubjectTemplate, encode_event, headers_for

__all__ = ["PublishResult", "Publisher", "TRANSIENT_ERRORS", "message_stream", "batch_message"]

_WRONG_LAST_SEQUENCE = 10071


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


def _transient_errors() -> tuple[type[BaseException], ...]:
    import nats.errors as ne
    from nats.js.errors import NoStreamResponseError, ServiceUnavailableError

    return (ne.TimeoutError, ne.NoRespondersError, ne.ConnectionClosedError, ne.ConnectionReconnectingError,
            ne.OutboundBufferLimitError, ne.StaleConnectionError, ServiceUnavailableError, NoStreamResponseError,
            asyncio.TimeoutError, ConnectionError)


TRANSIENT_ERRORS: tuple[type[BaseException], ...] = _transient_errors()
"""Exceptions that mean "the server did not answer now" (retried, then outboxed)."""


def batch_message(subjects: SubjectTemplate, aggregate_id: str, batch_id: str, data: bytes, count: int):
    """``(subject, data, headers, count)`` of one ``events_batch`` message of an aggregate."""
    headers = {"Nats-Msg-Id": batch_id, "Cim-Event-Type": BATCH_TYPE, "Cim-Aggregate-Id": aggregate_id,
               "Cim-Event-Count": str(count)}
    return subjects.subject(aggregate_id, BATCH_TYPE), data, headers, count


def message_stream(subjects: SubjectTemplate, records, batch: int):
    """``(subject, data, headers, n_events)`` messages of event records, ``batch`` events per
    message; records are ``(aggregate_id, event_id, event_type, cid, correlation_id,
    causation_id, data)`` and a batch never mixes aggregates."""

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
    """

    def __init__(self, js, *, subjects: SubjectTemplate, outbox: Outbox, breaker: CircuitBreaker,
                 retry_attempts: int, where: str, stream: str = GRAPH_STREAM):
        self.js = js
        self.stream = stream  # the graph-events stream (a connection setting; see streams.ensure_streams)
        self.subjects = subjects
        self.outbox = outbox
        self.breaker = breaker
        self.retry_attempts = retry_attempts
        self.where = where
        self._flush_lock: asyncio.Lock | None = None  # made on the connection's loop

    async def publish_one(self, event: Event, expected_sequence: int | None) -> int | None:
        """Publish one event; its stream sequence, or None when it went to the outbox (see
        :meth:`alchemist.cim.Connection.publish`)."""
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

    async def send_with_retry(self, subject: str, data: bytes, headers: dict[str, str]):
        """Publish with acknowledgement, retrying transient failures with exponential backoff.

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
        retrying = AsyncRetrying(stop=stop_after_attempt(self.retry_attempts),
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

    async def flush_outbox(self, wait: bool = False) -> int:
        """Send the outbox in order; returns how many messages this call sent. One flush runs at a
        time: with ``wait`` a caller waits for the one in progress (e.g. started on reconnect) and
        then sends what is still queued; without it, it leaves the work to that flush."""
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
                            await self.send_with_retry(entry.subject, entry.data, entry.headers)
                        except ConcurrencyError as exc:
                            log("cim.outbox_conflict", subject=entry.subject, error=str(exc))
                        except TRANSIENT_ERRORS:
                            return sent
                        self.outbox.remove(entry.id)
                        sent += 1
            finally:
                METRICS.outbox_depth.set(len(self.outbox))
                if sent:
                    log("cim.outbox_flushed", sent=sent)
        return sent

    async def publish_stream(self, messages, progress, total, window: int) -> PublishResult:
        """Publish ``(subject, data, headers, n_events)`` messages with at most ``window``
        acknowledgements in flight; what fails is resent in order, then outboxed."""
        result = PublishResult()
        bar = progress_bar(progress, total, "publish", "events")
        start = time.perf_counter()
        in_flight: list[tuple[asyncio.Future, tuple[int, str, bytes, dict], int]] = []
        failed: list[tuple[int, str, bytes, dict, int]] = []  # (message index, subject, data, headers, events)
        js = self.js

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
                future = await js.publish_async(subject, data, headers=headers, stream=self.stream)
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
        METRICS.published.labels(self.stream).inc(result.published)
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
                    ack = await self.send_with_retry(subject, data, headers)
                except TRANSIENT_ERRORS:
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
