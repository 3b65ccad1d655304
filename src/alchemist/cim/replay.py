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

from alchemist.events import Event, decode_event, encode_event, new_event
from alchemist.events.cid import cid_from_digest
from alchemist.graph.io import EdgeList, read_edge_list

__all__ = [
    "edge_list_events", "edge_list_records", "replay_edge_list", "count_events", "WireEvent", "edge_list_table",
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
    plan = _plan(edges, graph_id)
    ids, stamps, news = plan.event_ids, plan.timestamps, plan.new_nodes
    gid = _json(graph_id)
    first = new_event("graph_created", graph_id, {"name": Path(edges.path).name, "directed": directed,
                                                  "properties": {"source": Path(edges.path).name}},
                      event_id=ids[0], timestamp=stamps[0] if len(stamps) else 0, validate=False)
    if start <= 0:
        yield WireEvent(first.event_id, first.event_type, first.cid, encode_event(first))
    previous = first.cid
    head = '{"event_id":"%s","event_type":"%s","aggregate_type":"graph","aggregate_id":' + gid + \
        ',"correlation_id":"%s","causation_id":"%s","timestamp":"%s","payload":'
    node_payload = '{"node_id":%s}'
    edge_payload = '{"edge_id":"e%d","source":%s,"target":%s,"weight":1.0}'
    b3 = blake3.blake3
    encode_cid = cid_from_digest
    names = [_json(str(x)) for x in plan.node_names]
    src_codes, dst_codes = plan.source_codes.tolist(), plan.target_codes.tolist()
    tail = ',"previous_cid":"' + previous + '"}'
    k = 1
    for i in range(len(edges)):
        ts = stamps[i]
        for node in news[i]:
            eid = ids[k]
            body = (head % (eid, "node_added", eid, eid, ts)) + (node_payload % names[node])
            previous = encode_cid(b3((body + tail).encode()).digest())
            if k >= start:
                yield WireEvent(eid, "node_added", previous, (body + ',"cid":"' + previous + '"' + tail).encode())
            tail = ',"previous_cid":"' + previous + '"}'
            k += 1
        eid = ids[k]
        body = (head % (eid, "edge_added", eid, eid, ts)) + (edge_payload % (i, names[src_codes[i]],
                                                                               names[dst_codes[i]]))
        previous = encode_cid(b3((body + tail).encode()).digest())
        if k >= start:
            yield WireEvent(eid, "edge_added", previous, (body + ',"cid":"' + previous + '"' + tail).encode())
        tail = ',"previous_cid":"' + previous + '"}'
        k += 1


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
    from alchemist.cim.connection import PublishResult

    edges = source if isinstance(source, EdgeList) else read_edge_list(source)
    graph_id = graph_id or Path(edges.path).name.split(".")[0]
    plan = _plan(edges, graph_id)
    total = len(plan.event_ids)
    last = connection.last_event(graph_id)
    skipped = 0
    if last is not None:
        # Our ids are deterministic: if the stream's last event of this graph is one of ours,
        # every event up to it is stored already; resume after it.
        position = plan.position.get(last.event_id)
        if position is not None:
            skipped = position + 1
    if skipped >= total:
        return PublishResult(duplicates=total, last_sequence=last.sequence or 0)
    records = edge_list_records(edges, graph_id, directed=directed, start=skipped)
    result = connection.publish_records(records, graph_id, batch=batch, progress=progress, total=total - skipped)
    result.duplicates += skipped
    return result


def edge_list_table(edges: EdgeList, graph_id: str):
    """The ``node_added`` / ``edge_added`` events of :func:`edge_list_records` (all but
    ``graph_created``) as one Arrow table, one row per event, for ``Graph.apply_columns``:
    ``event_type``, ``event_id``, ``node_id``, ``edge_id``, ``source``, ``target``, ``timestamp``
    (Unix seconds)."""
    import pyarrow as pa

    plan = _plan(edges, graph_id)
    n = len(edges)
    per_line = np.array([len(x) for x in plan.new_nodes], dtype=np.int64)
    size = int(per_line.sum()) + n
    is_edge = np.zeros(size, dtype=bool)
    is_edge[np.cumsum(per_line + 1) - 1] = True
    line = np.repeat(np.arange(n), per_line + 1)
    times = edges.third if edges.third is not None else np.zeros(n)
    new_codes = [c for group in plan.new_nodes for c in group]
    node_id = np.full(size, None, dtype=object)
    node_id[~is_edge] = plan.node_names[np.asarray(new_codes, dtype=np.int64)] if new_codes else []
    src = np.full(size, None, dtype=object)
    dst = np.full(size, None, dtype=object)
    eid = np.full(size, None, dtype=object)
    src[is_edge] = plan.node_names[plan.source_codes]
    dst[is_edge] = plan.node_names[plan.target_codes]
    eid[is_edge] = [f"e{i}" for i in range(n)]
    kinds = np.where(is_edge, "edge_added", "node_added")
    return pa.table({
        "event_type": pa.array(kinds, type=pa.string()),
        "event_id": pa.array(plan.event_ids[1:], type=pa.string()),
        "node_id": pa.array(node_id.tolist(), type=pa.string()),
        "edge_id": pa.array(eid.tolist(), type=pa.string()),
        "source": pa.array(src.tolist(), type=pa.string()),
        "target": pa.array(dst.tolist(), type=pa.string()),
        "timestamp": pa.array(np.asarray(times, dtype=np.float64)[line]),
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

    from alchemist.cim.connection import PublishResult

    start = time.perf_counter()
    edges = source if isinstance(source, EdgeList) else read_edge_list(source)
    graph_id = graph_id or Path(edges.path).name.split(".")[0]
    table = edge_list_table(edges, graph_id)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    object_cid = connection.objects.put(sink.getvalue().to_pybytes())
    plan = _plan(edges, graph_id)
    first = new_event("graph_created", graph_id, {"name": Path(edges.path).name, "directed": directed,
                                                  "properties": {"source": Path(edges.path).name}},
                      event_id=plan.event_ids[0], timestamp=plan.timestamps[0] if plan.timestamps else 0,
                      validate=False)
    n_nodes = int(sum(len(x) for x in plan.new_nodes))
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
class _Plan(NamedTuple):
    event_ids: list[str]
    timestamps: list[str]
    new_nodes: list[tuple[int, ...]]
    node_names: np.ndarray
    source_codes: np.ndarray
    target_codes: np.ndarray
    position: dict[str, int]


_PLANS: dict[tuple[int, str], _Plan] = {}


def _plan(edges: EdgeList, graph_id: str) -> _Plan:
    """Event ids, timestamps and first appearances of an edge list, computed vectorised."""
    key = (id(edges), graph_id)
    cached = _PLANS.get(key)
    if cached is not None:
        return cached
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
    flags = first.reshape(-1, 2)
    cpairs = codes.reshape(-1, 2)
    new_nodes = [((a,) if fa else ()) + ((b,) if fb else ()) for (a, b), (fa, fb) in
                 zip(cpairs.tolist(), flags.tolist())]
    times = edges.third if edges.third is not None else np.zeros(n)
    per_line = 1 + flags.sum(axis=1)
    line_of_event = np.concatenate([[0], np.repeat(np.arange(n), per_line)]) if n else np.zeros(1, np.int64)
    event_times = times[line_of_event] if n else np.zeros(1)
    ms = np.where(event_times > 0, np.round(event_times * 1000), 0).astype(np.int64)
    ids = _uuid7_many(ms, f"{graph_id}\0{_digest(edges)}\0".encode())
    stamps = _rfc3339_many(times)
    plan = _Plan(ids, stamps, new_nodes, np.asarray(uniques, dtype=object), cpairs[:, 0].astype(np.int64),
                 cpairs[:, 1].astype(np.int64), {e: i for i, e in enumerate(ids)})
    _PLANS.clear()
    _PLANS[key] = plan
    return plan


def _uuid7_many(ms: np.ndarray, key: bytes) -> list[str]:
    """UUIDv7 strings (RFC 9562 §5.7) for Unix-millisecond times, with the random bits taken from
    a BLAKE3 extendable output of ``key`` (10 bytes per id): deterministic and distinct."""
    n = ms.shape[0]
    raw = np.empty((n, 16), dtype=np.uint8)
    t = ms.astype(">u8").view(np.uint8).reshape(n, 8)
    raw[:, :6] = t[:, 2:]
    raw[:, 6:] = np.frombuffer(blake3.blake3(key).digest(10 * n), dtype=np.uint8).reshape(n, 10)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x70
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    h = raw.tobytes().hex()
    return [f"{h[j:j + 8]}-{h[j + 8:j + 12]}-{h[j + 12:j + 16]}-{h[j + 16:j + 20]}-{h[j + 20:j + 32]}"
            for j in range(0, 32 * n, 32)]


def _rfc3339_many(seconds: np.ndarray) -> list[str]:
    """RFC 3339 UTC strings of Unix times, as :func:`alchemist.events.rfc3339` formats them."""
    from alchemist.events import rfc3339

    seconds = np.asarray(seconds, dtype=np.float64)
    whole = np.isfinite(seconds) & (seconds == np.floor(seconds)) & (seconds >= 0) & (seconds < 253402300800)
    if whole.all():
        text = np.datetime_as_string(seconds.astype(np.int64).astype("datetime64[s]"), unit="s")
        return [s + "Z" for s in text.tolist()]
    return [rfc3339(int(s) if w else float(s)) for s, w in zip(seconds.tolist(), whole.tolist())]


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
