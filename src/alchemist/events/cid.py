"""Content identifiers (CIDs) as the CIM computes them.

A CIM CID is a CIDv1 with the ``raw`` codec (0x55) over a BLAKE3-256 multihash (code 0x1e,
32-byte digest), written in multibase base32 lower case with the ``b`` prefix. Events are hashed
over their compact JSON (``separators=(",", ":")``, fields in declared order, UTF-8, non-ASCII
characters unescaped). This reproduces the real CIDs of the CIM's ``dialog-dag.json``.

CIDs are canonical: the 36 bytes of a CID are 288 bits, written as 58 base32 characters (290
bits), so the last character carries 2 padding bits, which must be zero (RFC 4648 §3.5 lets a
decoder reject non-zero pad bits; multibase requires canonical encodings). Without that rule
each CID would have 4 spellings of the same digest. :func:`digests_from_cids` (the batch check of
:func:`~alchemist.events.verify_events`) and :func:`cid_digest` (single values) apply the one rule,
:func:`_padding_is_zero`, and the errors name the canonical spelling.

References: the CID specification (https://github.com/multiformats/cid), multihash and
multibase tables (https://github.com/multiformats/multicodec).
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import blake3
import numpy as np

from alchemist.errors import CIDMismatchError, NonCanonicalCIDError

__all__ = [
    "cid", "cid_of_json", "compact_json", "verify_cid", "cid_digest", "cid_from_digest",
    "cids_from_digests", "digests_from_cids", "cid_many",
]

_CIDV1 = 0x01
_RAW = 0x55
_BLAKE3 = 0x1E
_PREFIX = bytes([_CIDV1, _RAW, _BLAKE3, 32])


def cid(data: bytes | bytearray | memoryview) -> str:
    """The CIM content identifier of ``data``.

    Parameters
    ----------
    data : bytes-like
        The content.

    Returns
    -------
    str
        ``"b"`` + base32 (RFC 4648, lower case, unpadded) of
        ``0x01 0x55 0x1e 0x20 || blake3_256(data)`` — 59 characters, starting ``bafkr4``.

    Raises
    ------
    TypeError
        ``data`` is not bytes-like (the message says to encode text first).

    Examples
    --------
    >>> cid(b"")
    'bafkr4ifpcne3t5pzugtkaqcn5i3nzskjtpfslsnnyejlpte2spfoihzsmi'
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"cid() takes bytes, not {type(data).__name__}; encode text first (e.g. s.encode())")
    return _encode(blake3.blake3(data).digest())


def cid_from_digest(digest: bytes) -> str:
    """The CIM CID of a 32-byte BLAKE3 digest (``cid(data) == cid_from_digest(blake3(data))``).

    Parameters
    ----------
    digest : bytes
        A BLAKE3-256 digest (32 bytes; not checked).

    Returns
    -------
    str
        59 characters, as :func:`cid`.

    Raises
    ------
    None

    Examples
    --------
    >>> import blake3
    >>> cid_from_digest(blake3.blake3(b"").digest()) == cid(b"")
    True
    """
    return _encode(digest)


def cid_many(datas: list[bytes]) -> list[str]:
    """CIDs of many contents at once: BLAKE3 per item, base32 vectorised (NumPy) over all digests.

    Parameters
    ----------
    datas : list of bytes
        The contents.

    Returns
    -------
    list of str
        ``[cid(d) for d in datas]``, computed faster.

    Raises
    ------
    TypeError
        An item is not bytes-like.

    Examples
    --------
    >>> cid_many([b"", b"a"]) == [cid(b""), cid(b"a")]
    True
    """
    _b3 = blake3.blake3
    return cids_from_digests(b"".join([_b3(d).digest() for d in datas]))


def cids_from_digests(digests: bytes | np.ndarray) -> list[str]:
    """CIDs of many BLAKE3-256 digests, base32-encoded in one vectorised NumPy pass.

    Parameters
    ----------
    digests : bytes of length 32·n, or (n, 32) uint8 array
        The digests, concatenated.

    Returns
    -------
    list of str
        n CIDs (59 characters each), as :func:`cid` would give one by one.

    Raises
    ------
    ValueError
        The number of bytes is not a multiple of 32.

    Examples
    --------
    >>> import blake3
    >>> cids_from_digests(blake3.blake3(b"a").digest()) == [cid(b"a")]
    True
    """
    d = np.frombuffer(digests, dtype=np.uint8) if isinstance(digests, (bytes, bytearray, memoryview)) else (
        np.ascontiguousarray(digests, dtype=np.uint8))
    if d.size % 32:
        raise ValueError(f"digests hold {d.size} bytes, not a multiple of 32")
    n = d.size // 32
    if n == 0:
        return []
    raw = np.zeros((n, 40), dtype=np.uint8)
    raw[:, :4] = _PREFIX_ARRAY
    raw[:, 4:36] = d.reshape(n, 32)
    groups = raw.reshape(n, 8, 5).astype(np.uint64)
    v = (groups[:, :, 0] << 32) | (groups[:, :, 1] << 24) | (groups[:, :, 2] << 16) | (groups[:, :, 3] << 8) | groups[:, :, 4]
    sym = (v[:, :, None] >> _SHIFTS5) & np.uint64(31)  # (n, 8, 8) 5-bit symbols
    chars = np.empty((n, 59), dtype=np.uint8)
    chars[:, 0] = ord("b")
    chars[:, 1:] = _ALPHABET_ARRAY[sym.reshape(n, 64)[:, :58]]
    text = chars.tobytes().decode("ascii")
    return [text[i : i + 59] for i in range(0, 59 * n, 59)]


def digests_from_cids(cids: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Decode many CIM CIDs to their digests in one vectorised pass.

    Parameters
    ----------
    cids : list of str
        Values to decode; anything (non-strings included) is accepted and judged.

    Returns
    -------
    digests : (n, 32) uint8
        Zero rows where the CID is not valid.
    valid : (n,) bool
        Whether each value is a base32 CIDv1 raw/BLAKE3-256 identifier in its canonical spelling
        (the padding bits of the last character zero; :func:`cid_digest` says what is wrong).

    Raises
    ------
    None
        Invalid values are reported in ``valid``, not raised.

    Examples
    --------
    >>> value = cid(b"")
    >>> digests_from_cids([value, value[:-1] + "j"])[1].tolist()  # 'i' = 8, 'j' = 9: one padding bit set
    [True, False]
    """
    n = len(cids)
    try:
        text = "".join(cids)
        lengths_ok = len(text) == 59 * n and text.isascii() and (n == 0 or min(map(len, cids)) == 59)
    except TypeError:
        lengths_ok = False
    if lengths_ok:
        valid = np.ones(n, dtype=bool)
    else:
        valid = np.fromiter((isinstance(c, str) and len(c) == 59 and c.isascii() for c in cids), dtype=bool, count=n)
        text = "".join([c if ok else _INVALID_CID for c, ok in zip(cids, valid)])
    text = text.encode("ascii")
    chars = np.frombuffer(text, dtype=np.uint8).reshape(n, 59)
    sym = _DECODE_TABLE[chars[:, 1:]]
    valid &= (chars[:, 0] == ord("b")) & (sym < 32).all(axis=1) & _padding_is_zero(sym[:, -1])
    s = np.zeros((n, 64), dtype=np.uint64)
    s[:, :58] = np.where(sym < 32, sym, 0)
    s = s.reshape(n, 8, 8)
    v = np.zeros((n, 8), dtype=np.uint64)
    for j in range(8):
        v |= s[:, :, j] << _SHIFTS5[j]
    raw = np.empty((n, 8, 5), dtype=np.uint8)
    for j in range(5):
        raw[:, :, j] = ((v >> np.uint64(32 - 8 * j)) & np.uint64(255)).astype(np.uint8)
    raw = raw.reshape(n, 40)
    valid &= (raw[:, :4] == _PREFIX_ARRAY).all(axis=1)
    out = raw[:, 4:36].copy()
    out[~valid] = 0
    return out, valid


def compact_json(obj: Any) -> bytes:
    """Compact UTF-8 JSON of ``obj`` in its own key order, the bytes a CIM CID is computed over.

    Parameters
    ----------
    obj : JSON-serialisable object

    Returns
    -------
    bytes
        ``json.dumps(obj, separators=(",", ":"), ensure_ascii=False)`` encoded as UTF-8.

    Raises
    ------
    TypeError
        ``obj`` holds a value JSON cannot represent (``json``'s message).
    ValueError
        ``obj`` holds a circular reference.

    Examples
    --------
    >>> compact_json({"b": 1, "a": [True, None]})
    b'{"b":1,"a":[true,null]}'
    """
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def cid_of_json(obj: Any) -> str:
    """``cid(compact_json(obj))``: the CID of a JSON document as the CIM computes it.

    Parameters
    ----------
    obj : JSON-serialisable object

    Returns
    -------
    str

    Raises
    ------
    TypeError, ValueError
        As :func:`compact_json`.

    Examples
    --------
    >>> cid_of_json({"b": 1}) == cid(b'{"b":1}')
    True
    """
    return cid(compact_json(obj))


def cid_digest(value: str, codecs="raw") -> bytes:
    """The 32-byte BLAKE3 digest inside a CIM CID.

    Parameters
    ----------
    value : str
        A CID as :func:`cid` writes it.
    codecs : "raw", "cim" or iterable of codec names/codes
        The codecs accepted besides raw (always): ``"raw"`` only (alchemist's envelopes, the default); ``"cim"``: every
        codec the CIM crates write (:data:`alchemist.events.codecs.CIM_CODECS`: dag-cbor 0x71,
        dag-json 0x0129, cim-event 0x300000, ...) with a BLAKE3-256 multihash; or a list of them.

    Returns
    -------
    bytes
        The 32-byte digest.

    Raises
    ------
    CIDMismatchError
        If ``value`` is not a base32 CIDv1 with an accepted codec and a BLAKE3-256 multihash.
    NonCanonicalCIDError
        If it is one, but its last character has non-zero padding bits (another spelling of the
        canonical CID, which the message names).

    Examples
    --------
    >>> cid_digest(cid(b"")).hex()[:16]
    'af1349b9f5f9a1a6'
    >>> cid_digest(cid(b"")[:-1] + "j")
    Traceback (most recent call last):
    ...
    alchemist.errors.NonCanonicalCIDError: '...smj' is not canonical: its last character 'j' carries non-zero
    padding bits ...; the canonical spelling of the same digest is '...smi'

    The CIM's other codecs, when asked for:

    >>> from alchemist.events.codecs import cim_cid
    >>> cid_digest(cim_cid(b"", "dag-cbor"), codecs="cim") == cid_digest(cid(b""))
    True
    """
    # the scalar twin of digests_from_cids (same form, alphabet, prefix and padding rule; the tests
    # check that the two agree), ~30x cheaper than a vectorised pass over one value
    if isinstance(value, str) and _CID_FORM.fullmatch(value) is not None:
        raw = base64.b32decode(value[1:].upper() + "======")
        if raw[:4] == _PREFIX and _padding_is_zero(_SYMBOLS[value[-1]]):
            return raw[4:]
    if codecs != "raw" and isinstance(value, str) and value[:6] != "bafkr4":
        from alchemist.events.codecs import other_codec_digest

        return other_codec_digest(value, codecs)
    raise _why_not_a_cid(value)


def _why_not_a_cid(value) -> CIDMismatchError:
    """The error saying why ``value`` fails :func:`digests_from_cids` (the one acceptance rule)."""
    if not isinstance(value, str) or not value.startswith("b"):
        return CIDMismatchError(f"{value!r} is not a base32 CIDv1 (it must start with 'b')")
    if len(value) != 59:
        return CIDMismatchError(f"{value!r} has {len(value)} characters; a CIM CID has 59 ('b' + 58 base32)")
    wrong = sorted({c for c in value[1:] if c not in _ALPHABET})
    if wrong:
        return CIDMismatchError(f"{value!r} is not valid lower-case base32: characters {''.join(wrong)!r} are not in "
                                f"{_ALPHABET!r}")
    raw = base64.b32decode(value[1:].upper() + "======")
    if raw[:4] != _PREFIX:
        return CIDMismatchError(
            f"{value!r} is not a CIDv1 raw/BLAKE3-256 identifier (prefix {raw[:4].hex()}, expected {_PREFIX.hex()})")
    return NonCanonicalCIDError(
        f"{value!r} is not canonical: its last character {value[-1]!r} carries non-zero padding bits (the last "
        f"2 of its 5 bits must be 0); the canonical spelling of the same digest is {_encode(raw[4:36])!r}")


def _padding_is_zero(last_symbol):
    """THE canonical-CID rule: the 2 padding bits (low bits) of the last base32 symbol are zero.

    ``last_symbol`` is the 5-bit value of a CID's 58th base32 character (an int or an array)."""
    return (last_symbol & _PADDING_BITS) == 0


def verify_cid(data: bytes, expected: str) -> None:
    """Check that ``data`` hashes to ``expected``.

    Parameters
    ----------
    data : bytes
        The content.
    expected : str
        The CID it should have.

    Returns
    -------
    None

    Raises
    ------
    CIDMismatchError
        If it does not (corrupt or tampered content), naming both CIDs.

    Examples
    --------
    >>> verify_cid(b"", cid(b""))
    >>> verify_cid(b"tampered", cid(b""))
    Traceback (most recent call last):
    ...
    alchemist.errors.CIDMismatchError: content hashes to bafkr4..., not to the expected CID bafkr4ifpcne3...
    """
    actual = cid(data)
    if actual != expected:
        raise CIDMismatchError(f"content hashes to {actual}, not to the expected CID {expected}")


_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"


_TRIPLES = [a + b + c for a in _ALPHABET for b in _ALPHABET for c in _ALPHABET]  # 15-bit lookup
_SHIFTS15 = [285 - 15 * k for k in range(20)]
_ALPHABET_ARRAY = np.frombuffer(_ALPHABET.encode(), dtype=np.uint8)
_PREFIX_ARRAY = np.frombuffer(_PREFIX, dtype=np.uint8)
_SHIFTS5 = np.array([35 - 5 * j for j in range(8)], dtype=np.uint64)
_DECODE_TABLE = np.full(256, 255, dtype=np.uint8)
_DECODE_TABLE[_ALPHABET_ARRAY] = np.arange(32, dtype=np.uint8)
_INVALID_CID = "!" * 59
_PADDING_BITS = 0b11  # 58 characters x 5 bits = 290 bits for a 288-bit (36-byte) CID
_SYMBOLS = {c: i for i, c in enumerate(_ALPHABET)}
_CID_FORM = re.compile("b[a-z2-7]{58}")


def _encode(digest: bytes) -> str:
    # RFC 4648 base32 of the 36-byte CID, unpadded (58 characters), by a small Numba kernel:
    # ~0.8 µs a call against ~2.8 µs for the best pure-Python table lookup (_encode_python) and
    # ~8 µs for base64.b32encode. Many digests at once go through cids_from_digests instead.
    # The kernel (and Numba) loads on the first call, so that importing alchemist does not import Numba.
    if len(digest) != 32:
        return _encode_python(digest)
    return _b32_cid(digest, _ALPHABET_ARRAY).tobytes().decode("ascii")


def _encode_python(digest: bytes) -> str:
    # the same in pure Python: the 288 bits as one integer, shifted left by 12 to 300 bits,
    # read 15 bits (3 characters) at a time from a table
    v = int.from_bytes(_PREFIX + digest, "big") << 12
    t = _TRIPLES
    return "b" + "".join([t[(v >> s) & 32767] for s in _SHIFTS15])[:58]


def _b32_cid(digest, alphabet):
    """Load the compiled base32 kernel on first use and put it in this function's place."""
    global _b32_cid
    from alchemist.events._cid_kernels import b32_cid  # Numba costs ~0.6 s to import: only when a CID is made

    _b32_cid = b32_cid
    return b32_cid(digest, alphabet)
