"""The keys of CID node ids for the node-id table (:mod:`alchemist.graph._intern`).

A CID as :func:`alchemist.cid` writes it, and as CIM uses it everywhere, is 59 bytes: ``b`` (multibase
base32, lower case, no padding) and the 58 characters of 36 bytes, ``01 55 1e 20`` (CIDv1, raw codec,
BLAKE3 multihash of 32 bytes) and the digest. Such a CID is decoded, with LLVM's portable vector
operations, to its 256 digest bits: four key words, hashed two multiplies side by side (no chain
over 59 bytes) and compared as four words (two in the table's slot, two in a side array by row),
with no read of a stored copy of its text and no head dictionary. Any other string (upper case,
another prefix or length, a character outside ``a-z2-7``, non-zero padding bits) is not a CID here
and takes the table's generic path, so that each string has one key.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

from alchemist.graph._hex_keys import HEX, HEX_NARROW
from alchemist.graph._id_keys import GOLDEN, LONG, P2, S0, S1, S2, fmix, mum, pack

CID = np.uint64(385)             # the id code of a canonical CIDv1 raw BLAKE3 in base32 (see _id_keys): right
                                 # after the wide hex codes (_hex_keys), so that a range compare finds both
CID_LENGTH = 59
CID_PREFIX = 0x01551E20          # CIDv1, raw (0x55), BLAKE3 (0x1e), 32 bytes (0x20)
_MULTIBASE = 0x62                # "b": base32, lower case, no padding (the multibase table)
RAW = CID + np.uint64(1) - np.uint64(17)   # id code RAW + length of an id of 17-32 bytes held as its bytes (four key
RAW_MAX = 32                     # words), unless it is a hex id: codes CID + 1 … CID + 16
_WIDE = np.uint64(HEX + HEX_NARROW + 1)   # codes _WIDE … RAW + RAW_MAX: ids of four key words (hex ids of over 32
_WIDE_SPAN = RAW + np.uint64(RAW_MAX) - _WIDE  # characters, CIDs, raw ids), the last two in the table's side array

# lane i of the 64 characters: the CID's character i + 1 (lanes 0-57), of the 32 bytes at 0 (indices
# 0-31) or the 32 at 27 (32-63); lanes 58-63 are padding (any valid character, value set to 0)
_LANES = [i + 1 if i + 1 < 32 else 32 + i + 1 - 27 for i in range(58)] + [1] * 6


@intrinsic
def cid_bits(typingctx, address):
    """``(code, k0, k1, k2, k3)`` of the 59 bytes at ``address``: ``CID`` and the digest's four
    8-byte words (little-endian) when they are a CIDv1 raw BLAKE3 in canonical base32 text, else
    ``LONG`` (and meaningless words). A code and four words give back the string. Reads the 59
    bytes only (two 32-byte loads, gathered by one two-source shuffle); :func:`cid_bits_wide` is the
    same where 5 bytes after them may be read too.

    The 58 base32 characters are checked by two range compares and turned into 5-bit values
    (``c - 97`` for a letter, ``c - 24`` for a digit ``2-7``); adjacent values are joined in lanes
    of twice the width three times (5 -> 10 -> 20 -> 40 bits), which gives the eight 40-bit groups
    of base32 (RFC 4648, § 6), big-endian. The first group's top 32 bits must be the prefix, the
    last character's two padding bits zero; one byte shuffle puts the digest's bytes in order."""
    if not isinstance(address, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        i8, i32, i64 = ir.IntType(8), ir.IntType(32), ir.IntType(64)
        p = builder.zext(args[0], i64) if args[0].type.width < 64 else args[0]
        v32 = ir.VectorType(i8, 32).as_pointer()
        a = builder.load(builder.inttoptr(p, v32), align=1)
        b = builder.load(builder.inttoptr(builder.add(p, ir.Constant(i64, 27)), v32), align=1)
        chars = builder.shuffle_vector(a, b, ir.Constant(ir.VectorType(i32, 64), [ir.Constant(i32, x) for x in _LANES]))
        first = builder.zext(builder.extract_element(a, ir.Constant(i32, 0)), i64)
        return context.make_tuple(builder, signature.return_type, _decode(builder, chars, first))
    return types.UniTuple(types.uint64, 5)(address), codegen


@intrinsic
def cid_bits_wide(typingctx, address):
    """:func:`cid_bits` of the 59 bytes at ``address``, reading the 5 bytes after them too (the
    caller knows they are in its buffer): the 58 characters after the ``b`` are one unaligned
    64-byte load, in their lanes already (no shuffle), the 6 lanes over them ignored."""
    if not isinstance(address, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        i8, i64 = ir.IntType(8), ir.IntType(64)
        p = builder.zext(args[0], i64) if args[0].type.width < 64 else args[0]
        chars = builder.load(builder.inttoptr(builder.add(p, ir.Constant(i64, 1)), ir.VectorType(i8, 64).as_pointer()),
                             align=1)
        first = builder.zext(builder.load(builder.inttoptr(p, i8.as_pointer())), i64)
        return context.make_tuple(builder, signature.return_type, _decode(builder, chars, first))
    return types.UniTuple(types.uint64, 5)(address), codegen


def _decode(builder, chars, first):
    """``[code, k0, k1, k2, k3]`` (LLVM values) of a CID's 58 characters after its first in lanes
    0-57 of ``chars`` (64 bytes; lanes 58-63 ignored) and its first character ``first`` (see
    :func:`cid_bits`)."""
    i8, i16, i32, i64 = (ir.IntType(w) for w in (8, 16, 32, 64))

    def splat(ty, lanes, value):
        return ir.Constant(ir.VectorType(ty, lanes), [ir.Constant(ty, value)] * lanes)

    letter = builder.icmp_unsigned("<", builder.sub(chars, splat(i8, 64, 0x61)), splat(i8, 64, 26))
    digit = builder.icmp_unsigned("<", builder.sub(chars, splat(i8, 64, 0x32)), splat(i8, 64, 6))
    valid = builder.bitcast(builder.or_(letter, digit), i64)
    valid = builder.icmp_unsigned("==", builder.or_(valid, ir.Constant(i64, 0x3F << 58)), ir.Constant(i64, -1))
    value = builder.select(letter, builder.sub(chars, splat(i8, 64, 97)), builder.sub(chars, splat(i8, 64, 24)))
    value = builder.and_(value, ir.Constant(ir.VectorType(i8, 64), [ir.Constant(i8, 31 if i < 58 else 0)
                                                                      for i in range(64)]))

    def join(vec, ty, lanes, bits):  # each lane of twice the width: its low half's value, then its high half's
        wide = builder.bitcast(vec, ir.VectorType(ty, lanes))
        half = ty.width // 2
        low = builder.shl(builder.and_(wide, splat(ty, lanes, (1 << half) - 1)), splat(ty, lanes, bits))
        return builder.or_(low, builder.lshr(wide, splat(ty, lanes, half)))

    groups = join(join(join(value, i16, 32, 5), i32, 16, 10), i64, 8, 20)
    x = [builder.extract_element(groups, ir.Constant(i32, g)) for g in range(8)]
    ok = builder.and_(valid, builder.icmp_unsigned("==", first, ir.Constant(i64, _MULTIBASE)))
    ok = builder.and_(ok, builder.icmp_unsigned("==", builder.lshr(x[0], ir.Constant(i64, 8)),
                                                ir.Constant(i64, CID_PREFIX)))
    ok = builder.and_(ok, builder.icmp_unsigned("==", builder.and_(x[7], ir.Constant(i64, 3 << 30)),
                                                ir.Constant(i64, 0)))
    # the 32 digest bytes in order, by one shuffle: the first group's last byte, five bytes of each of
    # groups 1-6 (big-endian: byte 4 of the lane first), the last group's first (its lane's byte 4)
    order = [0] + [8 * g + t for g in range(1, 7) for t in (4, 3, 2, 1, 0)] + [8 * 7 + 4]
    octets = builder.bitcast(groups, ir.VectorType(i8, 64))
    digest = builder.shuffle_vector(octets, octets, ir.Constant(ir.VectorType(i32, 32),
                                                                [ir.Constant(i32, x) for x in order]))
    digest = builder.bitcast(digest, ir.VectorType(i64, 4))
    words = [builder.extract_element(digest, ir.Constant(i32, w)) for w in range(4)]
    code = builder.select(ok, ir.Constant(i64, int(CID)), ir.Constant(i64, int(LONG)))
    return [code] + words


@njit(cache=True, inline="always")
def wide_hash(k0, k1, k2, k3, code):
    """The hash of an id of four key words (a CID's digest, a long hex id's digits) and code ``code``:
    two 128-bit multiply-folds side by side (wyhash's "mum"), each word also XORed in (a word equal
    to its secret zeroes a product), then MurmurHash3's finaliser."""
    return fmix(mum(k0 ^ S1, k1 ^ S2) ^ mum(k2 ^ S0, k3 ^ P2) ^ k1 ^ ((k3 ^ code) * GOLDEN))


@njit(cache=True, inline="always")
def is_wide(code):
    """Whether id code ``code`` is of four key words (a CID, a hex id of over 32 characters, an id of
    17-32 bytes held as its bytes): the table keeps the last two in its side array by row."""
    return np.uint64(code) - _WIDE <= _WIDE_SPAN


@njit(cache=True, inline="always")
def raw_words(base, size, lo, hi):
    """``(k0, k1, k2, k3)``: the 17-32 bytes ``lo … hi - 1`` of the ``size`` bytes at ``base``,
    zero-padded to 32, as four little-endian words (no read outside the ``size`` bytes)."""
    return (pack(base, size, lo, lo + 8), pack(base, size, lo + 8, lo + 16),
            pack(base, size, lo + 16, min(hi, lo + 24)), pack(base, size, min(hi, lo + 24), hi))
