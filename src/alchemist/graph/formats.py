"""Graph files other than edge lists: GraphML, GEXF and GML (through NetworkX), node-link JSON,
Arrows.app JSON (and the original app's export), and Parquet.

- GraphML, GEXF and GML go through NetworkX's readers and writers; attributes become typed
  property columns, and list- or dict-valued properties are written as JSON strings.
- Node-link JSON is NetworkX's ``node_link_data`` layout (``links`` or ``edges``); Arrows.app JSON
  (``nodes`` with ``id, position, caption, labels, properties``; ``relationships`` with
  ``id, fromId, toId, type, properties``) is the original Information Alchemist's format, as is
  its export (``graph_id, nodes[{id, content, position}], edges``); :func:`read_json` tells them
  apart.
- Parquet: one file of nodes and one of edges, the tables of :func:`~alchemist.graph.frames.to_frames`.

Every reader raises :class:`~alchemist.errors.GraphFormatError` naming the file (and the line,
where the parser gives one). :mod:`alchemist.graph.io` re-exports these names and picks the reader
from the file name (:func:`~alchemist.graph.io.read_graph`).
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from alchemist.errors import DuplicateIdError, GraphFormatError, NodeNotFoundError
from alchemist.events import new_event
from alchemist.graph.core import Graph
from alchemist.graph.frames import from_frames, to_frames
from alchemist.graph.gml import gml_decoded, gml_encoded

__all__ = [
    "read_graphml", "write_graphml", "read_gexf", "write_gexf", "read_gml", "write_gml", "read_node_link",
    "write_node_link", "read_arrows", "write_arrows", "read_json", "read_parquet", "write_parquet",
]


# ---------------------------------------------------------------------- NetworkX-backed formats
def read_graphml(path: str | Path, *, graph_id: str | None = None):
    """Read a GraphML file with NetworkX's reader.

    Typed ``<key>`` attributes become typed property columns; the attributes ``label``,
    ``weight``, ``relationship`` (or ``type``) and ``id`` become the node label, the edge weight,
    the relationship type and the edge id (as in :meth:`Graph.from_networkx`). The file says
    whether the graph is directed.

    Parameters
    ----------
    path : str or Path
    graph_id : str, optional
        Defaults to the file name without its extensions.

    Returns
    -------
    Graph

    Raises
    ------
    GraphFormatError
        Missing file or invalid XML/GraphML (the parser's message, with its line where it gives one).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> text = '''<graphml xmlns="http://graphml.graphdrawing.org/xmlns">
    ... <key id="w" for="edge" attr.name="weight" attr.type="double"/>
    ... <graph edgedefault="directed"><node id="a"/><node id="b"/>
    ... <edge source="a" target="b"><data key="w">2.5</data></edge></graph></graphml>'''
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = pathlib.Path(folder) / "tiny.graphml"
    ...     _ = path.write_text(text)
    ...     g = read_graphml(path)
    >>> g.graph_id, g.directed, g.edges.select("source", "target", "weight").rows()
    ('tiny', True, [('a', 'b', 2.5)])
    """
    import networkx as nx

    return _via_networkx(path, nx.read_graphml, graph_id)


def write_graphml(graph, path: str | Path) -> Path:
    """Write a GraphML file with NetworkX's writer.

    Node labels, relationship types, weights, edge ids and properties become typed attributes;
    list- and dict-valued properties are written as JSON strings (and read back as strings);
    properties a node or edge lacks are left out. Positions are not written (use GEXF, Arrows or
    Parquet to keep them).

    Parameters
    ----------
    graph : Graph
    path : str or Path

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    OSError
        The file cannot be written.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from alchemist import Graph, new_event
    >>> g = Graph("g", directed=True)
    >>> _ = g.apply([new_event("node_added", "g", {"node_id": "a", "label": "Person",
    ...                                            "properties": {"tags": ["x", "y"]}}),
    ...              new_event("node_added", "g", {"node_id": "b"}),
    ...              new_event("edge_added", "g", {"edge_id": "ab", "source": "a", "target": "b",
    ...                                            "relationship": "KNOWS", "weight": 2.0})])
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     h = read_graphml(write_graphml(g, pathlib.Path(folder) / "g.graphml"))
    >>> h.directed, h.node("a"), h.edge("ab")["relationship"]
    (True, {'id': 'a', 'label': 'Person', 'tags': '["x", "y"]'}, 'KNOWS')
    """
    import networkx as nx

    nx.write_graphml(_flat_networkx(graph), path)
    return Path(path)


def read_gexf(path: str | Path, *, graph_id: str | None = None):
    """Read a GEXF 1.2 file (Gephi's format) with NetworkX's reader.

    Attributes become properties as in :func:`read_graphml`; ``viz`` positions become
    :attr:`Graph.positions` (NaN for nodes without one), and the ``viz`` element is also kept as
    the node property ``viz``. The file says whether the graph is directed.

    Parameters
    ----------
    path : str or Path
    graph_id : str, optional
        Defaults to the file name without its extensions.

    Returns
    -------
    Graph

    Raises
    ------
    GraphFormatError
        Missing file or invalid XML/GEXF (with the parser's line where it gives one).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from alchemist import Graph
    >>> g = Graph.from_edges([("a", "b")])
    >>> g.positions = [[0.0, 0.0], [1.0, 2.0]]
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     h = read_gexf(write_gexf(g, pathlib.Path(folder) / "g.gexf"))
    >>> h.node_ids, h.positions.tolist()
    (['a', 'b'], [[0.0, 0.0], [1.0, 2.0]])
    """
    import networkx as nx

    return _via_networkx(path, nx.read_gexf, graph_id)


def write_gexf(graph, path: str | Path) -> Path:
    """Write a GEXF 1.2 file (Gephi's format) with NetworkX's writer.

    Attributes as in :func:`write_graphml`; node positions, when the graph has them, as ``viz``
    elements (``z = 0``; nodes whose position is NaN get none).

    Parameters
    ----------
    graph : Graph
    path : str or Path

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    OSError
        The file cannot be written.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from alchemist import Graph
    >>> g = Graph.from_edges([("a", "b")])
    >>> g.positions = [[0.5, 0.0], [1.0, 2.0]]
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     text = write_gexf(g, pathlib.Path(folder) / "g.gexf").read_text()
    >>> 'x="0.5"' in text and 'y="2.0"' in text
    True
    """
    import networkx as nx

    G = _flat_networkx(graph)
    pos = graph.positions
    if pos is not None:
        for node_id, xy in zip(graph.node_ids, pos.tolist()):
            if all(v == v for v in xy):
                G.nodes[node_id]["viz"] = {"position": {"x": float(xy[0]), "y": float(xy[1]), "z": 0.0}}
    nx.write_gexf(G, path)
    return Path(path)


def read_gml(path: str | Path, *, graph_id: str | None = None):
    """Read a GML file with NetworkX's reader.

    Node ids are the GML ``label`` fields, as NetworkX reads them; other fields become
    properties, with ``weight``, ``relationship`` and ``id`` of edges read as in
    :func:`read_graphml`. ``directed 1`` makes a directed graph. Node labels and booleans of
    :func:`write_gml`'s files are restored (:mod:`alchemist.graph.gml`).

    Parameters
    ----------
    path : str or Path
    graph_id : str, optional
        Defaults to the file name without its extensions.

    Returns
    -------
    Graph

    Raises
    ------
    GraphFormatError
        Missing file or invalid GML; the message carries the parser's line number where it
        gives one.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> text = '''graph [ directed 1
    ...   node [ id 0 label "a" age 31 ]  node [ id 1 label "b" ]
    ...   edge [ source 0 target 1 weight 2.5 ] ]'''
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = pathlib.Path(folder) / "tiny.gml"
    ...     _ = path.write_text(text)
    ...     g = read_gml(path)
    >>> g.directed, g.node("a"), g.edge("e0")["weight"]
    (True, {'id': 'a', 'label': '', 'age': 31}, 2.5)
    """
    import networkx as nx

    return _via_networkx(path, lambda p: gml_decoded(nx.read_gml(p)), graph_id)


def write_gml(graph, path: str | Path) -> Path:
    """Write a GML file with NetworkX's writer.

    Each node's GML ``label`` is its id (what :func:`read_gml` and ``networkx.read_gml`` read
    back as the id), its label in ``alchemistLabel``; weights, relationship types, edge ids and
    properties as fields, lists and dicts as JSON strings, booleans as 1 / 0 with their keys in
    the graph field ``alchemistBooleans`` (:mod:`alchemist.graph.gml`).

    Parameters
    ----------
    graph : Graph
    path : str or Path

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    OSError
        The file cannot be written.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import networkx as nx
    >>> from alchemist import Graph
    >>> G = nx.Graph([("a", "b", {"weight": 2.0})])
    >>> G.nodes["a"].update(label="Person", vip=True)
    >>> g = Graph.from_networkx(G)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     h = read_gml(write_gml(g, pathlib.Path(folder) / "g.gml"))
    >>> h.node_ids, h.node("a"), h.edge("e0")["weight"]
    (['a', 'b'], {'id': 'a', 'label': 'Person', 'vip': True}, 2.0)
    """
    import networkx as nx

    nx.write_gml(gml_encoded(_flat_networkx(graph)), path)
    return Path(path)


# ---------------------------------------------------------------------- JSON formats
def read_node_link(path: str | Path, *, graph_id: str | None = None):
    """Read a node-link JSON file, as NetworkX's ``node_link_data`` and d3 write it.

    ``{"directed", "multigraph", "nodes": [{"id", ...}], "links" | "edges": [{"source",
    "target", ...}]}``; node and edge keys become properties, with ``label``, ``weight``,
    ``relationship`` and ``id`` read as in :meth:`Graph.from_networkx`.

    Parameters
    ----------
    path : str or Path
    graph_id : str, optional
        Defaults to the file name without its extensions.

    Returns
    -------
    Graph

    Raises
    ------
    GraphFormatError
        Missing file, invalid JSON (with its line), no ``nodes`` list, or links that NetworkX
        cannot read.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> text = '''{"directed": false, "multigraph": false, "graph": {},
    ...  "nodes": [{"id": "a", "label": "Person"}, {"id": "b"}],
    ...  "links": [{"source": "a", "target": "b", "weight": 3.0}]}'''
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = pathlib.Path(folder) / "tiny.json"
    ...     _ = path.write_text(text)
    ...     g = read_node_link(path)
    >>> g.labels.tolist(), g.edges.select("source", "target", "weight").rows()
    (['Person', ''], [('a', 'b', 3.0)])
    """
    data = _load_json(path)
    return _node_link_graph(data, path, graph_id)


def write_node_link(graph, path: str | Path) -> Path:
    """Write a node-link JSON file: NetworkX's ``node_link_data`` of :meth:`Graph.to_networkx`
    with ``edges="links"`` (the d3 layout). Values JSON cannot hold are written as strings.

    Parameters
    ----------
    graph : Graph
    path : str or Path

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    OSError
        The file cannot be written.

    Examples
    --------
    >>> import json, pathlib, tempfile
    >>> from alchemist import Graph
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     data = json.loads(write_node_link(Graph.from_edges([("a", "b")]),
    ...                                       pathlib.Path(folder) / "g.json").read_text())
    >>> data["nodes"], data["links"]
    ([{'id': 'a'}, {'id': 'b'}], [{'weight': 1.0, 'id': 'e0', 'source': 'a', 'target': 'b'}])
    """
    import networkx as nx

    data = nx.node_link_data(graph.to_networkx(), edges="links")
    Path(path).write_text(json.dumps(data, default=str))
    return Path(path)


def read_arrows(path: str | Path, *, directed: bool = True, graph_id: str | None = None):
    """Read an Arrows.app JSON graph (the original Information Alchemist's model files).

    Nodes ``{id, position{x, y}, caption, labels, properties, style}`` become nodes with label
    ``labels[0]`` (all labels in the property ``labels`` when there are several), the caption as
    the property ``caption`` and ``position`` as :attr:`Graph.positions`; relationships
    ``{id, fromId, toId, type, properties}`` become edges of that relationship type (ids ``r<i>``
    where they have none). ``style`` is kept in the property ``style`` when not empty. The
    original app's export (``{graph_id, nodes[{id, content, position}], edges[{id, source,
    target, relationship}]}``) is read too.

    Parameters
    ----------
    path : str or Path
    directed : bool
        Arrows files do not say; directed by default (relationships have a direction there).
    graph_id : str, optional
        Defaults to the export's ``graph_id``, else the file name without its extensions.

    Returns
    -------
    Graph

    Raises
    ------
    GraphFormatError
        Missing file, invalid JSON, no ``nodes``, a node without ``id``, or a relationship whose
        end is missing or not a node (the message names the relationship and the id).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> text = '''{"nodes": [{"id": "n0", "position": {"x": 10, "y": 20}, "caption": "Ada",
    ...                       "labels": ["Person"], "properties": {}, "style": {}},
    ...                      {"id": "n1", "position": {"x": 50, "y": 20}, "caption": "London",
    ...                       "labels": ["Place"], "properties": {}, "style": {}}],
    ...            "relationships": [{"id": "r0", "fromId": "n0", "toId": "n1", "type": "LIVES_IN",
    ...                               "properties": {"since": 1840}, "style": {}}]}'''
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = pathlib.Path(folder) / "model.arrows.json"
    ...     _ = path.write_text(text)
    ...     g = read_arrows(path)
    >>> g.node("n0"), g.positions.tolist()
    ({'id': 'n0', 'label': 'Person', 'caption': 'Ada'}, [[10.0, 20.0], [50.0, 20.0]])
    >>> g.edge("r0")
    {'id': 'r0', 'source': 'n0', 'target': 'n1', 'relationship': 'LIVES_IN', 'weight': 1.0, 'since': 1840}
    """
    data = _load_json(path)
    if "relationships" not in data and "edges" in data and "graph_id" in data:
        return _read_alchemist_export(data, path, directed, graph_id)
    if not isinstance(data, dict) or not isinstance(data.get("nodes"), list):
        raise GraphFormatError(f"{path}: not an Arrows.app graph (no 'nodes' list)", path=str(path))
    nodes, edges, positions = [], [], {}
    for i, n in enumerate(data["nodes"]):
        if not isinstance(n, dict) or "id" not in n:
            raise GraphFormatError(f"{path}: node {i} has no 'id'", path=str(path))
        nodes.append(_arrows_node(n["id"], n.get("caption"), n.get("labels"), n.get("properties"), n.get("style")))
        pos = n.get("position") or {}
        if "x" in pos and "y" in pos:
            positions[str(n["id"])] = (float(pos["x"]), float(pos["y"]))
    for i, r in enumerate(data.get("relationships") or []):
        try:
            edges.append({"edge_id": str(r.get("id", f"r{i}")), "source": str(r["fromId"]), "target": str(r["toId"]),
                          "relationship": str(r.get("type") or ""), "properties": _props(r.get("properties"), r.get("style"))})
        except (KeyError, TypeError):
            raise GraphFormatError(f"{path}: relationship {i} needs 'fromId' and 'toId'", path=str(path)) from None
    return _graph_from_records(nodes, edges, positions, path, directed, graph_id)


def write_arrows(graph, path: str | Path) -> Path:
    """Write an Arrows.app JSON graph, which :func:`read_arrows` and Arrows.app read.

    Positions from :attr:`Graph.positions` (zeros where there are none); each node's label as
    ``labels`` (or the property ``labels`` when it holds several), the properties ``caption`` and
    ``style`` back in their places; edges as relationships with their type and properties, and
    the weight as the property ``weight`` when it is not 1 (Arrows has no edge weight:
    :func:`read_arrows` reads it back as that property, column ``property_weight`` of
    :attr:`Graph.edges`, and the edge weight as 1.0).

    Parameters
    ----------
    graph : Graph
    path : str or Path

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    OSError
        The file cannot be written.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from alchemist import Graph
    >>> g = Graph.from_edges([("a", "b", 2.0)], directed=True)
    >>> g.positions = [[0.0, 0.0], [100.0, 50.0]]
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     h = read_arrows(write_arrows(g, pathlib.Path(folder) / "g.arrows.json"))
    >>> h.positions.tolist(), h.edges.select("source", "target", "weight").rows()
    ([[0.0, 0.0], [100.0, 50.0]], [('a', 'b', 1.0)])
    >>> h.edges["property_weight"].to_list()  # the weight, as a property
    [2.0]
    """
    pos = graph.positions
    labels = graph.labels
    out_nodes = []
    for i, node_id in enumerate(graph.node_ids):
        props = graph.node(node_id)
        props.pop("id")
        props.pop("label")
        caption = props.pop("caption", "")
        all_labels = props.pop("labels", None) or ([labels[i]] if labels[i] else [])
        style = props.pop("style", {})
        xy = pos[i].tolist() if pos is not None and np.isfinite(pos[i]).all() else [0.0, 0.0]
        out_nodes.append({"id": node_id, "position": {"x": xy[0], "y": xy[1]}, "caption": caption,
                          "labels": all_labels, "properties": props, "style": style})
    out_edges = []
    for row in graph.edges.to_dicts():
        props = {k: v for k, v in row.items() if k not in ("id", "source", "target", "relationship", "weight", "timestamp")
                 and v is not None}
        style = props.pop("style", {})
        if row["weight"] != 1.0:
            props["weight"] = row["weight"]
        out_edges.append({"id": row["id"], "fromId": row["source"], "toId": row["target"],
                          "type": row["relationship"], "properties": props, "style": style})
    Path(path).write_text(json.dumps({"nodes": out_nodes, "relationships": out_edges, "style": {}}, indent=1,
                                     default=str))
    return Path(path)


def read_json(path: str | Path, *, directed: bool = False, graph_id: str | None = None):
    """Read a JSON graph file of any of the three layouts :func:`~alchemist.graph.io.read_graph`
    knows, told apart by their keys: Arrows.app (``relationships``) and the original app's export
    (``graph_id`` and ``edges``) by :func:`read_arrows`, anything else as node-link JSON
    (:func:`read_node_link`).

    Parameters
    ----------
    path : str or Path
    directed : bool
        For the Arrows layouts (node-link JSON says it itself).
    graph_id : str, optional
        Defaults to the file name without its extensions.

    Returns
    -------
    Graph

    Raises
    ------
    GraphFormatError
        Missing file, invalid JSON (with its line), or a layout's own errors.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> text = '''{"graph_id": "demo", "nodes": [{"id": "a", "content": {"caption": "Ada"}},
    ...            {"id": "b", "content": {}}], "edges": [{"source": "a", "target": "b"}]}'''
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = pathlib.Path(folder) / "export.json"
    ...     _ = path.write_text(text)
    ...     g = read_json(path, directed=True)
    >>> g.graph_id, g.node("a"), g.edge_ids
    ('demo', {'id': 'a', 'label': '', 'caption': 'Ada'}, ['r0'])
    """
    data = _load_json(path)
    if isinstance(data, dict) and ("relationships" in data or ("graph_id" in data and "edges" in data)):
        return read_arrows(path, directed=directed, graph_id=graph_id)
    return _node_link_graph(data, path, graph_id)


# ---------------------------------------------------------------------- Parquet
def write_parquet(graph, path: str | Path) -> Path:
    """Write the graph as two Parquet files, one of nodes and one of edges.

    ``<stem>.nodes.parquet`` and ``<stem>.edges.parquet`` beside ``path`` (or ``nodes.parquet``
    and ``edges.parquet`` inside ``path`` when it is a directory or has no extension; the
    directory is created). The tables are those of :func:`to_frames` (node positions as ``x``,
    ``y`` when the graph has them); object-valued property columns (lists, dicts) are written as
    JSON strings; the schema metadata records ``alchemist.directed`` and ``alchemist.graph_id``.

    Parameters
    ----------
    graph : Graph
    path : str or Path
        ``g.parquet``, ``g.nodes.parquet``, ``g.edges.parquet`` or a directory.

    Returns
    -------
    Path
        The nodes file.

    Raises
    ------
    OSError
        A file cannot be written.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from alchemist import Graph
    >>> g = Graph.from_edges([("a", "b", 2.0)], directed=True)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     nodes_file = write_parquet(g, pathlib.Path(folder) / "g.parquet")
    ...     files = sorted(p.name for p in nodes_file.parent.iterdir())
    ...     h = read_parquet(nodes_file)
    >>> nodes_file.name, files
    ('g.nodes.parquet', ['g.edges.parquet', 'g.nodes.parquet'])
    >>> h.graph_id, h.directed, h.edges.select("source", "target", "weight").rows()
    ('g', True, [('a', 'b', 2.0)])
    """
    nodes_path, edges_path = _parquet_paths(Path(path))
    import pyarrow.parquet as pq

    nodes, edges = to_frames(graph)
    meta = {b"alchemist.directed": b"true" if graph.directed else b"false",
            b"alchemist.graph_id": graph.graph_id.encode()}
    for frame, target in ((nodes, nodes_path), (edges, edges_path)):
        table = _object_columns_to_json(frame).to_arrow()
        pq.write_table(table.replace_schema_metadata({**(table.schema.metadata or {}), **meta}), target)
    return nodes_path


def read_parquet(path: str | Path, *, graph_id: str | None = None, directed: bool | None = None):
    """Read the pair of Parquet files that :func:`write_parquet` writes.

    Parameters
    ----------
    path : str or Path
        Either file of a pair ``<stem>.nodes.parquet`` / ``<stem>.edges.parquet``, the name they
        share (``<stem>.parquet``), or the directory holding ``nodes.parquet`` and
        ``edges.parquet`` (give the directory, not a file in it).
    graph_id : str, optional
        Defaults to the nodes file's name up to its first dot (``"nodes"`` for a directory).
    directed : bool, optional
        Defaults to what the files' metadata says (False when absent).

    Returns
    -------
    Graph
        Built by :func:`from_frames`: labels, relationship types, weights, ids, properties and
        positions (``x``, ``y``) as written.

    Raises
    ------
    GraphFormatError
        A file is missing, cannot be read as Parquet, or lacks the ``id``/``source``/``target``
        columns.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from alchemist import Graph
    >>> g = Graph.from_edges([("a", "b")])
    >>> g.positions = [[0.0, 1.0], [2.0, 3.0]]
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     _ = write_parquet(g, pathlib.Path(folder) / "snapshot")
    ...     h = read_parquet(pathlib.Path(folder) / "snapshot", graph_id="snapshot")
    >>> h.graph_id, h.directed, h.positions.tolist()
    ('snapshot', False, [[0.0, 1.0], [2.0, 3.0]])
    """
    import polars as pl

    nodes_path, edges_path = _parquet_paths(Path(path))
    for p in (nodes_path, edges_path):
        if not p.exists():
            raise GraphFormatError(f"{p}: no such file (write_parquet writes a nodes and an edges file)", path=str(p))
    try:
        nodes = pl.read_parquet(nodes_path)
        edges = pl.read_parquet(edges_path)
        import pyarrow.parquet as pq

        meta = pq.read_schema(edges_path).metadata or {}
    except Exception as exc:  # polars/arrow raise several types for a corrupt file
        raise GraphFormatError(f"{path}: cannot be read as Parquet ({exc})", path=str(path)) from None
    if directed is None:
        directed = meta.get(b"alchemist.directed", b"false") == b"true"
    gid = graph_id or nodes_path.name.split(".")[0]
    return from_frames(nodes, edges, directed=directed, graph_id=gid)


# ---------------------------------------------------------------------- helpers
def _load_json(path) -> dict:
    path = Path(path)
    if not path.exists():
        raise GraphFormatError(f"{path}: no such file", path=str(path))
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise GraphFormatError(f"{path}, line {exc.lineno}: invalid JSON ({exc.msg})", path=str(path),
                               line=exc.lineno) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise GraphFormatError(f"{path}: cannot be read ({exc})", path=str(path)) from None


def _node_link_graph(data, path, graph_id):
    import networkx as nx

    if not isinstance(data, dict) or not isinstance(data.get("nodes"), list):
        raise GraphFormatError(f"{path}: not node-link JSON (no 'nodes' list)", path=str(path))
    key = "links" if "links" in data else "edges"
    try:
        G = nx.node_link_graph(data, edges=key)
    except (KeyError, TypeError, nx.NetworkXError) as exc:
        raise GraphFormatError(f"{path}: malformed node-link JSON ({exc!r})", path=str(path)) from None
    return Graph.from_networkx(G, graph_id=graph_id or Path(path).name.split(".")[0])


def _via_networkx(path, reader, graph_id):
    import networkx as nx

    path = Path(path)
    if not path.exists():
        raise GraphFormatError(f"{path}: no such file", path=str(path))
    try:
        G = reader(path)
    except ET.ParseError as exc:
        line = exc.position[0] if getattr(exc, "position", None) else None
        raise GraphFormatError(f"{path}, line {line}: invalid XML ({exc})", path=str(path), line=line) from None
    except (nx.NetworkXError, ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        message = str(exc)
        m = re.search(r"line (\d+)", message) or re.search(r"lineno=(\d+)", message)
        line = int(m.group(1)) if m else None
        raise GraphFormatError(f"{path}: cannot be read ({message})", path=str(path), line=line) from None
    graph = Graph.from_networkx(G, graph_id=graph_id or path.name.split(".")[0])
    positions = {}
    for node, data in G.nodes(data=True):
        viz = data.get("viz") if isinstance(data.get("viz"), dict) else None
        if viz and "position" in viz:
            positions[str(node)] = (viz["position"].get("x", np.nan), viz["position"].get("y", np.nan))
    if positions:
        graph.positions = np.array([positions.get(n, (np.nan, np.nan)) for n in graph.node_ids], dtype=np.float32)
    return graph


def _flat_networkx(graph):
    """The graph as NetworkX with attribute values GraphML/GEXF/GML can hold (no None; lists and
    dicts as JSON strings)."""
    G = graph.to_networkx()
    for _, data in list(G.nodes(data=True)):
        _flatten(data, json)
    for *_, data in (G.edges(keys=True, data=True) if G.is_multigraph() else G.edges(data=True)):
        _flatten(data, json)
    return G


def _flatten(data: dict, json) -> None:
    for k in list(data):
        v = data[k]
        if v is None:
            del data[k]
        elif isinstance(v, (list, dict, tuple)):
            data[k] = json.dumps(v)


def _props(properties, style) -> dict:
    props = dict(properties) if isinstance(properties, dict) else {}
    if isinstance(style, dict) and style:
        props["style"] = style
    return props


def _arrows_node(node_id, caption, labels, properties, style) -> dict:
    labels = [str(x) for x in labels] if isinstance(labels, list) else []
    props = _props(properties, style)
    if caption:
        props["caption"] = str(caption)
    if len(labels) > 1:
        props["labels"] = labels
    return {"node_id": str(node_id), "label": labels[0] if labels else "", "properties": props}


def _read_alchemist_export(data, path, directed, graph_id):
    nodes, edges, positions = [], [], {}
    for i, n in enumerate(data.get("nodes") or []):
        if not isinstance(n, dict) or "id" not in n:
            raise GraphFormatError(f"{path}: node {i} has no 'id'", path=str(path))
        content = n.get("content") or {}
        props = dict(content.get("properties") or {})
        if content.get("original_id"):
            props["original_id"] = content["original_id"]
        nodes.append(_arrows_node(n["id"], content.get("caption"), content.get("labels"), props, content.get("style")))
        pos = n.get("position") or {}
        if "x" in pos and "y" in pos:
            positions[str(n["id"])] = (float(pos["x"]), float(pos["y"]))
    for i, e in enumerate(data.get("edges") or []):
        try:
            edges.append({"edge_id": str(e.get("id", f"r{i}")), "source": str(e["source"]), "target": str(e["target"]),
                          "relationship": str(e.get("relationship") or ""), "properties": {}})
        except (KeyError, TypeError):
            raise GraphFormatError(f"{path}: edge {i} needs 'source' and 'target'", path=str(path)) from None
    return _graph_from_records(nodes, edges, positions, path, directed, graph_id or str(data.get("graph_id") or ""))


def _graph_from_records(nodes, edges, positions, path, directed, graph_id):
    gid = graph_id or Path(path).name.split(".")[0]
    graph = Graph(gid, directed=directed)
    events = [new_event("node_added", gid, n, timestamp=0, validate=False) for n in nodes]
    events += [new_event("edge_added", gid, e, timestamp=0, validate=False) for e in edges]
    try:
        graph.apply(events)
    except (NodeNotFoundError, DuplicateIdError) as exc:
        raise GraphFormatError(f"{path}: {exc}", path=str(path)) from None
    if positions:
        graph.positions = np.array([positions.get(n, (np.nan, np.nan)) for n in graph.node_ids], dtype=np.float32)
    return graph


def _parquet_paths(path: Path) -> tuple[Path, Path]:
    if path.is_dir() or not path.suffix:
        path.mkdir(parents=True, exist_ok=True)
        return path / "nodes.parquet", path / "edges.parquet"
    name = path.name
    for tail in (".nodes.parquet", ".edges.parquet", ".parquet"):
        if name.endswith(tail):
            stem = name[: -len(tail)]
            return path.with_name(stem + ".nodes.parquet"), path.with_name(stem + ".edges.parquet")
    return path.with_name(name + ".nodes.parquet"), path.with_name(name + ".edges.parquet")


def _object_columns_to_json(frame):
    import polars as pl

    out = []
    for name, dtype in frame.schema.items():
        if dtype == pl.Object:
            out.append(pl.Series(name, [None if v is None else json.dumps(v, default=str) for v in frame[name].to_list()]))
    return frame.with_columns(out) if out else frame
