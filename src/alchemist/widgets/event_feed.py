"""EventFeed: live CIM events — rate, consumer lag, counts by type, the last events, dead letters.

Events arrive at any rate (from an :class:`~alchemist.widgets.live.EventStream` or
:meth:`EventFeed.push`); the widget folds them into counters in Python and sends its state to the
browser at most once per ``interval`` seconds, in one message, so a stream of 100K events/s costs
the browser a handful of messages per second and never trips Jupyter's iopub rate limit.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from typing import Any, Callable, Iterable

import traitlets as t

from alchemist.widgets._base import AlchemistWidget, asset, escape

__all__ = ["EventFeed"]


class EventFeed(AlchemistWidget):
    """A live panel of CIM events.

    Parameters
    ----------
    source : Connection-like or EventStream, optional
        Follow a graph's events (``graph_id`` required with a connection); or call :meth:`push`.
    graph_id : str, optional
    interval : float
        Seconds between updates sent to the browser.
    max_rows : int
        How many of the last events are listed.
    dead_letters : callable, optional
        ``dead_letters() -> int``, the dead-letter count to show; by default the connection's
        ``dead_letter_count()`` when it has one.
    deliver : {"all", "new"}
        Where a followed stream starts.

    Attributes (synced traits)
    --------------------------
    total : int — events seen. rate : float — events/s over the last interval.
    lag : int — messages stored on the stream but not yet delivered to this consumer.
    counts : dict — events by ``event_type``. last_events : list of dict — newest first, one row per
    event: ``time`` (its RFC 3339 timestamp), ``date`` (``YYYY-MM-DD HH:MM:SS``, UTC), ``type``,
    ``summary``, ``id`` (event id), ``seq`` (stream sequence of the message that carried it; a batch
    message carries many events) and ``index`` (its place in that message).
    dead_letters : int. rejected : int — undecodable messages.
    paused : bool — while True the display is frozen (events are still counted); resuming shows
    the caught-up state.
    """

    _esm = asset("dom.js", "event_feed.js")

    total = t.Int(0).tag(sync=True)
    rate = t.Float(0.0).tag(sync=True)
    lag = t.Int(0).tag(sync=True)
    counts = t.Dict().tag(sync=True)
    last_events = t.List(t.Dict()).tag(sync=True)
    dead_letters = t.Int(0).tag(sync=True)
    rejected = t.Int(0).tag(sync=True)
    paused = t.Bool(False).tag(sync=True)
    title = t.Unicode("CIM events").tag(sync=True)
    updates = t.Int(0).tag(sync=True)

    def __init__(self, source=None, graph_id: str | None = None, *, interval: float = 0.5, max_rows: int = 20,
                 dead_letters: Callable[[], int] | None = None, deliver: str = "all", title: str = "CIM events"):
        super().__init__(title=title)
        self.interval = float(interval)
        self._lock = threading.Lock()
        self._total = self._rejected = self._lag = 0
        self._counts: Counter = Counter()
        self._last: deque = deque(maxlen=int(max_rows))
        self._window_start, self._window_count = time.monotonic(), 0
        self._dead_letters = dead_letters
        self._stream = None
        self._unsubscribe = None
        self._stop = threading.Event()
        self._dirty = False
        self.observe(lambda change: self.flush(), names="paused")
        if source is not None:
            self.follow(source, graph_id, deliver=deliver)
        self._timer = threading.Thread(target=self._tick, name="alchemist-event-feed", daemon=True)
        self._timer.start()

    # ------------------------------------------------------------------ public API
    def push(self, events: Iterable, *, lag: int | None = None, rejected: int = 0, sequence: int | None = None) -> None:
        """Count events (thread-safe, cheap: nothing is sent to the browser here); ``sequence`` is
        the stream sequence of the message that carried them, ``lag`` the consumer lag after it."""
        with self._lock:
            for index, event in enumerate(events):
                self._total += 1
                self._window_count += 1
                self._counts[event.event_type] += 1
                self._last.append(_row(event, sequence, index))
            self._rejected += rejected
            if lag is not None:
                self._lag = int(lag)
            self._dirty = True

    def follow(self, source, graph_id: str | None = None, *, deliver: str = "all") -> "EventFeed":
        """Follow a graph's events.

        Parameters
        ----------
        source : Connection or EventStream
            A CIM connection (the feed opens and owns an ``EventStream``) or an existing stream.
        graph_id : str, optional
            The graph to follow (required with a connection).
        deliver : {"all", "new"}
            With a connection: replay the stream from its start, or only new events.

        Returns
        -------
        EventFeed
            ``self``, following (a previous subscription is dropped).

        Raises
        ------
        WidgetError
            If ``source`` is a connection and ``graph_id`` is missing.
        """
        from alchemist.errors import WidgetError
        from alchemist.widgets.live import EventStream

        self.unfollow()
        if isinstance(source, EventStream):
            stream, own = source, False
        else:
            if graph_id is None:
                raise WidgetError("EventFeed.follow(connection) needs graph_id= (the graph to follow)")
            stream, own = EventStream(source, graph_id, deliver=deliver), True
            if self._dead_letters is None and callable(getattr(source, "dead_letter_count", None)):
                self._dead_letters = source.dead_letter_count
        self._stream, self._own_stream = stream, own
        self._unsubscribe = stream.subscribe(
            lambda events, info: self.push(events, lag=info.get("lag"), rejected=1 if "error" in info else 0,
                                           sequence=info.get("sequence")))
        return self

    def unfollow(self) -> None:
        """Stop following (closing the stream when the feed opened it); a no-op when not following."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._stream is not None and getattr(self, "_own_stream", False):
            self._stream.close()
        self._stream = None

    def flush(self) -> None:
        """Send the current counters (totals, rate, lag, per-type counts, last events, dead letters) to
        the browser now, unless the feed is paused.
        """
        now = time.monotonic()
        with self._lock:
            elapsed = now - self._window_start
            if elapsed > 0:
                self._rate = self._window_count / elapsed
            self._window_start, self._window_count = now, 0
            state = {
                "total": self._total, "rate": round(getattr(self, "_rate", 0.0), 1), "lag": self._lag,
                "counts": dict(self._counts), "last_events": list(reversed(self._last)), "rejected": self._rejected,
            }
            self._dirty = False
        if self._dead_letters is not None:
            try:
                state["dead_letters"] = int(self._dead_letters())
            except Exception:
                pass
        if self.paused:
            return
        with self.hold_sync():
            for name, value in state.items():
                setattr(self, name, value)
            self.updates += 1

    def close(self) -> None:
        """Stop the refresh thread, stop following and close the widget."""
        self._stop.set()
        self.unfollow()
        super().close()

    def static_html(self) -> str:
        """HTML shown where no widget manager runs (nbconvert, papermill reports).

        Returns
        -------
        str
            The totals, the counts by event type and the last five events, with every user-given text escaped.
        """
        rows = "".join(f"<tr><th>{escape(k)}</th><td>{v:,}</td></tr>" for k, v in sorted(self.counts.items()))
        last = "".join(f"<div>{escape(e.get('date', ''))} {escape(e.get('type'))} {escape(e.get('summary'))}</div>"
                       for e in self.last_events[:5])
        return (f"<b>{escape(self.title)}</b>: {self.total:,} events · {self.rate:,.0f}/s · lag {self.lag:,} · "
                f"dead letters {self.dead_letters:,}<table>{rows}</table>{last}")

    # ------------------------------------------------------------------ internals
    def _tick(self) -> None:
        while not self._stop.wait(self.interval):
            if self._dirty or self._window_count == 0 and self.rate:
                self.flush()


def _row(event, sequence: int | None = None, index: int = 0) -> dict[str, Any]:
    payload = event.payload if isinstance(event.payload, dict) else {}
    if "source" in payload and "target" in payload:
        summary = f"{payload['source']} → {payload['target']}"
    else:
        summary = str(payload.get("node_id") or payload.get("edge_id") or payload.get("name") or "")
    return {"seq": event.sequence if event.sequence is not None else sequence, "index": int(index),
            "id": str(getattr(event, "event_id", "") or ""), "type": event.event_type,
            "aggregate": event.aggregate_id, "time": str(event.timestamp), "date": _date(event.timestamp),
            "summary": summary[:160]}


def _date(timestamp) -> str:
    """``YYYY-MM-DD HH:MM:SS`` (UTC) of an RFC 3339 string or Unix seconds; the text itself when it is neither."""
    from datetime import datetime, timezone

    try:
        if isinstance(timestamp, (int, float)):
            value = datetime.fromtimestamp(float(timestamp), tz=timezone.utc)
        else:
            from alchemist.events import parse_rfc3339

            value = parse_rfc3339(str(timestamp))
            if not hasattr(value, "astimezone"):
                value = datetime.fromtimestamp(float(value), tz=timezone.utc)
        return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    except (ValueError, TypeError, OverflowError):
        return str(timestamp)
