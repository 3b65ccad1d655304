"""Graph snapshots: Arrow IPC in the object store, with a KV pointer per graph.

A snapshot holds the graph's node and edge tables (Arrow IPC streams), the ids of the events
folded into it (so that exactly-once holds across the snapshot) and its metadata (version, last
stream sequence, last CID). The KV bucket ``alchemist-snapshots`` maps ``graph_id`` to
``{"cid", "sequence", "version"}``. Loading a graph = the latest snapshot + a replay of the
events stored after its sequence (``connection.graph(graph_id, snapshot=True)``).
"""

from __future__ import annotations

import json

import msgspec
import numpy as np

__all__ = ["save_snapshot", "load_snapshot", "SNAPSHOT_BUCKET", "encode_snapshot", "decode_snapshot"]

SNAPSHOT_BUCKET = "alchemist-snapshots"


def save_snapshot(connection, graph, *, sequence: int | None = None, applied_ids=None) -> dict:
    """Store a snapshot of ``graph`` and point the KV entry ``graph.graph_id`` at it.

    Parameters
    ----------
    connection : Connection
    graph : Graph
    sequence : int, optional
        The last stream sequence folded in (``graph.last_sequence`` by default).
    applied_ids : iterable of str, optional
        Ids of the events folded in; by default those recorded by ``connection.graph`` (the
        live feed's, when the graph is live).

    Returns
    -------
    dict
        ``{"cid": str, "sequence": int, "version": int}``.

    Raises
    ------
    CIMError
        The connection is closed.
    nats.errors.TimeoutError
        The server did not acknowledge the object or the KV entry in time.

    Notes
    -----
    Cost: the snapshot's :meth:`ObjectStore.put <alchemist.cim.objects.ObjectStore.put>` (a
    metadata request, then, unless the same bytes are stored already, a second one and one
    acknowledged publish per 512 KiB chunk and one for the metadata), the KV bucket's
    ``$JS.API.STREAM.CREATE`` (sent on every call; idempotent) and one acknowledged KV put on
    ``$KV.alchemist-snapshots.<graph_id>`` (the bucket keeps the last 5 pointers of each
    graph). A live
    graph is encoded under its feed's lock, so the events folded in and the ids recorded agree.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import alchemist
    >>> tmp = tempfile.mkdtemp()
    >>> path = pathlib.Path(tmp, "g.txt")
    >>> _ = path.write_text("1 2\\n2 3\\n3 1\\n")
    >>> connection = alchemist.connect(data_dir=tmp + "/jetstream", outbox=tmp + "/outbox.sqlite")
    >>> _ = connection.replay(path, batch=1)
    >>> graph = connection.graph("g", live=False)
    >>> pointer = connection.save_snapshot(graph)
    >>> pointer["sequence"], pointer["version"]
    (7, 7)
    >>> _ = connection.append("g", "node_added", {"node_id": "4"})
    >>> connection.graph("g", live=False, snapshot=True)  # the snapshot, then one event
    <alchemist.Graph 'g': 4 nodes, 3 edges, directed, version 8>
    >>> snap, ids, sequence = load_snapshot(connection, "g")
    >>> snap.number_of_nodes(), len(ids), sequence
    (3, 7, 7)
    >>> connection.close()
    """
    feed = connection.feeds.get(graph.graph_id)
    if applied_ids is None and feed is not None and feed.fold.graph is graph:
        with feed.lock:
            data = encode_snapshot(graph, list(feed.fold.applied_ids))
    else:
        if applied_ids is None:
            applied_ids = getattr(graph, "applied_event_ids", ())
        data = encode_snapshot(graph, list(applied_ids))
    seq = int(sequence if sequence is not None else (graph.last_sequence or 0))
    key = connection.objects.put(data)
    pointer = {"cid": key, "sequence": seq, "version": int(graph.version)}
    connection.run(_put_pointer(connection, graph.graph_id, pointer))
    return pointer


def load_snapshot(connection, graph_id: str):
    """``(graph, applied_ids, sequence)`` of the latest snapshot, or None when there is none.

    Cost: one KV get (``$KV.alchemist-snapshots.<graph_id>``), then, unless the object is in
    the connection's object cache, its metadata request and chunks (see
    :meth:`ObjectStore.get <alchemist.cim.objects.ObjectStore.get>`).

    Parameters
    ----------
    connection : Connection
    graph_id : str

    Returns
    -------
    tuple of (Graph, list of str, int) or None
        The graph as it was, the ids of the events folded into it, and the last stream
        sequence folded in.

    Raises
    ------
    CIDMismatchError
        The stored snapshot does not hash to the CID its pointer names (corrupt).
    ObjectNotFoundError
        The pointer names an object that is not stored.
    """
    return connection.run(load_snapshot_async(connection, graph_id))


async def load_snapshot_async(connection, graph_id: str):
    """:func:`load_snapshot` on the connection's event loop (for code running there).

    Parameters
    ----------
    connection : Connection
    graph_id : str

    Returns
    -------
    tuple of (Graph, list of str, int) or None

    Raises
    ------
    CIDMismatchError, ObjectNotFoundError
        As :func:`load_snapshot`.
    """
    pointer = await _get_pointer(connection, graph_id)
    if pointer is None:
        return None
    store = connection.objects
    data = store.cache.get(pointer["cid"])
    if data is None:
        from alchemist.errors import CIDMismatchError
        from alchemist.events.cid import cid as _cid

        data = await store._get(pointer["cid"], None)
        if _cid(data) != pointer["cid"]:
            raise CIDMismatchError(f"snapshot {pointer['cid']} of graph {graph_id!r} is corrupt")
    graph, ids = decode_snapshot(data, graph_id)
    return graph, ids, int(pointer["sequence"])


class _Snapshot(msgspec.Struct):
    meta: dict
    nodes: bytes
    edges: bytes
    ids: list[str]


def encode_snapshot(graph, applied_ids: list[str]) -> bytes:
    """The snapshot bytes (msgpack container of Arrow IPC streams and metadata).

    Parameters
    ----------
    graph : Graph
    applied_ids : list of str
        Ids of the events folded into ``graph`` (kept so that a replay from the snapshot skips
        them: exactly once across the snapshot).

    Returns
    -------
    bytes
        A msgpack map ``{meta, nodes, edges, ids}``: ``meta`` has the graph id, direction, name,
        version and last sequence, CID and timestamp; ``nodes`` and ``edges`` are Arrow IPC
        streams of :func:`alchemist.graph.io.to_frames` (without the derived ``degree``).

    Raises
    ------
    msgspec.EncodeError
        A metadata value msgpack cannot encode.

    References
    ----------
    .. [1] Apache Arrow, "IPC Streaming Format",
       https://arrow.apache.org/docs/format/Columnar.html#ipc-streaming-format

    Examples
    --------
    >>> from alchemist.graph import Graph
    >>> graph = Graph.from_edges([("a", "b"), ("b", "c")], graph_id="g")
    >>> copy, ids = decode_snapshot(encode_snapshot(graph, ["id-1"]))
    >>> copy.graph_id, sorted(copy.node_ids), copy.number_of_edges(), ids
    ('g', ['a', 'b', 'c'], 2, ['id-1'])
    """
    meta = {"graph_id": graph.graph_id, "directed": graph.directed, "name": graph.name, "version": graph.version,
            "last_sequence": graph.last_sequence, "last_cid": graph.last_cid, "last_timestamp": graph.last_timestamp}
    from alchemist.graph.io import to_frames

    nodes, edges = to_frames(graph)
    return msgspec.msgpack.encode(_Snapshot(meta, _ipc(nodes.drop("degree")), _ipc(edges), applied_ids))


def decode_snapshot(data: bytes, graph_id: str | None = None):
    """``(graph, applied_ids)`` from snapshot bytes.

    The tables are rebuilt with :meth:`Graph.from_edge_list` when they have the shape an edge
    list replay gives (edge ids ``e0 …``, unit weights, no labels or properties, nodes in order of
    first appearance, which also restores node first-seen times); otherwise with
    :func:`alchemist.graph.io.from_frames`.

    Parameters
    ----------
    data : bytes
        What :func:`encode_snapshot` wrote.
    graph_id : str, optional
        The graph id of the result (the one stored in the snapshot by default).

    Returns
    -------
    tuple of (Graph, list of str)
        The graph, with its version and last sequence, CID and timestamp, and the ids of the
        events folded into it.

    Raises
    ------
    msgspec.ValidationError
        ``data`` is msgpack but not a snapshot.
    msgspec.DecodeError
        ``data`` is not msgpack.
    """
    import polars as pl

    snap = msgspec.msgpack.decode(data, type=_Snapshot)
    meta = snap.meta
    nodes, edges = pl.read_ipc_stream(snap.nodes), pl.read_ipc_stream(snap.edges)
    gid = graph_id or meta["graph_id"]
    graph = _fast(nodes, edges, gid, meta["directed"])
    if graph is None:
        graph = _by_events(nodes, edges, gid, meta["directed"])
    graph.name = meta.get("name") or ""
    graph.version = int(meta["version"])
    graph.last_sequence, graph.last_cid = meta.get("last_sequence"), meta.get("last_cid")
    graph.last_timestamp = meta.get("last_timestamp")
    return graph, snap.ids


def _ipc(frame) -> bytes:
    import io

    sink = io.BytesIO()
    frame.write_ipc_stream(sink)
    return sink.getvalue()


def _fast(nodes, edges, graph_id: str, directed: bool):
    import pandas as pd

    from alchemist.graph import Graph
    from alchemist.graph.io import EdgeList

    n = edges.height
    if set(edges.columns) != {"id", "source", "target", "relationship", "weight", "timestamp"} or set(
            nodes.columns) != {"id", "label", "first_seen"}:
        return None
    if n == 0 or not (edges["id"].to_list() == [f"e{i}" for i in range(n)]):
        return None
    if (edges["weight"] != 1.0).any() or (edges["relationship"] != "").any() or (nodes["label"] != "").any():
        return None
    src = edges["source"].to_numpy().astype(object)
    dst = edges["target"].to_numpy().astype(object)
    ends = np.empty(2 * n, dtype=object)
    ends[0::2], ends[1::2] = src, dst
    _codes, uniques = pd.factorize(ends, sort=False)
    if list(uniques) != nodes["id"].to_list():
        return None
    seconds = edges["timestamp"].cast(int).to_numpy() / 1000.0
    graph = Graph.from_edge_list(EdgeList(src, dst, seconds, path=graph_id), graph_id=graph_id, directed=directed)
    if not graph.nodes["first_seen"].equals(nodes["first_seen"]):
        return None
    return graph


def _by_events(nodes, edges, graph_id: str, directed: bool):
    """Any snapshot: the tables through :func:`alchemist.graph.io.from_frames` (column-wise)."""
    from alchemist.graph.io import from_frames

    return from_frames(nodes, edges, directed=directed, graph_id=graph_id)


async def _kv(connection):
    from nats.js.api import KeyValueConfig, StorageType

    return await connection.js.create_key_value(config=KeyValueConfig(bucket=SNAPSHOT_BUCKET,
                                                                      storage=StorageType.FILE, history=5))


async def _put_pointer(connection, graph_id: str, pointer: dict) -> None:
    kv = await _kv(connection)
    await kv.put(graph_id, json.dumps(pointer).encode())


async def _get_pointer(connection, graph_id: str):
    from nats.js.errors import KeyNotFoundError, NotFoundError

    kv = await _kv(connection)
    try:
        entry = await kv.get(graph_id)
    except (KeyNotFoundError, NotFoundError):
        return None
    return json.loads(entry.value) if entry.value else None
