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
- any other id: a 64-bit hash of its bytes (wyhash's 128-bit multiply-fold over 16-byte chunks,
  MurmurHash3's finaliser), its length and where its bytes are in the table's byte store. A lookup
  that meets the same hash and length confirms the bytes word by word: the stored bytes are
  prefetched when the probe finds the entry and compared in a later pass over the block, so that
  the cache misses of many confirmations overlap.

In ``Graph.apply_columns``, a UUID node id costs about 1.4 times an id of a few bytes (its 36
bytes are read once, no byte store is touched); an id of 64 bytes about 2.2 times (one random read
of its stored copy per lookup, and twice the bytes to read and hash).

The table is append-only: a removed node keeps its entry and lookups skip it (they read the
graph's removal column), so that a re-added id finds its new row. Entries added by a call that
then fails its checks are dropped again (:meth:`NodeTable.rollback`).
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from llvmlite.binding import llvm_version_info
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

__all__ = ["NodeTable", "hash_ids", "fill_range"]

_ALIVE = np.iinfo(np.int64).max   # the graph's removal version of a live row
_UUID_LOWER = np.uint64(17)       # id codes beyond the lengths 0-16 of ids held whole
_UUID_UPPER = np.uint64(18)
_LONG = np.uint64(19)             # any other id (hash, length and bytes' offset in the slot)
_NULL = np.uint64(31)             # a null slot (never stored)
_CODE = np.uint64(31)             # the id code's bits in a slot's third word (row + 1 above them)
_BLOCK = 1024                     # rows per block of the resolve kernel
_MIN_SLOTS = 4096
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

    __slots__ = ("_tab", "size", "_pending", "_data", "_nbytes", "_pending_bytes", "_off", "ids")

    def __init__(self, ids=None):
        self._tab = np.zeros(4 * _MIN_SLOTS, np.uint64)  # slot j: words 4j … 4j + 3 (see _probe_block)
        self.size = 0
        self._pending = 0
        self._data = np.empty(4096, np.uint8)       # UTF-8 bytes of the ids, row after row
        self._nbytes = 0
        self._pending_bytes = 0                     # bytes the pending long ids will take in _data
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
        k, entries, pos = 0, self.size, self._nbytes
        given = 2 * n - a.null_count - b.null_count
        # a call of one id per row (node events) takes at most that many new rows: room for them at once
        self._fit(self.size + 2 * _BLOCK + (given if given <= n else 0))
        while True:
            k, entries, pos = _resolve_run(k, entries, pos, (self._tab.shape[0] // 4) * 5 // 8, self.size, self._tab,
                                           self._data, removed, off_a, data_a, valid_a, off_b, data_b, valid_b, n,
                                           out_a, out_b, first)
            self._pending, self._pending_bytes = entries, pos - self._nbytes
            if k == n:
                break
            self._tab = _rehashed(self._tab, _grown(self._tab.shape[0] // 4), self._pending)
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
        before = self._nbytes
        self._store(new_ids)
        if self._nbytes != before + self._pending_bytes:  # the long ids' offsets in the table would be wrong
            given, self._nbytes = self._nbytes - before, before
            raise ValueError(f"the ids to commit take {given} bytes, the pending rows' ids {self._pending_bytes}: "
                             "commit the ids of the resolved slots")
        self.size = self._pending
        self._pending_bytes = 0

    def rollback(self) -> None:
        """Drop the rows of a :meth:`resolve` that was not committed."""
        if self._pending != self.size:
            self._tab = _rehashed(self._tab, self._tab.shape[0] // 4, self.size)
            self._pending = self.size
        self._pending_bytes = 0

    def nbytes(self) -> int:
        return self._tab.nbytes + self._data.nbytes + self._off.nbytes

    def _fit(self, rows: int) -> None:
        """Grow the table to at most five eighths full with ``rows`` entries."""
        cap = self._tab.shape[0] // 4
        if rows > cap * 5 // 8:
            self._tab = _rehashed(self._tab, max(_grown(cap), _round_up(2 * rows)), self._pending)

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


def _rehashed(tab: np.ndarray, cap: int, limit: int) -> np.ndarray:
    """A table of ``cap`` slots with the entries of ``tab`` of row < ``limit``. Allocated by NumPy,
    which asks the kernel for huge pages on large arrays: the table's random reads then miss the
    TLB far less often (Numba's own allocations get no such advice)."""
    new = np.zeros(4 * cap, np.uint64)
    _rehash(tab, new, limit)
    return new


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


# --------------------------------------------------------------------------- keys
_P2 = np.uint64(0xC2B2AE3D27D4EB4F)   # xxHash64's PRIME64_2 (Collet, xxHash specification)
# wyhash's default secret (Wang Yi, wyhash, final version 4.2)
_S0, _S1 = np.uint64(0x2D358DCCAA6C78A5), np.uint64(0x8BB84B93962EACC9)
_S2 = np.uint64(0x4B33A62ED433D4A3)
_ONES = np.uint64(0xFFFFFFFFFFFFFFFF)


@njit(cache=True, inline="always")
def _fmix(h):
    # MurmurHash3's fmix64 finaliser: spreads every input bit over the low (index) bits
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xFF51AFD7ED558CCD)
    h ^= h >> np.uint64(33)
    return h


@intrinsic
def _address(typingctx, arr):
    """The address of an array's first element, as an integer (read with :func:`_peek8`)."""
    if not isinstance(arr, types.Array):
        return None

    def codegen(context, builder, signature, args):
        ary = context.make_array(signature.args[0])(context, builder, args[0])
        return builder.ptrtoint(ary.data, context.get_value_type(types.intp))
    return types.intp(arr), codegen


@intrinsic
def _peek8(typingctx, address):
    """The 8 bytes at ``address`` as one (little-endian on the machines Numba targets) word: one
    unaligned load. The kernels pass addresses rather than arrays to their inlined helpers, which
    spares Numba's reference counting of an array in every iteration of the loops around them."""
    if not isinstance(address, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        ptr = builder.inttoptr(args[0], ir.IntType(64).as_pointer())
        return builder.load(ptr, align=1)
    return types.uint64(address), codegen


# the intrinsic's name mangles its pointer type: opaque ("p0") from LLVM 17, typed ("p0i8") before
_PREFETCH = "llvm.prefetch.p0" if llvm_version_info[0] >= 17 else "llvm.prefetch.p0i8"


@intrinsic
def _prefetch(typingctx, address):
    """Ask for the cache line at ``address`` ahead of its use (no effect on the results)."""
    if not isinstance(address, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        i32 = ir.IntType(32)
        ptr = builder.inttoptr(args[0], ir.IntType(8).as_pointer())
        fnty = ir.FunctionType(ir.VoidType(), [ptr.type, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, _PREFETCH)
        builder.call(fn, [ptr, ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)])
        return context.get_dummy_value()
    return types.none(address), codegen


@intrinsic
def _peek1(typingctx, address):
    """The byte at ``address``."""
    if not isinstance(address, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        ptr = builder.inttoptr(args[0], ir.IntType(8).as_pointer())
        return builder.zext(builder.load(ptr), ir.IntType(64))
    return types.uint64(address), codegen


@njit(cache=True, inline="always")
def _pack(base, size, lo, hi):
    """The at most 8 bytes ``lo … hi - 1`` of the ``size`` bytes at ``base``, packed in one word,
    first byte lowest, zero above (no read outside the ``size`` bytes)."""
    length = hi - lo
    if length == 0:
        return np.uint64(0)
    if lo + 8 <= size:
        return _peek8(base + lo) & (_ONES >> np.uint64(64 - 8 * length))
    if hi >= 8:
        return _peek8(base + hi - 8) >> np.uint64(64 - 8 * length)
    packed = np.uint64(0)
    for t in range(length):
        packed |= _peek1(base + lo + t) << np.uint64(8 * t)
    return packed


# the 32 hex digits of a UUID's 36 characters, as lanes of the 32 characters at 0 (lanes 0-31) and
# the 8 at 28 (lanes 32-39); its 4 dashes
_UUID_DIGITS = list(range(8)) + list(range(9, 13)) + list(range(14, 18)) + list(range(19, 23)) + list(range(24, 32)) \
    + list(range(36, 40))
_UUID_DASHES = [8, 13, 18, 23]


@intrinsic
def _uuid(typingctx, address):
    """``(code, k0, k1)`` of the 36 bytes at ``address``: ``_UUID_LOWER`` (``_UUID_UPPER``) and
    the UUID's 128 bits when they are a UUID in canonical text form with digits ``0-9a-f``
    (``0-9A-F``), else ``_LONG`` (and meaningless key words). Digits alone count as lower case, so
    each string has one code, and a code and 128 bits give back the string.

    Written with LLVM's portable vector operations (SSE/AVX or NEON, as the machine has): the 32
    digits are gathered by one shuffle, checked by two range compares, turned into 4-bit values
    (``c & 15``, plus 9 for a letter, whose bit 6 is set) and packed two to a byte."""
    if not isinstance(address, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        i8, i32, i64, i128 = ir.IntType(8), ir.IntType(32), ir.IntType(64), ir.IntType(128)

        def splat(ty, lanes, value):
            return ir.Constant(ir.VectorType(ty, lanes), [ir.Constant(ty, value)] * lanes)

        def lanes(index):
            return ir.Constant(ir.VectorType(i32, len(index)), [ir.Constant(i32, x) for x in index])

        p = builder.zext(args[0], i64) if args[0].type.width < 64 else args[0]
        head = builder.load(builder.inttoptr(p, ir.VectorType(i8, 32).as_pointer()), align=1)
        tail = builder.load(builder.inttoptr(builder.add(p, ir.Constant(i64, 28)), ir.VectorType(i8, 8).as_pointer()),
                            align=1)
        tail = builder.shuffle_vector(tail, tail, lanes(list(range(8)) * 4))
        digits = builder.shuffle_vector(head, tail, lanes(_UUID_DIGITS))
        dashes = builder.shuffle_vector(head, head, lanes(_UUID_DASHES))

        def all_lanes(flags, n):
            return builder.icmp_unsigned("==", builder.bitcast(flags, ir.IntType(n)), ir.Constant(ir.IntType(n), -1))

        def within(lo, count):  # each digit in lo … lo + count - 1
            return builder.icmp_unsigned("<", builder.sub(digits, splat(i8, 32, lo)), splat(i8, 32, count))

        dashed = all_lanes(builder.icmp_unsigned("==", dashes, splat(i8, 4, 0x2D)), 4)
        lower = all_lanes(builder.or_(within(0x30, 10), within(0x61, 6)), 32)
        upper = all_lanes(builder.or_(within(0x30, 10), within(0x41, 6)), 32)
        code = builder.select(upper, ir.Constant(i64, int(_UUID_UPPER)), ir.Constant(i64, int(_LONG)))
        code = builder.select(lower, ir.Constant(i64, int(_UUID_LOWER)), code)
        code = builder.select(dashed, code, ir.Constant(i64, int(_LONG)))
        letter = builder.and_(builder.lshr(digits, splat(i8, 32, 6)), splat(i8, 32, 1))
        value = builder.add(builder.and_(digits, splat(i8, 32, 15)), builder.mul(letter, splat(i8, 32, 9)))
        pairs = builder.bitcast(value, ir.VectorType(ir.IntType(16), 16))  # digit 2i in the low byte (little-endian)
        packed = builder.or_(builder.and_(pairs, splat(ir.IntType(16), 16, 15)),
                             builder.lshr(pairs, splat(ir.IntType(16), 16, 4)))
        bits = builder.bitcast(builder.trunc(packed, ir.VectorType(i8, 16)), i128)
        k0 = builder.trunc(bits, i64)
        k1 = builder.trunc(builder.lshr(bits, ir.Constant(i128, 64)), i64)
        return context.make_tuple(builder, signature.return_type, [code, k0, k1])
    return types.UniTuple(types.uint64, 3)(address), codegen


@njit(cache=True, inline="always")
def _whole_hash(k0, k1, code):
    """The hash of an id held whole: its code and two key words."""
    return _fmix(k0 ^ (np.uint64(code) * _GOLDEN) ^ (k1 * _P2))


@intrinsic
def _mum(typingctx, a, b):
    """The two halves of the 128-bit product ``a * b``, XORed (wyhash's "mum"): one wide multiply."""
    if not (isinstance(a, types.Integer) and isinstance(b, types.Integer)):
        return None

    def codegen(context, builder, signature, args):
        i64, i128 = ir.IntType(64), ir.IntType(128)
        product = builder.mul(builder.zext(args[0], i128), builder.zext(args[1], i128))
        high = builder.trunc(builder.lshr(product, ir.Constant(i128, 64)), i64)
        return builder.xor(builder.trunc(product, i64), high)
    return types.uint64(types.uint64, types.uint64), codegen


@njit(cache=True, inline="always")
def _key(base, size, lo, hi):
    """``(k0, k1, code, hash)`` of the id at bytes ``lo … hi - 1`` of the ``size`` bytes at ``base``.

    An id held whole has its bytes (at most 16) or UUID bits in ``k0, k1`` and its length or UUID
    code as ``code``. Any other id (``code == _LONG``) has its hash as ``k0`` and its length as
    ``k1``: from ``h = length ^ S0``, each 16-byte chunk ``(u, v)`` gives ``h = mum(u ^ S1, v ^ h)``,
    the last chunk being the final 16 bytes (overlapping the one before: the length tells the ids
    apart), then MurmurHash3's finaliser."""
    length = hi - lo
    if length <= 8:
        k0 = _pack(base, size, lo, hi)
        return k0, np.uint64(0), np.uint64(length), _whole_hash(k0, np.uint64(0), length)
    if length <= 16:
        k0 = _peek8(base + lo)
        k1 = _peek8(base + hi - 8) >> np.uint64(8 * (16 - length))
        return k0, k1, np.uint64(length), _whole_hash(k0, k1, length)
    if length == 36:
        code, k0, k1 = _uuid(base + lo)
        if code != _LONG:
            return k0, k1, code, _whole_hash(k0, k1, code)
    h = np.uint64(length) ^ _S0
    p = lo
    while p + 16 < hi:
        h = _mum(_peek8(base + p) ^ _S1, _peek8(base + p + 8) ^ h)
        p += 16
    h = _fmix(_mum(_peek8(base + hi - 16) ^ _S2, _peek8(base + hi - 8) ^ h))
    return h, np.uint64(length), _LONG, h


@njit(cache=True, inline="always")
def _length(code, k1):
    """The length in bytes of an id of key code ``code`` and second key word ``k1``."""
    if code <= np.uint64(16):
        return np.int64(code)
    return np.int64(36) if code != _LONG else np.int64(k1)


@njit(cache=True, inline="always")
def _home(h, cap):
    """The home slot of hash ``h`` among ``cap`` (< 2^32) slots: its top 32 bits scaled to the range."""
    return np.int64(((h >> np.uint64(32)) * np.uint64(cap)) >> np.uint64(32))


@njit(cache=True, inline="always")
def _entry_hash(k0, k1, meta):
    """The hash of a slot's entry, from its key words and third word."""
    code = meta & _CODE
    return k0 if code == _LONG else _whole_hash(k0, k1, code)


# --------------------------------------------------------------------------- kernels
@njit(cache=True)
def _resolve_run(k, entries, pos, max_entries, n0, tab, store_data, removed, off_a, data_a, valid_a,
                 off_b, data_b, valid_b, n, out_a, out_b, first):
    """Resolve rows ``k …`` until all are done or a block could take more than ``max_entries``
    entries; returns ``(k, entries, pos)`` (``pos``: where the next new id's bytes will be stored).

    Blocks of ``_BLOCK`` rows, in three passes. The keys of a block's a and b ids are computed
    first (and their home slots prefetched), then the slots are probed in order (new ids are
    numbered in order of first occurrence), then the long ids that met an entry of the same hash
    and length are compared with that entry's bytes. Separating the byte loops from the table
    probes, and the probes from the byte comparisons, lets the processor overlap their cache
    misses, as in group prefetching (Chen, Ailamaki, Gibbons & Mowry, "Improving hash join
    performance through prefetching", ICDE 2004).
    When a comparison fails (two different ids of equal hash), the block's new entries are dropped
    and the block is probed again comparing the bytes at each hash match."""
    keys = np.empty((8, _BLOCK), np.uint64)  # k0, k1, code, hash: of a (rows 0-3) and b (4-7)
    checks = np.empty((3, 2 * _BLOCK), np.int64)  # slot 2kk + side, matched row, its bytes' offset
    bases = np.array([_address(store_data), _address(data_a), _address(data_b)], np.int64)
    while k < n:
        kb = min(k + _BLOCK, n)
        if entries + 2 * (kb - k) > max_entries:
            break
        _block_keys(off_a, bases[1], data_a.shape[0], valid_a, k, kb, keys[0], keys[1], keys[2], keys[3])
        _block_keys(off_b, bases[2], data_b.shape[0], valid_b, k, kb, keys[4], keys[5], keys[6], keys[7])
        _read_ahead(tab, keys[3], kb - k)
        _read_ahead(tab, keys[7], kb - k)
        e0, pos0 = entries, pos
        entries, pos, n_checks = _probe_block(k, kb, entries, pos, n0, tab, keys, bases, removed, off_a, off_b,
                                              out_a, out_b, first, checks, False)
        if not _checks_pass(checks, n_checks, n0, bases, first, off_a, off_b):
            old = tab.copy()
            tab[:] = 0
            _rehash(old, tab, e0)
            entries, pos, _ = _probe_block(k, kb, e0, pos0, n0, tab, keys, bases, removed, off_a, off_b,
                                           out_a, out_b, first, checks, True)
        k = kb
    return k, entries, pos


@njit(cache=True)
def _probe_block(k, kb, entries, pos, n0, tab, keys, bases, removed, off_a, off_b, out_a, out_b, first, checks,
                 exact):
    """Look up (or add) the ids of rows ``k … kb - 1``, whose keys are in ``keys``; returns
    ``(entries, pos, n_checks)``.

    Slot j is the words ``4j … 4j + 3``: ``k0``, ``k1``, ``(row + 1) << 5 | code`` (0: empty slot)
    and, for a long id, the offset of its bytes in the store (that of a row new in this call is
    where :meth:`NodeTable.commit` will put them, ``pos`` counting on). An entry matches when its
    code and two key words are the lookup's; a long id takes the first live entry of its hash and
    length and is listed in ``checks`` for :func:`_checks_pass`, unless ``exact``, where its bytes
    are compared at once."""
    cap = tab.shape[0] // 4
    n_checks = 0
    for kk in range(k, kb):
        i = kk - k
        for side in range(2):
            code = keys[4 * side + 2, i]
            row = -1
            if code != _NULL:
                k0, k1 = keys[4 * side, i], keys[4 * side + 1, i]
                j = _home(keys[4 * side + 3, i], cap)
                while True:
                    meta = tab[4 * j + 2]
                    if meta == 0:
                        break
                    if (meta & _CODE) == code and tab[4 * j] == k0 and tab[4 * j + 1] == k1:
                        c = np.int64(meta >> np.uint64(5)) - 1
                        if c >= n0 or removed.shape[0] == 0 or removed[c] == _ALIVE:
                            if code != _LONG:
                                row = c
                                break
                            if not exact:  # listed with where its row's bytes are (a load nothing waits on)
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
                            if _same_slot(2 * kk + side, c, n0, np.int64(tab[4 * j + 3]), bases, first, off_a,
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
                    tab[4 * j + 2] = (np.uint64(row + 1) << np.uint64(5)) | code
                    tab[4 * j + 3] = np.uint64(pos) if code == _LONG else np.uint64(0)
                    pos += _length(code, k1)  # every new id's bytes go to the store, in row order
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


@njit(cache=True)
def _block_keys(off, base, size, valid, k, kb, k0s, k1s, codes, hs):
    """Keys of the ids of rows ``k … kb - 1`` of one column (code ``_NULL`` where null)."""
    for kk in range(k, kb):
        if valid.shape[0] > 0 and not valid[kk]:
            codes[kk - k] = _NULL
            continue
        k0, k1, code, h = _key(base, size, np.int64(off[kk]), np.int64(off[kk + 1]))
        k0s[kk - k], k1s[kk - k], codes[kk - k], hs[kk - k] = k0, k1, code, h


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
def _rehash(tab, new, limit):
    """Insert the entries of ``tab`` with row < ``limit`` into the empty table ``new``."""
    cap = new.shape[0] // 4
    for i in range(tab.shape[0] // 4):
        meta = tab[4 * i + 2]
        if meta == 0 or np.int64(meta >> np.uint64(5)) - 1 >= limit:
            continue
        j = _home(_entry_hash(tab[4 * i], tab[4 * i + 1], meta), cap)
        while new[4 * j + 2] != 0:
            j += 1
            if j == cap:
                j = 0
        new[4 * j] = tab[4 * i]
        new[4 * j + 1] = tab[4 * i + 1]
        new[4 * j + 2] = meta
        new[4 * j + 3] = tab[4 * i + 3]


@njit(cache=True)
def _insert_rows(tab, store_off, store_data, start, stop):
    """Insert rows ``start … stop - 1`` from the byte store, without lookup."""
    cap = tab.shape[0] // 4
    base, size = _address(store_data), store_data.shape[0]
    for c in range(start, stop):
        xlo = store_off[c]
        k0, k1, code, h = _key(base, size, xlo, store_off[c + 1])
        j = _home(h, cap)
        while tab[4 * j + 2] != 0:
            j += 1
            if j == cap:
                j = 0
        tab[4 * j] = k0
        tab[4 * j + 1] = k1
        tab[4 * j + 2] = (np.uint64(c + 1) << np.uint64(5)) | np.uint64(code)
        tab[4 * j + 3] = np.uint64(xlo) if code == _LONG else np.uint64(0)


@njit(cache=True)
def _hash_column(off, data, out):
    base, size = _address(data), data.shape[0]
    for k in range(out.shape[0]):
        out[k] = _key(base, size, np.int64(off[k]), np.int64(off[k + 1]))[3]


@njit(cache=True)
def _fill_range(out, start):
    for i in range(out.shape[0]):
        out[i] = start + i
