"""CIDs of every codec the CIM uses, and the objects cim-ipld writes.

alchemist's own CIDs (:mod:`alchemist.events.cid`) are CIDv1 ``raw`` (0x55) over BLAKE3-256. The
CIM crates write others, all CIDv1 with a BLAKE3-256 multihash (code 0x1e, 32 bytes), base32
lower case with the ``b`` prefix:

- ``cim-ipld`` (``TypedContent::calculate_cid``, ``src/traits.rs``): the content type's codec
  (``0x71`` dag-cbor, ``0x0129`` dag-json, or a CIM code in ``0x300000``–``0x3FFFFF``: ``0x300000``
  Event, ``0x300001`` Graph, ``0x300002`` Node, ... ``src/types.rs``) over BLAKE3 of
  ``serde_json::to_vec(content)`` — compact JSON, fields in declared order, *not* CBOR even when
  the codec says dag-cbor;
- ``cim-ipld`` chains (``ChainedContent::calculate_cid``, ``src/chain/mod.rs``): the same over the
  compact JSON of ``{"content": ..., "previous_cid": ..., "sequence": ...}``;
- ``cim-domain`` (``DomainCid::from_content``, ``src/cid.rs``): raw (0x55) over the payload bytes
  (alchemist's own form); ``DomainNode::from_payload``: the payload's codec, and a dag-cbor (0x71)
  root over the node's JSON.

A block encoded as real DAG-CBOR (as IPFS writes it) hashes its DAG-CBOR bytes:
:func:`dag_cbor_cid` computes that with the ``dag-cbor`` package. The multibase/multicodec/
multihash work is done by the ``multiformats`` package; the CIM's private codes are registered
with it under the names of cim-ipld's ``ContentType``.

Objects in cim-ipld's buckets (``cim-events``, ``cim-graphs``, ... ``nats_object_store.rs``) hold
the JSON bytes, zstd-compressed (level 3) above a size threshold, recognised by the zstd magic
``28 b5 2f fd``; :func:`read_cim_object` decompresses (``zstandard``) and verifies.

References: the CID specification (https://github.com/multiformats/cid); the multicodec table
(https://github.com/multiformats/multicodec/blob/master/table.csv); RFC 8878 (zstd).
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

import blake3

from alchemist.errors import CIDMismatchError

__all__ = [
    "CIM_CODECS", "ParsedCID", "parse_cid", "codec_code", "cim_cid", "cim_ipld_cid", "cim_ipld_chain_cid",
    "dag_cbor_cid", "verify_cim_cid", "read_cim_object", "write_cim_object", "serde_json_bytes",
    "other_codec_digest",
    "ZSTD_MAGIC",
]

#: The codecs the CIM crates write, by name (multicodec names; CIM's private ones as cim-ipld names them).
CIM_CODECS: dict[str, int] = {
    "raw": 0x55, "dag-cbor": 0x71, "dag-json": 0x0129,
    "cim-event": 0x300000, "cim-graph": 0x300001, "cim-node": 0x300002, "cim-edge": 0x300003,
    "cim-command": 0x300004, "cim-query": 0x300005,
    "cim-markdown": 0x310000, "cim-json": 0x310001, "cim-yaml": 0x310002, "cim-toml": 0x310003,
    "cim-image": 0x320000, "cim-video": 0x320001, "cim-audio": 0x320002,
}
_CIM_RANGE = range(0x300000, 0x400000)
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


class ParsedCID(NamedTuple):
    """A CID taken apart.

    Attributes
    ----------
    version : int
        0 or 1.
    codec : str
        Multicodec name (``"dag-cbor"``, ``"cim-event"``, ...).
    codec_code : int
    hash : str
        Multihash name (``"blake3"``, ``"sha2-256"``).
    digest : bytes
        The raw digest.
    text : str
        The CID as given.
    """

    version: int
    codec: str
    codec_code: int
    hash: str
    digest: bytes
    text: str


def parse_cid(value: str) -> ParsedCID:
    """Parse a CID of any codec the CIM uses (or any other the multicodec table knows).

    Parameters
    ----------
    value : str
        A CID in any multibase (CIDv1), or a base58btc CIDv0 (``Qm...``).

    Returns
    -------
    ParsedCID

    Raises
    ------
    CIDMismatchError
        ``value`` is not a CID (the message says which part fails: multibase, version, codec,
        multihash).

    Examples
    --------
    >>> c = cim_cid(b'{"a":1}', "cim-event")
    >>> p = parse_cid(c)
    >>> p.codec, hex(p.codec_code), p.hash, len(p.digest)
    ('cim-event', '0x300000', 'blake3', 32)
    >>> parse_cid("Qm4f2a1b")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    alchemist.errors.CIDMismatchError: 'Qm4f2a1b' is not a CID: ...
    """
    mf = _multiformats()
    if not isinstance(value, str) or not value:
        raise CIDMismatchError(f"{value!r} is not a CID: expected a non-empty string")
    try:
        _register_private_code(value)
        parsed = mf.CID.decode(value)
    except Exception as exc:  # multiformats raises its own error classes (and KeyError, ValueError)
        raise CIDMismatchError(f"{value!r} is not a CID: {exc}; expected a CIDv1 such as "
                               f"'bafyr4...' (see alchemist.events.codecs.CIM_CODECS)") from None
    return ParsedCID(int(parsed.version), parsed.codec.name, int(parsed.codec.code), parsed.hashfun.name,
                     bytes(parsed.raw_digest), value)


def codec_code(codec: str | int) -> int:
    """The multicodec code of ``codec`` (a name of :data:`CIM_CODECS`, any multicodec name, or a code).

    Parameters
    ----------
    codec : str or int

    Returns
    -------
    int

    Raises
    ------
    ValueError
        An unknown name, naming the CIM's codecs.

    Examples
    --------
    >>> codec_code("dag-json"), codec_code(0x71)
    (297, 113)
    """
    if isinstance(codec, int):
        return codec
    if codec in CIM_CODECS:
        return CIM_CODECS[codec]
    mf = _multiformats()
    try:
        return int(mf.multicodec.get(codec).code)
    except Exception:
        raise ValueError(f"unknown codec {codec!r}; the CIM's are {sorted(CIM_CODECS)}") from None


def cim_cid(data: bytes, codec: str | int = "raw") -> str:
    """The CID the CIM crates give ``data``: CIDv1, ``codec``, BLAKE3-256, base32 (``b...``).

    Parameters
    ----------
    data : bytes
        The bytes hashed (for cim-ipld: :func:`serde_json_bytes` of the content).
    codec : str or int
        ``"raw"`` (alchemist's and cim-domain's), ``"dag-cbor"``, ``"dag-json"``, ``"cim-event"``...

    Returns
    -------
    str

    Raises
    ------
    TypeError
        ``data`` is not bytes.
    ValueError
        An unknown codec.

    Examples
    --------
    >>> from alchemist.events.cid import cid
    >>> cim_cid(b"") == cid(b"")  # the raw codec is alchemist's own CID
    True
    >>> cim_cid(b"", "dag-cbor")[:6], cim_cid(b"", "dag-json")[:6]
    ('bafyr4', 'baguqe')
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"cim_cid() takes bytes, not {type(data).__name__}; encode text first")
    mf = _multiformats()
    code = codec_code(codec)
    _ensure_code(code)
    digest = blake3.blake3(bytes(data)).digest()
    return str(mf.CID("base32", 1, code, mf.multihash.wrap(digest, "blake3")))


def serde_json_bytes(obj: Any) -> bytes:
    """``serde_json::to_vec`` of a value decoded from JSON: compact, keys in their order, UTF-8.

    Parameters
    ----------
    obj : JSON-serialisable object

    Returns
    -------
    bytes

    Raises
    ------
    TypeError
        A value JSON cannot hold.

    Examples
    --------
    >>> serde_json_bytes({"content": {"message": "First"}, "previous_cid": None, "sequence": 0})
    b'{"content":{"message":"First"},"previous_cid":null,"sequence":0}'
    """
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def cim_ipld_cid(content: Any, codec: str | int) -> str:
    """The CID cim-ipld's ``TypedContent::calculate_cid`` gives ``content`` (the JSON of a Rust value).

    Parameters
    ----------
    content : JSON value
        As serde serialises the Rust value (fields in declared order).
    codec : str or int
        The content type's ``CODEC`` (``"dag-json"``, ``"dag-cbor"``, ``"cim-event"``, ...).

    Returns
    -------
    str

    Raises
    ------
    ValueError
        An unknown codec.

    Examples
    --------
    >>> cim_ipld_cid({"message": "First"}, "dag-json") == cim_cid(b'{"message":"First"}', 0x0129)
    True
    """
    return cim_cid(serde_json_bytes(content), codec)


def cim_ipld_chain_cid(content: Any, codec: str | int, *, previous_cid: str | None, sequence: int) -> str:
    """The CID of a cim-ipld ``ChainedContent``: over ``{content, previous_cid, sequence}`` (no timestamp).

    Parameters
    ----------
    content : JSON value
    codec : str or int
    previous_cid : str or None
        The previous item's CID (None for the first).
    sequence : int
        0 for the first item, then +1.

    Returns
    -------
    str

    Raises
    ------
    ValueError
        An unknown codec.

    Examples
    --------
    >>> first = cim_ipld_chain_cid({"message": "First"}, "dag-json", previous_cid=None, sequence=0)
    >>> second = cim_ipld_chain_cid({"message": "Second"}, "dag-json", previous_cid=first, sequence=1)
    >>> parse_cid(second).codec
    'dag-json'
    """
    return cim_cid(serde_json_bytes({"content": content, "previous_cid": previous_cid, "sequence": sequence}),
                   codec)


def dag_cbor_cid(obj: Any, hash: str = "sha2-256") -> str:
    """The IPLD CID of ``obj`` encoded as DAG-CBOR (as IPFS computes it), via the ``dag-cbor`` package.

    Parameters
    ----------
    obj : IPLD data model value (dict with str keys, list, int, float, str, bytes, bool, None)
    hash : str
        Multihash name: ``"sha2-256"`` (IPFS's default) or ``"blake3"`` (32 bytes).

    Returns
    -------
    str
        CIDv1 dag-cbor (0x71), base32.

    Raises
    ------
    TypeError
        ``obj`` is not in the IPLD data model.

    Examples
    --------
    >>> dag_cbor_cid({"hello": "world"})
    'bafyreidykglsfhoixmivffc5uwhcgshx4j465xwqntbmu43nb2dzqwfvae'
    """
    dag_cbor = _interop("dag_cbor", "dag-cbor")
    mf = _multiformats()
    try:
        block = dag_cbor.encode(obj)
    except Exception as exc:
        raise TypeError(f"not encodable as DAG-CBOR: {exc}") from None
    size = 32 if hash == "blake3" else None
    return str(mf.CID("base32", 1, "dag-cbor", mf.multihash.digest(block, hash, size=size)))


def verify_cim_cid(data: bytes, expected: str) -> ParsedCID:
    """Check that ``data`` hashes to ``expected`` under ``expected``'s own codec and hash function.

    Parameters
    ----------
    data : bytes
        The bytes that were hashed (for cim-ipld: the JSON; for a DAG-CBOR block: the block).
    expected : str
        A CID of any codec of :data:`CIM_CODECS` with a BLAKE3 or SHA-256 multihash.

    Returns
    -------
    ParsedCID
        ``expected`` taken apart.

    Raises
    ------
    CIDMismatchError
        ``expected`` is not a CID, or ``data`` hashes to another digest (corrupt or tampered
        content); the message names both CIDs.

    Examples
    --------
    >>> c = cim_cid(b'{"a":1}', "dag-cbor")
    >>> verify_cim_cid(b'{"a":1}', c).codec
    'dag-cbor'
    >>> verify_cim_cid(b'{"a":2}', c)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    alchemist.errors.CIDMismatchError: content hashes to bafyr4..., not to the expected CID bafyr4...
    """
    parsed = parse_cid(expected)
    mf = _multiformats()
    size = len(parsed.digest)
    try:
        actual = mf.multihash.get(parsed.hash).digest(bytes(data), size=size)
    except Exception as exc:
        raise CIDMismatchError(f"{expected!r} uses hash {parsed.hash!r}, which cannot be recomputed: {exc}") from None
    if bytes(mf.multihash.unwrap(actual)) != parsed.digest:
        got = str(mf.CID("base32", parsed.version or 1, parsed.codec_code, actual))
        raise CIDMismatchError(f"content hashes to {got}, not to the expected CID {expected}")
    return parsed


def read_cim_object(data: bytes, cid: str | None = None) -> Any:
    """Decode an object as cim-ipld stores it (JSON, zstd-compressed when it starts with the zstd magic).

    Parameters
    ----------
    data : bytes
        The object's bytes as read from the bucket.
    cid : str, optional
        Its key: when given, the decompressed JSON is verified against it (its own codec, BLAKE3).

    Returns
    -------
    JSON value

    Raises
    ------
    CIDMismatchError
        The content does not hash to ``cid``.
    ValueError
        Corrupt zstd data or not JSON (the message says which).

    Examples
    --------
    >>> blob = write_cim_object({"message": "x" * 2000}, threshold=1024)
    >>> blob[:4] == ZSTD_MAGIC, len(blob) < 200
    (True, True)
    >>> read_cim_object(blob, cim_ipld_cid({"message": "x" * 2000}, "dag-json"))["message"][:3]
    'xxx'
    """
    raw = bytes(data)
    if raw[:4] == ZSTD_MAGIC:
        zstandard = _interop("zstandard")
        stream = zstandard.ZstdDecompressor().decompressobj()  # frames of zstd::encode_all carry no size
        try:
            raw = stream.decompress(raw)
        except zstandard.ZstdError as exc:
            raise ValueError(f"corrupt zstd object ({exc}); cim-ipld compresses with zstd level 3") from None
        if not stream.eof:
            raise ValueError("truncated zstd object (the frame does not end); read the whole object again")
    if cid is not None:
        verify_cim_cid(raw, cid)
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ValueError(f"object is not JSON ({exc}); cim-ipld stores serde_json bytes") from None


def write_cim_object(content: Any, *, threshold: int = 1024, level: int = 3) -> bytes:
    """The bytes cim-ipld's ``NatsObjectStore::put`` stores: JSON, zstd (level 3) above ``threshold``.

    Parameters
    ----------
    content : JSON value
    threshold : int
        Bytes above which the JSON is compressed (cim-ipld's ``compression_threshold``).
    level : int
        zstd level (cim-ipld: 3).

    Returns
    -------
    bytes

    Raises
    ------
    TypeError
        ``content`` is not JSON-serialisable.

    Examples
    --------
    >>> write_cim_object({"a": 1})
    b'{"a":1}'
    """
    raw = serde_json_bytes(content)
    if len(raw) <= threshold:
        return raw
    return _interop("zstandard").ZstdCompressor(level=level).compress(raw)


# ---------------------------------------------------------------------------------------------- helpers
_MF = None


def _interop(module: str, package: str | None = None):
    """An optional package of the ``interop`` extra, or a one-line MissingDependencyError naming it."""
    from alchemist._optional import require

    return require(module, extra="interop", feature="CIDs and objects of the CIM's other codecs", package=package)


def _multiformats():
    """The ``multiformats`` package, loaded on first use with the CIM's private codecs registered."""
    global _MF
    if _MF is None:
        multiformats = _interop("multiformats")

        for name, code in CIM_CODECS.items():
            if code in _CIM_RANGE:
                _ensure_code(code, name, multiformats)
        _MF = multiformats
    return _MF


def _ensure_code(code: int, name: str | None = None, mf=None) -> None:
    """Register a code of the CIM's private range (0x300000–0x3FFFFF) with multiformats if missing."""
    mf = mf or _multiformats()
    if code not in _CIM_RANGE or mf.multicodec.exists(code=code):
        return
    mf.multicodec.register(mf.multicodec.Multicodec(name or f"cim-0x{code:x}", "ipld", code, "draft",
                                                    "CIM private content type (cim-ipld ContentType)"))


def _register_private_code(value: str) -> None:
    """Register the codec of a CIDv1 in the CIM's private range before multiformats decodes it."""
    mf = _multiformats()
    if value.startswith("Qm"):
        return
    try:
        raw = mf.multibase.decode(value)
        version, _, rest = mf.varint.decode_raw(raw)
        code = mf.varint.decode_raw(rest)[0] if version == 1 else None
    except Exception:
        return  # CID.decode gives the error
    if code is not None:
        _ensure_code(code)


def other_codec_digest(value: str, codecs="cim") -> bytes:
    """The BLAKE3-256 digest of a CIDv1 whose codec is one of ``codecs`` (the wider half of
    :func:`alchemist.events.cid.cid_digest`).

    Parameters
    ----------
    value : str
    codecs : "cim" or iterable of codec names/codes
        ``"cim"``: every codec of :data:`CIM_CODECS` and the CIM's private range.

    Returns
    -------
    bytes
        32 bytes.

    Raises
    ------
    CIDMismatchError
        Not a CID, another codec, another hash function or digest size, or not base32 lower case
        (the CIM's spelling).

    Examples
    --------
    >>> len(other_codec_digest(cim_cid(b"x", "cim-event")))
    32
    """
    parsed = parse_cid(value)
    if codecs == "cim":
        allowed = set(CIM_CODECS.values())
        ok = parsed.codec_code in allowed or parsed.codec_code in _CIM_RANGE
    else:
        allowed = {codec_code(c) for c in codecs}
        ok = parsed.codec_code in allowed
    if not ok:
        raise CIDMismatchError(f"{value!r} has codec {parsed.codec} (0x{parsed.codec_code:x}); accepted here: "
                               f"{sorted(hex(c) for c in allowed)}")
    if parsed.hash != "blake3" or len(parsed.digest) != 32:
        raise CIDMismatchError(f"{value!r} uses {parsed.hash} ({len(parsed.digest)} bytes); the CIM hashes with "
                               "BLAKE3-256 (multihash 0x1e, 32 bytes)")
    if parsed.version != 1 or not value.startswith("b") or value != value.lower():
        raise CIDMismatchError(f"{value!r} is not a base32 lower-case CIDv1 (the CIM writes 'b...')")
    return parsed.digest
