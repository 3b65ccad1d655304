"""Agent suggestions you can act on: typed, accepted into a graph's history or rejected, audited.

An agent's answer to a ``suggest_*`` request is a :class:`Suggestion`: what kind of change it is
(``"layout"``, ``"communities"``, ``"insight"``), a sentence, the agent's own confidence in
``[0, 1]`` and the events it proposes (:class:`ProposedEvent`: a layout as one
``layout_applied`` with positions, communities as ``node_updated`` events). Nothing changes until
a user decides:

- :func:`accept_suggestion` appends the proposed events to the graph's chain, each derived from
  the suggestion: ``correlation_id`` is the request's correlation id, ``causation_id`` the
  suggestion's (= the insight's) id, so the graph's history says which insight caused it;
- :func:`reject_suggestion` changes nothing in the graph;

and both record the decision on ``ai.insights.decisions.<suggestion id>`` in the insights stream
(``AI_INSIGHTS``), where :func:`decision_of` reads it back. A suggestion is decided once: the first
record on its subject is written with ``Nats-Expected-Last-Subject-Sequence: 0``, so of two
concurrent accepts (two notebooks, two processes) exactly one wins and the other is refused with
:class:`~alchemist.errors.AgentError`.

Decision records, in order on a suggestion's subject: ``accepted`` (the claim, before the events),
then ``applied`` (the events stored, with their ids and stream sequences) or ``failed`` (an append
failed; the suggestion may be accepted again); or a single ``rejected``.

References: C. Richardson, *Microservices Patterns* (2018), ch. 6 "Event sourcing" (correlation
and causation ids); NATS documentation, "JetStream Model Deep Dive" (expected-last-subject-sequence
optimistic concurrency).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import msgspec

from alchemist.errors import AgentError, InvalidEventError, UnknownEventTypeError
from alchemist.events import uuid7, validate_payload
from alchemist.events.times import rfc3339

__all__ = ["ProposedEvent", "Suggestion", "Decision", "make_suggestion", "decode_suggestion",
           "accept_suggestion", "reject_suggestion", "decision_of", "append_chain", "DECISIONS_PREFIX", "LISTED_EVENTS"]

DECISIONS_PREFIX = "ai.insights.decisions"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_WRONG_LAST_SEQUENCE = 10071  # JetStream API error: Nats-Expected-Last-Subject-Sequence did not hold


class ProposedEvent(msgspec.Struct, frozen=True, kw_only=True):
    """One event a suggestion proposes (appended to the graph only when the suggestion is accepted).

    Parameters
    ----------
    event_type : str
        One of :data:`alchemist.events.EVENT_TYPES`.
    payload : dict
        Valid for ``event_type`` (:func:`alchemist.events.validate_payload`).
    """

    event_type: str
    payload: dict[str, Any]


class Suggestion(msgspec.Struct, frozen=True, kw_only=True):
    """An agent's typed answer: a change to a graph it proposes, with its confidence.

    Make one with :func:`make_suggestion` (validated); read one from JSON with
    :func:`decode_suggestion`.

    Parameters
    ----------
    id : str
        The suggestion's (= the published insight's) id, a UUIDv7; the ``causation_id`` of the
        events accepting it appends.
    agent : str
        The agent's service name.
    kind : str
        ``"layout"``, ``"communities"``, ``"insight"`` (no events) or an agent's own kind.
    text : str
        One sentence for a person.
    confidence : float
        The agent's confidence in ``[0, 1]`` (how it is measured is the agent's, and its text says).
    graph_id : str
        The graph the events are for.
    events : tuple of ProposedEvent
        What accepting appends, in order.
    version : int or None
        The graph version the agent read.
    capability : str
        The endpoint that answered.
    correlation_id : str
        The request's correlation id (the ``correlation_id`` of the accepted events).
    request_id : str
        The request's id.
    """

    id: str
    agent: str
    kind: str
    text: str
    confidence: float
    graph_id: str
    events: tuple[ProposedEvent, ...] = ()
    version: int | None = None
    capability: str = ""
    correlation_id: str = ""
    request_id: str = ""

    def to_dict(self) -> dict:
        """The suggestion as JSON-ready builtins (what an agent sends back).

        Returns
        -------
        dict
        """
        return msgspec.to_builtins(self)


class Decision(msgspec.Struct, frozen=True, kw_only=True):
    """A recorded decision on a suggestion (a message on ``ai.insights.decisions.<id>``).

    Parameters
    ----------
    suggestion_id : str
    decision : {"accepted", "applied", "failed", "rejected"}
        ``accepted``: claimed, events being appended; ``applied``: the events are stored;
        ``failed``: an append failed (``reason``), the suggestion may be accepted again.
    graph_id, agent, kind, correlation_id : str
        Copied from the suggestion.
    time : str
        RFC 3339, UTC, when it was recorded.
    reason : str
        Why (a rejection's reason, a failure's error).
    events : tuple of dict
        ``{"event_id", "event_type", "sequence"}`` of the first :data:`LISTED_EVENTS` appended
        events (``applied``; all of them carry the suggestion's id as ``causation_id``).
    n_events : int
        How many events were appended.
    sequences : tuple of int
        The stream sequences of the messages that hold them.
    sequence : int or None
        The record's stream sequence (set when read back).
    """

    suggestion_id: str
    decision: str
    graph_id: str = ""
    agent: str = ""
    kind: str = ""
    correlation_id: str = ""
    time: str = ""
    reason: str = ""
    events: tuple[dict, ...] = ()
    n_events: int = 0
    sequences: tuple[int, ...] = ()
    sequence: int | None = None


LISTED_EVENTS = 100
"""Events a decision record lists by id (the record stays far below a message's size)."""


def make_suggestion(*, agent: str, kind: str, text: str, confidence: float, graph_id: str,
                    events=(), version: int | None = None, capability: str = "", correlation_id: str = "",
                    request_id: str = "", id: str | None = None) -> Suggestion:
    """A validated :class:`Suggestion` (a new UUIDv7 id unless ``id`` is given).

    Parameters
    ----------
    agent, kind, text, graph_id : str
        See :class:`Suggestion`; none may be empty.
    confidence : float
        In ``[0, 1]``.
    events : iterable of ProposedEvent or dict
        ``{"event_type", "payload"}`` each; every payload is checked against its event type.
    version : int, optional
    capability, correlation_id, request_id : str
    id : str, optional
        Letters, digits, ``-`` and ``_`` only (it is a NATS subject token).

    Returns
    -------
    Suggestion

    Raises
    ------
    AgentError
        An empty field, a confidence outside ``[0, 1]`` (or not finite), a bad id, an unknown event
        type or a payload that does not fit its type (the message names which).

    Examples
    --------
    >>> s = make_suggestion(agent="analysis", kind="layout", text="a layout", confidence=0.8, graph_id="g",
    ...                     events=[{"event_type": "layout_applied", "payload": {"positions": {"a": [0, 1]}}}])
    >>> s.events[0].event_type, s.confidence, len(s.id)
    ('layout_applied', 0.8, 36)
    >>> make_suggestion(agent="analysis", kind="layout", text="?", confidence=1.5, graph_id="g")
    Traceback (most recent call last):
    ...
    alchemist.errors.AgentError: suggestion confidence=1.5; an agent's confidence must lie in [0, 1]
    """
    proposed = tuple(e if isinstance(e, ProposedEvent) else _proposed(e) for e in events)
    suggestion = Suggestion(id=id or uuid7(), agent=agent, kind=kind, text=text, confidence=confidence,
                            graph_id=graph_id, events=proposed, version=version, capability=capability,
                            correlation_id=correlation_id, request_id=request_id)
    _validate(suggestion)
    return suggestion


def decode_suggestion(value: Any) -> Suggestion:
    """A :class:`Suggestion` from JSON bytes/str or from builtins (an agent's reply), validated.

    Parameters
    ----------
    value : bytes, str or dict

    Returns
    -------
    Suggestion

    Raises
    ------
    AgentError
        Not a suggestion (a missing or mistyped field) or one :func:`make_suggestion` refuses.

    Examples
    --------
    >>> s = decode_suggestion('{"id": "s-1", "agent": "a", "kind": "insight", "text": "t", '
    ...                       '"confidence": 0.25, "graph_id": "g"}')
    >>> s.kind, s.events
    ('insight', ())
    >>> decode_suggestion({"id": "s-1", "agent": "a"})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    alchemist.errors.AgentError: not a suggestion: Object missing required field `kind`...
    """
    try:
        if isinstance(value, (bytes, bytearray, memoryview, str)):
            suggestion = msgspec.json.decode(value, type=Suggestion)
        else:
            suggestion = msgspec.convert(value, Suggestion)
    except msgspec.ValidationError as exc:
        raise AgentError(f"not a suggestion: {exc}; an agent answers {{'id', 'agent', 'kind', 'text', "
                         f"'confidence', 'graph_id', 'events'}}") from None
    except msgspec.DecodeError as exc:
        raise AgentError(f"not a suggestion: {exc}") from None
    _validate(suggestion)
    return suggestion


def accept_suggestion(connection, suggestion: Suggestion, *, graph_id: str | None = None,
                      actor: str | None = None) -> list:
    """Append the suggestion's events to its graph, caused by it, and record the decision.

    Parameters
    ----------
    connection : Connection
    suggestion : Suggestion
    graph_id : str, optional
        Another graph to apply it to (the suggestion's ``graph_id`` by default).
    actor : str, optional
        Who accepts it, recorded as ``metadata["actor"]`` of every appended event (what
        :func:`alchemist.cim.provenance.provenance` shows beside the suggestion).

    Returns
    -------
    list of Event
        The stored events (with ``sequence``), each with ``correlation_id`` = the suggestion's
        ``correlation_id`` (its id when it has none) and ``causation_id`` = the suggestion's id.

    Raises
    ------
    AgentError
        The suggestion was already accepted or rejected (the message says when and how): a
        suggestion is decided once.
    CIMError
        An append failed (recorded as ``failed``; accepting again is allowed).

    Notes
    -----
    An ``accepted`` record with no ``applied`` or ``failed`` after it means the accepting
    process stopped in between: the events whose ``causation_id`` is the suggestion's id are
    what was stored (all or none of a message's worth).

    Cost: one ``STREAM.MSG.GET`` and one publish (the claim), :func:`append_chain` (two reads and
    one publish per message of events: one message up to the server's ``max_payload``, 1 MiB by
    default, so a suggestion of that size is appended all or nothing), one publish (the
    ``applied`` record). A refused accept costs one ``STREAM.MSG.GET`` (two when it lost a race).

    Examples
    --------
    >>> import tempfile
    >>> import alchemist
    >>> tmp = tempfile.mkdtemp()
    >>> connection = alchemist.connect(data_dir=tmp + "/jetstream", outbox=tmp + "/outbox.sqlite")
    >>> _ = connection.append("g", "node_added", {"node_id": "a"})
    >>> s = make_suggestion(agent="me", kind="layout", text="a at (1, 2)", confidence=1.0, graph_id="g",
    ...                     correlation_id="c-1",
    ...                     events=[{"event_type": "layout_applied", "payload": {"positions": {"a": [1, 2]}}}])
    >>> [event] = accept_suggestion(connection, s)
    >>> event.correlation_id, event.causation_id == s.id
    ('c-1', True)
    >>> connection.graph("g", live=False).positions.tolist()
    [[1.0, 2.0]]
    >>> decision_of(connection, s.id).decision
    'applied'
    >>> accept_suggestion(connection, s)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    alchemist.errors.AgentError: suggestion ... was already applied at ...; a suggestion is accepted or rejected once ...
    >>> connection.close()
    """
    target = graph_id or suggestion.graph_id
    _claim(connection, suggestion, "accepted", target, "")
    correlation = suggestion.correlation_id or suggestion.id
    stored: list = []
    try:
        if suggestion.events:
            append_chain(connection, target, suggestion.events, correlation_id=correlation,
                         causation_id=suggestion.id, stored=stored,
                         metadata={"actor": actor} if actor else None)
    except Exception as exc:
        _record(connection, _decision(suggestion, "failed", target, f"{type(exc).__name__}: {exc}", stored))
        raise
    _record(connection, _decision(suggestion, "applied", target, "", stored))
    return stored


def reject_suggestion(connection, suggestion: Suggestion, reason: str = "") -> Decision:
    """Record that a user rejected the suggestion; the graph does not change.

    Parameters
    ----------
    connection : Connection
    suggestion : Suggestion
    reason : str
        Kept with the record.

    Returns
    -------
    Decision
        The ``rejected`` record, with its stream sequence.

    Raises
    ------
    AgentError
        The suggestion was already accepted or rejected.

    Examples
    --------
    >>> import tempfile
    >>> import alchemist
    >>> tmp = tempfile.mkdtemp()
    >>> connection = alchemist.connect(data_dir=tmp + "/jetstream", outbox=tmp + "/outbox.sqlite")
    >>> s = make_suggestion(agent="me", kind="insight", text="t", confidence=0.5, graph_id="g")
    >>> reject_suggestion(connection, s, "not useful").reason
    'not useful'
    >>> decision_of(connection, s.id).decision
    'rejected'
    >>> connection.close()
    """
    return _claim(connection, suggestion, "rejected", suggestion.graph_id, reason)


def append_chain(connection, graph_id: str, events, *, correlation_id: str, causation_id: str,
                 attempts: int = 5, stored: list | None = None, metadata: dict | None = None) -> list:
    """Append events to a graph's chain in as few messages as fit, each guarded by the graph's version.

    The events are chained (each one's ``previous_cid`` is the one before; the first's is the
    graph's last event) and sent as ``events_batch`` messages of at most the server's
    ``max_payload`` (a single event as a plain message on its event type's subject), each with ``Nats-Expected-Last-Subject-Sequence`` on the graph's subjects:
    what :meth:`Connection.append <alchemist.cim.connection.Connection.append>` does for one
    event, for many. When another writer appended before the first message, the chain head is
    read again and it is retried (``attempts`` times); a conflict on a later message (events
    larger than one message, and a writer in between) raises.

    Parameters
    ----------
    connection : Connection
    graph_id : str
    events : sequence of ProposedEvent
    correlation_id, causation_id : str
        Of every appended event.
    attempts : int
        Tries of the first message against other writers.
    stored : list, optional
        The stored events are appended to it as their messages are acknowledged (what was stored
        when an exception is raised).
    metadata : dict, optional
        Metadata of every appended event (e.g. ``{"actor": ...}``), part of its CID.

    Returns
    -------
    list of Event
        The stored events, in order, each with its message's stream ``sequence``.

    Raises
    ------
    ConcurrencyError
        Other writers appended first ``attempts`` times, or between two messages.
    InvalidEventError
        A payload does not fit its event type.
    MessageTooLargeError
        One event alone is larger than a message may be (put large content in the object store).
    CIMConnectionError
        The server could not be reached.

    Examples
    --------
    >>> import tempfile
    >>> import alchemist
    >>> tmp = tempfile.mkdtemp()
    >>> connection = alchemist.connect(data_dir=tmp + "/jetstream", outbox=tmp + "/outbox.sqlite")
    >>> first = connection.append("g", "node_added", {"node_id": "a"})
    >>> events = [ProposedEvent(event_type="node_added", payload={"node_id": n}) for n in "bcd"]
    >>> stored = append_chain(connection, "g", events, correlation_id="c", causation_id="s")
    >>> [e.sequence for e in stored], stored[0].previous_cid == first.cid, stored[2].previous_cid == stored[1].cid
    ([2, 2, 2], True, True)
    >>> connection.graph("g", live=False).node_ids
    ['a', 'b', 'c', 'd']
    >>> connection.close()
    """
    from alchemist.errors import ConcurrencyError
    from alchemist.events import new_event

    stored = [] if stored is None else stored
    for _ in range(max(1, attempts)):
        version = connection.aggregate_sequence(graph_id)
        last = connection.last_event(graph_id)
        if last is not None and int(last.sequence or 0) > version:
            continue  # another writer between the two reads
        previous = None if last is None else last.cid
        chain = []
        for proposed in events:
            event = new_event(proposed.event_type, graph_id, dict(proposed.payload), correlation_id=correlation_id,
                              causation_id=causation_id, previous_cid=previous, metadata=metadata)
            chain.append(event)
            previous = event.cid
        try:
            connection.publish_chain(chain, expected_sequence=version, stored=stored)
        except ConcurrencyError:
            if stored:
                raise
            continue
        return stored
    raise ConcurrencyError(f"other writers appended to {graph_id!r} first {attempts} times in a row; "
                           "retry later or with more attempts=")


def decision_of(connection, suggestion_id: str) -> Decision | None:
    """The last decision recorded on a suggestion, or None when it is undecided.

    Parameters
    ----------
    connection : Connection
    suggestion_id : str

    Returns
    -------
    Decision or None
        With its stream ``sequence`` in the insights stream.

    Notes
    -----
    Cost: one ``$JS.API.STREAM.MSG.GET`` (last message on ``ai.insights.decisions.<id>``).
    """
    return connection.run(_last_decision(connection, suggestion_id))


# ---------------------------------------------------------------------------------------- helpers
def _proposed(event: Any) -> ProposedEvent:
    if not isinstance(event, dict) or not isinstance(event.get("event_type"), str) \
            or not isinstance(event.get("payload"), dict):
        raise AgentError(f"a proposed event is {{'event_type': str, 'payload': dict}}, got {event!r:.200}")
    return ProposedEvent(event_type=event["event_type"], payload=event["payload"])


def _validate(s: Suggestion) -> None:
    for name in ("agent", "kind", "text", "graph_id"):
        if not getattr(s, name):
            raise AgentError(f"suggestion {s.id!r} has an empty {name!r}; an agent fills it")
    if not _TOKEN.match(s.id):
        raise AgentError(f"suggestion id {s.id!r} must be 1-128 letters, digits, '-' or '_' (a NATS subject token)")
    if not (isinstance(s.confidence, (int, float)) and math.isfinite(s.confidence) and 0.0 <= s.confidence <= 1.0):
        raise AgentError(f"suggestion confidence={s.confidence!r}; an agent's confidence must lie in [0, 1]")
    for i, event in enumerate(s.events):
        try:
            validate_payload(event.event_type, event.payload)
        except (InvalidEventError, UnknownEventTypeError) as exc:
            raise AgentError(f"suggestion {s.id!r} proposes a bad event #{i} ({event.event_type!r}): {exc}") from None


def _decision(s: Suggestion, decision: str, graph_id: str, reason: str, stored=()) -> Decision:
    events = tuple({"event_id": e.event_id, "event_type": e.event_type, "sequence": e.sequence}
                   for e in stored[:LISTED_EVENTS])
    sequences = tuple(sorted({int(e.sequence) for e in stored if e.sequence is not None}))
    return Decision(suggestion_id=s.id, decision=decision, graph_id=graph_id, agent=s.agent, kind=s.kind,
                    correlation_id=s.correlation_id or s.id, time=rfc3339(), reason=reason[:2000], events=events,
                    n_events=len(stored), sequences=sequences)


def _claim(connection, s: Suggestion, decision: str, graph_id: str, reason: str) -> Decision:
    """Write the first record on the suggestion's subject (or the one after a ``failed``); refuse otherwise."""
    record = _decision(s, decision, graph_id, reason)
    last = decision_of(connection, s.id)
    if last is not None and last.decision != "failed":
        raise _decided(s.id, last)
    try:
        return _record(connection, record, expected=0 if last is None else last.sequence)
    except AgentError:
        raise
    except Exception as exc:
        if getattr(exc, "err_code", None) != _WRONG_LAST_SEQUENCE:
            raise
    last = decision_of(connection, s.id)  # another writer decided in between
    raise _decided(s.id, last) from None


def _decided(suggestion_id: str, last: Decision | None) -> AgentError:
    how = f"{last.decision} at {last.time}" if last is not None else "decided"
    return AgentError(f"suggestion {suggestion_id!r} was already {how}; a suggestion is accepted or rejected once "
                      "(ask the agent again for a new one)")


def _record(connection, record: Decision, expected: int | None = None) -> Decision:
    stream = getattr(getattr(connection, "streams", None), "insights", "AI_INSIGHTS")
    record_id = uuid7()
    headers = {"Nats-Msg-Id": record_id, "Cim-Event-Id": record_id, "Cim-Correlation-Id": record.correlation_id,
               "Cim-Causation-Id": record.suggestion_id, "Cim-Decision": record.decision}
    if expected is not None:
        headers["Nats-Expected-Last-Subject-Sequence"] = str(expected)
    ack = connection.run(connection.js.publish(f"{DECISIONS_PREFIX}.{record.suggestion_id}",
                                               msgspec.json.encode(record), headers=headers, stream=stream))
    return msgspec.structs.replace(record, sequence=ack.seq)


async def _last_decision(connection, suggestion_id: str) -> Decision | None:
    from nats.js.errors import NotFoundError

    stream = getattr(getattr(connection, "streams", None), "insights", "AI_INSIGHTS")
    try:
        msg = await connection.js.get_last_msg(stream, f"{DECISIONS_PREFIX}.{suggestion_id}")
    except NotFoundError:
        return None
    try:
        record = msgspec.convert(json.loads(msg.data), Decision)
    except (ValueError, msgspec.ValidationError) as exc:
        raise AgentError(f"the decision record at {stream} sequence {msg.seq} is not a decision: {exc}") from None
    return msgspec.structs.replace(record, sequence=msg.seq)
