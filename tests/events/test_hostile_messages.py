"""Hostile messages, one kind each: every bad message is rejected once, with its reason, and the
valid messages around it are decoded as if it were not there (issue 13, items 1 and 5).

Each test feeds ``decode_messages`` a fetch of [valid, bad, valid] (and, where the kind allows,
an ``events_batch`` holding valid and bad events) and checks the sequences of what comes back;
the single-message functions (``decode_event``, ``decode_batch``, ``decode_message``) must raise an
alchemist ``EventError`` for the same bytes, never ``RecursionError``, ``UnicodeDecodeError`` or
a msgspec error.
"""

import base64
import json

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alchemist.errors import (
    CIDMismatchError,
    EventError,
    InvalidEventError,
    MessageTooLargeError,
    NestingTooDeepError,
    NonCanonicalCIDError,
)
from alchemist.events import decode_batch, decode_event, decode_message, decode_messages, encode_batch, encode_event
from alchemist.events import envelope, new_event, verify_events
from alchemist.events.cid import cid_digest, digests_from_cids

BATCH_HEADERS = {"Cim-Event-Type": "events_batch"}


def node(name: str, **properties):
    return new_event("node_added", "g", {"node_id": name, "properties": properties} if properties else
                     {"node_id": name}, timestamp=1_700_000_000)


def fetch_around(bad: bytes, headers=None):
    """[valid seq 1, bad seq 2, valid seq 3] through decode_messages."""
    a, b = node("a"), node("b")
    return decode_messages([(encode_event(a), None, 1), (bad, headers, 2), (encode_event(b), None, 3)]), (a, b)


def assert_only_middle_rejected(result, expected_error, reason):
    (events, rejected), (a, b) = result
    assert [(e.sequence, e.event_id) for e in events] == [(1, a.event_id), (3, b.event_id)]
    assert len(rejected) == 1
    seq, event, exc = rejected[0]
    assert seq == 2 and event is None
    assert type(exc) is expected_error
    assert reason in str(exc)


def single_raises(data: bytes, expected_error, reason: str):
    """The single-message functions raise the same alchemist error for ``data``."""
    for call in (decode_event, decode_batch):  # decode_batch of a lone event fails too, as an EventError
        with pytest.raises(EventError):
            call(data)
    with pytest.raises(expected_error, match=reason):
        decode_message(data)


def nested_properties(levels: int) -> dict:
    """A properties value with ``levels`` nested lists (built by hand, depth known)."""
    value: object = "leaf"
    for _ in range(levels):
        value = [value]
    return {"x": value}


# --------------------------------------------------------------------------- 1. JSON bomb
def test_json_bomb_of_the_issue_is_rejected_not_a_recursion_error():
    # the reproduction of issue 13: ~200 KB of nesting in the payload of a node_added envelope
    record = json.loads(encode_event(node("bomb")))
    text = json.dumps(record).replace('"payload": {', '"payload": {"x": ' + "[" * 100_000 + "]" * 100_000 + ", ", 1)
    bomb = text.encode()
    assert len(bomb) > 200_000
    assert_only_middle_rejected(fetch_around(bomb), NestingTooDeepError, "MAX_NESTING_DEPTH=64")
    single_raises(bomb, NestingTooDeepError, "deeper than MAX_NESTING_DEPTH=64")
    # the same bomb as one event of an events_batch: that message is rejected once, as a whole
    _, batch = encode_batch([node("c"), node("d")])
    batch_bomb = batch.replace(b'"payload":{', b'"payload":{"x":' + b"[" * 100_000 + b"]" * 100_000 + b",", 1)
    assert_only_middle_rejected(fetch_around(batch_bomb, BATCH_HEADERS), NestingTooDeepError, "events_batch")
    with pytest.raises(NestingTooDeepError):
        decode_batch(batch_bomb)


def test_nesting_limit_is_exact_and_counts_the_envelope_as_level_one():
    limit = envelope.MAX_NESTING_DEPTH
    assert limit == 64
    # envelope 1, payload 2, properties 3, then one level per list: 61 lists reach level 64
    at_limit = node("deep", **nested_properties(limit - 3))
    over = node("deeper", **nested_properties(limit - 2))
    assert decode_event(encode_event(at_limit)) == at_limit
    (events, rejected), _ = fetch_around(encode_event(over))
    assert [e.sequence for e in events] == [1, 3]
    assert [(seq, type(exc)) for seq, _, exc in rejected] == [(2, NestingTooDeepError)]
    assert over.event_id in str(rejected[0][2]) and "MAX_NESTING_DEPTH=64" in str(rejected[0][2])
    # the limit is a setting: per call, and for the process
    assert decode_event(encode_event(over), max_depth=limit + 1) == over
    with pytest.raises(NestingTooDeepError, match="MAX_NESTING_DEPTH=10"):
        decode_event(encode_event(at_limit), max_depth=10)


def test_deep_event_inside_a_batch_of_nested_payloads():
    # every event has a properties object, so the cheap opener count cannot clear the batch and
    # the payloads are walked: shallow ones pass, one over the limit rejects its message
    shallow = [node(f"n{i}", colour={"r": 1, "g": [2, 3]}) for i in range(200)]
    _, ok = encode_batch(shallow)
    assert decode_batch(ok) == shallow
    deep = node("deep", **nested_properties(envelope.MAX_NESTING_DEPTH - 2))
    _, bad = encode_batch(shallow[:100] + [deep] + shallow[100:])
    (events, rejected), _ = fetch_around(bad, BATCH_HEADERS)
    assert [e.sequence for e in events] == [1, 3]
    assert len(rejected) == 1 and rejected[0][0] == 2 and type(rejected[0][2]) is NestingTooDeepError
    assert deep.event_id in str(rejected[0][2])


# --------------------------------------------------------------------------- 2. oversize
def test_oversize_message_is_refused_unread():
    limit = envelope.MAX_MESSAGE_BYTES
    assert limit == 8 * 1024 * 1024
    # a valid event padded to exactly the limit is read; one byte more is refused
    base = len(encode_event(node("big", blob="")))
    fits = node("big", blob="x" * (limit - base))
    data = encode_event(fits)
    assert len(data) == limit
    assert decode_event(data) == fits
    too_big = encode_event(node("big", blob="x" * (limit - base + 1)))
    assert len(too_big) == limit + 1
    reason = f"message of {limit + 1:,} bytes exceeds MAX_MESSAGE_BYTES={limit:,}"
    assert_only_middle_rejected(fetch_around(too_big), MessageTooLargeError, reason)
    single_raises(too_big, MessageTooLargeError, "exceeds MAX_MESSAGE_BYTES")
    # refused before parsing: bytes that are not even JSON get the size error, not a parse error
    with pytest.raises(MessageTooLargeError):
        decode_message(b"\xff" * (limit + 1))
    # per call
    with pytest.raises(MessageTooLargeError, match="exceeds MAX_MESSAGE_BYTES=100;"):
        decode_event(encode_event(node("a")), max_bytes=100)


def test_bulk_batches_fit_the_limit_with_headroom():
    # a --batch 1000 message of edge_added events like a replay's is far below the limit
    events = [new_event("edge_added", "graph-0", {"edge_id": f"e{i}", "source": str(i), "target": str(i + 1),
                                                  "weight": 1.0}, timestamp=1_700_000_000 + i) for i in range(1000)]
    _, data = encode_batch(events)
    assert len(data) * 8 < envelope.MAX_MESSAGE_BYTES
    assert decode_batch(data) == events


# --------------------------------------------------------------------------- 3. bad UTF-8
@pytest.mark.parametrize("raw", [b"\xff\xfe", b"\xc0\xaf", b"\xed\xa0\x80", b"ok\x80"],
                         ids=["invalid-bytes", "overlong", "encoded-surrogate", "lone-continuation"])
def test_bad_utf8_is_rejected(raw):
    with pytest.raises(UnicodeDecodeError):  # independent check: these bytes are not UTF-8
        raw.decode("utf-8")
    bad = encode_event(node("PLACEHOLDER")).replace(b"PLACEHOLDER", raw)
    assert_only_middle_rejected(fetch_around(bad), InvalidEventError, "UTF-8")
    single_raises(bad, InvalidEventError, "UTF-8")
    _, batch = encode_batch([node("c"), node("PLACEHOLDER")])
    assert_only_middle_rejected(fetch_around(batch.replace(b"PLACEHOLDER", raw), BATCH_HEADERS), InvalidEventError,
                                "UTF-8")


def test_escaped_lone_surrogate_is_rejected():
    bad = encode_event(node("PLACEHOLDER")).replace(b"PLACEHOLDER", b"\\ud800")
    assert_only_middle_rejected(fetch_around(bad), InvalidEventError, "surrogate")


# --------------------------------------------------------------------------- 4. wrong schema
@pytest.mark.parametrize("change, reason", [
    (lambda r: r.update(correlation_id=12345), "Expected `str`, got `int` - at `$.correlation_id`"),
    (lambda r: r.pop("event_id"), "missing required field `event_id`"),
    (lambda r: r.update(payload=["node_id", "a"]), "Expected `object`, got `array` - at `$.payload`"),
    (lambda r: r.update(timestamp=None), "Expected `str`, got `null` - at `$.timestamp`"),
], ids=["correlation_id-int", "no-event_id", "payload-array", "timestamp-null"])
def test_wrong_envelope_schema_is_rejected(change, reason):
    record = json.loads(encode_event(node("x")))
    change(record)
    bad = json.dumps(record).encode()
    assert_only_middle_rejected(fetch_around(bad), InvalidEventError, reason)
    single_raises(bad, InvalidEventError, "undecodable event envelope")


def test_wrong_payload_schema_rejects_that_event_only():
    # the envelope decodes, the payload lacks node_id: the event is rejected by verification with
    # the event attached; the other events of its events_batch are kept
    good = [node(f"n{i}") for i in range(3)]
    no_id = new_event("node_added", "g", {"name": "no id"}, timestamp=0, validate=False)
    _, batch = encode_batch([good[0], no_id, good[1], good[2]])
    events, rejected = decode_messages([(encode_event(node("a")), None, 1), (batch, BATCH_HEADERS, 2)])
    assert [(e.sequence, e.event_id) for e in events][1:] == [(2, g.event_id) for g in good]
    assert len(rejected) == 1
    seq, event, exc = rejected[0]
    assert seq == 2 and event.event_id == no_id.event_id
    assert isinstance(exc, InvalidEventError) and "node_id" in str(exc)


def test_not_bytes_and_odd_headers_are_rejected():
    assert_only_middle_rejected(fetch_around("text, not bytes"), InvalidEventError, "must be bytes, not str")
    assert_only_middle_rejected(fetch_around(encode_event(node("c")), headers=["not", "a", "dict"]), InvalidEventError,
                                "unreadable message headers")


def test_any_exception_of_the_decoder_is_a_rejection(monkeypatch):
    # whatever the JSON decoder raises (here MemoryError and a bare ValueError) becomes an
    # InvalidEventError for that message alone
    class Exploding:
        def __init__(self, exc):
            self.exc = exc

        def decode(self, data):
            if b"boom" in data:
                raise self.exc
            return real.decode(data)

    real = envelope._EVENT_DECODER
    for exc, name in ((MemoryError(), "MemoryError"), (ValueError("odd"), "ValueError: odd")):
        monkeypatch.setattr(envelope, "_EVENT_DECODER", Exploding(exc))
        assert_only_middle_rejected(fetch_around(encode_event(node("boom"))), InvalidEventError, name)
        with pytest.raises(InvalidEventError, match=name):
            decode_event(encode_event(node("boom")))


def test_a_failure_inside_batch_verification_isolates_the_culprit(monkeypatch):
    # if the vectorised check itself fails, each event is verified alone: the good ones pass
    good = [node(f"n{i}") for i in range(3)]

    def broken(events):
        raise RuntimeError("vectorised check failed")

    monkeypatch.setattr(envelope, "verify_events", broken)
    tampered = msgspec.structs.replace(good[1], aggregate_id="other")
    _, batch = encode_batch([good[0], tampered, good[2]])
    events, rejected = decode_messages([(batch, BATCH_HEADERS, 5)])
    assert [e.event_id for e in events] == [good[0].event_id, good[2].event_id]
    assert [(seq, e.event_id, type(exc)) for seq, e, exc in rejected] == [(5, tampered.event_id, CIDMismatchError)]


# --------------------------------------------------------------------------- 5. non-canonical CID
ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"  # RFC 4648 §6, lower case


def spellings(value: str) -> list[str]:
    """The 4 spellings of a CID: its last character with each value of the 2 padding bits."""
    symbol = ALPHABET.index(value[-1])
    assert symbol & 3 == 0  # canonical: 58 characters x 5 bits = 290 bits for 288 bits of CID
    return [value[:-1] + ALPHABET[symbol | pad] for pad in range(4)]


def stdlib_digest(value: str) -> bytes:
    body = value[1:].upper()
    return base64.b32decode(body + "=" * (-len(body) % 8))[4:]


def test_only_the_canonical_cid_spelling_is_accepted():
    event = node("canonical")
    names = spellings(event.cid)
    assert names[0] == event.cid
    # independent check that they are one CID: the standard library decodes all 4 to one digest
    assert len({stdlib_digest(n) for n in names}) == 1
    # the batch check
    digests, valid = digests_from_cids(names)
    assert valid.tolist() == [True, False, False, False]
    assert bytes(digests[0]) == stdlib_digest(event.cid)
    # the single value check
    assert cid_digest(names[0]) == stdlib_digest(event.cid)
    for name in names[1:]:
        with pytest.raises(NonCanonicalCIDError, match=f"canonical spelling of the same digest is '{event.cid}'"):
            cid_digest(name)
    # Event.verify and verify_events: one rule, one error
    variants = [msgspec.structs.replace(event, cid=n) for n in names]
    assert variants[0].verify() is variants[0]
    bad = verify_events(variants)
    assert [i for i, _ in bad] == [1, 2, 3]
    for (i, exc), variant in zip(bad, variants[1:]):
        with pytest.raises(NonCanonicalCIDError) as info:
            variant.verify()
        assert type(exc) is NonCanonicalCIDError and str(exc) == str(info.value)
        assert f"its last character {names[i][-1]!r} carries non-zero padding bits" in str(exc)
        assert event.event_id in str(exc)


def test_non_canonical_cid_in_a_fetch_and_in_a_batch():
    event = node("c")
    names = spellings(event.cid)
    for name in names[1:]:
        bad = msgspec.structs.replace(event, cid=name)
        (events, rejected), (a, b) = fetch_around(encode_event(bad))
        assert [e.sequence for e in events] == [1, 3]
        assert [(seq, e.cid, type(exc)) for seq, e, exc in rejected] == [(2, name, NonCanonicalCIDError)]
        good = [node(f"n{i}") for i in range(3)]
        _, batch = encode_batch([good[0], bad, good[1], good[2]])
        events, rejected = decode_messages([(batch, BATCH_HEADERS, 9)])
        assert [e.event_id for e in events] == [g.event_id for g in good]
        assert [(seq, e.event_id, type(exc)) for seq, e, exc in rejected] == [(9, event.event_id,
                                                                                NonCanonicalCIDError)]
        with pytest.raises(NonCanonicalCIDError):
            decode_batch(batch)


# --------------------------------------------------------------------------- any bytes at all
@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0), st.binary(max_size=64), st.integers(min_value=0, max_value=3000))
def test_spliced_bytes_raise_only_event_errors(position, junk, depth):
    # a valid batch with junk (and sometimes an opened nesting) spliced in anywhere: the single-message
    # functions raise EventError or return events; decode_messages rejects it once or decodes it
    _, batch = encode_batch([node("a"), node("b", colour={"r": [1]})])
    k = position % (len(batch) + 1)
    data = batch[:k] + junk + b"[" * depth + batch[k:]
    for call in (decode_event, decode_batch, lambda d: decode_message(d, BATCH_HEADERS), decode_message):
        try:
            call(data)
        except EventError:
            pass
    events, rejected = decode_messages([(data, None, 1)])
    assert all(isinstance(exc, EventError) for _, _, exc in rejected)
    assert len({seq for seq, event, _ in rejected if event is None}) <= 1


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=40), st.integers(min_value=0, max_value=60),
       st.sampled_from(list(ALPHABET + ALPHABET.upper() + "0189=!é ")), st.booleans())
def test_single_and_batch_cid_checks_agree(content, position, char, insert):
    # cid_digest (one value) and digests_from_cids (vectorised) accept exactly the same strings:
    # valid CIDs with one character replaced or inserted anywhere, canonical or not
    from alchemist.events import cid

    value = cid(content)
    k = min(position, len(value))
    mutated = value[:k] + char + value[k + (0 if insert else 1):]
    digests, valid = digests_from_cids([value, mutated])
    assert valid[0] and bytes(digests[0]) == cid_digest(value) == stdlib_digest(value)
    try:
        single = cid_digest(mutated)
    except CIDMismatchError:
        single = None
    assert (single is not None) == bool(valid[1])
    if single is not None:
        assert single == bytes(digests[1]) == stdlib_digest(mutated)
