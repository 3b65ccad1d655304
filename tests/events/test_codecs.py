"""CIDs of every codec the CIM writes, checked against CIDs built by hand (varint + multihash + RFC 4648 base32
from the standard library, hashlib / blake3) and against the multiformats and dag-cbor packages; zstd objects as
cim-ipld stores them."""

from __future__ import annotations

import base64
import hashlib
import json

import blake3
import dag_cbor
import pytest
import zstandard
from multiformats import CID

from alchemist.errors import CIDMismatchError
from alchemist.events.cid import cid, cid_digest
from alchemist.events.codecs import (
    cim_cid,
    cim_ipld_chain_cid,
    cim_ipld_cid,
    dag_cbor_cid,
    parse_cid,
    read_cim_object,
    verify_cim_cid,
)


def varint(n: int) -> bytes:
    """Unsigned LEB128, as the multiformats specification writes codes."""
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def by_hand(codec: int, digest: bytes, hash_code: int = 0x1E) -> str:
    raw = varint(1) + varint(codec) + varint(hash_code) + varint(len(digest)) + digest
    return "b" + base64.b32encode(raw).decode().lower().rstrip("=")


CODECS = {"dag-cbor": 0x71, "dag-json": 0x0129, "cim-event": 0x300000, "cim-graph": 0x300001, "raw": 0x55}


@pytest.mark.parametrize("name, code", CODECS.items())
def test_each_codec_against_a_hand_built_cid(name, code):
    data = b'{"event_id":"e1","payload":{"node_id":"a"}}'
    expected = by_hand(code, blake3.blake3(data).digest())
    assert cim_cid(data, name) == expected == cim_cid(data, code)
    parsed = parse_cid(expected)
    assert (parsed.codec_code, parsed.hash, parsed.digest) == (code, "blake3", blake3.blake3(data).digest())
    assert verify_cim_cid(data, expected).codec == name
    with pytest.raises(CIDMismatchError, match="not to the expected CID"):
        verify_cim_cid(data + b" ", expected)  # tampered content refused


def test_multiformats_reads_what_we_write():
    value = cim_cid(b"x", "dag-json")
    decoded = CID.decode(value)
    assert (decoded.codec.name, decoded.hashfun.name, bytes(decoded.raw_digest)) == (
        "dag-json", "blake3", blake3.blake3(b"x").digest())


def test_dag_cbor_block_cid():
    obj = {"hello": "world", "n": [1, 2, {"x": None}]}
    block = dag_cbor.encode(obj)
    assert dag_cbor_cid(obj) == by_hand(0x71, hashlib.sha256(block).digest(), hash_code=0x12)
    assert dag_cbor_cid(obj, "blake3") == by_hand(0x71, blake3.blake3(block).digest())
    assert dag_cbor_cid({"hello": "world"}) == "bafyreidykglsfhoixmivffc5uwhcgshx4j465xwqntbmu43nb2dzqwfvae"
    verify_cim_cid(block, dag_cbor_cid(obj))  # sha2-256 recomputed from the CID's own multihash
    with pytest.raises(CIDMismatchError):
        verify_cim_cid(dag_cbor.encode({**obj, "hello": "w0rld"}), dag_cbor_cid(obj))


def test_cim_ipld_chain_as_its_doc_example():
    # src/chain/mod.rs: ChainedContent::new(MyContent { message: "First" }, None) then "Second" linked to it,
    # CODEC 0x0129; the CID is over serde_json of ChainData {content, previous_cid, sequence}
    first = cim_ipld_chain_cid({"message": "First"}, "dag-json", previous_cid=None, sequence=0)
    assert first == by_hand(0x0129, blake3.blake3(
        b'{"content":{"message":"First"},"previous_cid":null,"sequence":0}').digest())
    second = cim_ipld_chain_cid({"message": "Second"}, "dag-json", previous_cid=first, sequence=1)
    raw = ('{"content":{"message":"Second"},"previous_cid":"' + first + '","sequence":1}').encode()
    assert second == by_hand(0x0129, blake3.blake3(raw).digest())
    assert cim_ipld_cid({"message": "First"}, 0x300000) == by_hand(0x300000, blake3.blake3(
        b'{"message":"First"}').digest())


def test_cid_digest_keeps_raw_and_takes_the_cim_codecs_when_asked():
    assert cid_digest(cid(b"a")) == blake3.blake3(b"a").digest()
    for name in ("dag-cbor", "dag-json", "cim-event"):
        value = cim_cid(b"a", name)
        with pytest.raises(CIDMismatchError):
            cid_digest(value)  # alchemist's own envelopes stay raw-only
        assert cid_digest(value, codecs="cim") == blake3.blake3(b"a").digest()
        assert cid_digest(value, codecs=[name]) == blake3.blake3(b"a").digest()
    with pytest.raises(CIDMismatchError, match="codec"):
        cid_digest(cim_cid(b"a", "dag-json"), codecs=["dag-cbor"])
    with pytest.raises(CIDMismatchError, match="BLAKE3"):
        cid_digest(dag_cbor_cid({"a": 1}), codecs="cim")  # sha2-256: not the CIM's hash
    with pytest.raises(CIDMismatchError, match="not a CID"):
        cid_digest("Qm4f2a1b9c", codecs="cim")  # cim-graph's "Qm" + hex(DefaultHasher) is no CID


def test_zstd_objects_as_cim_ipld_stores_them():
    # NatsObjectStore::put: serde_json bytes, zstd::encode_all(level 3) above the threshold, key = CID
    content = {"event_id": "e1", "payload": {"text": "graph " * 500}}
    raw = json.dumps(content, separators=(",", ":")).encode()
    key = by_hand(0x300000, blake3.blake3(raw).digest())
    stored = zstandard.ZstdCompressor(level=3).compress(raw)
    assert stored[:4] == b"\x28\xb5\x2f\xfd" and len(stored) < len(raw) // 10
    assert read_cim_object(stored, key) == content
    assert read_cim_object(raw, key) == content  # below the threshold: stored as it is
    tampered = zstandard.ZstdCompressor(level=3).compress(raw.replace(b"graph", b"grape", 1))
    with pytest.raises(CIDMismatchError):
        read_cim_object(tampered, key)
    with pytest.raises(ValueError, match="zstd"):
        read_cim_object(stored[:40], key)
