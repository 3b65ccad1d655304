"""The publishing methods of :class:`~alchemist.cim.Connection` (a mixin).

Each blocks until the :class:`~alchemist.cim.publisher.Publisher` it delegates to is done on the
connection's event loop: one event (optionally under optimistic concurrency), an appended event
chained to the graph's head, streams of events or ready-made batches with acknowledgements, an
edge-list replay or import, and the outbox flushed.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

from alchemist.cim.publisher import PublishResult, fit_batches, message_limit, message_stream
from alchemist.events import Event, encode_event

__all__ = ["PublishingMixin"]


class PublishingMixin:
    """Publishing and appending events, replays and imports, the outbox (mixed into ``Connection``)."""

    def publish(self, event: Event, *, expected_sequence: int | None = None) -> int | None:
        """Publish one event and wait for its acknowledgement.

        The event is stored as it is: its ``previous_cid`` is not set here, and a reader refuses
        (dead-letters) an event whose ``previous_cid`` is not the graph's event before it. To add
        to a graph that has events, use :meth:`append`, which chains and checks the version.

        Parameters
        ----------
        event : Event
        expected_sequence : int, optional
            Optimistic concurrency: the stream sequence of the aggregate's last event as this
            writer saw it (0 for a new aggregate; :meth:`aggregate_sequence` gives it). The event
            is stored only if no other event of the aggregate was stored since.

        Returns
        -------
        int or None
            The event's stream sequence; None when the server is unreachable and the event went
            to the durable outbox (it is sent, in order, when the server is back).

        Raises
        ------
        ConcurrencyError
            ``expected_sequence`` is stale: another writer appended first; nothing was written.
        CIMConnectionError
            With ``expected_sequence``, the server could not be reached (a concurrency check
            cannot wait in the outbox).

        Notes
        -----
        One JetStream publish on ``<prefix>events.<graph>.<event type>`` (DESIGN.md §2) with
        headers ``Nats-Msg-Id`` (the event id: JetStream stores an event once within its
        2-minute duplicate window), ``Cim-Event-Id``, ``Cim-Event-Type``, ``Cim-Aggregate-Id``,
        ``Cim-Correlation-Id``, ``Cim-Causation-Id``, ``Cim-Cid`` and, with
        ``expected_sequence``, ``Nats-Expected-Last-Subject-Sequence`` (with the graph's subject
        filter); one round trip for the acknowledgement. A transient failure is retried
        ``retry_attempts`` times with exponential backoff; when they all fail (or the circuit
        breaker is open) the event goes to the outbox.

        References
        ----------
        .. [1] NATS documentation, "JetStream Model Deep Dive" (message deduplication, optimistic
           concurrency with ``Nats-Expected-Last-Subject-Sequence``),
           https://docs.nats.io/using-nats/developer/develop_jetstream/model_deep_dive

        Examples
        --------
        >>> import tempfile
        >>> import alchemist
        >>> tmp = tempfile.mkdtemp()
        >>> connection = alchemist.connect(data_dir=tmp + "/jetstream", outbox=tmp + "/outbox.sqlite")
        >>> from alchemist.events import new_event
        >>> event = new_event("node_added", "g", {"node_id": "a"})
        >>> connection.publish(event)
        1
        >>> connection.publish(event)  # the same event id: stored once
        1
        >>> late = new_event("node_added", "g", {"node_id": "b"})
        >>> connection.publish(late, expected_sequence=0)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        alchemist.errors.ConcurrencyError: another writer appended to 'g' first: ...
        >>> connection.close()
        """
        return self.run(self.publisher.publish_one(event, expected_sequence))

    async def publish_async(self, event: Event, *, expected_sequence: int | None = None) -> int | None:
        """:meth:`publish` for async code (from any event loop).

        Parameters
        ----------
        event : Event
        expected_sequence : int, optional

        Returns
        -------
        int or None

        Raises
        ------
        ConcurrencyError, CIMConnectionError
            As :meth:`publish`.
        """
        return await self.run_async(self.publisher.publish_one(event, expected_sequence))

    def publish_many(self, events: Iterable[Event], *, batch: int = 1000,
                     progress: bool | Callable[[int], Any] = False, total: int | None = None,
                     window: int = 2048, window_bytes: int | None = None, wait: float | None = None) -> PublishResult:
        """Publish events with acknowledgement, ``batch`` events per JetStream message.

        ``batch=1`` sends one message per event (what a live CIM emits); larger batches wrap
        events in ``events_batch`` messages (de-duplicated by batch id; the events keep their
        ids and CIDs). Publishing is asynchronous with at most ``window`` acknowledgements in
        flight. When the server stops answering, the unacknowledged messages are resent in order
        as soon as it answers again (the circuit breaker's trial), waiting at most ``wait``
        seconds per outage; after that, they and the rest go to the outbox, in order, and
        ``result.queued`` counts their events (``result.complete`` is False).

        Parameters
        ----------
        events : iterable of Event
            Events of one or several aggregates (a batch never mixes aggregates).
        batch : int
            Events per message (≥ 1).
        progress : bool or callable
            Show a tqdm bar, or call ``progress(n_events_done)`` as acknowledgements arrive.
        total : int, optional
            Number of events, for the progress bar.
        window : int
            Maximum messages awaiting their acknowledgement.
        window_bytes : int, optional
            Maximum bytes awaiting their acknowledgement (16 MiB by default).
        wait : float, optional
            Seconds to wait for an absent server per outage (60 by default; 0: queue at once).

        Returns
        -------
        PublishResult

        Raises
        ------
        ValueError
            ``batch`` is smaller than 1.
        MessageTooLargeError
            One event alone is larger than a message may be (the server's ``max_payload``, 1 MiB
            by default): the events before it are stored, it and the ones after it are not. A
            batch closes early rather than grow past that size.

        Notes
        -----
        Cost: one JetStream publish per message (a batch of ``batch`` events, header
        ``Cim-Event-Count``), acknowledged asynchronously: about ``n_events / batch`` messages
        and no round trip waited for per message while the window is open.

        Examples
        --------
        >>> import tempfile
        >>> import alchemist
        >>> tmp = tempfile.mkdtemp()
        >>> connection = alchemist.connect(data_dir=tmp + "/jetstream", outbox=tmp + "/outbox.sqlite")
        >>> from alchemist.events import new_event
        >>> events = [new_event("node_added", "h", {"node_id": str(i)}) for i in range(5)]
        >>> result = connection.publish_many(events, batch=2)
        >>> result.published, result.messages, result.complete
        (5, 3, True)
        >>> connection.close()
        """
        if batch < 1:
            raise ValueError(f"batch={batch}; it must be at least 1")
        records = ((e.aggregate_id, e.event_id, e.event_type, e.cid, e.correlation_id, e.causation_id,
                    encode_event(e)) for e in events)
        messages = message_stream(self.subjects, records, batch, message_limit(self._nc))
        return self.run(self.publisher.publish_stream(messages, progress, total, window, window_bytes=window_bytes,
                                                      wait=wait))

    def publish_records(self, records, graph_id: str, *, batch: int = 1000, progress=False,
                        total: int | None = None, window: int = 2048, window_bytes: int | None = None,
                        wait: float | None = None) -> PublishResult:
        """Publish pre-encoded root events of one graph (``WireEvent`` records from
        :func:`~alchemist.events.wire.edge_list_records`); see :meth:`publish_many`.

        Parameters
        ----------
        records : iterable of WireEvent
        graph_id : str
        batch, progress, total, window, window_bytes, wait
            As :meth:`publish_many`.

        Returns
        -------
        PublishResult

        Raises
        ------
        ValueError
            ``batch`` is smaller than 1.
        MessageTooLargeError
            One event alone is larger than a message may be.
        """
        if batch < 1:
            raise ValueError(f"batch={batch}; it must be at least 1")
        stream = ((graph_id, r.event_id, r.event_type, r.cid, r.event_id, r.event_id, r.data) for r in records)
        messages = message_stream(self.subjects, stream, batch, message_limit(self._nc))
        return self.run(self.publisher.publish_stream(messages, progress, total, window, window_bytes=window_bytes,
                                                      wait=wait))

    def publish_batches(self, batches, graph_id: str, *, progress=False, total: int | None = None,
                        window: int = 2048, window_bytes: int | None = None, wait: float | None = None
                        ) -> PublishResult:
        """Publish ready-made ``events_batch`` messages of one graph: ``(batch_id, data, n_events)``
        (e.g. from :func:`~alchemist.events.wire.edge_list_batches`); see :meth:`publish_many`.

        A message larger than the server's ``max_payload`` is split into smaller batches.

        Parameters
        ----------
        batches : iterable of (str, bytes, int)
        graph_id : str
        progress, total, window, window_bytes, wait
            As :meth:`publish_many`.

        Returns
        -------
        PublishResult

        Raises
        ------
        MessageTooLargeError
            One event alone is larger than a message may be.
        """
        messages = fit_batches(self.subjects, graph_id, batches, message_limit(self._nc))
        return self.run(self.publisher.publish_stream(messages, progress, total, window, window_bytes=window_bytes,
                                                      wait=wait))

    def aggregate_sequence(self, graph_id: str) -> int:
        """Stream sequence of the aggregate's last event (0 when it has none): the version a writer
        passes as ``expected_sequence``.

        One ``$JS.API.STREAM.MSG.GET`` request (the last message on the graph's subjects).

        Parameters
        ----------
        graph_id : str

        Returns
        -------
        int

        Raises
        ------
        CIMError
            The connection is closed.

        Examples
        --------
        >>> import tempfile
        >>> import alchemist
        >>> tmp = tempfile.mkdtemp()
        >>> connection = alchemist.connect(data_dir=tmp + "/jetstream", outbox=tmp + "/outbox.sqlite")
        >>> connection.aggregate_sequence("g")
        0
        >>> _ = connection.append("g", "node_added", {"node_id": "a"})
        >>> connection.aggregate_sequence("g")
        1
        >>> connection.close()
        """
        return self.run(self.consumer.last_sequence(graph_id))

    def append(self, graph_id: str, event_type: str, payload: dict | None = None, *,
               correlation_id: str | None = None, causation_id: str | None = None, attempts: int = 5,
               metadata: dict | None = None) -> Event:
        """Append one event to a graph's chain: its ``previous_cid`` is the CID of the graph's last
        stored event and it is stored only if no other writer appended in between (optimistic
        concurrency on the aggregate's last sequence); on a conflict the chain head is read again
        and the append retried, up to ``attempts`` times.

        This is how code outside a replay adds to a live graph (consumers refuse an event whose
        ``previous_cid`` is not the aggregate's previous event, DESIGN.md §9).

        Parameters
        ----------
        graph_id : str
        event_type : str
            One of :data:`alchemist.events.EVENT_TYPES`.
        payload : dict, optional
        correlation_id, causation_id : str, optional
            For a derived event (e.g. the insight that proposed it); a root event by default.
        attempts : int
            Appends tried before giving up on conflicts.
        metadata : dict, optional
            Recorded in the event (e.g. ``{"actor": "ana"}``, the gateway's audit trail).

        Returns
        -------
        Event
            The stored event, with its ``sequence``.

        Raises
        ------
        ConcurrencyError
            Other writers appended first ``attempts`` times in a row.
        CIMConnectionError
            The server could not be reached (an append cannot wait in the outbox: its chain
            position would be stale).
        InvalidEventError
            The payload does not fit the event type.

        Notes
        -----
        Cost per attempt: two ``$JS.API.STREAM.MSG.GET`` requests (the version, then the chain
        head) and one publish with ``Nats-Expected-Last-Subject-Sequence`` (see :meth:`publish`
        for the headers): three round trips.

        References
        ----------
        .. [1] NATS documentation, "JetStream Model Deep Dive" (optimistic concurrency),
           https://docs.nats.io/using-nats/developer/develop_jetstream/model_deep_dive

        Examples
        --------
        >>> import tempfile
        >>> import alchemist
        >>> tmp = tempfile.mkdtemp()
        >>> connection = alchemist.connect(data_dir=tmp + "/jetstream", outbox=tmp + "/outbox.sqlite")
        >>> first = connection.append("g", "node_added", {"node_id": "a"})
        >>> second = connection.append("g", "node_added", {"node_id": "b"})
        >>> second.sequence, second.previous_cid == first.cid
        (2, True)
        >>> connection.append("g", "node_added", {"label": "no node id"})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        alchemist.errors.InvalidEventError: ...
        >>> connection.close()
        """
        import msgspec

        from alchemist.errors import ConcurrencyError
        from alchemist.events import new_event

        attempts = max(1, attempts)
        for _ in range(attempts):
            # the version first, then the head: a head newer than the version means another writer
            # appended in between (read again); a poison last message leaves the head older, which
            # is right (it is not part of the chain) while the version still guards the append
            version = self.aggregate_sequence(graph_id)
            last = self.last_event(graph_id)
            if last is not None and int(last.sequence or 0) > version:
                continue
            event = new_event(event_type, graph_id, payload or {}, correlation_id=correlation_id,
                              causation_id=causation_id, previous_cid=None if last is None else last.cid,
                              metadata=metadata)
            try:
                sequence = self.publish(event, expected_sequence=version)
            except ConcurrencyError:
                continue
            return msgspec.structs.replace(event, sequence=sequence)
        raise ConcurrencyError(f"other writers appended to {graph_id!r} first {attempts} times in a row; "
                               "retry later or with more attempts=")

    def publish_chain(self, events, *, expected_sequence: int, stored: list | None = None) -> list:
        """Publish a chain of one graph's events in as few messages as fit, each message stored only
        if the graph's last stream sequence is still the one the previous message got.

        The first message expects ``expected_sequence`` (the graph's version when the chain was
        built on its head); each later message expects the sequence of the message before. A
        writer that appends in between makes the next message fail with nothing of it stored, so
        the chain is never forked: the graph holds a prefix of ``events`` and the caller learns
        how long it is from ``stored``. One event goes as a plain message on its event type's
        subject; more as ``events_batch`` messages of at most the server's ``max_payload``.

        Parameters
        ----------
        events : sequence of Event
            Events of one graph, already chained (each one's ``previous_cid`` the CID of the one
            before; the first's the graph's head).
        expected_sequence : int
            The graph's stream sequence the first message expects (0: a graph with no events).
        stored : list, optional
            The stored events (with their ``sequence``) are appended to it as their messages are
            acknowledged: what was stored when an exception is raised.

        Returns
        -------
        list of Event
            The stored events, in order, each with its message's stream ``sequence``.

        Raises
        ------
        ConcurrencyError
            Another writer appended before a message (the events of that message and the later
            ones were not stored).
        MessageTooLargeError
            One event alone is larger than a message may be.
        CIMConnectionError
            The server could not be reached.

        Notes
        -----
        Cost: one publish round trip per message; O(len(events)) memory for the encoded events.
        Unlike :meth:`publish_many` nothing goes to the outbox: a queued message's expected
        sequence would be stale when it is sent.

        Examples
        --------
        >>> import tempfile
        >>> import alchemist
        >>> from alchemist.events import new_event
        >>> tmp = tempfile.mkdtemp()
        >>> connection = alchemist.connect(data_dir=tmp + "/jetstream", outbox=tmp + "/outbox.sqlite")
        >>> a = new_event("node_added", "g", {"node_id": "a"})
        >>> b = new_event("node_added", "g", {"node_id": "b"}, previous_cid=a.cid)
        >>> [e.sequence for e in connection.publish_chain([a, b], expected_sequence=0)]
        [1, 1]
        >>> c = new_event("node_added", "g", {"node_id": "c"}, previous_cid=b.cid)
        >>> connection.publish_chain([c], expected_sequence=0)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        alchemist.errors.ConcurrencyError: ...
        >>> connection.close()
        """
        stored = [] if stored is None else stored
        events = list(events)
        if events:
            self.run(self._send_chain(events, int(expected_sequence), stored))
        return stored

    async def _send_chain(self, chain: list, version: int, stored: list) -> None:
        import msgspec

        graph_id = chain[0].aggregate_id
        if any(e.aggregate_id != graph_id for e in chain):
            raise ValueError(f"a chain holds the events of one graph; got {graph_id!r} and others")
        subjects = self.subjects
        records = [(e.aggregate_id, e.event_id, e.event_type, e.cid, e.correlation_id, e.causation_id,
                    encode_event(e)) for e in chain]
        done = 0
        batch = 1 if len(records) == 1 else len(records)
        for subject, data, headers, count in message_stream(subjects, records, batch=batch,
                                                            max_bytes=message_limit(self._nc)):
            headers = {**headers, "Nats-Expected-Last-Subject-Sequence": str(version),
                       "Nats-Expected-Last-Subject-Sequence-Subject": subjects.aggregate_filter(graph_id)}
            ack = await self.publisher.send_with_retry(subject, data, headers)
            version = int(ack.seq)
            stored.extend(msgspec.structs.replace(e, sequence=ack.seq) for e in chain[done:done + count])
            done += count

    def flush_outbox(self, timeout: float | None = None, *, progress=False) -> int:
        """Send the outbox's messages in order; returns how many this call sent.

        A flush already in progress (one starts on every reconnect) is waited for first.

        Parameters
        ----------
        timeout : float, optional
            Seconds to keep trying while the server does not answer (a trial whenever the circuit
            breaker allows one) until the outbox is empty; None: one pass that stops at the first
            message that still fails, keeping it and the rest.
        progress : bool or callable
            A progress bar (or callback) over the messages sent.

        Returns
        -------
        int
            Messages sent by this call; ``len(connection.outbox)`` messages
            (``connection.outbox.events()`` events) are left.

        Raises
        ------
        CIMError
            The connection is closed.

        Notes
        -----
        One JetStream publish per message, in the order they were queued, each removed once
        acknowledged (an entry sent twice across a crash is stored once: its ``Nats-Msg-Id``).
        This is the relay half of the transactional outbox pattern.

        References
        ----------
        .. [1] C. Richardson, *Microservices Patterns*, Manning (2018), §3.3.7, "Transactional
           outbox" and "Polling publisher".

        Examples
        --------
        >>> import tempfile
        >>> import alchemist
        >>> tmp = tempfile.mkdtemp()
        >>> connection = alchemist.connect(data_dir=tmp + "/jetstream", outbox=tmp + "/outbox.sqlite")
        >>> from alchemist.events import encode_event, headers_for, new_event
        >>> event = new_event("node_added", "g", {"node_id": "a"})  # queued while the server was away
        >>> _ = connection.outbox.put(connection.subjects.subject("g", "node_added"), encode_event(event),
        ...                           headers_for(event))
        >>> connection.flush_outbox(), len(connection.outbox)
        (1, 0)
        >>> [e.event_id == event.event_id for e in connection.events("g")]
        [True]
        >>> connection.close()
        """
        return self.run(self.publisher.flush_outbox(wait=True, timeout=timeout, progress=progress))

    # ------------------------------------------------------------------ edge lists
    def replay(self, source, graph_id: str | None = None, *, batch: int = 1000, progress: bool = False,
               directed: bool = True, wait: float | None = None, chunk: int | None = None,
               window_bytes: int | None = None) -> PublishResult:
        """Publish a SNAP-style edge list as CIM events, ``chunk`` events generated at a time
        (see :func:`alchemist.cim.replay.replay_edge_list` for the arguments); ``result.queued``
        counts the events left in the outbox when the server stayed away longer than ``wait``.

        The event ids are deterministic (from the graph id and the line), so a replay of the
        same file resumes after the last event it finds on the stream.

        Parameters
        ----------
        source : str, Path, EdgeList or WirePlan
        graph_id : str, optional
            The file name without extensions by default.
        batch, progress, directed, wait, chunk, window_bytes
            See :func:`~alchemist.cim.replay.replay_edge_list`.

        Returns
        -------
        PublishResult

        Raises
        ------
        EdgeListFormatError
            The file is missing, empty or malformed.
        ValueError
            ``batch`` is smaller than 1.

        Notes
        -----
        Cost: one ``STREAM.MSG.GET`` (the graph's last event, to resume), then one publish per
        ``batch`` events, acknowledged asynchronously (see :meth:`publish_many`).

        Examples
        --------
        >>> import pathlib, tempfile
        >>> import alchemist
        >>> tmp = tempfile.mkdtemp()
        >>> path = pathlib.Path(tmp, "g.txt")
        >>> _ = path.write_text("1 2\\n2 3\\n3 1\\n")
        >>> connection = alchemist.connect(data_dir=tmp + "/jetstream", outbox=tmp + "/outbox.sqlite")
        >>> result = connection.replay(path)
        >>> result.published, result.messages, result.complete
        (7, 1, True)
        >>> connection.replay(path).duplicates  # already there: nothing sent
        7
        >>> connection.close()
        """
        from alchemist.cim.replay import replay_edge_list
        from alchemist.events.wire import DEFAULT_CHUNK

        return replay_edge_list(self, source, graph_id=graph_id, batch=batch, progress=progress, directed=directed,
                                wait=wait, chunk=chunk or DEFAULT_CHUNK, window_bytes=window_bytes)

    def import_graph(self, source, graph_id: str | None = None, *, directed: bool = True,
                     wait: float | None = None) -> PublishResult:
        """Import an edge list as one ``graph_imported`` event carrying the CID of an Arrow object
        (see :func:`alchemist.cim.replay.import_edge_list`): the fastest way in for large files;
        ``wait`` as in :meth:`publish_many`.

        Parameters
        ----------
        source : str, Path or EdgeList
        graph_id : str, optional
        directed : bool
        wait : float, optional

        Returns
        -------
        PublishResult

        Raises
        ------
        EdgeListFormatError
            The file is missing, empty or malformed.

        Examples
        --------
        >>> import pathlib, tempfile
        >>> import alchemist
        >>> tmp = tempfile.mkdtemp()
        >>> path = pathlib.Path(tmp, "g.txt")
        >>> _ = path.write_text("1 2\\n2 3\\n3 1\\n")
        >>> connection = alchemist.connect(data_dir=tmp + "/jetstream", outbox=tmp + "/outbox.sqlite")
        >>> connection.import_graph(path).published  # the events the object holds
        7
        >>> connection.graph("g", live=False)
        <alchemist.Graph 'g': 3 nodes, 3 edges, directed, version 7>
        >>> connection.close()
        """
        from alchemist.cim.replay import import_edge_list

        return import_edge_list(self, source, graph_id=graph_id, directed=directed, wait=wait)
