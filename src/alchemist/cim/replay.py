"""Replay a SNAP-style timestamped edge list as CIM graph events.

Each line becomes one ``edge_added`` event (edge id ``e<line index>``, the line's timestamp);
a node appears with a ``node_added`` event just before its first edge; a ``graph_created``
event opens the stream. Event ids are UUIDv7s whose time field is the line's timestamp and whose
74 other bits come from a BLAKE3 extendable output keyed by the graph id and a digest of the
file's content (10 bytes per event index), so replaying the same file again produces the same
ids: JetStream de-duplicates them inside its window, the consumer skips ids it has applied, and a
replay that finds its own events already on the stream resumes after the last one instead of
publishing them again.

The events are generated straight into their wire bytes (the compact JSON envelope), with the
CID chain computed on the way; :func:`edge_list_events` decodes them into
:class:`~alchemist.events.Event` objects for callers that want objects.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator, NamedTuple

import blake3
import msgspec
import numpy as np
from numba import njit

from alchemist.events import Event, decode_event, encode_event, new_event
from alchemist.events.cid import _ALPHABET_ARRAY, _b32_cid_into
from alchemist.events.hashing import _hash_into
from alchemist.events.times import format_seconds
from alchemist.graph.io import EdgeList, read_edge_list

__all__ = [
    "edge_list_events", "edge_list_records", "edge_list_batches",
    "replay_edge_list", "count_events", "WireEvent", "edge_list_table",
    "import_edge_list",
]


class WireEvent(NamedTuple):
    """One event ready to publish: its id, type, CID and compact JSON envelope (``data``)."""

    event_id: str
    event_type: str
    cid: str
    data: bytes


def edge_list_records(edges: EdgeList, graph_id: str, *, directed: bool = True, start: int = 0
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

    Yields
    ------
    WireEvent
        ``data`` is byte for byte :func:`~alchemist.events.encode_event` of the event, and
        ``cid`` its CIM CID (CIDv1, raw, BLAKE3-256 over the compact JSON content).
    """
    wire = _wire(edges, graph_id, directed)
    ids, kinds, cids = wire.plan.event_ids, wire.kinds, wire.cids
    buf, off = wire.buffer, wire.offsets
    types = ("graph_created", "node_added", "edge_added")
    for k in range(max(0, start), len(ids)):
        yield WireEvent(ids[k], types[kinds[k]], cids[k], buf[off[k]:off[k + 1] - 1])


def edge_list_batches(edges: EdgeList, graph_id: str, *, batch: int = 1000, directed: bool = True, start: int = 0
                      ) -> Iterator[tuple[str, bytes, int]]:
    """The events of :func:`edge_list_records` from ``start`` on, ``batch`` per ``events_batch``
    message, assembled straight from the generated wire buffer.

    Yields
    ------
    (batch_id, data, count)
        ``data`` is the ``events_batch`` message (:func:`~alchemist.events.encode_batch` of the
        same events with the same batch id gives the same events); the batch id is
        ``batch-<first event id>-<last event id>-<count>``.
    """
    if batch < 1:
        raise ValueError(f"batch={batch}; it must be at least 1")
    wire = _wire(edges, graph_id, directed)
    ids, buf, off = wire.plan.event_ids, wire.buffer, wire.offsets
    n = len(ids)
    for a in range(max(0, start), n, batch):
        b = min(n, a + batch)
        batch_id = f"batch-{ids[a]}-{ids[b - 1]}-{b - a}"
        data = b"".join((b'{"batch_id":"', batch_id.encode(), b'","event_type":"events_batch","events":[',
                         buf[off[a]:off[b] - 1], b"]}"))
        yield batch_id, data, b - a


def edge_list_events(edges: EdgeList, graph_id: str, *, directed: bool = True) -> Iterator[Event]:
    """The CIM events of an edge list as :class:`~alchemist.events.Event` objects (see
    :func:`edge_list_records`)."""
    for record in edge_list_records(edges, graph_id, directed=directed):
        yield decode_event(record.data, verify=False)


def count_events(edges: EdgeList) -> int:
    """How many events :func:`edge_list_records` yields: 1 + distinct nodes + lines."""
    if not len(edges):
        return 1
    return 1 + len(np.unique(np.concatenate([edges.source, edges.target]).astype(str))) + len(edges)


def replay_edge_list(connection, source, graph_id: str | None = None, *, batch: int = 1000,
                     progress: bool = False, directed: bool = True):
    """Publish an edge list file to the CIM as graph events, resuming where a previous replay of
    the same file stopped.

    Parameters
    ----------
    connection : Connection
    source : str, Path or EdgeList
        The file (plain or gzipped SNAP edge list) or an already-read edge list.
    graph_id : str, optional
        Defaults to the file name without extensions.
    batch : int
        Events per JetStream message (1 = one message per event).

    Returns
    -------
    PublishResult
        ``published`` counts new events; ``duplicates`` the events already on the stream
        (skipped on resume or de-duplicated by JetStream).

    Raises
    ------
    EdgeListFormatError
        The file is missing, empty or malformed (the message names the line).
    """
    from alchemist.cim.publisher import PublishResult

    edges = source if isinstance(source, EdgeList) else read_edge_list(source)
    graph_id = graph_id or Path(edges.path).name.split(".")[0]
    plan = _plan(edges, graph_id)
    total = plan.kinds.size
    last = connection.last_event(graph_id)
    skipped = 0
    if last is not None:
        # Our ids are deterministic: if the stream's last event of this graph is one of ours,
        # every event up to it is stored already; resume after it.
        position = plan.position(last.event_id)
        if position is not None:
            skipped = position + 1
    if skipped >= total:
        return PublishResult(duplicates=total, last_sequence=last.sequence or 0)
    if batch == 1:
        records = edge_list_records(edges, graph_id, directed=directed, start=skipped)
        result = connection.publish_records(records, graph_id, batch=1, progress=progress, total=total - skipped)
    else:
        batches = edge_list_batches(edges, graph_id, batch=batch, directed=directed, start=skipped)
        result = connection.publish_batches(batches, graph_id, progress=progress, total=total - skipped)
    result.duplicates += skipped
    return result


def edge_list_table(edges: EdgeList, graph_id: str):
    """The ``node_added`` / ``edge_added`` events of :func:`edge_list_records` (all but
    ``graph_created``) as one Arrow table, one row per event, for ``Graph.apply_columns``:
    ``event_type``, ``event_id``, ``node_id``, ``edge_id``, ``source``, ``target``, ``timestamp``
    (Unix seconds)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    plan = _plan(edges, graph_id)
    n = len(edges)
    kinds, lines, nodes = plan.kinds[1:], plan.lines[1:], plan.nodes[1:]
    size = kinds.size
    is_edge = kinds == 2
    times = edges.third if edges.third is not None else np.zeros(n)
    names = pa.array(plan.node_names.tolist(), type=pa.string())

    def pick(values, index, where):
        """``values[index]`` where ``where``, null elsewhere (built by Arrow's take)."""
        return values.take(pa.array(index, type=pa.int64(), mask=~where))

    ids = np.ascontiguousarray(plan.ids[1:])
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
        "timestamp": pa.array(np.asarray(times, dtype=np.float64)[lines]),
    })


def import_edge_list(connection, source, graph_id: str | None = None, *, directed: bool = True):
    """Import an edge list as two events: ``graph_created`` and ``graph_imported``, which carries
    the CID of an Arrow IPC object (:func:`edge_list_table`) in the object store. A consumer
    resolves it and applies its rows column-wise; the graph equals that of a replay.

    Returns
    -------
    PublishResult
        ``published`` counts the events the import stands for (1 + nodes + lines).
    """
    import time

    import pyarrow as pa

    from alchemist.cim.publisher import PublishResult

    start = time.perf_counter()
    edges = source if isinstance(source, EdgeList) else read_edge_list(source)
    graph_id = graph_id or Path(edges.path).name.split(".")[0]
    table = edge_list_table(edges, graph_id)
    sink = pa.BufferOutputStream()
    # zstd-compressed buffers: about 40% of the plain size here, and readers decompress on the fly
    with pa.ipc.new_stream(sink, table.schema, options=pa.ipc.IpcWriteOptions(compression="zstd")) as writer:
        writer.write_table(table)
    object_cid = connection.objects.put(sink.getvalue().to_pybytes())
    plan = _plan(edges, graph_id)
    first = _graph_created(edges, graph_id, plan, directed)
    n_nodes = int((plan.kinds == 1).sum())
    imported = new_event("graph_imported", graph_id, {"object_cid": object_cid, "format": "arrow",
                                                      "nodes": n_nodes, "edges": len(edges)},
                         previous_cid=first.cid)
    result = connection.publish_many([first, imported], batch=1)
    events = 1 + n_nodes + len(edges)
    out = PublishResult(published=events if result.published else 0,
                        duplicates=0 if result.published else events, messages=result.messages,
                        last_sequence=result.last_sequence, seconds=time.perf_counter() - start)
    return out


# --------------------------------------------------------------------------- helpers
class _Plan:
    """Event ids, timestamps and first appearances of an edge list, computed vectorised.

    Events: ``graph_created`` (index 0), then per line a ``node_added`` for each endpoint seen
    for the first time (source first) and the line's ``edge_added``.
    """

    def __init__(self, edges: EdgeList, graph_id: str):
        import pandas as pd

        n = len(edges)
        ends = np.empty(2 * n, dtype=object)
        ends[0::2], ends[1::2] = edges.source, edges.target
        codes, uniques = pd.factorize(ends, sort=False)
        first = np.zeros(2 * n, dtype=bool)
        if n:
            first_pos = np.full(len(uniques), 2 * n, dtype=np.int64)
            np.minimum.at(first_pos, codes, np.arange(2 * n))
            first[first_pos] = True
        self.flags = first.reshape(-1, 2)
        cpairs = codes.reshape(-1, 2).astype(np.int64)
        self.node_names = np.asarray(uniques, dtype=object)
        self.source_codes, self.target_codes = cpairs[:, 0].copy(), cpairs[:, 1].copy()
        times = edges.third if edges.third is not None else np.zeros(n)
        per_line = 1 + self.flags.sum(axis=1)
        # kind (0 graph_created, 1 node_added, 2 edge_added), line and node of every event
        total = 1 + int(per_line.sum())
        self.kinds = np.full(total, 2, dtype=np.uint8)
        self.lines = np.zeros(total, dtype=np.int64)
        self.nodes = np.full(total, -1, dtype=np.int64)
        self.kinds[0] = 0
        if n:
            begin = 1 + np.concatenate([[0], np.cumsum(per_line)[:-1]])
            self.lines[1:] = np.repeat(np.arange(n), per_line)
            fa, fb = self.flags[:, 0], self.flags[:, 1]
            self.kinds[begin[fa]] = 1
            self.nodes[begin[fa]] = self.source_codes[fa]
            at_b = begin[fb] + fa[fb]
            self.kinds[at_b] = 1
            self.nodes[at_b] = self.target_codes[fb]
        event_times = times[self.lines] if n else np.zeros(1)
        ms = np.where(event_times > 0, np.round(event_times * 1000), 0).astype(np.int64)
        self.ids = _uuid7_many(ms, f"{graph_id}\0{_digest(edges)}\0".encode())  # (total, 36) ASCII
        self.stamps, self.stamps_offsets = _rfc3339_many(times)  # per line, as ASCII bytes
        self._event_ids: list[str] | None = None

    @property
    def event_ids(self) -> list[str]:
        if self._event_ids is None:
            text = self.ids.tobytes().decode("ascii")
            self._event_ids = [text[j:j + 36] for j in range(0, len(text), 36)]
        return self._event_ids

    def first_timestamp(self):
        """The time of the first line (what ``graph_created`` carries), 0 for an empty list."""
        if self.stamps_offsets.size < 2:
            return 0
        return self.stamps[:self.stamps_offsets[1]].tobytes().decode("ascii")

    def position(self, event_id: str) -> int | None:
        """Index of an event id, or None when it is not one of this plan's."""
        if len(event_id) != 36 or not event_id.isascii():
            return None
        hits = np.flatnonzero((self.ids == np.frombuffer(event_id.encode(), dtype=np.uint8)).all(axis=1))
        return int(hits[0]) if hits.size else None


def _graph_created(edges: EdgeList, graph_id: str, plan: _Plan, directed: bool) -> Event:
    """The ``graph_created`` event that opens a replay or an import of ``edges``."""
    name = Path(edges.path).name
    return new_event("graph_created", graph_id, {"name": name, "directed": directed, "properties": {"source": name}},
                     event_id=plan.ids[0].tobytes().decode("ascii"), timestamp=plan.first_timestamp(), validate=False)


_PLANS: dict[tuple[int, str], tuple[EdgeList, _Plan]] = {}


def _plan(edges: EdgeList, graph_id: str) -> _Plan:
    """The plan of the last edge list asked for (a replay asks several times), cached."""
    key = (id(edges), graph_id)
    cached = _PLANS.get(key)
    if cached is not None and cached[0] is edges:
        return cached[1]
    plan = _Plan(edges, graph_id)
    _PLANS.clear()
    _WIRES.clear()
    _PLANS[key] = (edges, plan)
    return plan


class _Wire(NamedTuple):
    plan: _Plan
    buffer: bytes  # every event's wire bytes, each followed by one ","
    offsets: np.ndarray  # (n + 1,) start of each event in ``buffer``
    kinds: list[int]
    cids: list[str]


_WIRES: dict[tuple[int, str, bool], _Wire] = {}


def _wire(edges: EdgeList, graph_id: str, directed: bool) -> _Wire:
    """All events of an edge list in their wire form, generated and CID-chained by one kernel."""
    key = (id(edges), graph_id, directed)
    plan = _plan(edges, graph_id)
    cached = _WIRES.get(key)
    if cached is not None and cached.plan is plan:
        return cached
    first = _graph_created(edges, graph_id, plan, directed)
    gid = _json(graph_id).encode()
    pieces = [b'{"event_id":"', b'","event_type":"', b'","aggregate_type":"graph","aggregate_id":' + gid +
              b',"correlation_id":"', b'","causation_id":"', b'","timestamp":"', b'","payload":',
              b'{"node_id":', b"}", b'{"edge_id":"e', b'","source":', b',"target":', b',"weight":1.0}',
              b',"cid":"', b'","previous_cid":"', b'"}', b'node_added', b'edge_added']
    piece_buf, piece_off = _pack(pieces)
    names_buf, names_off = _pack([_json(str(x)).encode() for x in plan.node_names])
    stamps_buf, stamps_off = plan.stamps, plan.stamps_offsets
    first_data = encode_event(first)
    buffer, offsets, cid_chars = _generate(
        plan.ids, plan.kinds, plan.lines, plan.nodes, plan.source_codes, plan.target_codes, stamps_buf, stamps_off,
        names_buf, names_off,
        piece_buf, piece_off, np.frombuffer(first_data, dtype=np.uint8),
        np.frombuffer(first.cid.encode(), dtype=np.uint8), _ALPHABET_ARRAY)
    text = cid_chars.tobytes().decode("ascii")
    cids = [text[j:j + 59] for j in range(0, len(text), 59)]
    wire = _Wire(plan, buffer.tobytes(), offsets, plan.kinds.tolist(), cids)
    _WIRES.clear()
    _WIRES[key] = wire
    return wire


def _pack(items: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """Concatenated bytes and their (n + 1,) offsets."""
    offsets = np.zeros(len(items) + 1, dtype=np.int64)
    if items:
        offsets[1:] = np.cumsum([len(x) for x in items])
    return np.frombuffer(b"".join(items), dtype=np.uint8).copy(), offsets


def _uuid7_many(ms: np.ndarray, key: bytes) -> np.ndarray:
    """UUIDv7s (RFC 9562 §5.7) for Unix-millisecond times, as (n, 36) ASCII bytes, with the
    random bits taken from a BLAKE3 extendable output of ``key`` (10 bytes per id): deterministic
    and distinct."""
    n = ms.shape[0]
    raw = np.empty((n, 16), dtype=np.uint8)
    t = ms.astype(">u8").view(np.uint8).reshape(n, 8)
    raw[:, :6] = t[:, 2:]
    raw[:, 6:] = np.frombuffer(blake3.blake3(key).digest(10 * n), dtype=np.uint8).reshape(n, 10)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x70
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    digits = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    hexed = np.empty((n, 32), dtype=np.uint8)
    hexed[:, 0::2], hexed[:, 1::2] = digits[raw >> 4], digits[raw & 15]
    out = np.full((n, 36), ord("-"), dtype=np.uint8)
    for a, b, c in ((0, 8, 0), (9, 13, 8), (14, 18, 12), (19, 23, 16), (24, 36, 20)):
        out[:, a:b] = hexed[:, c:c + b - a]
    return out


def _rfc3339_many(seconds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """RFC 3339 UTC strings of Unix times, as :func:`alchemist.events.rfc3339` formats them,
    concatenated as ASCII bytes with their (n + 1,) offsets (vectorised for whole seconds)."""
    from alchemist.events import rfc3339

    seconds = np.asarray(seconds, dtype=np.float64)
    n = seconds.size
    whole = np.isfinite(seconds) & (seconds == np.floor(seconds)) & (seconds >= 0) & (seconds < 253402300800)
    if whole.all():
        out = format_seconds(seconds.astype(np.int64))
        return out.reshape(-1), np.arange(n + 1, dtype=np.int64) * 20
    return _pack([rfc3339(int(s) if w else float(s)).encode() for s, w in zip(seconds.tolist(), whole.tolist())])


def _json(text: str) -> str:
    return msgspec.json.encode(text).decode()


def _digest(edges: EdgeList) -> str:
    h = blake3.blake3()
    h.update("\n".join(map(str, edges.source)).encode())
    h.update(b"\1")
    h.update("\n".join(map(str, edges.target)).encode())
    if edges.third is not None:
        h.update(edges.third.tobytes())
    return h.hexdigest()[:32]


# --------------------------------------------------------------------------- kernel
# piece numbers in the ``pieces`` table that _wire passes
_P_NODE_ADDED, _P_EDGE_ADDED = 15, 16


@njit(cache=True)
def _put(dst, pos, src, a, b):  # pragma: no cover - compiled
    for i in range(a, b):
        dst[pos] = src[i]
        pos += 1
    return pos


@njit(cache=True)
def _put_int(dst, pos, value):  # pragma: no cover - compiled
    digits = _digits(value)
    for i in range(digits - 1, -1, -1):
        dst[pos + i] = 48 + value % 10
        value //= 10
    return pos + digits


@njit(cache=True)
def _body(dst, pos, k, ids, kinds, lines, nodes, src_codes, dst_codes, stamps, stamps_off, names, names_off,
          pieces, po):  # pragma: no cover - compiled
    """Write event ``k``'s envelope up to and including its payload at ``dst[pos:]``; returns the end."""
    line = lines[k]
    pos = _put(dst, pos, pieces, po[0], po[1])
    pos = _put(dst, pos, ids[k], 0, 36)
    pos = _put(dst, pos, pieces, po[1], po[2])
    t = _P_NODE_ADDED if kinds[k] == 1 else _P_EDGE_ADDED
    pos = _put(dst, pos, pieces, po[t], po[t + 1])
    pos = _put(dst, pos, pieces, po[2], po[3])
    pos = _put(dst, pos, ids[k], 0, 36)
    pos = _put(dst, pos, pieces, po[3], po[4])
    pos = _put(dst, pos, ids[k], 0, 36)
    pos = _put(dst, pos, pieces, po[4], po[5])
    pos = _put(dst, pos, stamps, stamps_off[line], stamps_off[line + 1])
    pos = _put(dst, pos, pieces, po[5], po[6])
    if kinds[k] == 1:
        node = nodes[k]
        pos = _put(dst, pos, pieces, po[6], po[7])
        pos = _put(dst, pos, names, names_off[node], names_off[node + 1])
        pos = _put(dst, pos, pieces, po[7], po[8])
    else:
        u, v = src_codes[line], dst_codes[line]
        pos = _put(dst, pos, pieces, po[8], po[9])
        pos = _put_int(dst, pos, line)
        pos = _put(dst, pos, pieces, po[9], po[10])
        pos = _put(dst, pos, names, names_off[u], names_off[u + 1])
        pos = _put(dst, pos, pieces, po[10], po[11])
        pos = _put(dst, pos, names, names_off[v], names_off[v + 1])
        pos = _put(dst, pos, pieces, po[11], po[12])
    return pos


@njit(cache=True)
def _digits(value):  # pragma: no cover - compiled
    digits = 1
    while value >= 10:
        value //= 10
        digits += 1
    return digits


@njit(cache=True)
def _body_length(k, kinds, lines, nodes, src_codes, dst_codes, stamps_off, names_off, po):
    # pragma: no cover - compiled
    """The number of bytes :func:`_body` writes for event ``k``."""
    line = lines[k]
    t = _P_NODE_ADDED if kinds[k] == 1 else _P_EDGE_ADDED
    size = (po[6] - po[0]) + 3 * 36 + (po[t + 1] - po[t]) + (stamps_off[line + 1] - stamps_off[line])
    if kinds[k] == 1:
        node = nodes[k]
        return size + (po[8] - po[6]) + (names_off[node + 1] - names_off[node])
    u, v = src_codes[line], dst_codes[line]
    return size + (po[12] - po[8]) + _digits(line) + (names_off[u + 1] - names_off[u]) + (
        names_off[v + 1] - names_off[v])


@njit(cache=True)
def _generate(ids, kinds, lines, nodes, src_codes, dst_codes, stamps, stamps_off, names, names_off, pieces, po,
              first, first_cid, alphabet):  # pragma: no cover - compiled
    """Every event's wire bytes (each followed by ``,``), their offsets and their CIDs (n, 59).

    Event 0 is ``first`` (already encoded); event k > 0 is its body, then ``,"cid":"<cid>"`` and
    ``,"previous_cid":"<cid of k - 1>"}``, its CID being the BLAKE3 CID of the body followed by
    the ``previous_cid`` field alone (the envelope's content without ``cid``), computed in order.
    """
    n = kinds.size
    suffix = (po[13] - po[12]) + 59 + (po[14] - po[13]) + 59 + (po[15] - po[14])
    offsets = np.empty(n + 1, np.int64)
    offsets[0] = 0
    offsets[1] = first.size + 1
    for k in range(1, n):
        offsets[k + 1] = offsets[k] + _body_length(k, kinds, lines, nodes, src_codes, dst_codes, stamps_off,
                                                   names_off, po) + suffix + 1
    out = np.empty(offsets[n], np.uint8)
    cids = np.empty((n, 59), np.uint8)
    pos = _put(out, 0, first, 0, first.size)
    out[pos] = 44
    cids[0, :] = first_cid
    digest = np.empty((1, 32), np.uint8)
    cv = np.empty(8, np.uint32)
    block = np.empty(16, np.uint32)
    state = np.empty(16, np.uint32)
    stack = np.empty((54, 8), np.uint32)
    for k in range(1, n):
        start = offsets[k]
        body_end = _body(out, start, k, ids, kinds, lines, nodes, src_codes, dst_codes, stamps, stamps_off,
                         names, names_off, pieces, po)
        # the content, written in place after the body (the wire suffix, longer, overwrites it):
        # body + ,"previous_cid":"<previous>"}
        c = _put(out, body_end, pieces, po[13] + 1, po[14])
        c = _put(out, c, cids[k - 1], 0, 59)
        c = _put(out, c, pieces, po[14], po[15])
        _hash_into(out, start, c, digest, 0, cv, block, state, stack)
        _b32_cid_into(digest[0], alphabet, cids[k])
        # the wire form: body + ,"cid":"<cid>","previous_cid":"<previous>"} + separator
        pos = _put(out, body_end, pieces, po[12], po[13])
        pos = _put(out, pos, cids[k], 0, 59)
        pos = _put(out, pos, pieces, po[13], po[14])
        pos = _put(out, pos, cids[k - 1], 0, 59)
        pos = _put(out, pos, pieces, po[14], po[15])
        out[pos] = 44
    return out, offsets, cids
