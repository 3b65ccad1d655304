"""The decoder never crashes on arbitrary bytes: it returns events or raises an EventError."""

import json

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from alchemist.errors import EventError
from alchemist.events import decode_messages, encode_event, new_event, verify_events

GOOD = new_event("node_added", "g", {"node_id": "a"}, timestamp=0)

json_values = st.recursive(st.none() | st.booleans() | st.floats(allow_nan=False) | st.integers() | st.text(),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
                           max_leaves=12)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_are_rejected_not_crashing(data):
    events, rejected = decode_messages([(data, None, 1)])
    assert len(events) + len(rejected) >= 1 or data.strip() == b""
    for _seq, _event, exc in rejected:
        assert isinstance(exc, EventError)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(sorted(msgspec.structs.asdict(GOOD))), json_values)
def test_any_field_change_is_caught(field, value):
    record = json.loads(encode_event(GOOD))
    if field == "sequence" or record.get(field) == value:
        return
    record[field] = value
    events, rejected = decode_messages([(json.dumps(record).encode(), None, 7)])
    # a changed envelope either fails to decode or fails its CID / schema check
    assert not events
    assert len(rejected) == 1 and isinstance(rejected[0][2], EventError)


def test_good_event_passes_and_keeps_sequence():
    events, rejected = decode_messages([(encode_event(GOOD), None, 42)])
    assert rejected == [] and events[0].sequence == 42 and events[0].event_id == GOOD.event_id
    assert verify_events(events) == []
