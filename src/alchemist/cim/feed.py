"""A graph feed: the subscription that folds one graph's events and, for a live graph, follows them.

:class:`GraphFeed` holds the fold (the graph), the lock that guards it, and what its
:class:`~alchemist.cim.consumer.Consumer` task is doing (:data:`FEED_STATES`), with the error
that last stopped it.
"""

from __future__ import annotations

import asyncio
import threading
import time

from alchemist.cim.fold import GraphFold

__all__ = ["GraphFeed", "FEED_STATES"]

FEED_STATES = ("catching up", "live", "restarting", "stopped", "failed")
"""What a :class:`GraphFeed` can be doing: reading up to the end of the stream, following it,
waiting to restart after an error, stopped (by :meth:`GraphFeed.stop`, the connection closing, or
because it was a one-off read), or failed (too many restarts without progress)."""


class GraphFeed:
    """The subscription that folds one graph's events, and for a live graph keeps following them.

    Attributes
    ----------
    graph : Graph
    lock : threading.Lock
        Held while events are applied; hold it to read a consistent state.
    state : str
        One of :data:`FEED_STATES`.
    error : Exception or None
        The last error that made the feed restart or fail (None while it never failed).
    restarts : int
        Times the feed restarted after an error.
    dead_lettered : int
        Messages and events this feed dead-lettered.
    skipped : list of (sequence, event_id, reason)
        Events a partial read (``from_sequence``/``from_time``) could not apply to its partial
        state: not judged, so not dead-lettered.
    last_sequence : int or None
        Stream sequence of the last message applied.

    Parameters
    ----------
    consumer : Consumer
        The connection's consumer, which runs the feed's task.
    fold : GraphFold
        The fold that applies the events to the graph.
    judge : bool
        Dead-letter what cannot be applied (a read of the whole history); False for a partial
        read, whose refusals go to ``skipped``.

    See Also
    --------
    alchemist.cim.connection.Connection.graph : opens a feed (``connection.feeds[graph_id]``).

    Examples
    --------
    >>> import tempfile
    >>> import alchemist
    >>> tmp = tempfile.mkdtemp()
    >>> connection = alchemist.connect(data_dir=tmp + "/jetstream", outbox=tmp + "/outbox.sqlite")
    >>> _ = connection.append("g", "node_added", {"node_id": "a"})
    >>> graph = connection.graph("g")  # live: followed in the background
    >>> feed = connection.feeds["g"]
    >>> feed.state, feed.last_sequence
    ('live', 1)
    >>> event = connection.append("g", "node_added", {"node_id": "b"})
    >>> feed.wait_for(event.sequence, timeout=10)
    True
    >>> with feed.lock:
    ...     graph.number_of_nodes()
    2
    >>> feed.stop()
    >>> feed.state
    'stopped'
    >>> connection.close()
    """

    def __init__(self, consumer, fold: GraphFold, *, judge: bool = True):
        self.consumer = consumer
        self.fold = fold
        self.judge = judge
        self.lock = threading.Lock()
        self.task: asyncio.Task | None = None
        self.sub = None
        self.subject, self.config, self.durable = "", None, None
        self.cseq = 0  # consumer sequence of the last message taken
        self.gap = False
        self.message_bytes = 0  # largest message seen (0: none yet)
        self.dead_lettered = 0
        self.skipped: list[tuple[int | None, str | None, str]] = []
        self.state = "catching up"
        self.error: BaseException | None = None
        self.restarts = 0
        self._changed = threading.Condition(self.lock)

    @property
    def graph(self):
        """The graph folded so far (hold :attr:`lock` to read a consistent state)."""
        return self.fold.graph

    @property
    def last_sequence(self) -> int | None:
        """Stream sequence of the last message applied (None before the first)."""
        return self.fold.last_sequence

    def wait_for(self, sequence: int, timeout: float = 10.0) -> bool:
        """Block until the graph has applied stream sequence ``sequence``.

        Parameters
        ----------
        sequence : int
        timeout : float
            Seconds.

        Returns
        -------
        bool
            False on timeout, or at once when the feed is stopped or failed before that (it
            does not raise: ``feed.error`` says why a feed failed).
        """
        deadline = time.monotonic() + timeout
        with self._changed:
            while (self.fold.last_sequence or 0) < sequence:
                left = deadline - time.monotonic()
                if left <= 0 or self.state in ("stopped", "failed"):
                    return False
                self._changed.wait(left)
        return True

    def stop(self) -> None:
        """Stop following the stream (the graph keeps its state).

        Cancels the feed's task on the connection's loop (from any thread); no round trip is
        waited for.

        Returns
        -------
        None
        """
        task, self.task = self.task, None
        self._set_state("stopped")
        if task is not None and not self.consumer.loop.loop.is_closed():
            self.consumer.loop.loop.call_soon_threadsafe(task.cancel)

    def _set_state(self, state: str, error: BaseException | None = None) -> None:
        with self._changed:
            self.state = state
            if error is not None:
                self.error = error
            self._changed.notify_all()

    def __repr__(self) -> str:
        why = "" if self.error is None or self.state == "live" else (
            f" after {self.error.__class__.__name__}: {str(self.error)[:200]}")
        return f"<GraphFeed {self.fold.graph_id!r} {self.state}{why}, last sequence {self.fold.last_sequence}>"
