"""BLAKE3-256 of many short messages in one compiled call, for CIDs in bulk.

The ``blake3`` package hashes one message per Python call: for the ~400-byte event envelopes a
replay or a consumer handles by the hundred thousand, the call costs more than the hash. This
module hashes a whole buffer of concatenated messages in one Numba call (serial, without the
GIL), and its compression function lets the replay generator chain CIDs (each event's content
ends with its predecessor's CID) without going back to Python between events. Per message it is
about as fast as the ``blake3`` package plus its call; the gain is in not leaving compiled code.

The algorithm is BLAKE3 as specified by O'Connor, Aumasson, Neves and Wilcox-O'Hearn, *BLAKE3:
one function, fast everywhere* (2020), §2 (compression function, chunk chaining, binary tree of
parents), unkeyed hash mode, 32-byte output; the implementation follows the structure of the
specification's reference implementation. Tests compare it with the ``blake3`` package on
lengths around every block and chunk boundary.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["blake3_many", "blake3_digest"]

_IV = np.array([0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A, 0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19],
               dtype=np.uint32)
# flags (spec Table 3) used as literals in the kernels: CHUNK_START 1, CHUNK_END 2, PARENT 4, ROOT 8


def blake3_many(buffer, offsets, ends=None) -> np.ndarray:
    """BLAKE3-256 digests of many messages in one buffer.

    Parameters
    ----------
    buffer : bytes-like or (m,) uint8 array
        The messages.
    offsets : (n + 1,) or (n,) int array
        Without ``ends``: non-decreasing boundaries, message ``i`` being
        ``buffer[offsets[i]:offsets[i + 1]]``. With ``ends``: the start of each message.
    ends : (n,) int array, optional
        The end (exclusive) of each message, for messages with gaps between them (e.g. lines
        without their newline).

    Returns
    -------
    (n, 32) uint8 array
        Row ``i`` equals ``blake3.blake3(message_i).digest()``.

    Raises
    ------
    ValueError
        If a message does not lie within the buffer or ends before it starts.
    """
    data = _as_bytes(buffer)
    offsets = np.ascontiguousarray(offsets, dtype=np.int64)
    if offsets.ndim != 1 or (ends is None and offsets.size == 0):
        raise ValueError(f"offsets must be a 1-D array of n + 1 positions, got shape {offsets.shape}")
    if ends is None:
        starts, ends = offsets[:-1], offsets[1:]
    else:
        starts, ends = offsets, np.ascontiguousarray(ends, dtype=np.int64)
        if ends.shape != starts.shape:
            raise ValueError(f"ends has shape {ends.shape}, offsets {starts.shape}: one end per start")
    if starts.size and (starts.min() < 0 or ends.max() > data.size or (ends < starts).any()):
        raise ValueError(f"every message must lie within the buffer of {data.size} bytes and end at or after "
                         "its start")
    out = np.empty((starts.size, 32), dtype=np.uint8)
    _hash_many(data, starts, ends, out)
    return out


def blake3_digest(data) -> bytes:
    """BLAKE3-256 of one message through the compiled kernel (``blake3.blake3(data).digest()``)."""
    data = _as_bytes(data)
    return blake3_many(data, np.array([0, data.size], dtype=np.int64))[0].tobytes()


def _as_bytes(buffer) -> np.ndarray:
    if isinstance(buffer, np.ndarray):
        if buffer.dtype != np.uint8 or buffer.ndim != 1:
            raise ValueError(f"buffer must be a 1-D uint8 array, got {buffer.dtype} with shape {buffer.shape}")
        return buffer
    if isinstance(buffer, (bytes, bytearray, memoryview)):
        return np.frombuffer(buffer, dtype=np.uint8)
    raise TypeError(f"buffer must be bytes or a uint8 array, not {type(buffer).__name__}")


# --------------------------------------------------------------------------- kernels
@njit(inline="always", cache=True)
def _g(a, b, c, d, x, y):  # pragma: no cover - compiled
    # the quarter-round (spec §2.2); Numba widens integer arithmetic, uint32() wraps it back
    u32 = np.uint32
    a = u32(a + b + x)
    d = u32(d ^ a)
    d = u32((d >> 16) | (d << 16))
    c = u32(c + d)
    b = u32(b ^ c)
    b = u32((b >> 12) | (b << 20))
    a = u32(a + b + y)
    d = u32(d ^ a)
    d = u32((d >> 8) | (d << 24))
    c = u32(c + d)
    b = u32(b ^ c)
    b = u32((b >> 7) | (b << 25))
    return a, b, c, d


@njit(cache=True)
def _round(s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11, s12, s13, s14, s15,
           m0, m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, m11, m12, m13, m14, m15):  # pragma: no cover - compiled
    """One round (spec §2.2): the columns, then the diagonals."""
    s0, s4, s8, s12 = _g(s0, s4, s8, s12, m0, m1)
    s1, s5, s9, s13 = _g(s1, s5, s9, s13, m2, m3)
    s2, s6, s10, s14 = _g(s2, s6, s10, s14, m4, m5)
    s3, s7, s11, s15 = _g(s3, s7, s11, s15, m6, m7)
    s0, s5, s10, s15 = _g(s0, s5, s10, s15, m8, m9)
    s1, s6, s11, s12 = _g(s1, s6, s11, s12, m10, m11)
    s2, s7, s8, s13 = _g(s2, s7, s8, s13, m12, m13)
    s3, s4, s9, s14 = _g(s3, s4, s9, s14, m14, m15)
    return s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11, s12, s13, s14, s15


@njit(cache=True)
def _compress(cv, block, counter, block_len, flags, out):  # pragma: no cover - compiled
    """The BLAKE3 compression function (spec §2.2): 16 output words of ``cv`` and one block.

    State and message words live in local variables (registers); the message permutation of
    spec §2.2 is applied to them between rounds."""
    u32 = np.uint32
    s0, s1, s2, s3, s4, s5, s6, s7 = cv[0], cv[1], cv[2], cv[3], cv[4], cv[5], cv[6], cv[7]
    s8, s9, s10, s11 = _IV[0], _IV[1], _IV[2], _IV[3]
    s12 = u32(counter & 0xFFFFFFFF)
    s13 = u32(counter >> 32)
    s14 = u32(block_len)
    s15 = u32(flags)
    m0, m1, m2, m3, m4, m5, m6, m7 = block[0], block[1], block[2], block[3], block[4], block[5], block[6], block[7]
    m8, m9, m10, m11 = block[8], block[9], block[10], block[11]
    m12, m13, m14, m15 = block[12], block[13], block[14], block[15]
    for _ in range(7):
        s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11, s12, s13, s14, s15 = _round(
            s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11, s12, s13, s14, s15,
            m0, m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, m11, m12, m13, m14, m15)
        # the message permutation [2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8]
        m0, m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, m11, m12, m13, m14, m15 = (
            m2, m6, m3, m10, m7, m0, m4, m13, m1, m11, m12, m5, m9, m14, m15, m8)
    out[0], out[1], out[2], out[3] = s0 ^ s8, s1 ^ s9, s2 ^ s10, s3 ^ s11
    out[4], out[5], out[6], out[7] = s4 ^ s12, s5 ^ s13, s6 ^ s14, s7 ^ s15
    out[8], out[9], out[10], out[11] = s8 ^ cv[0], s9 ^ cv[1], s10 ^ cv[2], s11 ^ cv[3]
    out[12], out[13], out[14], out[15] = s12 ^ cv[4], s13 ^ cv[5], s14 ^ cv[6], s15 ^ cv[7]


@njit(cache=True)
def _load_block(data, start, length, block):  # pragma: no cover - compiled
    """16 little-endian words of ``data[start:start+length]``, zero-padded to 64 bytes."""
    if length == 64:
        for w in range(16):
            p = start + 4 * w
            block[w] = np.uint32(np.uint32(data[p]) | (np.uint32(data[p + 1]) << 8)
                                 | (np.uint32(data[p + 2]) << 16) | (np.uint32(data[p + 3]) << 24))
        return
    for w in range(16):
        block[w] = 0
    for k in range(length):
        block[k >> 2] = np.uint32(block[k >> 2] | (np.uint32(data[start + k]) << (8 * (k & 3))))


@njit(cache=True)
def _hash_into(data, start, end, out, row, cv, block, state, stack):  # pragma: no cover - compiled
    """BLAKE3-256 of ``data[start:end]`` into ``out[row]`` (scratch arrays passed in)."""
    n = end - start
    chunks = max(1, (n + 1023) // 1024)
    depth = 0
    for ci in range(chunks):
        c0 = start + ci * 1024
        clen = min(1024, end - c0)
        for i in range(8):
            cv[i] = _IV[i]
        blocks = max(1, (clen + 63) // 64)
        for bi in range(blocks):
            b0 = c0 + bi * 64
            blen = min(64, c0 + clen - b0)
            _load_block(data, b0, blen, block)
            flags = 0
            if bi == 0:
                flags |= 1
            if bi == blocks - 1:
                flags |= 2
                if chunks == 1:
                    flags |= 8
            _compress(cv, block, ci, blen, flags, state)
            for i in range(8):
                cv[i] = state[i]
        if ci < chunks - 1:
            total = ci + 1
            while total & 1 == 0:  # merge completed subtrees (spec §2.5: the chaining-value stack)
                depth -= 1
                for i in range(8):
                    block[i] = stack[depth, i]
                    block[8 + i] = cv[i]
                _compress(_IV, block, 0, 64, 4, state)
                for i in range(8):
                    cv[i] = state[i]
                total >>= 1
            for i in range(8):
                stack[depth, i] = cv[i]
            depth += 1
    while depth > 0:  # the right edge of the tree, up to the root
        depth -= 1
        for i in range(8):
            block[i] = stack[depth, i]
            block[8 + i] = cv[i]
        _compress(_IV, block, 0, 64, 4 | (8 if depth == 0 else 0), state)
        for i in range(8):
            cv[i] = state[i]
    for w in range(8):
        v = cv[w]
        for k in range(4):
            out[row, 4 * w + k] = np.uint8((v >> (8 * k)) & 255)


@njit(cache=True, nogil=True)
def _hash_many(data, starts, ends, out):  # pragma: no cover - compiled
    # serial and without the GIL: safe from any thread (Numba's default threading layer is not)
    cv = np.empty(8, np.uint32)
    block = np.empty(16, np.uint32)
    state = np.empty(16, np.uint32)
    stack = np.empty((54, 8), np.uint32)
    for i in range(starts.size):
        _hash_into(data, starts[i], ends[i], out, i, cv, block, state, stack)
