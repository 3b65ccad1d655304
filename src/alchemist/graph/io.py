"""Readers and writers of graph files.

- SNAP-style edge lists (``src dst [third]`` per line, ``#`` comments, whitespace separated,
  optionally gzip-compressed) are read here, by Arrow's CSV reader or pandas' C parser; on any
  problem the file is scanned line by line so that the error names the exact line.
- GraphML, GEXF, GML, node-link JSON, Arrows.app JSON and Parquet are read and written by
  :mod:`alchemist.graph.formats`; node and edge tables by :mod:`alchemist.graph.frames`
  (:func:`from_frames`, :func:`to_frames`). Their names are importable from here too.

:func:`read_graph` picks the reader from the file name, :func:`write_graph` the writer.
"""

from __future__ import annotations

import gzip
import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from alchemist.errors import EdgeListFormatError, GraphFormatError
from alchemist.graph.core import Graph
from alchemist.graph.edgelist import read_edge_list_graph
from alchemist.graph.formats import (
    read_arrows,
    read_gexf,
    read_gml,
    read_graphml,
    read_json,
    read_node_link,
    read_parquet,
    write_arrows,
    write_gexf,
    write_gml,
    write_graphml,
    write_node_link,
    write_parquet,
)
from alchemist.graph.frames import from_frames, to_frames

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
        ``"arrows"``, ``"parquet"``, or a diagram format of :mod:`alchemist.graph.diagrams` (``"mermaid"``
        for ``.mmd``, ``"dot"`` for ``.dot``/``.gv``, ``"cypher"`` for ``.cypher``/``.cql``, ``"cytoscape"`` for
        ``.cyjs``).

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
    if fmt == "edgelist":  # a plain file streams through Arrow (lean); any other goes to the general reader
        graph = read_edge_list_graph(path, graph_id=gid, directed=directed, third=third)
        if graph is not None:
            return graph
        edges = read_edge_list(path)
        return Graph.from_edge_list(edges, graph_id=gid, directed=directed, third=third)
    if fmt in DIAGRAMS:  # Mermaid, DOT, Cypher, Cytoscape.js: alchemist.graph.diagrams (imported here: it imports Graph)
        from alchemist.graph.diagrams import read_diagram
        return read_diagram(path, format=fmt).to_graph(gid)
    readers = {"graphml": read_graphml, "gexf": read_gexf, "gml": read_gml, "node_link": read_node_link,
               "parquet": read_parquet}
    if fmt == "arrows":
        return read_arrows(path, directed=directed, graph_id=gid)
    if fmt == "json":
        return read_json(path, directed=directed, graph_id=gid)
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

    Examples
    --------
    >>> import pathlib, tempfile
    >>> g = Graph.from_edges([("a", "b", 2.0), ("b", "c")])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = write_graph(g, pathlib.Path(tmp) / "tiny.txt")
    ...     print(path.read_text(), end="")
    ...     h = read_graph(path, third="weight")
    a b 2.0
    b c 1.0
    >>> h.edges.select("source", "target", "weight").rows()
    [('a', 'b', 2.0), ('b', 'c', 1.0)]
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
    if fmt in DIAGRAMS:
        from alchemist.graph import diagrams
        return getattr(diagrams, f"write_{fmt}")(graph, path)
    if fmt not in writers:
        raise GraphFormatError(f"{path}: unknown format {fmt!r}", path=str(path))
    return writers[fmt](graph, path)


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
DIAGRAMS = {".mmd": "mermaid", ".mermaid": "mermaid", ".dot": "dot", ".gv": "dot", ".cypher": "cypher", ".cql": "cypher",
            ".cyjs": "cytoscape"}
_EXTENSIONS.update(DIAGRAMS)
DIAGRAMS = set(DIAGRAMS.values())


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
