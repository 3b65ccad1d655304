"""The keys of string ids for the node-id table (:mod:`alchemist.graph._intern`): word access to
Arrow's bytes by address, the decoding of UUIDs in canonical text form and the hashes of long ids.

Numba intrinsics and inlined helpers only; the table's kernels call them inside their loops, with
addresses rather than arrays, which spares Numba's reference counting of an array per call.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from llvmlite.binding import llvm_version_info
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

UUID_LOWER = np.uint64(17)       # id codes beyond the lengths 0-16 of ids held whole
UUID_UPPER = np.uint64(18)
LONG = np.uint64(19)             # any other id: hashed (the table's other codes: _intern, _hex_keys, _cid_keys)
GOLDEN = np.uint64(0x9E3779B97F4A7C15)
P2 = np.uint64(0xC2B2AE3D27D4EB4F)   # xxHash64's PRIME64_2 (Collet, xxHash specification)
# wyhash's default secret (Wang Yi, wyhash, final version 4.2)
S0, S1 = np.uint64(0x2D358DCCAA6C78A5), np.uint64(0x8BB84B93962EACC9)
S2 = np.uint64(0x4B33A62ED433D4A3)
ONES = np.uint64(0xFFFFFFFFFFFFFFFF)


@njit(cache=True, inline="always")
def fmix(h):
    # MurmurHash3's fmix64 finaliser: spreads every input bit over the low (index) bits
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xFF51AFD7ED558CCD)
    h ^= h >> np.uint64(33)
    return h


@intrinsic
def address(typingctx, arr):
    """The address of an array's first element, as an integer (read with :func:`peek8`)."""
    if not isinstance(arr, types.Array):
        return None

    def codegen(context, builder, signature, args):
        ary = context.make_array(signature.args[0])(context, builder, args[0])
        return builder.ptrtoint(ary.data, context.get_value_type(types.intp))
    return types.intp(arr), codegen


@intrinsic
def peek8(typingctx, address):
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
def prefetch(typingctx, address):
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
def peek1(typingctx, address):
    """The byte at ``address``."""
    if not isinstance(address, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        ptr = builder.inttoptr(args[0], ir.IntType(8).as_pointer())
        return builder.zext(builder.load(ptr), ir.IntType(64))
    return types.uint64(address), codegen


@intrinsic
def poke(typingctx, address, value):
    """Store ``value`` (an integer, its own width) at ``address``: the kernels' inlined helpers write
    the head dictionary by address, sparing a reference count per call."""
    if not (isinstance(address, types.Integer) and isinstance(value, types.Integer)):
        return None

    def codegen(context, builder, signature, args):
        ptr = builder.inttoptr(args[0], context.get_value_type(signature.args[1]).as_pointer())
        builder.store(args[1], ptr)
        return context.get_dummy_value()
    return types.none(address, value), codegen


@njit(cache=True, inline="always")
def pack(base, size, lo, hi):
    """The at most 8 bytes ``lo … hi - 1`` of the ``size`` bytes at ``base``, packed in one word,
    first byte lowest, zero above (no read outside the ``size`` bytes)."""
    length = hi - lo
    if length == 0:
        return np.uint64(0)
    if lo + 8 <= size:
        return peek8(base + lo) & (ONES >> np.uint64(64 - 8 * length))
    if hi >= 8:
        return peek8(base + hi - 8) >> np.uint64(64 - 8 * length)
    packed = np.uint64(0)
    for t in range(length):
        packed |= peek1(base + lo + t) << np.uint64(8 * t)
    return packed


# the 32 hex digits of a UUID's 36 characters, as lanes of the 32 characters at 0 (lanes 0-31) and
# the 8 at 28 (lanes 32-39); its 4 dashes
_UUID_DIGITS = list(range(8)) + list(range(9, 13)) + list(range(14, 18)) + list(range(19, 23)) + list(range(24, 32)) \
    + list(range(36, 40))
_UUID_DASHES = [8, 13, 18, 23]


@intrinsic
def uuid_bits(typingctx, address):
    """``(code, k0, k1)`` of the 36 bytes at ``address``: ``UUID_LOWER`` (``UUID_UPPER``) and
    the UUID's 128 bits when they are a UUID in canonical text form with digits ``0-9a-f``
    (``0-9A-F``), else ``LONG`` (and meaningless key words). Digits alone count as lower case, so
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
        code = builder.select(upper, ir.Constant(i64, int(UUID_UPPER)), ir.Constant(i64, int(LONG)))
        code = builder.select(lower, ir.Constant(i64, int(UUID_LOWER)), code)
        code = builder.select(dashed, code, ir.Constant(i64, int(LONG)))
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
def whole_hash(k0, k1, code):
    """The hash of an id held whole: its code and two key words."""
    return fmix(k0 ^ (np.uint64(code) * GOLDEN) ^ (k1 * P2))


@intrinsic
def mum(typingctx, a, b):
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
def key(base, size, lo, hi):
    """``(k0, k1, code, hash)`` of the id at bytes ``lo … hi - 1`` of the ``size`` bytes at ``base``.

    An id held whole has its bytes (at most 16) or UUID bits in ``k0, k1`` and its length or UUID
    code as ``code``. Any other id (``code == LONG``) has its hash as ``k0`` and its length as
    ``k1``: the state of its head, all bytes but the last 16 (:func:`head_state`), taken on by its
    tail (:func:`long_hash`)."""
    length = hi - lo
    if length <= 8:
        k0 = pack(base, size, lo, hi)
        return k0, np.uint64(0), np.uint64(length), whole_hash(k0, np.uint64(0), length)
    if length <= 16:
        k0 = peek8(base + lo)
        k1 = peek8(base + hi - 8) >> np.uint64(8 * (16 - length))
        return k0, k1, np.uint64(length), whole_hash(k0, k1, length)
    if length == 36:
        code, k0, k1 = uuid_bits(base + lo)
        if code != LONG:
            return k0, k1, code, whole_hash(k0, k1, code)
    h = long_hash(base, lo, hi, head_state(base, lo, hi))
    return h, np.uint64(length), LONG, h


@njit(cache=True, inline="always")
def head_state(base, lo, hi):
    """The hash state of the head (all bytes but the last 16) of the id at ``lo … hi - 1`` (over 16
    bytes): from ``h = length ^ S0``, each 16-byte chunk ``(u, v)`` of the head gives ``h = mum(u ^
    S1, v ^ h)``, the last one being the final 16 bytes of the head (overlapping the one before) or,
    for a head under 16 bytes, its bytes zero-padded (no byte of the tail read into it)."""
    length, end = hi - lo, hi - 16
    h = np.uint64(length) ^ S0
    if end - lo < 16:
        r = end - lo  # 1 … 15 bytes
        u = peek8(base + lo)
        v = peek8(base + lo + 8)
        if r < 8:
            u &= ONES >> np.uint64(64 - 8 * r)
            v = np.uint64(0)
        elif r > 8:
            v &= ONES >> np.uint64(128 - 8 * r)
        else:
            v = np.uint64(0)
        return mum(u ^ S1, v ^ h)
    p = lo
    while p + 16 <= end:
        h = mum(peek8(base + p) ^ S1, peek8(base + p + 8) ^ h)
        p += 16
    if p < end:
        h = mum(peek8(base + end - 16) ^ S1, peek8(base + end - 8) ^ h)
    return h


@njit(cache=True, inline="always")
def long_hash(base, lo, hi, state):
    """The hash of a long id from its head's state: its tail (last 16 bytes) as a final chunk, then
    MurmurHash3's finaliser."""
    return fmix(mum(peek8(base + hi - 16) ^ S2, peek8(base + hi - 8) ^ state))
