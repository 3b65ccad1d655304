"""A Graph's node-id table: id string -> raw row, a Numba hash table kept between calls.

Imported on first use, so that ``import alchemist.graph`` does not load Numba. The bulk event
path resolves the ids of two string columns (node id or source, and target) straight from their
Arrow buffers in one pass: each id is looked up among the graph's nodes and, when absent, given
the next raw row, in order of first occurrence over the interleaved slots ``a[0], b[0], a[1],
…`` — no Python string objects are made and no per-call dictionary is built. Open addressing with
linear probing (Knuth, TAOCP vol. 3, § 6.4, algorithm L). Each table slot is two 64-bit words, so a
probe reads one cache line: an id of at most 8 bytes is stored as its bytes packed in one integer
(with its length), and compared exactly in one step; a longer id as a 64-bit hash of its 8-byte
words (xxHash64's round, MurmurHash3's finaliser), confirmed word by word against the graph's copy
of the id's UTF-8 bytes. The confirmations of a block of lookups run after its probes, as one pass
of independent loads: a UUID id costs about 2.5-3x a short one (it was 10x).

The table is append-only: a removed node keeps its entry and lookups skip it (they read the
graph's removal column), so that a re-added id finds its new row. Entries added by a call that
then fails its checks are dropped again (:meth:`NodeTable.rollback`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["NodeTable", "hash_ids", "fill_range"]

_ALIVE = np.iinfo(np.int64).max   # the graph's removal version of a live row
_LONG = 9                         # length code of an id longer than 8 bytes
_NULL = 15                        # length code of a null slot (never stored)
_BLOCK = 4096                     # rows per block of the resolve kernel
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


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

    __slots__ = ("_tab", "size", "_pending", "_data", "_nbytes", "_off", "ids")

    def __init__(self, ids=None):
        self._tab = np.zeros(2 * 4096, np.uint64)   # slot j: words 2j (key) and 2j + 1 (row + 1, length code)
        self.size = 0
        self._pending = 0
        self._data = np.empty(4096, np.uint8)       # UTF-8 bytes of the ids, row after row
        self._nbytes = 0
        self._off = np.zeros(1024, np.int64)        # row r's bytes: _data[_off[r]:_off[r + 1]]
        self.ids = ids

    def append(self, strings) -> None:
        """Add rows ``size …`` with the ids of a pyarrow StringArray (no lookup: ids known new,
        or rows of removed nodes)."""
        self.rollback()
        start = self.size
        self._store(strings)
        stop = start + len(strings)
        self._fit(stop)
        _insert_rows(self._tab, self._off, self._data, start, stop)
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
        k, entries = 0, self.size
        self._fit(self.size + 2 * _BLOCK)
        while True:
            k, entries = _resolve_run(k, entries, (self._tab.shape[0] // 2) // 2, self.size, self._tab, self._off,
                                      self._data, removed, off_a, data_a, valid_a, off_b, data_b, valid_b, n,
                                      out_a, out_b, first)
            self._pending = entries
            if k == n:
                break
            self._tab = _rehash(self._tab, self._tab.shape[0], self._pending)  # double the table
        return first[: entries - self.size].copy()

    def commit(self, new_ids) -> None:
        """Keep the pending rows; ``new_ids`` (pyarrow StringArray) are their ids, in row order."""
        if len(new_ids) != self._pending - self.size:
            raise ValueError(f"{len(new_ids)} ids for {self._pending - self.size} pending rows")
        self._store(new_ids)
        self.size = self._pending

    def rollback(self) -> None:
        """Drop the rows of a :meth:`resolve` that was not committed."""
        if self._pending != self.size:
            self._tab = _rehash(self._tab, self._tab.shape[0] // 2, self.size)
            self._pending = self.size

    def nbytes(self) -> int:
        return self._tab.nbytes + self._data.nbytes + self._off.nbytes

    def _fit(self, rows: int) -> None:
        """Grow the table to at most half full with ``rows`` entries."""
        cap = self._tab.shape[0] // 2
        new = cap
        while new // 2 < rows:
            new *= 2
        if new != cap:
            self._tab = _rehash(self._tab, new, self._pending)

    def _store(self, strings) -> None:
        """Append the UTF-8 bytes of ``strings`` (rows ``size …``) to the byte store."""
        m = len(strings)
        off, data, _ = _buffers(strings)
        lo, hi = int(off[0]) if m else 0, int(off[m]) if m else 0
        need = self._nbytes + hi - lo
        if need > self._data.shape[0]:
            grown = np.empty(max(need, 2 * self._data.shape[0]), np.uint8)
            grown[: self._nbytes] = self._data[: self._nbytes]
            self._data = grown
        if self.size + m + 1 > self._off.shape[0]:
            grown = np.empty(max(self.size + m + 1, 2 * self._off.shape[0]), np.int64)
            grown[: self.size + 1] = self._off[: self.size + 1]
            self._off = grown
        self._data[self._nbytes: need] = data[lo:hi]
        self._off[self.size + 1: self.size + m + 1] = off[1: m + 1].astype(np.int64) - lo + self._nbytes
        self._nbytes = need


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


# --------------------------------------------------------------------------- kernels
_P1 = np.uint64(0x9E3779B185EBCA87)   # xxHash64's PRIME64_1 and PRIME64_2 (Collet, xxHash specification)
_P2 = np.uint64(0xC2B2AE3D27D4EB4F)


@njit(cache=True, inline="always")
def _fmix(h):
    # MurmurHash3's fmix64 finaliser: spreads every input bit over the low (index) bits
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xFF51AFD7ED558CCD)
    h ^= h >> np.uint64(33)
    return h


@njit(cache=True)
def _load8(data, p):
    """The 8 bytes ``data[p:p + 8]`` as one little-endian word. Unsigned indices spare Numba's
    negative-index wrap-around, so LLVM fuses the eight byte loads into one unaligned load."""
    q = np.uint64(p)
    return (np.uint64(data[q]) | (np.uint64(data[q + np.uint64(1)]) << np.uint64(8))
            | (np.uint64(data[q + np.uint64(2)]) << np.uint64(16)) | (np.uint64(data[q + np.uint64(3)]) << np.uint64(24))
            | (np.uint64(data[q + np.uint64(4)]) << np.uint64(32)) | (np.uint64(data[q + np.uint64(5)]) << np.uint64(40))
            | (np.uint64(data[q + np.uint64(6)]) << np.uint64(48)) | (np.uint64(data[q + np.uint64(7)]) << np.uint64(56)))


@njit(cache=True, inline="always")
def _key(data, lo, hi):
    """``(key word, length code, hash)`` of the bytes ``data[lo:hi]``.

    An id of more than 8 bytes is hashed a word at a time with xxHash64's round
    (``rotl(h ^ w * P2, 31) * P1``) over its 8-byte words, the last word being the final 8 bytes
    (overlapping the one before: the length, mixed in first, tells the ids apart)."""
    length = hi - lo
    if length <= 8:
        packed = np.uint64(0)
        for t in range(length):
            packed |= np.uint64(data[np.uint64(lo + t)]) << np.uint64(8 * t)
        return packed, np.uint64(length), _fmix(packed ^ (np.uint64(length) * _GOLDEN))
    h = np.uint64(length) * _P1
    p = lo
    while p + 8 < hi:
        h = _round(h, _load8(data, p))
        p += 8
    h = _fmix(_round(h, _load8(data, hi - 8)))
    return h, np.uint64(_LONG), h


@njit(cache=True)
def _round(h, w):
    h ^= w * _P2
    return ((h << np.uint64(31)) | (h >> np.uint64(33))) * _P1


@njit(cache=True, inline="always")
def _slot_hash(w0, lcode):
    return w0 if lcode == _LONG else _fmix(w0 ^ (lcode * _GOLDEN))


@njit(cache=True)
def _resolve_run(k, entries, max_entries, n0, tab, store_off, store_data, removed, off_a, data_a, valid_a,
                 off_b, data_b, valid_b, n, out_a, out_b, first):
    """Resolve rows ``k …`` until all are done or a block could take more than ``max_entries``
    entries; returns ``(k, entries)``.

    Blocks of ``_BLOCK`` rows, in three passes. The keys of a block's a and b ids are computed
    first, then the slots are probed in order (new ids are numbered in order of first occurrence),
    then the ids of more than 8 bytes that met an entry of the same 64-bit hash are compared with
    that entry's bytes. Separating the byte loops from the table probes, and the probes from the
    byte comparisons, lets the processor overlap their cache misses, as in group prefetching (Chen,
    Ailamaki, Gibbons & Mowry, "Improving hash join performance through prefetching", ICDE 2004).
    When a comparison fails (two different ids of equal hash), the block's new entries are dropped
    and the block is probed again comparing the bytes at each hash match."""
    keys = np.empty((6, _BLOCK), np.uint64)  # key word, length code, hash: of a (rows 0-2) and b (3-5)
    checks = np.empty((3, 2 * _BLOCK), np.int64)  # slot 2kk + side, matched row, its length: of each hash match
    sink = np.zeros(1, np.uint64)  # the words read ahead of use land here, so the reads are kept
    cap = tab.shape[0] // 2
    while k < n:
        kb = min(k + _BLOCK, n)
        if entries + 2 * (kb - k) > max_entries:
            break
        _block_keys(off_a, data_a, valid_a, k, kb, keys[0], keys[1], keys[2])
        _block_keys(off_b, data_b, valid_b, k, kb, keys[3], keys[4], keys[5])
        sink[0] ^= _read_ahead(tab, keys[2], kb - k) ^ _read_ahead(tab, keys[5], kb - k)
        e0 = entries
        entries, n_checks = _probe_block(k, kb, entries, n0, tab, keys, store_off, store_data, removed, off_a, data_a,
                                         off_b, data_b, out_a, out_b, first, checks, False)
        if not _checks_pass(checks, n_checks, n0, store_off, store_data, first, off_a, data_a, off_b, data_b):
            tab[:] = _rehash(tab, cap, e0)
            entries, _ = _probe_block(k, kb, e0, n0, tab, keys, store_off, store_data, removed, off_a, data_a,
                                      off_b, data_b, out_a, out_b, first, checks, True)
        k = kb
    return k, entries


@njit(cache=True)
def _probe_block(k, kb, entries, n0, tab, keys, store_off, store_data, removed, off_a, data_a, off_b, data_b,
                 out_a, out_b, first, checks, exact):
    """Look up (or add) the ids of rows ``k … kb - 1``, whose keys are in ``keys``; returns
    ``(entries, n_checks)``. A long id takes the first live entry of its hash and is listed in
    ``checks`` for :func:`_checks_pass`, unless ``exact``, where its bytes are compared at once."""
    mask = np.uint64(tab.shape[0] // 2 - 1)
    n_checks = 0
    for kk in range(k, kb):
        i = kk - k
        for side in range(2):
            lcode = keys[3 * side + 1, i]
            row = -1
            if lcode != _NULL:
                w0 = keys[3 * side, i]
                j = keys[3 * side + 2, i] & mask
                while True:
                    w1 = tab[2 * j + 1]
                    if w1 == 0:
                        break
                    if (w1 & np.uint64(15)) == lcode and tab[2 * j] == w0:
                        c = np.int64(w1 >> np.uint64(4)) - 1
                        if c >= n0 or removed.shape[0] == 0 or removed[c] == _ALIVE:
                            if lcode != _LONG:
                                row = c
                                break
                            if not exact:  # listed with where its row's bytes are (a load nothing waits on)
                                checks[0, n_checks] = 2 * kk + side
                                if c < n0:
                                    xlo = store_off[c]
                                    checks[1, n_checks] = -1 - xlo
                                    checks[2, n_checks] = store_off[c + 1] - xlo
                                else:
                                    checks[1, n_checks] = c
                                n_checks += 1
                                row = c
                                break
                            if _same_slot(2 * kk + side, c, n0, store_off, store_data, first, off_a, data_a, off_b,
                                          data_b):
                                row = c
                                break
                    j = (j + np.uint64(1)) & mask
                if row < 0:
                    row = entries
                    first[row - n0] = 2 * kk + side
                    tab[2 * j] = w0
                    tab[2 * j + 1] = (np.uint64(row + 1) << np.uint64(4)) | lcode
                    entries += 1
            if side == 0:
                out_a[kk] = row
            else:
                out_b[kk] = row
    return entries, n_checks


@njit(cache=True)
def _read_ahead(tab, hs, count):
    """XOR of the home slots' second words of the hashes ``hs[:count]``: loads that depend on
    nothing, so their cache misses overlap, and the probes that follow find the lines cached."""
    mask = np.uint64(tab.shape[0] // 2 - 1)
    acc = np.uint64(0)
    for i in range(count):
        acc ^= tab[2 * (hs[i] & mask) + 1]
    return acc


@njit(cache=True)
def _checks_pass(checks, n_checks, n0, store_off, store_data, first, off_a, data_a, off_b, data_b):
    """Whether each listed slot's id has the bytes of its matched row: row ``-1 - checks[1, i]``
    bytes from ``checks[1, i]`` in the store (``checks[2, i]`` of them), or a row new in this call.
    No branch waits on a load, so the comparisons' cache misses overlap."""
    ok = True
    for i in range(n_checks):
        s, c = checks[0, i], checks[1, i]
        if s & 1 == 0:
            data, lo, hi = data_a, np.int64(off_a[s >> 1]), np.int64(off_a[(s >> 1) + 1])
        else:
            data, lo, hi = data_b, np.int64(off_b[s >> 1]), np.int64(off_b[(s >> 1) + 1])
        if c < 0:
            ok &= _same_long(store_data, -1 - c, -1 - c + checks[2, i], data, lo, hi)
        else:
            ok &= _same_row(c, n0, store_off, store_data, first, off_a, data_a, off_b, data_b, data, lo, hi)
    return ok


@njit(cache=True)
def _same_slot(s, c, n0, store_off, store_data, first, off_a, data_a, off_b, data_b):
    """Whether row ``c`` (stored, or new in this call) has the id of more than 8 bytes at slot
    ``s`` (``a[s // 2]`` or ``b[s // 2]``)."""
    if s & 1 == 0:
        return _same_row(c, n0, store_off, store_data, first, off_a, data_a, off_b, data_b, data_a,
                         np.int64(off_a[s >> 1]), np.int64(off_a[(s >> 1) + 1]))
    return _same_row(c, n0, store_off, store_data, first, off_a, data_a, off_b, data_b, data_b,
                     np.int64(off_b[s >> 1]), np.int64(off_b[(s >> 1) + 1]))


@njit(cache=True)
def _block_keys(off, data, valid, k, kb, w0s, lcodes, hs):
    """Keys of the ids of rows ``k … kb - 1`` of one column (length code ``_NULL`` where null)."""
    for kk in range(k, kb):
        if valid.shape[0] > 0 and not valid[kk]:
            lcodes[kk - k] = _NULL
            continue
        w0, lcode, h = _key(data, np.int64(off[kk]), np.int64(off[kk + 1]))
        w0s[kk - k], lcodes[kk - k], hs[kk - k] = w0, lcode, h


@njit(cache=True)
def _same_row(c, n0, store_off, store_data, first, off_a, data_a, off_b, data_b, data, lo, hi):
    """Whether row ``c`` (stored, or new in this call) has the id ``data[lo:hi]`` of more than 8 bytes."""
    if c < n0:
        return _same_long(store_data, store_off[c], store_off[c + 1], data, lo, hi)
    s = first[c - n0]
    ks = s >> 1
    if s & 1 == 0:
        return _same_long(data_a, np.int64(off_a[ks]), np.int64(off_a[ks + 1]), data, lo, hi)
    return _same_long(data_b, np.int64(off_b[ks]), np.int64(off_b[ks + 1]), data, lo, hi)


@njit(cache=True, inline="always")
def _same_long(x, xlo, xhi, y, lo, hi):
    """Whether ``x[xlo:xhi]`` equals ``y[lo:hi]``, both more than 8 bytes long: the XOR of their
    8-byte words (the last word being the final 8 bytes) is zero, with no branch on the bytes."""
    length = hi - lo
    if xhi - xlo != length:
        return False
    diff = _load8(x, xhi - 8) ^ _load8(y, hi - 8)
    t = 0
    while t + 8 < length:
        diff |= _load8(x, xlo + t) ^ _load8(y, lo + t)
        t += 8
    return diff == 0


@njit(cache=True)
def _rehash(tab, cap, limit):
    """A table of ``cap`` slots holding the entries of ``tab`` with row < ``limit``."""
    new = np.zeros(2 * cap, np.uint64)
    mask = np.uint64(cap - 1)
    for i in range(tab.shape[0] // 2):
        w1 = tab[2 * i + 1]
        if w1 == 0 or np.int64(w1 >> np.uint64(4)) - 1 >= limit:
            continue
        w0 = tab[2 * i]
        j = _slot_hash(w0, w1 & np.uint64(15)) & mask
        while new[2 * j + 1] != 0:
            j = (j + np.uint64(1)) & mask
        new[2 * j] = w0
        new[2 * j + 1] = w1
    return new


@njit(cache=True)
def _insert_rows(tab, store_off, store_data, start, stop):
    """Insert rows ``start … stop - 1`` from the byte store, without lookup."""
    mask = np.uint64(tab.shape[0] // 2 - 1)
    for c in range(start, stop):
        w0, lcode, h = _key(store_data, store_off[c], store_off[c + 1])
        j = h & mask
        while tab[2 * j + 1] != 0:
            j = (j + np.uint64(1)) & mask
        tab[2 * j] = w0
        tab[2 * j + 1] = (np.uint64(c + 1) << np.uint64(4)) | lcode


@njit(cache=True)
def _hash_column(off, data, out):
    for k in range(out.shape[0]):
        out[k] = _key(data, np.int64(off[k]), np.int64(off[k + 1]))[2]


@njit(cache=True)
def _fill_range(out, start):
    for i in range(out.shape[0]):
        out[i] = start + i
