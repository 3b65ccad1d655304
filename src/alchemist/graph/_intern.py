"""Interning of node-id strings straight from Arrow buffers (a Numba hash table).

Imported on first use, so that ``import alchemist.graph`` does not load Numba. The bulk event
path numbers the distinct ids of two string columns (node id or source, and target) in one pass
over their UTF-8 bytes: open addressing with linear probing (Knuth, TAOCP vol. 3, § 6.4,
algorithm L) on a 64-bit FNV-1a hash with MurmurHash3's finaliser, no Python string objects
made; ids of at most 8 bytes are compared as one packed integer. About as fast as
``pyarrow.compute.dictionary_encode`` on short ids, and it also gives each id's first
occurrence over the interleaved slots, which the caller needs (it replaces an interleave, a
null fill and an ``np.minimum.at`` pass).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["intern_pair"]


def intern_pair(a, b):
    """Number the distinct strings of two equal-length pyarrow StringArrays, interleaved.

    Slot ``2k`` is ``a[k]``, slot ``2k + 1`` is ``b[k]``; ids are numbered in order of first
    occurrence over the slots.

    Parameters
    ----------
    a, b : pyarrow.StringArray, length n (nulls allowed)

    Returns
    -------
    a_code, b_code : numpy.ndarray, shape (n,), int64
        Id number of each string, -1 where null.
    first : numpy.ndarray, shape (n_ids,), int64
        First slot of each id.
    dictionary : pyarrow.StringArray, length n_ids
        The distinct strings, in numbering order.
    """
    import pyarrow as pa

    n = len(a)
    off_a, data_a, valid_a = _buffers(a)
    off_b, data_b, valid_b = _buffers(b)
    a_code, b_code, first = _intern_kernel(off_a, data_a, valid_a, off_b, data_b, valid_b, n)
    # slot 2k -> a[k] (row k of a ++ b), slot 2k + 1 -> b[k] (row n + k)
    rows = np.where(first % 2 == 0, first // 2, n + first // 2)
    dictionary = pa.concat_arrays([a, b]).take(pa.array(rows)) if rows.shape[0] else pa.array([], pa.string())
    return a_code, b_code, first, dictionary


def _buffers(arr):
    """``(offsets int32 (n + 1,), data uint8, valid bool (n,) or empty)`` of a StringArray."""
    n = len(arr)
    bufs = arr.buffers()
    if bufs[1] is None:
        offsets = np.zeros(n + 1, np.int32)
    else:
        offsets = np.frombuffer(bufs[1], dtype=np.int32)[arr.offset: arr.offset + n + 1]
    data = np.frombuffer(bufs[2], dtype=np.uint8) if len(bufs) > 2 and bufs[2] is not None else np.zeros(0, np.uint8)
    if arr.null_count:
        valid = arr.is_valid().to_numpy(zero_copy_only=False)
    else:
        valid = np.zeros(0, np.bool_)
    return offsets, data, valid


# --------------------------------------------------------------------------- kernels
@njit(cache=True)
def _intern_kernel(off_a, data_a, valid_a, off_b, data_b, valid_b, n):
    # per id (untouched pages cost nothing): first slot (2k or 2k + 1), hash, first 8 bytes, length
    id_slot = np.empty(2 * n, np.int64)
    id_hash = np.empty(2 * n, np.uint64)
    id_key = np.empty(2 * n, np.uint64)
    id_len = np.empty(2 * n, np.int32)
    a_code = np.empty(n, np.int64)
    b_code = np.empty(n, np.int64)
    cap = 1 << 12
    table = np.full(cap, -1, np.int32)  # hash-table slot -> id, -1 empty: compact, cache-resident
    s = 0
    n_ids = 0
    while s < 2 * n:
        # a run of slots until the table is half full; then double it (the table is only
        # reassigned here, out of the per-string loop)
        s, n_ids = _intern_run(s, n_ids, cap // 2, off_a, data_a, valid_a, off_b, data_b, valid_b, n,
                               table, id_slot, id_hash, id_key, id_len, a_code, b_code)
        if s < 2 * n:
            cap *= 2
            table = _rehash(id_hash, n_ids, cap)
    return a_code, b_code, id_slot[:n_ids].copy()


@njit(cache=True)
def _intern_run(s, n_ids, max_ids, off_a, data_a, valid_a, off_b, data_b, valid_b, n, table, id_slot, id_hash,
                id_key, id_len, a_code, b_code):
    """Intern slots from ``s`` on until all are done or ``max_ids`` ids exist; returns ``(s, n_ids)``.

    A string of at most 8 bytes is compared through its bytes packed in one integer; a longer
    one by hash, then byte by byte with the id's first occurrence.
    """
    mask = table.shape[0] - 1
    while s < 2 * n and n_ids < max_ids:
        k = s >> 1
        if s & 1 == 0:
            null = valid_a.shape[0] > 0 and not valid_a[k]
            lo = np.int64(off_a[k])
            hi = np.int64(off_a[k + 1])
        else:
            null = valid_b.shape[0] > 0 and not valid_b[k]
            lo = np.int64(off_b[k])
            hi = np.int64(off_b[k + 1])
        code = -1
        if not null:
            length = hi - lo
            packed = np.uint64(0)
            h = np.uint64(14695981039346656037)
            for t in range(length):
                byte = np.uint64(data_a[lo + t]) if s & 1 == 0 else np.uint64(data_b[lo + t])
                if t < 8:
                    packed |= byte << np.uint64(8 * t)
                h = (h ^ byte) * np.uint64(1099511628211)
            # MurmurHash3's fmix64 finaliser: FNV-1a's low bits (the table index) are poorly mixed
            h ^= h >> np.uint64(33)
            h *= np.uint64(0xFF51AFD7ED558CCD)
            h ^= h >> np.uint64(33)
            j = np.int64(h & np.uint64(mask))
            while True:
                c = np.int64(table[j])
                if c < 0:
                    break
                if id_key[c] == packed and id_len[c] == length:
                    if length <= 8 or (id_hash[c] == h and _same_bytes(id_slot[c], off_a, data_a, off_b, data_b,
                                                                       s & 1, lo, hi)):
                        code = c
                        break
                j = (j + 1) & mask
            if code < 0:
                code = n_ids
                id_slot[code] = s
                id_hash[code] = h
                id_key[code] = packed
                id_len[code] = length
                table[j] = code
                n_ids += 1
        if s & 1 == 0:
            a_code[k] = code
        else:
            b_code[k] = code
        s += 1
    return s, n_ids


@njit(cache=True)
def _same_bytes(slot, off_a, data_a, off_b, data_b, side_b, lo, hi):
    """Whether the string at ``slot`` has the bytes ``lo:hi`` of column a (``side_b`` 0) or b."""
    k = slot >> 1
    if slot & 1 == 0:
        olo = np.int64(off_a[k])
    else:
        olo = np.int64(off_b[k])
    for t in range(hi - lo):
        x = data_a[olo + t] if slot & 1 == 0 else data_b[olo + t]
        y = data_a[lo + t] if side_b == 0 else data_b[lo + t]
        if x != y:
            return False
    return True


@njit(cache=True)
def _rehash(id_hash, n_ids, cap):
    table = np.full(cap, -1, np.int32)
    mask = cap - 1
    for c in range(n_ids):
        j = np.int64(id_hash[c] & np.uint64(mask))
        while table[j] >= 0:
            j = (j + 1) & mask
        table[j] = c
    return table
