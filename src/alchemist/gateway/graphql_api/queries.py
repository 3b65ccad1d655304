"""The seed's queries (seed 000 §2): ``graph``, ``graphs``, ``node``, ``nodes``, ``searchNodes``,
``findPath``, ``graphStatistics``, ``clusterAnalysis`` — reads of the event-sourced graphs, each
authorized per graph, each with an optional ``version`` (stream sequence) or ``at`` (time) for
time travel.
"""

from __future__ import annotations

import datetime as _dt
from typing import Annotated, Optional

import numpy as np
import strawberry
from strawberry.types import Info

from alchemist.errors import NoPathError
from alchemist.gateway.graphql_api.guards import authorize, check_page, principal_of
from alchemist.gateway.graphql_api.store import Snapshot
from alchemist.gateway.graphql_api.types import (
    Cluster,
    ClusterAlgorithm,
    DegreeSummary,
    Graph,
    GraphConnection,
    GraphEdge,
    GraphFilter,
    GraphStatistics,
    LayoutJob,
    Node,
    NodeConnection,
    NodeFilter,
    PaginationInput,
    Path,
    decode_cursor,
    encode_cursor,
    node_items,
    node_page,
    page_info,
    split_id,
)

__all__ = ["Query"]


async def _snapshot(info: Info, graph_id: str, version: int | None = None, at: _dt.datetime | None = None):
    authorize(info, graph_id, "read")
    return await info.context["store"].snapshot(graph_id, version, at)


@strawberry.type
class Query:
    """Reads of the CIM's graphs."""

    @strawberry.field
    async def graph(self, info: Info, id: strawberry.ID, version: Optional[int] = None,
                    at: Optional[_dt.datetime] = None) -> Optional[Graph]:
        """A graph, as it is now or (``version``: a stream sequence, ``at``: a time) as it was;
        null when it has no events."""
        from alchemist.gateway.responses import GraphNotFoundError

        try:
            snap = await _snapshot(info, id, version, at)
        except GraphNotFoundError:
            return None
        return Graph(id=strawberry.ID(id), snap=snap)

    @strawberry.field
    async def graphs(self, info: Info, filter: Optional[GraphFilter] = None,
                     pagination: Optional[PaginationInput] = None, first: Optional[int] = None,
                     after: Optional[str] = None) -> GraphConnection:
        """The graphs this principal may read, sorted by id, a page at a time (``pagination`` or
        ``first``/``after``)."""
        store = info.context["store"]
        if pagination is not None:
            first, after = pagination.first if first is None else first, pagination.after if after is None else after
        n = check_page(first, info.context["gateway"].settings)
        principal = principal_of(info)
        ids = [g for g in await store.graph_ids() if principal.can_read(g)]
        if filter is not None and filter.id_contains:
            ids = [g for g in ids if filter.id_contains.lower() in g.lower()]
        if filter is not None and filter.name_contains:
            wanted = filter.name_contains.lower()
            ids = [g for g in ids if wanted in str((await store.created(g)).get("name", "")).lower()]
        cursor = decode_cursor(after, "g")
        start = 0 if cursor is None else sum(1 for g in ids if g <= cursor)
        edges = []
        for graph_id in ids[start:start + n]:  # the graph is folded only if a field asks for more than its id
            snap = Snapshot(graph_id, await store.version(graph_id))
            edges.append(GraphEdge(cursor=encode_cursor("g", graph_id), node=Graph(id=strawberry.ID(graph_id),
                                                                                   snap=snap)))
        return GraphConnection(edges=edges, page_info=page_info(edges, start, len(ids)), total_count=len(ids))

    @strawberry.field
    async def node(self, info: Info, id: strawberry.ID, graph_id: Optional[strawberry.ID] = None,
                   version: Optional[int] = None) -> Optional[Node]:
        """One node by its global id (``"<graph>/<node>"``), or by its id in ``graphId``; null when absent."""
        from alchemist.gateway.responses import GraphNotFoundError

        gid, node_id = split_id(id, graph_id)
        try:
            snap = await _snapshot(info, gid, version)
        except GraphNotFoundError:
            return None
        found = await info.context["store"].read(snap, lambda g: node_items(g, snap, [node_id]) if node_id in g else [])
        return found[0] if found else None

    @strawberry.field
    async def nodes(self, info: Info, graph_id: strawberry.ID, filter: Optional[NodeFilter] = None,
                    first: Optional[int] = None, after: Optional[str] = None, version: Optional[int] = None,
                    at: Optional[_dt.datetime] = None) -> NodeConnection:
        """A page of a graph's nodes in row order, filtered by label, id text and property values."""
        return await node_page(info, await _snapshot(info, graph_id, version, at), first, after, filter)

    @strawberry.field
    async def search_nodes(self, info: Info, query: str, limit: int = 20,
                           graph_id: Optional[strawberry.ID] = None) -> list[Node]:
        """Nodes whose id, label or a text property contains ``query`` (case-insensitive): exact id
        matches first, then row order; in ``graphId``, or in every graph this principal may read."""
        n = check_page(limit, info.context["gateway"].settings, argument="limit")
        store = info.context["store"]
        if graph_id is not None:
            graph_ids = [graph_id]
        else:
            principal = principal_of(info)
            graph_ids = [g for g in await store.graph_ids() if principal.can_read(g)]
        found: list[Node] = []
        for gid in graph_ids:
            if len(found) >= n:
                break
            snap = await _snapshot(info, gid)
            found += await store.read(snap, lambda g: node_items(g, snap, search(g, query, n - len(found))),
                                      what="searchNodes")
        return found

    @strawberry.field
    async def find_path(self, info: Info, from_: Annotated[strawberry.ID, strawberry.argument(name="from")],
                        to: strawberry.ID, max_depth: int = 10,
                        graph_id: Optional[strawberry.ID] = None, weighted: bool = False,
                        version: Optional[int] = None) -> Optional[Path]:
        """A shortest path from ``from`` to ``to`` (global ids, or ids in ``graphId``): fewest hops,
        or least total weight when ``weighted``; null when none has at most ``maxDepth`` hops."""
        gid, source = split_id(from_, graph_id)
        gid_to, target = split_id(to, graph_id)
        if gid_to != gid:
            from alchemist.errors import GraphError

            raise GraphError(f"from is in graph {gid!r} and to in {gid_to!r}; a path stays in one graph")
        snap = await _snapshot(info, gid, version)

        def read(g):
            weight = "weight" if weighted else None
            try:
                path = g.shortest_path(source, target, weight=weight)
            except NoPathError:
                return None
            total = float(g.shortest_path_length(source, target, weight="weight")) if weighted else None
            return path, total

        found = await info.context["store"].read(snap, read, what="findPath")
        if found is None or len(found[0]) - 1 > max_depth:
            return None
        path, total = found
        return Path(graph_id=strawberry.ID(gid), version=snap.version, node_ids=path, length=len(path) - 1,
                    total_weight=total, snap=snap)

    @strawberry.field
    async def graph_statistics(self, info: Info, id: strawberry.ID, version: Optional[int] = None) -> GraphStatistics:
        """Sizes, density, degree summaries and weakly connected components of a graph."""
        from alchemist.graph import connected_components, degree_statistics

        snap = await _snapshot(info, id, version)

        def read(g):
            stats = degree_statistics(g)
            labels = connected_components(g)
            return stats, int(labels.max()) + 1 if labels.shape[0] else 0, g.directed

        stats, components, directed = await info.context["store"].read(snap, read, what="graphStatistics")
        summary = lambda key: DegreeSummary(**stats[key]) if key in stats else None  # noqa: E731
        return GraphStatistics(graph_id=strawberry.ID(id), version=snap.version, node_count=stats["n_nodes"],
                               edge_count=stats["n_edges"], density=stats["density"], self_loops=stats["self_loops"],
                               isolated=stats["isolated"], directed=directed, components=components,
                               degree=summary("degree"), in_degree=summary("in_degree"),
                               out_degree=summary("out_degree"))

    @strawberry.field
    async def cluster_analysis(self, info: Info, graph_id: strawberry.ID, algorithm: ClusterAlgorithm,
                               resolution: float = 1.0, seed: int = 0, first: Optional[int] = None,
                               version: Optional[int] = None) -> list[Cluster]:
        """Clusters of a graph, largest first (at most ``first``): Louvain communities
        (alchemist.graph.louvain, with their partition's modularity) or connected components."""
        from alchemist.graph import connected_components, louvain, modularity, strongly_connected_components

        n = check_page(first, info.context["gateway"].settings)
        snap = await _snapshot(info, graph_id, version)

        def read(g):
            if algorithm is ClusterAlgorithm.LOUVAIN:
                labels = louvain(g, resolution=resolution, seed=seed)
                q = float(modularity(g, labels, resolution=resolution)) if labels.shape[0] else None
            elif algorithm is ClusterAlgorithm.CONNECTED_COMPONENTS:
                labels, q = connected_components(g), None
            else:
                labels, q = strongly_connected_components(g), None
            ids = np.asarray(g.node_ids, dtype=object)
            return [(int(c), ids[labels == c].tolist(), q) for c in range(min(n, int(labels.max()) + 1))] \
                if labels.shape[0] else []

        clusters = await info.context["store"].read(snap, read, what="clusterAnalysis")
        return [Cluster(id=c, size=len(members), modularity=q, member_ids=members) for c, members, q in clusters]

    @strawberry.field
    async def layout_job(self, info: Info, id: strawberry.ID) -> Optional[LayoutJob]:
        """A layout job started on this gateway instance (null when unknown here: its result is the
        ``layout_applied`` event, visible through every instance)."""
        job = info.context["jobs"].get(str(id))
        if job is not None:
            authorize(info, job.graph_id, "read")
        return job


def search(graph, text: str, limit: int) -> list[str]:
    """Ids of nodes whose id, label or a text property contains ``text`` (case-insensitive), exact
    id matches first, then in row order; at most ``limit``.

    Parameters
    ----------
    graph : Graph
    text : str
    limit : int

    Returns
    -------
    list of str

    Examples
    --------
    >>> from alchemist import Graph
    >>> search(Graph.from_edges([("Ada", "bob"), ("ada", "carol")]), "ADA", 5)
    ['Ada', 'ada']
    """
    import polars as pl

    if limit <= 0 or graph.number_of_nodes() == 0:
        return []
    frame = graph.nodes
    needle = text.lower()
    texts = [c for c, t in frame.schema.items() if t == pl.Utf8]
    hit = pl.any_horizontal([pl.col(c).str.to_lowercase().str.contains(needle, literal=True).fill_null(False)
                             for c in texts])
    ids = frame.filter(hit).get_column("id").to_list()
    ids.sort(key=lambda i: i != text)  # stable: exact matches first, then row order
    return ids[:limit]
