"""Readers and writers of graph files.

SNAP-style edge lists (``src dst [third]`` per line, ``#`` comments, whitespace separated,
optionally gzip-compressed) are read with pandas' C parser; on any problem the file is scanned
line by line so that the error names the exact line.
"""

from __future__ import annotations

import gzip
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from alchemist.errors import EdgeListFormatError

__all__ = ["EdgeList", "read_edge_list", "read_graph"]


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
    """
    path = Path(path)
    text = _read_text(path)
    import pandas as pd

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
               third: str = "timestamp"):
    """Read a SNAP edge list into a :class:`~alchemist.Graph`.

    Parameters
    ----------
    path : str or Path
        Plain or ``.gz`` edge list (see :func:`read_edge_list`).
    directed : bool
        Whether the edges are directed.
    graph_id : str, optional
        Defaults to the file name without its extensions.
    third : {"timestamp", "weight"}
        What a third column means: Unix seconds (SNAP temporal graphs) or an edge weight.

    Returns
    -------
    Graph
        One node per distinct id, in order of first appearance; one edge per line (ids
        ``e0, e1, ...``), so parallel edges are kept.

    Raises
    ------
    EdgeListFormatError
        See :func:`read_edge_list`.
    """
    from alchemist.graph.core import Graph

    if third not in ("timestamp", "weight"):
        raise ValueError(f"third={third!r}; use 'timestamp' or 'weight'")
    edges = read_edge_list(path)
    gid = graph_id or Path(path).name.split(".")[0]
    return Graph.from_edge_list(edges, graph_id=gid, directed=directed, third=third)


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
