"""The seed's mutations (seed 000 §2): each publishes one CIM event (``importGraph`` the events of a
file) chained to the graph's last event, recording the principal as ``metadata.actor``.

Every mutation takes ``expectedVersion`` (the graph's ``version`` as the client last read it):
when given, the event is stored only if the graph is still at that version, and a stale one
answers the error ``VERSION_CONFLICT`` with ``expectedVersion`` and ``actualVersion`` in its
extensions — nothing is written. Each event is checked against the graph it will follow before it
is published (a node id that exists, an edge whose end is missing), so no event the graph would
refuse reaches the stream. A mutation answers once its event is stored and applied here, so the
answer (and any read after it, through any instance) shows the change.

``applyLayout`` answers at once with a :class:`~alchemist.gateway.graphql_api.types.LayoutJob`;
ForceAtlas2 runs in a worker thread, and its positions arrive as a ``layout_applied`` event
(``payload.job_id``) that ``graphUpdates`` delivers.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import tempfile
from pathlib import Path
from typing import Optional

import strawberry
from strawberry.types import Info

from alchemist.errors import DuplicateIdError, EdgeNotFoundError, GraphError, NodeNotFoundError
from alchemist.gateway.graphql_api.guards import authorize, with_timeout
from alchemist.gateway.graphql_api.store import Snapshot
from alchemist.gateway.graphql_api.types import (
    AddNodeInput,
    CreateEdgeInput,
    CreateGraphInput,
    Edge,
    Graph,
    GraphSource,
    ImportResult,
    LayoutAlgorithm,
    LayoutJob,
    LayoutStatus,
    Node,
    UpdateNodeInput,
    edge_items,
    node_items,
    split_id,
)

__all__ = ["Mutation", "graph_events", "FORMAT_SUFFIX"]

log = logging.getLogger("alchemist.gateway.graphql")

FORMAT_SUFFIX = {"edgelist": ".txt", "graphml": ".graphml", "gexf": ".gexf", "gml": ".gml", "node_link": ".json",
                 "json": ".json", "arrows": ".json"}
"""File suffix of each format ``importGraph`` reads (through :func:`alchemist.graph.read_graph`)."""


async def _append(info: Info, graph_id: str, event_type: str, payload: dict, expected: int | None, check=None):
    principal = authorize(info, graph_id, "write")
    store = info.context["store"]
    event = await store.append(graph_id, event_type, payload, actor=principal.subject, expected_version=expected,
                               check=check)
    await store.feed(graph_id, event.sequence)
    return Snapshot(graph_id, event.sequence)


def _absent_node(node_id: str):
    def check(graph):
        if graph is None:
            raise NodeNotFoundError("the graph has no events yet; createGraph first")
        if node_id in graph:
            raise DuplicateIdError(f"node {node_id!r} is already in graph {graph.graph_id!r}; use updateNode")
    return check


def _present_node(node_id: str):
    def check(graph):
        if graph is None or node_id not in graph:
            raise NodeNotFoundError(f"node {node_id!r} is not in the graph")
    return check


@strawberry.type
class Mutation:
    """Changes to the CIM's graphs, each an event on the stream."""

    @strawberry.mutation
    async def create_graph(self, info: Info, input: CreateGraphInput) -> Graph:
        """A new graph: a ``graph_created`` event (refused with VERSION_CONFLICT when the id exists)."""
        from alchemist.events.ids import uuid7

        graph_id = str(input.id or uuid7())
        payload = {"name": input.name, "directed": input.directed, "properties": input.properties or {}}
        snap = await _append(info, graph_id, "graph_created", payload, 0)
        return Graph(id=strawberry.ID(graph_id), snap=snap)

    @strawberry.mutation
    async def import_graph(self, info: Info, source: GraphSource) -> ImportResult:
        """A graph file (its text) as events of the new graph ``source.graphId`` (VERSION_CONFLICT
        when it exists): ``graph_created``, a ``node_added`` per node, an ``edge_added`` per edge,
        chained, in as few messages as fit, each expecting the sequence of the one before."""
        from alchemist.graph import read_graph

        graph_id = str(source.graph_id)
        principal = authorize(info, graph_id, "write")
        store, settings = info.context["store"], info.context["gateway"].settings
        suffix = FORMAT_SUFFIX.get(source.format)
        if suffix is None:
            raise GraphError(f"format {source.format!r} is not read here; use one of {', '.join(FORMAT_SUFFIX)} "
                             "(large or binary files: POST /api/v1/graphs/import)")

        def parse():
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp, "upload" + suffix)
                path.write_text(source.data, encoding="utf-8")
                fmt = None if source.format in ("json", "edgelist") else source.format
                return read_graph(path, directed=source.directed, graph_id=graph_id, format=fmt)

        graph = await with_timeout(settings, parse, what="reading the graph file")
        events = graph_events(graph, graph_id, principal.subject)
        first = await store.append(graph_id, "graph_created", events[0].payload, actor=principal.subject,
                                   expected_version=0)
        rest = chain(events[1:], first.cid)
        # each message expects the sequence of the one before: a writer in between ends the import
        # with VERSION_CONFLICT and the graph holds a prefix of the chain, never a fork
        stored = await with_timeout(settings, functools.partial(info.context["gateway"].connection.publish_chain,
                                                                expected_sequence=first.sequence), rest,
                                    what="publishing the imported events")
        version = max([first.sequence] + [int(e.sequence) for e in stored[-1:]])
        await store.feed(graph_id, version)
        return ImportResult(graph_id=strawberry.ID(graph_id), version=version, node_count=graph.number_of_nodes(),
                            edge_count=graph.number_of_edges(), events=len(events), format=source.format)

    @strawberry.mutation
    async def add_node(self, info: Info, graph_id: strawberry.ID, input: AddNodeInput,
                       expected_version: Optional[int] = None) -> Node:
        """A ``node_added`` event (BAD_USER_INPUT when the id is already a node of the graph)."""
        payload = {"node_id": str(input.id), "label": input.label, "labels": input.labels or [],
                   "properties": input.properties or {}}
        snap = await _append(info, graph_id, "node_added", payload, expected_version, _absent_node(str(input.id)))
        return await _node(info, snap, str(input.id))

    @strawberry.mutation
    async def update_node(self, info: Info, id: strawberry.ID, input: UpdateNodeInput,
                          graph_id: Optional[strawberry.ID] = None, expected_version: Optional[int] = None) -> Node:
        """A ``node_updated`` event: a new label and/or properties merged into the node's."""
        gid, node_id = split_id(id, graph_id)
        payload = {"node_id": node_id, "properties": input.properties or {}}
        if input.label is not None:
            payload["label"] = input.label
        snap = await _append(info, gid, "node_updated", payload, expected_version, _present_node(node_id))
        return await _node(info, snap, node_id)

    @strawberry.mutation
    async def remove_node(self, info: Info, id: strawberry.ID, graph_id: Optional[strawberry.ID] = None,
                          expected_version: Optional[int] = None) -> bool:
        """A ``node_removed`` event (the node's edges go with it)."""
        gid, node_id = split_id(id, graph_id)
        await _append(info, gid, "node_removed", {"node_id": node_id}, expected_version, _present_node(node_id))
        return True

    @strawberry.mutation
    async def create_edge(self, info: Info, input: CreateEdgeInput, expected_version: Optional[int] = None) -> Edge:
        """An ``edge_added`` event between two nodes of the graph (id generated when omitted)."""
        from alchemist.events.ids import uuid7

        gid, edge_id = str(input.graph_id), str(input.id or uuid7())
        payload = {"edge_id": edge_id, "source": str(input.source), "target": str(input.target),
                   "relationship": input.relationship, "weight": input.weight, "properties": input.properties or {}}

        def check(graph):
            for end in (payload["source"], payload["target"]):
                _present_node(end)(graph)
            if graph.has_edge_id(edge_id):
                raise DuplicateIdError(f"edge {edge_id!r} is already in graph {gid!r}")

        snap = await _append(info, gid, "edge_added", payload, expected_version, check)
        return (await info.context["store"].read(snap, lambda g: edge_items(g, snap, [edge_id])))[0]

    @strawberry.mutation
    async def remove_edge(self, info: Info, id: strawberry.ID, graph_id: Optional[strawberry.ID] = None,
                          expected_version: Optional[int] = None) -> bool:
        """An ``edge_removed`` event."""
        gid, edge_id = split_id(id, graph_id)

        def check(graph):
            if graph is None or not graph.has_edge_id(edge_id):
                raise EdgeNotFoundError(f"edge {edge_id!r} is not in graph {gid!r}")

        await _append(info, gid, "edge_removed", {"edge_id": edge_id}, expected_version, check)
        return True

    @strawberry.mutation
    async def apply_layout(self, info: Info, graph_id: strawberry.ID, algorithm: LayoutAlgorithm,
                           iterations: int = 100, seed: int = 0, expected_version: Optional[int] = None) -> LayoutJob:
        """Start a ForceAtlas2 layout of the graph as it is now, off the event loop; the positions
        arrive as a ``layout_applied`` event. With ``expectedVersion``, the job fails with a version
        conflict (and publishes nothing) when the graph changed before its event could be stored."""
        from alchemist.events.ids import uuid7

        principal = authorize(info, graph_id, "write")
        if not 1 <= iterations <= 10_000:
            raise GraphError(f"iterations {iterations}; give 1 to 10000")
        store = info.context["store"]
        snap = await store.snapshot(graph_id)
        if expected_version is not None and expected_version != snap.version:
            from alchemist.gateway.graphql_api.guards import VersionConflictError

            raise VersionConflictError(graph_id, expected_version, snap.version)
        job = LayoutJob(id=strawberry.ID(uuid7()), graph_id=strawberry.ID(graph_id), algorithm=algorithm,
                        iterations=iterations, status=LayoutStatus.QUEUED, version=snap.version)
        info.context["jobs"][str(job.id)] = job
        task = asyncio.get_running_loop().create_task(
            run_layout(store, job, snap, principal.subject, seed, expected_version))
        info.context["tasks"].add(task)
        task.add_done_callback(info.context["tasks"].discard)
        return LayoutJob(**{k: getattr(job, k) for k in ("id", "graph_id", "algorithm", "iterations", "status",
                                                         "version")})


async def _node(info: Info, snap: Snapshot, node_id: str) -> Node:
    return (await info.context["store"].read(snap, lambda g: node_items(g, snap, [node_id])))[0]


async def run_layout(store, job: LayoutJob, snap: Snapshot, actor: str, seed: int, expected: int | None) -> None:
    """Compute the layout of ``job`` in a worker thread and publish its ``layout_applied`` event.

    The job's ``status`` goes RUNNING, then DONE (with ``event_version``) or FAILED (with ``error``:
    a version conflict, positions too large for one message, ...).

    Parameters
    ----------
    store : GraphStore
    job : LayoutJob
        Updated in place.
    snap : Snapshot
        The graph version laid out.
    actor : str
    seed : int
    expected : int or None
        The ``expectedVersion`` the mutation was given.

    Returns
    -------
    None
    """
    from alchemist.layout import forceatlas2

    job.status = LayoutStatus.RUNNING
    try:
        graph = await store.read(snap, lambda g: g.at(version=g.version))  # a copy: the layout runs unlocked
        lin_log = job.algorithm is LayoutAlgorithm.FORCE_ATLAS2_LINLOG
        xy = await asyncio.to_thread(forceatlas2, graph, job.iterations, lin_log=lin_log, seed=seed)
        positions = {n: [round(float(x), 3), round(float(y), 3)] for n, (x, y) in zip(graph.node_ids, xy.tolist())}
        payload = {"algorithm": job.algorithm.value, "positions": positions, "job_id": str(job.id),
                   "iterations": job.iterations, "layout_of_version": snap.version}
        event = await store.append(job.graph_id, "layout_applied", payload, actor=actor, expected_version=expected)
        job.event_version, job.status = event.sequence, LayoutStatus.DONE
    except Exception as exc:  # noqa: BLE001 - the job reports it; nothing else waits for it
        log.warning("layout job %s of graph %r failed: %s", job.id, job.graph_id, exc)
        job.error, job.status = f"{type(exc).__name__}: {exc}", LayoutStatus.FAILED


def graph_events(graph, graph_id: str, actor: str) -> list:
    """The events that build ``graph`` as ``graph_id``: ``graph_created``, its nodes (label, labels
    absent, properties) in row order, its edges in edge order — unchained (see :func:`chain`).

    Parameters
    ----------
    graph : Graph
    graph_id : str
    actor : str
        ``metadata.actor`` of every event.

    Returns
    -------
    list of Event
    """
    from alchemist.events import new_event

    meta = {"actor": actor}
    out = [new_event("graph_created", graph_id, {"name": graph.name or graph_id, "directed": graph.directed},
                     metadata=meta)]
    for node_id in graph.node_ids:
        record = graph.node(node_id)
        record.pop("id")
        label = record.pop("label")
        out.append(new_event("node_added", graph_id, {"node_id": node_id, "label": label, "properties": record},
                             metadata=meta, validate=False))
    for edge_id in graph.edge_ids:
        record = graph.edge(edge_id)
        payload = {k: record.pop(k) for k in ("source", "target", "relationship", "weight")}
        record.pop("id")
        out.append(new_event("edge_added", graph_id, {"edge_id": edge_id, **payload, "properties": record},
                             metadata=meta, validate=False))
    return out


def chain(events: list, previous_cid: str) -> list:
    """The events again, each with ``previous_cid`` the CID of the one before (the first after
    ``previous_cid``), their CIDs computed again.

    Parameters
    ----------
    events : list of Event
    previous_cid : str

    Returns
    -------
    list of Event
    """
    import msgspec

    out = []
    for event in events:
        linked = msgspec.structs.replace(event, previous_cid=previous_cid)
        linked = msgspec.structs.replace(linked, cid=linked.compute_cid())
        out.append(linked)
        previous_cid = linked.cid
    return out
