"""The reading methods of :class:`~alchemist.cim.Connection` (a mixin).

Each delegates to the connection's :class:`~alchemist.cim.consumer.Consumer`: a graph folded from
its events (optionally kept live, resumed by a durable consumer, started from a snapshot), the
graph as it was at a sequence or time, a graph's events in stream order, its last event.
"""

from __future__ import annotations

from alchemist.cim.consumer import to_seconds
from alchemist.events import Event, parse_rfc3339
from alchemist.graph.event_frames import event_filter, type_set

__all__ = ["ReadingMixin", "start_fold", "type_set"]


class ReadingMixin:
    """Graphs and events read from the stream (mixed into ``Connection``)."""

    def graph(self, graph_id: str, *, live: bool = True, from_sequence: int | None = None, from_time=None,
              snapshot: bool = False, durable: str | None = None, progress: bool = False,
              fetch_batch: int = 1000, idle_timeout: float = 2.0, base=None, event_types=None):
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
        base : Graph, optional
            Replay from a sequence on top of the state before it: ``base`` is this graph read up
            to its ``last_sequence`` (:meth:`graph_at`, an earlier read, a snapshot's graph); a
            copy of it is continued from the next stream sequence, its ``last_cid`` the chain's
            head, so the events from there on are judged as in a whole read (a valid event is
            applied, never dead-lettered as of unknown predecessor) and the result is the graph a
            whole read gives. ``from_sequence``, if given, must not lie after
            ``base.last_sequence + 1``.
        event_types : str or list of str, optional
            Fold only events of these types (the chain still runs through every event). The
            graph is lenient (an edge brings its missing ends as bare nodes) and what it refuses
            is listed in ``graph.skipped``, not dead-lettered: a filtered read cannot judge.

        Returns
        -------
        Graph
            With ``graph.rejected``: ``(sequence, event_id, reason)`` of what was dead-lettered,
            and ``graph.skipped`` (partial and filtered reads).

        Raises
        ------
        CIMError
            ``durable`` names a consumer of another graph or one alchemist did not create.
        ValueError
            ``base`` is of another graph, has no stream sequence or comes with ``durable``,
            ``snapshot`` or ``from_time``, or ``from_sequence`` lies after the sequence after
            ``base``; ``event_types`` with ``snapshot`` or ``durable``, or not names.
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
        fold, judge = start_fold(graph_id, base, event_types, from_sequence=from_sequence, from_time=from_time,
                                 snapshot=snapshot, durable=durable,
                                 chain_wait=self.consumer.chain_wait if live else 0.0)
        feed = self.run(self.consumer.open_feed(graph_id, live=live, from_sequence=from_sequence, from_time=from_time,
                                                snapshot=snapshot, durable=durable, progress=progress,
                                                fetch_batch=fetch_batch, idle_timeout=idle_timeout, fold=fold,
                                                judge=judge))
        return feed.graph

    async def graph_async(self, graph_id: str, *, live: bool = True, from_sequence: int | None = None,
                          from_time=None, snapshot: bool = False, durable: str | None = None,
                          fetch_batch: int = 1000, idle_timeout: float = 2.0, base=None, event_types=None):
        """:meth:`graph` for async code (from any event loop).

        Parameters
        ----------
        graph_id : str
        live, from_sequence, from_time, snapshot, durable, fetch_batch, idle_timeout, base, event_types
            As :meth:`graph` (no progress bar).

        Returns
        -------
        Graph

        Raises
        ------
        CIMError, ValueError, DeadLetterError
            As :meth:`graph`.
        """
        fold, judge = start_fold(graph_id, base, event_types, from_sequence=from_sequence, from_time=from_time,
                                 snapshot=snapshot, durable=durable,
                                 chain_wait=self.consumer.chain_wait if live else 0.0)
        feed = await self.run_async(self.consumer.open_feed(
            graph_id, live=live, from_sequence=from_sequence, from_time=from_time, snapshot=snapshot,
            durable=durable, progress=False, fetch_batch=fetch_batch, idle_timeout=idle_timeout, fold=fold,
            judge=judge))
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

    def events(self, graph_id: str, *, from_sequence: int | None = None, event_types=None, since=None,
               until=None, types=None, correlation=None) -> list[Event]:
        """A graph's events in stream order (each with its ``sequence``), once each, verified;
        what cannot be decoded or verified is left out (and dead-lettered).

        Parameters
        ----------
        graph_id : str
        from_sequence : int, optional
            Only the events stored at or after this stream sequence.
        event_types : str or list of str, optional
            Only events of these types.
        since, until : str, float or datetime, optional
            Only events whose own ``timestamp`` is at or after ``since``, at or before ``until``
            (RFC 3339, Unix seconds, or a datetime, naive = UTC). The event's time, not the time
            it was stored: a replayed history keeps its dates.
        types : str or list of str, optional
            ``event_types`` under its shorter name (give one of them).
        correlation : str or list of str, optional
            Only events with one of these correlation ids (a conversation: a command and what it
            caused; see :func:`alchemist.cim.provenance.correlation_tree`).

        Returns
        -------
        list of Event
            The events of an ``events_batch`` message each on their own, with the batch's
            sequence.

        Raises
        ------
        DeadLetterError
            A dead letter could not be stored.
        ValueError
            ``event_types`` holds something other than event type names, ``correlation``
            something other than ids, or both ``event_types`` and ``types`` are given.

        See Also
        --------
        events_frame : the same events as a polars frame, in bounded memory.

        Notes
        -----
        Cost: as a read of :meth:`graph` (one consumer, one pull per 1,000 messages), without
        folding: the events are not checked against the graph nor their chain. The filters
        are applied in the client, so every message of the graph is read (a batch message holds
        events of several types).

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
        >>> [e.payload["edge_id"] for e in connection.events("g", event_types=["edge_added"])]
        ['e0', 'e1', 'e2']
        >>> connection.close()
        """
        collected: list[Event] = []
        wanted = event_filter(event_types=event_types, types=types, since=since, until=until, correlation=correlation)
        self.scan_events(graph_id, collected.append, from_sequence=from_sequence, keep=wanted)
        return collected

    def events_frame(self, graph_id: str, *, from_sequence: int | None = None, event_types=None, types=None,
                     since=None, until=None, correlation=None, columns=None, batch_size: int = 8192):
        """A graph's events as a polars frame, one row each in stream order, read in bounded memory.

        The events stream through a consumer into column chunks of ``batch_size`` rows
        (:class:`~alchemist.graph.event_frames.EventFrameBuilder`): what is alive besides the frame
        is one pull's messages and one batch of events, whatever the stream's length.

        Parameters
        ----------
        graph_id : str
        from_sequence, event_types, types, since, until, correlation
            As :meth:`events`.
        columns : list of str, optional
            Columns to build (:data:`~alchemist.graph.event_frames.EVENT_FRAME_COLUMNS` by default).
        batch_size : int
            Events converted to columns at a time.

        Returns
        -------
        polars.DataFrame
            ``sequence, time, type, aggregate, event_id, correlation, causation, cid, previous_cid,
            actor, payload`` (dtypes: :func:`~alchemist.graph.event_frames.event_frame_schema`).

        Raises
        ------
        ValueError
            As :meth:`events`, or an unknown column.
        DeadLetterError
            A dead letter could not be stored.

        Notes
        -----
        Cost: as :meth:`events`. Memory: the frame (about 0.5 KB resident an event of a replayed
        edge list, against 1.4 KB for the list :meth:`events` returns) plus what the read holds at
        a time (one pull's messages and events, one batch; about 110 MB whatever the stream's
        length). Measured on sx-mathoverflow (531,369 events): the peak is 391 MB over the
        process's baseline (81 MB of it the consumer's alone) for a frame of 167 MB
        ``estimated_size``, 343 MB without ``payload``, and 751 MB for :meth:`events`
        (``python -m benchmarks.bench_event_frames --full``).

        Examples
        --------
        >>> import pathlib, tempfile
        >>> import alchemist
        >>> tmp = tempfile.mkdtemp()
        >>> path = pathlib.Path(tmp, "g.txt")
        >>> _ = path.write_text("1 2\\n2 3\\n")
        >>> connection = alchemist.connect(data_dir=tmp + "/jetstream", outbox=tmp + "/outbox.sqlite")
        >>> _ = connection.replay(path)
        >>> frame = connection.events_frame("g", types="edge_added")
        >>> frame.select("sequence", "type", "aggregate").rows()  # one events_batch message
        [(1, 'edge_added', 'g'), (1, 'edge_added', 'g')]
        >>> frame["payload"][0]
        '{"edge_id":"e0","source":"1","target":"2","weight":1.0}'
        >>> connection.close()
        """
        from alchemist.graph.event_frames import EventFrameBuilder

        builder = EventFrameBuilder(columns=columns, batch_size=batch_size)
        wanted = event_filter(event_types=event_types, types=types, since=since, until=until, correlation=correlation)
        self.scan_events(graph_id, builder.add, from_sequence=from_sequence, keep=wanted)
        return builder.frame()

    def scan_events(self, graph_id: str, visit, *, from_sequence: int | None = None, keep=None) -> int:
        """Hand each of a graph's events, in stream order, to ``visit``; keep none of them.

        The building block of :meth:`events`, :meth:`events_frame` and
        :func:`~alchemist.cim.provenance.provenance`: one consumer reads the graph's messages,
        decodes and verifies them (what fails is dead-lettered) and calls ``visit(event)`` for each
        event ``keep`` accepts; memory is one pull's messages.

        Parameters
        ----------
        graph_id : str
        visit : callable
            ``visit(event)``; its return value is ignored.
        from_sequence : int, optional
            From this stream sequence on.
        keep : callable, optional
            ``keep(event) -> bool`` (e.g. :func:`~alchemist.graph.event_frames.event_filter`).

        Returns
        -------
        int
            Events visited.

        Raises
        ------
        DeadLetterError
            A dead letter could not be stored.
        """
        visited = 0

        def accept(event: Event) -> bool:
            nonlocal visited
            if keep is None or keep(event):
                visit(event)
                visited += 1
            return False  # nothing is folded

        self.run(self.consumer.open_feed(graph_id, live=False, from_sequence=from_sequence, from_time=None,
                                         snapshot=False, durable=None, progress=False, fetch_batch=1000,
                                         idle_timeout=2.0, accept=accept, causal=False))
        return visited

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

    def event_feed(self, graphs="*", *, event_types=None, deliver: str = "new", from_sequence: int | None = None,
                   max_pending: int = 1_000_000):
        """Follow the events of every graph (or of some) with one subscription.

        Parameters
        ----------
        graphs : "*", str or list of str
            ``"*"``: every graph on the stream, whichever appears later too.
        event_types : str or list of str, optional
            Only events of these types.
        deliver : {"new", "all"}
            Events stored from now on, or the whole stream first.
        from_sequence : int, optional
            From this stream sequence on (instead of ``deliver``).
        max_pending : int
            Events kept until taken (the oldest are dropped past it).

        Returns
        -------
        EventFeed
            Iterable; ``get(timeout)``, ``take(n, timeout)``, ``close()``; each event's
            ``aggregate_id`` is its graph.

        Raises
        ------
        ValueError
            A bad ``deliver``, ``max_pending`` or ``event_types``.
        CIMError
            The subscription could not be made.

        See Also
        --------
        alchemist.cim.feed.EventFeed : the feed, its cost and an example.
        """
        from alchemist.cim.feed import EventFeed

        return EventFeed(self, graphs, event_types=type_set(event_types), deliver=deliver,
                         from_sequence=from_sequence, max_pending=max_pending)

    def diff(self, graph_id: str, a, b=None, *, edges_by: str = "id"):
        """What changed in a graph between two stream sequences or times (history comparison).

        Parameters
        ----------
        graph_id : str
        a : int, str, float or datetime
            The earlier state: an int is a stream sequence, anything else a time (as
            :meth:`graph_at` takes them).
        b : int, str, float or datetime, optional
            The later state; the graph now (every stored event) when omitted.
        edges_by : {"id", "endpoints"}
            See :func:`alchemist.graph.diff.diff`.

        Returns
        -------
        GraphDiff
            ``before`` and ``after`` say the sequence or time of each side.

        Raises
        ------
        GraphError
            An unknown ``edges_by``.
        DeadLetterError
            As :meth:`graph_at`.

        Notes
        -----
        Cost: two reads of the graph (:meth:`graph_at` for each side, a whole read for the graph
        now) and :func:`~alchemist.graph.diff.diff`, O(n + m).

        Examples
        --------
        >>> import pathlib, tempfile
        >>> import alchemist
        >>> tmp = tempfile.mkdtemp()
        >>> path = pathlib.Path(tmp, "g.txt")
        >>> _ = path.write_text("1 2 100\\n2 3 200\\n3 1 300\\n")
        >>> connection = alchemist.connect(data_dir=tmp + "/jetstream", outbox=tmp + "/outbox.sqlite")
        >>> _ = connection.replay(path, batch=1)  # sequences 1 to 7
        >>> d = connection.diff("g", 4)
        >>> d
        <GraphDiff 'g' sequence 4 → 'g' v7: nodes +1 −0 ~0, edges +2 −0 ~0>
        >>> d.nodes_added["id"].to_list()
        ['3']
        >>> connection.close()
        """
        from alchemist.graph.diff import diff

        sides = []
        for when in (a, b):
            if when is None:
                graph = self.graph(graph_id, live=False)
                info = {}
            elif isinstance(when, int) and not isinstance(when, bool):
                graph, info = self.graph_at(graph_id, sequence=when), {"sequence": when}
            else:
                graph, info = self.graph_at(graph_id, timestamp=when), {"timestamp": str(when)}
            sides.append((graph, info))
        result = diff(sides[0][0], sides[1][0], edges_by=edges_by)
        result.before.update(sides[0][1])
        result.after.update(sides[1][1])
        return result


def start_fold(graph_id: str, base, event_types, *, from_sequence, from_time, snapshot: bool, durable,
               chain_wait: float):
    """The fold a read starts with and whether it judges, for :meth:`ReadingMixin.graph`'s ``base``
    and ``event_types``; ``(None, None)`` when neither is given (the consumer's own choice).

    Parameters
    ----------
    graph_id : str
    base : Graph or None
        The state before the read (see :meth:`ReadingMixin.graph`).
    event_types : None, str or list of str
    from_sequence, from_time, snapshot, durable
        The read's other arguments (checked against these two).
    chain_wait : float
        Seconds an event may wait for its predecessor (a live read's; 0 for one that ends).

    Returns
    -------
    fold : GraphFold or None
    judge : bool or None
        Dead-letter what the graph refuses (a read on top of ``base``), list it in
        ``graph.skipped`` (a filtered read), or the consumer's default (None).

    Raises
    ------
    ValueError
        As :meth:`ReadingMixin.graph`.
    """
    from alchemist.cim.fold import GraphFold
    from alchemist.graph import Graph

    types = type_set(event_types)
    if base is None and types is None:
        return None, None
    if durable or snapshot:
        raise ValueError("base= and event_types= read from the stream: not with durable= or snapshot= (a snapshot's "
                         "graph can itself be the base)")
    if base is None:  # a filtered read: a lenient graph, refusals listed, not dead-lettered
        graph = Graph(graph_id, strict=False)

        def accept(event) -> bool:
            if event.event_type == "graph_created":  # its direction and name, kept off the bulk path
                graph.directed = bool(event.payload.get("directed", graph.directed))
                graph.name = event.payload.get("name") or graph.name
                return False
            return event.event_type in types

        partial = from_sequence is not None or from_time is not None
        return GraphFold(graph_id, graph, accept=accept, mid_stream=partial, chain_wait=chain_wait), False
    accept = None if types is None else (lambda event: event.event_type in types)
    if getattr(base, "graph_id", None) != graph_id:
        raise ValueError(f"base is graph {getattr(base, 'graph_id', None)!r}, not {graph_id!r}")
    last = base.last_sequence
    if last is None:
        raise ValueError("base has no stream sequence (base.last_sequence is None): read it from the stream, e.g. "
                         "connection.graph_at(graph_id, sequence=k - 1)")
    if from_time is not None or (from_sequence is not None and int(from_sequence) > last + 1):
        raise ValueError(f"base holds the graph up to stream sequence {last}; the read goes on from {last + 1} "
                         f"(from_sequence={from_sequence}, from_time={from_time} would leave a gap)")
    graph = base.at(base.version)  # a copy: the caller's graph is left as it is
    graph.last_cid, graph.last_sequence, graph.last_timestamp = base.last_cid, last, base.last_timestamp
    fold = GraphFold(graph_id, graph, applied_ids=getattr(base, "applied_event_ids", ()), accept=accept,
                     chain_wait=chain_wait)
    fold.last_sequence = last
    return fold, types is None
