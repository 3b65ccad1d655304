"""The compiled wire generator (events/wire.py) writes exactly the envelopes new_event/encode_event
would, with CIDs from the blake3 package, whatever the chunk size."""

import base64
import json

import blake3
import msgspec
import numpy as np
import pytest

from alchemist.events.wire import count_events, edge_list_batches, edge_list_records, edge_list_table
from alchemist.events import decode_batch, decode_event, encode_event, new_event
from alchemist.events.cid import cid
from alchemist.graph.io import read_edge_list

LINES = ["a b 1082008800", "b c 1082008801", "a b 1082008802", "c c 1082008803", "Zoë q 1082008803",
         "x\\y a 1082008900", "𝔘 Zoë 1082009000"]


def edges_of(tmp_path):
    path = tmp_path / "edges.txt"
    path.write_text("# comment\n" + "\n".join(LINES) + "\n", encoding="utf-8")
    return read_edge_list(path)


def reference_cid(content: bytes) -> str:
    """The CIM CID spelled out with the blake3 package and the standard library's base32 (CIDv1,
    raw 0x55, BLAKE3-256 multihash 0x1e 0x20, multibase 'b' lower case, unpadded)."""
    raw = bytes([0x01, 0x55, 0x1E, 0x20]) + blake3.blake3(content).digest()
    return "b" + base64.b32encode(raw).decode().rstrip("=").lower()


def test_reference_cid_matches_a_published_cim_cid():
    # the first event of ../shared/data/cim_fixtures/dialog-dag.json (a real CIM conversation),
    # fields in the order its SOURCE.md gives
    content = {"event_id": "10a6e950-b468-48ac-a9a3-5a21864ae3fa", "type": "user", "user_said": "what is our status",
               "i_understood": "Request repository build/test/lint status", "what_i_did": [], "parent_cid": None,
               "timestamp": 1757901548}
    data = json.dumps(content, separators=(",", ":"), ensure_ascii=False).encode()
    assert reference_cid(data) == "bafkr4ibq2u5w6osswjrhhwc6nclne3evromjkn3zmze6dxnfvfs4zxk6me"


def test_records_are_the_envelopes_new_event_builds(tmp_path):
    edges = edges_of(tmp_path)
    records = list(edge_list_records(edges, "g"))
    assert len(records) == count_events(edges)
    seen, previous, line = set(), None, 0
    for k, record in enumerate(records):
        event = decode_event(record.data, verify=True)  # the CID is checked against the content
        assert (event.event_id, event.event_type, event.cid) == (record.event_id, record.event_type, record.cid)
        assert event.previous_cid == previous
        # rebuild the event independently from the file's line and compare the bytes
        if k == 0:
            assert event.event_type == "graph_created"
        else:
            u, v, t = LINES[line].rsplit(" ", 2)[0], LINES[line].rsplit(" ", 2)[1], int(LINES[line].rsplit(" ", 2)[2])
            if event.event_type == "node_added":
                node = event.payload["node_id"]
                assert node in (u, v) and node not in seen
                seen.add(node)
                payload = {"node_id": node}
            else:
                assert {u, v} <= seen
                payload = {"edge_id": f"e{line}", "source": u, "target": v, "weight": 1.0}
                line += 1
            rebuilt = new_event(event.event_type, "g", payload, event_id=event.event_id, timestamp=t,
                                previous_cid=previous, validate=False)
            assert encode_event(rebuilt) == record.data
            content = json.loads(record.data)
            del content["cid"]
            assert cid(json.dumps(content, separators=(",", ":"), ensure_ascii=False).encode()) == record.cid
            assert record.cid == reference_cid(json.dumps(content, separators=(",", ":"), ensure_ascii=False).encode())
        previous = record.cid
    assert line == len(LINES)


def test_batches_carry_the_same_events_and_resume_from_start(tmp_path):
    edges = edges_of(tmp_path)
    records = list(edge_list_records(edges, "g"))
    batches = list(edge_list_batches(edges, "g", batch=4))
    assert [n for _, _, n in batches] == [4, 4, 4, len(records) - 12]
    events = [e for _, data, _ in batches for e in decode_batch(data)]
    assert [encode_event(e) for e in events] == [r.data for r in records]
    batch_id, data, _ = batches[1]
    assert msgspec.json.decode(data)["batch_id"] == batch_id == f"batch-{records[4].event_id}-{records[7].event_id}-4"
    tail = list(edge_list_batches(edges, "g", batch=100, start=5))
    assert [e.event_id for e in decode_batch(tail[0][1])] == [r.event_id for r in records[5:]]


def test_table_rows_match_the_records(tmp_path):
    edges = edges_of(tmp_path)
    records = list(edge_list_records(edges, "g"))[1:]
    table = edge_list_table(edges, "g")
    assert table.column("event_id").to_pylist() == [r.event_id for r in records]
    assert table.column("event_type").to_pylist() == [r.event_type for r in records]
    events = [decode_event(r.data, verify=False) for r in records]
    assert table.column("node_id").to_pylist() == [e.payload.get("node_id") for e in events]
    for column in ("source", "target", "edge_id"):
        assert table.column(column).to_pylist() == [e.payload.get(column) for e in events]
    stamps = np.array([int(np.datetime64(e.timestamp[:-1], "s").astype(np.int64)) for e in events])
    np.testing.assert_array_equal(table.column("timestamp").to_numpy(), stamps)


def test_line_times_are_formatted_like_rfc3339():
    from alchemist.events.wire_plan import rfc3339_bytes as _rfc3339_many
    from alchemist.events import rfc3339

    rng = np.random.default_rng(3)
    seconds = np.concatenate([[0, 86399, 86400, 951782400, 951868800, 4102444800, 253402300799],
                              rng.integers(0, 253402300800, 2000)]).astype(np.float64)  # leap days, 9999-12-31
    buffer, offsets = _rfc3339_many(seconds)
    text = buffer.tobytes().decode()
    assert [text[a:b] for a, b in zip(offsets[:-1], offsets[1:])] == [rfc3339(int(s)) for s in seconds]
    buffer, offsets = _rfc3339_many(np.array([1.5, 2.0]))  # fractional seconds take the general path
    assert buffer.tobytes().decode() == rfc3339(1.5) + rfc3339(2)


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 1000])
def test_chunks_give_the_same_bytes_and_chain(tmp_path, chunk):
    edges = edges_of(tmp_path)
    whole = list(edge_list_records(edges, "g", chunk=1000))
    assert list(edge_list_records(edges, "g", chunk=chunk)) == whole
    for start in (1, 2, 4, 7, len(whole) - 1):  # starts inside and at the edges of chunks
        assert list(edge_list_records(edges, "g", chunk=chunk, start=start)) == whole[start:]
        batches = list(edge_list_batches(edges, "g", batch=2, start=start, chunk=chunk))
        assert [e.event_id for _, data, _ in batches for e in decode_batch(data)] == [r.event_id for r in whole[start:]]
        assert all(n == 2 for _, _, n in batches[:-1])  # batches from the start point, whatever the chunk


def test_the_plan_finds_its_own_ids_only(tmp_path):
    from alchemist.events.wire import plan_edge_list

    edges = edges_of(tmp_path)
    records = list(edge_list_records(edges, "g"))
    plan = plan_edge_list(edges, "g")
    assert [plan.position(r.event_id) for r in records] == list(range(len(records)))
    other = list(edge_list_records(edges, "h"))  # another graph id: other ids
    assert [plan.position(r.event_id) for r in other] == [None] * len(other)
    assert plan.position("not-an-id") is None


@pytest.mark.parametrize("text", [
    "# comment\n% other\na b 10\nb c 11\n\nc a 12\n",  # comments and a blank line
    "a\tb\nb\tc\nc\ta",  # tabs, two columns, no final line end
    "Zoë q 5\nx\\y a 6\n𝔘 Zoë 7\n" * 50,  # non-ASCII and a backslash, over several blocks
])
def test_a_file_read_in_blocks_gives_the_events_of_read_edge_list(tmp_path, text):
    import gzip

    from alchemist.events.wire import plan_edge_file

    for name, data in (("e.txt", text.encode()), ("e.txt.gz", gzip.compress(text.encode()))):
        path = tmp_path / name
        path.write_bytes(data)
        plan = plan_edge_file(path, "g", block=64)  # many blocks, lines cut across them
        assert plan is not None
        assert list(edge_list_records(plan, "g", chunk=7)) == list(edge_list_records(read_edge_list(path), "g"))


@pytest.mark.parametrize("text", ["a b\r\nb c\r\n", "a b\nb\tc\n", "a b 1\nb c\n", "a  b\n", "a b x\n", "a b # c\n",
                                  ""])
def test_other_forms_are_left_to_read_edge_list(tmp_path, text):
    from alchemist.events.wire import plan_edge_file

    path = tmp_path / "e.txt"
    path.write_text(text)
    assert plan_edge_file(path) is None
    assert plan_edge_file(tmp_path / "missing.txt") is None
