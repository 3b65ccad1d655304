"""The compiled BLAKE3 kernel against the blake3 package (the Rust reference implementation)."""

import blake3
import numpy as np
import pytest

from alchemist.events.hashing import blake3_digest, blake3_many

# around every block (64 B) and chunk (1 KiB) boundary, and trees of 2, 3, 4, 5, 8 and 9 chunks
LENGTHS = [0, 1, 63, 64, 65, 127, 128, 1023, 1024, 1025, 2048, 2049, 3072, 3073, 4096, 5 * 1024 + 7,
           8 * 1024, 8 * 1024 + 1, 31 * 1024 + 5]


@pytest.mark.parametrize("length", LENGTHS)
def test_one_message_equals_the_reference(length):
    data = np.random.default_rng(length).integers(0, 256, length, dtype=np.uint8).tobytes()
    assert blake3_digest(data) == blake3.blake3(data).digest()


def test_many_messages_by_offsets_and_by_starts_and_ends():
    rng = np.random.default_rng(7)
    messages = [rng.integers(0, 256, int(n), dtype=np.uint8).tobytes() for n in rng.integers(0, 2500, 300)]
    expected = np.array([np.frombuffer(blake3.blake3(m).digest(), np.uint8) for m in messages])
    offsets = np.concatenate([[0], np.cumsum([len(m) for m in messages])])
    np.testing.assert_array_equal(blake3_many(b"".join(messages), offsets), expected)
    # the same messages as lines, each followed by a newline that must not be hashed
    lines = b"".join(m + b"\n" for m in messages)
    starts = offsets[:-1] + np.arange(len(messages))
    ends = starts + np.array([len(m) for m in messages])
    np.testing.assert_array_equal(blake3_many(lines, starts, ends), expected)


def test_bad_offsets_are_refused():
    with pytest.raises(ValueError, match="within the buffer"):
        blake3_many(b"abc", [0, 4])
    with pytest.raises(ValueError, match="within the buffer"):
        blake3_many(b"abc", [2, 1])
    with pytest.raises(ValueError, match="one end per start"):
        blake3_many(b"abc", [0, 1], [2])
    with pytest.raises(TypeError, match="bytes or a uint8 array"):
        blake3_many("abc", [0, 3])
