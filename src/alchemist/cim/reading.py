"""The reading methods of :class:`~alchemist.cim.Connection` (a mixin).

Each delegates to the connection's :class:`~alchemist.cim.consumer.Consumer`: a graph folded from
its events (optionally kept live, resumed by a durable consumer, started from a snapshot), the
graph as it was at a sequence or time, a graph's events in stream order, its last event.
"""

from __future__ import annotations

from alchemist.cim.consumer import to_seconds
from alchemist.events import Event, parse_rfc3339

__all__ = ["ReadingMixin"]


class ReadingMixin:
    """Graphs and events read from the stream (mixed into ``Connection``)."""

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
