"""CIM events: the envelope, CIDs, identifiers and subjects (DESIGN.md §2)."""

from alchemist.events.cid import cid, cid_of_json, compact_json, verify_cid
from alchemist.events.envelope import (
    BATCH_TYPE,
    Event,
    decode_batch,
    decode_event,
    decode_message,
    decode_messages,
    verify_events,
    encode_batch,
    encode_event,
    headers_for,
    new_event,
    parse_rfc3339,
    rfc3339,
)
from alchemist.events.ids import uuid7
from alchemist.events.subjects import DEFAULT_SUBJECTS, SubjectTemplate
from alchemist.events.types import EVENT_TYPES, GRAPH_EVENT_TYPES, register_event_type, validate_payload

__all__ = [
    "BATCH_TYPE", "DEFAULT_SUBJECTS", "EVENT_TYPES", "GRAPH_EVENT_TYPES", "Event", "SubjectTemplate",
    "cid", "cid_of_json", "compact_json", "decode_batch", "decode_event", "decode_message",
    "decode_messages", "encode_batch", "encode_event", "headers_for", "verify_events", "new_event", "parse_rfc3339", "register_event_type",
    "rfc3339", "uuid7", "validate_payload", "verify_cid",
]
