"""The GraphQL types of the seed's schema (seed 000 §2): graphs, nodes, edges, paths, statistics,
clusters, layout jobs, imports, the inputs of the mutations and the events of the subscriptions.

Ids: a node's ``id`` is global, ``"<graph id>/<node id>"`` (split at the first ``/``), so that
``node(id:)``, ``updateNode(id:)`` and ``removeNode(id:)`` need no graph argument, as in the seed;
``nodeId`` is the id inside its graph. Edges likewise (``edgeId``). Pages are Relay connections
(``edges { cursor node }``, ``pageInfo``, ``totalCount``), with ``first`` limited by the gateway's
``max_page_size``; a cursor is opaque (an offset in the graph's row order, or a graph id).
"""

from __future__ import annotations

import base64
import enum
from typing import Any, Optional

import numpy as np
import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from alchemist.errors import GraphError, QueryRejectedError
from alchemist.gateway.graphql_api.guards import authorize, check_page
from alchemist.gateway.graphql_api.store import Snapshot

__all__ = ["Graph", "Node", "Edge", "Path", "GraphStatistics", "DegreeSummary", "Cluster", "LayoutJob",
           "ImportResult", "GraphUpdate", "AIInsight", "CollaboratorEvent", "PageInfo", "GraphConnection",
           "GraphEdge", "NodeConnection", "NodeEdge", "EdgeConnection", "EdgeEdge", "Position", "Direction",
           "ClusterAlgorithm", "LayoutAlgorithm", "LayoutStatus", "CreateGraphInput", "AddNodeInput",
           "UpdateNodeInput", "CreateEdgeInput", "GraphSource", "GraphFilter", "NodeFilter", "PaginationInput",
           "global_id", "split_id", "encode_cursor", "decode_cursor", "node_items", "edge_items"]


# --------------------------------------------------------------------------- ids and cursors
def global_id(graph_id: str, local_id: str) -> str:
    """The global id of a node or edge: ``"<graph id>/<local id>"``.

    Examples
    --------
    >>> global_id("g1", "a/b"), split_id("g1/a/b")
    ('g1/a/b', ('g1', 'a/b'))
    """
    return f"{graph_id}/{local_id}"


def split_id(value: str, graph_id: str | None = None) -> tuple[str, str]:
    """``(graph id, local id)`` of a global id, or of a local id when ``graph_id`` is given.

    Raises
    ------
    GraphError
        A global id without ``/`` and no ``graph_id``.
    """
    if graph_id is not None:
        return graph_id, value
    head, sep, tail = str(value).partition("/")
    if not sep or not head or not tail:
        raise GraphError(f"id {value!r} is not a global id '<graph id>/<id>'; pass graphId with a local id")
    return head, tail


def encode_cursor(kind: str, value: Any) -> str:
    """An opaque cursor (base64 of ``"<kind>:<value>"``)."""
    return base64.urlsafe_b64encode(f"{kind}:{value}".encode()).decode()


def decode_cursor(cursor: str | None, kind: str) -> str | None:
    """The value of a cursor made by :func:`encode_cursor` (None for None).

    Raises
    ------
    QueryRejectedError
        A cursor this field did not make.
    """
    if cursor is None:
        return None
    try:
        found, _, value = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        found, value = "", ""
    if found != kind:
        raise QueryRejectedError(f"after: {cursor!r} is not a cursor of this list; pass an endCursor it returned")
    return value


# --------------------------------------------------------------------------- enums and inputs
@strawberry.enum
class Direction(enum.Enum):
    """Which edges of a directed graph to follow (an undirected graph ignores it)."""
    OUT = "out"
    IN = "in"
    BOTH = "both"


@strawberry.enum
class ClusterAlgorithm(enum.Enum):
    """Louvain modularity communities (Blondel et al. 2008), or (strongly) connected components."""
    LOUVAIN = "louvain"
    CONNECTED_COMPONENTS = "connected_components"
    STRONGLY_CONNECTED_COMPONENTS = "strongly_connected_components"


@strawberry.enum
class LayoutAlgorithm(enum.Enum):
    """ForceAtlas2 (Jacomy et al. 2014), with linear or LinLog attraction."""
    FORCE_ATLAS2 = "forceatlas2"
    FORCE_ATLAS2_LINLOG = "forceatlas2_linlog"


@strawberry.enum
class LayoutStatus(enum.Enum):
    """Where a layout job is: its result arrives as a ``layout_applied`` event once DONE."""
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


@strawberry.input
class PaginationInput:
    """A page: at most ``first`` items after the cursor ``after``."""
    first: Optional[int] = None
    after: Optional[str] = None


@strawberry.input
class GraphFilter:
    """Graphs whose id (or ``graph_created`` name) contains the text, case-insensitively."""
    id_contains: Optional[str] = None
    name_contains: Optional[str] = None


@strawberry.input
class NodeFilter:
    """Nodes with this label, whose id contains the text, and whose properties equal these values."""
    label: Optional[str] = None
    id_contains: Optional[str] = None
    properties: Optional[JSON] = None


@strawberry.input
class CreateGraphInput:
    """A new graph (a ``graph_created`` event); the id is generated (UUIDv7) when omitted."""
    id: Optional[strawberry.ID] = None
    name: str = ""
    directed: bool = False
    properties: Optional[JSON] = None


@strawberry.input
class AddNodeInput:
    """A new node (a ``node_added`` event): its id in the graph, label and JSON properties."""
    id: strawberry.ID
    label: str = ""
    labels: Optional[list[str]] = None
    properties: Optional[JSON] = None


@strawberry.input
class UpdateNodeInput:
    """A node's new label (unchanged when null) and properties merged into its own."""
    label: Optional[str] = None
    properties: Optional[JSON] = None


@strawberry.input
class CreateEdgeInput:
    """A new edge (an ``edge_added`` event); ``source``/``target`` are node ids of ``graphId``."""
    graph_id: strawberry.ID
    source: strawberry.ID
    target: strawberry.ID
    id: Optional[strawberry.ID] = None
    relationship: str = ""
    weight: float = 1.0
    properties: Optional[JSON] = None


@strawberry.input
class GraphSource:
    """A graph file to import: its text and format (edgelist, graphml, gexf, gml, node_link, arrows,
    json); it becomes ``graphId`` (which must not exist yet)."""
    graph_id: strawberry.ID
    data: str
    format: str = "edgelist"
    directed: bool = False


# --------------------------------------------------------------------------- plain results
@strawberry.type
class PageInfo:
    """Relay page information."""
    has_next_page: bool
    has_previous_page: bool
    start_cursor: Optional[str]
    end_cursor: Optional[str]


@strawberry.type
class Position:
    """A node's position from the last ``layout_applied`` event (layout units)."""
    x: float
    y: float


@strawberry.type
class DegreeSummary:
    """Summary of a degree distribution."""
    min: float
    max: float
    mean: float
    median: float
    std: float
    p99: float


@strawberry.type
class GraphStatistics:
    """Sizes, density and degrees of a graph (:func:`alchemist.graph.degree_statistics`), and its
    number of weakly connected components."""
    graph_id: strawberry.ID
    version: int
    node_count: int
    edge_count: int
    density: float
    self_loops: int
    isolated: int
    directed: bool
    components: int
    degree: Optional[DegreeSummary]
    in_degree: Optional[DegreeSummary]
    out_degree: Optional[DegreeSummary]


@strawberry.type
class Cluster:
    """One cluster: its number (0 = largest), size and members (node ids, the first ``first``)."""
    id: int
    size: int
    modularity: Optional[float]
    member_ids: strawberry.Private[list]

    @strawberry.field
    def members(self, info: Info, first: Optional[int] = None) -> list[str]:
        """Node ids of the cluster, at most ``first`` (``max_page_size`` at most)."""
        return self.member_ids[:check_page(first, info.context["gateway"].settings)]


@strawberry.type
class LayoutJob:
    """A layout computed off the event loop; its positions arrive as a ``layout_applied`` event
    (``payload.job_id`` is this id) at ``eventVersion``."""
    id: strawberry.ID
    graph_id: strawberry.ID
    algorithm: LayoutAlgorithm
    iterations: int
    status: LayoutStatus
    version: int
    event_version: Optional[int] = None
    error: Optional[str] = None


@strawberry.type
class ImportResult:
    """What an import stored: the graph, its version and its size."""
    graph_id: strawberry.ID
    version: int
    node_count: int
    edge_count: int
    events: int
    format: str


@strawberry.type
class GraphUpdate:
    """One event of a graph as it lands on the CIM (``actor`` from its metadata)."""
    graph_id: strawberry.ID
    event_id: str
    event_type: str
    version: int
    timestamp: str
    actor: Optional[str]
    cid: str
    payload: JSON


@strawberry.type
class AIInsight:
    """An insight an agent published on ``ai.insights.graph`` about this graph."""
    insight_id: str
    graph_id: strawberry.ID
    agent: str
    kind: str
    result: Optional[JSON]


@strawberry.type
class CollaboratorEvent:
    """Presence, cursor or selection of a collaborator (the collaboration channel's message)."""
    graph_id: strawberry.ID
    kind: str
    user: Optional[str]
    payload: JSON


# --------------------------------------------------------------------------- graph items
@strawberry.type
class Node:
    """A node of a graph at a version."""
    id: strawberry.ID
    node_id: str
    graph_id: strawberry.ID
    label: str
    properties: JSON
    degree: int
    position: Optional[Position]
    version: int
    snap: strawberry.Private[Snapshot]

    @strawberry.field
    async def neighbors(self, info: Info, first: Optional[int] = None,
                        direction: Direction = Direction.BOTH) -> list["Node"]:
        """The node's neighbours (row order), at most ``first``."""
        n = check_page(first, info.context["gateway"].settings)
        authorize(info, self.graph_id, "read")
        return await info.context["store"].read(
            self.snap, lambda g: node_items(g, self.snap, g.neighbors(self.node_id, direction=direction.value)[:n]))


@strawberry.type
class Edge:
    """An edge of a graph at a version."""
    id: strawberry.ID
    edge_id: str
    graph_id: strawberry.ID
    source_id: str
    target_id: str
    relationship: str
    weight: float
    properties: JSON
    version: int
    snap: strawberry.Private[Snapshot]

    @strawberry.field
    async def source(self, info: Info) -> Node:
        """The edge's source node."""
        return (await info.context["store"].read(self.snap, lambda g: node_items(g, self.snap, [self.source_id])))[0]

    @strawberry.field
    async def target(self, info: Info) -> Node:
        """The edge's target node."""
        return (await info.context["store"].read(self.snap, lambda g: node_items(g, self.snap, [self.target_id])))[0]


@strawberry.type
class Path:
    """A shortest path: its nodes in order, hops and (weighted search) total weight."""
    graph_id: strawberry.ID
    version: int
    node_ids: list[str]
    length: int
    total_weight: Optional[float]
    snap: strawberry.Private[Snapshot]

    @strawberry.field
    async def nodes(self, info: Info) -> list[Node]:
        """The path's nodes, source first."""
        return await info.context["store"].read(self.snap, lambda g: node_items(g, self.snap, self.node_ids))


@strawberry.type
class NodeEdge:
    """A node in a page, with its cursor."""
    cursor: str
    node: Node


@strawberry.type
class NodeConnection:
    """A page of nodes."""
    edges: list[NodeEdge]
    page_info: PageInfo
    total_count: int


@strawberry.type
class EdgeEdge:
    """An edge in a page, with its cursor."""
    cursor: str
    node: Edge


@strawberry.type
class EdgeConnection:
    """A page of edges."""
    edges: list[EdgeEdge]
    page_info: PageInfo
    total_count: int


@strawberry.type
class Graph:
    """A graph of the CIM at a version (the latest, or the one a time-travel query asked for)."""
    id: strawberry.ID
    snap: strawberry.Private[Snapshot]
    facts: strawberry.Private[Optional[dict]] = None

    @strawberry.field
    def version(self) -> int:
        """Stream sequence of the graph's last event included: pass it as ``expectedVersion``."""
        return self.snap.version

    async def _facts(self, info: Info) -> dict:
        if self.facts is None:
            def read(g):
                return {"name": g.name, "directed": g.directed, "node_count": g.number_of_nodes(),
                        "edge_count": g.number_of_edges(), "event_count": g.version, "updated_at": g.last_timestamp}
            self.facts = await info.context["store"].read(self.snap, read)
        return self.facts

    @strawberry.field
    async def name(self, info: Info) -> str:
        """The name its ``graph_created`` event gave."""
        return (await self._facts(info))["name"]

    @strawberry.field
    async def directed(self, info: Info) -> bool:
        """Whether its edges are directed."""
        return (await self._facts(info))["directed"]

    @strawberry.field
    async def node_count(self, info: Info) -> int:
        """Live nodes."""
        return (await self._facts(info))["node_count"]

    @strawberry.field
    async def edge_count(self, info: Info) -> int:
        """Live edges."""
        return (await self._facts(info))["edge_count"]

    @strawberry.field
    async def event_count(self, info: Info) -> int:
        """Events applied (Graph.version: an events_batch message counts each of its events)."""
        return (await self._facts(info))["event_count"]

    @strawberry.field
    async def updated_at(self, info: Info) -> Optional[str]:
        """Timestamp (RFC 3339) of its last event."""
        return (await self._facts(info))["updated_at"]

    @strawberry.field
    async def node(self, info: Info, id: strawberry.ID) -> Optional[Node]:
        """One node by its id in this graph."""
        found = await info.context["store"].read(
            self.snap, lambda g: node_items(g, self.snap, [id]) if id in g else [])
        return found[0] if found else None

    @strawberry.field
    async def nodes(self, info: Info, first: Optional[int] = None, after: Optional[str] = None,
                    filter: Optional[NodeFilter] = None) -> NodeConnection:
        """A page of its nodes (row order), optionally filtered."""
        return await node_page(info, self.snap, first, after, filter)

    @strawberry.field
    async def edges(self, info: Info, first: Optional[int] = None, after: Optional[str] = None) -> EdgeConnection:
        """A page of its edges (edge order)."""
        n = check_page(first, info.context["gateway"].settings)
        start = int(decode_cursor(after, "e") or -1) + 1

        def read(g):
            ids = g.edge_ids
            return edge_items(g, self.snap, ids[start:start + n]), len(ids)

        items, total = await info.context["store"].read(self.snap, read)
        edges = [EdgeEdge(cursor=encode_cursor("e", start + i), node=e) for i, e in enumerate(items)]
        return EdgeConnection(edges=edges, page_info=page_info(edges, start, total), total_count=total)


@strawberry.type
class GraphEdge:
    """A graph in a page, with its cursor."""
    cursor: str
    node: Graph


@strawberry.type
class GraphConnection:
    """A page of graphs (sorted by id)."""
    edges: list[GraphEdge]
    page_info: PageInfo
    total_count: int


# --------------------------------------------------------------------------- builders
def page_info(edges: list, start: int, total: int) -> PageInfo:
    """Relay page information of ``edges`` starting at offset ``start`` of ``total`` items."""
    return PageInfo(has_next_page=start + len(edges) < total, has_previous_page=start > 0,
                    start_cursor=edges[0].cursor if edges else None, end_cursor=edges[-1].cursor if edges else None)


def node_items(graph, snap: Snapshot, ids: list[str]) -> list[Node]:
    """:class:`Node` objects of ``ids`` read from ``graph`` (call under the feed's lock).

    Raises
    ------
    NodeNotFoundError
        An id is not in the graph.
    """
    if not ids:
        return []
    rows = graph.node_rows(ids)
    degree = graph.degree()[rows]
    positions = graph.positions
    out = []
    for k, (node_id, row) in enumerate(zip(ids, rows.tolist())):
        record = graph.node(node_id)
        label = record.pop("label")
        record.pop("id")
        position = None
        if positions is not None and not np.isnan(positions[row]).any():
            position = Position(x=float(positions[row, 0]), y=float(positions[row, 1]))
        out.append(Node(id=strawberry.ID(global_id(graph.graph_id, node_id)), node_id=node_id,
                        graph_id=strawberry.ID(snap.graph_id), label=label, properties=record,
                        degree=int(degree[k]), position=position, version=snap.version, snap=snap))
    return out


def edge_items(graph, snap: Snapshot, ids: list[str]) -> list[Edge]:
    """:class:`Edge` objects of ``ids`` read from ``graph`` (call under the feed's lock).

    Raises
    ------
    EdgeNotFoundError
        An id is not a live edge.
    """
    out = []
    for edge_id in ids:
        record = graph.edge(edge_id)
        core = {k: record.pop(k) for k in ("id", "source", "target", "relationship", "weight")}
        out.append(Edge(id=strawberry.ID(global_id(snap.graph_id, edge_id)), edge_id=edge_id,
                        graph_id=strawberry.ID(snap.graph_id), source_id=core["source"], target_id=core["target"],
                        relationship=core["relationship"], weight=core["weight"], properties=record,
                        version=snap.version, snap=snap))
    return out


async def node_page(info: Info, snap: Snapshot, first: int | None, after: str | None,
                    where: NodeFilter | None) -> NodeConnection:
    """A :class:`NodeConnection` page of the graph ``snap`` pins (``Graph.nodes`` and ``Query.nodes``)."""
    n = check_page(first, info.context["gateway"].settings)
    start = int(decode_cursor(after, "n") or -1) + 1

    def read(g):
        if where is None:
            ids = g.node_ids
        else:
            ids = g.find_nodes(where.label, id_contains=where.id_contains, **(where.properties or {}))
        return node_items(g, snap, ids[start:start + n]), len(ids)

    items, total = await info.context["store"].read(snap, read, what="the nodes page")
    edges = [NodeEdge(cursor=encode_cursor("n", start + i), node=node) for i, node in enumerate(items)]
    return NodeConnection(edges=edges, page_info=page_info(edges, start, total), total_count=total)
