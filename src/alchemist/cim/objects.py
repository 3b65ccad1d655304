"""The content-addressed object store of the CIM, on a JetStream object-store bucket.

Objects are named by their CIM CID (CIDv1, raw, BLAKE3-256), so the same content is stored once;
``get`` recomputes the CID of what it receives and refuses corrupt content. Recently read
objects are kept in an in-memory LRU cache bounded in bytes.
"""

from __future__ import annotations

import io
from collections import OrderedDict
from typing import Callable

from alchemist.errors import CIDMismatchError, ObjectNotFoundError
from alchemist.events.cid import cid as _cid
from alchemist.events.cid import cid_digest

__all__ = ["ObjectStore", "LRUCache", "OBJECT_BUCKET"]

OBJECT_BUCKET = "alchemist-objects"


class LRUCache:
    """A least-recently-used cache of ``bytes`` values bounded by their total size.

    Parameters
    ----------
    max_bytes : int
        Byte budget; a value larger than the budget is not cached.

    Attributes
    ----------
    bytes : int
        Total size of the cached values.
    hits, misses : int
        Counts of :meth:`get` calls that found, or did not find, their key.

    Examples
    --------
    >>> cache = LRUCache(max_bytes=10)
    >>> cache.put("a", b"12345")
    >>> cache.put("b", b"123456")  # 11 bytes in all: "a", the least recently used, goes
    >>> "a" in cache, cache.get("b"), cache.bytes
    (False, b'123456', 6)
    >>> cache.put("c", b"x" * 11)  # larger than the budget: not cached
    >>> "c" in cache
    False
    """

    def __init__(self, max_bytes: int = 256 * 2**20):
        self.max_bytes = int(max_bytes)
        self.bytes = 0
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self.hits = self.misses = 0

    def get(self, key: str) -> bytes | None:
        """The value of ``key``, now the most recently used; None when it is not cached.

        Parameters
        ----------
        key : str

        Returns
        -------
        bytes or None
        """
        value = self._items.get(key)
        if value is None:
            self.misses += 1
            return None
        self._items.move_to_end(key)
        self.hits += 1
        return value

    def put(self, key: str, value: bytes) -> None:
        """Cache ``value`` under ``key`` (replacing its old value) and drop the least recently
        used values until the total fits the budget; a value larger than the budget is ignored.

        Parameters
        ----------
        key : str
        value : bytes

        Returns
        -------
        None
        """
        if len(value) > self.max_bytes:
            return
        old = self._items.pop(key, None)
        if old is not None:
            self.bytes -= len(old)
        self._items[key] = value
        self.bytes += len(value)
        while self.bytes > self.max_bytes:
            _, dropped = self._items.popitem(last=False)
            self.bytes -= len(dropped)

    def __contains__(self, key: str) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"<LRUCache {len(self)} objects, {self.bytes:,}/{self.max_bytes:,} bytes>"


class ObjectStore:
    """Content-addressed objects in the JetStream object store bucket ``alchemist-objects``.

    Create it with ``connection.objects``. The bucket is JetStream's object store (stream
    ``OBJ_alchemist-objects``): an object is its chunks on ``$O.alchemist-objects.C.<nuid>``
    (at most 512 KiB each, under the server's default 1 MiB ``max_payload``) and one
    metadata message on ``$O.alchemist-objects.M.<name>``; its name here is its CID, so the same
    content is stored once. The bucket is created (file storage) on first use.

    Parameters
    ----------
    connection : Connection
    bucket : str
    cache_bytes : int
        Byte budget of the in-memory LRU cache.

    Attributes
    ----------
    cache : LRUCache
        The objects read or written recently.

    See Also
    --------
    alchemist.events.cid.cid : the CID of some bytes.

    References
    ----------
    .. [1] NATS ADR-20, "JetStream based Object Stores",
       https://github.com/nats-io/nats-architecture-and-design/blob/main/adr/ADR-20.md
    .. [2] Multiformats, "CID (Content IDentifier) specification",
       https://github.com/multiformats/cid

    Examples
    --------
    >>> import tempfile
    >>> import alchemist
    >>> tmp = tempfile.mkdtemp()
    >>> connection = alchemist.connect(data_dir=tmp + "/jetstream", outbox=tmp + "/outbox.sqlite")
    >>> store = connection.objects
    >>> key = store.put(b"hello")
    >>> from alchemist.events.cid import cid
    >>> key == cid(b"hello")
    True
    >>> store.exists(key), key in store
    (True, True)
    >>> store.cache = type(store.cache)()  # forget it locally: the next get asks the server
    >>> store.get(key)
    b'hello'
    >>> connection.close()
    """

    def __init__(self, connection, bucket: str = OBJECT_BUCKET, cache_bytes: int = 256 * 2**20):
        self.connection = connection
        self.bucket = bucket
        self.cache = LRUCache(cache_bytes)
        self._store = None

    def put(self, data: bytes, *, progress: Callable[[int, int], object] | None = None) -> str:
        """Store ``data``; returns its CID. Content already stored is not sent again.

        Cost: on first use, the bucket's creation (one ``$JS.API.STREAM.CREATE``); then one
        ``STREAM.MSG.GET`` for the object's metadata (``$O.<bucket>.M.<cid>``, to see whether it
        is stored); if it is not, a second one (nats-py's own check) and one acknowledged
        publish per 512 KiB chunk and one for the metadata. Content already stored: one request.

        Parameters
        ----------
        data : bytes-like
        progress : callable, optional
            ``progress(bytes_done, bytes_total)`` as chunks are sent.

        Returns
        -------
        str
            The CID of ``data`` (CIDv1, raw codec, BLAKE3-256, base32).

        Raises
        ------
        CIMError
            The connection is closed.
        nats.errors.TimeoutError
            The server did not acknowledge a chunk in time.

        Examples
        --------
        >>> import tempfile
        >>> import alchemist
        >>> tmp = tempfile.mkdtemp()
        >>> connection = alchemist.connect(data_dir=tmp + "/jetstream", outbox=tmp + "/outbox.sqlite")
        >>> sizes = []
        >>> key = connection.objects.put(b"x" * 2_000_000, progress=lambda done, total: sizes.append(done))
        >>> from alchemist.events.cid import cid
        >>> key == cid(b"x" * 2_000_000)
        True
        >>> sizes[-1]
        2000000
        >>> connection.objects.put(b"x" * 2_000_000) == key  # stored once
        True
        >>> connection.close()
        """
        data = bytes(data)
        key = _cid(data)
        self.connection.run(self._put(key, data, progress))
        self.cache.put(key, data)
        return key

    def get(self, cid: str, *, progress: Callable[[int, int], object] | None = None) -> bytes:
        """The content of ``cid`` (from the cache when there).

        Cost: none when cached; else two ``$JS.API.STREAM.MSG.GET`` for the metadata
        (``$O.<bucket>.M.<cid>``), a ``STREAM.NAMES`` look-up and one ordered consumer
        (``CONSUMER.CREATE``) that pushes the chunks (``$O.<bucket>.C.<nuid>``): four requests
        for a one-chunk object.

        Parameters
        ----------
        cid : str
            A CID as :meth:`put` returns it.
        progress : callable, optional
            ``progress(bytes_done, bytes_total)`` as chunks arrive.

        Returns
        -------
        bytes

        Raises
        ------
        ObjectNotFoundError
            No object with that CID.
        CIDMismatchError
            ``cid`` is not a CIM CID (before any request), or the content received does not
            hash to ``cid`` (corrupt or tampered).
        NonCanonicalCIDError
            ``cid`` is another spelling of a CIM CID (non-zero padding bits).

        Examples
        --------
        >>> import tempfile
        >>> import alchemist
        >>> from alchemist.events.cid import cid
        >>> tmp = tempfile.mkdtemp()
        >>> connection = alchemist.connect(data_dir=tmp + "/jetstream", outbox=tmp + "/outbox.sqlite")
        >>> connection.objects.get(connection.objects.put(b"edge list"))
        b'edge list'
        >>> connection.objects.get(cid(b"never stored"))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        alchemist.errors.ObjectNotFoundError: "no object bafkr4... in bucket 'alchemist-objects'"
        >>> connection.close()
        """
        return self.connection.run(self.get_async(cid, progress=progress))

    async def get_async(self, cid: str, *, progress: Callable[[int, int], object] | None = None) -> bytes:
        """:meth:`get` on the connection's event loop (for code running there).

        Parameters
        ----------
        cid : str
        progress : callable, optional

        Returns
        -------
        bytes

        Raises
        ------
        ObjectNotFoundError, CIDMismatchError, NonCanonicalCIDError
            As :meth:`get`.
        """
        cid_digest(cid)  # a malformed CID fails here, before any request
        cached = self.cache.get(cid)
        if cached is not None:
            return cached
        data = await self._get(cid, progress)
        actual = _cid(data)
        if actual != cid:
            raise CIDMismatchError(f"object {cid} in bucket {self.bucket!r} is corrupt: its content hashes to {actual}")
        self.cache.put(cid, data)
        return data

    def exists(self, cid: str) -> bool:
        """Whether an object with that CID is stored (``cid in store`` says the same).

        One request for the object's metadata (and, on first use, the bucket's creation).

        Parameters
        ----------
        cid : str

        Returns
        -------
        bool
            False also for an object that was deleted.

        Raises
        ------
        CIMError
            The connection is closed.
        """
        return self.connection.run(self._exists(cid))

    def __contains__(self, cid: str) -> bool:
        return self.exists(cid)

    async def _bucket(self):
        if self._store is None:
            from nats.js.api import ObjectStoreConfig, StorageType

            self._store = await self.connection.js.create_object_store(
                self.bucket, config=ObjectStoreConfig(storage=StorageType.FILE))
        return self._store

    async def _exists(self, key: str) -> bool:
        from nats.js.errors import NotFoundError, ObjectNotFoundError as _NatsNotFound

        store = await self._bucket()
        try:
            info = await store.get_info(key)
        except (NotFoundError, _NatsNotFound):
            return False
        return not info.deleted

    async def _put(self, key: str, data: bytes, progress) -> None:
        if await self._exists(key):
            if progress is not None:
                progress(len(data), len(data))
            return
        from nats.js.api import ObjectMeta, ObjectMetaOptions

        store = await self._bucket()
        # chunks of 512 KiB (nats-py's default is 128 KiB): each is one acknowledged publish
        meta = ObjectMeta(name=key, options=ObjectMetaOptions(max_chunk_size=_CHUNK_BYTES))
        await store.put(key, _ProgressReader(data, progress), meta=meta)

    async def _get(self, key: str, progress) -> bytes:
        from nats.js.errors import NotFoundError, ObjectNotFoundError as _NatsNotFound

        store = await self._bucket()
        try:
            info = await store.get_info(key)
        except (NotFoundError, _NatsNotFound):
            raise ObjectNotFoundError(f"no object {key} in bucket {self.bucket!r}") from None
        sink = _ProgressWriter(info.size or 0, progress)
        await store.get(key, writeinto=sink)
        return sink.getvalue()


_CHUNK_BYTES = 512 * 1024  # below the server's default max_payload (1 MiB) with room for headers

class _ProgressReader(io.BytesIO):
    def __init__(self, data: bytes, progress):
        super().__init__(data)
        self.total, self.done, self.progress = len(data), 0, progress

    def readinto(self, buffer) -> int:
        n = super().readinto(buffer)
        self.done += n
        if self.progress is not None and n:
            self.progress(self.done, self.total)
        return n


class _ProgressWriter(io.BytesIO):
    def __init__(self, total: int, progress):
        super().__init__()
        self.total, self.done, self.progress = total, 0, progress

    def write(self, data) -> int:
        n = super().write(data)
        self.done += n
        if self.progress is not None:
            self.progress(self.done, self.total)
        return n
