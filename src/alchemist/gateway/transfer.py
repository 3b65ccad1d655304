"""Graph files in and out of the CIM for the REST API: upload spooling, import, export.

An upload is written chunk by chunk to a temporary folder (:class:`Spool`; never held whole in
memory, refused once past ``max_upload_bytes``), read by alchemist's readers
(:func:`alchemist.graph.io.read_graph`, :func:`~alchemist.graph.io.read_edge_list`) and published by
:func:`import_file` as two events, ``graph_created`` and ``graph_imported``, the second carrying the
CID of an Arrow IPC table of every node and edge in the CIM's object store — the way
:meth:`Connection.import_graph <alchemist.cim.Connection.import_graph>` imports edge lists, so any
file size costs two event messages plus the object's chunks. :func:`export_file` writes a
graph folded from the stream with the existing writers.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import zipfile
from pathlib import Path

from alchemist.errors import ConcurrencyError, GraphFormatError, InputFormatError
from alchemist.gateway.responses import GraphNotFoundError, UploadTooLargeError

__all__ = ["Spool", "sniff_format", "import_file", "export_file", "graph_table", "IMPORT_FORMATS", "EXPORT_FORMATS"]

IMPORT_FORMATS = ("edgelist", "graphml", "gexf", "gml", "json", "node_link", "arrows", "parquet")
"""Formats ``POST /api/v1/graphs/import`` reads (those of :func:`alchemist.graph.io.read_graph`)."""

EXPORT_FORMATS = {
    "graphml": ("graphml", "application/graphml+xml"),
    "gexf": ("gexf", "application/gexf+xml"),
    "gml": ("gml", "text/plain; charset=utf-8"),
    "json": ("json", "application/json"),
    "parquet": ("zip", "application/zip"),
    "edgelist": ("txt", "text/plain; charset=utf-8"),
}
"""``format`` of ``GET /api/v1/graphs/{id}/export``: (file extension, media type). Parquet is a zip of
the two files :func:`~alchemist.graph.io.write_parquet` writes (``<id>.nodes.parquet``, ``<id>.edges.parquet``)."""

_DERIVED_NODE_COLUMNS = {"degree", "in_degree", "out_degree", "first_seen", "x", "y"}
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class Spool:
    """A temporary folder receiving uploaded files chunk by chunk, with a size limit over all files.

    Parameters
    ----------
    max_bytes : int
        Bytes allowed in all; one more raises :class:`UploadTooLargeError` (the folder is kept
        until :meth:`close`).

    Attributes
    ----------
    folder : Path
    files : list of Path
        Written so far, in order.
    size : int
        Bytes written so far.

    Examples
    --------
    >>> with Spool(max_bytes=8) as spool:
    ...     path = spool.open("../g.txt")
    ...     spool.write(b"1 2\\n")
    ...     spool.finish()
    ...     path.name, path.read_bytes()
    ('g.txt', b'1 2\\n')
    """

    def __init__(self, max_bytes: int):
        self.max_bytes = int(max_bytes)
        self.folder = Path(tempfile.mkdtemp(prefix="alchemist-upload-"))
        self.files: list[Path] = []
        self.size = 0
        self._handle = None

    def open(self, filename: str | None) -> Path:
        """Start a new file (its name reduced to a safe base name; ``upload`` when none).

        Parameters
        ----------
        filename : str or None

        Returns
        -------
        Path
        """
        self.finish()
        name = _SAFE_NAME.sub("_", Path(filename or "upload").name).lstrip(".") or "upload"
        path = self.folder / name
        self._handle = path.open("wb")
        self.files.append(path)
        return path

    def write(self, chunk: bytes) -> None:
        """Append ``chunk`` to the current file.

        Parameters
        ----------
        chunk : bytes

        Returns
        -------
        None

        Raises
        ------
        UploadTooLargeError
            The upload passed ``max_bytes``.
        """
        self.size += len(chunk)
        if self.size > self.max_bytes:
            raise UploadTooLargeError(f"the upload is larger than this gateway's limit of {self.max_bytes} bytes; "
                                      "split the file or raise --max-upload-bytes")
        self._handle.write(chunk)

    def finish(self) -> None:
        """Close the current file, if any."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def close(self) -> None:
        """Remove the folder and everything in it."""
        self.finish()
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> "Spool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def sniff_format(path: Path) -> str:
    """The format of a graph file from its name, else its first bytes (for uploads without a name).

    Parameters
    ----------
    path : Path

    Returns
    -------
    str
        One of :data:`IMPORT_FORMATS`.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "upload").write_text('<?xml version="1.0"?>\\n<gexf version="1.2">')
    >>> sniff_format(folder / "upload")
    'gexf'
    """
    name = path.name.lower()
    for suffix, fmt in ((".arrows.json", "arrows"), (".graphml", "graphml"), (".gexf", "gexf"), (".gml", "gml"),
                        (".json", "json"), (".parquet", "parquet")):
        if name.endswith(suffix) or name.endswith(suffix + ".gz"):
            return fmt
    with path.open("rb") as handle:
        head = handle.read(4096)
    if head.startswith(b"\x1f\x8b"):
        import gzip

        with gzip.open(path, "rb") as handle:
            head = handle.read(4096)
    if head.startswith(b"PAR1"):
        return "parquet"
    text = head.decode("utf-8", "replace").lstrip("\ufeff \t\r\n")
    if text.startswith("<"):
        return "gexf" if "<gexf" in text else "graphml"
    if text.startswith("{") or text.startswith("["):
        return "json"
    if re.match(r"(?s)(#[^\n]*\n\s*)*(Creator[^\n]*\n\s*)?graph\s*\[", text):
        return "gml"
    return "edgelist"


def import_file(connection, path: Path, graph_id: str, *, format: str | None = None, directed: bool = True,
                metadata: dict | None = None, display_name: str | None = None) -> dict:
    """Read a graph file and publish it to the CIM as ``graph_created`` + ``graph_imported``.

    Parameters
    ----------
    connection : alchemist.cim.Connection
    path : Path
        The file (for Parquet, either file of the pair; both must be in the same folder).
    graph_id : str
        A new graph: one with events already is refused (nothing is published).
    format : str, optional
        One of :data:`IMPORT_FORMATS`; :func:`sniff_format` when None.
    directed : bool
        For edge lists and Arrows files (the other formats say it themselves).
    metadata : dict, optional
        Recorded in both events (the actor, :func:`~alchemist.gateway.security.actor_metadata`).
    display_name : str, optional
        The name the client gave the file, put in place of the temporary path in error messages.

    Returns
    -------
    dict
        ``graph_id``, ``format``, ``nodes``, ``edges``, ``events`` (event messages published: 2),
        ``version`` (the folded graph's version: 1 + nodes + edges), ``sequence`` (the stream
        sequence of ``graph_imported``), ``object_cid``, ``bytes`` (the size of ``path``).

    Raises
    ------
    InputFormatError
        The file is malformed (:class:`~alchemist.errors.EdgeListFormatError`,
        :class:`~alchemist.errors.GraphFormatError`); the message names the file and, where the
        reader knows it, the line.
    ConcurrencyError
        The graph already has events, or another writer created it meanwhile.
    ValueError
        ``graph_id`` cannot be a NATS subject token.
    """
    import pyarrow as pa

    from alchemist.events import new_event
    from alchemist.events.subjects import validate_token

    validate_token(graph_id, "graph id")
    fmt = format or sniff_format(path)
    if fmt not in IMPORT_FORMATS:
        raise GraphFormatError(f"format={fmt!r} cannot be imported; use one of {', '.join(IMPORT_FORMATS)}")
    if connection.aggregate_sequence(graph_id) > 0:
        raise ConcurrencyError(f"graph {graph_id!r} already has events; import under a new graph_id (or remove it)")
    try:
        table, nodes, edges, directed = _read_table(path, graph_id, fmt, directed)
    except InputFormatError as exc:
        if display_name:
            raise type(exc)(str(exc).replace(str(path), display_name), path=display_name, line=exc.line) from None
        raise
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema, options=pa.ipc.IpcWriteOptions(compression="zstd")) as writer:
        writer.write_table(table)
    del table
    object_cid = connection.objects.put(sink.getvalue().to_pybytes())
    created = new_event("graph_created", graph_id, {"name": graph_id, "directed": bool(directed)}, metadata=metadata)
    imported = new_event("graph_imported", graph_id, {"object_cid": object_cid, "format": "arrow", "nodes": nodes,
                                                      "edges": edges, "source_format": fmt},
                         previous_cid=created.cid, metadata=metadata)
    first = connection.publish(created, expected_sequence=0)
    sequence = connection.publish(imported, expected_sequence=first)
    return {"graph_id": graph_id, "format": fmt, "nodes": nodes, "edges": edges, "events": 2,
            "version": 1 + nodes + edges, "sequence": sequence, "object_cid": object_cid,
            "bytes": path.stat().st_size}


def export_file(connection, graph_id: str, format: str, folder: Path, *, version: int | None = None) -> Path:
    """Write the graph folded from the stream to ``folder`` in ``format`` (one file).

    Parameters
    ----------
    connection : alchemist.cim.Connection
    graph_id : str
    format : str
        A key of :data:`EXPORT_FORMATS`.
    folder : Path
        Where to write (the caller removes it).
    version : int, optional
        The graph as it was after that many events (:meth:`Graph.at <alchemist.graph.Graph.at>`).

    Returns
    -------
    Path
        ``<folder>/<graph_id>.<extension>``.

    Raises
    ------
    GraphFormatError
        An unknown format.
    GraphNotFoundError
        The graph has no events.
    """
    from alchemist.graph.io import write_graph

    if format not in EXPORT_FORMATS:
        raise GraphFormatError(f"format={format!r} cannot be exported; use one of {', '.join(EXPORT_FORMATS)}")
    if connection.aggregate_sequence(graph_id) == 0:
        raise GraphNotFoundError(f"graph {graph_id!r} has no events on this CIM")
    graph = connection.graph(graph_id, live=False)
    if version is not None:
        graph = graph.at(version)
    extension = EXPORT_FORMATS[format][0]
    target = folder / f"{graph_id}.{extension}"
    if format == "parquet":
        parts = folder / "parts"
        parts.mkdir()
        nodes_file = write_graph(graph, parts / f"{graph_id}.parquet", format="parquet")
        with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED) as archive:
            for part in sorted(nodes_file.parent.iterdir()):
                archive.write(part, part.name)
        return target
    write_graph(graph, target, format="node_link" if format == "json" else format)
    return target


def graph_table(graph):
    """A graph's nodes and edges as one Arrow table of ``node_added`` then ``edge_added`` rows, the
    form :meth:`Graph.apply_columns <alchemist.graph.Graph.apply_columns>` applies (properties as
    columns; derived columns such as ``degree`` left out; list or dict values as JSON text).

    Parameters
    ----------
    graph : Graph

    Returns
    -------
    pyarrow.Table
        ``(n_nodes + n_edges)`` rows.

    Examples
    --------
    >>> from alchemist import Graph
    >>> table = graph_table(Graph.from_edges([("a", "b", 2.0)]))
    >>> table.column("event_type").to_pylist(), table.column("weight").to_pylist()
    (['node_added', 'node_added', 'edge_added'], [None, None, 2.0])
    """
    import polars as pl

    nodes, edges = graph.nodes, graph.edges
    nodes = nodes.drop([c for c in nodes.columns if c in _DERIVED_NODE_COLUMNS]).rename({"id": "node_id"})
    edges = edges.rename({"id": "edge_id"})
    frames = []
    for frame, kind in ((nodes, "node_added"), (edges, "edge_added")):
        objects = [c for c, dtype in frame.schema.items() if dtype == pl.Object]
        frame = frame.with_columns([pl.Series(c, [None if v is None else json.dumps(v, default=str)
                                                  for v in frame[c].to_list()]) for c in objects])
        frames.append(frame.with_columns(pl.lit(kind).alias("event_type")))
    return pl.concat(frames, how="diagonal_relaxed").to_arrow()


# ---------------------------------------------------------------------- helpers
def _read_table(path: Path, graph_id: str, fmt: str, directed: bool):
    """(Arrow table of the events, nodes, edges, directed) of one uploaded file."""
    from alchemist.events.wire import edge_list_table
    from alchemist.graph.io import read_edge_list, read_graph

    if fmt == "edgelist":
        edges = read_edge_list(path)
        table = edge_list_table(edges, graph_id)
        nodes = table.num_rows - len(edges)
        return table, nodes, len(edges), directed
    graph = read_graph(path, directed, graph_id=graph_id, format=fmt)
    return graph_table(graph), graph.number_of_nodes(), graph.number_of_edges(), graph.directed
