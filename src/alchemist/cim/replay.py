"""Replay a SNAP-style timestamped edge list as CIM graph events.

Each line becomes one ``edge_added`` event (edge id ``e<line index>``, the line's timestamp);
a node appears with a ``node_added`` event just before its first edge; a ``graph_created``
event opens the stream. Event ids are UUIDv7s whose time field is the line's timestamp and whose
other bits are derived from the graph id, a digest of the file's content and the event's index,
so replaying the same file again produces the same ids: JetStream de-duplicates them inside its
window, the Graph skips ids it has applied, and a replay that finds its own events already on the
stream resumes after the last one instead of publishing them again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import blake3
import numpy as np

from alchemist.events import Event, new_event
from alchemist.events.ids import uuid7
from alchemist.graph.io import EdgeList, read_edge_list

__all__ = ["edge_list_events", "replay_edge_list", "count_events"]


def edge_list_events(edges: EdgeList, graph_id: str, *, directed: bool = True) -> Iterator[Event]:
    """The CIM events of an edge list, in order, with chained CIDs and deterministic ids.

    Parameters
    ----------
    edges : EdgeList
        From :func:`alchemist.read_edge_list`; its third column, when present, is the Unix time of
        each line (seconds).
    graph_id : str
        The aggregate id.
    directed : bool
        Recorded in the ``graph_created`` event.

    Yields
    ------
    Event
    """
    digest = _digest(edges)
    times = edges.third if edges.third is not None else np.zeros(len(edges))
    first_t = float(times[0]) if len(edges) else 0.0
    prefix = f"{graph_id}\0{digest}\0".encode()
    index = 0

    def make(event_type: str, payload: dict, t: float, previous: str | None) -> Event:
        nonlocal index
        ms = int(round(t * 1000)) if t > 0 else 0
        event_id = uuid7(ms, prefix + str(index).encode())
        index += 1
        ts = int(t) if float(t).is_integer() else float(t)
        return new_event(event_type, graph_id, payload, event_id=event_id, timestamp=ts,
                         previous_cid=previous, validate=False)

    previous = None
    event = make("graph_created", {"name": Path(edges.path).name, "directed": directed,
                                   "properties": {"source": Path(edges.path).name}}, first_t, previous)
    yield event
    previous = event.cid
    seen: set[str] = set()
    source, target = edges.source, edges.target
    for i in range(len(edges)):
        u, v, t = str(source[i]), str(target[i]), float(times[i])
        for node in (u, v):
            if node not in seen:
                seen.add(node)
                event = make("node_added", {"node_id": node}, t, previous)
                yield event
                previous = event.cid
        event = make("edge_added", {"edge_id": f"e{i}", "source": u, "target": v, "weight": 1.0}, t, previous)
        yield event
        previous = event.cid


def count_events(edges: EdgeList) -> int:
    """How many events :func:`edge_list_events` yields: 1 + distinct nodes + lines."""
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
    total = count_events(edges)
    last = connection.last_event(graph_id)
    events = edge_list_events(edges, graph_id, directed=directed)
    skipped = 0
    if last is not None:
        # Our ids are deterministic: if the stream's last event of this graph is one of ours,
        # every event up to it is stored already; resume after it.
        ids = edge_list_events(edges, graph_id, directed=directed)
        position = next((k for k, e in enumerate(ids) if e.event_id == last.event_id), None)
        if position is not None:
            skipped = position + 1
            events = _skip(events, skipped)
    if skipped >= total:
        return PublishResult(duplicates=total, last_sequence=last.sequence or 0)
    result = connection.publish_many(events, batch=batch, progress=progress, total=total - skipped)
    result.duplicates += skipped
    return result


def _skip(iterator: Iterator[Event], n: int) -> Iterator[Event]:
    for k, item in enumerate(iterator):
        if k >= n:
            yield item


def _digest(edges: EdgeList) -> str:
    h = blake3.blake3()
    h.update("\n".join(map(str, edges.source)).encode())
    h.update(b"\1")
    h.update("\n".join(map(str, edges.target)).encode())
    if edges.third is not None:
        h.update(edges.third.tobytes())
    return h.hexdigest()[:32]
