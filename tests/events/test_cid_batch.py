"""Vectorised CIDs against the standard library's base32 and the real CIM fixture."""

import base64
import json

import blake3
import numpy as np
import pytest

from alchemist.errors import CIDMismatchError
from alchemist.events import cid
from alchemist.events.cid import cid_digest, cid_many, cids_from_digests, digests_from_cids

PREFIX = bytes([0x01, 0x55, 0x1E, 0x20])


def reference_cid(data: bytes) -> str:
    return "b" + base64.b32encode(PREFIX + blake3.blake3(data).digest()).decode().lower().rstrip("=")


def test_batch_cids_equal_stdlib_base32():
    rng = np.random.default_rng(0)
    datas = [rng.bytes(int(n)) for n in rng.integers(0, 400, size=500)]
    expected = [reference_cid(d) for d in datas]
    assert cid_many(datas) == expected
    assert [cid(d) for d in datas] == expected
    digests = b"".join(blake3.blake3(d).digest() for d in datas)
    assert cids_from_digests(digests) == expected


def test_digests_round_trip_and_invalid_values():
    datas = [bytes([i]) * i for i in range(50)]
    cids = [reference_cid(d) for d in datas]
    bad = ["", "bafkr4", "x" + cids[0][1:], cids[0][:-1] + "1", None, "b" + "a" * 58]
    digests, valid = digests_from_cids(cids + bad)
    assert valid.tolist() == [True] * 50 + [False] * len(bad)
    assert digests[:50].tobytes() == b"".join(blake3.blake3(d).digest() for d in datas)
    assert not digests[50:].any()
    for value in cids[:5]:
        assert cid_digest(value) == bytes(digests[cids.index(value)])
    with pytest.raises(CIDMismatchError):
        cid_digest("b" + "a" * 58)


def test_dialog_dag_fixture_cids_in_one_batch(shared_data):
    events = json.loads(shared_data("cim_fixtures/dialog-dag.json").read_text())["events"]
    order = ("event_id", "type", "user_said", "i_understood", "what_i_did", "parent_cid", "timestamp")
    contents = [json.dumps({k: e["content"][k] for k in order}, separators=(",", ":"), ensure_ascii=False).encode()
                for e in events]
    computed = cid_many(contents)
    # SOURCE.md: 122 of the 130 CIDs are real, the other 8 hand-written placeholders
    assert sum(c == e["cid"] for c, e in zip(computed, events)) == 122
