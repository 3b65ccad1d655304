"""Objects in cim-ipld's JetStream object-store buckets (TheCowboyAI/cim-ipld @ e84cccd3,
``src/object_store/nats_object_store.rs``).

``NatsObjectStore::put`` stores ``serde_json`` bytes of the content, zstd-compressed (level 3) above its
``compression_threshold``, under the CID's string in the bucket ``ContentBucket::for_content_type`` picks:
``cim-graphs`` (0x300100), ``cim-nodes`` (0x300101), ``cim-edges`` (0x300102), ``cim-conceptual`` (0x300103),
``cim-workflows`` (0x300104), ``cim-events`` (0x300105, 0x300106), ``cim-media`` (0x610001–0x63FFFF) and
``cim-documents`` for everything else — including ``ContentType::Event`` (0x300000), whose code the match does not
list. ``get`` decompresses when the bytes start with the zstd magic and refuses content whose recomputed CID
differs; :func:`get_cim_object` does the same from Python.
"""

from __future__ import annotations

from typing import Any

from alchemist.errors import ObjectNotFoundError

__all__ = ["CIM_BUCKETS", "bucket_for", "get_cim_object"]

#: cim-ipld's buckets (``ContentBucket::all``).
CIM_BUCKETS = ("cim-events", "cim-graphs", "cim-nodes", "cim-edges", "cim-conceptual", "cim-workflows", "cim-media",
               "cim-documents")


def bucket_for(content_type: int) -> str:
    """``ContentBucket::for_content_type``: the bucket cim-ipld stores a content type's objects in.

    Parameters
    ----------
    content_type : int
        The content type's code (``T::CONTENT_TYPE.codec()``).

    Returns
    -------
    str

    Examples
    --------
    >>> bucket_for(0x300105), bucket_for(0x300000), bucket_for(0x620010)
    ('cim-events', 'cim-documents', 'cim-media')
    """
    fixed = {0x300100: "cim-graphs", 0x300101: "cim-nodes", 0x300102: "cim-edges", 0x300103: "cim-conceptual",
             0x300104: "cim-workflows", 0x300105: "cim-events", 0x300106: "cim-events"}
    if content_type in fixed:
        return fixed[content_type]
    if 0x600001 <= content_type <= 0x60FFFF:
        return "cim-documents"
    if 0x610001 <= content_type <= 0x63FFFF:
        return "cim-media"
    return "cim-documents"


async def get_cim_object(connection, cid: str, *, content_type: int | None = None,
                         bucket: str | None = None) -> Any:
    """Read, decompress and verify an object cim-ipld stored under ``cid``.

    Parameters
    ----------
    connection : Connection
    cid : str
        The object's key (a CIDv1 of any CIM codec).
    content_type : int, optional
        The content type's code, to go straight to its bucket (:func:`bucket_for`).
    bucket : str, optional
        The bucket; otherwise ``content_type``'s, else each of :data:`CIM_BUCKETS` in turn.

    Returns
    -------
    JSON value
        The content.

    Raises
    ------
    ObjectNotFoundError
        No bucket holds ``cid`` (the message names the buckets looked in).
    CIDMismatchError
        The content does not hash to ``cid`` (corrupt or tampered).
    ValueError
        Corrupt zstd data or not JSON.

    Examples
    --------
    >>> import alchemist  # doctest: +SKIP
    >>> conn = alchemist.connect("nats://cim:4222", profile="cim-domain-graph")  # doctest: +SKIP
    >>> conn.run(get_cim_object(conn, "bafyr4i..."))  # doctest: +SKIP
    """
    from nats.js.errors import BucketNotFoundError, NotFoundError, ObjectNotFoundError as NatsObjectNotFound

    from alchemist.events.codecs import parse_cid, read_cim_object

    parse_cid(cid)  # a malformed key fails before any request
    names = [bucket] if bucket else ([bucket_for(content_type)] if content_type is not None else list(CIM_BUCKETS))
    for name in names:
        try:
            store = await connection.js.object_store(name)
            result = await store.get(cid)
        except (BucketNotFoundError, NotFoundError, NatsObjectNotFound):
            continue
        return read_cim_object(result.data, cid)
    raise ObjectNotFoundError(f"no cim-ipld object {cid!r} in {names}; pass bucket= or content_type= if it was "
                              "stored elsewhere")
