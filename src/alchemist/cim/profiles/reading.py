"""Reading and writing a dialect's stream: the profile half of :class:`~alchemist.cim.Connection`.

``connect(url, profile="cim-graph")`` gives a connection whose :meth:`DialectMixin.graph` folds the
dialect's messages (:func:`~alchemist.cim.profiles.fold_dialect`) and whose
:meth:`DialectMixin.append` writes in the dialect where the profile allows it. With the default
profile (``"alchemist"``) both are alchemist's own (:mod:`alchemist.cim.reading`,
:mod:`alchemist.cim.publishing`).

Reading touches nothing the dialect owns: for each of the profile's filter subjects the stream
that holds it is found by subject (``$JS.API.STREAM.NAMES``), and an ephemeral pull consumer with
no acknowledgements (``AckPolicy.NONE``, removed by the server after 30 idle seconds) reads it
from the start to the end known when the read began. Writing creates the profile's stream (with
the Rust crate's settings) only when no stream holds the subject.
"""

from __future__ import annotations

from alchemist.cim.profiles import DialectEvent, Profile, fold_dialect, get_profile
from alchemist.errors import CIMError, EventError

__all__ = ["DialectMixin", "read_dialect", "write_dialect", "ensure_dialect_stream", "lift_payloads"]


class DialectMixin:
    """The profile-aware ``graph`` and ``append`` of a Connection (mixed in before alchemist's own)."""

    profile: Profile

    def graph(self, graph_id: str, *args, live: bool | None = None, **kwargs):
        """The graph folded from its events; with a dialect profile, from the dialect's messages.

        With ``profile="alchemist"`` this is :meth:`alchemist.cim.reading.ReadingMixin.graph`
        (every argument as documented there). With another profile the dialect's stream is read to
        its end and folded once (``live`` must not be True: dialect graphs are not followed), see
        :func:`~alchemist.cim.profiles.fold_dialect`.

        Parameters
        ----------
        graph_id : str
            The dialect's aggregate id (cim-graph's UUID, the original app's graph id); ``"*"``:
            every aggregate of the dialect folded into one graph.
        live : bool, optional
        *args, **kwargs
            alchemist's own options (profile ``"alchemist"`` only); with a dialect,
            ``idle_timeout`` (seconds) and ``fetch_batch`` are accepted.

        Returns
        -------
        Graph
            With a dialect: ``graph.dialect_events`` (every message decoded, in stream order),
            ``graph.unmapped`` (typed events with no graph meaning) and ``graph.rejected``
            (``(sequence, event_id, reason)`` of what could not be decoded or applied).

        Raises
        ------
        CIMError
            ``live=True`` or an alchemist-only option with a dialect profile, or a graph id that is not
            one subject token.

        Examples
        --------
        The original app's graph on a CIM where it runs (``GRAPH_EVENTS`` on ``graph.>``):

        >>> import alchemist
        >>> rs = alchemist.connect("nats://cim:4222", profile="alchemist-rs")  # doctest: +SKIP
        >>> g = rs.graph("my-graph")  # doctest: +SKIP
        >>> g.number_of_nodes(), [e.event_type for e in g.unmapped]  # doctest: +SKIP
        (3, ['LayoutChanged'])
        """
        if self.profile.name == "alchemist":
            if live is not None:
                kwargs["live"] = live
            return super().graph(graph_id, *args, **kwargs)
        extra = set(kwargs) - {"idle_timeout", "fetch_batch"}
        if live or args or extra:
            raise CIMError(f"profile {self.profile.name!r} reads a graph once to the stream's end; "
                           f"{sorted(extra) or 'live=True'} is for profile='alchemist' only")
        if graph_id != "*" and (not graph_id or any(c in graph_id for c in ".*> \t")):
            raise CIMError(f"graph id {graph_id!r} cannot be a subject token (no '.', '*', '>' or spaces); "
                           "use '*' for every aggregate of the dialect")
        events, rejected = self.run(read_dialect(self, self.profile, graph_id,
                                                 idle_timeout=kwargs.get("idle_timeout", 1.0),
                                                 batch=kwargs.get("fetch_batch", 1000)))
        if any(e.cid and not e.payload for e in events):
            events = self.run(lift_payloads(self, events))
        graph = fold_dialect(events, graph_id, profile=self.profile)
        graph.rejected = rejected + graph.rejected
        return graph

    def dialect_events(self, graph_id: str = "*", *, idle_timeout: float = 1.0) -> list[DialectEvent]:
        """A graph's messages in the connection's dialect, decoded, in stream order.

        Parameters
        ----------
        graph_id : str
            ``"*"``: every aggregate.
        idle_timeout : float
            Seconds a pull waits for messages.

        Returns
        -------
        list of DialectEvent
            What could not be decoded is left out (see :meth:`graph`'s ``rejected``).

        Raises
        ------
        CIMError
            The connection is closed.
        """
        events, _ = self.run(read_dialect(self, self.profile, graph_id, idle_timeout=idle_timeout))
        return events

    def append(self, graph_id: str, event_type: str, payload: dict | None = None, **kwargs):
        """Append one event; with a dialect profile, as that dialect's message.

        With ``profile="alchemist"`` this is :meth:`alchemist.cim.publishing.PublishingMixin.append`.
        With another, :meth:`~alchemist.cim.profiles.Profile.encode` builds the message as the Rust
        code does and it is published (and acknowledged) on its subject.

        Parameters
        ----------
        graph_id, event_type : str
        payload : dict
        **kwargs
            alchemist's options; with a dialect, ``event_id``, ``correlation_id``,
            ``causation_id`` and ``time`` (Unix seconds).

        Returns
        -------
        Event or DialectEvent
            The dialect event as stored (with its stream ``sequence``).

        Raises
        ------
        CIMError
            The dialect is read-only here, or has no variant for ``event_type``.
        """
        if self.profile.name == "alchemist":
            return super().append(graph_id, event_type, payload, **kwargs)
        return self.run(write_dialect(self, self.profile, graph_id, event_type, payload or {}, **kwargs))


async def read_dialect(connection, profile: "str | Profile", graph_id: str = "*", *, idle_timeout: float = 1.0,
                       batch: int = 1000) -> tuple[list[DialectEvent], list[tuple]]:
    """Read a dialect's messages for one graph (``"*"``: all) from every stream that holds them.

    Parameters
    ----------
    connection : Connection
    profile : str or Profile
    graph_id : str
    idle_timeout : float
        Seconds a pull waits for messages.
    batch : int
        Messages per pull.

    Returns
    -------
    (events, rejected)
        The decoded events of the graph in (time, stream sequence) order, and
        ``(sequence, event_id, reason)`` of the messages that could not be decoded.

    Raises
    ------
    nats.errors.Error
        The server fails a request (as nats-py raises it).
    """
    from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
    from nats.js.errors import NotFoundError

    from alchemist.cim.pull import fetch

    profile = get_profile(profile)
    js = connection.js
    found: list[tuple[float, str, int, DialectEvent]] = []
    rejected: list[tuple] = []
    for subject in profile.filters(graph_id):
        try:
            stream = await js.find_stream_name_by_subject(subject)
        except NotFoundError:
            continue
        info = await js.stream_info(stream)
        end = info.state.last_seq
        if not info.state.messages:
            continue
        config = ConsumerConfig(ack_policy=AckPolicy.NONE, deliver_policy=DeliverPolicy.ALL, filter_subject=subject,
                                inactive_threshold=30.0)
        sub = await js.pull_subscribe(subject, stream=stream, config=config)
        try:
            done = False
            while not done:
                try:
                    msgs = await fetch(sub, batch, idle_timeout)
                except TimeoutError:  # asyncio's, from a pull cut short under load: ask the server
                    msgs = []
                if not msgs:
                    if (await sub.consumer_info()).num_pending == 0:
                        break
                    continue
                for msg in msgs:
                    meta = msg.metadata
                    seq = meta.sequence.stream
                    if seq > end:
                        done = True
                        break
                    try:
                        event = profile.decode(msg.subject, msg.data, msg.headers, sequence=seq,
                                               time=meta.timestamp.timestamp())
                    except (EventError, KeyError, TypeError, ValueError) as exc:
                        rejected.append((seq, None, f"{type(exc).__name__}: {exc}"))
                        continue
                    if profile.belongs(event, graph_id):
                        found.append((event.time or 0.0, stream, seq, event))
                    if meta.num_pending == 0 or seq >= end:
                        done = True
        finally:
            try:
                await sub.unsubscribe()
            except Exception:  # the consumer goes by itself after 30 idle seconds
                pass
    if len({item[1] for item in found}) == 1:
        found.sort(key=lambda item: item[2])  # one stream: its order
    else:
        found.sort(key=lambda item: (item[0], item[1], item[2]))  # several: by time
    return [item[3] for item in found], rejected


async def lift_payloads(connection, events: list[DialectEvent]) -> list[DialectEvent]:
    """Events whose payload travels by CID (cim-domain's ``Left``) with the payload read from cim-ipld's buckets.

    Each payload is looked up in every bucket (:func:`~alchemist.cim.profiles.cim_ipld.get_cim_object`),
    decompressed and verified against its CID; one that is absent or does not verify leaves its event as it
    was (kept as a typed event, with its CID).

    Parameters
    ----------
    connection : Connection
    events : list of DialectEvent

    Returns
    -------
    list of DialectEvent
        The same events, those lifted with their payload (a ``GraphDomainEvent`` tag taken off).

    Raises
    ------
    nats.errors.Error
        The server fails a request.
    """
    import dataclasses

    from alchemist.cim.profiles.cim_ipld import get_cim_object
    from alchemist.errors import CIDMismatchError, ObjectNotFoundError

    out = []
    for event in events:
        if event.cid and not event.payload:
            try:
                content = await get_cim_object(connection, event.cid)
            except (ObjectNotFoundError, CIDMismatchError, ValueError):
                content = None
            if isinstance(content, dict) and len(content) == 1 and isinstance(next(iter(content.values())), dict):
                ((name, content),) = content.items()  # GraphDomainEvent's external tag
                event = dataclasses.replace(event, event_type=name)
            if isinstance(content, dict):
                event = dataclasses.replace(event, payload=content)
        out.append(event)
    return out


async def ensure_dialect_stream(connection, profile: "str | Profile", subject: str) -> str:
    """The stream that holds ``subject``; created with the Rust crate's settings when there is none.

    Parameters
    ----------
    connection : Connection
    profile : str or Profile
    subject : str

    Returns
    -------
    str
        The stream's name.

    Raises
    ------
    nats.js.errors.BadRequestError
        The server refuses the stream (e.g. its subjects overlap another stream's).
    """
    from nats.js.api import RetentionPolicy, StreamConfig
    from nats.js.errors import NotFoundError

    profile = get_profile(profile)
    js = connection.js
    try:
        return await js.find_stream_name_by_subject(subject)
    except NotFoundError:
        pass
    config = StreamConfig(name=profile.stream, subjects=list(profile.stream_subjects), retention=RetentionPolicy.LIMITS,
                          max_age=30 * 24 * 3600.0, duplicate_window=120.0)
    if profile.name == "alchemist-rs":  # jetstream_persistence.rs
        config.max_msgs_per_subject, config.max_bytes, config.duplicate_window = 10_000, 1 << 30, None
    await js.add_stream(config)
    return profile.stream


async def write_dialect(connection, profile: "str | Profile", graph_id: str, event_type: str, payload: dict, *,
                        event_id: str | None = None, correlation_id: str | None = None,
                        causation_id: str | None = None, time: float | None = None) -> DialectEvent:
    """Publish one alchemist graph event as the dialect's message and wait for its acknowledgement.

    Parameters
    ----------
    connection : Connection
    profile : str or Profile
    graph_id, event_type : str
    payload : dict
    event_id, correlation_id, causation_id : str, optional
    time : float, optional
        Unix seconds, for dialects whose bodies carry one.

    Returns
    -------
    DialectEvent
        The message as a reader decodes it, with its stream sequence.

    Raises
    ------
    CIMError
        The dialect is read-only here or has no variant for ``event_type``.
    """
    profile = get_profile(profile)
    subject, headers, body = profile.encode(graph_id, event_type, payload, event_id=event_id,
                                            correlation_id=correlation_id, causation_id=causation_id, time=time)
    await ensure_dialect_stream(connection, profile, subject)
    ack = await connection.js.publish(subject, body, headers=headers or None)  # no Nats-Expected-Stream: as the crates
    return profile.decode(subject, body, headers, sequence=ack.seq, time=time)
