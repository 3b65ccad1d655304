"""Graphs to and from node and edge tables (polars or pandas DataFrames, Arrow tables).

:func:`to_frames` gives the tables of :attr:`Graph.nodes` and :attr:`Graph.edges` (with positions
as ``x``, ``y``); :func:`from_frames` builds a graph from such tables, or from any tables whose
columns it is told, column-wise (:meth:`Graph.apply_columns`). Parquet files
(:func:`alchemist.graph.formats.write_parquet`) hold these tables. Both names are also importable
from :mod:`alchemist.graph.io`.
"""

from __future__ import annotations

import numpy as np

from alchemist.errors import GraphFormatError
from alchemist.graph._common import as_arrow_table
from alchemist.graph.core import Graph

__all__ = ["from_frames", "to_frames"]


def from_frames(nodes=None, edges=None, *, directed: bool = False, graph_id: str = "graph",
                node_id: str = "id", source: str = "source", target: str = "target", edge_id: str | None = "id",
                label: str | None = "label", relationship: str | None = "relationship", weight: str | None = "weight",
                strict: bool = True):
    """Build a Graph from node and edge tables (polars or pandas DataFrames, Arrow tables).

    Every other column becomes a typed property column. Columns named ``x`` and ``y`` in the node
    table become :attr:`Graph.positions`; ``degree`` and ``first_seen`` (which :func:`to_frames`
    writes) are skipped.

    Parameters
    ----------
    nodes : DataFrame, optional
        One row per node; column ``node_id`` holds the ids (converted to strings).
    edges : DataFrame, optional
        One row per edge; ``source`` and ``target`` columns; ``edge_id`` (optional: ``e<row>``
        when absent), ``relationship`` and ``weight`` when present.
    directed : bool
    graph_id : str
    node_id : str
        The node table's id column.
    source, target : str
        The edge table's endpoint columns (converted to strings).
    edge_id, label, relationship, weight : str or None
        The columns holding edge ids, node labels, relationship types and weights, used when the
        table has them; None: no such column (a column of that name is then a property).
    strict : bool
        An edge endpoint missing from ``nodes`` raises (True) or is created (False). Without a
        node table endpoints are always created.

    Returns
    -------
    Graph
        Nodes in table order, then endpoints created by edges; edges in table order.

    Raises
    ------
    GraphFormatError
        A named column is missing.
    NodeNotFoundError
        An edge endpoint is not in the node table (``strict``); the message names the id and row.

    Examples
    --------
    >>> import polars as pl
    >>> nodes = pl.DataFrame({"name": ["a", "b", "c"], "kind": ["P", "P", "Q"], "x": [0.0, 1.0, 2.0],
    ...                       "y": [0.0, 0.0, 1.0]})
    >>> edges = pl.DataFrame({"from": ["a", "b"], "to": ["b", "c"], "w": [1.0, 2.0]})
    >>> g = from_frames(nodes, edges, node_id="name", label="kind", source="from", target="to",
    ...                 weight="w", directed=True)
    >>> g.labels.tolist(), g.positions[2].tolist(), g.edges.select("source", "target", "weight").rows()
    (['P', 'P', 'Q'], [2.0, 1.0], [('a', 'b', 1.0), ('b', 'c', 2.0)])

    Without a node table the endpoints are created, in order of appearance:

    >>> import pandas as pd
    >>> from_frames(edges=pd.DataFrame({"source": [1, 2], "target": [2, 3]})).node_ids
    ['1', '2', '3']
    """
    import pyarrow as pa

    graph = Graph(graph_id, directed=directed, strict=strict or nodes is None)
    if nodes is None:
        graph.strict = False
    xy = None
    if nodes is not None:
        table = as_arrow_table(nodes)
        if node_id not in table.column_names:
            raise GraphFormatError(f"the node table has no {node_id!r} column (columns: {table.column_names})")
        rename = {node_id: "node_id"}
        if label and label in table.column_names:
            rename[label] = "label"
        drop = {"degree", "first_seen", "x", "y"}
        if {"x", "y"} <= set(table.column_names):
            xy = np.column_stack([table.column("x").to_numpy(), table.column("y").to_numpy()]).astype(np.float32)
        cols = {rename.get(c, c): table.column(c) for c in table.column_names if c not in drop}
        cols["node_id"] = cols["node_id"].cast(pa.string())
        cols["event_type"] = pa.array(["node_added"] * table.num_rows)
        graph.apply_columns(pa.table(cols))
    if edges is not None:
        table = as_arrow_table(edges)
        for c in (source, target):
            if c not in table.column_names:
                raise GraphFormatError(f"the edge table has no {c!r} column (columns: {table.column_names})")
        rename = {source: "source", target: "target"}
        for name, std in ((edge_id, "edge_id"), (relationship, "relationship"), (weight, "weight")):
            if name and name in table.column_names:
                rename[name] = std
        cols = {rename.get(c, c): table.column(c) for c in table.column_names if c not in ("timestamp",)}
        cols["source"] = cols["source"].cast(pa.string())
        cols["target"] = cols["target"].cast(pa.string())
        if "timestamp" in table.column_names:
            cols["timestamp"] = table.column("timestamp")
        cols["event_type"] = pa.array(["edge_added"] * table.num_rows)
        graph.apply_columns(pa.table(cols))
    graph.strict = strict
    if xy is not None:
        graph.positions = xy
    return graph


def to_frames(graph, *, backend: str = "polars"):
    """The graph's node and edge tables, with positions as ``x``, ``y`` columns of the node table
    when the graph has them (what :func:`from_frames` and :func:`write_parquet` read and write).

    Parameters
    ----------
    graph : Graph
    backend : {"polars", "pandas"}

    Returns
    -------
    nodes : polars.DataFrame or pandas.DataFrame
        ``(n_nodes, k)``: the columns of :attr:`Graph.nodes`, plus ``x``, ``y`` (float32).
    edges : polars.DataFrame or pandas.DataFrame
        ``(n_edges, k)``: the columns of :attr:`Graph.edges`.

    Raises
    ------
    ValueError
        An unknown ``backend``.

    Examples
    --------
    >>> from alchemist import Graph
    >>> g = Graph.from_edges([("a", "b")])
    >>> g.positions = [[0, 0], [3, 4]]
    >>> nodes, edges = to_frames(g, backend="pandas")
    >>> nodes[["id", "x", "y"]].values.tolist(), len(edges)
    ([['a', 0.0, 0.0], ['b', 3.0, 4.0]], 1)
    >>> from_frames(nodes, edges).positions.tolist()  # the way back
    [[0.0, 0.0], [3.0, 4.0]]
    """
    import polars as pl

    nodes, edges = graph.nodes, graph.edges
    pos = graph.positions
    if pos is not None:
        nodes = nodes.with_columns(pl.Series("x", pos[:, 0]), pl.Series("y", pos[:, 1]))
    if backend == "pandas":
        return nodes.to_pandas(), edges.to_pandas()
    if backend != "polars":
        raise ValueError(f"backend={backend!r}; use 'polars' or 'pandas'")
    return nodes, edges
