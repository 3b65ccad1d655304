"""A Graph's node-id table: id string -> raw row, a Numba hash table kept between calls.

Imported on first use, so that ``import alchemist.graph`` does not load Numba. The bulk event
path resolves the ids of two string columns (node id or source, and target) straight from their
Arrow buffers in one pass: each id is looked up among the graph's nodes and, when absent, given
the next raw row, in order of first occurrence over the interleaved slots ``a[0], b[0], a[1],
…`` — no Python string objects are made and no per-call dictionary is built. Open addressing with
linear probing (Knuth, TAOCP vol. 3, § 6.4, algorithm L); a hash picks its home slot by
multiply-shift range reduction (Lemire, "Fast random integer generation in an interval", 2019), so
the table need not be a power of two: it grows by half when it would be more than five eighths
full (60-80 bytes per id).

Each slot is four 64-bit words (two per cache line), and most ids are held in it whole, so that a
lookup reads one cache line and compares exactly in place:

- an id of at most 16 bytes: its bytes, packed in two words;
- a UUID in its canonical text form (36 bytes, ``8-4-4-4-12`` hex digits, lower or upper case):
  its 128 bits, checked and decoded by a few vector operations (no loop over the characters);
- a CID as ``alchemist.cid`` writes it (59 bytes, ``bafkr4i…``: CIDv1, raw, BLAKE3, lower-case
  base32): the first 128 of its digest's 256 bits, decoded by vector operations
  (:mod:`alchemist.graph._cid_keys`), the other 128 in a side array by row (16 bytes a row, made
  when the first CID or long hex id comes) and compared, for a whole block of lookups, after its probes;
- a digest in hex (17-64 characters ``0-9a-f``: SHA-256, SHA-1, MD5 and the like): its digits'
  values packed two to a byte by vector operations (:mod:`alchemist.graph._hex_keys`), in two key
  words up to 32 characters, else four, the other two in the side array as a CID's (its code
  tells its length, so that ``…c`` and ``…c0`` stay apart);
- any other id of 17-32 bytes (ULIDs, base64 tokens, short paths): its bytes, zero-padded, as four
  key words held as a wide hex id's (its code tells its length);
- a longer id (over 32 bytes) whose head (all its bytes but the last 16, at most 112) is in the table's head
  dictionary: its tail, packed in two words, and the head's index in its code. The dictionary
  (47 KB a table) takes the first 256 heads met, for the life of the table, and finds a head by its
  hash and an exact comparison of its bytes with the stored ones (in cache); an id with
  the head of the id before it in the column takes that head without hashing it. Path-like ids
  (``organisation/…/member-00000000012345``: a path, then a number) share a few heads;
- any other id: a 64-bit hash of its bytes (wyhash's 128-bit multiply-fold over 16-byte chunks,
  MurmurHash3's finaliser), its length and where its bytes are in the table's byte store (which
  holds the bytes of these ids only: no other id is ever compared with stored bytes). A lookup
  that meets the same hash and length confirms the bytes word by word: the stored bytes are
  prefetched when the probe finds the entry and compared in a later pass over the block, so that
  the cache misses of many confirmations overlap.

Every answer is exact: no id is taken for another on its hash. A block's ids are first taken by a
loop for the shape of its first id (:mod:`alchemist.graph._id_runs`) while they keep it, the rest
by the general key loop. The key loops ask for the bytes of the id 48 ahead (the hardware's stream
prefetch stops at each 4 KiB page), and the table and byte store start on a cache line.

In ``Graph.apply_columns`` (100,000 node and 1,000,000 edge events, ``benchmarks/bench_graph.py``),
against ids of a few bytes: a UUID node id costs about 1.2 times (its 36 bytes are read once, no
byte store is touched), a 64-byte path-like id (a 50-byte shared head) 1.3-1.4 times (its bytes
read once and compared with a head in cache; 2.1 times before the head dictionary, with one random
read of its stored copy per lookup). An id of unshared head keeps that random read: 2M lookups of
such 64-byte ids take about 2.8 times those of short ids (random ids of 33-64 bytes that are not
hex, such as 40-character base62 tokens, apply at about 2 times). A ULID or a 22-character base64
token costs about 1.4 times (1.8-1.9 times when its head went to the dictionary or it was hashed).
A SHA-256 in hex (64 bytes) and a CID
cost 1.4-1.5 times (2.1-2.4 times when hashed as such long ids): of the 15-17 ms more that 2M
lookups of them take than those of short ids, most is the reading and decoding of their bytes
(128 MB, against 12 MB for short ids), and about 1 ms the check of the side array. With 100,000
ids the table takes 66 bytes an id (short ids, UUIDs, 64-byte ids of a shared head) and 86 for
CIDs and SHA-256 hex ids (the side array), plus the bytes of the hashed ids.

The table is append-only: a removed node keeps its entry and lookups skip it (they read the
graph's removal column), so that a re-added id finds its new row. Entries added by a call that
then fails its checks are dropped again (:meth:`NodeTable.rollback`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from alchemist.graph._cid_keys import (
    CID as _CID, CID_LENGTH as _CID_LENGTH, RAW as _RAW, RAW_MAX as _RAW_MAX, cid_bits as _cid_bits,
    cid_bits_wide as _cid_bits_wide, is_wide as _wide, raw_words as _raw_words, wide_hash as _wide_hash,
)
from alchemist.graph._hex_keys import (
    HEX_MAX as _HEX_MAX, HEX_MIN as _HEX_MIN, HEX_NARROW as _HEX_NARROW, hex_key as _hex_key,
)
from alchemist.graph._id_runs import AHEAD as _AHEAD, any_wide as _any_wide, key_run as _key_run
from alchemist.graph._id_slots import (
    ALIVE as _ALIVE, CODE as _CODE, NULL as _NULL, SHIFT as _SHIFT, home as _home, nulls as _nulls,
    probe_wide as _probe_wide, side_check as _cids_pass, side_rows as _cid_rows,
)
from alchemist.graph._id_keys import (
    LONG as _LONG, ONES as _ONES, address as _address, fmix as _fmix, head_state as _head_state, key as _key,
    long_hash as _long_hash, peek1 as _peek1, peek8 as _peek8, poke as _poke, prefetch as _prefetch,
    uuid_bits as _uuid_bits, whole_hash as _whole_hash,
)

__all__ = ["NodeTable", "hash_ids", "fill_range"]

_HEADED = 32                      # codes 32 + i: an id of head i of the head dictionary and a 16-byte tail
_BLOCK = 1024                     # rows per block of the resolve kernel
_MIN_SLOTS = 4096
_HEADS = 256                      # heads the dictionary takes at most
_HEAD_MAX = 112                   # bytes of a head at most
_HEAD_SLOTS = 2048                # slots of the dictionary's hash table (a power of two; an eighth full)
_HEAD_BITS = np.uint64(0x1FF)     # a slot's bits of index + 1 (its hash's other bits above them)
_HOFF = 1                         # the dictionary's int64 words: count, offsets (_HEADS + 1), slots
_HSLOT = _HOFF + _HEADS + 1
_NONE = np.zeros(0, np.uint8)
_HUGE = 2 << 20                   # bytes of a huge page (x86-64, and arm64 with 4 KiB pages)


class NodeTable:
    """Id -> raw row for the nodes of one Graph (its raw rows ``0 … size - 1``).

    Attributes
    ----------
    size : int
        Number of raw rows the table holds (committed).
    ids : list or None
        The Graph's ``_node_ids`` list the rows were taken from (identity, to notice a graph whose
        list was replaced).
    """

    __slots__ = ("_tab", "size", "_pending", "_data", "_nbytes", "_pending_bytes", "_pending_total", "_long", "ids",
                 "_heads", "_cid")

    def __init__(self, ids=None):
        self._tab = _lined(4 * _MIN_SLOTS, np.uint64)    # slot j: words 4j … 4j + 3 (see _probe_block)
        self.size = 0
        self._pending = 0
        self._data = _lined(4096, np.uint8)         # UTF-8 bytes of the long ids (code _LONG), one after another
        self._nbytes = 0
        self._pending_bytes = 0                     # bytes the pending long ids will take in _data
        self._pending_total = 0                     # bytes of the pending rows' ids
        self._long = _NONE                          # 1 for each pending row whose id is long
        self.ids = ids
        self._heads = (np.zeros(_HSLOT + _HEAD_SLOTS, np.int64),    # count, offsets, slots (hash | index + 1)
                       np.zeros(_HEADS * _HEAD_MAX + 8, np.uint8))   # the heads' bytes, one after another
        self._cid = np.zeros(0, np.uint64)          # row r's key words 2, 3 if wide: [2r], [2r + 1] (once one came)

    def append(self, strings) -> None:
        """Add rows ``size …`` with the ids of a pyarrow StringArray (no lookup: ids known new,
        or rows of removed nodes).

        Parameters
        ----------
        strings : pyarrow.StringArray (no nulls)
        """
        self.rollback()
        start = self.size
        stop = start + len(strings)
        off, data, _ = _buffers(strings)
        self._fit(stop)
        if _any_wide(off, data):
            self._cid_room(stop)
        longs = np.empty(stop - start, np.uint8)
        _insert_rows(self._tab, off, data, start, self._nbytes, self._cid, longs, *self._heads)
        self._store(off, data, longs)
        self.size = self._pending = stop

    def resolve(self, a, b, removed: np.ndarray, out_a: np.ndarray, out_b: np.ndarray) -> np.ndarray:
        """Raw rows of the ids of two equal-length StringArrays, new ids given new rows.

        Parameters
        ----------
        a, b : pyarrow.StringArray, length n (nulls allowed)
        removed : numpy.ndarray, int64, shape (size,) or (0,)
            The graph's removal version of each raw row (empty when no node was ever removed);
            rows not equal to the live marker are skipped.
        out_a, out_b : numpy.ndarray, int64, shape (n,)
            Filled with the raw row of each id, -1 where null. An id the table lacks gets row
            ``size + j``, j counting new ids in order of first occurrence over the slots
            ``2k`` (``a[k]``) and ``2k + 1`` (``b[k]``).

        Returns
        -------
        first : numpy.ndarray, int64, shape (n_new,)
            First slot of each new id. The new rows are pending until :meth:`commit` (keep
            them) or :meth:`rollback` (drop them).
        """
        self.rollback()
        n = len(a)
        off_a, data_a, valid_a = _buffers(a)
        off_b, data_b, valid_b = _buffers(b)
        first = np.empty(2 * n, np.int64)
        longs = np.empty(2 * n, np.uint8)
        k, entries, pos, total = 0, self.size, self._nbytes, 0
        given = 2 * n - a.null_count - b.null_count
        # a call of one id per row (node events) takes at most that many new rows: room for them at once
        self._fit(self.size + 2 * _BLOCK + (given if given <= n else 0))
        while True:
            most = (self._tab.shape[0] // 4) * 5 // 8
            k, entries, pos, total, room = _resolve_run(k, entries, pos, total, most, self.size, self._tab, self._data,
                                                        self._cid, removed, off_a, data_a, valid_a, off_b, data_b,
                                                        valid_b, n, out_a, out_b, first, longs, *self._heads)
            self._pending, self._pending_bytes, self._pending_total = entries, pos - self._nbytes, total
            if k == n:
                break
            if room:  # a block of wide ids, and no room for their key words
                self._cid_room(most)
            else:
                self._tab = _rehashed(self._tab, _grown(self._tab.shape[0] // 4), self._pending, self._cid)
        self._long = longs[: entries - self.size].copy()
        return first[: entries - self.size].copy()

    def commit(self, new_ids) -> None:
        """Keep the pending rows; ``new_ids`` (pyarrow StringArray) are their ids, in row order.

        Raises
        ------
        ValueError
            ``new_ids`` are not as many, or not as long, as the pending rows' ids.
        """
        if len(new_ids) != self._pending - self.size:
            raise ValueError(f"{len(new_ids)} ids for {self._pending - self.size} pending rows")
        off, data, _ = _buffers(new_ids)
        given = int(off[-1]) - int(off[0]) if len(new_ids) else 0
        if given != self._pending_total or _long_bytes(off, self._long) != self._pending_bytes:
            # (the long ids' offsets in the table would be wrong)
            raise ValueError(f"the ids to commit take {given} bytes, the pending rows' ids {self._pending_total}: "
                             "commit the ids of the resolved slots")
        self._store(off, data, self._long)
        self.size = self._pending
        self._pending_bytes = self._pending_total = 0
        self._long = _NONE

    def rollback(self) -> None:
        """Drop the rows of a :meth:`resolve` that was not committed."""
        if self._pending != self.size:
            self._tab = _rehashed(self._tab, self._tab.shape[0] // 4, self.size, self._cid)
            self._pending = self.size
        self._pending_bytes = self._pending_total = 0
        self._long = _NONE

    def nbytes(self) -> int:
        """Bytes of the table's arrays: slots, byte store (hashed ids), wide ids' key words, head dictionary.

        Returns
        -------
        int
        """
        return self._tab.nbytes + self._data.nbytes + self._cid.nbytes \
            + sum(a.nbytes for a in self._heads)

    def _fit(self, rows: int) -> None:
        """Grow the table to at most five eighths full with ``rows`` entries."""
        cap = self._tab.shape[0] // 4
        if rows > cap * 5 // 8:
            self._tab = _rehashed(self._tab, max(_grown(cap), _round_up(2 * rows)), self._pending, self._cid)

    def _cid_room(self, rows: int) -> None:
        """Room for the wide ids' key words of ``rows`` rows (16 bytes a row, made when the first comes)."""
        if self._cid.shape[0] < 2 * rows:
            grown = np.zeros(2 * max(rows, self._cid.shape[0]), np.uint64)
            grown[: self._cid.shape[0]] = self._cid
            self._cid = grown

    def _store(self, off, data, longs) -> None:
        """Append the UTF-8 bytes of the ids flagged in ``longs`` (one flag an id; offsets ``off``
        into ``data``, as :func:`_buffers` gives them) to the byte store, in order."""
        if not longs.any():
            return
        need = self._nbytes + _long_bytes(off, longs)
        if need > self._data.shape[0]:
            grown = _lined(max(need, 2 * self._data.shape[0]), np.uint8)
            grown[: self._nbytes] = self._data[: self._nbytes]
            self._data = grown
        self._nbytes = _copy_longs(off, data, longs, self._data, self._nbytes)


def _rehashed(tab: np.ndarray, cap: int, limit: int, cid: np.ndarray) -> np.ndarray:
    """A table of ``cap`` slots with the entries of ``tab`` of row < ``limit``. Allocated by NumPy,
    which asks the kernel for huge pages on large arrays: the table's random reads then miss the
    TLB far less often (Numba's own allocations get no such advice)."""
    new = _lined(4 * cap, np.uint64)
    _rehash(tab, new, limit, cid)
    return new


def _lined(size: int, dtype) -> np.ndarray:
    """A zeroed ``(size,)`` array starting on a cache line (64 bytes): NumPy aligns to 16 only, and
    a slot that straddles two lines, or a stored 64-byte id, costs two misses. An array of 4 MiB or
    more starts on a 2 MiB boundary, so that all of it but its last part lies in huge pages (NumPy
    asks for them; the kernel gives them for aligned 2 MiB spans only): otherwise a varying part of
    the table, by where the allocation lands, takes a TLB miss per lookup."""
    itemsize = np.dtype(dtype).itemsize
    align = _HUGE if size * itemsize >= 2 * _HUGE else 64
    raw = np.zeros(size * itemsize + align, np.uint8)
    start = -raw.ctypes.data % align
    return raw[start: start + size * itemsize].view(dtype)


def _round_up(slots: int) -> int:
    return max(_MIN_SLOTS, -(-slots // 64) * 64)


def _grown(cap: int) -> int:
    return _round_up(3 * cap // 2)


def hash_ids(strings) -> np.ndarray:
    """``(n,)`` uint64: the table's 64-bit hash of each id of a pyarrow StringArray (nulls hash as
    empty strings). Different hashes mean different ids; equal hashes almost always mean equal ids."""
    off, data, _ = _buffers(strings)
    out = np.empty(len(strings), np.uint64)
    _hash_column(off, data, out)
    return out


def fill_range(out: np.ndarray, start: int) -> None:
    """``out[i] = start + i`` in place (no temporary array)."""
    _fill_range(out, start)


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


@njit(cache=True, inline="always")
def _table_key(base, size, lo, hi, heads):
    """``(k0, k1, k2, k3, code, hash)`` of an id in a table with the head dictionary at the addresses
    ``heads`` (see :func:`_head`): as :func:`_key` (``k2 = k3 = 0``), but a CID (code ``_CID``) has
    its digest's 256 bits as four words, and a long id whose head (all bytes but the last 16) is in
    the dictionary, or may enter it, is held whole as its tail's two words and code ``_HEADED`` + the
    head's index.

    A head enters the dictionary when first met while the dictionary has room, and never leaves it;
    an id of a head that is not in it was kept long because the dictionary was full (or the head too
    long), and the dictionary is full for good: so each id has one key for the life of the table."""
    length = hi - lo
    zero = np.uint64(0)
    if length <= 16:
        k0, k1, code, h = _key(base, size, lo, hi)
        return k0, k1, zero, zero, code, h
    if length == 36:
        code, k0, k1 = _uuid_bits(base + lo)
        if code != _LONG:
            return k0, k1, zero, zero, code, _whole_hash(k0, k1, code)
    if length == _CID_LENGTH:
        if hi + 5 <= size:  # (all but the last id or so of a column)
            code, k0, k1, k2, k3 = _cid_bits_wide(base + lo)
        else:
            code, k0, k1, k2, k3 = _cid_bits(base + lo)
        if code == _CID:
            return k0, k1, k2, k3, code, _wide_hash(k0, k1, k2, k3, code)
    if length >= _HEX_MIN and length <= _HEX_MAX:
        code, k0, k1, k2, k3 = _hex_key(base, size, lo, hi)
        if code != _LONG:
            if length <= _HEX_NARROW:
                return k0, k1, zero, zero, code, _whole_hash(k0, k1, code)
            return k0, k1, k2, k3, code, _wide_hash(k0, k1, k2, k3, code)
        if length <= _RAW_MAX:  # any other id of 17-32 bytes: its bytes, as four words
            k0, k1, k2, k3 = _raw_words(base, size, lo, hi)
            code = _RAW + np.uint64(length)
            return k0, k1, k2, k3, code, _wide_hash(k0, k1, k2, k3, code)
    state = _head_state(base, lo, hi)
    if length - 16 <= _HEAD_MAX:
        hk = _fmix(state)
        i = _head(hk, base + lo, length - 16, heads)
        if i >= 0:
            k0 = _peek8(base + hi - 16)
            k1 = _peek8(base + hi - 8)
            code = np.uint64(_HEADED + i)
            return k0, k1, zero, zero, code, _whole_hash(k0, k1, code)
    h = _long_hash(base, lo, hi, state)
    return h, np.uint64(length), zero, zero, _LONG, h


@njit(cache=True, inline="always")
def _head(hk, x, n, heads):
    """The index in the dictionary of the head of ``n`` bytes at address ``x`` and hash ``hk``, added
    when absent and the dictionary has room; -1 otherwise. Its bytes are compared with the stored ones
    (exact).

    ``heads`` holds the addresses of the dictionary's two arrays (``NodeTable._heads``): int64
    words (count, the ``_HEADS + 1`` offsets of the heads' bytes, ``_HEAD_SLOTS`` slots of linear
    probing, each the head's hash with its index + 1 in the low bits ``_HEAD_BITS``), and the heads'
    bytes. Given as addresses, not arrays, so that the inlined helper costs no reference count per
    id. The table is an eighth full at most: a head that is not in it mostly meets an empty slot at
    once."""
    words, data = heads[0], heads[1]
    j = _home(hk, _HEAD_SLOTS)
    while True:
        e = _peek8(words + 8 * (_HSLOT + j))
        if e == 0:
            break
        if (e ^ hk) & ~_HEAD_BITS == 0:
            i = np.int64(e & _HEAD_BITS) - 1
            at = np.int64(_peek8(words + 8 * (_HOFF + i)))
            if np.int64(_peek8(words + 8 * (_HOFF + i + 1))) - at == n and _same_head(data + at, x, n):
                return i
        j = (j + 1) & (_HEAD_SLOTS - 1)
    i = np.int64(_peek8(words))
    if i == _HEADS:
        return np.int64(-1)
    at = np.int64(_peek8(words + 8 * (_HOFF + i)))
    for t in range(n):
        _poke(data + at + t, np.uint8(_peek1(x + t)))
    _poke(words + 8 * (_HOFF + i + 1), at + n)
    _poke(words + 8 * (_HSLOT + j), (hk & ~_HEAD_BITS) | np.uint64(i + 1))
    _poke(words, i + 1)
    return i


@njit(cache=True, inline="always")
def _same_head(x, y, n):
    """Whether the ``n`` bytes at addresses ``x`` and ``y`` are equal (reads up to 7 bytes beyond
    both: the dictionary's bytes have room after them, an id's head has its tail)."""
    diff = np.uint64(0)
    t = 0
    while t + 8 <= n:
        diff |= _peek8(x + t) ^ _peek8(y + t)
        t += 8
    if t < n:
        diff |= (_peek8(x + t) ^ _peek8(y + t)) & (_ONES >> np.uint64(64 - 8 * (n - t)))
    return diff == 0


@njit(cache=True, inline="always")
def _all_hex(x, n):
    """Whether the ``n`` bytes at address ``x`` are all ``0-9a-f`` (a head that may be a hex id's)."""
    ok = True
    for t in range(n):
        c = _peek1(x + t)
        ok &= (c - np.uint64(0x30) < np.uint64(10)) | (c - np.uint64(0x61) < np.uint64(6))
    return ok


@njit(cache=True, inline="always")
def _entry_hash(k0, k1, meta, cid):
    """The hash of a slot's entry, from its key words and third word (and a CID's other key words)."""
    code = meta & _CODE
    if _wide(code):
        c = np.int64(meta >> _SHIFT) - 1
        return _wide_hash(k0, k1, cid[2 * c], cid[2 * c + 1], code)
    return k0 if code == _LONG else _whole_hash(k0, k1, code)


# --------------------------------------------------------------------------- kernels
@njit(cache=True)
def _resolve_run(k, entries, pos, total, max_entries, n0, tab, store_data, cid, removed, off_a, data_a, valid_a,
                 off_b, data_b, valid_b, n, out_a, out_b, first, longs, hint, hbytes):
    """Resolve rows ``k …`` until all are done, a block could take more than ``max_entries``
    entries, or a block has CIDs and ``cid`` no room for the key words of ``max_entries`` rows;
    returns ``(k, entries, pos, total, room)`` (``pos``: where the next new long id's bytes will be
    stored; ``total``: the bytes of the new ids so far;
    ``room``: stopped for the last reason).

    Blocks of ``_BLOCK`` rows, in three passes. The keys of a block's a and b ids are computed
    first (and their home slots prefetched), then the slots are probed in order (new ids are
    numbered in order of first occurrence), then the long ids that met an entry of the same hash
    and length are compared with that entry's bytes. Separating the byte loops from the table
    probes, and the probes from the byte comparisons, lets the processor overlap their cache
    misses, as in group prefetching (Chen, Ailamaki, Gibbons & Mowry, "Improving hash join
    performance through prefetching", ICDE 2004).
    When a comparison fails (two different ids of equal hash, or two CIDs of equal first key words),
    the block's new entries are dropped and the block is probed again comparing the bytes (a CID's
    other key words) at each match."""
    keys = np.empty((12, _BLOCK), np.uint64)  # k0, k1, code, hash, k2, k3: of a (rows 0-5) and b (6-11)
    checks = np.empty((3, 2 * _BLOCK), np.int64)  # slot 2kk + side, matched row, its bytes' offset
    bases = np.array([_address(store_data), _address(data_a), _address(data_b)], np.int64)
    while k < n:
        kb = min(k + _BLOCK, n)
        if entries + 2 * (kb - k) > max_entries:
            break
        cids = _column_keys(off_a, bases[1], data_a.shape[0], valid_a, k, kb, keys, 0, hint, hbytes) \
            + _column_keys(off_b, bases[2], data_b.shape[0], valid_b, k, kb, keys, 6, hint, hbytes)
        if cids > 0 and cid.shape[0] < 2 * max_entries:
            return k, entries, pos, total, True
        _read_ahead(tab, keys[3], kb - k)
        _read_ahead(tab, keys[9], kb - k)
        e0, pos0 = entries, pos
        if cids > 0 and cids == 2 * (kb - k) - _nulls(valid_a, k, kb) - _nulls(valid_b, k, kb):
            # wide ids only (and nulls): a probe loop of their own, which asks for their side entries
            entries = _probe_wide(k, kb, entries, n0, tab, cid, keys, removed, out_a, out_b, first)
            n_checks = 0
        else:
            entries, pos, n_checks = _probe_block(k, kb, entries, pos, n0, tab, cid, keys, bases, removed, off_a,
                                                  off_b, out_a, out_b, first, checks, False)
        if cids > 0:
            _cid_rows(cid, keys, first, n0, e0, entries, k)
        if not (_checks_pass(checks, n_checks, n0, bases, first, off_a, off_b)
                and (cids == 0 or _cids_pass(cid, keys, out_a, out_b, k, kb))):
            old = tab.copy()
            tab[:] = 0
            _rehash(old, tab, e0, cid)
            entries, pos, _ = _probe_block(k, kb, e0, pos0, n0, tab, cid, keys, bases, removed, off_a, off_b,
                                           out_a, out_b, first, checks, True)
        if entries > e0:
            total += _new_rows(keys, first, longs, n0, e0, entries, k, off_a, off_b)
        k = kb
    return k, entries, pos, total, False


@njit(cache=True)
def _probe_block(k, kb, entries, pos, n0, tab, cid, keys, bases, removed, off_a, off_b, out_a, out_b, first, checks,
                 exact):
    """Look up (or add) the ids of rows ``k … kb - 1``, whose keys are in ``keys``; returns
    ``(entries, pos, n_checks)``.

    Slot j is the words ``4j … 4j + 3``: ``k0``, ``k1``, ``(row + 1) << 5 | code`` (0: empty slot)
    and, for a long id, the offset of its bytes in the store (that of a row new in this call is
    where :meth:`NodeTable.commit` will put them, ``pos`` counting on). An entry matches when its
    code and two key words are the lookup's, and for a CID its other two key words, in ``cid`` at
    its row, too; a long id takes the first live entry of its hash and
    length and is listed in ``checks`` for :func:`_checks_pass`, unless ``exact``, where its bytes
    are compared at once."""
    cap = tab.shape[0] // 4
    n_checks = 0
    for kk in range(k, kb):
        i = kk - k
        for side in range(2):
            code = keys[6 * side + 2, i]
            row = -1
            if code != _NULL:
                k0, k1 = keys[6 * side, i], keys[6 * side + 1, i]
                j = _home(keys[6 * side + 3, i], cap)
                while True:
                    meta = tab[4 * j + 2]
                    if meta == 0:
                        break
                    if (meta & _CODE) == code and tab[4 * j] == k0 and tab[4 * j + 1] == k1:
                        c = np.int64(meta >> _SHIFT) - 1
                        if c >= n0 or removed.shape[0] == 0 or removed[c] == _ALIVE:
                            if code != _LONG:  # a CID's other two words: checked after the pass, unless exact
                                if not exact or not _wide(code) or (cid[2 * c] == keys[6 * side + 4, i]
                                                                 and cid[2 * c + 1] == keys[6 * side + 5, i]):
                                    row = c
                                    break
                            elif not exact:  # listed with where its row's bytes are (a load nothing waits on)
                                checks[0, n_checks] = 2 * kk + side
                                checks[1, n_checks] = c
                                checks[2, n_checks] = np.int64(tab[4 * j + 3])
                                if c < n0:  # the stored bytes, asked for now and compared in the next pass
                                    x = bases[0] + checks[2, n_checks]
                                    _prefetch(x)
                                    _prefetch(x + np.int64(k1) - 1)
                                n_checks += 1
                                row = c
                                break
                            elif _same_slot(2 * kk + side, c, n0, np.int64(tab[4 * j + 3]), bases, first, off_a,
                                            off_b):
                                row = c
                                break
                    j += 1
                    if j == cap:
                        j = 0
                if row < 0:
                    row = entries
                    first[row - n0] = 2 * kk + side
                    tab[4 * j] = k0
                    tab[4 * j + 1] = k1
                    tab[4 * j + 2] = (np.uint64(row + 1) << _SHIFT) | code
                    tab[4 * j + 3] = np.uint64(pos) if code == _LONG else np.uint64(0)
                    if exact and _wide(code):  # (else written after the pass: see _resolve_run)
                        cid[2 * row] = keys[6 * side + 4, i]
                        cid[2 * row + 1] = keys[6 * side + 5, i]
                    if code == _LONG:  # a new long id's bytes go to the store, in row order
                        pos += np.int64(off_a[kk + 1] - off_a[kk]) if side == 0 else np.int64(off_b[kk + 1] - off_b[kk])
                    entries += 1
            if side == 0:
                out_a[kk] = row
            else:
                out_b[kk] = row
    return entries, pos, n_checks


@njit(cache=True)
def _read_ahead(tab, hs, count):
    """Prefetch the home slots of the hashes ``hs[:count]``, so that the probes that follow find
    their lines cached (the misses overlap, as nothing waits on them)."""
    cap = tab.shape[0] // 4
    base = _address(tab)
    for i in range(count):
        _prefetch(base + 32 * _home(hs[i], cap))


@njit(cache=True)
def _new_rows(keys, first, longs, n0, e0, entries, k, off_a, off_b):
    """Flag the new long ids of rows ``e0 … entries - 1`` (slots from ``k``) in ``longs``; returns the
    bytes of these rows' ids. (Apart from :func:`_probe_block`: one more store there slows its
    lookups by a sixth.)"""
    total = 0
    for r in range(e0, entries):
        s = first[r - n0]
        longs[r - n0] = keys[6 * (s & 1) + 2, (s >> 1) - k] == _LONG
        total += np.int64(off_a[(s >> 1) + 1] - off_a[s >> 1]) if s & 1 == 0 else np.int64(off_b[(s >> 1) + 1]
                                                                                           - off_b[s >> 1])
    return total


@njit(cache=True)
def _checks_pass(checks, n_checks, n0, bases, first, off_a, off_b):
    """Whether each listed slot's id has the bytes of its matched row: bytes from ``checks[2, i]``
    in the store, or those of a row new in this call (lengths are equal already). No branch waits
    on a load, so the comparisons' cache misses overlap."""
    ok = True
    for i in range(n_checks):
        s, c = checks[0, i], checks[1, i]
        if s & 1 == 0:  # (written out here: an inlined helper taking the arrays costs a reference count per call)
            lo, hi = bases[1] + np.int64(off_a[s >> 1]), bases[1] + np.int64(off_a[(s >> 1) + 1])
        else:
            lo, hi = bases[2] + np.int64(off_b[s >> 1]), bases[2] + np.int64(off_b[(s >> 1) + 1])
        if c < n0:
            x = bases[0] + checks[2, i]
        else:
            f = first[c - n0]
            x = bases[1] + np.int64(off_a[f >> 1]) if f & 1 == 0 else bases[2] + np.int64(off_b[f >> 1])
        ok &= _same_long(x, lo, hi)
    return ok


@njit(cache=True)
def _same_slot(s, c, n0, xlo, bases, first, off_a, off_b):
    """Whether row ``c`` (stored from byte ``xlo``, or new in this call) has the long id at slot
    ``s``, of its length."""
    if s & 1 == 0:
        lo, hi = bases[1] + np.int64(off_a[s >> 1]), bases[1] + np.int64(off_a[(s >> 1) + 1])
    else:
        lo, hi = bases[2] + np.int64(off_b[s >> 1]), bases[2] + np.int64(off_b[(s >> 1) + 1])
    if c < n0:
        return _same_long(bases[0] + xlo, lo, hi)
    f = first[c - n0]
    return _same_long(bases[1] + np.int64(off_a[f >> 1]) if f & 1 == 0 else bases[2] + np.int64(off_b[f >> 1]), lo, hi)


@njit(cache=True, inline="always")
def _column_keys(off, base, size, valid, k, kb, keys, at, hint, hbytes):
    """The keys of rows ``k … kb - 1`` of one column in rows ``at … at + 5`` of ``keys``: a run of
    ids of one shape from ``k`` (:func:`~alchemist.graph._id_runs.key_run`), the rest by
    :func:`_block_keys`; returns the number of wide ids."""
    start, wide = _key_run(off, base, size, valid, k, kb, keys[at], keys[at + 1], keys[at + 2], keys[at + 3],
                           keys[at + 4], keys[at + 5])
    if start == kb:
        return wide
    s = start - k
    return wide + _block_keys(off, base, size, valid, start, kb, keys[at][s:], keys[at + 1][s:], keys[at + 2][s:],
                              keys[at + 3][s:], keys[at + 4][s:], keys[at + 5][s:], hint, hbytes)


@njit(cache=True)
def _block_keys(off, base, size, valid, k, kb, k0s, k1s, codes, hs, k2s, k3s, hint, hbytes):
    """Keys of the ids of rows ``k … kb - 1`` of one column (code ``_NULL`` where null; ``k2s, k3s``
    written for CIDs only), with the head dictionary ``hint, hbytes``; returns the number of CIDs.
    An id with the head of the last id found in the dictionary (same length, same bytes) takes its
    index without hashing the head, unless that head may be a UUID's or a CID's (an id of 36 bytes,
    or of 59 starting with ``b``)."""
    heads = (_address(hint), _address(hbytes))
    last, last_n, last_x = np.uint64(0), np.int64(-17), heads[1]  # that head's code, length (none yet) and bytes
    cids = 0
    for kk in range(k, kb):
        i = kk - k
        if valid.shape[0] > 0 and not valid[kk]:
            codes[i] = _NULL
            continue
        lo, hi = np.int64(off[kk]), np.int64(off[kk + 1])
        _prefetch(base + np.int64(off[min(kk + _AHEAD, off.shape[0] - 1)]))  # the bytes of the id _AHEAD on
        if hi - lo <= 16:
            k0, k1, code, h = _key(base, size, lo, hi)
        elif hi - lo - 16 == last_n and _peek1(last_x) == _peek1(base + lo) and _same_head(last_x, base + lo, last_n):
            k0, k1, code = _peek8(base + hi - 16), _peek8(base + hi - 8), last
            h = _whole_hash(k0, k1, code)
        else:
            k0, k1, k2, k3, code, h = _table_key(base, size, lo, hi, heads)
            if _wide(code):
                k2s[i], k3s[i] = k2, k3
                cids += 1
            elif code >= _HEADED and code < _HEADED + _HEADS:
                last, last_n = code, hi - lo - 16
                last_x = heads[1] + np.int64(hint[_HOFF + np.int64(code) - _HEADED])
                if last_n == 20 or (last_n == _CID_LENGTH - 16 and _peek1(last_x) == 0x62) \
                        or (last_n + 16 <= _HEX_MAX and _all_hex(last_x, last_n)):
                    last_n = -17
        k0s[i], k1s[i], codes[i], hs[i] = k0, k1, code, h
    return cids


@njit(cache=True, inline="always")
def _same_long(x, lo, hi):
    """Whether the bytes at address ``x`` equal those at ``lo … hi - 1`` (more than 8): the XOR of
    their 8-byte words (the last word being the final 8 bytes) is zero, with no branch on the bytes."""
    length = hi - lo
    diff = _peek8(x + length - 8) ^ _peek8(hi - 8)
    t = 0
    while t + 8 < length:
        diff |= _peek8(x + t) ^ _peek8(lo + t)
        t += 8
    return diff == 0


@njit(cache=True)
def _rehash(tab, new, limit, cid):
    """Insert the entries of ``tab`` with row < ``limit`` into the empty table ``new`` (``cid``: the
    wide ids' other key words, by row)."""
    cap = new.shape[0] // 4
    for i in range(tab.shape[0] // 4):
        meta = tab[4 * i + 2]
        if meta == 0 or np.int64(meta >> _SHIFT) - 1 >= limit:
            continue
        j = _home(_entry_hash(tab[4 * i], tab[4 * i + 1], meta, cid), cap)
        while new[4 * j + 2] != 0:
            j += 1
            if j == cap:
                j = 0
        new[4 * j] = tab[4 * i]
        new[4 * j + 1] = tab[4 * i + 1]
        new[4 * j + 2] = meta
        new[4 * j + 3] = tab[4 * i + 3]


@njit(cache=True)
def _insert_rows(tab, off, data, start, pos, cid, longs, hint, hbytes):
    """Insert the ids at ``off, data`` as rows ``start …``, without lookup; ``pos``: where the first
    long one's bytes will be stored. Sets ``longs[i]`` to 1 where id i is long."""
    cap = tab.shape[0] // 4
    base, size = _address(data), data.shape[0]
    heads = (_address(hint), _address(hbytes))
    for i in range(longs.shape[0]):
        c = start + i
        lo, hi = np.int64(off[i]), np.int64(off[i + 1])
        k0, k1, k2, k3, code, h = _table_key(base, size, lo, hi, heads)
        if _wide(code):
            cid[2 * c], cid[2 * c + 1] = k2, k3
        j = _home(h, cap)
        while tab[4 * j + 2] != 0:
            j += 1
            if j == cap:
                j = 0
        tab[4 * j] = k0
        tab[4 * j + 1] = k1
        tab[4 * j + 2] = (np.uint64(c + 1) << _SHIFT) | np.uint64(code)
        tab[4 * j + 3] = np.uint64(pos) if code == _LONG else np.uint64(0)
        longs[i] = code == _LONG
        if code == _LONG:
            pos += hi - lo


@njit(cache=True)
def _long_bytes(off, longs):
    """The bytes of the ids flagged in ``longs`` (offsets ``off``)."""
    total = 0
    for i in range(longs.shape[0]):
        if longs[i]:
            total += np.int64(off[i + 1]) - np.int64(off[i])
    return total


@njit(cache=True)
def _copy_longs(off, data, longs, store, at):
    """Copy the bytes of the ids flagged in ``longs`` to ``store`` from byte ``at``, in order; returns
    where they end."""
    for i in range(longs.shape[0]):
        if longs[i]:
            lo, hi = np.int64(off[i]), np.int64(off[i + 1])
            store[at: at + hi - lo] = data[lo: hi]
            at += hi - lo
    return at


@njit(cache=True)
def _hash_column(off, data, out):
    base, size = _address(data), data.shape[0]
    for k in range(out.shape[0]):
        out[k] = _key(base, size, np.int64(off[k]), np.int64(off[k + 1]))[3]


@njit(cache=True)
def _fill_range(out, start):
    for i in range(out.shape[0]):
        out[i] = start + i
