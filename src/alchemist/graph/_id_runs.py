"""Runs of node ids of one shape, for the node-id table (:mod:`alchemist.graph._intern`).

A column of ids is mostly of one shape: short names, UUIDs, CIDs, digests in hex. The table's key
loop (``_block_keys``) takes any id: it tells the shapes apart, keeps the head dictionary and its
shortcut, and its code for all of them costs every id registers and branches. Here a block's ids
are first taken by a loop for the shape of its first id, as long as they keep that shape (and
length, for the decoded ones), giving exactly the keys the general loop gives; the general loop
takes the rest of the block. The loops index with unsigned integers: Numba wraps a negative
signed index around, and the code for that on each load of an offset costs as much as the rest
of a UUID's key.

In 2M lookups of ``benchmarks/bench_graph.py``'s edge columns, the runs took 5.5 ms off SHA-256
hex ids, 4.9 off CIDs, 4.1 off UUIDs and 2.2 off short ids (of 56, 57, 43 and 32 ms).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from alchemist.graph._cid_keys import (
    CID, CID_LENGTH, RAW, RAW_MAX, cid_bits, cid_bits_wide, is_wide, raw_words, wide_hash,
)
from alchemist.graph._hex_keys import HEX_MAX, HEX_NARROW, hex_bits_wide, hex_key
from alchemist.graph._id_keys import LONG, address, key, prefetch, uuid_bits, whole_hash

__all__ = ["AHEAD", "any_wide", "key_run"]

AHEAD = 48     # ids ahead whose bytes a key loop asks for (the hardware's stream prefetch stops at each
               # 4 KiB page: 64 ids of 64 bytes)
_SHORT, _UUID, _CID_RUN, _HEX_RUN = 1, 2, 3, 4


@njit(cache=True)
def key_run(off, base, size, valid, k, kb, k0s, k1s, codes, hs, k2s, k3s):
    """The keys of rows ``k …`` of one column while they are ids of the shape of row ``k``'s: at most
    16 bytes, a UUID, a CID, hex digits of row ``k``'s length, or other ids of that length (17-32
    bytes, held as their bytes); in ``k0s, k1s, codes, hs`` (and
    ``k2s, k3s`` for wide ids) at ``row - k``, as the table's general key loop writes them.

    Parameters
    ----------
    off : numpy.ndarray, int32, shape (n + 1,)
        The column's offsets.
    base, size : int
        Address and length in bytes of the column's data.
    valid : numpy.ndarray, bool, shape (n,) or (0,)
        The column's validity (empty: no null). A column with nulls takes no run.
    k, kb : int
        The block's rows.
    k0s, k1s, codes, hs, k2s, k3s : numpy.ndarray, uint64, shape (>= kb - k,)

    Returns
    -------
    end : int
        The row where the run ends (``k``: none; ``kb``: the whole block).
    wide : int
        The number of wide ids (CIDs, hex ids of over 32 characters) among its rows.
    """
    if valid.shape[0] > 0 or k >= kb:
        return k, 0
    lo, hi = np.int64(off[k]), np.int64(off[k + 1])
    length = hi - lo
    if length <= 16:
        return _short_run(off, base, size, k, kb, k0s, k1s, codes, hs), 0
    if length == 36 and uuid_bits(base + lo)[0] != LONG:
        return _uuid_run(off, base, k, kb, k0s, k1s, codes, hs), 0
    if length == CID_LENGTH and cid_bits(base + lo)[0] == CID:
        end = _wide_run(off, base, size, k, kb, length, True, k0s, k1s, codes, hs, k2s, k3s)
        return end, end - k
    if length <= HEX_MAX and hex_key(base, size, lo, hi)[0] != LONG:
        end = _wide_run(off, base, size, k, kb, length, False, k0s, k1s, codes, hs, k2s, k3s)
        return end, (end - k if length > HEX_NARROW else 0)
    if length <= RAW_MAX:
        end = _raw_run(off, base, size, k, kb, length, k0s, k1s, codes, hs, k2s, k3s)
        return end, end - k
    return k, 0


@njit(cache=True)
def _short_run(off, base, size, k, kb, k0s, k1s, codes, hs):
    uk, last, one = np.uint64(k), np.uint64(off.shape[0] - 1), np.uint64(1)
    for kk in range(uk, np.uint64(kb)):
        lo, hi = np.int64(off[kk]), np.int64(off[kk + one])
        if hi - lo > 16:
            return np.int64(kk)
        prefetch(base + np.int64(off[min(kk + np.uint64(AHEAD), last)]))
        i = kk - uk
        k0s[i], k1s[i], codes[i], hs[i] = key(base, size, lo, hi)
    return kb


@njit(cache=True)
def _uuid_run(off, base, k, kb, k0s, k1s, codes, hs):
    uk, last, one = np.uint64(k), np.uint64(off.shape[0] - 1), np.uint64(1)
    for kk in range(uk, np.uint64(kb)):
        lo, hi = np.int64(off[kk]), np.int64(off[kk + one])
        if hi - lo != 36:
            return np.int64(kk)
        code, k0, k1 = uuid_bits(base + lo)
        if code == LONG:
            return np.int64(kk)
        prefetch(base + np.int64(off[min(kk + np.uint64(AHEAD), last)]))
        i = kk - uk
        k0s[i], k1s[i], codes[i], hs[i] = k0, k1, code, whole_hash(k0, k1, code)
    return kb


@njit(cache=True)
def _wide_run(off, base, size, k, kb, length, cid, k0s, k1s, codes, hs, k2s, k3s):
    """CIDs (``cid``) or hex ids of ``length`` characters, each with 64 bytes of the buffer from its
    start (the last ids of an unpadded column are left to the general loop)."""
    uk, last, one = np.uint64(k), np.uint64(off.shape[0] - 1), np.uint64(1)
    narrow = length <= HEX_NARROW
    for kk in range(uk, np.uint64(kb)):
        lo, hi = np.int64(off[kk]), np.int64(off[kk + one])
        if hi - lo != length or lo + 64 > size:
            return np.int64(kk)
        prefetch(base + np.int64(off[min(kk + np.uint64(AHEAD), last)]))
        if cid:
            code, k0, k1, k2, k3 = cid_bits_wide(base + lo)
        else:
            code, k0, k1, k2, k3 = hex_bits_wide(base + lo, length)
        if code == LONG:
            return np.int64(kk)
        i = kk - uk
        if narrow:
            k0s[i], k1s[i], codes[i], hs[i] = k0, k1, code, whole_hash(k0, k1, code)
        else:
            k0s[i], k1s[i], codes[i], hs[i] = k0, k1, code, wide_hash(k0, k1, k2, k3, code)
            k2s[i], k3s[i] = k2, k3
    return kb


@njit(cache=True)
def _raw_run(off, base, size, k, kb, length, k0s, k1s, codes, hs, k2s, k3s):
    """Ids of ``length`` (17-32) bytes that are no hex ids, held as their bytes, each with 64 bytes
    of the buffer from its start."""
    uk, last, one = np.uint64(k), np.uint64(off.shape[0] - 1), np.uint64(1)
    code = RAW + np.uint64(length)
    for kk in range(uk, np.uint64(kb)):
        lo, hi = np.int64(off[kk]), np.int64(off[kk + one])
        if hi - lo != length or lo + 64 > size or hex_bits_wide(base + lo, length)[0] != LONG:
            return np.int64(kk)
        prefetch(base + np.int64(off[min(kk + np.uint64(AHEAD), last)]))
        k0, k1, k2, k3 = raw_words(base, size, lo, hi)
        i = kk - uk
        k0s[i], k1s[i], codes[i], hs[i] = k0, k1, code, wide_hash(k0, k1, k2, k3, code)
        k2s[i], k3s[i] = k2, k3
    return kb


@njit(cache=True)
def any_wide(off, data):
    """Whether any id at ``off, data`` (a StringArray's offsets and bytes) is wide: a CID, a hex id
    of over 32 characters or another id of 17-32 bytes, whose last two key words go to the table's
    side array."""
    base, size = address(data), data.shape[0]
    for i in range(off.shape[0] - 1):
        lo, hi = np.int64(off[i]), np.int64(off[i + 1])
        if hi - lo > 16 and hi - lo <= HEX_NARROW and hex_key(base, size, lo, hi)[0] == LONG:
            return True
        if hi - lo > HEX_NARROW and hi - lo <= HEX_MAX:
            if hi - lo == CID_LENGTH and cid_bits(base + lo)[0] == CID:
                return True
            if is_wide(hex_key(base, size, lo, hi)[0]):
                return True
    return False
