"""Graphs as Apache Arrow tables: :func:`to_arrow`, :func:`from_arrow` and the Arrow C stream.

:func:`to_arrow` gives a graph's node and edge tables as ``pyarrow.Table`` objects (the columns of
:attr:`Graph.nodes` and :attr:`Graph.edges`, positions as ``x``, ``y``); :func:`from_arrow` builds
a graph from such tables or from any object that exports the Arrow PyCapsule stream interface
(``__arrow_c_stream__``: pyarrow, polars, DuckDB results, nanoarrow, …). A :class:`Graph` itself
exports its edge table through ``__arrow_c_stream__``, so Arrow-aware tools read it directly, e.g.
``duckdb.sql("SELECT source, count(*) FROM g GROUP BY source")`` on a Graph ``g``.

Memory: the tables are built once per call, ``O(n_nodes + n_edges)``; polars and pandas (with
``types_mapper=pd.ArrowDtype``) wrap their numeric buffers without a copy.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["GraphTables", "to_arrow", "from_arrow", "edge_stream"]


class GraphTables(NamedTuple):
    """A graph's two Arrow tables.

    Attributes
    ----------
    nodes : pyarrow.Table
        One row per live node: ``id``, ``label``, ``degree``, ``first_seen``, the property columns,
        and ``x``, ``y`` (float32) when the graph has positions.
    edges : pyarrow.Table
        One row per live edge: ``id``, ``source``, ``target``, ``relationship``, ``weight``,
        ``timestamp`` and the property columns.
    """

    nodes: object
    edges: object


def to_arrow(graph) -> GraphTables:
    """A graph's node and edge tables as ``pyarrow.Table`` objects.

    Parameters
    ----------
    graph : Graph

    Returns
    -------
    GraphTables
        ``(nodes, edges)``, shapes ``(n_nodes, k)`` and ``(n_edges, k)``; see :class:`GraphTables`.

    Examples
    --------
    >>> from alchemist import Graph
    >>> g = Graph.from_edges([("a", "b", 2.0), ("b", "c")])
    >>> tables = to_arrow(g)
    >>> tables.nodes.column("id").to_pylist(), tables.edges.column("weight").to_pylist()
    (['a', 'b', 'c'], [2.0, 1.0])
    >>> from_arrow(*tables).edges.select("source", "target").rows()  # the way back
    [('a', 'b'), ('b', 'c')]
    """
    nodes, edges = graph.to_frames()
    return GraphTables(nodes.to_arrow(), edges.to_arrow())


def edge_stream(graph, requested_schema=None):
    """The graph's edge table as an Arrow C stream PyCapsule (``Graph.__arrow_c_stream__``).

    Parameters
    ----------
    graph : Graph
    requested_schema : PyCapsule, optional
        A schema the consumer asks for (passed to pyarrow, which casts where it can).

    Returns
    -------
    PyCapsule
        An ``arrow_array_stream`` capsule over the edge table of :func:`to_arrow`.
    """
    return graph.edges.to_arrow().__arrow_c_stream__(requested_schema)


def _as_table(obj):
    import pyarrow as pa

    if obj is None or isinstance(obj, pa.Table):
        return obj
    if hasattr(obj, "__arrow_c_stream__") and not type(obj).__module__.startswith(("polars", "pandas")):
        return pa.RecordBatchReader.from_stream(obj).read_all()
    return obj  # polars / pandas frames and dicts: from_frames reads them


def from_arrow(nodes=None, edges=None, **options):
    """Build a graph from Arrow node and edge tables (or anything exporting ``__arrow_c_stream__``).

    Parameters
    ----------
    nodes, edges : pyarrow.Table, RecordBatchReader or Arrow stream exporter, optional
        The tables of :func:`to_arrow` or any tables whose columns ``options`` name; a
        :class:`GraphTables` may be passed as ``nodes``.
    **options
        As :func:`alchemist.graph.io.from_frames`: ``directed``, ``graph_id``, ``node_id``,
        ``source``, ``target``, ``edge_id``, ``label``, ``relationship``, ``weight``, ``strict``.

    Returns
    -------
    Graph

    Raises
    ------
    GraphFormatError
        A named column is missing.
    NodeNotFoundError
        An edge endpoint is not in the node table (``strict``).

    Examples
    --------
    >>> import pyarrow as pa
    >>> g = from_arrow(edges=pa.table({"source": ["a", "b"], "target": ["b", "c"]}), directed=True)
    >>> g.node_ids, g.number_of_edges()
    (['a', 'b', 'c'], 2)
    """
    from alchemist.graph.frames import from_frames

    if isinstance(nodes, GraphTables):
        nodes, edges = nodes
    return from_frames(_as_table(nodes), _as_table(edges), **options)
