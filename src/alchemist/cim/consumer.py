"""Consuming a graph's events: fetch, decode, verify, fold, acknowledge, dead-letter, follow, resume.

:class:`Consumer` is the reading side of a :class:`~alchemist.cim.Connection`. It opens a pull
consumer on one graph's subjects, folds what it fetches into a :class:`~alchemist.cim.fold.GraphFold`
(exactly once, in causal order), acknowledges what was applied, dead-letters what cannot be
(:mod:`alchemist.cim.deadletters`), and, for a live graph, keeps a :class:`GraphFeed` task following
the stream.

Trust rules (DESIGN.md §9) as this module keeps them:

- Each message is judged alone. Any exception while decoding or verifying one message, or while
  folding one of its events, dead-letters that message or event and the consumer goes on; a
  graph read never raises because of one bad message.
- A dead letter is stored once (see :mod:`alchemist.cim.deadletters`) before the message is
  acknowledged; when it cannot be stored, nothing from that message on is acknowledged.
- A live feed that stops says so (:attr:`GraphFeed.state`, :attr:`GraphFeed.error`, a log line)
  and restarts from its last applied sequence with a bounded backoff.
- Memory is bounded by :attr:`Consumer.fetch_bytes` and :attr:`Consumer.pending_bytes`, not by the
  stream.
"""

from __future__ import annotations

import asyncio
import gc
import logging

from alchemist.cim.deadletters import DeadLetterError, DeadLetters
from alchemist.cim.feed import FEED_STATES, GraphFeed
from alchemist.cim.fold import GraphFold
from alchemist.cim.judging import decode_each, fold_each, judged, new_fold, snapshot_fold
from alchemist.cim.observability import METRICS, log, progress_bar
from alchemist.cim.pull import (
    START_KEY,
    consumer_config,
    consumer_sequence,
    durable_info,
    fetch,
    set_start,
    start_decode,
    start_of,
    stream_sequence,
    to_seconds,
)
from alchemist.cim.pull import pending as pending_of
from alchemist.cim.streams import DLQ_STREAM, GRAPH_STREAM
from alchemist.events import Event, decode_message, encode_event

__all__ = ["Consumer", "GraphFeed", "FEED_STATES", "to_seconds"]


ELECTION_WAIT = 15.0
"""Seconds a consumer's creation is retried while the cluster elects a stream or consumer leader
(no answer, or 503, for a few seconds after a server dies)."""


class Consumer:
    """The reading side of a connection (runs on the connection's event loop).

    Parameters
    ----------
    connection : Connection
        Its ``js``, ``nc``, ``loop``, ``subjects``, ``objects`` and ``streams`` are used.

    Attributes
    ----------
    fetch_bytes : int
        Bytes asked for per pull request, estimated from the largest message seen (the first pull
        asks for one message). Bounds the memory of one fetch and of its decoded events
        (``events_batch`` messages of 1,000 events are ~0.4 MB each).
    pending_bytes : int
        Client-side buffer of a pull subscription, in bytes; a fetch larger than it makes the
        client drop messages (fetched again). Must exceed ``fetch_bytes`` plus one message.
    restart_backoff, restart_backoff_max : float
        Seconds a live feed waits before its first restart after an error; doubled after each
        failed restart, at most ``restart_backoff_max``.
    max_restarts : int
        Restarts in a row without applying anything before a live feed is ``"failed"``.
    follow_errors : int
        Fetch errors in a row (0.5 s apart, e.g. while the client reconnects) before a live
        feed restarts.
    chain_wait : float
        Seconds an event of a live feed waits for its predecessor (a publisher's retry may store
        it later) before it is dead-lettered; a read that ends when caught up waits for nothing
        (see :mod:`alchemist.cim.chain`).
    dead_letters : DeadLetters
        Stores dead letters in ``ALCHEMIST_DLQ``.

    Notes
    -----
    What a read sends and receives: one ``$JS.API.CONSUMER.CREATE`` (a pull consumer filtered
    on the graph's subjects, :meth:`SubjectTemplate.aggregate_filter
    <alchemist.events.SubjectTemplate.aggregate_filter>`; ephemeral, removed by the server
    after 5 idle minutes, or the named durable one; acknowledge-all), ``CONSUMER.INFO``
    requests for the number pending, then pull requests
    (``$JS.API.CONSUMER.MSG.NEXT``) of at most ``fetch_batch`` messages and
    :attr:`fetch_bytes` bytes each (one round trip per pull) until nothing is pending; one
    acknowledgement per fetch (its last message acknowledges all before it), and one
    acknowledged publish per dead letter. A live feed keeps pulling in the background.

    References
    ----------
    .. [1] NATS ADR-13, "Pull Subscribe internals",
       https://github.com/nats-io/nats-architecture-and-design/blob/main/adr/ADR-13.md
    .. [2] G. Hohpe, B. Woolf, *Enterprise Integration Patterns*, Addison-Wesley (2003),
       "Idempotent Receiver" (exactly once in effect by event id) and "Dead Letter Channel".
    """

    fetch_bytes = 4 * 2**20
    pending_bytes = 64 * 2**20
    restart_backoff = 0.5
    restart_backoff_max = 30.0
    max_restarts = 10
    follow_errors = 10
    chain_wait = 5.0

    def __init__(self, connection):
        self.connection = connection
        self.loop = connection.loop
        self.subjects = connection.subjects
        self.dead_lettered = 0
        self.feeds: dict[str, GraphFeed] = {}
        self._dead_letters: DeadLetters | None = None

    @property
    def js(self):
        """The connection's ``nats.js.JetStreamContext``."""
        return self.connection.js

    @property
    def stream(self) -> str:
        """The graph-events stream's name (the connection's ``stream_name`` setting)."""
        return getattr(self.connection, "graph_stream", GRAPH_STREAM)

    @property
    def dead_letters(self) -> DeadLetters:
        """Stores this connection's dead letters (in the connection's dead-letter stream).

        Returns
        -------
        DeadLetters
            Made again when the connection's JetStream context changed.
        """
        if self._dead_letters is None or self._dead_letters.js is not self.js:
            streams = getattr(self.connection, "streams", None)
            self._dead_letters = DeadLetters(self.js, stream=getattr(streams, "dlq", DLQ_STREAM))
        return self._dead_letters

    async def last_sequence(self, graph_id: str) -> int:
        """Stream sequence of the graph's last message, decodable or not (0 when it has none):
        what JetStream compares ``Nats-Expected-Last-Subject-Sequence`` with.

        One request (``$JS.API.STREAM.MSG.GET`` for the last message on the graph's subject
        filter): one round trip.

        Parameters
        ----------
        graph_id : str

        Returns
        -------
        int

        Raises
        ------
        nats.errors.TimeoutError
            The server did not answer.
        """
        from nats.js.errors import NotFoundError

        try:
            return int((await self.js.get_last_msg(self.stream, self.subjects.aggregate_filter(graph_id))).seq)
        except NotFoundError:
            return 0

    async def last_event(self, graph_id: str) -> Event | None:
        """The most recent decodable event stored for a graph (not verified), or None.

        When the graph's last message cannot be decoded (a poison message), the newest decodable
        one among the last messages of each of the graph's subjects is returned instead, so one
        bad message does not stop a replay from resuming.

        Cost: one ``$JS.API.STREAM.MSG.GET`` round trip; after a poison message, one
        ``STREAM.INFO`` with the graph's subjects and one get per subject.

        Parameters
        ----------
        graph_id : str

        Returns
        -------
        Event or None
            The last event of an ``events_batch`` message when the last message is a batch.

        Raises
        ------
        nats.errors.TimeoutError
            The server did not answer.
        """
        from nats.js.errors import NotFoundError

        try:
            msg = await self.js.get_last_msg(self.stream, self.subjects.aggregate_filter(graph_id))
        except NotFoundError:
            return None
        event = _last_of(msg)
        if event is not None or not msg.data:
            return event
        log("cim.last_event_undecodable", logging.WARNING, graph=graph_id, sequence=msg.seq)
        info = await self.js.stream_info(self.stream, subjects_filter=self.subjects.aggregate_filter(graph_id))
        candidates = []
        for subject in (info.state.subjects or {}):
            try:
                candidates.append(await self.js.get_last_msg(self.stream, subject))
            except NotFoundError:
                continue
        for other in sorted(candidates, key=lambda m: m.seq, reverse=True):
            event = _last_of(other)
            if event is not None:
                return event
        return None

    async def open_feed(self, graph_id: str, *, live: bool, from_sequence, from_time, snapshot: bool, durable,
                        progress, fetch_batch: int, idle_timeout: float, accept=None, stop_after=None,
                        causal: bool = True, judge: bool | None = None, fold: GraphFold | None = None) -> GraphFeed:
        """Fold a graph's events until caught up; with ``live``, keep following (see
        :meth:`alchemist.cim.Connection.graph` for the parameters).

        ``judge`` (default: unless the read starts after the first event) says whether events the
        graph refuses are dead-lettered (a read of the whole history) or only listed in
        ``feed.skipped`` (a partial read, which cannot tell a bad event from one whose context
        lies before its start).

        Parameters
        ----------
        graph_id : str
        live, from_sequence, from_time, snapshot, durable, progress, fetch_batch, idle_timeout
            As :meth:`Connection.graph <alchemist.cim.connection.Connection.graph>`.
        accept : callable, optional
            ``accept(event) -> bool``: only the events it accepts are folded (time travel,
            :meth:`~alchemist.cim.connection.Connection.events` collecting them).
        stop_after : int, optional
            Stop at this stream sequence (a read of a prefix; never live).
        causal : bool
            Hold an event until its ``previous_cid`` predecessor is applied (see
            :mod:`alchemist.cim.chain`).
        judge : bool, optional
            See above.
        fold : GraphFold, optional
            Continue this fold (a graph read up to its ``last_sequence``: the read starts right after
            it) instead of a new one; not with ``durable`` or ``snapshot``.

        Returns
        -------
        GraphFeed
            Stopped, or live and registered in ``connection.feeds`` (replacing an older feed of
            the graph).

        Raises
        ------
        CIMError
            ``durable`` names a consumer of another graph, or one alchemist did not create.
        DeadLetterError
            A dead letter could not be stored (the server or ``ALCHEMIST_DLQ`` unavailable).
        """
        subject = self.subjects.aggregate_filter(graph_id)
        start = start_of(from_sequence, from_time)
        follow = live and stop_after is None
        wait = self.chain_wait if follow else 0.0
        if durable and fold is None:
            existing = await durable_info(self.js, self.stream, durable, subject)
            if existing is not None:  # resume: rebuild what it acknowledged, then go on from there
                start = start_decode((existing.config.metadata or {}).get(START_KEY, ""))
                fold = await self._resume(graph_id, existing, start, fetch_batch, idle_timeout, accept, causal, wait)
        partial = start is not None
        if judge is None:
            judge = not partial
        if fold is None and snapshot and not partial:
            fold = await snapshot_fold(self.connection, graph_id, wait)
        if fold is None:
            fold = new_fold(graph_id, partial=partial, accept=accept, causal=causal, chain_wait=wait)
        feed = GraphFeed(self, fold, judge=judge)
        feed.subject, feed.durable = subject, durable
        feed.config = consumer_config(subject, durable, start)
        if fold.last_sequence:
            set_start(feed.config, ("seq", fold.last_sequence + 1))
        await self._catch_up(feed, progress, fetch_batch, idle_timeout, stop_after)
        if not follow:  # the read ends: what still waits for its predecessor waited in vain
            await self._expire(feed, 0.0)
        graph = fold.graph
        graph.rejected = fold.rejected  # type: ignore[attr-defined]
        graph.skipped = feed.skipped  # type: ignore[attr-defined]
        graph.applied_event_ids = fold.applied_ids  # type: ignore[attr-defined]  (for snapshots)
        if follow:
            old = self.feeds.get(graph_id)
            if old is not None:
                old.stop()
            self.feeds[graph_id] = feed
            feed._set_state("live")
            feed.task = asyncio.get_running_loop().create_task(self._run(feed, fetch_batch))
        else:
            feed._set_state("stopped")
            await _quietly(feed.sub.unsubscribe())
        return feed

    async def stop_all(self) -> None:
        """Cancel every live feed's task and wait for them (:meth:`Connection.close
        <alchemist.cim.connection.Connection.close>` calls it).

        Returns
        -------
        None
        """
        tasks = [f.task for f in self.feeds.values() if f.task is not None]
        for feed in self.feeds.values():
            feed.task = None
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    # ------------------------------------------------------------------ catching up, resuming
    async def _catch_up(self, feed: GraphFeed, progress, fetch_batch: int, idle_timeout: float,
                        stop_after: int | None) -> None:
        """Subscribe and fold until nothing is pending (or past ``stop_after``)."""
        pending = await self._subscribe(feed)
        bar = progress_bar(progress, pending, "consume", "messages")
        try:
            # ask for exactly what is pending: a pull for more than the server has waits its expiry
            while True:
                stop = False
                while pending > 0:
                    batch = min(fetch_batch, pending)
                    if stop_after is not None:  # no more than can lie at or before it
                        batch = min(batch, stop_after - (feed.fold.last_sequence or 0))
                        if batch <= 0:
                            return
                    msgs = await self._fetch_feed(feed, batch, idle_timeout)
                    if not msgs:
                        break
                    stop = await self._apply(feed, msgs, stop_after)
                    if bar is not None:
                        bar(len(msgs))
                    pending = pending_of(msgs[-1].reply)
                    if stop or feed.gap:
                        break
                if stop:
                    return
                info = await feed.sub.consumer_info()
                if not feed.gap and info.delivered.consumer_seq <= feed.cseq:
                    return
                pending = await self._resubscribe(feed)  # messages were dropped on the way: fetch them again
        finally:
            if bar is not None:
                bar(None)

    async def _resume(self, graph_id: str, info, start, fetch_batch: int, idle_timeout: float, accept,
                      causal: bool, chain_wait: float) -> GraphFold:
        """Rebuild the state an existing durable consumer acknowledged.

        The server keeps the durable's acknowledgement floor (the last stream sequence it
        acknowledged) and, in its metadata, where it was created to start. The graph is the latest
        snapshot (for a durable that reads the whole history; none for a partial one) plus the
        events after it up to the floor, read again without acknowledgement; the durable is then
        recreated right after the floor (or after the snapshot when that is later).
        """
        floor = int(info.ack_floor.stream_seq or 0) if info.ack_floor is not None else 0
        partial = start is not None
        fold = None if partial else await snapshot_fold(self.connection, graph_id, chain_wait)
        if fold is None:
            fold = new_fold(graph_id, partial=partial, accept=accept, causal=causal, chain_wait=chain_wait)
        snapshot_at = fold.last_sequence or 0
        if floor > snapshot_at:
            feed = GraphFeed(self, fold, judge=not partial)
            feed.subject = info.config.filter_subject
            feed.config = consumer_config(feed.subject, None, ("seq", snapshot_at + 1) if snapshot_at else start)
            await self._catch_up(feed, False, fetch_batch, idle_timeout, floor)
            await _quietly(feed.sub.unsubscribe())
        fold.last_sequence = max(floor, fold.last_sequence or 0) or None
        log("cim.resume", graph=graph_id, durable=info.name, acknowledged=floor, snapshot=snapshot_at,
            start=(fold.last_sequence or 0) + 1)
        return fold

    # ------------------------------------------------------------------ subscriptions
    async def _subscribe(self, feed: GraphFeed) -> int:
        """(Re)create the feed's pull subscription; returns the messages pending for it."""
        from nats.errors import TimeoutError as NatsTimeoutError
        from nats.js.errors import NotFoundError, ServiceUnavailableError

        if feed.durable:
            try:
                await self.js.delete_consumer(self.stream, feed.durable)
            except NotFoundError:
                pass
        loop = asyncio.get_running_loop()
        deadline = loop.time() + ELECTION_WAIT
        while True:
            try:
                feed.sub = await self.js.pull_subscribe(feed.subject, durable=feed.durable, stream=self.stream,
                                                        config=feed.config, pending_bytes_limit=self.pending_bytes)
                feed.cseq, feed.gap = 0, False
                return (await feed.sub.consumer_info()).num_pending
            except (NatsTimeoutError, ServiceUnavailableError) as exc:
                # a cluster electing a stream or consumer leader (a server just died) answers nothing
                # or 503 for a few seconds: try again until ELECTION_WAIT, then raise what it said
                if feed.sub is not None:
                    await _quietly(feed.sub.unsubscribe())
                    feed.sub = None
                if loop.time() >= deadline:
                    raise
                log("cim.consumer_retry", graph=feed.fold.graph_id, error=type(exc).__name__)
                await asyncio.sleep(0.5)

    async def _resubscribe(self, feed: GraphFeed) -> int:
        """Start the feed again right after the last stream sequence it applied (the messages a
        slow client dropped are delivered again; ids already applied are skipped)."""
        log("cim.resubscribe", graph=feed.fold.graph_id, after=feed.fold.last_sequence)
        if feed.sub is not None:
            await _quietly(feed.sub.unsubscribe())
        if feed.fold.last_sequence:
            set_start(feed.config, ("seq", feed.fold.last_sequence + 1))
        return await self._subscribe(feed)

    async def _fetch_feed(self, feed: GraphFeed, batch: int, timeout: float):
        """Fetch at most ``batch`` messages and about ``fetch_bytes`` bytes (one message until a
        size is known); keep only the ones whose consumer sequence continues the feed's (a gap
        means the client dropped messages: ``feed.gap`` is set and the caller resubscribes)."""
        batch = max(1, min(batch, self.fetch_bytes // feed.message_bytes if feed.message_bytes else 1))
        msgs = await fetch(feed.sub, batch, timeout)
        if not msgs:
            return msgs
        feed.message_bytes = max(feed.message_bytes, max(len(m.data) for m in msgs), 1)
        for k, m in enumerate(msgs):
            cseq = consumer_sequence(m.reply)
            if cseq != feed.cseq + 1:
                feed.gap = True
                return msgs[:k]
            feed.cseq = cseq
        return msgs

    # ------------------------------------------------------------------ following
    async def _run(self, feed: GraphFeed, fetch_batch: int) -> None:
        """A live feed's task: follow the stream; after an error, say so and restart from the last
        applied sequence (backoff doubling up to ``restart_backoff_max``); ``"failed"`` after
        ``max_restarts`` restarts in a row that applied nothing."""
        from nats.errors import ConnectionClosedError

        failures = 0
        try:
            while True:
                mark = feed.fold.last_sequence
                try:
                    if feed.state == "restarting":
                        await self._resubscribe(feed)
                        feed.restarts += 1
                        feed._set_state("live")
                        log("cim.feed_restarted", graph=feed.fold.graph_id, after=feed.fold.last_sequence,
                            restarts=feed.restarts)
                    await self._follow(feed, fetch_batch)
                except (asyncio.CancelledError, ConnectionClosedError):
                    raise
                except Exception as exc:
                    failures = 1 if feed.fold.last_sequence != mark else failures + 1
                    if failures > self.max_restarts:
                        feed._set_state("failed", exc)
                        log("cim.feed_failed", logging.ERROR, graph=feed.fold.graph_id,
                            error=f"{exc.__class__.__name__}: {exc}", after=feed.fold.last_sequence,
                            restarts=feed.restarts)
                        await _quietly(feed.sub.unsubscribe())
                        return
                    delay = min(self.restart_backoff_max, self.restart_backoff * 2 ** (failures - 1))
                    feed._set_state("restarting", exc)
                    log("cim.feed_restarting", logging.WARNING, graph=feed.fold.graph_id,
                        error=f"{exc.__class__.__name__}: {exc}", after=feed.fold.last_sequence, delay=delay)
                    await asyncio.sleep(delay)
        except (asyncio.CancelledError, ConnectionClosedError):
            if feed.state != "failed":
                feed._set_state("stopped")
            if feed.sub is not None:
                await _quietly(feed.sub.unsubscribe())

    async def _follow(self, feed: GraphFeed, fetch_batch: int) -> None:
        """Fetch and apply until cancelled; errors of :meth:`_apply` propagate to :meth:`_run`."""
        from nats.errors import ConnectionClosedError

        errors = 0
        while True:
            try:
                if feed.gap:
                    await self._resubscribe(feed)
                # wait for the next message, then take what is pending behind it at once
                msgs = await self._fetch_feed(feed, 1, 5.0)
                while msgs and not feed.gap and pending_of(msgs[-1].reply) and len(msgs) < fetch_batch:
                    more = await self._fetch_feed(feed, min(fetch_batch - len(msgs), pending_of(msgs[-1].reply)), 1.0)
                    if not more:
                        break
                    msgs.extend(more)
            except (ConnectionClosedError, asyncio.CancelledError):
                raise
            except Exception as exc:  # the client is reconnecting: keep following, a while
                errors += 1
                log("cim.follow_error", graph=feed.fold.graph_id, error=exc.__class__.__name__, count=errors)
                if errors >= self.follow_errors:
                    raise
                await asyncio.sleep(0.5)
                continue
            errors = 0
            if msgs:
                await self._apply(feed, msgs, None)
            else:  # idle: refuse what has waited chain_wait seconds for its predecessor
                await self._expire(feed, None)

    # ------------------------------------------------------------------ applying one fetch
    async def _resolve_imports(self, events: list[Event]) -> dict:
        """Arrow tables of the ``graph_imported`` events' objects (or the error reading each)."""
        out: dict = {}
        objects = self.connection.objects
        for event in events:
            if event.event_type != "graph_imported":
                continue
            key = event.payload.get("object_cid")
            try:
                data = await objects.get_async(key)
                import pyarrow as pa

                out[key] = pa.ipc.open_stream(data).read_all()
            except Exception as exc:  # dead-lettered with this reason
                out[key] = exc
        return out

    async def _apply(self, feed: GraphFeed, msgs, stop_after: int | None) -> bool:
        """Decode, verify, fold and acknowledge one fetch; dead-letter what fails. True when a
        time-travel consumer has passed ``stop_after``.

        Raises
        ------
        DeadLetterError
            A dead letter could not be stored: the fetch is acknowledged only up to the message
            before it, and ``last_sequence`` set there (so a restart judges it again).
        """
        fold, graph_id = feed.fold, feed.fold.graph_id
        stop = False
        sequences = [stream_sequence(m.reply) for m in msgs]  # nats-py's m.metadata costs ~25 µs a message
        ack_msg = msgs[-1]
        if stop_after is not None and sequences[-1] > stop_after:
            keep = [k for k, q in enumerate(sequences) if q <= stop_after]
            msgs, sequences = [msgs[k] for k in keep], [sequences[k] for k in keep]
            stop = True
        batch = [(m.data, m.headers, q) for m, q in zip(msgs, sequences)]
        pending = pending_of(ack_msg.reply)
        collecting = gc.isenabled()
        gc.disable()  # decoding creates many young objects that all survive: collections are pure cost
        try:
            events, rejected = decode_each(batch)
            imports = await self._resolve_imports(events) if any(
                e.event_type == "graph_imported" for e in events) else None
            METRICS.received.labels(graph_id).inc(len(events))
            with feed.lock:
                applied_before = fold.applied
                refused = fold_each(fold, events, pending == 0 or stop, imports)
                if sequences:
                    fold.last_sequence = max(fold.last_sequence or 0, sequences[-1])
                feed._changed.notify_all()
        finally:
            if collecting:
                gc.enable()
        METRICS.applied.labels(graph_id).inc(max(0, fold.applied - applied_before))
        failed = await self._dead_letter(feed, list(rejected) + judged(feed, refused), batch)
        if failed is not None:
            with feed.lock:
                fold.last_sequence = failed - 1
            before = [m for m, q in zip(msgs, sequences) if q < failed]
            if before:
                await _quietly(before[-1].ack())
            raise _failed_error(feed, failed)
        await _quietly(ack_msg.ack())  # every message up to it is applied or dead-lettered
        METRICS.consumer_lag.labels(graph_id).set(pending)
        return stop

    async def _expire(self, feed: GraphFeed, max_age: float | None) -> None:
        """Dead-letter (or, in a partial read, skip) the events that waited ``max_age`` seconds
        for their predecessor (``chain_wait`` when None)."""
        if not feed.fold.parked:
            return
        with feed.lock:
            refused = feed.fold.expire_parked(max_age)
        failed = await self._dead_letter(feed, judged(feed, refused), [])
        if failed is not None:
            raise _failed_error(feed, failed)

    async def _dead_letter(self, feed: GraphFeed, letters, batch) -> int | None:
        """Record and store the dead letters of one fetch; the first stream sequence whose dead
        letter could not be stored, or None."""
        if not letters:
            return None
        data_of = {s: d for d, _h, s in batch}
        sends = []
        for seq, event, exc in letters:
            feed.fold.reject(seq, event, exc)
            data = data_of.get(seq, b"")
            if event is not None:
                try:
                    data = encode_event(event)
                except Exception:  # keep the original message
                    pass
            sends.append(self.dead_letters.send(data, exc, graph_id=feed.fold.graph_id, sequence=seq,
                                                event_id=None if event is None else event.event_id,
                                                stream=self.stream))
        results = await asyncio.gather(*sends, return_exceptions=True)
        failed = None
        for (seq, _event, _exc), result in zip(letters, results):
            if isinstance(result, BaseException):
                if not isinstance(result, DeadLetterError):
                    log("cim.dead_letter_failed", logging.ERROR, graph=feed.fold.graph_id, sequence=seq,
                        error=f"{result.__class__.__name__}: {result}")
                failed = seq if failed is None else min(failed, seq)
                feed.error = result
                continue
            feed.dead_lettered += 1
            self.dead_lettered += 1
        return failed


def _last_of(msg) -> Event | None:
    """The last event of a stored message, with the message's sequence; None when it cannot be decoded."""
    import msgspec

    try:
        events = decode_message(msg.data, dict(msg.headers or {}), sequence=msg.seq, verify=False)
    except Exception:
        return None
    return msgspec.structs.replace(events[-1], sequence=msg.seq) if events else None


def _failed_error(feed: GraphFeed, sequence: int) -> DeadLetterError:
    error = feed.error
    if isinstance(error, DeadLetterError):
        return error
    return DeadLetterError(f"the dead letter of stream sequence {sequence} of graph {feed.fold.graph_id!r} could "
                           f"not be stored in {feed.consumer.dead_letters.stream} ({error!r}); the next read "
                           f"judges it again")


async def _quietly(awaitable) -> None:
    """Await, logging instead of raising (unsubscribes and acks on a closing connection)."""
    try:
        await awaitable
    except Exception as exc:
        log("cim.ignored_error", logging.DEBUG, error=f"{exc.__class__.__name__}: {exc}")


