"""Publishing an edge list to the CIM: a replay (one event per line) or an import (one object).

The events themselves come from :mod:`alchemist.events.wire`, which generates their wire bytes
chunk by chunk with deterministic ids; this module sends them. A replay that finds its own events
already on the stream resumes after the last one instead of publishing them again. Memory is
bounded by two settings, not by the file: ``chunk`` (events generated at a time) and
``window_bytes`` (bytes awaiting their acknowledgement).

The generator's names are re-exported here (``edge_list_records``, ``edge_list_events``, ...) for
existing callers.
"""

from __future__ import annotations

import time
from pathlib import Path

from alchemist.events import new_event
from alchemist.events.wire import (
    DEFAULT_CHUNK,
    WireEvent,
    WirePlan,
    count_events,
    edge_list_batches,
    edge_list_events,
    edge_list_records,
    edge_list_table,
    plan_edge_file,
    plan_edge_list,
)
from alchemist.graph.io import EdgeList, read_edge_list

__all__ = [
    "edge_list_events", "edge_list_records", "edge_list_batches",
    "replay_edge_list", "count_events", "WireEvent", "edge_list_table",
    "import_edge_list",
]


def replay_edge_list(connection, source, graph_id: str | None = None, *, batch: int = 1000,
                     progress: bool = False, directed: bool = True, wait: float | None = None,
                     chunk: int = DEFAULT_CHUNK, window_bytes: int | None = None):
    """Publish an edge list file to the CIM as graph events, resuming where a previous replay of
    the same file stopped.

    Parameters
    ----------
    connection : Connection
    source : str, Path, EdgeList or WirePlan
        The file (plain or gzipped SNAP edge list: read in blocks by
        :func:`~alchemist.events.wire.plan_edge_file` when it has the common form, else whole),
        an already-read edge list, or the plan of one.
    graph_id : str, optional
        Defaults to the file name without extensions (a plan's own graph id).
    batch : int
        Events per JetStream message (1 = one message per event).
    progress : bool or callable
        A progress bar (or callback) over the events acknowledged.
    directed : bool
        Recorded in the ``graph_created`` event.
    wait : float, optional
        Seconds to wait for an absent server per outage before the rest goes to the outbox
        (:data:`~alchemist.cim.publisher.DEFAULT_WAIT` by default).
    chunk : int
        Events generated at a time.
    window_bytes : int, optional
        Bytes awaiting acknowledgement at most (:data:`~alchemist.cim.publisher.WINDOW_BYTES`).

    Returns
    -------
    PublishResult
        ``published`` counts new events; ``duplicates`` the events already on the stream
        (skipped on resume or de-duplicated by JetStream); ``queued`` the events left in the
        outbox (``result.complete`` is False then).

    Raises
    ------
    EdgeListFormatError
        The file is missing, empty or malformed (the message names the line).
    ValueError
        ``batch`` is smaller than 1.

    Notes
    -----
    Cost: one ``$JS.API.STREAM.MSG.GET`` (the graph's last event: where to resume), then one
    JetStream publish per ``batch`` events on ``<prefix>events.<graph>.events_batch`` (headers
    ``Nats-Msg-Id``: the batch id, and ``Cim-Event-Count``), or per event on
    ``<prefix>events.<graph>.<event type>`` with ``batch=1``; acknowledgements are awaited
    asynchronously, at most ``window_bytes`` bytes in flight. Event ids are deterministic, so
    JetStream's duplicate window and the resume make a replay idempotent.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import alchemist
    >>> tmp = tempfile.mkdtemp()
    >>> path = pathlib.Path(tmp, "g.txt")
    >>> _ = path.write_text("1 2 100\\n2 3 200\\n3 1 300\\n")
    >>> connection = alchemist.connect(data_dir=tmp + "/jetstream", outbox=tmp + "/outbox.sqlite")
    >>> result = replay_edge_list(connection, path, batch=2)
    >>> result.published, result.messages, result.complete
    (7, 4, True)
    >>> replay_edge_list(connection, path, batch=2).duplicates  # resumed after the last: nothing sent
    7
    >>> connection.close()

    A large file, from the command line: ``alchemist replay CollegeMsg.txt.gz --batch 1000``.
    """
    from alchemist.cim.publisher import PublishResult

    if batch < 1:
        raise ValueError(f"batch={batch}; it must be at least 1")
    plan = _plan_of(source, graph_id)
    graph_id = plan.graph_id
    total = plan.total
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
    options = {"progress": progress, "total": total - skipped, "wait": wait, "window_bytes": window_bytes}
    if batch == 1:
        records = edge_list_records(plan, graph_id, directed=directed, start=skipped, chunk=chunk)
        result = connection.publish_records(records, graph_id, batch=1, **options)
    else:
        batches = edge_list_batches(plan, graph_id, batch=batch, directed=directed, start=skipped, chunk=chunk)
        result = connection.publish_batches(batches, graph_id, **options)
    result.duplicates += skipped
    return result


def import_edge_list(connection, source, graph_id: str | None = None, *, directed: bool = True,
                     wait: float | None = None):
    """Import an edge list as two events: ``graph_created`` and ``graph_imported``, which carries
    the CID of an Arrow IPC object (:func:`~alchemist.events.wire.edge_list_table`) in the object
    store. A consumer resolves it and applies its rows column-wise; the graph equals that of a
    replay.

    Parameters
    ----------
    connection : Connection
    source : str, Path or EdgeList
    graph_id : str, optional
        Defaults to the file name without extensions.
    directed : bool
    wait : float, optional
        Seconds to wait for an absent server before the two events go to the outbox.

    Returns
    -------
    PublishResult
        ``published`` counts the events the import stands for (1 + nodes + lines); ``queued``
        counts them when the two events went to the outbox.

    Raises
    ------
    EdgeListFormatError
        The file is missing, empty or malformed.

    Notes
    -----
    Cost: the object's put (one metadata request, then one acknowledged publish per 512 KiB of
    zstd-compressed Arrow IPC; see :meth:`ObjectStore.put <alchemist.cim.objects.ObjectStore.put>`)
    and two event publishes; the consumer gets the object once and applies its rows
    column-wise.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import alchemist
    >>> tmp = tempfile.mkdtemp()
    >>> path = pathlib.Path(tmp, "g.txt")
    >>> _ = path.write_text("1 2 100\\n2 3 200\\n3 1 300\\n")
    >>> connection = alchemist.connect(data_dir=tmp + "/jetstream", outbox=tmp + "/outbox.sqlite")
    >>> import_edge_list(connection, path).published
    7
    >>> [e.event_type for e in connection.events("g")]
    ['graph_created', 'graph_imported']
    >>> connection.graph("g", live=False)  # the same graph as a replay
    <alchemist.Graph 'g': 3 nodes, 3 edges, directed, version 7>
    >>> connection.close()
    """
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
    del table
    object_cid = connection.objects.put(sink.getvalue().to_pybytes())
    plan = plan_edge_list(edges, graph_id)
    first = plan.graph_created(directed)
    imported = new_event("graph_imported", graph_id, {"object_cid": object_cid, "format": "arrow",
                                                      "nodes": plan.node_count, "edges": len(edges)},
                         previous_cid=first.cid)
    result = connection.publish_many([first, imported], batch=1, wait=wait)
    events = 1 + plan.node_count + len(edges)
    stored = not result.queued
    return PublishResult(published=events if stored and result.published else 0,
                         duplicates=events if stored and not result.published else 0, messages=result.messages,
                         last_sequence=result.last_sequence, seconds=time.perf_counter() - start,
                         queued=0 if stored else events)


def _plan_of(source, graph_id: str | None) -> WirePlan:
    """The plan of what :func:`replay_edge_list` was given (a file is read in blocks when it can be)."""
    if isinstance(source, WirePlan):
        if graph_id not in (None, source.graph_id):
            raise ValueError(f"graph_id={graph_id!r} but the plan was made for {source.graph_id!r}; plan the edge list "
                             "again with this graph id")
        return source
    if not isinstance(source, EdgeList):
        plan = plan_edge_file(source, graph_id)
        if plan is not None:
            return plan
        source = read_edge_list(source)  # the uncommon forms, and the errors naming the bad line
    return plan_edge_list(source, graph_id or Path(source.path).name.split(".")[0])
