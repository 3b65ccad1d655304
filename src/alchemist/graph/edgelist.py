"""Lean reading of SNAP-style edge lists: the file streams through Arrow in blocks into the Graph.

:func:`read_graph <alchemist.graph.io.read_graph>` reads a plain edge list (``src dst [value]`` per
line, one space or one tab between fields, ``#``/``%`` comment lines, optionally gzip-compressed)
without ever holding the file's text or a Python string per edge: the (decompressed) bytes pass
through Arrow's streaming CSV reader (:func:`pyarrow.csv.open_csv`) one block at a time, and each
block's two string columns are numbered at once by the graph's id table
(:class:`~alchemist.graph._intern.NodeTable`, node rows in order of first appearance over
``source0, target0, source1, …``), so that only the ``int32`` codes, the third column and the
distinct ids outlive a block. The codes are then written into the Graph's columns by
:func:`~alchemist.graph.convert.load_edge_codes`, the step every edge-list reader shares.

Peak memory above the imports is about the graph's own arrays plus the two code columns (the
issue's bound is 3× :meth:`~alchemist.Graph.memory_usage`), against ~10× when the text, the
parsed table and a Python object per id were all alive at once.

A file this reader does not take as it is (mixed separators, a ``#`` or ``%`` inside a line, empty
fields, a third field that is not a finite number, invalid UTF-8, no edges, …) is left to
:func:`~alchemist.graph.io.read_edge_list`, which reads it in full and names the bad line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["EdgeCodes", "read_edge_codes", "read_edge_list_graph"]

_BLOCK_BYTES = 1 << 20   # bytes of text per Arrow block (about 100,000 lines of a SNAP file)
_LARGE = 50_000          # edges from which the allocator's freed memory is handed back (without it a 100K-edge read kept 3.6× its arrays)


@dataclass
class EdgeCodes:
    """An edge list read as codes into its distinct node ids.

    Attributes
    ----------
    source, target : (n_edges,) int32
        Codes of the ends: code ``c`` is ``names[c]``; codes number the ids in order of first
        appearance over the slots ``source[0], target[0], source[1], …``.
    names : list of str
        The distinct ids, by code.
    third : (n_edges,) float64 or None
        The third column (finite), if the file has one.
    path : str
    """

    source: np.ndarray
    target: np.ndarray
    names: list
    third: np.ndarray | None
    path: str

    def __len__(self) -> int:
        return self.source.shape[0]


def read_edge_codes(path: str | Path, *, block_size: int | None = None) -> EdgeCodes | None:
    """Stream a plain edge list through Arrow's CSV reader, numbering its ids block by block.

    Parameters
    ----------
    path : str or Path
        An edge list file, plain or gzip-compressed (recognised by its first bytes).
    block_size : int, optional
        Bytes of text per block (Arrow's ``ReadOptions.block_size``); memory held for the text
        is a few blocks. Defaults to an eighth of the file's size (a compressed file's size
        times 4), within 64 KB … 1 MB, so that a small file's blocks stay small beside its graph.

    Returns
    -------
    EdgeCodes or None
        None when the file is not a plain edge list as this reader takes it (see the module
        notes) or cannot be read: :func:`~alchemist.graph.io.read_edge_list` then reads it, or
        raises the error that names the file and line.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = pathlib.Path(tmp) / "toy.txt"
    ...     _ = path.write_text("# src dst\\nb a\\na c\\nc b\\n")
    ...     codes = read_edge_codes(path)
    >>> codes.names, codes.source.tolist(), codes.target.tolist(), codes.third
    (['b', 'a', 'c'], [0, 1, 2], [1, 2, 0], None)
    """
    import pyarrow as pa

    path = Path(path)
    try:
        stream, gz = _open(path)
        if block_size is None:
            block_size = min(_BLOCK_BYTES, max(1 << 16, path.stat().st_size * (4 if gz else 1) // 8))
    except (OSError, pa.ArrowException):
        return None
    try:
        return _stream_codes(stream, str(path), block_size)
    except (pa.ArrowException, ValueError, EOFError, OSError):
        return None
    finally:
        stream.close()


def read_edge_list_graph(path: str | Path, *, graph_id: str, directed: bool = False,
                         third: str = "timestamp"):
    """A Graph from a plain edge list read by :func:`read_edge_codes`, or None when the file is
    not plain (the caller then takes the general reader).

    Parameters
    ----------
    path : str or Path
    graph_id : str
    directed : bool
    third : {"timestamp", "weight"}
        What the third column means: Unix seconds (the edges' timestamps) or the weight.

    Returns
    -------
    Graph or None
        The state :meth:`Graph.from_edge_list <alchemist.graph.Graph.from_edge_list>` gives for
        the same file: node rows in order of first appearance, edge ids ``e<line index>``.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = pathlib.Path(tmp) / "toy.txt"
    ...     _ = path.write_text("1 2 0.5\\n2 3 2.0\\n")
    ...     g = read_edge_list_graph(path, graph_id="toy", third="weight")
    >>> g.node_ids, g.edge_ids, g.edge("e1")["weight"]
    (['1', '2', '3'], ['e0', 'e1'], 2.0)
    """
    from alchemist.graph._common import release_memory
    from alchemist.graph.convert import load_edge_codes
    from alchemist.graph.core import Graph

    codes = read_edge_codes(path)
    if codes is None:
        return None
    weights, times = (codes.third, None) if third == "weight" else (None, codes.third)
    graph = Graph(graph_id, directed=directed)
    load_edge_codes(graph, codes.source, codes.target, codes.names, weights, times,
                    where=f"{codes.path}: edge line index")
    if len(codes) >= _LARGE:
        del codes
        release_memory()
    return graph


# ---------------------------------------------------------------------- helpers


def _open(path: Path):
    """``(stream, gz)``: the file's bytes as an Arrow input stream, decompressed when it starts with
    gzip's magic, and whether it does."""
    import pyarrow as pa

    with open(path, "rb") as f:
        gz = f.read(2) == b"\x1f\x8b"
    return pa.input_stream(str(path), compression="gzip" if gz else None), gz


def _stream_codes(stream, path: str, block_size: int) -> EdgeCodes | None:
    """The body of :func:`read_edge_codes` on an open stream."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    from alchemist.graph._common import release_memory
    from alchemist.graph._intern import NodeTable

    pool = pa.system_memory_pool()  # blocks freed one after another go back to the system at once
    head = _Head(stream)
    delimiter = head.delimiter()
    if delimiter is None:
        return None
    other = " " if delimiter == "\t" else "\t"
    reader = pacsv.open_csv(
        head, read_options=pacsv.ReadOptions(autogenerate_column_names=True, block_size=block_size, use_threads=False),
        parse_options=pacsv.ParseOptions(delimiter=delimiter, quote_char=False, invalid_row_handler=_comment_row),
        convert_options=pacsv.ConvertOptions(column_types={f"f{i}": pa.string() for i in range(3)}),
        memory_pool=pool)
    width = len(reader.schema)
    if width not in (2, 3):
        return None
    table = NodeTable()
    src, dst, thirds, names = [], [], [], []
    for batch in reader:
        columns = batch.columns
        comment = pc.or_(pc.starts_with(columns[0], "#"), pc.starts_with(columns[0], "%"))
        if pc.any(comment).as_py():  # comment lines with as many fields as the data lines
            keep = pc.invert(comment)
            columns = [pc.filter(c, keep, memory_pool=pool) for c in columns]
        if not len(columns[0]):
            continue
        for column in columns:
            if not _plain(column, other):
                return None
        if width == 3:
            third = pc.cast(columns[2], pa.float64(), memory_pool=pool).to_numpy(zero_copy_only=False)
            if not np.isfinite(third).all():
                return None
            thirds.append(third)
        a, b = columns[0], columns[1]
        out_a, out_b = np.empty(len(a), np.int64), np.empty(len(b), np.int64)
        first = table.resolve(a, b, np.zeros(0, np.int64), out_a, out_b)
        new = _new_ids(a, b, first, pool)
        table.commit(new)
        names.append(new)
        src.append(out_a.astype(np.int32))
        dst.append(out_b.astype(np.int32))
    if not src:
        return None
    names_list = pa.concat_arrays(names, memory_pool=pool).to_pylist()
    del names, table
    codes = EdgeCodes(_concat(src), _concat(dst), names_list, _concat(thirds) if width == 3 else None, path)
    if len(codes) >= _LARGE // 5:  # the freed blocks' memory, fragmented, goes back before the graph is built
        release_memory()
    return codes


def _new_ids(a, b, first: np.ndarray, pool):
    """The ids first seen at the slots ``first`` (``2k``: ``a[k]``, ``2k + 1``: ``b[k]``), in that
    order, taken from each column apart (no copy of the whole block)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from_a = first % 2 == 0
    parts = pa.concat_arrays([pc.take(a, pa.array(first[from_a] // 2), memory_pool=pool),
                              pc.take(b, pa.array(first[~from_a] // 2), memory_pool=pool)], memory_pool=pool)
    order = np.empty(first.shape[0], np.int64)  # position in parts of the i-th new id
    order[np.flatnonzero(from_a)] = np.arange(int(from_a.sum()))
    order[np.flatnonzero(~from_a)] = np.arange(int(from_a.sum()), first.shape[0])
    return pc.take(parts, pa.array(order), memory_pool=pool)


def _concat(parts: list) -> np.ndarray:
    """One array of the blocks' parts, emptying the list as it goes (each part freed once copied)."""
    out = np.empty(sum(p.shape[0] for p in parts), parts[0].dtype)
    at = 0
    parts.reverse()
    while parts:
        p = parts.pop()
        out[at: at + p.shape[0]] = p
        at += p.shape[0]
    return out


def _plain(column, other: str) -> bool:
    """Whether a block's string column has no empty field and no character this reader leaves to
    the general one: the other separator, ``#``/``%`` inside a line, a bare CR, VT or FF."""
    import pyarrow.compute as pc

    if column.null_count or pc.any(pc.equal(pc.binary_length(column), 0)).as_py():
        return False
    return not pc.any(pc.match_substring_regex(column, f"[#%\r\x0b\x0c{other}]")).as_py()


def _comment_row(row) -> str:
    """Arrow's handler of a line with another number of fields: a comment line is skipped; any
    other line ends the fast path (the general reader names it)."""
    return "skip" if row.text.lstrip(" \t").startswith(("#", "%")) or not row.text.strip() else "error"


class _Head:
    """A file-like view of the stream that first reads past the leading comment and blank lines
    (so that Arrow takes the number of fields from a data line) and finds the separator there."""

    def __init__(self, stream):
        self._stream = stream
        self._buffer = b""
        self.closed = False

    def delimiter(self) -> str | None:
        """Tab if the first data line (not blank, not a comment) has a tab, else space; None when
        the first 1 MB holds no complete data line. The lines before it are dropped."""
        start = 0
        while True:
            end = self._buffer.find(b"\n", start)
            if end < 0:
                if len(self._buffer) > _BLOCK_BYTES:
                    return None
                more = self._stream.read(1 << 16)
                if not more:
                    end = len(self._buffer)
                    if end == start:
                        return None
                else:
                    self._buffer += more
                    continue
            line = self._buffer[start:end]
            text = line.strip()
            if text and text[:1] not in (b"#", b"%"):
                self._buffer = self._buffer[start:]
                return "\t" if b"\t" in line else " "
            start = end + 1

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            out, self._buffer = self._buffer + self._stream.read(), b""
            return out
        if len(self._buffer) >= size:
            out, self._buffer = self._buffer[:size], self._buffer[size:]
            return out
        out, self._buffer = self._buffer, b""
        return out + self._stream.read(size - len(out)) if out else self._stream.read(size)

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self.closed = True
