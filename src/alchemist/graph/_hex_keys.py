"""The keys of hex node ids for the node-id table (:mod:`alchemist.graph._intern`).

Digests in hex are the other id shape of content-addressed systems: SHA-256 (64 characters: git's
SHA-256 object names, container image digests, content hashes), SHA-1 (40: git commit ids), MD5 and
UUIDs without dashes (32). They are random, so no head dictionary helps them: hashed as long ids,
each lookup would compare its bytes with a stored copy (one random read more). Here an id of 17 to
64 characters ``0-9a-f`` is decoded, with LLVM's portable vector operations, to its nibbles packed
two to a byte: at most 32 bytes, four key words, held in the table as a CID's digest is (two words
in the slot, the other two, when not zero, in the side array by row). Its code tells its length,
so that each string has one key and a code and four words give back the string. Upper-case digits
are not hex here (an upper- or mixed-case id takes the table's generic path), nor is any other
character.
"""

from __future__ import annotations

from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from alchemist.graph._id_keys import LONG

HEX = 320                        # id code HEX + length of a hex id of 17-64 characters (see _id_keys)
HEX_MIN, HEX_MAX = 17, 64        # lengths decoded (an id of at most 16 bytes is held whole anyway)
HEX_NARROW = 32                  # at most this many characters: 16 bytes, two key words (no side array)


def _decode(builder, chars, length):
    """``[code, k0, k1, k2, k3]`` (LLVM values) of the ``length`` (i64) characters in the first lanes
    of ``chars`` (64 bytes; the lanes from ``length`` on are ignored)."""
    i8, i16, i32, i64 = (ir.IntType(w) for w in (8, 16, 32, 64))

    def splat(ty, lanes, value):
        return ir.Constant(ir.VectorType(ty, lanes), [ir.Constant(ty, value)] * lanes)

    n = builder.trunc(length, i8)
    n = builder.insert_element(ir.Constant(ir.VectorType(i8, 64), None), n, ir.Constant(i32, 0))
    n = builder.shuffle_vector(n, n, ir.Constant(ir.VectorType(i32, 64), [ir.Constant(i32, 0)] * 64))
    inside = builder.icmp_unsigned("<", ir.Constant(ir.VectorType(i8, 64), [ir.Constant(i8, i) for i in range(64)]), n)
    digit = builder.icmp_unsigned("<", builder.sub(chars, splat(i8, 64, 0x30)), splat(i8, 64, 10))
    lower = builder.icmp_unsigned("<", builder.sub(chars, splat(i8, 64, 0x61)), splat(i8, 64, 6))
    ok = builder.or_(builder.or_(digit, lower), builder.not_(inside))
    valid = builder.icmp_unsigned("==", builder.bitcast(ok, i64), ir.Constant(i64, -1))
    letter = builder.and_(builder.lshr(chars, splat(i8, 64, 6)), splat(i8, 64, 1))
    value = builder.add(builder.and_(chars, splat(i8, 64, 15)), builder.mul(letter, splat(i8, 64, 9)))
    value = builder.select(inside, value, splat(i8, 64, 0))
    pairs = builder.bitcast(value, ir.VectorType(i16, 32))  # digit 2i in the low byte (little-endian)
    packed = builder.or_(builder.and_(pairs, splat(i16, 32, 15)), builder.lshr(pairs, splat(i16, 32, 4)))
    words = builder.bitcast(builder.trunc(packed, ir.VectorType(i8, 32)), ir.VectorType(i64, 4))
    code = builder.select(valid, builder.add(length, ir.Constant(i64, HEX)), ir.Constant(i64, int(LONG)))
    return [code] + [builder.extract_element(words, ir.Constant(i32, w)) for w in range(4)]


def _as_i64(builder, value):
    """``value`` (an LLVM integer) widened to 64 bits."""
    return builder.zext(value, ir.IntType(64)) if value.type.width < 64 else value


@intrinsic
def hex_bits_wide(typingctx, address, length):
    """``(code, k0, k1, k2, k3)`` of the ``length`` (17-64) bytes at ``address``: ``HEX + length``
    and their digits' values packed two to a byte (digit ``2i`` in the low nibble of byte ``i``,
    zero past the last), as four little-endian words, when they are all ``0-9a-f``; else ``LONG``
    (and meaningless words). Reads the 64 bytes from ``address`` (the caller knows they are in its
    buffer): one unaligned load; :func:`hex_bits` reads the id's bytes only.

    Each character is checked by two range compares and turned into its 4-bit value (``c & 15``,
    plus 9 for a letter, whose bit 6 is set), as UUIDs are (:func:`~alchemist.graph._id_keys.uuid_bits`)."""
    if not (isinstance(address, types.Integer) and isinstance(length, types.Integer)):
        return None

    def codegen(context, builder, signature, args):
        i8 = ir.IntType(8)
        p = _as_i64(builder, args[0])
        chars = builder.load(builder.inttoptr(p, ir.VectorType(i8, 64).as_pointer()), align=1)
        return context.make_tuple(builder, signature.return_type, _decode(builder, chars, _as_i64(builder, args[1])))
    return types.UniTuple(types.uint64, 5)(address, length), codegen


@intrinsic
def hex_bits(typingctx, address, length):
    """:func:`hex_bits_wide` of the ``length`` (17-64) bytes at ``address``, reading those bytes
    only: they are copied to a zeroed 64-byte buffer on the stack first (for the last ids of a
    column)."""
    if not (isinstance(address, types.Integer) and isinstance(length, types.Integer)):
        return None

    def codegen(context, builder, signature, args):
        i8 = ir.IntType(8)
        n = _as_i64(builder, args[1])
        buf = cgutils.alloca_once(builder, ir.VectorType(i8, 64))
        builder.store(ir.Constant(ir.VectorType(i8, 64), [ir.Constant(i8, 0)] * 64), buf)
        src = builder.inttoptr(_as_i64(builder, args[0]), i8.as_pointer())
        cgutils.raw_memcpy(builder, builder.bitcast(buf, i8.as_pointer()), src, n, 1)
        chars = builder.load(buf, align=1)
        return context.make_tuple(builder, signature.return_type, _decode(builder, chars, n))
    return types.UniTuple(types.uint64, 5)(address, length), codegen


@njit(cache=True, inline="always")
def hex_key(base, size, lo, hi):
    """``(code, k0, k1, k2, k3)`` of the id at bytes ``lo … hi - 1`` (17-64 of them) of the ``size``
    bytes at ``base`` (see :func:`hex_bits_wide`)."""
    if lo + 64 <= size:
        return hex_bits_wide(base + lo, hi - lo)
    return hex_bits(base + lo, hi - lo)
