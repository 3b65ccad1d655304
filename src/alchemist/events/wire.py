"""An edge list as CIM graph events, generated straight into their wire bytes, chunk by chunk.

Each line of a SNAP-style edge list becomes one ``edge_added`` event (edge id ``e<line index>``,
the line's timestamp); a node appears with a ``node_added`` event just before its first edge; a
``graph_created`` event opens the stream. Event ids are UUIDv7s whose time field is the line's
timestamp and whose 74 other bits come from a BLAKE3 extendable output keyed by the graph id and
a digest of the file's content (10 bytes per event index), so generating the same file again
gives the same ids: JetStream de-duplicates them inside its window, the consumer skips ids it has
applied, and a replay that finds its own events already on the stream resumes after the last one
(:meth:`WirePlan.position`).

The wire bytes (the compact JSON envelope, byte for byte :func:`~alchemist.events.encode_event`
of the same event) are written by a compiled kernel one chunk of events at a time; the CID chain
runs through the chunks in order, each event hashed with the ``blake3`` package over its content
(the envelope without ``cid``, whose ``previous_cid`` is the CID of the event before). Memory is
that of the plan (about 20 bytes per event and the distinct node names) plus one chunk, whatever
the length of the file.

Nothing here talks to NATS: :mod:`alchemist.cim.replay` publishes what this module generates.
"""

from __future__ import annotations

from typing import Iterator, NamedTuple

import blake3
import numpy as np

from alchemist.events._wire_kernel import chunk_offsets, write_chunk
from alchemist.events.cid import cid_from_digest
from alchemist.events.envelope import Event, decode_event, encode_event
from alchemist.events.wire_plan import (
    WirePlan,
    count_events,
    json_string,
    pack_bytes,
    plan_edge_file,
    plan_edge_list,
    rfc3339_bytes,
)

__all__ = [
    "WireEvent", "WireChunk", "WirePlan", "DEFAULT_CHUNK", "plan_edge_list", "plan_edge_file", "wire_chunks",
    "edge_list_records",
    "edge_list_batches", "edge_list_events", "edge_list_table", "count_events",
]

DEFAULT_CHUNK = 16384
"""Events generated at a time (about 7 MB of wire bytes for SNAP edge lists)."""


class WireEvent(NamedTuple):
    """One event ready to publish: its id, type, CID and compact JSON envelope (``data``).

    Parameters
    ----------
    event_id : str
        A UUIDv7.
    event_type : str
    cid : str
        The event's CIM CID.
    data : bytes
        The envelope, byte for byte :func:`~alchemist.events.encode_event`.

    Examples
    --------
    >>> import numpy as np
    >>> from alchemist.graph.io import EdgeList
    >>> edges = EdgeList(np.array(["a", "b"], dtype=object), np.array(["b", "c"], dtype=object),
    ...                  np.array([1.0e9, 1.0e9 + 60]), "pairs.txt")
    >>> record = next(iter(edge_list_records(edges, "pairs")))
    >>> record.event_type, len(record.event_id), record.cid.startswith("bafkr4")
    ('graph_created', 36, True)
    """

    event_id: str
    event_type: str
    cid: str
    data: bytes


class WireChunk(NamedTuple):
    """Consecutive events in their wire form.

    Attributes
    ----------
    start : int
        Index of the first event (0 is ``graph_created``).
    buffer : bytearray
        The events' envelopes, each followed by one ``,``.
    offsets : (n + 1,) int64 array
        Where each event starts in ``buffer`` (``buffer[offsets[i]:offsets[i + 1] - 1]`` is event
        ``start + i``).
    kinds : (n,) uint8 array
        0 ``graph_created``, 1 ``node_added``, 2 ``edge_added``.
    ids : (n, 36) uint8 array
        The event ids, ASCII.
    cids : list of bytes
        The events' CIDs, ASCII.

    Examples
    --------
    >>> import numpy as np
    >>> from alchemist.graph.io import EdgeList
    >>> edges = EdgeList(np.array(["a", "b"], dtype=object), np.array(["b", "c"], dtype=object),
    ...                  np.array([1.0e9, 1.0e9 + 60]), "pairs.txt")
    >>> parts = list(wire_chunks(edges, "pairs", chunk=4))
    >>> [(part.start, len(part)) for part in parts]
    [(0, 4), (4, 2)]
    >>> from alchemist.events import decode_event
    >>> decode_event(parts[1].data(0)).payload
    {'node_id': 'c'}
    """

    start: int
    buffer: bytearray
    offsets: np.ndarray
    kinds: np.ndarray
    ids: np.ndarray
    cids: list

    def __len__(self) -> int:
        return len(self.cids)

    def data(self, i: int) -> bytes:
        """The envelope of the chunk's ``i``-th event.

        Parameters
        ----------
        i : int
            0 to ``len(chunk) - 1``.

        Returns
        -------
        bytes
            A copy (the chunk's buffer is reused by nobody, but may be large).

        Raises
        ------
        IndexError
            ``i`` is out of range.
        """
        return bytes(self.buffer[self.offsets[i]:self.offsets[i + 1] - 1])

    def joined(self, a: int, b: int) -> bytes:
        """Envelopes ``a`` to ``b - 1`` of the chunk separated by commas (a JSON array's inside).

        Parameters
        ----------
        a, b : int
            ``0 <= a < b <= len(chunk)``.

        Returns
        -------
        bytes

        Raises
        ------
        IndexError
            ``a`` or ``b`` is out of range.
        """
        return bytes(self.buffer[self.offsets[a]:self.offsets[b] - 1])


_TYPES = ("graph_created", "node_added", "edge_added")


def wire_chunks(edges, graph_id: str, *, directed: bool = True, start: int = 0, chunk: int = DEFAULT_CHUNK,
                plan: WirePlan | None = None) -> Iterator[WireChunk]:
    """The events of an edge list from ``start`` on, in their wire form, ``chunk`` events at a time.

    Parameters
    ----------
    edges : EdgeList or WirePlan
        An edge list, or the plan of one (e.g. :func:`plan_edge_file`, which reads a file in blocks).
    graph_id : str
    directed : bool
        Recorded in the ``graph_created`` event.
    start : int
        The first event to yield. The CIDs of the events before it are still computed (the chain
        needs them), without keeping their bytes.
    chunk : int
        Events per chunk: the memory bound.
    plan : WirePlan, optional
        The plan of ``edges`` (:func:`plan_edge_list` by default).

    Yields
    ------
    WireChunk

    Raises
    ------
    ValueError
        If ``chunk`` is smaller than 1.

    Examples
    --------
    Each chunk's bytes are those :func:`~alchemist.events.encode_event` writes, and the CID
    chain runs across chunks:

    >>> import numpy as np
    >>> from alchemist.graph.io import EdgeList
    >>> edges = EdgeList(np.array(["a", "b"], dtype=object), np.array(["b", "c"], dtype=object),
    ...                  np.array([1.0e9, 1.0e9 + 60]), "pairs.txt")
    >>> from alchemist.events import decode_event, encode_event
    >>> events = [decode_event(part.data(i)) for part in wire_chunks(edges, "pairs", chunk=2) for i in range(len(part))]
    >>> [e.previous_cid == p.cid for p, e in zip(events, events[1:])]
    [True, True, True, True, True]
    >>> all(encode_event(e) == r.data for e, r in zip(events, edge_list_records(edges, "pairs")))
    True
    """
    if chunk < 1:
        raise ValueError(f"chunk={chunk}; it must be at least 1")
    if plan is None:
        plan = edges if isinstance(edges, WirePlan) else plan_edge_list(edges, graph_id)
    first = plan.graph_created(directed)
    gid = json_string(graph_id).encode()
    pieces = [b'{"event_id":"', b'","event_type":"', b'","aggregate_type":"graph","aggregate_id":' + gid +
              b',"correlation_id":"', b'","causation_id":"', b'","timestamp":"', b'","payload":',
              b'{"node_id":', b"}", b'{"edge_id":"e', b'","source":', b',"target":', b',"weight":1.0}',
              b',"cid":"', b'","previous_cid":"', b'"}', b'node_added', b'edge_added']
    piece_buf, piece_off = pack_bytes(pieces)
    names_buf, names_off = plan.packed_names()
    first_data = encode_event(first)
    previous = first.cid.encode()
    start = min(max(0, start), plan.total)
    a = 1
    while a < start:  # before the start: only the chain's CIDs
        b = min(start, a + chunk)
        previous = _chain(plan, a, b, previous, piece_buf, piece_off, names_buf, names_off, keep=False)[0]
        a = b
    a = start
    while a < plan.total:
        b = min(plan.total, a + chunk)
        out = _chunk(plan, a, b, first_data, previous, piece_buf, piece_off, names_buf, names_off)
        previous = out.cids[-1]
        yield out
        a = b


def _chunk(plan: WirePlan, a: int, b: int, first_data: bytes, previous: bytes, piece_buf, piece_off, names_buf,
           names_off) -> WireChunk:
    """Events ``a`` to ``b - 1`` in their wire form, ``previous`` being the CID of event ``a - 1``."""
    if a == 0:
        head = _chunk(plan, 1, b, first_data, previous, piece_buf, piece_off, names_buf, names_off) if b > 1 else None
        buffer = bytearray(first_data + b",")
        offsets = np.array([0, len(buffer)], dtype=np.int64)
        cids = [previous]
        if head is None:
            return WireChunk(0, buffer, offsets, plan.kinds[:1].copy(), plan.ids(0, 1), cids)
        # head was chained from graph_created's CID (previous), which is event 0's CID
        return WireChunk(0, buffer + head.buffer, np.concatenate([offsets, head.offsets[1:] + len(buffer)]),
                         plan.kinds[:b].copy(), np.concatenate([plan.ids(0, 1), head.ids]), cids + head.cids)
    _last, buffer, offsets, ids, cids = _chain(plan, a, b, previous, piece_buf, piece_off, names_buf, names_off,
                                               keep=True)
    return WireChunk(a, buffer, offsets, plan.kinds[a:b].copy(), ids, cids)


def _chain(plan: WirePlan, a: int, b: int, previous: bytes, piece_buf, piece_off, names_buf, names_off, *,
           keep: bool):
    """Write events ``a`` to ``b - 1`` (a ≥ 1) with the kernel, then hash them in order.

    Returns ``(last CID, buffer, offsets, ids, cids)``; with ``keep=False`` only the last CID."""
    ids = plan.ids(a, b)
    line_lo, line_hi = int(plan.lines[a]), int(plan.lines[b - 1]) + 1
    stamps, stamps_off = rfc3339_bytes(plan.times[line_lo:line_hi])
    args = (ids, plan.kinds[a:b], plan.lines[a:b] - line_lo, plan.lines[a:b], plan.nodes[a:b], plan.source_codes,
            plan.target_codes, stamps, stamps_off, names_buf, names_off, piece_buf, piece_off)
    offsets = chunk_offsets(*args)
    buf = bytearray(int(offsets[-1]))  # the kernel writes into it: no copy of the chunk
    body_ends = write_chunk(np.frombuffer(buf, dtype=np.uint8), offsets, *args)
    view = memoryview(buf)
    b3, to_cid = blake3.blake3, cid_from_digest
    cids: list[bytes] = []
    keep_cid = cids.append if keep else None
    # layout of one event: body, ,"cid":" (8), <cid> (59), ","previous_cid":" (18), <previous> (59), "} (2), ","
    # its content (what the CID is computed over) is the body followed by ,"previous_cid":"<previous>"}
    starts = offsets[:-1].tolist()
    for s, end in zip(starts, body_ends.tolist()):
        slot = end + 8
        buf[slot + 77:slot + 136] = previous
        h = b3(view[s:end])
        h.update(view[slot + 60:slot + 138])
        previous = to_cid(h.digest()).encode()
        buf[slot:slot + 59] = previous
        if keep_cid is not None:
            keep_cid(previous)
    view.release()
    return previous, buf, offsets, ids, cids


def edge_list_records(edges, graph_id: str, *, directed: bool = True, start: int = 0, chunk: int = DEFAULT_CHUNK
                      ) -> Iterator[WireEvent]:
    """The CIM events of an edge list as wire records, in order, with chained CIDs.

    Parameters
    ----------
    edges : EdgeList
        From :func:`alchemist.read_edge_list`; its third column, when present, is the Unix time of
        each line (seconds).
    graph_id : str
        The aggregate id.
    directed : bool
        Recorded in the ``graph_created`` event.
    start : int
        Skip the first ``start`` events (their CIDs are still computed, for the chain).
    chunk : int
        Events generated at a time (the memory bound).

    Yields
    ------
    WireEvent
        ``data`` is byte for byte :func:`~alchemist.events.encode_event` of the event, and
        ``cid`` its CIM CID (CIDv1, raw, BLAKE3-256 over the compact JSON content).

    Examples
    --------
    >>> import numpy as np
    >>> from alchemist.graph.io import EdgeList
    >>> edges = EdgeList(np.array(["a", "b"], dtype=object), np.array(["b", "c"], dtype=object),
    ...                  np.array([1.0e9, 1.0e9 + 60]), "pairs.txt")
    >>> [r.event_type for r in edge_list_records(edges, "pairs")]
    ['graph_created', 'node_added', 'node_added', 'edge_added', 'node_added', 'edge_added']
    """
    for part in wire_chunks(edges, graph_id, directed=directed, start=start, chunk=chunk):
        ids = part.ids.tobytes().decode("ascii")
        for i, kind in enumerate(part.kinds.tolist()):
            yield WireEvent(ids[36 * i:36 * i + 36], _TYPES[kind], part.cids[i].decode("ascii"), part.data(i))


def edge_list_batches(edges, graph_id: str, *, batch: int = 1000, directed: bool = True, start: int = 0,
                      chunk: int = DEFAULT_CHUNK) -> Iterator[tuple[str, bytes, int]]:
    """The events of :func:`edge_list_records` from ``start`` on, ``batch`` per ``events_batch``
    message, assembled straight from the generated wire bytes.

    Parameters
    ----------
    edges : EdgeList
    graph_id : str
    batch : int
        Events per message.
    directed : bool
    start : int
        The first event (earlier ones are skipped).
    chunk : int
        Events generated at a time, rounded down to a multiple of ``batch`` (at least one batch).

    Yields
    ------
    (batch_id, data, count)
        ``data`` is the ``events_batch`` message (:func:`~alchemist.events.encode_batch` of the
        same events with the same batch id gives the same events); the batch id is
        ``batch-<first event id>-<last event id>-<count>``.

    Raises
    ------
    ValueError
        If ``batch`` is smaller than 1.

    Examples
    --------
    >>> import numpy as np
    >>> from alchemist.graph.io import EdgeList
    >>> edges = EdgeList(np.array(["a", "b"], dtype=object), np.array(["b", "c"], dtype=object),
    ...                  np.array([1.0e9, 1.0e9 + 60]), "pairs.txt")
    >>> from alchemist.events import decode_message
    >>> batches = list(edge_list_batches(edges, "pairs", batch=4))
    >>> [count for _, _, count in batches]
    [4, 2]
    >>> [e.event_type for e in decode_message(batches[1][1])]
    ['node_added', 'edge_added']
    """
    if batch < 1:
        raise ValueError(f"batch={batch}; it must be at least 1")
    size = max(batch, chunk // batch * batch)
    start = max(0, start)
    for part in wire_chunks(edges, graph_id, directed=directed, start=start, chunk=size):
        # chunks start at start + a multiple of size: batches are start + a multiple of batch
        n = len(part)
        ids = part.ids.tobytes()
        for a in range(0, n, batch):
            b = min(n, a + batch)
            batch_id = f"batch-{ids[36 * a:36 * a + 36].decode()}-{ids[36 * (b - 1):36 * b].decode()}-{b - a}"
            data = b"".join((b'{"batch_id":"', batch_id.encode(), b'","event_type":"events_batch","events":[',
                             part.joined(a, b), b"]}"))
            yield batch_id, data, b - a


def edge_list_events(edges, graph_id: str, *, directed: bool = True) -> Iterator[Event]:
    """The CIM events of an edge list as :class:`~alchemist.events.Event` objects (see
    :func:`edge_list_records`).

    Parameters
    ----------
    edges : EdgeList
    graph_id : str
    directed : bool

    Yields
    ------
    Event
        Decoded from the wire bytes without verifying the CID again.

    Examples
    --------
    >>> import numpy as np
    >>> from alchemist.graph.io import EdgeList
    >>> edges = EdgeList(np.array(["a", "b"], dtype=object), np.array(["b", "c"], dtype=object),
    ...                  np.array([1.0e9, 1.0e9 + 60]), "pairs.txt")
    >>> events = list(edge_list_events(edges, "pairs"))
    >>> events[3].event_type, events[3].payload
    ('edge_added', {'edge_id': 'e0', 'source': 'a', 'target': 'b', 'weight': 1.0})
    >>> events[3].timestamp
    '2001-09-09T01:46:40Z'
    """
    for record in edge_list_records(edges, graph_id, directed=directed):
        yield decode_event(record.data, verify=False)


def edge_list_table(edges, graph_id: str):
    """The ``node_added`` / ``edge_added`` events of :func:`edge_list_records` (all but
    ``graph_created``) as one Arrow table, one row per event, for ``Graph.apply_columns``:
    ``event_type``, ``event_id``, ``node_id``, ``edge_id``, ``source``, ``target``, ``timestamp``
    (Unix seconds).

    Parameters
    ----------
    edges : EdgeList
    graph_id : str

    Returns
    -------
    pyarrow.Table

    Examples
    --------
    >>> import numpy as np
    >>> from alchemist.graph.io import EdgeList
    >>> edges = EdgeList(np.array(["a", "b"], dtype=object), np.array(["b", "c"], dtype=object),
    ...                  np.array([1.0e9, 1.0e9 + 60]), "pairs.txt")
    >>> table = edge_list_table(edges, "pairs")
    >>> table.num_rows, table.column("event_type").to_pylist()
    (5, ['node_added', 'node_added', 'edge_added', 'node_added', 'edge_added'])
    >>> table.column("source").to_pylist()
    [None, None, 'a', None, 'b']
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    plan = plan_edge_list(edges, graph_id)
    n = len(edges)
    kinds, lines, nodes = plan.kinds[1:], plan.lines[1:], plan.nodes[1:]
    size = kinds.size
    is_edge = kinds == 2
    names = pa.array(plan.node_names.tolist(), type=pa.string())

    def pick(values, index, where):
        """``values[index]`` where ``where``, null elsewhere (built by Arrow's take)."""
        return values.take(pa.array(index, type=pa.int64(), mask=~where))

    ids = np.ascontiguousarray(plan.ids(1))
    event_id = pa.StringArray.from_buffers(size, pa.py_buffer((np.arange(size + 1, dtype=np.int32) * 36).tobytes()),
                                           pa.py_buffer(ids.tobytes()))
    edge_ids = pc.binary_join_element_wise("e", pc.cast(pa.array(np.arange(n)), pa.string()), "")
    return pa.table({
        "event_type": pa.array(["node_added", "edge_added"]).take(pa.array(kinds.astype(np.int64) - 1)),
        "event_id": event_id,
        "node_id": pick(names, np.where(is_edge, 0, nodes), ~is_edge),
        "edge_id": pick(edge_ids, lines, is_edge),
        "source": pick(names, plan.source_codes[lines], is_edge),
        "target": pick(names, plan.target_codes[lines], is_edge),
        "timestamp": pa.array(plan.times[lines]),
    })


# --------------------------------------------------------------------------- helpers
