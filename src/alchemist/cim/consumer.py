"""Consuming a graph's events: fetch, decode, verify, fold, acknowledge, dead-letter, follow.

:class:`Consumer` is the reading side of a :class:`~alchemist.cim.Connection`. It opens a pull
consumer on one graph's subjects, folds what it fetches into a :class:`~alchemist.cim.fold.GraphFold`
(exactly once, in causal order), acknowledges what was applied, dead-letters what cannot be, and,
for a live graph, keeps a :class:`GraphFeed` task following the stream.
"""

from __future__ import annotations

import asyncio
import gc
import threading
import time

from alchemist.cim.fold import GraphFold
from alchemist.cim.observability import METRICS, log, progress_bar
from alchemist.cim.streams import DLQ_PREFIX, GRAPH_STREAM
from alchemist.events import Event, decode_message, decode_messages, encode_event, parse_rfc3339

__all__ = ["Consumer", "GraphFeed", "to_seconds"]



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

    def __init__(self, consumer: "Consumer", fold: GraphFold):
        self.consumer = consumer
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
        task, self.task = self.task, None
        if task is not None and not self.consumer.loop.loop.is_closed():
            self.consumer.loop.loop.call_soon_threadsafe(task.cancel)

    def __repr__(self) -> str:
        state = "live" if self.task is not None else "stopped"
        return f"<GraphFeed {self.fold.graph_id!r} {state}, last sequence {self.fold.last_sequence}>"


class Consumer:
    """The reading side of a connection (runs on the connection's event loop).

    Parameters
    ----------
    connection : Connection
        Its ``js``, ``nc``, ``loop``, ``subjects`` and ``objects`` are used.

    Attributes
    ----------
    fetch_bytes : int
        Bytes asked for per pull request (bulk messages are ~0.4 MB each).
    pending_bytes : int
        Client-side buffer of a pull subscription, in bytes, before it drops messages (which are
        then fetched again).
    """

    fetch_bytes = 32 * 2**20
    pending_bytes = 512 * 2**20

    def __init__(self, connection):
        self.connection = connection
        self.loop = connection.loop
        self.subjects = connection.subjects
        self.dead_lettered = 0
        self.feeds: dict[str, GraphFeed] = {}

    @property
    def js(self):
        return self.connection.js

    async def last_event(self, graph_id: str) -> Event | None:
        """The most recent event stored for a graph (not verified), or None."""
        from nats.js.errors import NotFoundError

        try:
            msg = await self.js.get_last_msg(GRAPH_STREAM, self.subjects.aggregate_filter(graph_id))
        except NotFoundError:
            return None
        events = decode_message(msg.data, dict(msg.headers or {}), sequence=msg.seq, verify=False)
        if not events:
            return None
        import msgspec

        return msgspec.structs.replace(events[-1], sequence=msg.seq)

    async def open_feed(self, graph_id: str, *, live: bool, from_sequence, from_time, snapshot: bool, durable,
                        progress, fetch_batch: int, idle_timeout: float, accept=None, stop_after=None,
                        causal: bool = True) -> GraphFeed:
        """Fold a graph's events until caught up; with ``live``, keep following (see
        :meth:`alchemist.cim.Connection.graph`)."""
        from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

        fold = None
        if snapshot:
            from alchemist.cim.snapshots import load_snapshot_async

            loaded = await load_snapshot_async(self.connection, graph_id)
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
            config.opt_start_time = _dt.datetime.fromtimestamp(to_seconds(from_time), _dt.timezone.utc).isoformat()
        else:
            config.deliver_policy = DeliverPolicy.ALL
        if durable:
            config.durable_name = durable
        feed.subject, feed.config, feed.durable = subject, config, durable
        pending = await self._subscribe(feed)
        bar = progress_bar(progress, pending, "consume", "messages")
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

    async def stop_all(self) -> None:
        """Cancel every live feed's task and wait for them."""
        tasks = [f.task for f in self.feeds.values() if f.task is not None]
        for feed in self.feeds.values():
            feed.task = None
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _subscribe(self, feed: GraphFeed) -> int:
        """(Re)create the feed's pull subscription; returns the messages pending for it."""
        from nats.js.errors import NotFoundError

        if feed.durable:
            try:
                await self.js.delete_consumer(GRAPH_STREAM, feed.durable)
            except NotFoundError:
                pass
        feed.sub = await self.js.pull_subscribe(feed.subject, durable=feed.durable, stream=GRAPH_STREAM,
                                                config=feed.config, pending_bytes_limit=self.pending_bytes)
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
        """Fetch at most ``batch`` messages and about ``fetch_bytes`` bytes; keep only the ones
        whose consumer sequence continues the feed's (a gap means the client dropped messages:
        ``feed.gap`` is set and the caller resubscribes)."""
        batch = max(1, min(batch, self.fetch_bytes // max(feed.message_bytes, 1)))
        msgs = await _fetch(feed.sub, batch, timeout)
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
                    self.loop.loop.create_task(m.term())
        if msgs:
            if sequences[-1] not in poison:
                self.loop.loop.create_task(msgs[-1].ack())
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
        self.loop.loop.create_task(self.connection.nc.publish(subject, data, headers=headers))
        log("cim.dead_lettered", graph=feed.fold.graph_id, sequence=seq, error=reason)


def to_seconds(value) -> float:
    """Unix seconds of a number, a datetime (naive = UTC) or an RFC 3339 string."""
    import datetime as _dt

    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, _dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=_dt.timezone.utc)).timestamp()
    return parse_rfc3339(str(value)).timestamp()


async def _fetch(sub, batch: int, timeout: float):
    from nats.errors import TimeoutError as NatsTimeout

    try:
        return await sub.fetch(batch=batch, timeout=timeout)
    except NatsTimeout:
        return []


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


def _pending(reply: str) -> int:
    return int(_ack_tokens(reply)[8])
