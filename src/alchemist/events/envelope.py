"""The CIM event envelope (DESIGN.md §2), its CID chain and its wire encoding.

An :class:`Event` carries ``event_id`` (UUIDv7), ``event_type`` (snake_case, past tense),
``aggregate_type``, ``aggregate_id``, ``correlation_id``, ``causation_id``, ``timestamp``
(RFC 3339 UTC), ``payload``, ``cid`` and ``previous_cid``. The ``cid`` is the CIM CID of the
compact JSON of every other field in that order (``cid`` itself and the stream ``sequence``
excluded), so any change to the content changes the CID; an optional ``metadata`` (e.g. the
gateway's ``{"actor": ...}``) follows them, in the CID too, and is absent when None. A root event has
``correlation_id == causation_id == event_id``; a derived event (:meth:`Event.derive`) inherits
the correlation id and points its causation id at its parent.

Bulk transfer wraps many events in one ``events_batch`` message (:func:`encode_batch`), which
JetStream de-duplicates by its batch id; the events inside keep their own ids and CIDs.

Decoding is safe on hostile input: :func:`decode_event`, :func:`decode_batch` and
:func:`decode_message` raise only :class:`~alchemist.errors.EventError` subclasses, whatever the
bytes, and :func:`decode_messages` turns any failure of one message into a rejection of that
message alone. Two limits bound what one message may cost:

- :data:`MAX_MESSAGE_BYTES` (8 MiB): a larger message is refused unread
  (:class:`~alchemist.errors.MessageTooLargeError`). An ``events_batch`` of 1,000 events is about
  0.5 MB (473,627 bytes for the first 1,000 events of CollegeMsg, 484 bytes an event), so the limit
  leaves 16x headroom over ``--batch 1000``; it is also 8x NATS's default ``max_payload`` (1 MiB)
  and the largest ``max_payload`` the NATS documentation recommends, so any message a server
  configured that way stores is read.
- :data:`MAX_NESTING_DEPTH` (64): JSON objects/arrays nested deeper in one event (the envelope is
  level 1, its ``payload`` level 2) are refused (:class:`~alchemist.errors.NestingTooDeepError`),
  so no payload alchemist accepts can make a later encoder or the CIM's Rust nodes (serde_json
  stops at 128) run out of recursion. A JSON bomb nested thousands deep fails inside the decoder
  after a few thousand bytes, and is rejected with the same error.

Both are module settings, read at every call (assign ``alchemist.events.envelope.MAX_MESSAGE_BYTES``
to change them for the process), and per call through the ``max_bytes`` / ``max_depth`` arguments.
"""

from __future__ import annotations

import datetime as _dt
from operator import attrgetter
from typing import Any, Iterable

import msgspec
import numpy as np

from alchemist.errors import (
    CIDMismatchError,
    EventError,
    InvalidEventError,
    MessageTooLargeError,
    NestingTooDeepError,
)
from alchemist.events.cid import cid as _cid
from alchemist.events.cid import cid_digest, digests_from_cids
from alchemist.events.ids import uuid7
from alchemist.events.times import parse_rfc3339, rfc3339
from alchemist.events.types import validate_payload, validate_payloads

__all__ = [
    "Event", "new_event", "encode_event", "decode_event", "encode_batch", "decode_batch", "decode_message",
    "decode_messages", "verify_events", "headers_for", "rfc3339", "parse_rfc3339", "BATCH_TYPE",
    "MAX_MESSAGE_BYTES", "MAX_NESTING_DEPTH",
]

BATCH_TYPE = "events_batch"

MAX_MESSAGE_BYTES: int = 8 * 1024 * 1024
"""Largest message (bytes) the decoders read; see the module docstring for how it was chosen."""

MAX_NESTING_DEPTH: int = 64
"""Deepest JSON nesting of one event the decoders accept (envelope = 1, payload = 2)."""


class Event(msgspec.Struct, frozen=True, kw_only=True):
    """One CIM event (immutable).

    Build events with :func:`new_event` or :meth:`derive`, which compute the CID; the
    constructor is for decoding and takes the fields as they are (checked by :meth:`verify`).

    Parameters
    ----------
    event_id, event_type, aggregate_type, aggregate_id : str
        A UUIDv7, one of :data:`~alchemist.events.EVENT_TYPES`, ``"graph"``, the graph's id.
    correlation_id, causation_id : str
        The conversation the event belongs to, and the event that caused it.
    timestamp : str
        RFC 3339, UTC.
    payload : dict
        The event's data, in the schema of ``event_type``.
    cid, previous_cid : str
        The CID of the content (every field but ``cid`` and ``sequence``); the aggregate's previous.
    sequence : int or None
        The JetStream stream sequence, set on decoding; not part of the content.
    metadata : dict or None
        Who caused it (the gateway's ``{"actor": ...}``); in the CID; absent from the JSON when None.
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
    metadata: dict[str, Any] | None = None

    def content_bytes(self) -> bytes:
        """The compact JSON the CID is computed over (every field but ``cid`` and ``sequence``).

        Returns
        -------
        bytes
        """
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
                self.metadata,
            )
        )

    def compute_cid(self) -> str:
        """The CID this event's content hashes to (:func:`~alchemist.events.cid` of :meth:`content_bytes`).

        Returns
        -------
        str

        Raises
        ------
        TypeError
            As :meth:`content_bytes`.
        """
        return _cid(self.content_bytes())

    def verify(self) -> "Event":
        """Check the CID and the payload schema; return ``self``.

        Returns
        -------
        Event

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
            raise _cid_error(self, actual)
        return self

    def derive(self, event_type: str, payload: dict[str, Any], **kwargs: Any) -> "Event":
        """A new event caused by this one (same correlation id, causation id = this event's id).

        Parameters
        ----------
        event_type : str
        payload : dict
        **kwargs
            Other arguments of :func:`new_event` (the aggregate defaults to this event's).

        Returns
        -------
        Event

        Raises
        ------
        InvalidEventError, UnknownEventTypeError
            As :func:`new_event`.
        """
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
        """``timestamp`` as an aware :class:`datetime.datetime` (UTC).

        Returns
        -------
        datetime.datetime

        Raises
        ------
        InvalidEventError
            ``timestamp`` is not RFC 3339 (possible on an event constructed directly).
        """
        return parse_rfc3339(self.timestamp)


class _Content(msgspec.Struct, array_like=False, omit_defaults=True):
    event_id: str
    event_type: str
    aggregate_type: str
    aggregate_id: str
    correlation_id: str
    causation_id: str
    timestamp: str
    payload: dict[str, Any]
    previous_cid: str | None
    metadata: dict[str, Any] | None = None  # omitted when None: the CIDs of events without it unchanged


class _Wire(msgspec.Struct, omit_defaults=True):
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
    metadata: dict[str, Any] | None = None


def _wire(e: Event) -> _Wire:
    return _Wire(e.event_id, e.event_type, e.aggregate_type, e.aggregate_id, e.correlation_id,
                 e.causation_id, e.timestamp, e.payload, e.cid, e.previous_cid, e.metadata)


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
    metadata: dict[str, Any] | None = None,
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
    metadata : dict, optional
        Who caused the event, e.g. ``{"actor": "ana"}`` (see :class:`Event`).

    Returns
    -------
    Event

    Raises
    ------
    InvalidEventError, UnknownEventTypeError
        The payload does not satisfy the schema of ``event_type``.

    Examples
    --------
    >>> event = new_event("node_added", "g", {"node_id": "a"},
    ...                   event_id="0190a8e0-0000-7000-8000-000000000000", timestamp=0)
    >>> event.cid
    'bafkr4iauttnaj2zj7mzrkmhzt4egwxvzidy5ovvfxcienxpp2jpw6vc3me'
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
        metadata=metadata or None,
    )
    return msgspec.structs.replace(event, cid=event.compute_cid())


def encode_event(event: Event) -> bytes:
    """Compact JSON of the whole envelope (with ``cid``; the stream ``sequence`` is not sent).

    Parameters
    ----------
    event : Event

    Returns
    -------
    bytes
        UTF-8 JSON, the body of the NATS message.

    Raises
    ------
    TypeError
        The payload holds a value JSON cannot represent (msgspec's message).
        See :func:`decode_event` for a round trip.
    """
    return _ENCODER.encode(_wire(event))


def decode_event(data: bytes, *, sequence: int | None = None, verify: bool = True, max_bytes: int | None = None,
                 max_depth: int | None = None) -> Event:
    """Decode one envelope from JSON bytes.

    Parameters
    ----------
    data : bytes-like
        The JSON of one envelope.
    sequence : int, optional
        The JetStream stream sequence to record on the event.
    verify : bool
        Check the payload schema and the CID (:meth:`Event.verify`).
    max_bytes, max_depth : int, optional
        Limits for this call; default :data:`MAX_MESSAGE_BYTES` and :data:`MAX_NESTING_DEPTH`.

    Returns
    -------
    Event

    Raises
    ------
    MessageTooLargeError
        ``data`` is longer than ``max_bytes`` (it is not read).
    NestingTooDeepError
        JSON nested deeper than ``max_depth`` (a JSON bomb).
    InvalidEventError
        Not JSON, not UTF-8, or a field is missing or of the wrong type (the message says which).
    UnknownEventTypeError, CIDMismatchError
        When ``verify``: see :meth:`Event.verify`.

    Examples
    --------
    >>> event = new_event("node_added", "g", {"node_id": "a"}, timestamp=0)
    >>> decode_event(encode_event(event)) == event
    True
    >>> decode_event(b'{"event_id": 1}')
    Traceback (most recent call last):
    ...
    alchemist.errors.InvalidEventError: undecodable event envelope: Expected `str`, got `int` - at `$.event_id`
    """
    if type(data) is not bytes or len(data) > (MAX_MESSAGE_BYTES if max_bytes is None else max_bytes):
        data = _checked_bytes(data, max_bytes)
    try:
        event = _EVENT_DECODER.decode(data)
    except Exception as exc:
        raise _decode_error(exc, "event envelope", max_depth) from None
    limit = MAX_NESTING_DEPTH if max_depth is None else max_depth
    # the envelope's "{" and one per level of the payload: fewer openers than the limit, no walk
    if data.count(b"{") + data.count(b"[") > limit:
        _check_depth([event], limit)
    if sequence is not None:
        event = msgspec.structs.replace(event, sequence=sequence)
    return _verified(event) if verify else event


def encode_batch(events: list[Event], batch_id: str | None = None) -> tuple[str, bytes]:
    """Wrap events in one ``events_batch`` message; returns ``(batch_id, bytes)``.

    The default batch id is derived from the first and last event ids and the count, so the same
    events always form the same batch and JetStream de-duplicates a re-sent batch.

    Parameters
    ----------
    events : list of Event
        At least one.
    batch_id : str, optional

    Returns
    -------
    (str, bytes)

    Raises
    ------
    ValueError
        ``events`` is empty. See :func:`decode_batch` for a round trip.
    """
    if not events:
        raise ValueError("an events_batch needs at least one event")
    if batch_id is None:
        batch_id = f"batch-{events[0].event_id}-{events[-1].event_id}-{len(events)}"
    return batch_id, _ENCODER.encode(_WireBatch(batch_id, BATCH_TYPE, [_wire(e) for e in events]))


def decode_batch(data: bytes, *, verify: bool = True, max_bytes: int | None = None,
                 max_depth: int | None = None) -> list[Event]:
    """Decode an ``events_batch`` message into its events (each verified when ``verify``).

    Parameters
    ----------
    data : bytes-like
        The JSON of one ``events_batch`` (:func:`encode_batch`).
    verify : bool
        Check every event's payload schema and CID (:func:`verify_events`).
    max_bytes, max_depth : int, optional
        Limits for this call; default :data:`MAX_MESSAGE_BYTES` and :data:`MAX_NESTING_DEPTH`
        (the depth of each event inside the batch, counted as for a lone event).

    Returns
    -------
    list of Event

    Raises
    ------
    MessageTooLargeError, NestingTooDeepError, InvalidEventError
        As :func:`decode_event`, for the whole message.
    UnknownEventTypeError, CIDMismatchError
        When ``verify``: the first event that fails.

    Examples
    --------
    >>> events = [new_event("node_added", "g", {"node_id": n}, timestamp=0) for n in "ab"]
    >>> [e.payload["node_id"] for e in decode_batch(encode_batch(events)[1])]
    ['a', 'b']
    """
    if type(data) is not bytes or len(data) > (MAX_MESSAGE_BYTES if max_bytes is None else max_bytes):
        data = _checked_bytes(data, max_bytes)
    try:
        events = _BATCH_DECODER.decode(data).events
    except Exception as exc:
        raise _decode_error(exc, "events_batch", max_depth) from None
    limit = MAX_NESTING_DEPTH if max_depth is None else max_depth
    # Counting is cheap, walking is not. The batch object and array, every event object and every
    # non-empty payload have a "{" or "[" in data, and the deepest payload one per level, so the
    # openers left over bound the deepest payload; only when the bound passes the limit (payloads
    # with nested properties) are the payloads walked.
    others = 1 + len(events) + sum(map(bool, map(_PAYLOAD, events)))
    if _count_openers(data) - others > limit - 1:
        _check_depth(events, limit)
    if verify:
        bad = _verify_all(events)
        if bad:
            raise bad[0][1]
    return events


def verify_events(events: list[Event]) -> list[tuple[int, Exception]]:
    """Check the payload schema and the CID of many events at once.

    Equivalent to calling :meth:`Event.verify` on each event, but the payloads are validated one
    event type at a time and the CIDs compared as digests (BLAKE3 of each event's content
    against the digests of the claimed CIDs, decoded in one vectorised pass), which is several
    times faster than event by event.

    Parameters
    ----------
    events : list of Event

    Returns
    -------
    list of (index, error)
        The events that fail, in order; empty when all pass.

    Raises
    ------
    None

    Examples
    --------
    >>> import msgspec
    >>> event = new_event("node_added", "g", {"node_id": "a"},
    ...                   event_id="0190a8e0-0000-7000-8000-000000000000", timestamp=0)
    >>> verify_events([event, msgspec.structs.replace(event, payload={"node_id": "b"})])[0][0]
    1
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
                                       e.causation_id, e.timestamp, e.payload, e.previous_cid, e.metadata))).digest()
                        for e in events])
    actual = np.frombuffer(digests, dtype=np.uint8).reshape(-1, 32)
    claimed, valid = digests_from_cids([e.cid for e in events])
    same = valid & (actual == claimed).all(axis=1)
    for i in np.flatnonzero(~same).tolist():
        if i not in bad:
            bad[i] = _cid_error(events[i], events[i].compute_cid())
    return sorted(bad.items())


def _cid_error(event: Event, actual: str) -> CIDMismatchError:
    """The error for an event whose ``cid`` is not ``actual`` (the CID of its content): the CID
    rule it breaks (:func:`~alchemist.events.cid.cid_digest`: form, prefix, canonical spelling),
    else a plain mismatch. One message for :meth:`Event.verify` and :func:`verify_events`."""
    where = f"event {event.event_id} ({event.event_type})"
    try:
        cid_digest(event.cid)
    except CIDMismatchError as exc:
        return type(exc)(f"{where} has an invalid cid: {exc}")
    return CIDMismatchError(f"{where} claims CID {event.cid} but its content hashes to {actual}")


def _verified(event: Event) -> Event:
    """:meth:`Event.verify`, with an unexpected exception (a payload too odd for the encoder)
    turned into :class:`InvalidEventError`."""
    try:
        return event.verify()
    except EventError:
        raise
    except Exception as exc:
        raise InvalidEventError(f"event {event.event_id!r} cannot be verified: {_describe(exc)}") from None


def _verify_all(events: list[Event]) -> list[tuple[int, Exception]]:
    """:func:`verify_events`; should it raise (one odd event spoils the vectorised pass), each event
    is verified on its own so that the culprit alone is rejected."""
    try:
        return verify_events(events)
    except Exception:
        bad = []
        for i, e in enumerate(events):
            try:
                _verified(e)
            except EventError as exc:
                bad.append((i, exc))
        return bad


def decode_messages(messages: Iterable[tuple[bytes, dict[str, str] | None, int | None]], *, verify: bool = True,
                    max_bytes: int | None = None, max_depth: int | None = None
                    ) -> tuple[list[Event], list[tuple[int, Event | None, Exception]]]:
    """Decode and verify many JetStream messages at once (a consumer's fetch).

    Each message is judged on its own: whatever one message holds (not JSON, not UTF-8, wrong
    schema, more than ``max_bytes``, nested deeper than ``max_depth``, or anything else that makes
    decoding fail), it is rejected once and the other messages are decoded as usual.

    Parameters
    ----------
    messages : iterable of (data, headers, stream_sequence)
    verify : bool
        Check every event's payload schema and CID (:func:`verify_events`).
    max_bytes, max_depth : int, optional
        Limits for this call; default :data:`MAX_MESSAGE_BYTES` and :data:`MAX_NESTING_DEPTH`.

    Returns
    -------
    events : list of Event
        The good events, in order, each with ``sequence`` set to its message's stream sequence.
    rejected : list of (stream_sequence, event or None, error)
        A message that cannot be decoded as a whole: ``(sequence, None, error)``, once, with
        ``error`` an :class:`~alchemist.errors.InvalidEventError` (or its subclass
        :class:`~alchemist.errors.MessageTooLargeError` or
        :class:`~alchemist.errors.NestingTooDeepError`) whose message gives the reason. An event
        that decodes but fails :func:`verify_events`: ``(sequence, event, error)`` with an
        :class:`~alchemist.errors.EventError` (schema, unknown type,
        :class:`~alchemist.errors.CIDMismatchError`, :class:`~alchemist.errors.NonCanonicalCIDError`);
        the other events of its batch are kept.

    Raises
    ------
    None
        Every failure is reported in ``rejected``.

    Examples
    --------
    >>> good = encode_event(new_event("node_added", "g", {"node_id": "a"}, timestamp=0))
    >>> bomb = b'{"payload": {"x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}}"
    >>> events, rejected = decode_messages([(good, None, 1), (bomb, None, 2), (good[:-1], None, 3)])
    >>> [e.sequence for e in events], [(seq, type(exc).__name__) for seq, _, exc in rejected]
    ([1], [(2, 'NestingTooDeepError'), (3, 'InvalidEventError')])
    """
    events: list[Event] = []
    rejected: list[tuple[int, Event | None, Exception]] = []
    setfield = msgspec.structs.force_setattr
    for data, headers, seq in messages:
        try:
            decoded = decode_message(data, headers, verify=False, max_bytes=max_bytes, max_depth=max_depth)
        except EventError as exc:
            rejected.append((seq, None, exc))
            continue
        except Exception as exc:  # decode_message converts what it knows; this is the last guard
            rejected.append((seq, None, InvalidEventError(f"undecodable message: {_describe(exc)}")))
            continue
        if seq is not None:  # the events were just decoded and are not shared: set the field in place
            for e in decoded:
                setfield(e, "sequence", seq)
        events.extend(decoded)
    if verify and events:
        bad = _verify_all(events)
        if bad:
            drop = set()
            for i, exc in bad:
                rejected.append((events[i].sequence, events[i], exc))
                drop.add(i)
            events = [e for i, e in enumerate(events) if i not in drop]
    return events, rejected


def decode_message(data: bytes, headers: dict[str, str] | None = None, *, sequence: int | None = None,
                   verify: bool = True, max_bytes: int | None = None, max_depth: int | None = None) -> list[Event]:
    """Decode a JetStream message into the events it carries (one, or a batch's).

    Parameters
    ----------
    data : bytes-like
        The message body.
    headers : dict, optional
        The message headers; ``Cim-Event-Type: events_batch`` marks a batch (without that header,
        a body that starts with a ``batch_id`` field is one).
    sequence : int, optional
        The stream sequence, recorded on a lone event.
    verify, max_bytes, max_depth
        As :func:`decode_event`.

    Returns
    -------
    list of Event

    Raises
    ------
    EventError
        Only subclasses of it, whatever ``data`` and ``headers`` hold: see :func:`decode_event`
        and :func:`decode_batch`.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise InvalidEventError(f"a message body must be bytes, not {type(data).__name__}")
    try:
        kind = (headers or {}).get("Cim-Event-Type")
        batch = kind == BATCH_TYPE or (kind is None and bytes(data[:40]).find(b'"batch_id"') >= 0)
    except Exception as exc:
        raise InvalidEventError(f"unreadable message headers ({type(headers).__name__}): {_describe(exc)}") from None
    if batch:
        return decode_batch(data, verify=verify, max_bytes=max_bytes, max_depth=max_depth)
    return [decode_event(data, sequence=sequence, verify=verify, max_bytes=max_bytes, max_depth=max_depth)]


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text[:300]}" if text else type(exc).__name__


def _checked_bytes(data, max_bytes: int | None):
    """``data`` after the type and size checks (nothing is read when it is too large)."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise InvalidEventError(f"a message body must be bytes, not {type(data).__name__}")
    limit = MAX_MESSAGE_BYTES if max_bytes is None else max_bytes
    size = data.nbytes if isinstance(data, memoryview) else len(data)
    if size > limit:
        raise MessageTooLargeError(
            f"message of {size:,} bytes exceeds MAX_MESSAGE_BYTES={limit:,}; publish smaller batches (e.g. "
            "`alchemist replay --batch 1000`) or raise alchemist.events.envelope.MAX_MESSAGE_BYTES")
    return bytes(data) if isinstance(data, memoryview) else data


def _decode_error(exc: Exception, what: str, max_depth: int | None) -> InvalidEventError:
    """The :class:`InvalidEventError` for a failure of the JSON decoder, naming the reason."""
    if isinstance(exc, RecursionError):  # the decoder's own guard: it stops at the interpreter's recursion limit
        return NestingTooDeepError(
            f"{what} nests JSON arrays/objects deeper than MAX_NESTING_DEPTH="
            f"{MAX_NESTING_DEPTH if max_depth is None else max_depth} (deeper than the decoder follows: a JSON "
            "bomb, refused unread past that depth)")
    if isinstance(exc, msgspec.DecodeError):  # malformed JSON, bad UTF-8, wrong schema (ValidationError)
        return InvalidEventError(f"undecodable {what}: {exc}")
    return InvalidEventError(f"undecodable {what}: {_describe(exc)}")  # e.g. MemoryError


_PAYLOAD = attrgetter("payload")


def _count_openers(data) -> int:
    """Number of ``{`` and ``[`` bytes in ``data`` (in strings too: an upper bound on containers)."""
    if len(data) < 4096:
        data = bytes(data)
        return data.count(b"{") + data.count(b"[")
    # one vectorised pass: b | 0x20 == 0x7b exactly for '{' (0x7b) and '[' (0x5b)
    return int(np.count_nonzero((np.frombuffer(data, dtype=np.uint8) | 32) == 123))


def _check_depth(events: list[Event], limit: int) -> None:
    """Refuse events nested deeper than ``limit`` levels (envelope 1, payload 2, ...)."""
    for event in events:
        if _nests_deeper(event.payload, limit - 1):
            raise NestingTooDeepError(
                f"event {event.event_id!r} ({event.event_type}) nests its payload deeper than MAX_NESTING_DEPTH="
                f"{limit} (envelope 1, payload 2); flatten the payload or raise "
                "alchemist.events.envelope.MAX_NESTING_DEPTH")


def _nests_deeper(value, limit: int) -> bool:
    """Whether decoded JSON ``value`` has more than ``limit`` levels of dicts/lists (``value`` = 1)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        for child in (item.values() if type(item) is dict else item):
            if type(child) is dict or type(child) is list:
                stack.append((child, depth + 1))
    return False


def headers_for(event: Event) -> dict[str, str]:
    """NATS headers of one event (DESIGN.md §2): de-duplication id and the CIM fields.

    Parameters
    ----------
    event : Event

    Returns
    -------
    dict of str to str
        ``Nats-Msg-Id`` (the event id) and the ``Cim-*`` fields.

    Raises
    ------
    None
    """
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
    """Decode a sequence of ``(data, headers)`` messages into events (lazily).

    Parameters
    ----------
    messages : iterable of (bytes, dict or None)

    Returns
    -------
    iterator of Event

    Raises
    ------
    EventError
        As :func:`decode_message`, when the iterator reaches the bad message.
    """
    for data, headers in messages:
        yield from decode_message(data, headers)
