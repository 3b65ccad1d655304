"""The compiled kernel of :mod:`alchemist.events.wire`: a chunk of edge-list events written into
their wire layout (the compact JSON envelopes, CID slots left blank for the hashing loop).

The ``pieces`` table (constant byte strings of the envelope) and its offsets come from
:func:`alchemist.events.wire.wire_chunks`; piece 15 is ``node_added``, 16 ``edge_added``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["chunk_offsets", "write_chunk", "SUFFIX"]

# piece numbers in the ``pieces`` table of wire_chunks
_P_NODE_ADDED, _P_EDGE_ADDED = 15, 16
SUFFIX = 8 + 59 + 18 + 59 + 2  # ,"cid":"<cid>","previous_cid":"<previous>"}


@njit(cache=True)
def _put(dst, pos, src, a, b):  # pragma: no cover - compiled
    for i in range(a, b):
        dst[pos] = src[i]
        pos += 1
    return pos


@njit(cache=True)
def _digits(value):  # pragma: no cover - compiled
    digits = 1
    while value >= 10:
        value //= 10
        digits += 1
    return digits


@njit(cache=True)
def _put_int(dst, pos, value):  # pragma: no cover - compiled
    digits = _digits(value)
    for i in range(digits - 1, -1, -1):
        dst[pos + i] = 48 + value % 10
        value //= 10
    return pos + digits


@njit(cache=True)
def _body_length(k, kinds, stamp_lines, lines, nodes, src_codes, dst_codes, stamps_off, names_off, po):
    # pragma: no cover - compiled
    """The number of bytes :func:`_body` writes for the chunk's event ``k``."""
    sl = stamp_lines[k]
    t = _P_NODE_ADDED if kinds[k] == 1 else _P_EDGE_ADDED
    size = (po[6] - po[0]) + 3 * 36 + (po[t + 1] - po[t]) + (stamps_off[sl + 1] - stamps_off[sl])
    if kinds[k] == 1:
        node = nodes[k]
        return size + (po[8] - po[6]) + (names_off[node + 1] - names_off[node])
    line = lines[k]
    u, v = src_codes[line], dst_codes[line]
    return size + (po[12] - po[8]) + _digits(line) + (names_off[u + 1] - names_off[u]) + (
        names_off[v + 1] - names_off[v])


@njit(cache=True)
def _body(dst, pos, k, ids, kinds, stamp_lines, lines, nodes, src_codes, dst_codes, stamps, stamps_off, names,
          names_off, pieces, po):  # pragma: no cover - compiled
    """Write the chunk's event ``k`` up to and including its payload at ``dst[pos:]``; returns the end."""
    sl = stamp_lines[k]
    pos = _put(dst, pos, pieces, po[0], po[1])
    pos = _put(dst, pos, ids[k], 0, 36)
    pos = _put(dst, pos, pieces, po[1], po[2])
    t = _P_NODE_ADDED if kinds[k] == 1 else _P_EDGE_ADDED
    pos = _put(dst, pos, pieces, po[t], po[t + 1])
    pos = _put(dst, pos, pieces, po[2], po[3])
    pos = _put(dst, pos, ids[k], 0, 36)
    pos = _put(dst, pos, pieces, po[3], po[4])
    pos = _put(dst, pos, ids[k], 0, 36)
    pos = _put(dst, pos, pieces, po[4], po[5])
    pos = _put(dst, pos, stamps, stamps_off[sl], stamps_off[sl + 1])
    pos = _put(dst, pos, pieces, po[5], po[6])
    if kinds[k] == 1:
        node = nodes[k]
        pos = _put(dst, pos, pieces, po[6], po[7])
        pos = _put(dst, pos, names, names_off[node], names_off[node + 1])
        pos = _put(dst, pos, pieces, po[7], po[8])
    else:
        line = lines[k]
        u, v = src_codes[line], dst_codes[line]
        pos = _put(dst, pos, pieces, po[8], po[9])
        pos = _put_int(dst, pos, line)
        pos = _put(dst, pos, pieces, po[9], po[10])
        pos = _put(dst, pos, names, names_off[u], names_off[u + 1])
        pos = _put(dst, pos, pieces, po[10], po[11])
        pos = _put(dst, pos, names, names_off[v], names_off[v + 1])
        pos = _put(dst, pos, pieces, po[11], po[12])
    return pos


@njit(cache=True)
def chunk_offsets(ids, kinds, stamp_lines, lines, nodes, src_codes, dst_codes, stamps, stamps_off, names, names_off,
             pieces, po):  # pragma: no cover - compiled
    """Where each of a chunk's events starts in its wire layout, and the end: (n + 1,) offsets."""
    n = kinds.size
    offsets = np.empty(n + 1, np.int64)
    offsets[0] = 0
    for k in range(n):
        offsets[k + 1] = offsets[k] + _body_length(k, kinds, stamp_lines, lines, nodes, src_codes, dst_codes,
                                                   stamps_off, names_off, po) + SUFFIX + 1
    return offsets


@njit(cache=True)
def write_chunk(out, offsets, ids, kinds, stamp_lines, lines, nodes, src_codes, dst_codes, stamps, stamps_off, names,
           names_off, pieces, po):  # pragma: no cover - compiled
    """Write a chunk's events into ``out`` at ``offsets`` in their wire layout, the two CID slots
    left blank.

    Each event is its body, ``,"cid":"``, 59 blank bytes, ``","previous_cid":"``, 59 blank bytes,
    ``"}`` and a ``,`` separator. Returns the end of each body (where ``,"cid":"`` starts)."""
    n = kinds.size
    body_ends = np.empty(n, np.int64)
    for k in range(n):
        end = _body(out, offsets[k], k, ids, kinds, stamp_lines, lines, nodes, src_codes, dst_codes, stamps,
                    stamps_off, names, names_off, pieces, po)
        body_ends[k] = end
        pos = _put(out, end, pieces, po[12], po[13])
        pos += 59
        pos = _put(out, pos, pieces, po[13], po[14])
        pos += 59
        pos = _put(out, pos, pieces, po[14], po[15])
        out[pos] = 44
    return body_ends
