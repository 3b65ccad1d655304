"""Readers and writers of graph files.

- SNAP-style edge lists (``src dst [third]`` per line, ``#`` comments, whitespace separated,
  optionally gzip-compressed) are read with pandas' C parser; on any problem the file is scanned
  line by line so that the error names the exact line.
- GraphML, GEXF and GML go through NetworkX's readers and writers (attributes become typed
  property columns).
- Node-link JSON (NetworkX's ``node_link_data`` layout, ``links`` or ``edges``), Arrows.app JSON
  (``nodes`` with ``id, position, caption, labels, properties``; ``relationships`` with
  ``id, fromId, toId, type, properties`` — the original Information Alchemist's format) and the
  original app's export (``graph_id, nodes[{id, content, position}], edges``).
- Parquet: one file of nodes and one of edges, the tables of :meth:`Graph.to_frames`.
- Frames: :func:`from_frames` takes polars or pandas node and edge tables.

:func:`read_graph` picks the reader from the file name.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from alchemist.errors import DuplicateIdError, EdgeListFormatError, GraphFormatError, NodeNotFoundError
from alchemist.events import new_event
from alchemist.graph._common import as_arrow_table
from alchemist.graph.core import Graph

__all__ = [
    "EdgeList", "read_edge_list", "read_graph", "write_graph", "read_graphml", "write_graphml", "read_gexf",
    "write_gexf", "read_gml", "write_gml", "read_node_link", "write_node_link", "read_arrows", "write_arrows",
    "read_parquet", "write_parquet", "from_frames", "to_frames",
]


@dataclass
class EdgeList:
    """Columns of an edge list file.

    Attributes
    ----------
    source, target : (n_edges,) object arrays of str
        Node ids as written in the file.
    third : (n_edges,) float64 or None
        The third column (a Unix timestamp in SNAP's temporal graphs, or a weight), if present.
    path : str
    """

    source: np.ndarray
    target: np.ndarray
    third: np.ndarray | None
    path: str

    def __len__(self) -> int:
        return self.source.shape[0]


def read_edge_list(path: str | Path) -> EdgeList:
    """Read a SNAP-style edge list.

    Parameters
    ----------
    path : str or Path
        ``src dst`` or ``src dst value`` per line; lines starting with ``#`` (or ``%``) are
        comments; ``.gz`` files are decompressed.

    Returns
    -------
    EdgeList

    Raises
    ------
    EdgeListFormatError
        If the file is missing or unreadable, has no edges, or a line has the wrong number of
        fields or a third field that is not a finite number. The message names the file and the
        1-based line number; ``error.path`` and ``error.line`` hold them.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = pathlib.Path(tmp) / "toy.txt"
    ...     _ = path.write_text("# src dst unix-seconds\\n1 2 1082040961\\n2 3 1082155839\\n")
    ...     edges = read_edge_list(path)
    >>> len(edges), edges.source.tolist(), edges.third.tolist()
    (2, ['1', '2'], [1082040961.0, 1082155839.0])
    """
    path = Path(path)
    text = _read_text(path)
    fast = _read_delimited(text, str(path))
    if fast is not None:
        return fast
    import pandas as pd

    if "%" in text:  # pandas knows one comment character: blank the %-lines (line numbers stay)
        text = re.sub(r"(?m)^%.*$", "", text)

    try:
        frame = pd.read_csv(io.StringIO(text), sep=r"\s+", comment="#", header=None, dtype=str,
                            engine="c", skip_blank_lines=True)
    except pd.errors.EmptyDataError:
        raise EdgeListFormatError(f"{path}: the file holds no edges (only comments or blank lines)",
                                  path=str(path)) from None
    except Exception:
        _scan_for_error(path, text)
        raise
    if frame.shape[1] < 2 or frame.shape[1] > 3 or frame.isna().any().any():
        _scan_for_error(path, text)
    source = frame[0].to_numpy(dtype=object)
    target = frame[1].to_numpy(dtype=object)
    third = None
    if frame.shape[1] == 3:
        third = pd.to_numeric(frame[2], errors="coerce").to_numpy(dtype=np.float64)
        if not np.isfinite(third).all():
            _scan_for_error(path, text)
    return EdgeList(source, target, third, str(path))


def read_graph(path: str | Path, directed: bool = False, *, graph_id: str | None = None,
               third: str = "timestamp", format: str | None = None):
    """Read a graph file into a :class:`~alchemist.Graph`, choosing the reader by extension.

    Parameters
    ----------
    path : str or Path
        ``.graphml``, ``.gexf``, ``.gml``, ``.json`` (node-link, Arrows.app or the original app's
        export, recognised by their keys), ``.parquet`` (a nodes or edges file written by
        :func:`write_parquet`, or the directory holding both), anything else: a SNAP edge list
        (plain or ``.gz``, see :func:`read_edge_list`).
    directed : bool
        Whether the edges of an edge list or Arrows file are directed (the other formats say so
        themselves).
    graph_id : str, optional
        Defaults to the file name without its extensions.
    third : {"timestamp", "weight"}
        What a third column of an edge list means: Unix seconds (SNAP temporal graphs) or a weight.
    format : str, optional
        Force a format: ``"edgelist"``, ``"graphml"``, ``"gexf"``, ``"gml"``, ``"node_link"``,
        ``"arrows"``, ``"parquet"``.

    Returns
    -------
    Graph
        For an edge list: one node per distinct id, in order of first appearance; one edge per
        line (ids ``e0, e1, ...``), so parallel edges are kept.

    Raises
    ------
    EdgeListFormatError, GraphFormatError
        The file is missing or malformed; the message names the file and, where known, the line.
    ValueError
        ``third`` is neither ``"timestamp"`` nor ``"weight"``.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> g = Graph.from_edges([("a", "b", 2.0), ("b", "c")])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     h = read_graph(write_graph(g, pathlib.Path(tmp) / "tiny.graphml"))
    >>> h.graph_id, h.node_ids, h.edge_ids, h.edge("e0")["weight"]
    ('tiny', ['a', 'b', 'c'], ['e0', 'e1'], 2.0)
    """
    if third not in ("timestamp", "weight"):
        raise ValueError(f"third={third!r}; use 'timestamp' or 'weight'")
    path = Path(path)
    gid = graph_id or path.name.split(".")[0]
    fmt = format or _format_of(path)
    if fmt == "edgelist":
        edges = read_edge_list(path)
        return Graph.from_edge_list(edges, graph_id=gid, directed=directed, third=third)
    readers = {"graphml": read_graphml, "gexf": read_gexf, "gml": read_gml, "node_link": read_node_link,
               "parquet": read_parquet}
    if fmt == "arrows":
        return read_arrows(path, directed=directed, graph_id=gid)
    if fmt == "json":
        return _read_json(path, directed=directed, graph_id=gid)
    if fmt not in readers:
        raise GraphFormatError(f"{path}: unknown format {fmt!r}; use one of edgelist, {', '.join(readers)}, arrows",
                               path=str(path))
    return readers[fmt](path, graph_id=gid)


def write_graph(graph, path: str | Path, *, format: str | None = None) -> Path:
    """Write ``graph`` in the format its extension names (see :func:`read_graph`); an edge
    list (``.txt``/``.tsv``, optionally ``.gz``) holds ``source target weight`` lines.

    Parameters
    ----------
    graph : Graph
    path : str or Path
    format : str, optional
        Force a format (the names of :func:`read_graph`, and ``"json"`` for node-link).

    Returns
    -------
    Path
        The file (or, for Parquet, the nodes file) written.

    Raises
    ------
    GraphFormatError
        An unknown format.
    """
    path = Path(path)
    fmt = format or _format_of(path)
    writers = {"graphml": write_graphml, "gexf": write_gexf, "gml": write_gml, "node_link": write_node_link,
               "json": write_node_link, "arrows": write_arrows, "parquet": write_parquet}
    if fmt == "edgelist":
        frame = graph.edges.select("source", "target", "weight").to_pandas()
        frame.to_csv(path, sep=" ", header=False, index=False,
                     compression="gzip" if path.suffix == ".gz" else None)
        return path
    if fmt not in writers:
        raise GraphFormatError(f"{path}: unknown format {fmt!r}", path=str(path))
    return writers[fmt](graph, path)


# ---------------------------------------------------------------------- NetworkX-backed formats
def read_graphml(path: str | Path, *, graph_id: str | None = None):
    """Read GraphML (NetworkX's reader; typed ``<key>`` attributes become typed properties).

    Raises
    ------
    GraphFormatError
        Missing file or invalid XML/GraphML (the parser's message, with its line where it gives one).
    """
    import networkx as nx

    return _via_networkx(path, nx.read_graphml, graph_id)


def write_graphml(graph, path: str | Path) -> Path:
    """Write GraphML (labels, relationships, weights, edge ids and properties as attributes;
    list- and dict-valued properties as JSON strings)."""
    import networkx as nx

    nx.write_graphml(_flat_networkx(graph), path)
    return Path(path)


def read_gexf(path: str | Path, *, graph_id: str | None = None):
    """Read GEXF 1.2 (Gephi's format) with NetworkX's reader.

    Raises
    ------
    GraphFormatError
    """
    import networkx as nx

    return _via_networkx(path, nx.read_gexf, graph_id)


def write_gexf(graph, path: str | Path) -> Path:
    """Write GEXF 1.2 (with node positions as ``viz`` elements when the graph has them)."""
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
    """Read GML (NetworkX's reader; node ids are the GML ``label`` fields, as NetworkX does).

    Raises
    ------
    GraphFormatError
        The message carries the parser's line number where it gives one.
    """
    import networkx as nx

    return _via_networkx(path, nx.read_gml, graph_id)


def write_gml(graph, path: str | Path) -> Path:
    """Write GML."""
    import networkx as nx

    nx.write_gml(_flat_networkx(graph), path)
    return Path(path)


# ---------------------------------------------------------------------- JSON formats
def read_node_link(path: str | Path, *, graph_id: str | None = None):
    """Read node-link JSON (``{"directed", "multigraph", "nodes": [{"id", ...}], "links" | "edges":
    [{"source", "target", ...}]}``, as NetworkX and d3 write it).

    Raises
    ------
    GraphFormatError
        Missing file, invalid JSON (with its line), or no ``nodes`` list.
    """
    data = _load_json(path)
    return _node_link_graph(data, path, graph_id)


def write_node_link(graph, path: str | Path) -> Path:
    """Write node-link JSON (NetworkX's ``node_link_data`` with ``edges="links"``, the d3 layout)."""
    import networkx as nx

    data = nx.node_link_data(graph.to_networkx(), edges="links")
    Path(path).write_text(json.dumps(data, default=str))
    return Path(path)


def read_arrows(path: str | Path, *, directed: bool = True, graph_id: str | None = None):
    """Read an Arrows.app JSON graph (the original Information Alchemist's model files).

    Nodes ``{id, position{x, y}, caption, labels, properties, style}`` become nodes with label
    ``labels[0]`` (all labels in the property ``labels`` when there are several), the caption as
    the property ``caption`` and ``position`` as :attr:`Graph.positions`; relationships
    ``{id, fromId, toId, type, properties}`` become edges of that relationship type. ``style``
    is kept in the property ``style`` when not empty. The original app's export
    (``{graph_id, nodes[{id, content, position}], edges[{id, source, target, relationship}]}``)
    is read too.

    Raises
    ------
    GraphFormatError
        Missing file, invalid JSON, no ``nodes``, or a relationship whose end is not a node (the
        message names the relationship and the id).
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
    """Write Arrows.app JSON (positions from :attr:`Graph.positions`, else zeros)."""
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


# ---------------------------------------------------------------------- Parquet and frames
def write_parquet(graph, path: str | Path) -> Path:
    """Write ``<stem>.nodes.parquet`` and ``<stem>.edges.parquet`` (or ``nodes.parquet`` and
    ``edges.parquet`` inside ``path`` when it is a directory); the tables of :func:`to_frames`,
    with node positions as ``x``, ``y`` when the graph has them.

    Returns
    -------
    Path
        The nodes file.
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
    """Read the pair of Parquet files :func:`write_parquet` writes (give either file, or the
    directory). ``directed`` defaults to what the file's metadata says (False when absent).

    Raises
    ------
    GraphFormatError
        A file is missing or lacks the ``id``/``source``/``target`` columns.
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
    strict : bool
        An edge endpoint missing from ``nodes`` raises (True) or is created (False). Without a
        node table endpoints are always created.

    Raises
    ------
    GraphFormatError
        A named column is missing.
    NodeNotFoundError
        An edge endpoint is not in the node table (``strict``); the message names the id and row.

    Returns
    -------
    Graph
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
    """The graph's node and edge tables (``backend="polars"`` or ``"pandas"``), with positions
    as ``x``, ``y`` columns of the node table when the graph has them."""
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


def _read_delimited(text: str, path: str) -> EdgeList | None:
    """The common case read by Arrow's CSV reader (about 10× faster than the pandas path): one
    space or one tab between fields, 2 or 3 fields on every line, comments only on lines of their
    own. None when the text is anything else (the general path then reads it, or names the bad
    line)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    if "#" in text or "%" in text:
        text = re.sub(r"(?m)^[#%].*(?:\n|$)", "", text)
        if "#" in text or "%" in text:
            return None
    first = next((line for line in text.split("\n", 64)[:64] if line.strip()), None)
    if first is None:
        return None
    delimiter = "\t" if "\t" in first else " "
    if ("\t" if delimiter == " " else " ") in text or text.count("\r") != text.count("\r\n") or "\v" in text \
            or "\f" in text:
        return None  # mixed separators or unusual line ends (CRLF is fine): the general path
    try:
        table = pacsv.read_csv(
            io.BytesIO(text.encode()), read_options=pacsv.ReadOptions(autogenerate_column_names=True),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, quote_char=False),
            convert_options=pacsv.ConvertOptions(column_types={f"f{i}": pa.string() for i in range(3)}))
    except (pa.ArrowInvalid, ValueError):
        return None
    if table.num_columns not in (2, 3) or table.num_rows == 0:
        return None
    for column in table.columns:
        if column.null_count or pc.any(pc.equal(pc.binary_length(column), 0)).as_py():
            return None  # two separators in a row
    third = None
    if table.num_columns == 3:
        try:
            third = pc.cast(table.column(2), pa.float64()).to_numpy()
        except (pa.ArrowInvalid, ValueError):
            return None
        if not np.isfinite(third).all():
            return None
    source = table.column(0).to_numpy(zero_copy_only=False)
    target = table.column(1).to_numpy(zero_copy_only=False)
    return EdgeList(source, target, third, path)


def _read_text(path: Path) -> str:
    if not path.exists():
        raise EdgeListFormatError(f"{path}: no such file", path=str(path))
    if path.is_dir():
        raise EdgeListFormatError(f"{path}: is a directory, not an edge list file", path=str(path))
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        return raw.decode("utf-8")
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise EdgeListFormatError(f"{path}: cannot be read ({exc})", path=str(path)) from None
    except UnicodeDecodeError as exc:
        raise EdgeListFormatError(f"{path}: is not UTF-8 text (byte {exc.start}); is it a binary file?",
                                  path=str(path)) from None


def _scan_for_error(path: Path, text: str) -> None:
    """Find the first bad line and raise an error naming it (the slow, exact path)."""
    width = None
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped[0] in "#%":
            continue
        fields = stripped.split()
        if len(fields) < 2:
            raise EdgeListFormatError(
                f"{path}, line {number}: expected 'source target [value]', got {stripped[:60]!r}",
                path=str(path), line=number)
        if len(fields) > 3:
            raise EdgeListFormatError(
                f"{path}, line {number}: {len(fields)} fields; an edge list line has 2 or 3 "
                f"('source target [value]'), got {stripped[:60]!r}", path=str(path), line=number)
        if width is None:
            width = len(fields)
        elif len(fields) != width:
            raise EdgeListFormatError(
                f"{path}, line {number}: {len(fields)} fields where earlier lines have {width}",
                path=str(path), line=number)
        if len(fields) == 3:
            try:
                value = float(fields[2])
            except ValueError:
                value = float("nan")
            if value != value or value in (float("inf"), float("-inf")):
                raise EdgeListFormatError(
                    f"{path}, line {number}: third field {fields[2]!r} is not a finite number",
                    path=str(path), line=number)
    if width is None:
        raise EdgeListFormatError(f"{path}: the file holds no edges (only comments or blank lines)",
                                  path=str(path))
    raise EdgeListFormatError(f"{path}: could not be parsed as an edge list", path=str(path))


# ---------------------------------------------------------------------- helpers
_EXTENSIONS = {".graphml": "graphml", ".gexf": "gexf", ".gml": "gml", ".json": "json", ".parquet": "parquet"}


def _format_of(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    if path.is_dir():
        return "parquet"
    if path.name.lower().endswith(".arrows.json"):
        return "arrows"
    for s in reversed(suffixes):
        if s in _EXTENSIONS:
            return _EXTENSIONS[s]
    return "edgelist"


def _read_json(path: Path, *, directed: bool, graph_id: str | None):
    data = _load_json(path)
    if isinstance(data, dict) and ("relationships" in data or ("graph_id" in data and "edges" in data)):
        return read_arrows(path, directed=directed, graph_id=graph_id)
    return _node_link_graph(data, path, graph_id)


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
