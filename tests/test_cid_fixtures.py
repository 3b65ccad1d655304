"""CIDs against the real CIM chain in cim_fixtures/dialog-dag.json (computed by the CIM's Rust code)."""

import json
import subprocess
import sys

import pytest

from alchemist import cid
from alchemist.errors import CIDMismatchError
from alchemist.events.cid import cid_digest, verify_cid

# SOURCE.md of cim_fixtures: the CID is over the compact JSON of the content with the fields in this order
FIELDS = ["event_id", "type", "user_said", "i_understood", "what_i_did", "parent_cid", "timestamp"]


def _is_placeholder(value):
    # SOURCE.md: 8 CIDs are hand-written placeholders; they are padded with '0', which is not in
    # the base32 alphabet, so they are not CIDs at all
    try:
        cid_digest(value)
        return False
    except CIDMismatchError:
        return True


def _content_bytes(content):
    ordered = {k: content[k] for k in FIELDS}
    return json.dumps(ordered, separators=(",", ":"), ensure_ascii=False).encode()


def test_reproduces_every_real_cid_of_dialog_dag(shared_data):
    events = json.loads(shared_data("cim_fixtures/dialog-dag.json").read_text())["events"]
    real = [e for e in events if not _is_placeholder(e["cid"])]
    assert len(events) == 130 and len(real) == 122
    for event in real:
        assert cid(_content_bytes(event["content"])) == event["cid"]


def test_cid_structure_matches_the_multiformats_tables():
    import base64

    import blake3

    value = cid(b"hello")
    raw = base64.b32decode(value[1:].upper() + "=" * (-len(value[1:]) % 8))
    assert value[0] == "b"
    assert raw[:4] == bytes([0x01, 0x55, 0x1E, 0x20])  # CIDv1, raw, blake3, 32 bytes
    assert raw[4:] == blake3.blake3(b"hello").digest()
    assert cid_digest(value) == blake3.blake3(b"hello").digest()


def test_verify_and_bad_cids():
    verify_cid(b"abc", cid(b"abc"))
    with pytest.raises(CIDMismatchError, match="hashes to"):
        verify_cid(b"abd", cid(b"abc"))
    with pytest.raises(CIDMismatchError, match="must start with 'b'"):
        cid_digest("Qm123")
    with pytest.raises(TypeError, match="encode text first"):
        cid("text")


def test_cid_command_line(tmp_path):
    path = tmp_path / "x.bin"
    path.write_bytes(b"content addressed")
    run = subprocess.run([sys.executable, "-m", "alchemist.cli", "cid", str(path)], capture_output=True, text=True)
    assert run.returncode == 0
    assert run.stdout.strip() == cid(b"content addressed")
    missing = subprocess.run([sys.executable, "-m", "alchemist.cli", "cid", str(tmp_path / "nope")],
                             capture_output=True, text=True)
    assert missing.returncode == 2
    assert "nope" in missing.stderr and "Traceback" not in missing.stderr
