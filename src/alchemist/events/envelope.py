"""The CIM event envelope (DESIGN.md §2), its CID chain and its wire encoding.

An :class:`Event` carries ``event_id`` (UUIDv7), ``event_type`` (snake_case, past tense),
``aggregate_type``, ``aggregate_id``, ``correlation_id``, ``causation_id``, ``timestamp``
(RFC 3339 UTC), ``payload``, ``cid`` and ``previous_cid``. The ``cid`` is the CIM CID of the
compact JSON of every other field in that order (``cid`` itself and the stream ``sequence``
excluded), so any change to the content changes the CID. A root event has
``correlation_id == causation_id == event_id``; a derived event (:meth:`Event.derive`) inherits
the correlation id and points its causation id at its parent.

Bulk transfer wraps many events in one ``events_batch`` message (:func:`encode_batch`), which
JetStream de-duplicates by its batch id; the events inside keep their own ids and CIDs.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any, Iterable

import msgspec

from alchemist.errors import CIDMismatchError, EventError, InvalidEventError
from alchemist.events.cid import cid as _cid
from alchemist.events.cid import digests_from_cids
from alchemist.events.ids import uuid7
from alchemist.events.times import parse_rfc3339, rfc3339
from alchemist.events.types import validate_payload, validate_payloads

__all__ = [
    "Event",
    "new_event",
    "encode_event",
    "decode_event",
    "encode_batch",
    "decode_batch",
    "decode_message",
    "decode_messages",
    "verify_events",
    "headers_for",
    "rfc3339",
    "parse_rfc3339",
    "BATCH_TYPE",
]

BATCH_TYPE = "events_batch"


class Event(msgspec.Struct, frozen=True, kw_only=True):
    """One CIM event (immutable).

    Build events with :func:`new_event` or :meth:`derive`, which compute the CID; the
    constructor is for decoding and takes the fields as they are.
    """

    event_id: str
    event_type: str
    aggregate_type: str = "graph"
    aggregate_id: str
    correlation_id: str
    causation_id: str
    timestamp: str
    payload: dict[str, Any] = msgspec.field(default_factory=dict)
    cid: str = ""
    previous_cid: str | None = None
    sequence: int | None = None

    def content_bytes(self) -> bytes:
        """The compact JSON the CID is computed over (every field but ``cid`` and ``sequence``)."""
        return _CONTENT_ENCODER.encode(
            _Content(
                self.event_id,
                self.event_type,
                self.aggregate_type,
                self.aggregate_id,
                self.correlation_id,
                self.causation_id,
                self.timestamp,
                self.payload,
                self.previous_cid,
            )
        )

    def compute_cid(self) -> str:
        """The CID this event's content hashes to."""
        return _cid(self.content_bytes())

    def verify(self) -> "Event":
        """Check the CID and the payload schema; return ``self``.

        Raises
        ------
        CIDMismatchError
            The content does not hash to ``cid``.
        InvalidEventError, UnknownEventTypeError
            The payload does not satisfy its event type's schema.
        """
        validate_payload(self.event_type, self.payload, self.event_id)
        actual = self.compute_cid()
        if actual != self.cid:
            raise CIDMismatchError(
                f"event {self.event_id} ({self.event_type}) claims CID {self.cid or '(none)'} but its content hashes to {actual}"
            )
        return self

    def derive(self, event_type: str, payload: dict[str, Any], **kwargs: Any) -> "Event":
        """A new event caused by this one (same correlation id, causation id = this event's id)."""
        kwargs.setdefault("aggregate_id", self.aggregate_id)
        kwargs.setdefault("aggregate_type", self.aggregate_type)
        return new_event(
            event_type,
            payload=payload,
            correlation_id=self.correlation_id,
            causation_id=self.event_id,
            **kwargs,
        )

    @property
    def time(self) -> _dt.datetime:
        """``timestamp`` as an aware :class:`datetime.datetime` (UTC)."""
        return parse_rfc3339(self.timestamp)


class _Content(msgspec.Struct, array_like=False):
    event_id: str
    event_type: str
    aggregate_type: str
    aggregate_id: str
    correlation_id: str
    causation_id: str
    timestamp: str
    payload: dict[str, Any]
    previous_cid: str | None


class _Wire(msgspec.Struct):
    event_id: str
    event_type: str
    aggregate_type: str
    aggregate_id: str
    correlation_id: str
    causation_id: str
    timestamp: str
    payload: dict[str, Any]
    cid: str
    previous_cid: str | None


def _wire(e: Event) -> _Wire:
    return _Wire(e.event_id, e.event_type, e.aggregate_type, e.aggregate_id, e.correlation_id,
                 e.causation_id, e.timestamp, e.payload, e.cid, e.previous_cid)


class _Batch(msgspec.Struct):
    batch_id: str
    event_type: str
    events: list[Event]


class _WireBatch(msgspec.Struct):
    batch_id: str
    event_type: str
    events: list[_Wire]


_CONTENT_ENCODER = msgspec.json.Encoder()
_ENCODER = msgspec.json.Encoder()
_EVENT_DECODER = msgspec.json.Decoder(Event)
_BATCH_DECODER = msgspec.json.Decoder(_Batch)


def new_event(
    event_type: str,
    aggregate_id: str,
    payload: dict[str, Any] | None = None,
    *,
    event_id: str | None = None,
    timestamp: str | float | _dt.datetime | None = None,
    correlation_id: str | None = None,
    causation_id: str | None = None,
    previous_cid: str | None = None,
    aggregate_type: str = "graph",
    validate: bool = True,
) -> Event:
    """Create an event and compute its CID.

    Parameters
    ----------
    event_type : str
        One of :data:`alchemist.events.EVENT_TYPES` (e.g. ``"node_added"``).
    aggregate_id : str
        The graph (or other aggregate) id.
    payload : dict
        The event's data; checked against the event type's schema when ``validate``.
    event_id : str, optional
        A UUIDv7; a fresh random one when omitted.
    timestamp : str, float or datetime, optional
        RFC 3339 string, Unix seconds, or a datetime; now when omitted.
    correlation_id, causation_id : str, optional
        Default to ``event_id`` (a root event).
    previous_cid : str, optional
        CID of the aggregate's previous event (the chain).

    Raises
    ------
    InvalidEventError, UnknownEventTypeError
        The payload does not satisfy the schema of ``event_type``.
    """
    payload = {} if payload is None else payload
    if validate:
        validate_payload(event_type, payload, event_id)
    if event_id is None:
        event_id = uuid7()
    event = Event(
        event_id=event_id,
        event_type=event_type,
        aggregate_type=aggregate_type,
        aggregate_id=aggregate_id,
        correlation_id=correlation_id or event_id,
        causation_id=causation_id or correlation_id or event_id,
        timestamp=rfc3339(timestamp),
        payload=payload,
        previous_cid=previous_cid,
    )
    return msgspec.structs.replace(event, cid=event.compute_cid())


def encode_event(event: Event) -> bytes:
    """Compact JSON of the whole envelope (with ``cid``; the stream ``sequence`` is not sent)."""
    return _ENCODER.encode(_wire(event))


def decode_event(data: bytes, *, sequence: int | None = None, verify: bool = True) -> Event:
    """Decode one envelope from JSON bytes.

    Raises
    ------
    InvalidEventError
        Not JSON, or a field is missing or of the wrong type (the message says which).
    UnknownEventTypeError, CIDMismatchError
        When ``verify``: see :meth:`Event.verify`.
    """
    try:
        event = _EVENT_DECODER.decode(data)
    except (msgspec.DecodeError, TypeError) as exc:
        raise InvalidEventError(f"undecodable event envelope: {exc}") from None
    if sequence is not None:
        event = msgspec.structs.replace(event, sequence=sequence)
    return event.verify() if verify else event


def encode_batch(events: list[Event], batch_id: str | None = None) -> tuple[str, bytes]:
    """Wrap events in one ``events_batch`` message; returns ``(batch_id, bytes)``.

    The default batch id is derived from the first and last event ids and the count, so the same
    events always form the same batch and JetStream de-duplicates a re-sent batch.
    """
    if not events:
        raise ValueError("an events_batch needs at least one event")
    if batch_id is None:
        batch_id = f"batch-{events[0].event_id}-{events[-1].event_id}-{len(events)}"
    return batch_id, _ENCODER.encode(_WireBatch(batch_id, BATCH_TYPE, [_wire(e) for e in events]))


def decode_batch(data: bytes, *, verify: bool = True) -> list[Event]:
    """Decode an ``events_batch`` message into its events (each verified when ``verify``)."""
    try:
        batch = _BATCH_DECODER.decode(data)
    except (msgspec.DecodeError, TypeError) as exc:
        raise InvalidEventError(f"undecodable events_batch: {exc}") from None
    if verify:
        bad = verify_events(batch.events)
        if bad:
            raise bad[0][1]
    return batch.events


def verify_events(events: list[Event]) -> list[tuple[int, Exception]]:
    """Check the payload schema and the CID of many events at once.

    Equivalent to calling :meth:`Event.verify` on each event, but the payloads are validated one
    event type at a time and the CIDs compared as digests (BLAKE3 of each event's content
    against the digests of the claimed CIDs, decoded in one vectorised pass), which is several
    times faster than event by event.

    Returns
    -------
    list of (index, error)
        The events that fail, in order; empty when all pass.
    """
    import blake3
    import numpy as np

    if not events:
        return []
    bad: dict[int, Exception] = dict(validate_payloads([(e.event_type, e.payload, e.event_id) for e in events]))
    b3 = blake3.blake3
    enc, content = _CONTENT_ENCODER.encode, _Content
    # one blake3 call per event: as fast as the compiled batch kernel of events.hashing here, and
    # safe on any thread (consumers run on the connection's event-loop thread)
    digests = b"".join([b3(enc(content(e.event_id, e.event_type, e.aggregate_type, e.aggregate_id, e.correlation_id,
                                       e.causation_id, e.timestamp, e.payload, e.previous_cid))).digest()
                        for e in events])
    actual = np.frombuffer(digests, dtype=np.uint8).reshape(-1, 32)
    claimed, valid = digests_from_cids([e.cid for e in events])
    same = valid & (actual == claimed).all(axis=1)
    for i in np.flatnonzero(~same).tolist():
        if i not in bad:
            e = events[i]
            bad[i] = CIDMismatchError(
                f"event {e.event_id} ({e.event_type}) claims CID {e.cid or '(none)'} but its content hashes to "
                f"{e.compute_cid()}")
    return sorted(bad.items())


def decode_messages(messages: Iterable[tuple[bytes, dict[str, str] | None, int | None]], *, verify: bool = True
                    ) -> tuple[list[Event], list[tuple[int, Event | None, Exception]]]:
    """Decode and verify many JetStream messages at once (a consumer's fetch).

    Parameters
    ----------
    messages : iterable of (data, headers, stream_sequence)

    Returns
    -------
    events : list of Event
        The good events, in order, each with ``sequence`` set to its message's stream sequence.
    rejected : list of (stream_sequence, event or None, error)
        Undecodable messages (event None) and events that fail :func:`verify_events`.
    """
    events: list[Event] = []
    rejected: list[tuple[int, Event | None, Exception]] = []
    setfield = msgspec.structs.force_setattr
    for data, headers, seq in messages:
        try:
            decoded = decode_message(data, headers, verify=False)
        except EventError as exc:
            rejected.append((seq, None, exc))
            continue
        if seq is not None:  # the events were just decoded and are not shared: set the field in place
            for e in decoded:
                setfield(e, "sequence", seq)
        events.extend(decoded)
    if verify and events:
        bad = verify_events(events)
        if bad:
            drop = set()
            for i, exc in bad:
                rejected.append((events[i].sequence, events[i], exc))
                drop.add(i)
            events = [e for i, e in enumerate(events) if i not in drop]
    return events, rejected


def decode_message(data: bytes, headers: dict[str, str] | None = None, *, sequence: int | None = None,
                   verify: bool = True) -> list[Event]:
    """Decode a JetStream message into the events it carries (one, or a batch's)."""
    kind = (headers or {}).get("Cim-Event-Type")
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise InvalidEventError(f"a message body must be bytes, not {type(data).__name__}")
    if kind == BATCH_TYPE or (kind is None and bytes(data[:40]).find(b'"batch_id"') >= 0):
        return decode_batch(data, verify=verify)
    return [decode_event(data, sequence=sequence, verify=verify)]


def headers_for(event: Event) -> dict[str, str]:
    """NATS headers of one event (DESIGN.md §2): de-duplication id and the CIM fields."""
    return {
        "Nats-Msg-Id": event.event_id,
        "Cim-Event-Id": event.event_id,
        "Cim-Event-Type": event.event_type,
        "Cim-Aggregate-Id": event.aggregate_id,
        "Cim-Correlation-Id": event.correlation_id,
        "Cim-Causation-Id": event.causation_id,
        "Cim-Cid": event.cid,
    }


def iter_events(messages: Iterable[tuple[bytes, dict[str, str] | None]]) -> Iterable[Event]:
    """Decode a sequence of ``(data, headers)`` messages into events."""
    for data, headers in messages:
        yield from decode_message(data, headers)
